//! `plant-twin eval qap DIR`: the layout optimiser's assignment core on QAPLIB instances, each
//! `NAME.dat` (n, then the flow and the distance matrix) with its `NAME.sln` (n, the best known
//! cost, a 1-based permutation). Prints per instance the cost found, the best known cost, the
//! gap and the times.

use std::fmt::Write;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use super::{EvalError, files_under, read_text};
use crate::optimise::qap::{AnySwap, Qap, SolveOptions, solve};

/// A QAPLIB instance and, if its `.sln` is there, the best known cost.
#[derive(Debug, Clone)]
pub struct Instance {
    pub name: String,
    pub qap: Qap,
    pub best_known: Option<i64>,
}

/// Whitespace-separated integers with the line and column each starts at, for messages.
fn numbers(text: &str) -> impl Iterator<Item = (usize, usize, &str)> {
    text.lines().enumerate().flat_map(|(line, content)| {
        content
            .split_whitespace()
            .map(move |word| {
                let column = word.as_ptr() as usize - content.as_ptr() as usize;
                (line + 1, column + 1, word)
            })
            .collect::<Vec<_>>()
    })
}

/// Reads `count` integers, saying where a bad one is or how many were missing.
fn take(
    path: &Path,
    tokens: &mut dyn Iterator<Item = (usize, usize, &str)>,
    count: usize,
    what: &str,
) -> Result<Vec<i64>, EvalError> {
    let mut out = Vec::with_capacity(count);
    let mut last_line = 0;
    for (line, column, word) in tokens.take(count) {
        last_line = line;
        let value = word.parse::<i64>().map_err(|_| {
            EvalError::file(
                path,
                format!("{line}:{column}: expected an integer in {what}, found {word:?}"),
            )
        })?;
        out.push(value);
    }
    if out.len() < count {
        return Err(EvalError::file(
            path,
            format!(
                "cut short: {what} needs {count} numbers, the file ends after {} (line {last_line})",
                out.len()
            ),
        ));
    }
    Ok(out)
}

/// Parses a QAPLIB `.dat` file.
pub fn parse_dat(path: &Path, text: &str) -> Result<Qap, EvalError> {
    let mut tokens = numbers(text);
    let n = take(path, &mut tokens, 1, "the size")?[0];
    let n = usize::try_from(n)
        .ok()
        .filter(|&n| (2..=10_000).contains(&n))
        .ok_or_else(|| {
            EvalError::file(path, format!("1:1: size {n} is not between 2 and 10000"))
        })?;
    let flow = take(path, &mut tokens, n * n, "the first (flow) matrix")?;
    let distance = take(path, &mut tokens, n * n, "the second (distance) matrix")?;
    if let Some((line, column, word)) = tokens.next() {
        return Err(EvalError::file(
            path,
            format!("{line}:{column}: unexpected {word:?} after two {n} x {n} matrices"),
        ));
    }
    Qap::new(n, flow, distance).map_err(|e| EvalError::file(path, e.to_string()))
}

/// Parses a QAPLIB `.sln` file: (n, best known cost, the 1-based permutation).
pub fn parse_sln(path: &Path, text: &str) -> Result<(usize, i64, Vec<usize>), EvalError> {
    let mut tokens = numbers(text);
    let head = take(path, &mut tokens, 2, "the size and cost")?;
    let n = usize::try_from(head[0])
        .map_err(|_| EvalError::file(path, format!("1:1: size {} is negative", head[0])))?;
    let permutation = take(path, &mut tokens, n, "the permutation")?
        .into_iter()
        .map(|k| usize::try_from(k - 1).unwrap_or(usize::MAX))
        .collect::<Vec<_>>();
    if !crate::optimise::qap::is_permutation(&permutation, n) {
        return Err(EvalError::file(
            path,
            format!("the solution is not a permutation of 1..{n}"),
        ));
    }
    Ok((n, head[1], permutation))
}

/// Every `.dat` under `dir` with its `.sln` beside it (if any), checked against each other.
pub fn load(dir: &Path) -> Result<Vec<Instance>, EvalError> {
    let paths = files_under(dir, &|p| p.extension().is_some_and(|e| e == "dat"))
        .map_err(|e| EvalError::file(dir, format!("cannot list: {e}")))?;
    if paths.is_empty() {
        return Err(EvalError::file(dir, "no QAPLIB .dat files here"));
    }
    let mut out = Vec::new();
    for path in paths {
        let qap = parse_dat(&path, &read_text(&path)?)?;
        let sln = path.with_extension("sln");
        let best_known = if sln.exists() {
            let (n, cost, permutation) = parse_sln(&sln, &read_text(&sln)?)?;
            if n != qap.size() {
                return Err(EvalError::file(
                    &sln,
                    format!("size {n} but the instance has {}", qap.size()),
                ));
            }
            // The cost is what we report gaps against: it has to be the permutation's. Some
            // QAPLIB solutions list location -> facility instead (kra30a): either reading counts.
            let recomputed = qap.cost(&permutation);
            let mut inverse = vec![0; permutation.len()];
            for (facility, &location) in permutation.iter().enumerate() {
                inverse[location] = facility;
            }
            if recomputed != cost && qap.cost(&inverse) != cost {
                return Err(EvalError::file(
                    &sln,
                    format!("cost {cost} but its permutation costs {recomputed}"),
                ));
            }
            Some(cost)
        } else {
            None
        };
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push(Instance {
            name,
            qap,
            best_known,
        });
    }
    Ok(out)
}

/// The time the search gets on an instance of size n when none is given: the shape of the
/// targets in issue 15 (1 s up to n = 20, 10 s up to 40, 60 s beyond), by size, never by name.
pub fn default_seconds(n: usize) -> f64 {
    match n {
        0..=20 => 1.0,
        21..=40 => 10.0,
        _ => 60.0,
    }
}

/// Solves every instance under `dir` and prints the table. The search runs the whole budget
/// (it is not told the best known cost); "to best" is when its final answer was first reached.
pub fn run(dir: &Path, seconds: Option<f64>, seed: u64) -> Result<String, EvalError> {
    let instances = load(dir)?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "QAPLIB: robust tabu search with restarts, seed {seed}, one thread\n"
    );
    let _ = writeln!(
        out,
        "{:<10} {:>4} {:>12} {:>12} {:>8} {:>9} {:>9} {:>11}",
        "instance", "n", "found", "best known", "gap %", "to best s", "budget s", "iterations"
    );
    for instance in &instances {
        let budget = seconds.unwrap_or_else(|| default_seconds(instance.qap.size()));
        let options = SolveOptions {
            seconds: budget,
            max_iterations: None,
            seed,
            target_cost: None,
        };
        let found = solve(
            &instance.qap,
            None,
            &options,
            &mut AnySwap,
            &AtomicBool::new(false),
            &mut |_, _| {},
        );
        let (best, gap) = match instance.best_known {
            Some(best) => (
                best.to_string(),
                format!(
                    "{:.3}",
                    100.0 * (found.cost - best) as f64 / best.max(1) as f64
                ),
            ),
            None => ("-".into(), "-".into()),
        };
        let _ = writeln!(
            out,
            "{:<10} {:>4} {:>12} {:>12} {:>8} {:>9.3} {:>9.1} {:>11}",
            instance.name,
            instance.qap.size(),
            found.cost,
            best,
            gap,
            found.time_to_best_s,
            budget,
            found.iterations
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = "3\n\n0 1 2\n1 0 3\n2 3 0\n\n0 5 2\n5 0 1\n2 1 0\n";

    #[test]
    fn a_dat_file_parses_and_its_sln_cost_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tiny3.dat"), TINY).unwrap();
        let qap = parse_dat(Path::new("tiny3.dat"), TINY).unwrap();
        let cost = qap.cost(&[1, 2, 0]);
        std::fs::write(dir.path().join("tiny3.sln"), format!("3 {cost}\n2 3 1\n")).unwrap();
        let instances = load(dir.path()).unwrap();
        assert_eq!(instances[0].best_known, Some(cost));

        std::fs::write(
            dir.path().join("tiny3.sln"),
            format!("3 {}\n2 3 1\n", cost + 1),
        )
        .unwrap();
        let error = load(dir.path()).unwrap_err().to_string();
        assert!(error.contains("its permutation costs"), "{error}");
    }

    #[test]
    fn a_file_cut_short_says_how_much_is_missing() {
        let cut = &TINY[..TINY.len() - 6];
        let error = parse_dat(Path::new("cut.dat"), cut)
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("cut.dat: cut short: the second (distance) matrix needs 9 numbers"),
            "{error}"
        );
        let error = parse_dat(Path::new("bad.dat"), "2\n0 1\n1 x\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "bad.dat: 3:3: expected an integer in the first (flow) matrix, found \"x\""
        );
    }

    #[test]
    fn the_table_names_each_instance_with_its_gap() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tiny3.dat"), TINY).unwrap();
        let qap = parse_dat(Path::new("tiny3.dat"), TINY).unwrap();
        // The optimum over all six permutations: what the search must find.
        let optimal = [
            [0, 1, 2],
            [0, 2, 1],
            [1, 0, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
        ]
        .into_iter()
        .min_by_key(|p| qap.cost(p))
        .unwrap();
        let best = qap.cost(&optimal);
        let one_based: Vec<String> = optimal.iter().map(|k| (k + 1).to_string()).collect();
        std::fs::write(
            dir.path().join("tiny3.sln"),
            format!("3 {best}\n{}\n", one_based.join(" ")),
        )
        .unwrap();
        let table = run(dir.path(), Some(0.05), 1).unwrap();
        let row = table.lines().find(|l| l.starts_with("tiny3")).unwrap();
        let fields: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(fields[2], best.to_string());
        assert_eq!(fields[4], "0.000");
    }
}
