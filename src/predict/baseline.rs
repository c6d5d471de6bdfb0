//! Baselines saved from a known-good period, stored next to the layout
//! (`plant.ron` -> `plant.baseline.ron`), so a restarted twin scores at once instead of
//! learning again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::SignalBaseline;
use crate::layout::{LayoutError, LayoutIssue, TextPosition, companion_path};

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
}

pub fn baseline_path_for(layout_path: &Path) -> PathBuf {
    companion_path(layout_path, "baseline")
}

/// Reads a baseline file; errors carry file:line:column.
pub fn load_baseline(path: &Path) -> Result<BaselineFile, LayoutError> {
    let fail = |position, message| LayoutError {
        file: path.to_path_buf(),
        issues: vec![LayoutIssue { position, message }],
    };
    let text = std::fs::read_to_string(path)
        .map_err(|error| fail(None, format!("cannot read the file: {error}")))?;
    parse_baseline(&text).map_err(|(position, message)| fail(position, message))
}

/// Parses a baseline file's text.
pub fn parse_baseline(text: &str) -> Result<BaselineFile, (Option<TextPosition>, String)> {
    let file: BaselineFile = ron::from_str(text).map_err(|error| {
        (
            Some(TextPosition {
                line: error.span.start.line,
                col: error.span.start.col,
            }),
            error.code.to_string(),
        )
    })?;
    if file.schema_version != 1 {
        return Err((
            None,
            format!(
                "schema_version {} is not supported (this build reads version 1)",
                file.schema_version
            ),
        ));
    }
    Ok(file)
}

/// Writes a baseline file atomically.
pub fn save_baseline(path: &Path, file: &BaselineFile) -> std::io::Result<()> {
    let text = ron::ser::to_string_pretty(file, ron::ser::PrettyConfig::default())
        .map_err(std::io::Error::other)?;
    crate::fsutil::write_atomic(path, text.as_bytes())
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
    fn a_broken_baseline_says_where() {
        let error = parse_baseline("(schema_version: 1, assets: {\"a\": (signals: 3)})")
            .expect_err("broken");
        assert!(error.0.is_some(), "{error:?}");
        let error = parse_baseline("(schema_version: 7, assets: {})").expect_err("version");
        assert!(error.1.contains("version 1"), "{error:?}");
    }
}
