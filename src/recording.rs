//! Recording from the app: starts and stops the recorder thread on request (`--record FILE`,
//! the record button), with the layout, bindings and learned baseline in force written into
//! the file so that it replays on its own. Stopping (or quitting) finishes the file's index.

use std::path::PathBuf;

use bevy::prelude::*;

use crate::AppSystems;
use crate::live::{BindingsInForce, IngestStatus, LiveSystems, LiveTap};
use crate::plant::{AssetSpec, PlantDocument};
use crate::predict::baseline::collect_baseline;
use crate::prediction::{AssetHealth, Prediction};
use crate::record::writer::Finished;
use crate::record::{Recorder, RecordingContext};

pub struct RecordPlugin {
    /// Start recording into this file at once.
    pub start: Option<PathBuf>,
}

impl Plugin for RecordPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<RecordingState>()
            .add_message::<RecordIntent>()
            .configure_sets(
                Update,
                RecordSystems
                    .in_set(AppSystems::ApplyIntents)
                    .before(LiveSystems),
            )
            .add_systems(Update, apply_record_intents.in_set(RecordSystems))
            .add_systems(Last, finish_on_exit);
        if let Some(path) = &self.start {
            app.world_mut()
                .write_message(RecordIntent::Start(path.clone()));
        }
    }
}

/// Starts and stops recordings; before the live plugin so the first messages are kept.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordSystems;

#[derive(Message, Debug, Clone, PartialEq)]
pub enum RecordIntent {
    Start(PathBuf),
    /// Into `recordings/plant-twin-<UTC time>.mcap` in the working directory.
    StartDefault,
    Stop,
}

/// The running recording and the outcome of the last one, for the UI.
#[derive(Resource, Default)]
pub struct RecordingState {
    pub recorder: Option<Recorder>,
    pub last: Option<Result<(PathBuf, Finished), String>>,
}

/// A fresh file name for a recording started without one.
pub fn default_recording_path() -> PathBuf {
    let ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let stamp: String = crate::record::reader::utc_text(ns)
        .chars()
        .take(19)
        .map(|c| match c {
            ' ' => 'T',
            ':' => '-',
            c => c,
        })
        .collect();
    PathBuf::from("recordings").join(format!("plant-twin-{stamp}.mcap"))
}

#[allow(clippy::too_many_arguments)]
fn apply_record_intents(
    mut intents: MessageReader<RecordIntent>,
    mut state: ResMut<RecordingState>,
    tap: Res<LiveTap>,
    document: Res<PlantDocument>,
    bindings: Res<BindingsInForce>,
    prediction: Res<Prediction>,
    ingest: Res<IngestStatus>,
    models: Query<(&AssetSpec, &AssetHealth)>,
) {
    for intent in intents.read() {
        let path = match intent {
            RecordIntent::Stop => {
                if let Some(recorder) = state.recorder.take() {
                    let path = recorder.path.clone();
                    let result = recorder.stop().map(|finished| (path, finished));
                    match &result {
                        Ok((path, finished)) => info!(
                            "recorded {} messages ({} bytes) to {}",
                            finished.messages,
                            finished.bytes,
                            path.display()
                        ),
                        Err(error) => error!("{error}"),
                    }
                    state.last = Some(result);
                }
                continue;
            }
            RecordIntent::Start(path) => path.clone(),
            RecordIntent::StartDefault => default_recording_path(),
        };
        if state.recorder.is_some() {
            continue;
        }
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
            && let Err(error) = std::fs::create_dir_all(parent)
        {
            state.last = Some(Err(format!("cannot create {}: {error}", parent.display())));
            continue;
        }
        let context = recording_context(&document, &bindings, &prediction, &ingest, &models);
        match Recorder::start(&path, &context, &tap.0) {
            Ok(recorder) => {
                info!("recording to {}", path.display());
                state.recorder = Some(recorder);
            }
            Err(error) => {
                error!("{error}");
                state.last = Some(Err(error));
            }
        }
    }
}

/// The layout, bindings and baseline in force: what the models learned so far when they run
/// (a recording started mid-session), else the baseline they will start from.
fn recording_context(
    document: &PlantDocument,
    bindings: &BindingsInForce,
    prediction: &Prediction,
    ingest: &IngestStatus,
    models: &Query<(&AssetSpec, &AssetHealth)>,
) -> RecordingContext {
    let learned = (!models.is_empty()).then(|| {
        collect_baseline(
            models.iter().map(|(spec, health)| (&spec.0, &health.0)),
            "learned in the app before the recording started".into(),
        )
    });
    let baseline = learned.or_else(|| {
        crate::prediction::baseline_in_force(prediction, &document.source)
            .ok()
            .flatten()
            .map(|(file, _)| file)
    });
    RecordingContext {
        layout_ron: crate::layout::layout_to_ron(&document.layout).unwrap_or_default(),
        bindings_ron: bindings.0.as_ref().map(|(_, text)| text.clone()),
        baseline_ron: baseline.and_then(|file| {
            ron::ser::to_string_pretty(&file, ron::ser::PrettyConfig::default()).ok()
        }),
        source: ingest.source.clone(),
    }
}

fn finish_on_exit(mut exits: MessageReader<AppExit>, mut state: ResMut<RecordingState>) {
    if exits.read().next().is_some()
        && let Some(recorder) = state.recorder.take()
    {
        let path = recorder.path.clone();
        match recorder.stop() {
            Ok(finished) => info!(
                "recorded {} messages ({} bytes) to {}",
                finished.messages,
                finished.bytes,
                path.display()
            ),
            Err(error) => error!("{error}"),
        }
    }
}
