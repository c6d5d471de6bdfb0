//! Replays a recording through the same decoder, live plugin, detectors and alarms as live data.
//!
//! Opening runs on a named thread (`recording-loader`) that reads and indexes the file while
//! the UI shows progress. The replay then owns a position on the recording's clock: each frame
//! it decodes the messages up to the new position (play at 0.1x to 100x, as fast as possible,
//! or a seek target) within a time budget, hands the events to the live plugin, and sets the
//! [`DataClock`] so staleness and ages follow the recording, not the wall clock.
//!
//! Seeking is exact: every `checkpoint_interval` of recording time the whole state the data
//! drives (signals with their trends, freshness, models, alarms, counters, the energy
//! account, decoder) is cloned;
//! a seek restores the last checkpoint before the target and re-runs the messages from there.
//! Prediction is deterministic on source time and does not depend on how messages are batched
//! into frames, so the result equals a continuous run (tests/it/replay.rs proves it).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::{Duration, Instant};

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use crossbeam_channel::Receiver;

use crate::data::energy::PlantEnergy;
use crate::data::events::{DataEvent, DataEventKind};
use crate::data::predict::{AlarmLog, AssetHealth, Prediction};
use crate::data::telemetry::{
    DataClock, Freshness, HistoryEpoch, IngestStatus, LiveSignals, PendingEvents, SourceConfig,
    UseSource,
};
use crate::frame::DataSystems;
use crate::plant::{AssetIndex, AssetSpec, LayoutSource, PlantDocument};
use crate::selection::{SelectAsset, SelectTarget};
use plant_twin_core::predict::{AlarmChange, Severity};
use plant_twin_core::record::replay::{
    CursorCheckpoint, Fed, ReplayCursor, recording_decoder, recording_layout,
};
use plant_twin_core::record::{Recording, RecordingError};
use plant_twin_core::telemetry::IngestEvent;

/// Speeds offered by the timeline; `None` (as fast as possible) is headless only.
pub const SPEEDS: [f64; 9] = [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 100.0];
/// Rough memory all checkpoints of a replay may take (the trend points come on top, 8 bytes
/// each); the interval widens to stay inside it.
const CHECKPOINT_BUDGET_BYTES: u64 = 2 << 30;
const MIN_CHECKPOINT_INTERVAL_MS: i64 = 10_000;

pub struct ReplayPlugin {
    /// Open this recording at start.
    pub open: Option<PathBuf>,
    /// Playback speed; `None` plays as fast as possible (headless).
    pub speed: Option<f64>,
    /// After opening, run through the whole file once (with progress) to place the alarm
    /// markers and checkpoints, then start from the beginning. The GUI does this.
    pub index_on_open: bool,
    /// Decoding time per frame while catching up (seek, as fast as possible).
    pub frame_budget: Duration,
}

impl Default for ReplayPlugin {
    fn default() -> Self {
        ReplayPlugin {
            open: None,
            speed: Some(1.0),
            index_on_open: false,
            frame_budget: Duration::from_millis(30),
        }
    }
}

impl Plugin for ReplayPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(ReplayState {
            settings: ReplaySettings {
                speed: self.speed,
                index_on_open: self.index_on_open,
                frame_budget: self.frame_budget,
            },
            loading: None,
            session: None,
            error: None,
            before: None,
        })
        .add_message::<ReplayIntent>()
        .add_systems(
            Update,
            (
                finish_loading,
                close_replay,
                apply_intents,
                restore_checkpoint,
                feed,
                apply_operator_actions,
            )
                .chain()
                .in_set(DataSystems::Feed),
        )
        .add_systems(
            Update,
            (collect_markers, capture_checkpoint)
                .chain()
                .in_set(DataSystems::Observe),
        );
        if let Some(path) = &self.open {
            app.world_mut()
                .write_message(ReplayIntent::Open(path.clone()));
        }
    }
}

/// What a user (or a test) asks of the replay.
#[derive(Message, Debug, Clone, PartialEq)]
pub enum ReplayIntent {
    Open(PathBuf),
    Play,
    Pause,
    TogglePlay,
    /// `None`: as fast as possible.
    SetSpeed(Option<f64>),
    /// Go to a time, ms since the epoch (clamped to the recording).
    Seek(i64),
    /// Move by this many ms (negative: back).
    Step(i64),
    NextAlarm,
    PreviousAlarm,
    /// Leave the replay: back to the plant and data source in force before it was opened.
    Close,
}

#[derive(Debug, Clone, Copy)]
struct ReplaySettings {
    speed: Option<f64>,
    index_on_open: bool,
    frame_budget: Duration,
}

/// The replay, as the UI and tests see it.
#[derive(Resource)]
pub struct ReplayState {
    settings: ReplaySettings,
    pub loading: Option<Loading>,
    pub session: Option<ReplaySession>,
    /// The last failure to open, for the UI.
    pub error: Option<String>,
    /// The plant the first replay replaced, to go back to.
    before: Option<PlantDocument>,
}

impl ReplayState {
    /// A replay is open (or opening): the data comes from a file, the plant is read-only.
    pub fn active(&self) -> bool {
        self.loading.is_some() || self.session.is_some()
    }
}

/// A file being read and indexed on its own thread.
pub struct Loading {
    pub path: PathBuf,
    /// Per mille of the file indexed.
    pub progress: Arc<AtomicU32>,
    result: Receiver<Result<Recording, RecordingError>>,
}

/// Where a marker sits on the timeline.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AlarmMarker {
    pub time_ms: i64,
    pub severity: Severity,
    pub asset: String,
    pub component: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The recording's plant is being spawned.
    WaitingForPlant,
    Ready,
}

/// An open recording and the replay's position in it.
pub struct ReplaySession {
    /// Where in the file the next message is, and the decoder (core's, without ECS).
    cursor: ReplayCursor,
    /// First and last receive time, ms since the epoch.
    pub start_ms: i64,
    pub end_ms: i64,
    /// Every message received at or before this time has been applied.
    pub position_ms: i64,
    pub playing: bool,
    pub speed: Option<f64>,
    /// Catching up to this time as fast as the budget allows (a seek).
    pub target_ms: Option<i64>,
    /// The first pass through the file after opening (places markers and checkpoints).
    pub indexing: bool,
    pub markers: BTreeSet<AlarmMarker>,
    checkpoints: Vec<Checkpoint>,
    checkpoint_interval_ms: i64,
    /// A checkpoint is due at the end of this frame (the feed stopped on its boundary).
    checkpoint_due: bool,
    /// A seek asked for the state of this checkpoint.
    restore: Option<usize>,
    phase: Phase,
    batch: Vec<IngestEvent>,
    /// Operator actions read this frame, applied after its data (as in the recorded run).
    actions: Vec<plant_twin_core::record::OperatorAction>,
}

/// Everything the data drives, at one position of the recording.
struct Checkpoint {
    position_ms: i64,
    cursor: CursorCheckpoint,
    /// Per asset position in the layout; the signals without their trend histories.
    assets: Vec<Option<(LiveSignals, Freshness, AssetHealth)>>,
    /// Per asset and signal: the trend points pushed since the previous checkpoint. Histories
    /// are most of the state (600 points a signal), and consecutive checkpoints share most of
    /// them, so each point is kept once and a restore collects them backwards.
    new_points: Vec<Vec<Vec<(u32, f32)>>>,
    alarm_log: AlarmLog,
    ingest: IngestStatus,
    prediction_clock_s: f64,
    /// The energy account and when it last restarted (None without the energy plugin).
    energy: Option<(Option<plant_twin_core::energy::EnergyAccount>, Option<i64>)>,
}

impl ReplaySession {
    pub fn recording(&self) -> &Recording {
        self.cursor.recording()
    }

    /// Messages decoded so far (including re-runs after seeks).
    pub fn messages_fed(&self) -> u64 {
        self.cursor.messages_fed
    }

    /// Chunks of the file that could not be read.
    pub fn read_errors(&self) -> u64 {
        self.cursor.read_errors
    }

    /// Where the replay is, 0 to 1.
    pub fn fraction(&self) -> f64 {
        let span = (self.end_ms - self.start_ms).max(1) as f64;
        ((self.position_ms - self.start_ms) as f64 / span).clamp(0.0, 1.0)
    }

    /// The position reached the end of the recording.
    pub fn at_end(&self) -> bool {
        self.phase == Phase::Ready && self.position_ms >= self.end_ms && self.target_ms.is_none()
    }

    /// Ready to play: the plant is spawned and the first checkpoint taken.
    pub fn ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    pub fn checkpoint_count(&self) -> usize {
        self.checkpoints.len()
    }

    /// The marker after (or before) the position, for next/previous alarm.
    pub fn adjacent_marker(&self, forward: bool) -> Option<&AlarmMarker> {
        if forward {
            self.markers.iter().find(|m| m.time_ms > self.position_ms)
        } else {
            // Not the one just jumped to: a second click goes further back.
            self.markers
                .iter()
                .rev()
                .find(|m| m.time_ms < self.position_ms)
        }
    }

    fn seek(&mut self, time_ms: i64) {
        let target = time_ms.clamp(self.start_ms, self.end_ms);
        // Restore when going back, or when a checkpoint lies between here and the target.
        let best = self
            .checkpoints
            .iter()
            .rposition(|c| c.position_ms <= target);
        if let Some(best) = best
            && (target < self.position_ms || self.checkpoints[best].position_ms > self.position_ms)
        {
            self.restore = Some(best);
        }
        self.target_ms = Some(target);
    }
}

/// Reads a recording on the `recording-loader` thread.
fn start_loading(path: &Path) -> Result<Loading, String> {
    let progress = Arc::new(AtomicU32::new(0));
    let (sender, receiver) = crossbeam_channel::bounded(1);
    let thread_path = path.to_path_buf();
    let thread_progress = progress.clone();
    std::thread::Builder::new()
        .name("recording-loader".into())
        .spawn(move || {
            let _ = sender.send(Recording::open(&thread_path, Some(&thread_progress)));
        })
        .map_err(|e| format!("cannot start the loader thread: {e}"))?;
    Ok(Loading {
        path: path.to_path_buf(),
        progress,
        result: receiver,
    })
}

/// What opening and closing a replay swap between live data and the recording: the plant, the
/// source, the stored baseline and the clocks.
#[derive(SystemParam)]
struct LiveOrReplay<'w> {
    document: ResMut<'w, PlantDocument>,
    prediction: ResMut<'w, Prediction>,
    sources: MessageWriter<'w, UseSource>,
    epoch: ResMut<'w, HistoryEpoch>,
    clock: ResMut<'w, DataClock>,
    market_feeds: Res<'w, crate::data::telemetry::MarketFeeds>,
}

fn finish_loading(mut state: ResMut<ReplayState>, mut swap: LiveOrReplay) {
    let Some(loading) = &state.loading else {
        return;
    };
    let Ok(result) = loading.result.try_recv() else {
        return;
    };
    state.loading = None;
    let opened = result.map_err(|e| e.to_string()).and_then(|recording| {
        let layout =
            recording_layout(&recording, &swap.document.layout).map_err(|e| e.to_string())?;
        let decoder = recording_decoder(&recording, &layout)
            .map_err(|e| e.to_string())?
            .with_market_feeds(swap.market_feeds.0.clone());
        Ok((recording, layout, decoder))
    });
    let (recording, layout, decoder) = match opened {
        Ok(opened) => opened,
        Err(error) => {
            error!("recording not opened: {error}");
            state.error = Some(error);
            return;
        }
    };
    let Some((start_ns, end_ns)) = recording.time_range_ns() else {
        state.error = Some(format!(
            "{}: the recording holds no messages",
            recording.path.display()
        ));
        return;
    };
    if let Some(damage) = &recording.damage {
        warn!("{}: {damage}", recording.path.display());
    }
    let start_ms = (start_ns / 1_000_000) as i64;
    let end_ms = (end_ns / 1_000_000) as i64;
    swap.prediction.baseline_override = match &recording.context.baseline_ron {
        Some(text) => match plant_twin_core::predict::baseline::parse_baseline(text) {
            Ok(file) => Some((file, format!("{} (stored)", recording.path.display()))),
            Err(issue) => {
                warn!(
                    "the baseline stored in the recording is not used: {}",
                    issue.message
                );
                None
            }
        },
        None => None,
    };
    // The recording's own degradation models, even none: a replay estimates as it did.
    swap.prediction.degradation_override = Some(recording.context.degradation_ron.clone());
    swap.sources.write(UseSource(Some(SourceConfig::Manual)));
    // The sandbox sees the open session and refuses edits on the recorded plant itself.
    if state.before.is_none() {
        state.before = Some((*swap.document).clone());
    }
    *swap.document = PlantDocument {
        layout,
        source: LayoutSource::File(recording.path.clone()),
        // The recorded plant is shown, never saved over the recording.
        text: None,
    };
    // Trend points are stored as offsets from the epoch: the recording's start.
    swap.epoch.0 = start_ms;
    *swap.clock = DataClock::At(start_ms);
    let settings = state.settings;
    let mut session = ReplaySession {
        cursor: ReplayCursor::new(Arc::new(recording), decoder),
        start_ms,
        end_ms,
        position_ms: start_ms - 1,
        playing: !settings.index_on_open,
        speed: settings.speed,
        target_ms: None,
        indexing: settings.index_on_open,
        markers: BTreeSet::new(),
        checkpoints: vec![],
        checkpoint_interval_ms: MIN_CHECKPOINT_INTERVAL_MS,
        checkpoint_due: false,
        restore: None,
        phase: Phase::WaitingForPlant,
        batch: vec![],
        actions: vec![],
    };
    if session.indexing {
        session.target_ms = Some(end_ms);
    }
    state.error = None;
    state.session = Some(session);
}

/// Back to live: the plant, source and clock from before the replay.
fn close_replay(
    mut intents: MessageReader<ReplayIntent>,
    mut state: ResMut<ReplayState>,
    mut swap: LiveOrReplay,
) {
    if !intents.read().any(|i| *i == ReplayIntent::Close) {
        return;
    }
    state.loading = None;
    state.error = None;
    if state.session.take().is_none() {
        return;
    }
    let Some(before) = state.before.take() else {
        return;
    };
    *swap.document = before;
    swap.prediction.baseline_override = None;
    swap.prediction.degradation_override = None;
    swap.sources.write(UseSource(None));
    swap.epoch.0 = plant_twin_core::telemetry::now_ms();
    *swap.clock = DataClock::Wall;
}

fn apply_intents(
    mut intents: MessageReader<ReplayIntent>,
    mut state: ResMut<ReplayState>,
    mut select: MessageWriter<SelectAsset>,
) {
    for intent in intents.read() {
        if let ReplayIntent::Open(path) = intent {
            match start_loading(path) {
                Ok(loading) => {
                    state.session = None;
                    state.error = None;
                    state.loading = Some(loading);
                }
                Err(error) => state.error = Some(error),
            }
            continue;
        }
        if *intent == ReplayIntent::Close {
            continue;
        }
        let Some(session) = state.session.as_mut() else {
            continue;
        };
        match intent {
            ReplayIntent::Open(_) | ReplayIntent::Close => {}
            ReplayIntent::Play => {
                if session.at_end() {
                    session.seek(session.start_ms);
                }
                session.playing = true;
            }
            ReplayIntent::Pause => session.playing = false,
            ReplayIntent::TogglePlay => {
                if !session.playing && session.at_end() {
                    session.seek(session.start_ms);
                }
                session.playing = !session.playing;
            }
            ReplayIntent::SetSpeed(speed) => {
                session.speed = speed.map(|s| s.clamp(SPEEDS[0], SPEEDS[SPEEDS.len() - 1]));
            }
            ReplayIntent::Seek(time_ms) => session.seek(*time_ms),
            ReplayIntent::Step(delta_ms) => {
                let from = session.target_ms.unwrap_or(session.position_ms);
                session.playing = false;
                session.seek(from + delta_ms);
            }
            ReplayIntent::NextAlarm | ReplayIntent::PreviousAlarm => {
                let forward = *intent == ReplayIntent::NextAlarm;
                if let Some(marker) = session.adjacent_marker(forward).cloned() {
                    session.seek(marker.time_ms);
                    // The operator jumped to an alarm: show its asset.
                    select.write(SelectAsset {
                        target: SelectTarget::Id(marker.asset),
                        frame: true,
                        additive: false,
                    });
                }
            }
        }
    }
}

/// Puts the world back to a checkpoint's state (a seek).
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
fn restore_checkpoint(
    mut state: ResMut<ReplayState>,
    index: Res<AssetIndex>,
    mut assets: Query<(&mut LiveSignals, &mut Freshness, &mut AssetHealth)>,
    mut log: ResMut<AlarmLog>,
    mut ingest: ResMut<IngestStatus>,
    mut prediction: ResMut<Prediction>,
    mut clock: ResMut<DataClock>,
    history_capacity: Res<crate::data::telemetry::HistoryCapacity>,
    energy: Option<ResMut<PlantEnergy>>,
) {
    let Some(session) = state.session.as_mut() else {
        return;
    };
    let Some(at) = session.restore.take() else {
        return;
    };
    let Some(checkpoint) = session.checkpoints.get(at) else {
        return;
    };
    for (position, saved) in checkpoint.assets.iter().enumerate() {
        let (Some(entity), Some((live, freshness, health))) = (index.at(position as u32), saved)
        else {
            continue;
        };
        if let Ok((mut live_now, mut freshness_now, mut health_now)) = assets.get_mut(entity) {
            for (signal, (now, saved)) in live_now.0.iter_mut().zip(&live.0).enumerate() {
                let mut history = std::mem::take(&mut now.history);
                now.clone_from(saved);
                rebuild_history(
                    &session.checkpoints[..=at],
                    position,
                    signal,
                    history_capacity.0,
                    &mut history,
                );
                now.history = history;
            }
            freshness_now.clone_from(freshness);
            health_now.clone_from(health);
        }
    }
    log.clone_from(&checkpoint.alarm_log);
    ingest.clone_from(&checkpoint.ingest);
    prediction.clock_s = checkpoint.prediction_clock_s;
    if let (Some(mut energy), Some((account, restarted_ms))) = (energy, &checkpoint.energy) {
        energy.account.clone_from(account);
        energy.restarted_ms = *restarted_ms;
    }
    session.cursor.restore(&checkpoint.cursor);
    session.position_ms = checkpoint.position_ms;
    *clock = DataClock::At(session.position_ms.max(session.start_ms));
}

fn feed(
    time: Res<Time<Real>>,
    mut state: ResMut<ReplayState>,
    mut pending: ResMut<PendingEvents>,
    mut clock: ResMut<DataClock>,
) {
    let budget = state.settings.frame_budget;
    let Some(session) = state.session.as_mut() else {
        return;
    };
    if session.phase != Phase::Ready {
        return;
    }
    let fast = session.target_ms.is_some() || (session.playing && session.speed.is_none());
    let mut goal = match (session.target_ms, session.playing, session.speed) {
        (Some(target), _, _) => target,
        (None, true, Some(speed)) => {
            let step = (time.delta_secs_f64() * speed * 1000.0).round() as i64;
            session.position_ms.max(session.start_ms) + step.max(1)
        }
        (None, true, None) => session.end_ms,
        (None, false, _) => return,
    };
    goal = goal.min(session.end_ms);
    // Stop on the next checkpoint boundary beyond the last checkpoint, so that the state at
    // the end of this frame can be kept.
    let furthest = session
        .checkpoints
        .last()
        .map_or(i64::MIN, |c| c.position_ms);
    let boundary = furthest.max(session.start_ms) + session.checkpoint_interval_ms;
    if session.position_ms < boundary && goal >= boundary && boundary < session.end_ms {
        goal = boundary;
        session.checkpoint_due = true;
    }
    let started = Instant::now();
    let mut out = std::mem::take(&mut session.batch);
    let mut reached = true;
    let mut fed = 0u32;
    let read_errors = session.cursor.read_errors;
    while let Some(next_ms) = session.cursor.next_time_ms() {
        if next_ms > goal {
            break;
        }
        // Out of time: stop between two receive times, never inside one, so the position
        // stays exact.
        if fast
            && fed.is_multiple_of(64)
            && next_ms > session.position_ms
            && started.elapsed() > budget
        {
            reached = false;
            break;
        }
        let outcome = session.cursor.feed_next(&mut out);
        session.position_ms = session.position_ms.max(next_ms);
        fed += 1;
        match outcome {
            Fed::Data | Fed::Skipped(None) => {}
            Fed::Skipped(Some(reason)) => warn!("{reason}"),
            Fed::OperatorAction(action) => {
                session.actions.push(action);
                // Applied after exactly the data that came before it, like in the recorded
                // run; the rest follows next frame.
                reached = session.cursor.next_time_ms().is_none_or(|next| next > goal);
                break;
            }
        }
    }
    if session.cursor.read_errors > read_errors
        && let Some(error) = &session.cursor.last_read_error
    {
        warn!("recording {error}");
    }
    if reached {
        session.position_ms = goal;
        if session.target_ms == Some(goal) {
            session.target_ms = None;
            if session.indexing {
                // The first pass is done: markers and checkpoints cover the file.
                session.indexing = false;
                session.seek(session.start_ms);
                session.playing = true;
            }
        }
        if session.position_ms >= session.end_ms && session.target_ms.is_none() {
            session.playing = false;
        }
    } else {
        session.checkpoint_due = false;
    }
    pending.0.append(&mut out);
    session.batch = out;
    *clock = DataClock::At(session.position_ms.max(session.start_ms));
}

/// The recorded operators' actions of this frame, as alarm intents at their recorded time.
fn apply_operator_actions(
    mut state: ResMut<ReplayState>,
    index: Res<AssetIndex>,
    specs: Query<&AssetSpec>,
    mut intents: MessageWriter<crate::data::predict::TimedAlarmIntent>,
) {
    use crate::data::predict::{AlarmIntent, TimedAlarmIntent, part_of};
    use plant_twin_core::record::OperatorActionKind;
    let Some(session) = state.session.as_mut() else {
        return;
    };
    for recorded in session.actions.drain(..) {
        let target = |asset: &str, component: &Option<String>| {
            let entity = index.get(asset)?;
            let part = part_of(&specs.get(entity).ok()?.0, component.as_deref())?;
            Some((entity, part))
        };
        let intent = match &recorded.action {
            OperatorActionKind::Acknowledge { asset, component } => target(asset, component)
                .map(|(asset, part)| AlarmIntent::Acknowledge { asset, part }),
            OperatorActionKind::AcknowledgeAll => Some(AlarmIntent::AcknowledgeAll),
            OperatorActionKind::Shelve {
                asset,
                component,
                duration_s,
            } => target(asset, component).map(|(asset, part)| AlarmIntent::Shelve {
                asset,
                part,
                duration_s: *duration_s,
            }),
            OperatorActionKind::Unshelve { asset, component } => {
                target(asset, component).map(|(asset, part)| AlarmIntent::Unshelve { asset, part })
            }
            OperatorActionKind::Relearn { asset: None } => {
                Some(AlarmIntent::Relearn { asset: None })
            }
            OperatorActionKind::Relearn { asset: Some(id) } => {
                index.get(id).map(|entity| AlarmIntent::Relearn {
                    asset: Some(entity),
                })
            }
        };
        match intent {
            Some(intent) => {
                intents.write(TimedAlarmIntent {
                    intent,
                    time_s: recorded.time_s,
                    operator: recorded.operator,
                });
            }
            None => warn!("recorded operator action for an unknown alarm: {recorded:?}"),
        }
    }
}

fn collect_markers(mut events: MessageReader<DataEvent>, mut state: ResMut<ReplayState>) {
    let Some(session) = state.session.as_mut() else {
        events.clear();
        return;
    };
    for event in events.read() {
        if let DataEventKind::Alarm {
            asset,
            component,
            change: AlarmChange::Raised { severity },
            ..
        } = &event.kind
        {
            session.markers.insert(AlarmMarker {
                time_ms: event.time_ms,
                severity: *severity,
                asset: asset.clone(),
                component: component.clone(),
            });
        }
    }
}

#[allow(clippy::type_complexity, clippy::too_many_arguments)]
fn capture_checkpoint(
    mut state: ResMut<ReplayState>,
    document: Res<PlantDocument>,
    index: Res<AssetIndex>,
    assets: Query<(&AssetSpec, &LiveSignals, &Freshness, &AssetHealth)>,
    log: Res<AlarmLog>,
    mut ingest: ResMut<IngestStatus>,
    prediction: Res<Prediction>,
    energy: Option<Res<PlantEnergy>>,
) {
    let Some(session) = state.session.as_mut() else {
        return;
    };
    let waiting = session.phase == Phase::WaitingForPlant;
    if !(waiting || session.checkpoint_due) {
        return;
    }
    session.checkpoint_due = false;
    if waiting {
        // Ready once every asset of the recording's plant has its live state and model.
        let expected = document.layout.assets.len();
        if index.by_position.len() != expected
            || index
                .by_position
                .iter()
                .any(|entity| assets.get(*entity).is_err())
        {
            return;
        }
        let signals: usize = document.layout.assets.iter().map(|a| a.signals.len()).sum();
        session.checkpoint_interval_ms =
            checkpoint_interval_ms(signals, session.end_ms - session.start_ms);
        session.phase = Phase::Ready;
        // The status bar shows the file as the data source.
        let name = session
            .recording()
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        ingest.source = format!("recording {name}");
        ingest.state = crate::data::telemetry::LinkState::Connected;
    }
    let previous = session.checkpoints.last();
    let mut saved = Vec::with_capacity(index.by_position.len());
    let mut new_points = Vec::with_capacity(index.by_position.len());
    for (position, entity) in index.by_position.iter().enumerate() {
        let Ok((_, live, freshness, health)) = assets.get(*entity) else {
            saved.push(None);
            new_points.push(vec![]);
            continue;
        };
        let before = previous
            .and_then(|c| c.assets.get(position))
            .and_then(Option::as_ref)
            .map(|(live, _, _)| &live.0);
        let mut signals = Vec::with_capacity(live.0.len());
        let mut points = Vec::with_capacity(live.0.len());
        for (i, signal) in live.0.iter().enumerate() {
            let pushed_before = before.and_then(|b| b.get(i)).map_or(0, |s| s.pushed);
            let new =
                (signal.pushed.saturating_sub(pushed_before) as usize).min(signal.history.len());
            points.push(
                signal
                    .history
                    .range(signal.history.len() - new..)
                    .copied()
                    .collect(),
            );
            signals.push(signal.clone_without_history());
        }
        saved.push(Some((
            LiveSignals(signals),
            freshness.clone(),
            health.clone(),
        )));
        new_points.push(points);
    }
    let checkpoint = Checkpoint {
        position_ms: session.position_ms,
        cursor: session.cursor.checkpoint(),
        assets: saved,
        new_points,
        alarm_log: log.clone(),
        ingest: ingest.clone(),
        prediction_clock_s: prediction.clock_s,
        energy: energy.map(|e| (e.account.clone(), e.restarted_ms)),
    };
    // Checkpoints are only taken beyond the last one, so each one's new points follow the
    // previous one's.
    if previous.is_none_or(|p| p.position_ms < checkpoint.position_ms) {
        session.checkpoints.push(checkpoint);
    }
}

/// A signal's trend history at the last of `checkpoints`: its newest `capacity` points,
/// collected backwards through the checkpoints' new points.
fn rebuild_history(
    checkpoints: &[Checkpoint],
    asset: usize,
    signal: usize,
    capacity: usize,
    history: &mut std::collections::VecDeque<(u32, f32)>,
) {
    history.clear();
    for checkpoint in checkpoints.iter().rev() {
        let Some(points) = checkpoint.new_points.get(asset).and_then(|a| a.get(signal)) else {
            break;
        };
        for point in points.iter().rev() {
            if history.len() >= capacity {
                return;
            }
            history.push_front(*point);
        }
    }
}

/// Checkpoints every 10 s of recording, or further apart when the plant is so large that all
/// of them would take more than [`CHECKPOINT_BUDGET_BYTES`].
fn checkpoint_interval_ms(signals: usize, duration_ms: i64) -> i64 {
    // A signal's state in a checkpoint: its detector, trend and alarm share of the model, and
    // its latest value (the trend points are kept once across checkpoints).
    let per_signal = 512u64;
    let per_checkpoint = (signals as u64 * per_signal).max(1);
    let affordable = (CHECKPOINT_BUDGET_BYTES / per_checkpoint).max(2) as i64;
    (duration_ms / affordable).max(MIN_CHECKPOINT_INTERVAL_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_spread_out_for_large_plants() {
        assert_eq!(
            checkpoint_interval_ms(200, 300_000),
            MIN_CHECKPOINT_INTERVAL_MS
        );
        let hour = 3_600_000;
        // An hour of 10,000 signals still fits every 10 s; an 8-hour shift does not.
        assert_eq!(
            checkpoint_interval_ms(10_000, hour),
            MIN_CHECKPOINT_INTERVAL_MS
        );
        let shift = checkpoint_interval_ms(10_000, 8 * hour);
        assert!(
            shift > MIN_CHECKPOINT_INTERVAL_MS && shift < hour / 4,
            "{shift}"
        );
    }
}
