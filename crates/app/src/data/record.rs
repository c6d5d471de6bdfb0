//! Recording from the app: starts and stops the recorder thread on request (`--record FILE`,
//! the record button), with the layout, bindings and learned baseline in force written into
//! the file so that it replays on its own. Stopping (or quitting) finishes the file's index.

use std::path::PathBuf;

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;

use crate::data::predict::{AssetHealth, Prediction};
use crate::data::telemetry::{BindingsInForce, IngestStatus, LiveTap};
use crate::frame::DataSystems;
use crate::plant::{AssetSpec, PlantDocument};
use plant_twin_core::predict::baseline::collect_baseline;
use plant_twin_core::record::writer::Finished;
use plant_twin_core::record::{Recorder, RecordingContext};

pub struct RecordPlugin {
    /// Start recording into this file at once.
    pub start: Option<PathBuf>,
}

impl Plugin for RecordPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<RecordingState>()
            .add_message::<RecordIntent>()
            .add_systems(Update, apply_record_intents.in_set(DataSystems::Feed))
            .add_systems(Update, record_operator_actions.in_set(DataSystems::Observe))
            .add_systems(Last, finish_on_exit);
        if let Some(path) = &self.start {
            app.world_mut()
                .write_message(RecordIntent::Start(path.clone()));
        }
    }
}

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
    let stamp: String = plant_twin_core::record::reader::utc_text(ns)
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

fn apply_record_intents(
    mut intents: MessageReader<RecordIntent>,
    mut state: ResMut<RecordingState>,
    tap: Res<LiveTap>,
    context: ContextInForce,
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
                    state.last = Some(result.map_err(|error| error.to_string()));
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
        match Recorder::start(&path, &context.recording_context(), &tap.0) {
            Ok(recorder) => {
                info!("recording to {}", path.display());
                state.recorder = Some(recorder);
            }
            Err(error) => {
                error!("{error}");
                state.last = Some(Err(error.to_string()));
            }
        }
    }
}

/// What a recording stores beside the data: the layout, bindings and baseline in force.
#[derive(SystemParam)]
struct ContextInForce<'w, 's> {
    document: Res<'w, PlantDocument>,
    bindings: Res<'w, BindingsInForce>,
    prediction: Res<'w, Prediction>,
    ingest: Res<'w, IngestStatus>,
    models: Query<'w, 's, (&'static AssetSpec, &'static AssetHealth)>,
}

impl ContextInForce<'_, '_> {
    /// The baseline is what the models learned so far when they run (a recording started
    /// mid-session), else the baseline they will start from.
    fn recording_context(&self) -> RecordingContext {
        let learned = (!self.models.is_empty()).then(|| {
            collect_baseline(
                self.models
                    .iter()
                    .map(|(spec, health)| (&spec.0, &health.0)),
                "learned in the app before the recording started".into(),
            )
        });
        let baseline = learned.or_else(|| {
            crate::data::predict::baseline_in_force(&self.prediction, &self.document.source)
                .ok()
                .flatten()
                .map(|(file, _)| file)
        });
        RecordingContext {
            layout_ron: plant_twin_core::layout::layout_to_ron(&self.document.layout)
                .unwrap_or_default(),
            bindings_ron: self.bindings.0.as_ref().map(|(_, text)| text.clone()),
            baseline_ron: baseline.and_then(|file| {
                ron::ser::to_string_pretty(&file, ron::ser::PrettyConfig::default()).ok()
            }),
            // From the document, as the baseline: a recording started with the app may run
            // before prediction has loaded anything.
            degradation_ron: plant_twin_core::predict::degradation::attachments(
                crate::data::predict::degradation_in_force(&self.prediction, &self.document).0,
            ),
            source: self.ingest.source.clone(),
        }
    }
}

/// The operators' alarm actions go into the recording next to the data, so that a replay shows
/// who acknowledged or shelved what, when.
fn record_operator_actions(
    mut intents: MessageReader<crate::data::predict::AlarmIntent>,
    tap: Res<LiveTap>,
    prediction: Res<Prediction>,
    specs: Query<&AssetSpec>,
    clock: Res<crate::data::telemetry::DataClock>,
) {
    use crate::data::predict::{AlarmIntent, component_id};
    use plant_twin_core::record::{OPERATOR_TOPIC, OperatorAction, OperatorActionKind};
    if !tap.0.is_active() {
        intents.clear();
        return;
    }
    // Stamped like the data around it (receive time: the wall clock live).
    let now_ms = clock.now_ms();
    // The time apply_alarm_intents used: the alarms' source clock, else the wall clock.
    let time_s = if prediction.clock_s.is_finite() {
        prediction.clock_s
    } else {
        now_ms as f64 / 1000.0
    };
    let id = |entity: Entity| specs.get(entity).ok().map(|spec| spec.0.id.clone());
    let component = |entity: Entity, part| {
        specs
            .get(entity)
            .ok()
            .and_then(|spec| component_id(&spec.0, part))
    };
    for intent in intents.read() {
        let action = match intent {
            AlarmIntent::Acknowledge { asset, part } => {
                id(*asset).map(|asset_id| OperatorActionKind::Acknowledge {
                    asset: asset_id,
                    component: component(*asset, *part),
                })
            }
            AlarmIntent::AcknowledgeAll => Some(OperatorActionKind::AcknowledgeAll),
            AlarmIntent::Shelve {
                asset,
                part,
                duration_s,
            } => id(*asset).map(|asset_id| OperatorActionKind::Shelve {
                asset: asset_id,
                component: component(*asset, *part),
                duration_s: *duration_s,
            }),
            AlarmIntent::Unshelve { asset, part } => {
                id(*asset).map(|asset_id| OperatorActionKind::Unshelve {
                    asset: asset_id,
                    component: component(*asset, *part),
                })
            }
            AlarmIntent::Relearn { asset } => Some(OperatorActionKind::Relearn {
                asset: asset.and_then(id),
            }),
            AlarmIntent::SaveBaseline => None,
        };
        let Some(action) = action else { continue };
        let recorded = OperatorAction {
            time_s,
            operator: prediction.operator.clone(),
            action,
        };
        match serde_json::to_vec(&recorded) {
            Ok(payload) => tap.0.offer(OPERATOR_TOPIC, now_ms, &payload),
            Err(error) => error!("operator action not recorded: {error}"),
        }
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
