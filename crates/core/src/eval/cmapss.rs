//! NASA C-MAPSS turbofan degradation: remaining useful life (RUL) at each test engine's last
//! cycle, scored by RMSE and the PHM08 score.
//!
//! The engines have no single signal with a failure limit, so one is built from the training
//! engines: a health indicator, a ridge regression on the sensors that vary (and their squares),
//! scaled to 1 while healthy and 0 at failure (the usual piecewise-linear target, capped at 125
//! cycles). Its failure limit is 0. Two estimates follow, both printed: the app's failure
//! horizon (`predict::horizon`: the indicator's recent trend extrapolated to the limit), and the
//! earlier of that and the indicator's level read as RUL. Time is in cycles.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{EvalError, files_under, read_text};
use crate::predict::horizon::{Trend, horizon};

/// RUL beyond which the engines show no degradation; also the largest RUL we predict.
pub const RUL_CAP: f64 = 125.0;
/// Smoothing of the sensors (cycles).
const SMOOTH_CYCLES: f64 = 3.0;
/// Memory of the health trend (cycles).
const TREND_CYCLES: f64 = 10.0;

/// One engine's cycles: sensor values per cycle.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Engine {
    pub unit: u32,
    pub cycles: Vec<Vec<f64>>,
}

/// Parses a space-separated C-MAPSS file (unit, cycle, 3 settings, 21 sensors) into engines in
/// file order.
pub fn parse_engines(path: &Path, text: &str) -> Result<Vec<Engine>, EvalError> {
    let mut engines: Vec<Engine> = vec![];
    for (n, line) in text.lines().enumerate() {
        let fields: Vec<f64> = line
            .split_whitespace()
            .map(|f| f.parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| EvalError::file(path, format!("line {}: not a number", n + 1)))?;
        if fields.is_empty() {
            continue;
        }
        if fields.len() < 6 {
            return Err(EvalError::file(
                path,
                format!("line {}: {} columns, expected 26", n + 1, fields.len()),
            ));
        }
        let unit = fields[0] as u32;
        if engines.last().is_none_or(|e| e.unit != unit) {
            engines.push(Engine {
                unit,
                cycles: vec![],
            });
        }
        if let Some(engine) = engines.last_mut() {
            // Operating settings (columns 3-5) are left out: FD001 runs at one condition.
            engine.cycles.push(fields[5..].to_vec());
        }
    }
    Ok(engines)
}

/// RMSE and the PHM08 score (d = predicted - true; late predictions cost more).
pub fn metrics(predicted: &[f64], truth: &[f64]) -> (f64, f64) {
    let n = predicted.len().max(1) as f64;
    let mut squares = 0.0;
    let mut phm = 0.0;
    for (p, t) in predicted.iter().zip(truth) {
        let d = p - t;
        squares += d * d;
        phm += if d < 0.0 {
            (-d / 13.0).exp() - 1.0
        } else {
            (d / 10.0).exp() - 1.0
        };
    }
    ((squares / n).sqrt(), phm)
}

/// The health indicator: which sensors, how they are standardised, and their weights.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthModel {
    sensors: Vec<usize>,
    mean: Vec<f64>,
    sd: Vec<f64>,
    weights: Vec<f64>,
    bias: f64,
}

fn smoothed(engine: &Engine) -> Vec<Vec<f64>> {
    let alpha = 1.0 - (-1.0 / SMOOTH_CYCLES).exp();
    let mut state: Option<Vec<f64>> = None;
    engine
        .cycles
        .iter()
        .map(|row| {
            let next = match &state {
                None => row.clone(),
                Some(s) => s
                    .iter()
                    .zip(row)
                    .map(|(s, x)| s + (x - s) * alpha)
                    .collect(),
            };
            state = Some(next.clone());
            next
        })
        .collect()
}

impl HealthModel {
    /// Fits the indicator on run-to-failure engines by ridge regression.
    pub fn fit(train: &[Engine]) -> Option<HealthModel> {
        let width = train.first()?.cycles.first()?.len();
        let rows: Vec<(Vec<f64>, f64)> = train
            .iter()
            .flat_map(|engine| {
                let last = engine.cycles.len();
                smoothed(engine)
                    .into_iter()
                    .enumerate()
                    .map(move |(i, x)| (x, ((last - 1 - i) as f64).min(RUL_CAP) / RUL_CAP))
            })
            .collect();
        let n = rows.len() as f64;
        let mean: Vec<f64> = (0..width)
            .map(|j| rows.iter().map(|r| r.0[j]).sum::<f64>() / n)
            .collect();
        let sd: Vec<f64> = (0..width)
            .map(|j| (rows.iter().map(|r| (r.0[j] - mean[j]).powi(2)).sum::<f64>() / n).sqrt())
            .collect();
        // Sensors that never move (several in FD001) carry nothing.
        let sensors: Vec<usize> = (0..width)
            .filter(|&j| sd[j] > 1e-6 * mean[j].abs().max(1.0))
            .collect();
        // Each sensor standardised, and its square: degradation bends the sensors.
        let k = 2 * sensors.len() + 1;
        let mut ata = vec![vec![0.0; k]; k];
        let mut aty = vec![0.0; k];
        for (x, y) in &rows {
            let z: Vec<f64> = sensors.iter().map(|&j| (x[j] - mean[j]) / sd[j]).collect();
            let f = features(&z);
            for a in 0..k {
                aty[a] += f[a] * y;
                for b in 0..k {
                    ata[a][b] += f[a] * f[b];
                }
            }
        }
        for (a, row) in ata.iter_mut().enumerate().take(k - 1) {
            row[a] += 1e-2 * n;
        }
        let solution = solve(ata, aty)?;
        Some(HealthModel {
            mean: sensors.iter().map(|&j| mean[j]).collect(),
            sd: sensors.iter().map(|&j| sd[j]).collect(),
            weights: solution[..k - 1].to_vec(),
            bias: solution[k - 1],
            sensors,
        })
    }

    /// The indicator at every cycle of an engine.
    pub fn indicator(&self, engine: &Engine) -> Vec<f64> {
        smoothed(engine)
            .iter()
            .map(|x| {
                let z: Vec<f64> = self
                    .sensors
                    .iter()
                    .enumerate()
                    .map(|(i, &j)| (x[j] - self.mean[i]) / self.sd[i])
                    .collect();
                let f = features(&z);
                self.bias + self.weights.iter().zip(&f).map(|(w, f)| w * f).sum::<f64>()
            })
            .collect()
    }
}

/// Regression features of standardised sensors: each, each squared, then 1.
fn features(z: &[f64]) -> Vec<f64> {
    let mut f: Vec<f64> = z.to_vec();
    f.extend(z.iter().map(|v| v * v));
    f.push(1.0);
    f
}

/// RUL at an engine's last cycle: (the app's failure-horizon estimate of the indicator toward
/// its limit 0, or the cap when no significant degradation trend is seen; the earlier of that
/// and the indicator's level read as RUL).
pub fn predict_rul(model: &HealthModel, engine: &Engine) -> (f64, f64) {
    let indicator = model.indicator(engine);
    let mut trend = Trend::new(TREND_CYCLES);
    for (cycle, value) in indicator.iter().enumerate() {
        trend.push(cycle as f64, *value);
    }
    let from_trend = trend
        .fit()
        .and_then(|fit| horizon(&fit, (0.0, f64::INFINITY), RUL_CAP, 2.0))
        .map_or(RUL_CAP, |h| h.expected_s.min(RUL_CAP));
    let from_level = indicator
        .last()
        .map_or(RUL_CAP, |h| (h * RUL_CAP).clamp(0.0, RUL_CAP));
    (from_trend, from_trend.min(from_level))
}

/// Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let pivot_row = a[col].clone();
        for row in col + 1..n {
            let factor = a[row][col] / pivot_row[col];
            for (x, p) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= factor * p;
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let sum: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - sum) / a[row][row];
    }
    Some(x)
}

/// The train/test/RUL triples under `dir`, matched by their suffix (`train_FD001.txt` with
/// `test_FD001.txt` and `RUL_FD001.txt`).
fn subsets(dir: &Path) -> Result<Vec<(String, PathBuf, PathBuf, PathBuf)>, EvalError> {
    let trains = files_under(dir, &|p| {
        p.file_name().is_some_and(|n| {
            n.to_string_lossy().starts_with("train_") && n.to_string_lossy().ends_with(".txt")
        })
    })
    .map_err(|e| EvalError::file(dir, format!("cannot list: {e}")))?;
    Ok(trains
        .into_iter()
        .filter_map(|train| {
            let name = train.file_name()?.to_string_lossy().into_owned();
            let suffix = name.strip_prefix("train_")?.to_string();
            let test = train.with_file_name(format!("test_{suffix}"));
            let rul = train.with_file_name(format!("RUL_{suffix}"));
            (test.exists() && rul.exists()).then(|| {
                (
                    suffix.trim_end_matches(".txt").to_string(),
                    train,
                    test,
                    rul,
                )
            })
        })
        .collect())
}

/// Runs the benchmark on every subset under `dir`; returns the printed table.
pub fn run(dir: &Path) -> Result<String, EvalError> {
    let sets = subsets(dir)?;
    if sets.is_empty() {
        return Err(EvalError::Other(format!(
            "no train_*.txt with matching test_*.txt and RUL_*.txt under {}",
            dir.display()
        )));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "C-MAPSS: RUL at each test engine's last cycle, from the trend of a learned health indicator toward failure\n"
    );
    let _ = writeln!(
        out,
        "{:<8} {:>8} {:<28} {:>8} {:>10} {:>12}",
        "subset", "engines", "estimate", "RMSE", "PHM08", "mean error"
    );
    for (name, train, test, rul) in sets {
        let train_engines = parse_engines(&train, &read_text(&train)?)?;
        let test_engines = parse_engines(&test, &read_text(&test)?)?;
        let truth: Vec<f64> = read_text(&rul)?
            .split_whitespace()
            .map(|f| f.parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| EvalError::file(&rul, "not a number"))?;
        if truth.len() != test_engines.len() {
            return Err(EvalError::file(
                &rul,
                format!(
                    "{} values for {} test engines",
                    truth.len(),
                    test_engines.len()
                ),
            ));
        }
        let model = HealthModel::fit(&train_engines)
            .ok_or_else(|| EvalError::file(&train, "cannot fit a health indicator"))?;
        let both: Vec<(f64, f64)> = test_engines
            .iter()
            .map(|e| predict_rul(&model, e))
            .collect();
        for (label, predicted) in [
            (
                "trend to limit (the app's)",
                both.iter().map(|p| p.0).collect::<Vec<_>>(),
            ),
            (
                "earlier of trend and level",
                both.iter().map(|p| p.1).collect(),
            ),
        ] {
            let (rmse, phm) = metrics(&predicted, &truth);
            let bias = predicted
                .iter()
                .zip(&truth)
                .map(|(p, t)| p - t)
                .sum::<f64>()
                / truth.len() as f64;
            let _ = writeln!(
                out,
                "{name:<8} {:>8} {label:<28} {rmse:>8.2} {phm:>10.0} {bias:>+12.1}",
                test_engines.len()
            );
        }
    }
    let _ = writeln!(
        out,
        "\npublished (FD001): RMSE about 11-12.5 for the best deep models, 16-18 for a plain LSTM or CNN"
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_match_hand_values() {
        let (rmse, phm) = metrics(&[10.0, 30.0], &[20.0, 20.0]);
        assert!((rmse - 10.0).abs() < 1e-12);
        let expected = ((10.0f64 / 13.0).exp() - 1.0) + ((10.0f64 / 10.0).exp() - 1.0);
        assert!((phm - expected).abs() < 1e-9);
    }

    /// Engines whose one moving sensor falls linearly over the last 125 cycles of their life.
    fn engine(unit: u32, life: usize, seen: usize) -> Engine {
        Engine {
            unit,
            cycles: (0..seen)
                .map(|c| {
                    let left = (life - 1 - c) as f64;
                    let wear = (RUL_CAP - left).max(0.0);
                    vec![1.0, 100.0 - 0.5 * wear, 7.0]
                })
                .collect(),
        }
    }

    #[test]
    fn a_clean_degradation_is_predicted_closely() {
        let train: Vec<Engine> = (0..10)
            .map(|u| engine(u, 200 + 10 * u as usize, 200 + 10 * u as usize))
            .collect();
        let model = HealthModel::fit(&train).expect("fit");
        // 250-cycle engine seen up to cycle 200: 49 cycles left.
        let (trend, earlier) = predict_rul(&model, &engine(99, 250, 201));
        assert!((trend - 49.0).abs() < 10.0, "{trend}");
        assert!((earlier - 49.0).abs() < 10.0, "{earlier}");
        // A young engine, no degradation yet: the cap.
        let (trend, earlier) = predict_rul(&model, &engine(98, 400, 100));
        assert_eq!(trend, RUL_CAP);
        assert!(earlier > 110.0, "{earlier}");
    }

    #[test]
    fn files_parse_into_engines() {
        let text = "1 1 0 0 100 1 2 3\n1 2 0 0 100 1 2 4\n2 1 0 0 100 5 6 7\n";
        let engines = parse_engines(Path::new("t.txt"), text).expect("parsed");
        assert_eq!(engines.len(), 2);
        assert_eq!(
            engines[0].cycles,
            vec![vec![1.0, 2.0, 3.0], vec![1.0, 2.0, 4.0]]
        );
        assert!(parse_engines(Path::new("t.txt"), "1 x 0\n").is_err());
    }
}
