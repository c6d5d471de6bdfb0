//! The wall display's settings, a RON file (`--wall-config`), documented in docs/wall-display.md.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::files::FileError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WallConfig {
    pub schema_version: u32,
    /// Tour stops in order: production line ids or zone ids of the layout. Empty: every line,
    /// in layout order, then the whole plant.
    pub tour: Vec<String>,
    /// Seconds at each stop.
    pub dwell_s: f64,
    /// Seconds the camera stays on an asset that entered alarm.
    pub alarm_dwell_s: f64,
    /// Show the alarm banner at the top.
    pub banner: bool,
    /// Show the KPI tiles on the right.
    pub kpi_tiles: bool,
    /// How many top anomalies the tiles list.
    pub top_anomalies: usize,
    pub theme: WallTheme,
    /// Text size multiplier on top of the automatic scaling to the screen.
    pub text_scale: f32,
    /// Let people acknowledge alarms on the wall (off: the wall only shows).
    pub allow_acknowledge: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WallTheme {
    Dark,
    Light,
}

impl Default for WallConfig {
    fn default() -> Self {
        WallConfig {
            schema_version: 1,
            tour: vec![],
            dwell_s: 20.0,
            alarm_dwell_s: 30.0,
            banner: true,
            kpi_tiles: true,
            top_anomalies: 5,
            theme: WallTheme::Dark,
            text_scale: 1.0,
            allow_acknowledge: false,
        }
    }
}

/// Reads a wall config; errors carry file:line:column.
pub fn load_wall_config(path: &Path) -> Result<WallConfig, FileError> {
    let text =
        std::fs::read_to_string(path).map_err(|error| FileError::unreadable(path, &error))?;
    let config: WallConfig = ron::from_str(&text).map_err(|error| FileError::ron(path, &error))?;
    if config.schema_version != 1 {
        return Err(FileError::without_position(
            path,
            format!(
                "schema_version {} is not supported (this build reads version 1)",
                config.schema_version
            ),
        ));
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_loads_and_errors_say_where() {
        let example =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/control-room.wall.ron");
        let config = load_wall_config(&example).expect("example loads");
        assert!(!config.tour.is_empty());
        let dir = tempfile::tempdir().expect("dir");
        let bad = dir.path().join("bad.ron");
        std::fs::write(&bad, "(schema_version: 1,\n dwell_s: \"long\")").expect("written");
        let error = load_wall_config(&bad).expect_err("refused").to_string();
        assert!(error.contains("bad.ron:2:"), "{error}");
    }
}
