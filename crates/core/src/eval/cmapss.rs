//! NASA C-MAPSS turbofan degradation: remaining useful life (RUL) at each test engine's last
//! cycle, scored by RMSE and the PHM08 score, and the calibration of "P(failure within h
//! cycles)" (Brier score, expected calibration error, reliability bins).
//!
//! The engines have no single signal with a failure limit, so one is built from the training
//! engines: a health indicator, a ridge regression on the sensors that vary (and their squares),
//! scaled to 1 while healthy and 0 at failure (the usual piecewise-linear target, capped at 125
//! cycles). The operating settings move the sensors far more than wear does (FD002 mixes six
//! conditions), so each sensor is standardised within its operating regime first, the regimes
//! found in the settings. Three estimates follow, all printed: similarity to the training
//! engines' run-to-failure histories (the recent indicator slid along each; an empirical RUL
//! distribution), the app's failure horizon (`predict::horizon`: the indicator's recent trend
//! extrapolated to the limit 0), and the earlier of that and the indicator's level read as RUL.
//! Time is in cycles.

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
    /// The three operating settings (altitude, Mach number, throttle) at each cycle.
    pub settings: Vec<[f64; 3]>,
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
                ..Engine::default()
            });
        }
        if let Some(engine) = engines.last_mut() {
            engine.settings.push([fields[2], fields[3], fields[4]]);
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

/// Operating regimes, found in the settings: a cycle belongs to the first regime whose
/// settings are all within 5 % of their magnitude (at least 0.05) of its own. FD001 has one,
/// FD002 six. Not tuned per subset: the tolerance is a fraction of each setting's scale.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Regimes {
    centres: Vec<[f64; 3]>,
}

impl Regimes {
    fn close(centre: &[f64; 3], settings: &[f64; 3]) -> bool {
        centre
            .iter()
            .zip(settings)
            .all(|(c, s)| (c - s).abs() <= 0.05 * c.abs().max(1.0))
    }

    /// The regimes of the training engines.
    pub fn discover(engines: &[Engine]) -> Regimes {
        let mut regimes = Regimes::default();
        for settings in engines.iter().flat_map(|e| &e.settings) {
            if !regimes.centres.iter().any(|c| Regimes::close(c, settings)) {
                regimes.centres.push(*settings);
            }
        }
        regimes
    }

    /// The regime of a cycle: the matching one, or the nearest.
    pub fn of(&self, settings: &[f64; 3]) -> usize {
        self.centres
            .iter()
            .position(|c| Regimes::close(c, settings))
            .or_else(|| {
                (0..self.centres.len()).min_by(|&a, &b| {
                    let d = |c: &[f64; 3]| {
                        c.iter()
                            .zip(settings)
                            .map(|(c, s)| ((c - s) / c.abs().max(1.0)).powi(2))
                            .sum::<f64>()
                    };
                    d(&self.centres[a]).total_cmp(&d(&self.centres[b]))
                })
            })
            .unwrap_or(0)
    }

    pub fn len(&self) -> usize {
        self.centres.len()
    }

    pub fn is_empty(&self) -> bool {
        self.centres.is_empty()
    }
}

/// The health indicator: the operating regimes, how each sensor is standardised in each (the
/// settings move the sensors far more than wear does), which sensors, and their weights.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthModel {
    pub regimes: Regimes,
    sensors: Vec<usize>,
    /// Per regime, per kept sensor: (mean, sd).
    scale: Vec<Vec<(f64, f64)>>,
    weights: Vec<f64>,
    bias: f64,
}

impl HealthModel {
    /// Every cycle's sensors standardised in its regime, then smoothed (cycles in different
    /// regimes are comparable only once standardised).
    fn standardised(&self, engine: &Engine) -> Vec<Vec<f64>> {
        let alpha = 1.0 - (-1.0 / SMOOTH_CYCLES).exp();
        let mut state: Option<Vec<f64>> = None;
        engine
            .cycles
            .iter()
            .zip(&engine.settings)
            .map(|(row, settings)| {
                let scale = &self.scale[self.regimes.of(settings).min(self.scale.len() - 1)];
                let z: Vec<f64> = self
                    .sensors
                    .iter()
                    .zip(scale)
                    .map(|(&j, (mean, sd))| (row[j] - mean) / sd)
                    .collect();
                let next = match &state {
                    None => z,
                    Some(s) => s.iter().zip(&z).map(|(s, x)| s + (x - s) * alpha).collect(),
                };
                state = Some(next.clone());
                next
            })
            .collect()
    }

    /// Fits the indicator on run-to-failure engines by ridge regression.
    pub fn fit(train: &[Engine]) -> Option<HealthModel> {
        let width = train.first()?.cycles.first()?.len();
        let regimes = Regimes::discover(train);
        let mut sums = vec![vec![(0.0f64, 0.0f64, 0.0f64); width]; regimes.len()];
        for engine in train {
            for (row, settings) in engine.cycles.iter().zip(&engine.settings) {
                let r = regimes.of(settings);
                for (j, x) in row.iter().enumerate().take(width) {
                    let (n, s, q) = &mut sums[r][j];
                    *n += 1.0;
                    *s += x;
                    *q += x * x;
                }
            }
        }
        let stats: Vec<Vec<(f64, f64)>> = sums
            .iter()
            .map(|row| {
                row.iter()
                    .map(|(n, s, q)| {
                        let mean = s / n.max(1.0);
                        (mean, (q / n.max(1.0) - mean * mean).max(0.0).sqrt())
                    })
                    .collect()
            })
            .collect();
        // Sensors that never move within a regime (several in FD001) carry nothing.
        let sensors: Vec<usize> = (0..width)
            .filter(|&j| {
                stats
                    .iter()
                    .all(|regime| regime[j].1 > 1e-6 * regime[j].0.abs().max(1.0))
            })
            .collect();
        let mut model = HealthModel {
            scale: stats
                .iter()
                .map(|regime| sensors.iter().map(|&j| regime[j]).collect())
                .collect(),
            regimes,
            sensors,
            weights: vec![],
            bias: 0.0,
        };
        // Each sensor standardised, and its square: degradation bends the sensors.
        let k = 2 * model.sensors.len() + 1;
        let mut ata = vec![vec![0.0; k]; k];
        let mut aty = vec![0.0; k];
        let mut n = 0.0;
        for engine in train {
            let last = engine.cycles.len();
            for (i, z) in model.standardised(engine).iter().enumerate() {
                let y = ((last - 1 - i) as f64).min(RUL_CAP) / RUL_CAP;
                let f = features(z);
                for a in 0..k {
                    aty[a] += f[a] * y;
                    for b in 0..k {
                        ata[a][b] += f[a] * f[b];
                    }
                }
                n += 1.0;
            }
        }
        for (a, row) in ata.iter_mut().enumerate().take(k - 1) {
            row[a] += 1e-2 * n;
        }
        let solution = solve(ata, aty)?;
        model.weights = solution[..k - 1].to_vec();
        model.bias = solution[k - 1];
        Some(model)
    }

    /// The indicator at every cycle of an engine.
    pub fn indicator(&self, engine: &Engine) -> Vec<f64> {
        self.standardised(engine)
            .iter()
            .map(|z| {
                let f = features(z);
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

/// "P(failure within h cycles)" against what happened, for both estimators' probabilities.
fn calibration_report(
    out: &mut String,
    name: &str,
    model: &HealthModel,
    engines: &[Engine],
    similar: &[Similar],
    truth: &[f64],
) {
    let _ = writeln!(
        out,
        "\n{name}: calibration of P(failure within h cycles) (Brier, expected calibration error; bins: mean predicted / observed / engines)"
    );
    for h in [10.0, 20.0, 30.0, 50.0] {
        let happened: Vec<bool> = truth.iter().map(|t| *t <= h).collect();
        let trend: Vec<f64> = engines
            .iter()
            .map(|e| {
                let mut trend = Trend::new(TREND_CYCLES);
                for (cycle, value) in model.indicator(e).iter().enumerate() {
                    trend.push(cycle as f64, *value);
                }
                trend
                    .fit()
                    .and_then(|fit| horizon(&fit, (0.0, f64::INFINITY), h, 2.0))
                    .map_or(0.0, |found| found.probability)
            })
            .collect();
        let from_similar: Vec<f64> = similar.iter().map(|s| s.within(h)).collect();
        for (label, predicted) in [
            ("trend to limit", trend),
            ("similar histories", from_similar),
        ] {
            let (brier, ece, bins) = calibration(&predicted, &happened);
            let table: Vec<String> = bins
                .iter()
                .filter(|b| b.2 > 0)
                .map(|(p, o, n)| format!("{p:.2}/{o:.2}/{n}"))
                .collect();
            let _ = writeln!(
                out,
                "  h={h:<3} {label:<18} Brier {brier:.3}  ECE {ece:.3}  {}",
                table.join(" ")
            );
        }
    }
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

/// The run-to-failure histories an estimate is matched against: each training engine's
/// indicator, cycle by cycle, ending at its failure.
pub struct Histories(Vec<Vec<f64>>);

impl Histories {
    pub fn learn(model: &HealthModel, train: &[Engine]) -> Histories {
        Histories(train.iter().map(|e| model.indicator(e)).collect())
    }
}

/// Cycles of the indicator compared when matching an engine against a history.
const MATCH_WINDOW: usize = 30;
/// Histories an estimate is taken from (the best-matching ones).
const NEIGHBOURS: usize = 15;

/// Remaining life by similarity to run-to-failure histories: the engine's recent indicator is
/// slid along every history; where it fits best, that history's remaining cycles are one
/// candidate. The estimate is the weighted mean of the best candidates, and the probability of
/// failing within `h` cycles is the weighted share of candidates that failed within `h`: an
/// empirical distribution, not a straight line's.
pub struct Similar {
    /// (remaining cycles, weight) of the nearest histories.
    candidates: Vec<(f64, f64)>,
}

impl Similar {
    pub fn estimate(histories: &Histories, indicator: &[f64]) -> Similar {
        let window = indicator.len().min(MATCH_WINDOW);
        let recent = &indicator[indicator.len() - window..];
        let mut matches: Vec<(f64, f64)> = histories
            .0
            .iter()
            .filter(|h| h.len() >= window && window > 0)
            .map(|history| {
                // The history must have lived at least as long as the engine has.
                let earliest_end = indicator.len().min(history.len()).max(window);
                let (distance, end) = (earliest_end..=history.len())
                    .map(|end| {
                        let d = history[end - window..end]
                            .iter()
                            .zip(recent)
                            .map(|(a, b)| (a - b) * (a - b))
                            .sum::<f64>()
                            / window as f64;
                        (d, end)
                    })
                    .min_by(|a, b| a.0.total_cmp(&b.0))
                    .unwrap_or((f64::INFINITY, history.len()));
                (distance, (history.len() - end) as f64)
            })
            .collect();
        matches.sort_by(|a, b| a.0.total_cmp(&b.0));
        matches.truncate(NEIGHBOURS);
        // Weights fall with the distance, on the scale of the neighbours' own distances.
        let scale = matches
            .get(matches.len() / 2)
            .map_or(1.0, |m| m.0)
            .max(1e-9);
        Similar {
            candidates: matches
                .iter()
                .map(|(d, rul)| (*rul, (-d / scale).exp()))
                .collect(),
        }
    }

    /// Expected remaining cycles, capped like the training target.
    pub fn rul(&self) -> f64 {
        let total: f64 = self.candidates.iter().map(|c| c.1).sum();
        if total <= 0.0 {
            return RUL_CAP;
        }
        (self.candidates.iter().map(|(r, w)| r * w).sum::<f64>() / total).min(RUL_CAP)
    }

    /// Probability of failing within `cycles`.
    pub fn within(&self, cycles: f64) -> f64 {
        let total: f64 = self.candidates.iter().map(|c| c.1).sum();
        if total <= 0.0 {
            return 0.0;
        }
        self.candidates
            .iter()
            .filter(|(r, _)| *r <= cycles)
            .map(|(_, w)| w)
            .sum::<f64>()
            / total
    }
}

/// How well probabilities match outcomes: the Brier score, the expected calibration error
/// over ten equal bins, and the bins (mean probability, observed frequency, count).
pub fn calibration(predicted: &[f64], happened: &[bool]) -> (f64, f64, Vec<(f64, f64, usize)>) {
    let n = predicted.len().max(1) as f64;
    let brier = predicted
        .iter()
        .zip(happened)
        .map(|(p, o)| (p - f64::from(u8::from(*o))).powi(2))
        .sum::<f64>()
        / n;
    let mut bins = vec![(0.0, 0.0, 0usize); 10];
    for (p, o) in predicted.iter().zip(happened) {
        let bin = ((p * 10.0) as usize).min(9);
        bins[bin].0 += p;
        bins[bin].1 += f64::from(u8::from(*o));
        bins[bin].2 += 1;
    }
    let mut ece = 0.0;
    let table = bins
        .into_iter()
        .map(|(p, o, count)| {
            let c = count.max(1) as f64;
            ece += count as f64 / n * (p / c - o / c).abs();
            (p / c, o / c, count)
        })
        .collect();
    (brier, ece, table)
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
        "C-MAPSS: RUL at each test engine's last cycle, from a learned health indicator (sensors standardised per operating regime)\n"
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
        let histories = Histories::learn(&model, &train_engines);
        let similar: Vec<Similar> = test_engines
            .iter()
            .map(|e| Similar::estimate(&histories, &model.indicator(e)))
            .collect();
        for (label, predicted) in [
            (
                "similar histories",
                similar.iter().map(Similar::rul).collect::<Vec<_>>(),
            ),
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
        calibration_report(&mut out, &name, &model, &test_engines, &similar, &truth);
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
            settings: vec![[0.0, 0.0, 100.0]; seen],
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
    fn similar_histories_give_the_remaining_life_and_its_distribution() {
        // Indicators falling from 1 to 0 over the last 100 cycles of lives of 150-250 cycles.
        let history = |life: usize| -> Vec<f64> {
            (0..life)
                .map(|c| ((life - 1 - c) as f64 / 100.0).min(1.0))
                .collect()
        };
        let histories = Histories((0..20).map(|i| history(150 + 5 * i)).collect());
        // An engine 20 cycles from failure.
        let engine: Vec<f64> = history(180)[..160].to_vec();
        let similar = Similar::estimate(&histories, &engine);
        assert!((similar.rul() - 20.0).abs() < 2.0, "{}", similar.rul());
        assert!(similar.within(30.0) > 0.95 && similar.within(10.0) < 0.05);
        // A young engine, flat at 1: the cap.
        let young = vec![1.0; 40];
        assert_eq!(Similar::estimate(&histories, &young).rul(), RUL_CAP);
    }

    #[test]
    fn calibration_scores_match_hand_values() {
        let (brier, ece, bins) = calibration(&[0.0, 1.0, 0.0, 1.0], &[false, true, false, true]);
        assert_eq!((brier, ece), (0.0, 0.0));
        assert_eq!(bins[0].2 + bins[9].2, 4);
        let (brier, ece, _) = calibration(&[0.5; 4], &[true, false, true, false]);
        assert!((brier - 0.25).abs() < 1e-12 && ece.abs() < 1e-12);
        // Always sure, right half the time: half an error.
        let (_, ece, _) = calibration(&[1.0; 4], &[true, false, true, false]);
        assert!((ece - 0.5).abs() < 1e-12);
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
