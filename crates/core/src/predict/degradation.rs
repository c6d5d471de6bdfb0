//! Learned degradation: a health indicator fused from an asset's signals, each standardised
//! within its operating regime, and a remaining-life estimate by similarity to run-to-failure
//! histories of the same asset kind.
//!
//! The same code serves three callers: `plant-twin learn-degradation` fits a model file from
//! CSV histories, `plant-twin eval cmapss` fits one from the C-MAPSS training engines and scores
//! it on the test engines, and the app tracks a model live per asset ([`DegradationTracker`]).
//! Time is in steps of the model (`step_s` seconds in the app, one cycle in C-MAPSS).

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::horizon::Horizon;
use super::net::{Ensemble, Training};
use crate::files::{FileError, FileIssue, TextPosition};
use crate::layout::{Asset, AssetKind};

/// The model file format this build reads and writes.
/// 2: the indicator fuses each signal's recent level and slope with networks (1: a ridge
/// regression on smoothed values and their squares).
pub const FORMAT_VERSION: u32 = 2;
/// Steps of the indicator compared when matching an asset against a history.
const MATCH_WINDOW: usize = 30;
/// Histories an estimate is taken from (the best-matching ones).
const NEIGHBOURS: usize = 15;

/// One run to failure: per step, the operating settings and the signal values; the last step
/// is the failure.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunHistory {
    pub name: String,
    /// Per step; empty rows when the asset has no operating settings.
    pub settings: Vec<Vec<f64>>,
    pub values: Vec<Vec<f64>>,
}

/// Operating regimes, found in the settings: a step belongs to the first regime whose settings
/// are all within 5 % of their magnitude (at least 0.05) of its own. C-MAPSS FD001 has one,
/// FD002 six, an asset without settings one. The tolerance is a fraction of each setting's
/// scale, not a constant fitted to a data set.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Regimes {
    centres: Vec<Vec<f64>>,
}

impl Regimes {
    fn close(centre: &[f64], settings: &[f64]) -> bool {
        centre
            .iter()
            .zip(settings)
            .all(|(c, s)| (c - s).abs() <= 0.05 * c.abs().max(1.0))
    }

    /// The regimes seen in `settings`, one row per step.
    pub fn discover<'a>(settings: impl IntoIterator<Item = &'a Vec<f64>>) -> Regimes {
        let mut regimes = Regimes::default();
        for row in settings {
            if !regimes.centres.iter().any(|c| Regimes::close(c, row)) {
                regimes.centres.push(row.clone());
            }
        }
        regimes
    }

    /// The regime of a step: the matching one, or the nearest.
    pub fn of(&self, settings: &[f64]) -> usize {
        self.centres
            .iter()
            .position(|c| Regimes::close(c, settings))
            .or_else(|| {
                (0..self.centres.len()).min_by(|&a, &b| {
                    let d = |c: &[f64]| {
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

/// The health indicator: 1 while healthy, falling to 0 at failure, fitted to the remaining life
/// capped at `cap_steps` (the usual piecewise-linear target: before the cap a machine shows no
/// wear, so no life can be read from it). Its inputs are, per signal that varies (standardised
/// within its regime), the level and the slope of a straight line through its last
/// steps (a fixed share of the capped life): the level without the lag of a smoothing, the slope because wear
/// accelerates. A small ensemble of networks fuses them (signals bend as they wear, and what
/// one signal's level means depends on the others).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthIndicator {
    pub regimes: Regimes,
    /// Columns of the values used (a column that never moves within a regime carries nothing).
    columns: Vec<usize>,
    /// Per regime, per used column: (mean, sd).
    scale: Vec<Vec<(f64, f64)>>,
    /// Steps each line is fitted over.
    window_steps: usize,
    fusion: Ensemble,
    /// Remaining life beyond which the indicator reads healthy, steps.
    cap_steps: f64,
}

/// The last standardised rows of one asset or engine (up to the indicator's window), carried
/// from step to step.
pub type Recent = VecDeque<Vec<f64>>;

/// The part of the capped life (the span over which wear shows) each signal's line is fitted
/// over. Chosen on C-MAPSS FD001/FD002 between 30, 40, 50 and 60 of its 125 cycles (50 best on
/// both; 30 cost 1 cycle RMSE); a fraction, so a model of a pump whose wear shows over 60
/// steps reads 24 of them.
const FEATURE_WINDOW: f64 = 0.4;
/// A standardised level or slope beyond this many standard deviations carries no more news
/// and is clipped, so one wild sensor cannot saturate the fusion.
const FEATURE_CLIP: f64 = 10.0;
/// The fusion: ten networks of 32 hidden units, 100 epochs. Trained to where more epochs stop
/// helping (C-MAPSS FD001 capped RMSE, ten networks: 30 epochs 13.6-13.7, 60 13.00, 100
/// 12.73-13.00 by seed, 150 13.09; FD002 12.0-12.4 throughout); ten networks rather than five
/// halve the spread between seeds. 16 units cost 0.4 cycles on FD002.
const FUSION: Training = Training {
    hidden: 32,
    epochs: 100,
    learning_rate: 0.003,
    seed: 1,
};
const FUSION_MEMBERS: usize = 10;

impl HealthIndicator {
    /// Fits the indicator on run-to-failure histories; None without a signal that varies.
    pub fn fit(runs: &[RunHistory], cap_steps: f64) -> Option<HealthIndicator> {
        let width = runs.iter().find_map(|r| r.values.first())?.len();
        let regimes = Regimes::discover(runs.iter().flat_map(|r| &r.settings));
        let mut sums = vec![vec![(0.0f64, 0.0f64, 0.0f64); width]; regimes.len().max(1)];
        for run in runs {
            for (row, settings) in run.values.iter().zip(&run.settings) {
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
        let columns: Vec<usize> = (0..width)
            .filter(|&j| {
                stats
                    .iter()
                    .all(|regime| regime[j].1 > 1e-6 * regime[j].0.abs().max(1.0))
            })
            .collect();
        if columns.is_empty() {
            return None;
        }
        let mut model = HealthIndicator {
            scale: stats
                .iter()
                .map(|regime| columns.iter().map(|&j| regime[j]).collect())
                .collect(),
            regimes,
            columns,
            window_steps: ((FEATURE_WINDOW * cap_steps).round() as usize).max(2),
            fusion: Ensemble::train(&[], &FUSION, 0),
            cap_steps,
        };
        let mut examples = vec![];
        for run in runs {
            let last = run.values.len();
            let mut recent = Recent::new();
            for (i, (row, settings)) in run.values.iter().zip(&run.settings).enumerate() {
                let features = model.features(&mut recent, settings, row);
                examples.push((features, ((last - 1 - i) as f64).min(cap_steps) / cap_steps));
            }
        }
        model.fusion = Ensemble::train(&examples, &FUSION, FUSION_MEMBERS);
        Some(model)
    }

    /// Adds one step's standardised values to `recent` (cycles in different regimes are
    /// comparable only once standardised) and returns the fusion's inputs: per column, the
    /// level at the last step and the change over a window of the line through the recent
    /// steps.
    fn features(&self, recent: &mut Recent, settings: &[f64], values: &[f64]) -> Vec<f64> {
        let scale = &self.scale[self.regimes.of(settings).min(self.scale.len() - 1)];
        let z: Vec<f64> = self
            .columns
            .iter()
            .zip(scale)
            .map(|(&j, (mean, sd))| (values.get(j).copied().unwrap_or(*mean) - mean) / sd)
            .collect();
        if recent.len() >= self.window_steps.max(1) {
            recent.pop_front();
        }
        recent.push_back(z);
        let n = recent.len() as f64;
        let centre = (n - 1.0) / 2.0;
        let spread: f64 = (0..recent.len())
            .map(|i| (i as f64 - centre).powi(2))
            .sum::<f64>()
            .max(1e-9);
        let mut features = Vec::with_capacity(2 * self.columns.len());
        for j in 0..self.columns.len() {
            let mean = recent.iter().map(|row| row[j]).sum::<f64>() / n;
            let slope = recent
                .iter()
                .enumerate()
                .map(|(i, row)| (i as f64 - centre) * (row[j] - mean))
                .sum::<f64>()
                / spread;
            let level = mean + slope * (n - 1.0 - centre);
            features.push(level.clamp(-FEATURE_CLIP, FEATURE_CLIP));
            features.push((slope * self.window_steps as f64).clamp(-FEATURE_CLIP, FEATURE_CLIP));
        }
        features
    }

    /// The indicator of one more step.
    pub fn step(&self, recent: &mut Recent, settings: &[f64], values: &[f64]) -> f64 {
        self.fusion.run(&self.features(recent, settings, values))
    }

    /// The indicator at every step of a run.
    pub fn series(&self, run: &RunHistory) -> Vec<f64> {
        let mut recent = Recent::new();
        run.values
            .iter()
            .zip(&run.settings)
            .map(|(row, settings)| self.step(&mut recent, settings, row))
            .collect()
    }

    pub fn cap_steps(&self) -> f64 {
        self.cap_steps
    }

    /// Whether the parts agree (a hand-edited or truncated model file may not).
    fn consistent(&self, signals: usize) -> bool {
        self.columns.iter().all(|&c| c < signals)
            && !self.scale.is_empty()
            && self.scale.iter().all(|r| r.len() == self.columns.len())
            && self.fusion.inputs() == Some(2 * self.columns.len())
            && self.window_steps > 0
    }
}

/// Remaining life by similarity to run-to-failure histories: the recent indicator is slid
/// along every history; where it fits best, that history's remaining steps are one candidate.
/// The estimate is the weighted distribution of the best candidates: an empirical one, not a
/// straight line's. A candidate at or beyond the cap is censored: the history was still healthy
/// there, so it says "at least the cap", not when.
///
/// The indicator is itself a reading of the remaining life (it was trained to the capped life
/// as a fraction of the cap), and its errors are not the matching's: the match looks at the
/// last 30 steps' shape, the level at the last step alone. So the distribution is moved (not
/// narrowed) by half the difference between that reading and the candidates' mean; censored
/// candidates stay censored, so this never gives a horizon to an asset the histories call
/// healthy. Equal halves, not a fitted weight. Measured with `eval cmapss` on three seeds: FD001 RMSE
/// 14.62-14.78 instead of 15.21-15.43, FD002 23.95-24.10 instead of 23.99-24.16.
#[derive(Debug, Clone, PartialEq)]
pub struct Similar {
    /// (remaining steps, weight) of the nearest histories.
    candidates: Vec<(f64, f64)>,
    cap_steps: f64,
}

impl Similar {
    /// `recent` is the indicator's last steps (up to [`MATCH_WINDOW`] are used); `age_steps`
    /// how many steps the asset has been seen (a history must have lived at least as long).
    pub fn estimate(
        histories: &[Vec<f32>],
        recent: &[f64],
        age_steps: usize,
        cap_steps: f64,
    ) -> Similar {
        let window = recent.len().min(MATCH_WINDOW);
        let recent = &recent[recent.len() - window..];
        let mut matches: Vec<(f64, f64)> = histories
            .iter()
            .filter(|h| h.len() >= window && window > 0)
            .map(|history| {
                let earliest_end = age_steps.min(history.len()).max(window);
                let (distance, end) = (earliest_end..=history.len())
                    .map(|end| {
                        let d = history[end - window..end]
                            .iter()
                            .zip(recent)
                            .map(|(a, b)| (f64::from(*a) - b).powi(2))
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
        let matched = Similar {
            candidates: matches
                .iter()
                .map(|(d, rul)| (*rul, (-d / scale).exp()))
                .collect(),
            cap_steps,
        };
        match recent.last() {
            Some(level) => matched.moved_toward((level * cap_steps).clamp(0.0, cap_steps)),
            None => matched,
        }
    }

    /// The candidates moved by half the difference between `reading_steps` (the indicator's
    /// level read as remaining life) and their mean; censored ones are left alone.
    fn moved_toward(self, reading_steps: f64) -> Similar {
        let shift = 0.5 * (reading_steps - self.rul());
        Similar {
            candidates: self
                .candidates
                .iter()
                .map(|&(r, w)| {
                    if r < self.cap_steps {
                        ((r + shift).max(0.0), w)
                    } else {
                        (r, w)
                    }
                })
                .collect(),
            cap_steps: self.cap_steps,
        }
    }

    fn total_weight(&self) -> f64 {
        self.candidates.iter().map(|c| c.1).sum()
    }

    /// Expected remaining steps, capped like the training target: a censored candidate counts
    /// as the cap (it says "at least the cap", and counting a history matched at its start
    /// as hundreds of steps pulled FD001's estimates 7 cycles late).
    pub fn rul(&self) -> f64 {
        let total = self.total_weight();
        if total <= 0.0 {
            return self.cap_steps;
        }
        self.candidates
            .iter()
            .map(|(r, w)| r.min(self.cap_steps) * w)
            .sum::<f64>()
            / total
    }

    /// Probability of failing within `steps` (censored candidates never do).
    pub fn within(&self, steps: f64) -> f64 {
        let total = self.total_weight();
        if total <= 0.0 {
            return 0.0;
        }
        self.candidates
            .iter()
            .filter(|(r, _)| *r <= steps && *r < self.cap_steps)
            .map(|(_, w)| w)
            .sum::<f64>()
            / total
    }

    /// The weighted `q` quantile of the remaining steps; infinite when it falls among the
    /// censored candidates (the histories say only "at least the cap").
    pub fn quantile(&self, q: f64) -> f64 {
        let total = self.total_weight();
        if total <= 0.0 {
            return f64::INFINITY;
        }
        let mut sorted = self.candidates.clone();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut seen = 0.0;
        for (r, w) in sorted {
            seen += w;
            if seen >= q * total {
                return if r < self.cap_steps { r } else { f64::INFINITY };
            }
        }
        f64::INFINITY
    }
}

/// A degradation model file (`pump.degradation.ron`): what `learn-degradation` writes and a
/// layout names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DegradationModel {
    /// Must equal [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The asset kind it was learned for.
    pub kind: AssetKind,
    /// Signal ids the indicator is fused from, in the order of its columns.
    pub signals: Vec<String>,
    /// Signal ids that set the operating regime (load, speed, product); may be empty.
    #[serde(default)]
    pub settings: Vec<String>,
    /// Seconds per step.
    pub step_s: f64,
    /// Where each history came from (file names), for "learned from N histories".
    pub sources: Vec<String>,
    pub health: HealthIndicator,
    /// Each history's indicator, step by step, ending at its failure.
    pub histories: Vec<Vec<f32>>,
}

/// Why a model could not be learned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LearnError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("{0} usable run-to-failure histories; at least 2 are needed")]
    TooFew(usize),
    #[error("no signal varies in the histories; nothing to learn a health indicator from")]
    NothingVaries,
}

impl DegradationModel {
    /// Learns a model from run-to-failure histories sampled every `step_s` seconds; the
    /// indicator reads healthy beyond `cap_steps` of remaining life.
    pub fn learn(
        kind: AssetKind,
        signals: Vec<String>,
        settings: Vec<String>,
        step_s: f64,
        cap_steps: f64,
        runs: &[RunHistory],
    ) -> Result<DegradationModel, LearnError> {
        let usable: Vec<&RunHistory> = runs.iter().filter(|r| r.values.len() >= 2).collect();
        if usable.len() < 2 {
            return Err(LearnError::TooFew(usable.len()));
        }
        let owned: Vec<RunHistory> = usable.into_iter().cloned().collect();
        let (health, histories) =
            fit_histories(&owned, cap_steps).ok_or(LearnError::NothingVaries)?;
        Ok(DegradationModel {
            format_version: FORMAT_VERSION,
            kind,
            signals,
            settings,
            step_s,
            sources: owned.iter().map(|r| r.name.clone()).collect(),
            health,
            histories,
        })
    }

    /// "learned from 24 run-to-failure histories".
    pub fn provenance(&self) -> String {
        format!(
            "learned from {} run-to-failure histories",
            self.histories.len()
        )
    }
}

/// The indicator fitted on `runs` and each run's indicator series (the histories an estimate
/// is matched against). The one fitting path of `learn-degradation` and `eval cmapss`.
pub fn fit_histories(
    runs: &[RunHistory],
    cap_steps: f64,
) -> Option<(HealthIndicator, Vec<Vec<f32>>)> {
    let health = HealthIndicator::fit(runs, cap_steps.max(1.0))?;
    let histories = runs
        .iter()
        .map(|r| health.series(r).into_iter().map(|v| v as f32).collect())
        .collect();
    Some((health, histories))
}

/// The learned models of the built-in demo plant, by the file name its layout gives them.
pub const DEMO_MODELS: &[(&str, &str)] = &[(
    "demo-plant.pump.degradation.ron",
    include_str!("../../../../plant-layouts/demo-plant.pump.degradation.ron"),
)];

/// Reads a model file; errors carry file:line:column.
pub fn load_model(path: &Path) -> Result<DegradationModel, FileError> {
    let text =
        std::fs::read_to_string(path).map_err(|error| FileError::unreadable(path, &error))?;
    parse_model(path, &text)
}

/// Parses a model file's text (`path` names it in errors).
pub fn parse_model(path: &Path, text: &str) -> Result<DegradationModel, FileError> {
    let model: DegradationModel =
        ron::from_str(text).map_err(|error| FileError::ron(path, &error))?;
    if model.format_version != FORMAT_VERSION {
        return Err(FileError::without_position(
            path,
            format!(
                "format_version {} is not supported (this build reads version {FORMAT_VERSION})",
                model.format_version
            ),
        ));
    }
    let usable = model.health.consistent(model.signals.len())
        && model.step_s.is_finite()
        && model.step_s > 0.0;
    if !usable {
        return Err(FileError::without_position(
            path,
            "inconsistent model: its indicator uses columns it does not name, or step_s is not positive",
        ));
    }
    Ok(model)
}

/// A model the plant uses: its text (kept for recordings) and what it says.
#[derive(Debug, Clone)]
pub struct ModelInForce {
    /// The recording attachment that carries it: `degradation/<file name>`.
    pub attachment: String,
    pub text: String,
    pub model: Arc<DegradationModel>,
}

impl ModelInForce {
    fn parse(path: &Path, text: String) -> Result<ModelInForce, FileError> {
        let model = parse_model(path, &text)?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Ok(ModelInForce {
            attachment: format!(
                "{}{}",
                crate::record::DEGRADATION_ATTACHMENT_PREFIX,
                name.trim_start_matches(crate::record::DEGRADATION_ATTACHMENT_PREFIX)
            ),
            text,
            model: Arc::new(model),
        })
    }
}

/// The models a layout names, read relative to the layout file (`layout_path`), or from
/// [`DEMO_MODELS`] for the built-in demo (None). A model that cannot be read is reported and
/// left out: the assets of its kind keep the trend-to-limit horizon.
pub fn models_named_by(
    layout: &crate::layout::PlantLayout,
    layout_path: Option<&Path>,
) -> (Vec<ModelInForce>, Vec<FileError>) {
    let mut models = vec![];
    let mut errors = vec![];
    for name in &layout.degradation_models {
        let found = match layout_path {
            Some(layout_path) => {
                let path = layout_path
                    .parent()
                    .unwrap_or_else(|| Path::new("."))
                    .join(name);
                std::fs::read_to_string(&path)
                    .map_err(|error| FileError::unreadable(&path, &error))
                    .and_then(|text| ModelInForce::parse(&path, text))
            }
            None => DEMO_MODELS
                .iter()
                .find(|(file, _)| file == name)
                .ok_or_else(|| {
                    FileError::without_position(Path::new(name), "not a built-in demo model")
                })
                .and_then(|(_, text)| ModelInForce::parse(Path::new(name), text.to_string())),
        };
        match found {
            Ok(model) => models.push(model),
            Err(error) => errors.push(error),
        }
    }
    (models, errors)
}

/// The recording attachments (name, text) that carry `models`.
pub fn attachments(models: Vec<ModelInForce>) -> Vec<(String, String)> {
    models.into_iter().map(|m| (m.attachment, m.text)).collect()
}

/// The models a recording carries, from its attachments (name, text).
pub fn models_from_attachments(
    attachments: &[(String, String)],
) -> (Vec<ModelInForce>, Vec<FileError>) {
    let mut models = vec![];
    let mut errors = vec![];
    for (name, text) in attachments {
        match ModelInForce::parse(Path::new(name), text.clone()) {
            Ok(model) => models.push(model),
            Err(error) => errors.push(error),
        }
    }
    (models, errors)
}

/// Writes a model file atomically.
pub fn save_model(path: &Path, model: &DegradationModel) -> std::io::Result<()> {
    // One line per history and per list, not one per number: the file stays readable.
    let config = ron::ser::PrettyConfig::default().compact_arrays(true);
    let text = ron::ser::to_string_pretty(model, config).map_err(std::io::Error::other)?;
    crate::files::write_atomic(path, text.as_bytes())
}

/// One CSV history: a header `time_s,<signal>,<signal>...`, then one row per sample, the last
/// at failure. An empty cell keeps the signal's previous value.
pub fn parse_history_csv(path: &Path, text: &str) -> Result<CsvHistory, FileError> {
    let at = |line: usize, col: usize, message: String| FileError {
        file: path.to_path_buf(),
        issues: vec![FileIssue {
            position: Some(TextPosition { line, col }),
            message,
        }],
    };
    let mut lines = text.lines().enumerate();
    let (_, header) = lines
        .find(|(_, l)| !l.trim().is_empty())
        .ok_or_else(|| FileError::without_position(path, "empty file: no header"))?;
    let columns: Vec<String> = header.split(',').map(|c| c.trim().to_string()).collect();
    if columns.first().map(String::as_str) != Some("time_s") || columns.len() < 2 {
        return Err(at(
            1,
            1,
            "the header must be time_s followed by signal ids".into(),
        ));
    }
    let signals = columns[1..].to_vec();
    let mut times = vec![];
    let mut rows: Vec<Vec<f64>> = vec![];
    let mut last: Vec<Option<f64>> = vec![None; signals.len()];
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let mut col = 1;
        let mut cells = vec![];
        for cell in line.split(',') {
            let trimmed = cell.trim();
            let value = if trimmed.is_empty() {
                None
            } else {
                Some(
                    trimmed
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| {
                            at(n + 1, col, format!("{trimmed:?} is not a finite number"))
                        })?,
                )
            };
            cells.push(value);
            col += cell.chars().count() + 1;
        }
        if cells.len() != columns.len() {
            return Err(at(
                n + 1,
                1,
                format!("{} cells, the header has {}", cells.len(), columns.len()),
            ));
        }
        let time = cells[0].ok_or_else(|| at(n + 1, 1, "time_s is empty".into()))?;
        if times.last().is_some_and(|t| time <= *t) {
            return Err(at(n + 1, 1, "time_s must increase from row to row".into()));
        }
        for (slot, cell) in last.iter_mut().zip(&cells[1..]) {
            if cell.is_some() {
                *slot = *cell;
            }
        }
        // Rows before every signal has a value cannot be used.
        if last.iter().all(Option::is_some) {
            times.push(time);
            rows.push(last.iter().map(|v| v.unwrap_or(0.0)).collect());
        }
    }
    Ok(CsvHistory {
        signals,
        times,
        rows,
    })
}

/// A parsed CSV history, before resampling.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvHistory {
    pub signals: Vec<String>,
    pub times: Vec<f64>,
    pub rows: Vec<Vec<f64>>,
}

impl CsvHistory {
    /// The median time between rows, seconds.
    pub fn median_step_s(&self) -> Option<f64> {
        let mut gaps: Vec<f64> = self.times.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort_by(f64::total_cmp);
        gaps.get(gaps.len() / 2).copied()
    }

    /// Resampled every `step_s` seconds (the value last seen at each step), split into the
    /// setting columns named in `settings` and the rest, as a run ending at the last row.
    pub fn run(&self, name: &str, step_s: f64, settings: &[String]) -> RunHistory {
        let setting_cols: Vec<usize> = settings
            .iter()
            .filter_map(|s| self.signals.iter().position(|c| c == s))
            .collect();
        let value_cols: Vec<usize> = (0..self.signals.len())
            .filter(|c| !setting_cols.contains(c))
            .collect();
        let mut run = RunHistory {
            name: name.to_string(),
            ..RunHistory::default()
        };
        let (Some(first), Some(last)) = (self.times.first(), self.times.last()) else {
            return run;
        };
        // Steps counted back from the failure, so the last step is the last row.
        let steps = ((last - first) / step_s).floor() as usize;
        let mut row = 0;
        for k in (0..=steps).rev() {
            let t = last - k as f64 * step_s;
            while row + 1 < self.times.len() && self.times[row + 1] <= t + 1e-9 {
                row += 1;
            }
            let values = &self.rows[row];
            run.settings
                .push(setting_cols.iter().map(|&c| values[c]).collect());
            run.values
                .push(value_cols.iter().map(|&c| values[c]).collect());
        }
        run
    }

    /// The signal ids that are not settings, in column order.
    pub fn value_signals(&self, settings: &[String]) -> Vec<String> {
        self.signals
            .iter()
            .filter(|s| !settings.contains(s))
            .cloned()
            .collect()
    }
}

/// A learned remaining-life estimate for one asset, ready for the UI.
#[derive(Debug, Clone, PartialEq)]
pub struct LearnedHorizon {
    /// `limit` is 0, the indicator's failure level.
    pub horizon: Horizon,
    /// The health indicator now (1 healthy, 0 failed).
    pub health: f64,
    /// "learned from 24 run-to-failure histories".
    pub provenance: String,
}

/// A model tracked live on one asset: samples in, one indicator step every `step_s` seconds of
/// source time, and the remaining-life estimate matched anew at each step.
#[derive(Debug, Clone)]
pub struct DegradationTracker {
    model: Arc<DegradationModel>,
    /// Per model column (signals, then settings): the asset's signal index.
    signal_of_column: Vec<usize>,
    settings_from: usize,
    latest: Vec<Option<f64>>,
    next_step_s: Option<f64>,
    window: Recent,
    recent: VecDeque<f64>,
    steps_seen: usize,
    /// The match against the histories, computed when first asked after a step (the UI and
    /// snapshots ask for a few assets; matching every tracked asset at every step cost more
    /// than all the detectors at 10,000 assets).
    estimate: std::sync::OnceLock<Similar>,
}

impl DegradationTracker {
    /// A tracker for `asset`, or the ids of the model's signals the asset lacks.
    pub fn new(model: Arc<DegradationModel>, asset: &Asset) -> Result<Self, Vec<String>> {
        let mut missing = vec![];
        let signal_of_column: Vec<usize> = model
            .signals
            .iter()
            .chain(&model.settings)
            .filter_map(|id| {
                let found = asset.signals.iter().position(|s| &s.id == id);
                if found.is_none() {
                    missing.push(id.clone());
                }
                found
            })
            .collect();
        if !missing.is_empty() {
            return Err(missing);
        }
        Ok(DegradationTracker {
            settings_from: model.signals.len(),
            latest: vec![None; signal_of_column.len()],
            signal_of_column,
            model,
            next_step_s: None,
            window: Recent::new(),
            recent: VecDeque::with_capacity(MATCH_WINDOW),
            steps_seen: 0,
            estimate: std::sync::OnceLock::new(),
        })
    }

    pub fn model(&self) -> &DegradationModel {
        &self.model
    }

    /// Feeds one sample of the asset's signal `signal`; true when it completed a step of the
    /// indicator.
    pub fn observe(&mut self, signal: usize, time_s: f64, value: f64) -> bool {
        let mut used = false;
        for (column, s) in self.signal_of_column.iter().enumerate() {
            if *s == signal {
                self.latest[column] = Some(value);
                used = true;
            }
        }
        if !used {
            return false;
        }
        let step_s = self.model.step_s;
        let due = *self.next_step_s.get_or_insert(time_s);
        // Time going backwards (a replay sought back) starts the indicator afresh.
        if time_s + 2.0 * step_s < due {
            self.reset();
            self.next_step_s = Some(time_s);
            return false;
        }
        if time_s < due || self.latest.iter().any(Option::is_none) {
            return false;
        }
        // A long gap is not filled with invented steps: the next is due one step from now.
        self.next_step_s = Some(if time_s - due > 10.0 * step_s {
            time_s + step_s
        } else {
            due + step_s
        });
        let row: Vec<f64> = self.latest.iter().map(|v| v.unwrap_or(0.0)).collect();
        let (values, settings) = row.split_at(self.settings_from);
        let health = self.model.health.step(&mut self.window, settings, values);
        if self.recent.len() == MATCH_WINDOW {
            self.recent.pop_front();
        }
        self.recent.push_back(health);
        self.steps_seen += 1;
        // The estimate is stale now: matched again when next asked.
        self.estimate = std::sync::OnceLock::new();
        true
    }

    /// The match of the recent indicator against every history (histories x length x window
    /// operations: tens of microseconds for the demo's pump model), computed once per step
    /// and only when asked.
    fn estimate(&self) -> Option<&Similar> {
        if self.recent.is_empty() {
            return None;
        }
        Some(self.estimate.get_or_init(|| {
            let recent: Vec<f64> = self.recent.iter().copied().collect();
            Similar::estimate(
                &self.model.histories,
                &recent,
                self.steps_seen,
                self.model.health.cap_steps(),
            )
        }))
    }

    /// Forgets the indicator's history (a new recording, a replay sought back).
    pub fn reset(&mut self) {
        self.latest.fill(None);
        self.next_step_s = None;
        self.window.clear();
        self.recent.clear();
        self.steps_seen = 0;
        self.estimate = std::sync::OnceLock::new();
    }

    /// The health indicator now.
    pub fn health(&self) -> Option<f64> {
        self.recent.back().copied()
    }

    /// The remaining-life estimate when most of the matching histories were already failing
    /// at this point (the median candidate is within the cap); None while they say "healthy".
    pub fn horizon(&self, within_s: f64) -> Option<LearnedHorizon> {
        // Five steps first: one or two match anything.
        if self.recent.len() < 5 {
            return None;
        }
        let estimate = self.estimate()?;
        let step_s = self.model.step_s;
        let median = estimate.quantile(0.5);
        if !median.is_finite() {
            return None;
        }
        Some(LearnedHorizon {
            horizon: Horizon {
                limit: 0.0,
                expected_s: median * step_s,
                early_s: estimate.quantile(0.1) * step_s,
                late_s: estimate.quantile(0.9) * step_s,
                probability: estimate.within(within_s / step_s).clamp(0.0, 1.0),
                within_s,
            },
            health: self.health().unwrap_or(1.0),
            provenance: self.model.provenance(),
        })
    }

    /// The asset's signal indices the model reads (settings excluded).
    pub fn signals(&self) -> &[usize] {
        &self.signal_of_column[..self.settings_from]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Indicators falling from 1 to 0 over the last 100 steps of lives of 150-250 steps.
    fn history(life: usize) -> Vec<f32> {
        (0..life)
            .map(|c| ((life - 1 - c) as f32 / 100.0).min(1.0))
            .collect()
    }

    #[test]
    fn similar_histories_give_the_remaining_life_and_its_distribution() {
        let histories: Vec<Vec<f32>> = (0..20).map(|i| history(150 + 5 * i)).collect();
        // 20 steps from failure.
        let seen: Vec<f64> = history(180)[..160].iter().map(|v| f64::from(*v)).collect();
        let similar = Similar::estimate(&histories, &seen, seen.len(), 100.0);
        assert!((similar.rul() - 20.0).abs() < 2.0, "{}", similar.rul());
        assert!(similar.within(30.0) > 0.95 && similar.within(10.0) < 0.05);
        assert!((similar.quantile(0.5) - 20.0).abs() < 2.0);
        // Young and flat at 1: capped, censored, no quantile.
        let young = vec![1.0; 40];
        let similar = Similar::estimate(&histories, &young, 40, 100.0);
        assert_eq!(similar.rul(), 100.0);
        assert_eq!(similar.within(1e9), 0.0);
        assert!(similar.quantile(0.5).is_infinite());
    }

    #[test]
    fn the_indicator_level_moves_the_matched_lives_halfway_but_never_uncensors_one() {
        let histories: Vec<Vec<f32>> = (0..20).map(|i| history(150 + 5 * i)).collect();
        // The last 30 steps say 40 steps left, the last level alone says 20.
        let mut seen: Vec<f64> = history(180)[..140].iter().map(|v| f64::from(*v)).collect();
        if let Some(last) = seen.last_mut() {
            *last = 0.2;
        }
        let similar = Similar::estimate(&histories, &seen, seen.len(), 100.0);
        assert!((similar.rul() - 30.0).abs() < 3.0, "{}", similar.rul());
        assert!((similar.quantile(0.5) - 30.0).abs() < 3.0);
        // Histories that were healthy where they matched say "at least the cap" whatever the
        // reading: a low reading moves only the others, and the median stays infinite.
        let matched = Similar {
            candidates: vec![(100.0, 1.0), (250.0, 1.0), (60.0, 1.0)],
            cap_steps: 100.0,
        };
        let moved = matched.moved_toward(10.0);
        assert_eq!(moved.candidates[..2], [(100.0, 1.0), (250.0, 1.0)]);
        assert!((moved.candidates[2].0 - (60.0 + 0.5 * (10.0 - 260.0 / 3.0))).abs() < 1e-9);
        assert!(moved.quantile(0.5).is_infinite());
    }

    /// A run whose one moving signal rises over its last 60 steps; a second signal is noise
    /// and a third never moves.
    fn run(life: usize, seed: u64) -> RunHistory {
        RunHistory {
            name: format!("run-{seed}"),
            settings: vec![vec![]; life],
            values: (0..life)
                .map(|c| {
                    let left = (life - 1 - c) as f64;
                    let wear = (60.0 - left).max(0.0) / 60.0;
                    let noise = crate::predict::test_noise(seed * 1000 + c as u64);
                    vec![2.0 + 3.0 * wear * wear + 0.05 * noise, 50.0 + noise, 7.0]
                })
                .collect(),
        }
    }

    #[test]
    fn a_learned_model_tracks_a_failing_asset_and_stays_quiet_on_a_healthy_one() {
        let runs: Vec<RunHistory> = (0..12).map(|i| run(150 + 10 * i, i as u64)).collect();
        let model = DegradationModel::learn(
            AssetKind::Pump,
            vec!["vibration".into(), "temp".into(), "const".into()],
            vec![],
            5.0,
            60.0,
            &runs,
        )
        .expect("learned");
        assert_eq!(model.histories.len(), 12);
        let asset: Asset = ron::from_str(
            r#"(id: "p", name: "P", kind: Pump, position: (0.0, 0.0),
                footprint: Box(length: 1.0, width: 1.0, height: 1.0),
                signals: [
                    (id: "temp", unit: "degC", normal: (0.0, 100.0)),
                    (id: "vibration", unit: "mm/s", normal: (0.0, 5.0)),
                    (id: "const", unit: "", normal: (0.0, 10.0)),
                ])"#,
        )
        .expect("asset");
        let model = Arc::new(model);
        let mut tracker = DegradationTracker::new(model.clone(), &asset).expect("tracker");
        // An unseen run of 200 steps, watched from step 40 to 20 steps before failure.
        let unseen = run(200, 99);
        for (step, row) in unseen.values.iter().enumerate().take(180).skip(40) {
            let t = step as f64 * 5.0;
            tracker.observe(1, t, row[0]);
            tracker.observe(0, t + 0.1, row[1]);
            tracker.observe(2, t + 0.2, row[2]);
            if step == 100 {
                assert!(tracker.horizon(3600.0).is_none(), "healthy at step 100");
            }
        }
        let learned = tracker.horizon(3600.0).expect("a horizon near the end");
        // 20 steps of 5 s left.
        assert!(
            (learned.horizon.expected_s - 100.0).abs() < 40.0,
            "{learned:?}"
        );
        assert!(learned.horizon.probability > 0.9);
        assert!(learned.provenance.contains("12 run-to-failure"));
        // An asset without the model's signals gets no tracker, and says which are missing.
        let mut other = asset.clone();
        other.signals.remove(1);
        assert_eq!(
            DegradationTracker::new(model, &other).err(),
            Some(vec!["vibration".to_string()])
        );
    }

    #[test]
    fn csv_histories_parse_resample_and_say_where_they_are_wrong() {
        let text = "time_s,load,vib\n0,0.5,1\n1,,1.5\n2.5,0.7,2\n";
        let csv = parse_history_csv(Path::new("h.csv"), text).expect("parsed");
        assert_eq!(csv.rows[1], vec![0.5, 1.5]);
        let run = csv.run("h", 1.0, &["load".into()]);
        // Steps back from the failure at 2.5 s: 0.5, 1.5, 2.5.
        assert_eq!(run.values, vec![vec![1.0], vec![1.5], vec![2.0]]);
        assert_eq!(run.settings, vec![vec![0.5], vec![0.5], vec![0.7]]);
        let error =
            parse_history_csv(Path::new("h.csv"), "time_s,vib\n0,1\n1,x\n").expect_err("refused");
        assert_eq!(error.to_string(), "h.csv:3:3: \"x\" is not a finite number");
        let error = parse_history_csv(Path::new("h.csv"), "vib,time_s\n").expect_err("bad header");
        assert!(error.to_string().starts_with("h.csv:1:1:"));
    }

    #[test]
    fn model_files_round_trip_and_bad_ones_are_refused() {
        let runs: Vec<RunHistory> = (0..3).map(|i| run(100, i)).collect();
        let model = DegradationModel::learn(
            AssetKind::Pump,
            vec!["vibration".into(), "temp".into(), "const".into()],
            vec![],
            1.0,
            60.0,
            &runs,
        )
        .expect("learned");
        let dir = std::env::temp_dir().join(format!("pt-degradation-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("pump.degradation.ron");
        save_model(&path, &model).expect("saved");
        assert_eq!(load_model(&path).expect("loaded"), model);
        std::fs::write(&path, "DegradationModel(format_version: 1,").expect("written");
        let error = load_model(&path).expect_err("truncated");
        assert!(
            error.to_string().contains("pump.degradation.ron:1:"),
            "{error}"
        );
        assert_eq!(
            DegradationModel::learn(AssetKind::Pump, vec![], vec![], 1.0, 60.0, &runs[..1]).err(),
            Some(LearnError::TooFew(1))
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
