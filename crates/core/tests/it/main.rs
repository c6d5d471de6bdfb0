//! Integration tests of the core crate: layout and bindings files, decoding garbage, and the
//! crate's boundary (no Bevy in its dependency tree, no import circle between its modules).

mod architecture;
mod bindings;
mod garbage;
mod horizons;
mod layout_files;
mod security;

use std::path::PathBuf;

/// A file under tests/fixtures.
pub fn fixture(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative)
}

/// A file at the repository root, e.g. the demo layout.
pub fn repo_file(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}
