//! Plant layout files: the RON schema, loading with file:line:column errors, and validation.
//! No Bevy here; the scene is built from what this module returns.

pub mod diff;
mod schema;
mod source_map;
mod summary;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};

pub use schema::*;
pub use source_map::{SourceMap, TextPosition};
pub use summary::LayoutSummary;

/// The layout shipped with the app and opened when no `--layout` is given.
pub const DEMO_LAYOUT_PATH: &str = "plant-layouts/demo-plant.ron";

/// The demo layout compiled into the binary, so the app runs from any directory.
pub const DEMO_LAYOUT_TEXT: &str = include_str!("../../plant-layouts/demo-plant.ron");

/// A file that belongs to a layout and lives next to it: `plant.ron` -> `plant.<what>.ron`
/// (bindings, prediction baseline).
pub fn companion_path(layout_path: &Path, what: &str) -> PathBuf {
    let stem = layout_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    layout_path.with_file_name(format!("{stem}.{what}.ron"))
}

/// A RON syntax or type error as a located issue (every RON file of the project reports them
/// this way: layouts, bindings, baselines, wall settings).
pub fn ron_issue(error: &ron::error::SpannedError) -> LayoutIssue {
    LayoutIssue {
        position: Some(TextPosition {
            line: error.span.start.line,
            col: error.span.start.col,
        }),
        message: error.code.to_string(),
    }
}

/// One problem found in a layout file.
#[derive(Debug, Clone, PartialEq)]
pub struct LayoutIssue {
    /// Where in the file; `None` when the file could not be read at all.
    pub position: Option<TextPosition>,
    pub message: String,
}

/// Why a layout file was refused: every problem found, with where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct LayoutError {
    pub file: PathBuf,
    pub issues: Vec<LayoutIssue>,
}

impl fmt::Display for LayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, issue) in self.issues.iter().enumerate() {
            if n > 0 {
                writeln!(f)?;
            }
            match issue.position {
                Some(TextPosition { line, col }) => {
                    write!(f, "{}:{line}:{col}: {}", self.file.display(), issue.message)?
                }
                None => write!(f, "{}: {}", self.file.display(), issue.message)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for LayoutError {}

/// Reads and checks a layout file. The file is only read, never written.
///
/// Returns the whole layout or every problem found; there is no partial result.
pub fn load_layout(path: &Path) -> Result<PlantLayout, LayoutError> {
    let text = std::fs::read_to_string(path).map_err(|error| LayoutError {
        file: path.to_path_buf(),
        issues: vec![LayoutIssue {
            position: None,
            message: format!("cannot read the file: {error}"),
        }],
    })?;
    parse_layout(&text, path)
}

/// Parses and checks layout text; `file` is only used to name the source in errors.
pub fn parse_layout(text: &str, file: &Path) -> Result<PlantLayout, LayoutError> {
    let layout: PlantLayout = ron::from_str(text).map_err(|error| LayoutError {
        file: file.to_path_buf(),
        issues: vec![ron_issue(&error)],
    })?;
    let source_map = SourceMap::build(text);
    let issues = validate::validate(&layout, &source_map);
    if issues.is_empty() {
        Ok(layout)
    } else {
        Err(LayoutError {
            file: file.to_path_buf(),
            issues,
        })
    }
}

/// The layout text as written by this build: pretty RON with the schema's field names.
pub fn layout_to_ron(layout: &PlantLayout) -> Result<String, ron::Error> {
    let config = ron::ser::PrettyConfig::new()
        .depth_limit(6)
        .struct_names(true)
        .separate_tuple_members(false);
    ron::ser::to_string_pretty(layout, config)
}
