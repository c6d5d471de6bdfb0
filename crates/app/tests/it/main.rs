//! Integration tests, in one binary so Bevy is linked once.

mod broker;
mod cli;
mod flows;
mod gui;
mod headless_app;
mod live_mqtt;
mod prediction;
mod replay;
mod sandbox;
mod wall;

use std::path::PathBuf;

/// A layout fixture; they belong to the core crate's layout tests (crates/core/tests/fixtures).
pub fn fixture(relative: &str) -> PathBuf {
    repo_file("crates/core/tests/fixtures").join(relative)
}

/// A file at the repository root, e.g. the demo layout.
pub fn repo_file(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}

/// A headless App with what the core plugins need and no window: time, assets, transforms,
/// input and states. Tests add the plugins they exercise.
pub fn bare_app() -> bevy::prelude::App {
    use bevy::prelude::*;
    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins,
        AssetPlugin::default(),
        TransformPlugin,
        bevy::input::InputPlugin,
        bevy::state::app::StatesPlugin,
    ))
    .init_asset::<Mesh>()
    .init_asset::<StandardMaterial>();
    plant_twin::scene::init_material_assets(&mut app);
    app
}
