//! Baselines saved from a known-good period, stored next to the layout
//! (`plant.ron` -> `plant.baseline.ron`), so a restarted twin scores at once instead of
//! learning again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{AssetModel, SignalBaseline};
use crate::files::{FileError, FileIssue, companion_path};
use crate::layout::Asset;

/// The baseline learned from the demo plant's healthy simulation
/// (`plant-twin baseline --seconds 1200`), used with the built-in demo.
pub const DEMO_BASELINE_TEXT: &str =
    include_str!("../../../../plant-layouts/demo-plant.baseline.ron");

/// The baseline file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineFile {
    pub schema_version: u32,
    /// What the baseline was learned from, for people reading the file.
    #[serde(default)]
    pub learned_from: String,
    /// Per asset id.
    pub assets: BTreeMap<String, AssetBaseline>,
}

/// What was learned about one asset's signals, per signal id.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetBaseline {
    pub signals: BTreeMap<String, SignalBaseline>,
    /// The asset's operating modes and what each signal does in each (none in files from
    /// before modes: they are then learned live).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modes: Vec<super::mode::ModeBaseline>,
    /// Signals whose normal follows the asset's load, by signal id (none in older files).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub conditioned: BTreeMap<String, super::load::ConditionedBaseline>,
}

pub fn baseline_path_for(layout_path: &Path) -> PathBuf {
    companion_path(layout_path, "baseline")
}

/// Reads a baseline file; errors carry file:line:column.
pub fn load_baseline(path: &Path) -> Result<BaselineFile, FileError> {
    let text =
        std::fs::read_to_string(path).map_err(|error| FileError::unreadable(path, &error))?;
    parse_baseline(&text).map_err(|issue| FileError {
        file: path.to_path_buf(),
        issues: vec![issue],
    })
}

/// Parses a baseline file's text.
pub fn parse_baseline(text: &str) -> Result<BaselineFile, FileIssue> {
    let file: BaselineFile =
        ron::from_str(text).map_err(|error| crate::files::ron_issue(&error))?;
    if file.schema_version != 1 {
        return Err(FileIssue {
            position: None,
            message: format!(
                "schema_version {} is not supported (this build reads version 1)",
                file.schema_version
            ),
        });
    }
    Ok(file)
}

/// Writes a baseline file atomically.
pub fn save_baseline(path: &Path, file: &BaselineFile) -> std::io::Result<()> {
    let text = ron::ser::to_string_pretty(file, ron::ser::PrettyConfig::default())
        .map_err(std::io::Error::other)?;
    crate::files::write_atomic(path, text.as_bytes())
}

/// Collects what every asset has learned into a baseline file.
pub fn collect_baseline<'a>(
    models: impl Iterator<Item = (&'a Asset, &'a AssetModel)>,
    learned_from: String,
) -> BaselineFile {
    let mut file = BaselineFile {
        schema_version: 1,
        learned_from,
        ..BaselineFile::default()
    };
    for (asset, model) in models {
        let signals: std::collections::BTreeMap<_, _> = asset
            .signals
            .iter()
            .zip(&model.detectors)
            .filter_map(|(signal, detector)| Some((signal.id.clone(), detector.baseline()?)))
            .collect();
        if !signals.is_empty() {
            let ids: Vec<&str> = asset.signals.iter().map(|s| s.id.as_str()).collect();
            let modes = model.modes.baselines(&ids);
            let conditioned = model.load.baselines(&ids);
            file.assets.insert(
                asset.id.clone(),
                AssetBaseline {
                    signals,
                    modes,
                    conditioned,
                },
            );
        }
    }
    file
}

/// Learns a baseline from the plant simulator's healthy run, in simulated time (no waiting):
/// for demos and tests. A real plant learns from live data and saves from the app.
pub fn learn_from_simulation(
    layout: &crate::layout::PlantLayout,
    config: &super::PredictConfig,
    seed: u64,
    seconds: f64,
    rate_hz: f64,
) -> BaselineFile {
    use crate::sim::{SimConfig, Simulator, scenario};
    let sim = SimConfig {
        seed,
        scenario: scenario::scenario("healthy").unwrap_or(&scenario::SCENARIOS[0]),
        ..SimConfig::default()
    };
    let mut simulator = Simulator::new(layout, sim);
    // Learn over the whole run, so every duty cycle seen counts as normal.
    let config = super::PredictConfig {
        detector: super::DetectorConfig {
            warm_up_s: seconds,
            ..config.detector
        },
        ..*config
    };
    let mut models: Vec<AssetModel> = layout
        .assets
        .iter()
        .map(|asset| AssetModel::new(asset, &config, None))
        .collect();
    let steps = (seconds * rate_hz).ceil() as u64;
    let mut changes = vec![];
    for step in 0..=steps {
        let t = step as f64 / rate_hz;
        for value in simulator.step(t) {
            if let Some(model) = models.get_mut(value.asset) {
                model.update(&config, value.signal, t, value.value, &mut changes);
            }
        }
        changes.clear();
    }
    for model in &mut models {
        model.finish_learning();
    }
    collect_baseline(
        layout.assets.iter().zip(&models),
        format!("simulator, healthy scenario, seed {seed}, {seconds} s at {rate_hz} Hz"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_baseline_survives_a_round_trip_through_a_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = baseline_path_for(&dir.path().join("plant.ron"));
        assert!(path.ends_with("plant.baseline.ron"));
        let mut file = BaselineFile {
            schema_version: 1,
            learned_from: "test".into(),
            ..BaselineFile::default()
        };
        file.assets
            .entry("pump-1".into())
            .or_default()
            .signals
            .insert(
                "flow".into(),
                SignalBaseline {
                    level: 12.5,
                    sigma: 0.25,
                    longest_flat_s: 2.0,
                    sample_interval_s: 1.0,
                    counter: false,
                },
            );
        save_baseline(&path, &file).expect("saved");
        assert_eq!(load_baseline(&path).expect("loaded"), file);
    }

    #[test]
    fn the_shipped_demo_baseline_is_what_the_command_learns() {
        let layout = crate::layout::parse_layout(
            crate::layout::DEMO_LAYOUT_TEXT,
            Path::new(crate::layout::DEMO_LAYOUT_PATH),
        )
        .expect("demo");
        let shipped = parse_baseline(crate::predict::baseline::DEMO_BASELINE_TEXT).expect("parses");
        let learned = learn_from_simulation(
            &layout,
            &super::super::PredictConfig::default(),
            1,
            1200.0,
            1.0,
        );
        assert_eq!(
            shipped.assets.len(),
            layout.assets.len(),
            "regenerate with `cargo run -- baseline`"
        );
        for (id, asset) in &learned.assets {
            for (signal, baseline) in &asset.signals {
                let saved = shipped.assets[id].signals[signal];
                // RON keeps every digit; allow for the last one.
                assert!(
                    (saved.sigma - baseline.sigma).abs() <= 1e-9 * baseline.sigma.abs().max(1.0),
                    "{id}/{signal}: regenerate with `cargo run -- baseline`"
                );
            }
        }
    }

    #[test]
    fn a_broken_baseline_says_where() {
        let error = parse_baseline("(schema_version: 1, assets: {\"a\": (signals: 3)})")
            .expect_err("broken");
        assert!(error.position.is_some(), "{error:?}");
        let error = parse_baseline("(schema_version: 7, assets: {})").expect_err("version");
        assert!(error.message.contains("version 1"), "{error:?}");
    }
}
