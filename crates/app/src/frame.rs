//! The frame's order, named: the sets every plugin puts its systems in. They are chained once,
//! in `app::configure_frame_order`, which is the only place that orders sets; this module
//! imports nothing of the crate, so every plugin can use it.

use bevy::prelude::*;

/// The order of a frame in `Update`: read input, run the data path, apply the user's intents to
/// the world, then present it. Chained once, in `app::configure_frame_order`; plugins only put their
/// systems in a set. The egui panels run later, in bevy_egui's `EguiPrimaryContextPass`
/// (`UiSystems`): what they write is applied next frame.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppSystems {
    /// Keyboard, mouse, the wall's tour and file dialog results turn into intents.
    Input,
    /// The data path, in the order of [`DataSystems`].
    Data,
    /// Intents change the spawned plant: selection, then sandbox edits; the floor and camera
    /// follow a new layout.
    ApplyIntents,
    /// Camera, highlights, colours and other things that only show the world.
    Presentation,
}

/// The data path within [`AppSystems::Data`] (schedule `Update`), chained in this order:
/// everything a message goes through between arriving and being shown.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataSystems {
    /// Recordings start and stop (before ingest, so the first messages are kept); a replay
    /// loads, seeks and decodes the recorded messages up to its position into the ingest queue
    /// (`data::record`, `data::replay`).
    Feed,
    /// A requested layout (or a recording's) is loaded and the plant (re)spawned (`plant`).
    Spawn,
    /// The ingest channel is drained into `LiveSignals`, `Freshness`, `IngestStatus` and
    /// `DataEvent`s; the source restarts with a new layout (`data::telemetry`).
    Ingest,
    /// Detectors, alarms and horizons run on this frame's samples; alarm intents are applied
    /// (`data::predict`).
    Predict,
    /// What watches the outcome: the replay's alarm markers and checkpoints, operators' alarm
    /// actions into a recording (`data::replay`, `data::record`).
    Observe,
}
