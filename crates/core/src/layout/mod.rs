//! Plant layout files: the RON schema, loading with file:line:column errors, and validation.
//! No Bevy here; the scene is built from what this module returns.

mod schema;
mod source_map;
mod summary;
mod validate;
mod writer;

use std::path::Path;

use crate::files::{FileError, FileIssue};

pub use schema::*;
pub use source_map::SourceMap;
pub use summary::LayoutSummary;
pub use writer::{
    LayoutSaveError, WRITTEN_HEADER, WriteStyle, changed_lines, patch_layout, save_layout,
    write_layout,
};

/// The layout shipped with the app and opened when no `--layout` is given.
pub const DEMO_LAYOUT_PATH: &str = "plant-layouts/demo-plant.ron";

/// The demo layout compiled into the binary, so the app runs from any directory.
pub const DEMO_LAYOUT_TEXT: &str = include_str!("../../../../plant-layouts/demo-plant.ron");

/// Reads and checks a layout file. The file is only read, never written.
///
/// Returns the whole layout or every problem found; there is no partial result.
pub fn load_layout(path: &Path) -> Result<PlantLayout, FileError> {
    let text =
        std::fs::read_to_string(path).map_err(|error| FileError::unreadable(path, &error))?;
    parse_layout(&text, path)
}

/// Parses and checks layout text; `file` is only used to name the source in errors.
pub fn parse_layout(text: &str, file: &Path) -> Result<PlantLayout, FileError> {
    let layout: PlantLayout = ron::from_str(text).map_err(|error| FileError::ron(file, &error))?;
    let source_map = SourceMap::build(text);
    let issues = validate::validate(&layout, &source_map);
    if issues.is_empty() {
        Ok(layout)
    } else {
        Err(FileError {
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
