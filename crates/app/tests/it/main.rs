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

/// [`bare_app`] with the plant of `document` and a live plugin fed by the test
/// (`ManualFeed`), keeping `history` points per signal. Not yet updated.
pub fn live_app(document: plant_twin::plant::PlantDocument, history: usize) -> bevy::prelude::App {
    use plant_twin::data::telemetry::{LivePlugin, SourceConfig};
    let mut app = bare_app();
    app.add_plugins((
        plant_twin::TwinCorePlugin { document },
        LivePlugin {
            source: SourceConfig::Manual,
            bindings: None,
            history,
        },
    ));
    app
}

/// The layout position of asset `id`: what a decoded sample names it by.
pub fn position_of(app: &bevy::prelude::App, id: &str) -> u32 {
    let index = app.world().resource::<plant_twin::plant::AssetIndex>();
    let entity = index.get(id).expect("asset");
    index
        .by_position
        .iter()
        .position(|e| *e == entity)
        .expect("indexed") as u32
}

/// A test-fed live app's feed, pump-01's entity and its layout position: what the tests that
/// send pump-01 samples by hand need.
pub fn feed_to_pump_01(
    app: &bevy::prelude::App,
) -> (
    plant_twin::data::telemetry::ManualFeed,
    bevy::prelude::Entity,
    u32,
) {
    let feed = app
        .world()
        .resource::<plant_twin::data::telemetry::ManualFeed>()
        .clone();
    let pump = app
        .world()
        .resource::<plant_twin::plant::AssetIndex>()
        .get("pump-01")
        .expect("asset");
    (feed, pump, position_of(app, "pump-01"))
}

/// One good sample of pump-01's flow (its signal 0) in the demo plant, as the decoder hands
/// it over; `position` from [`position_of`].
pub fn pump_01_flow(
    position: u32,
    value: f64,
    time_ms: i64,
) -> plant_twin_core::telemetry::IngestEvent {
    use plant_twin_core::telemetry::{IngestEvent, Quality, Sample, SignalRef, now_ms};
    IngestEvent::Samples {
        topic: "acme/plant1/utilities/pump-01/flow".into(),
        received_ms: now_ms(),
        samples: [Sample {
            signal: SignalRef {
                asset: position,
                signal: 0,
            },
            value,
            quality: Quality::Good,
            time_ms,
        }]
        .into(),
    }
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
