//! Live telemetry in the ECS: starts the data source (built-in simulator or MQTT), drains the
//! ingest channel once per frame into per-signal components, tracks staleness and the
//! connection, counts data problems per topic, and greys stale assets in the scene.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use crossbeam_channel::{Receiver, Sender};

use crate::data::events::{DataEvent, DataEventKind};
use crate::frame::{AppSystems, DataSystems};
use crate::plant::{AssetIndex, AssetSpec, PlantDocument};
use plant_twin_core::layout::PlantLayout;
use plant_twin_core::sim::source::spawn_simulator_source;
use plant_twin_core::sim::{SimConfig, Simulator};
use plant_twin_core::telemetry::bindings::{TopicResolver, bindings_path_for, load_bindings};
use plant_twin_core::telemetry::decoder::Decoder;
use plant_twin_core::telemetry::market::MarketValue;
use plant_twin_core::telemetry::mqtt::{IngestHandle, MqttConfig, spawn_mqtt_ingest};
use plant_twin_core::telemetry::{
    ConnectionEvent, DataProblem, IngestEvent, ProblemKind, Quality, Sample, Topic, now_ms,
};

/// Points of history kept per signal for trends (at 1 Hz: 10 minutes).
pub const DEFAULT_HISTORY: usize = 600;
/// Capacity of the ingest channel, in events; enough for seconds of a large plant.
const CHANNEL_CAPACITY: usize = 65_536;

/// Where live data comes from.
#[derive(Debug, Clone)]
pub enum SourceConfig {
    /// The plant simulator inside the app (the default: no broker needed).
    Simulator { sim: SimConfig, rate_hz: f64 },
    /// A real MQTT broker.
    Mqtt(MqttConfig),
    /// Events are sent by the caller through [`ManualFeed`] (tests, replays).
    Manual,
}

impl SourceConfig {
    /// The source as the status bar and recordings name it.
    pub fn name(&self) -> String {
        match self {
            SourceConfig::Simulator { .. } => plant_twin_core::sim::source::SIMULATOR_SOURCE.into(),
            SourceConfig::Mqtt(config) => config.url.to_string(),
            SourceConfig::Manual => "manual".into(),
        }
    }
}

pub struct LivePlugin {
    pub source: SourceConfig,
    /// Bindings file; default: `<layout>.bindings.ron` next to the layout when it exists.
    pub bindings: Option<PathBuf>,
    pub history: usize,
}

impl Plugin for LivePlugin {
    fn build(&self, app: &mut App) {
        let (sender, receiver) = crossbeam_channel::bounded(CHANNEL_CAPACITY);
        if matches!(self.source, SourceConfig::Manual) {
            app.insert_resource(ManualFeed(sender.clone()));
        }
        app.insert_resource(IngestFeed {
            config: self.source.clone(),
            bindings: self.bindings.clone(),
            sender,
            receiver,
            handle: None,
            previous: None,
        })
        .init_resource::<LiveTap>()
        .init_resource::<DataClock>()
        .init_resource::<PendingEvents>()
        .init_resource::<BindingsInForce>()
        .add_message::<UseSource>()
        .insert_resource(HistoryCapacity(self.history.max(2)))
        .insert_resource(HistoryEpoch(now_ms()))
        // Named now, not when the source starts: a recording started in the first frame
        // stores it.
        .insert_resource(IngestStatus {
            source: self.source.name(),
            ..IngestStatus::default()
        })
        .init_resource::<FrameSamples>()
        .init_resource::<FrameMarket>()
        .init_resource::<IngestPacing>()
        .init_resource::<MarketFeeds>()
        .add_message::<DataEvent>()
        .add_systems(
            Update,
            (
                switch_source,
                restart_source.run_if(resource_changed::<PlantDocument>),
                attach_live_components,
                drain_ingest,
                update_freshness,
                update_rates,
            )
                .chain()
                .in_set(DataSystems::Ingest),
        )
        .add_systems(
            Update,
            grey_stale_assets
                .run_if(resource_exists::<Assets<StandardMaterial>>)
                .in_set(AppSystems::Presentation),
        )
        .add_systems(Last, stop_source_on_exit);
    }
}

/// The samples applied this frame, in arrival order, with the asset's layout position: for
/// systems that must see every sample (the detectors), not only the latest value.
#[derive(Resource, Debug, Default)]
pub struct FrameSamples(pub Vec<plant_twin_core::telemetry::Sample>);

/// Live prices and carbon intensities received this frame (the tariff's feeds).
#[derive(Resource, Debug, Default)]
pub struct FrameMarket(pub Vec<MarketValue>);

/// The price and carbon topics every decoder listens to, live and in replay (set from the
/// tariff by the energy plugin; none by default).
#[derive(Resource, Debug, Default, Clone)]
pub struct MarketFeeds(pub Vec<plant_twin_core::telemetry::market::MarketFeed>);

/// How a window spreads a burst of live data over its frames. A source that publishes the
/// whole plant at once (the built-in simulator, a gateway that polls every tag each second)
/// would otherwise put all of it into one frame: at 10,000 assets that frame spent 50-55 ms on
/// the data path and 10-19 ms more recolouring, a hitch every second in an 18 ms mean.
/// Pacing pays only while the window draws anyway (the user moves the view, something
/// animates): at rest the burst is applied in the one frame drawn for it.
#[derive(Resource, Debug, Clone, Copy, PartialEq)]
pub struct IngestPacing {
    /// Time a frame spends applying live events before it leaves the rest to the next frames;
    /// None: every event queued when the frame starts (headless runs, tests, benchmarks).
    pub frame_budget: Option<Duration>,
    /// How long a backlog may last: each frame takes at least its share of what is left, so
    /// that at the current frame rate the backlog is gone this long after it began.
    pub max_backlog: Duration,
    /// The window is at rest, drawing about once a second (set by `redraw`): a burst is
    /// applied in that one frame, since spreading it would draw several frames for it.
    pub at_rest: bool,
}

impl IngestPacing {
    /// Everything, every frame.
    pub const UNPACED: IngestPacing = IngestPacing {
        frame_budget: None,
        max_backlog: Duration::ZERO,
        at_rest: false,
    };
    /// The window's: 4 ms is a quarter of a 60 Hz frame, far more than the demo plant ever
    /// needs (45 assets); half a second keeps a once-a-second value on screen well before the
    /// next one arrives. Alarms and trends use the samples' own times, so they do not move.
    pub const WINDOW: IngestPacing = IngestPacing {
        frame_budget: Some(Duration::from_millis(4)),
        max_backlog: Duration::from_millis(500),
        at_rest: false,
    };
}

impl Default for IngestPacing {
    fn default() -> Self {
        IngestPacing::UNPACED
    }
}

/// Events a frame must apply whatever its budget: its share of `queued`, so that frames of
/// `frame` each clear it by the time the backlog is `max_backlog` old (all of it once there
/// is no time left).
pub fn backlog_share(
    queued: usize,
    backlog_age: Duration,
    frame: Duration,
    max_backlog: Duration,
) -> usize {
    let left = max_backlog.saturating_sub(backlog_age);
    if left <= frame {
        return queued;
    }
    let share = queued as f64 * frame.as_secs_f64() / left.as_secs_f64();
    (share.ceil() as usize).min(queued)
}

/// Lets tests and replays push events as if they came from a source.
#[derive(Resource, Clone)]
pub struct ManualFeed(pub Sender<IngestEvent>);

/// Events applied at the start of the next drain, before the channel: a replay decodes on the
/// world's thread and hands its events over here (a bounded channel filled and drained by the
/// same thread could block forever).
#[derive(Resource, Debug, Default)]
pub struct PendingEvents(pub Vec<IngestEvent>);

/// Where the ingest threads offer raw messages to a recorder.
#[derive(Resource, Clone, Default)]
pub struct LiveTap(pub plant_twin_core::telemetry::tap::RecordTap);

/// The bindings file the current decoder was built from (path and text), for recordings.
#[derive(Resource, Debug, Clone, Default)]
pub struct BindingsInForce(pub Option<(PathBuf, String)>);

/// "Now" for staleness, rates and ages: the wall clock live, the replay position in a replay.
#[derive(Resource, Debug, Clone, Copy, Default, PartialEq)]
pub enum DataClock {
    #[default]
    Wall,
    /// A fixed time, ms since the epoch (a replay, or a test in simulated time).
    At(i64),
}

impl DataClock {
    pub fn now_ms(&self) -> i64 {
        match self {
            DataClock::Wall => now_ms(),
            DataClock::At(ms) => *ms,
        }
    }
}

/// Replaces the data source (the old one stops; a replay switches to `Manual`). `None` goes
/// back to the source in force before the last switch (closing a replay).
#[derive(Message, Debug, Clone)]
pub struct UseSource(pub Option<SourceConfig>);

#[derive(Resource)]
struct IngestFeed {
    config: SourceConfig,
    bindings: Option<PathBuf>,
    sender: Sender<IngestEvent>,
    receiver: Receiver<IngestEvent>,
    handle: Option<IngestHandle>,
    /// The source before the last switch.
    previous: Option<SourceConfig>,
}

/// Points of trend history kept per signal.
#[derive(Resource, Debug, Clone, Copy)]
pub struct HistoryCapacity(pub usize);

/// Time zero of the trend histories, ms since the Unix epoch (when the app started).
#[derive(Resource, Debug, Clone, Copy)]
pub struct HistoryEpoch(pub i64);

impl HistoryEpoch {
    /// The wall-clock time of a history point, ms since the Unix epoch.
    pub fn time_ms(&self, offset: u32) -> i64 {
        self.0 + offset as i64
    }
}

/// One signal's live state.
#[derive(Debug, Clone, Default)]
pub struct LiveSignal {
    pub value: Option<f64>,
    pub quality: Quality,
    /// Source time of the value, ms since the epoch.
    pub time_ms: i64,
    /// When it arrived here, ms since the epoch.
    pub received_ms: i64,
    /// Recent values, oldest first: (received, in ms after [`HistoryEpoch`], value). Eight
    /// bytes a point, allocated at the first value: 600 points of 40,000 signals are 190 MB.
    pub history: VecDeque<(u32, f32)>,
    /// Points ever pushed to `history` (replay checkpoints store only what is new).
    pub pushed: u64,
}

impl LiveSignal {
    /// The latest value and counters, without the trend history.
    pub fn clone_without_history(&self) -> LiveSignal {
        LiveSignal {
            value: self.value,
            quality: self.quality,
            time_ms: self.time_ms,
            received_ms: self.received_ms,
            history: VecDeque::new(),
            pushed: self.pushed,
        }
    }

    /// Takes a sample as the latest value and appends it to the trend, which keeps at most
    /// `capacity` points (`offset_ms`: its receive time after [`HistoryEpoch`]).
    fn record(&mut self, sample: &Sample, received_ms: i64, offset_ms: u32, capacity: usize) {
        self.value = Some(sample.value);
        self.quality = sample.quality;
        self.time_ms = sample.time_ms;
        self.received_ms = received_ms;
        if self.history.capacity() == 0 {
            self.history.reserve_exact(capacity);
        }
        if self.history.len() >= capacity {
            self.history.pop_front();
        }
        self.history.push_back((offset_ms, sample.value as f32));
        self.pushed += 1;
    }
}

/// The live values of an asset's signals, in the layout's signal order.
#[derive(Component, Debug, Clone, Default)]
pub struct LiveSignals(pub Vec<LiveSignal>);

/// Is the asset's data current?
#[derive(Component, Debug, Clone, Default, PartialEq)]
pub struct Freshness {
    /// When the last sample of any signal arrived, ms since the epoch.
    pub last_received_ms: Option<i64>,
    pub stale: bool,
    /// Why the asset is known dead (a Sparkplug death), if it is.
    pub dead: Option<String>,
}

impl Freshness {
    /// Seconds since the last data, if any arrived.
    pub fn age_s(&self, now_ms: i64) -> Option<f64> {
        self.last_received_ms
            .map(|t| (now_ms - t).max(0) as f64 / 1000.0)
    }

    /// Data arrived at `received_ms`: the asset is heard from, and alive.
    fn heard_at(&mut self, received_ms: i64) {
        if self.last_received_ms.is_none_or(|t| t < received_ms) {
            self.last_received_ms = Some(received_ms);
        }
        if self.dead.is_some() {
            self.dead = None;
        }
    }
}

/// Connection state as the UI shows it.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    #[default]
    Idle,
    Connecting,
    Connected,
    Reconnecting,
    Stopped,
}

/// Counters of one topic.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TopicCounters {
    pub messages: u64,
    pub samples: u64,
    pub problems: BTreeMap<ProblemKind, u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_problem: Option<String>,
}

/// The data source's state and counters.
#[derive(Resource, Debug, Clone, Default)]
pub struct IngestStatus {
    pub source: String,
    pub state: LinkState,
    /// When the current state began, ms since the epoch.
    pub since_ms: i64,
    pub last_error: Option<(i64, String)>,
    pub reconnect_attempt: u32,
    pub subscriptions: Vec<String>,
    pub messages: u64,
    pub samples: u64,
    pub problems: u64,
    pub messages_per_s: f64,
    pub samples_per_s: f64,
    /// By topic. Hashed with foldhash, not SipHash: a 10,000-asset plant counts about 40,000
    /// messages a second here, and no one outside chooses what collides in a diagnostic map.
    pub topics: HashMap<Topic, TopicCounters, bevy::platform::hash::FixedHasher>,
    /// Recent connection events, newest last.
    pub log: VecDeque<(i64, String)>,
    /// The traffic baseline's latest findings, newest last (bounded), and how many in all.
    pub security: VecDeque<plant_twin_core::telemetry::traffic::SecurityEvent>,
    pub security_events: u64,
    /// The broker is reached without TLS over a network: said in the status bar.
    pub plaintext_over_network: bool,
    /// The link has been up at least once (a broker source that never connected is a failed
    /// headless run).
    pub ever_connected: bool,
    /// Events left in the channel after the last frame's drain (see [`IngestPacing`]).
    pub backlog_events: usize,
    window_start_ms: i64,
    window_messages: u64,
    window_samples: u64,
}

impl IngestStatus {
    /// Counts a decoded message and its samples, in total and for its topic.
    fn count_message(&mut self, topic: Topic, samples: usize) {
        self.messages += 1;
        self.window_messages += 1;
        self.samples += samples as u64;
        self.window_samples += samples as u64;
        // One lookup: the name is shared (interned by the decoder), so the key costs nothing.
        let counters = self.topics.entry(topic).or_default();
        counters.messages += 1;
        counters.samples += samples as u64;
    }

    /// Counts a data problem (and its message, when nothing of it was used); returns how many
    /// problems of this kind its topic has had.
    fn count_problem(&mut self, problem: &DataProblem) -> u64 {
        self.problems += 1;
        if problem.unused_message {
            self.messages += 1;
            self.window_messages += 1;
        }
        // Look up before inserting: a problem's topic is a string of its own, copied into
        // the map once.
        let counters = match self.topics.get_mut(problem.topic.as_str()) {
            Some(counters) => counters,
            None => self
                .topics
                .entry(problem.topic.as_str().into())
                .or_default(),
        };
        if problem.unused_message {
            counters.messages += 1;
        }
        let count = counters.problems.entry(problem.kind).or_insert(0);
        *count += 1;
        let count = *count;
        counters.last_problem = Some(format!("{}: {}", problem.kind, problem.detail));
        count
    }

    /// Follows the link's state and logs the change.
    fn follow_connection(&mut self, connection: &ConnectionEvent, now: i64) {
        let line = match connection {
            ConnectionEvent::Connecting { source } => {
                self.set_state(LinkState::Connecting, now);
                format!("connecting to {source}")
            }
            ConnectionEvent::Connected { source } => {
                self.set_state(LinkState::Connected, now);
                self.reconnect_attempt = 0;
                self.ever_connected = true;
                info!("connected to {source}");
                format!("connected to {source}")
            }
            ConnectionEvent::Subscribed { filters } => {
                self.subscriptions = filters.clone();
                format!("subscribed to {}", filters.join(", "))
            }
            ConnectionEvent::Lost { reason } => {
                self.last_error = Some((now, reason.clone()));
                // Also on stderr: a headless run against a broker it cannot reach must say so.
                warn!("{}: connection lost: {reason}", self.source);
                format!("connection lost: {reason}")
            }
            ConnectionEvent::Reconnecting { attempt, delay_ms } => {
                self.set_state(LinkState::Reconnecting, now);
                self.reconnect_attempt = *attempt;
                format!(
                    "reconnecting (attempt {attempt}) in {:.1} s",
                    *delay_ms as f64 / 1000.0
                )
            }
            ConnectionEvent::Stopped => {
                self.set_state(LinkState::Stopped, now);
                "source stopped".to_string()
            }
            ConnectionEvent::CommandSent { topic } => format!("command sent: {topic}"),
        };
        self.log(now, line);
    }

    fn set_state(&mut self, state: LinkState, now: i64) {
        if self.state != state {
            self.state = state;
            self.since_ms = now;
        }
    }

    fn log(&mut self, now: i64, line: String) {
        self.log.push_back((now, line));
        while self.log.len() > 50 {
            self.log.pop_front();
        }
    }

    /// Topics with at least one problem, worst first.
    pub fn problem_topics(&self) -> Vec<(&Topic, &TopicCounters)> {
        let mut topics: Vec<_> = self
            .topics
            .iter()
            .filter(|(_, counters)| !counters.problems.is_empty())
            .collect();
        let total = |c: &TopicCounters| c.problems.values().sum::<u64>();
        topics.sort_by(|a, b| total(b.1).cmp(&total(a.1)).then(a.0.cmp(b.0)));
        topics
    }
}

/// Builds the decoder for a layout: default bindings plus the bindings file, if any.
pub fn decoder_for(
    layout: &PlantLayout,
    layout_path: Option<&std::path::Path>,
    bindings: Option<&std::path::Path>,
) -> Result<Decoder, String> {
    let resolver = match bindings_file_for(layout_path, bindings) {
        Some(path) => {
            let file = load_bindings(&path, layout).map_err(|e| e.to_string())?;
            TopicResolver::with_file(layout, &file).map_err(|e| e.to_string())?
        }
        None => TopicResolver::from_layout(layout),
    };
    Ok(Decoder::new(resolver))
}

/// The bindings file in force: the explicit one, else the layout's companion file if it exists.
fn bindings_file_for(
    layout_path: Option<&std::path::Path>,
    bindings: Option<&std::path::Path>,
) -> Option<PathBuf> {
    let explicit = bindings.map(std::path::Path::to_path_buf);
    let beside = layout_path
        .map(bindings_path_for)
        .filter(|path| path.is_file());
    explicit.or(beside)
}

fn switch_source(
    mut requests: MessageReader<UseSource>,
    mut feed: ResMut<IngestFeed>,
    mut document: ResMut<PlantDocument>,
    mut status: ResMut<IngestStatus>,
) {
    if let Some(UseSource(config)) = requests.read().last() {
        let config = match config.clone().or_else(|| feed.previous.take()) {
            Some(config) => config,
            None => return,
        };
        feed.previous = Some(std::mem::replace(&mut feed.config, config));
        // The counters and link state belong to the old source.
        *status = IngestStatus::default();
        // Restarting is what a new document does; the layout itself is unchanged.
        document.set_changed();
    }
}

fn restart_source(
    mut feed: ResMut<IngestFeed>,
    document: Res<PlantDocument>,
    mut status: ResMut<IngestStatus>,
    tap: Res<LiveTap>,
    mut bindings_in_force: ResMut<BindingsInForce>,
    market_feeds: Res<MarketFeeds>,
) {
    // Events of the old layout would address the wrong assets: stopping drops them too.
    if let Some(mut handle) = feed.handle.take() {
        handle.stop(&feed.receiver);
    }
    while feed.receiver.try_recv().is_ok() {}
    let now = now_ms();
    let layout_path = match &document.source {
        crate::plant::LayoutSource::File(path) => Some(path.as_path()),
        crate::plant::LayoutSource::BuiltInDemo => None,
    };
    bindings_in_force.0 = bindings_file_for(layout_path, feed.bindings.as_deref())
        .and_then(|path| Some((path.clone(), std::fs::read_to_string(path).ok()?)));
    let decoder = match decoder_for(&document.layout, layout_path, feed.bindings.as_deref()) {
        Ok(decoder) => decoder.with_market_feeds(market_feeds.0.clone()),
        Err(error) => {
            error!("bindings not loaded: {error}");
            status.last_error = Some((now, error.to_string()));
            return;
        }
    };
    status.source = feed.config.name();
    status.plaintext_over_network = matches!(
        &feed.config,
        SourceConfig::Mqtt(config) if config.url.plaintext_over_network()
    );
    let started = match feed.config.clone() {
        SourceConfig::Simulator { sim, rate_hz } => {
            let simulator = Simulator::new(&document.layout, sim);
            spawn_simulator_source(
                simulator,
                decoder,
                rate_hz,
                feed.sender.clone(),
                tap.0.clone(),
            )
            .map(Some)
        }
        SourceConfig::Mqtt(config) => {
            spawn_mqtt_ingest(config, decoder, feed.sender.clone(), tap.0.clone()).map(Some)
        }
        SourceConfig::Manual => Ok(None),
    };
    match started {
        Ok(handle) => feed.handle = handle,
        Err(error) => {
            error!("data source not started: {error}");
            status.last_error = Some((now, error.to_string()));
        }
    }
}

fn stop_source_on_exit(mut exits: MessageReader<AppExit>, mut feed: ResMut<IngestFeed>) {
    if exits.read().next().is_some()
        && let Some(mut handle) = feed.handle.take()
    {
        handle.stop(&feed.receiver);
    }
}

fn attach_live_components(
    mut commands: Commands,
    new_assets: Query<(Entity, &AssetSpec), Without<LiveSignals>>,
) {
    for (entity, spec) in &new_assets {
        let signals = vec![LiveSignal::default(); spec.0.signals.len()];
        commands
            .entity(entity)
            .insert((LiveSignals(signals), Freshness::default()));
    }
}

/// Rate limit for repeated problem events of one kind on one topic.
const PROBLEM_EVENT_INTERVAL_MS: i64 = 10_000;

/// Where a frame's ingest events come from: what a replay or a test queued, then the source's
/// channel, paced; stamped by the data clock.
#[derive(SystemParam)]
struct IngestInput<'w, 's> {
    feed: Res<'w, IngestFeed>,
    pending: ResMut<'w, PendingEvents>,
    clock: Res<'w, DataClock>,
    pacing: Res<'w, IngestPacing>,
    time: Res<'w, Time<Real>>,
    /// When the drain first left events in the channel, while it still does.
    backlog_since: Local<'s, Option<Instant>>,
}

impl IngestInput<'_, '_> {
    /// Starts this frame's drain: everything a replay or test queued, then from the channel
    /// as many events as the pacing allows, never more than were queued when the frame began
    /// (a source faster than the drain must not hold the frame).
    fn begin(&mut self) -> FrameDrain {
        let queued = self.feed.receiver.len();
        let budget = self.pacing.frame_budget.filter(|_| !self.pacing.at_rest);
        let must = match (budget, *self.backlog_since) {
            (None, _) => queued,
            (Some(_), None) => 0,
            (Some(_), Some(since)) => backlog_share(
                queued,
                since.elapsed(),
                self.time.delta(),
                self.pacing.max_backlog,
            ),
        };
        FrameDrain {
            pending: std::mem::take(&mut self.pending.0).into_iter(),
            queued,
            must,
            taken: 0,
            deadline: budget.map(|budget| Instant::now() + budget),
        }
    }

    /// The next event of this frame, if the pacing allows one more. The budget counts the
    /// events' processing, done between two calls.
    fn next(&mut self, drain: &mut FrameDrain) -> Option<IngestEvent> {
        if let Some(event) = drain.pending.next() {
            return Some(event);
        }
        if drain.taken >= drain.queued {
            return None;
        }
        // The clock is read every few events: a read costs about as much as a small event.
        if drain.taken >= drain.must
            && drain.taken.is_multiple_of(8)
            && drain
                .deadline
                .is_some_and(|deadline| Instant::now() >= deadline)
        {
            return None;
        }
        let event = self.feed.receiver.try_recv().ok()?;
        drain.taken += 1;
        Some(event)
    }

    /// Ends the frame's drain; returns how many queued events were left for the next frames.
    fn finish(&mut self, drain: FrameDrain) -> usize {
        let left = drain.queued.saturating_sub(drain.taken);
        *self.backlog_since = if left > 0 {
            Some(self.backlog_since.unwrap_or_else(Instant::now))
        } else {
            None
        };
        left
    }
}

/// One frame's progress through the ingest events (see [`IngestInput::begin`]).
struct FrameDrain {
    pending: std::vec::IntoIter<IngestEvent>,
    /// Events in the channel when the frame began.
    queued: usize,
    /// Of them, how many this frame must take whatever its budget (its share of a backlog).
    must: usize,
    taken: usize,
    deadline: Option<Instant>,
}

/// How trends are kept: points per signal, and the epoch their offsets count from.
#[derive(SystemParam)]
struct TrendSettings<'w> {
    capacity: Res<'w, HistoryCapacity>,
    epoch: Res<'w, HistoryEpoch>,
}

/// The assets' live components, by layout position.
#[derive(SystemParam)]
struct LiveAssets<'w, 's> {
    index: Res<'w, AssetIndex>,
    assets: Query<'w, 's, (&'static mut LiveSignals, &'static mut Freshness)>,
}

impl LiveAssets<'_, '_> {
    fn get_mut(&mut self, position: u32) -> Option<(Mut<'_, LiveSignals>, Mut<'_, Freshness>)> {
        let entity = self.index.at(position)?;
        self.assets.get_mut(entity).ok()
    }
}

/// Security events kept for the diagnostics window.
const SECURITY_LOG_CAPACITY: usize = 200;

fn drain_ingest(
    mut input: IngestInput,
    trend: TrendSettings,
    mut assets: LiveAssets,
    mut status: ResMut<IngestStatus>,
    mut events: MessageWriter<DataEvent>,
    mut last_problem_event: Local<HashMap<(String, ProblemKind), i64>>,
    frame: (ResMut<FrameSamples>, ResMut<FrameMarket>),
) {
    let now = input.clock.now_ms();
    let (mut frame_samples, mut frame_market) = frame;
    frame_samples.0.clear();
    frame_market.0.clear();
    let mut drain = input.begin();
    while let Some(event) = input.next(&mut drain) {
        match event {
            IngestEvent::Samples {
                topic,
                received_ms,
                samples,
            } => {
                status.count_message(topic, samples.len());
                for sample in samples {
                    let Some((mut live, mut freshness)) = assets.get_mut(sample.signal.asset)
                    else {
                        continue;
                    };
                    let Some(signal) = live.0.get_mut(sample.signal.signal as usize) else {
                        continue;
                    };
                    let offset_ms = (received_ms - trend.epoch.0).clamp(0, u32::MAX as i64) as u32;
                    signal.record(&sample, received_ms, offset_ms, trend.capacity.0);
                    freshness.heard_at(received_ms);
                    frame_samples.0.push(sample);
                }
            }
            IngestEvent::Problem(problem) => {
                let count = status.count_problem(&problem);
                let key = (problem.topic.clone(), problem.kind);
                let due = last_problem_event
                    .get(&key)
                    .is_none_or(|last| now - last >= PROBLEM_EVENT_INTERVAL_MS);
                if due {
                    last_problem_event.insert(key, now);
                    events.write(DataEvent {
                        time_ms: now,
                        kind: DataEventKind::DataProblem {
                            topic: problem.topic,
                            problem: problem.kind,
                            detail: problem.detail,
                            count,
                        },
                    });
                }
            }
            IngestEvent::Security(event) => {
                warn!(
                    "security: {} from {}: {}",
                    event.kind.label(),
                    event.source,
                    event.detail
                );
                events.write(DataEvent {
                    time_ms: event.time_ms,
                    kind: DataEventKind::Security {
                        kind: event.kind,
                        source: event.source.clone(),
                        detail: event.detail.clone(),
                    },
                });
                status.security_events += 1;
                if status.security.len() >= SECURITY_LOG_CAPACITY {
                    status.security.pop_front();
                }
                status.security.push_back(event);
            }
            IngestEvent::Market(value) => frame_market.0.push(value),
            IngestEvent::Liveness(liveness) => {
                for position in &liveness.assets {
                    if let Some((_, mut freshness)) = assets.get_mut(*position) {
                        freshness.dead = (!liveness.alive).then(|| liveness.reason.clone());
                    }
                }
            }
            IngestEvent::Connection(connection) => {
                status.follow_connection(&connection, now);
                events.write(DataEvent {
                    time_ms: now,
                    kind: DataEventKind::Connection(connection),
                });
            }
        }
    }
    status.backlog_events = input.finish(drain);
}

/// Marks assets stale when their data is older than their `stale_after_s` or their node died.
fn update_freshness(
    mut assets: Query<(&AssetSpec, &mut Freshness)>,
    mut events: MessageWriter<DataEvent>,
    clock: Res<DataClock>,
) {
    let now = clock.now_ms();
    for (spec, mut freshness) in &mut assets {
        // An asset without a `telemetry:` line may still be fed (Sparkplug B devices are
        // matched by name): it goes stale like any other, after the default time.
        let stale_after_s = spec
            .0
            .telemetry
            .as_ref()
            .map_or(plant_twin_core::layout::DEFAULT_STALE_AFTER_S, |binding| {
                binding.stale_after_s
            });
        let timeout_ms = (stale_after_s as f64 * 1000.0) as i64;
        let old = freshness
            .last_received_ms
            .is_some_and(|t| now - t > timeout_ms);
        let stale = old || freshness.dead.is_some();
        if stale != freshness.stale {
            freshness.stale = stale;
            let kind = if stale {
                DataEventKind::Stale {
                    asset: spec.0.id.clone(),
                    last_data_ms: freshness.last_received_ms,
                    reason: freshness
                        .dead
                        .clone()
                        .unwrap_or_else(|| format!("no data for more than {stale_after_s} s")),
                }
            } else {
                DataEventKind::Fresh {
                    asset: spec.0.id.clone(),
                }
            };
            events.write(DataEvent { time_ms: now, kind });
        }
    }
}

/// The span the message and sample rates are counted over, ms.
const RATE_WINDOW_MS: i64 = 5000;

fn update_rates(mut status: ResMut<IngestStatus>, clock: Res<DataClock>) {
    let now = clock.now_ms();
    if status.window_start_ms == 0 {
        status.window_start_ms = now;
        return;
    }
    // The first rate after a second, then one every few seconds: a rate counted over single
    // seconds moves with where the frames fall, and each new figure redraws a window that
    // would otherwise rest (see `redraw`).
    let window_ms = if status.messages_per_s == 0.0 && status.samples_per_s == 0.0 {
        1000
    } else {
        RATE_WINDOW_MS
    };
    let elapsed = now - status.window_start_ms;
    if elapsed >= window_ms {
        let seconds = elapsed as f64 / 1000.0;
        status.messages_per_s = status.window_messages as f64 / seconds;
        status.samples_per_s = status.window_samples as f64 / seconds;
        status.window_messages = 0;
        status.window_samples = 0;
        status.window_start_ms = now;
    }
}

/// On a mesh of a stale asset: the material it had before it was greyed.
#[derive(Component)]
pub(crate) struct PaintBeforeStale(pub(crate) Handle<StandardMaterial>);

/// On an asset whose meshes are greyed.
#[derive(Component)]
pub struct GreyedAsStale;

/// Swaps a stale asset's materials for one shared grey, and back when data returns. Runs only
/// on a change of the stale flag, so nothing is touched per frame.
#[allow(clippy::type_complexity)]
fn grey_stale_assets(
    mut commands: Commands,
    assets: Query<(Entity, &Freshness, Has<GreyedAsStale>), Changed<Freshness>>,
    // Stowed parts (`detail`) are greyed too, so they come back grey while the data is stale.
    children: Query<&Children, Allow<crate::detail::Stowed>>,
    mut meshes: Query<
        (
            &mut MeshMaterial3d<StandardMaterial>,
            Option<&PaintBeforeStale>,
        ),
        Allow<crate::detail::Stowed>,
    >,
    mut materials: ResMut<Assets<StandardMaterial>>,
    mut grey: Local<Option<Handle<StandardMaterial>>>,
) {
    for (asset, freshness, greyed) in &assets {
        if freshness.stale == greyed {
            continue;
        }
        let grey = grey
            .get_or_insert_with(|| {
                materials.add(StandardMaterial {
                    base_color: Color::srgb(0.46, 0.47, 0.49),
                    perceptual_roughness: 0.95,
                    ..default()
                })
            })
            .clone();
        for entity in children.iter_descendants(asset) {
            let Ok((mut material, before)) = meshes.get_mut(entity) else {
                continue;
            };
            if freshness.stale {
                commands
                    .entity(entity)
                    .insert(PaintBeforeStale(material.0.clone()));
                material.0 = grey.clone();
            } else if let Some(before) = before {
                material.0 = before.0.clone();
                commands.entity(entity).remove::<PaintBeforeStale>();
            }
        }
        if freshness.stale {
            commands.entity(asset).insert(GreyedAsStale);
        } else {
            commands.entity(asset).remove::<GreyedAsStale>();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backlog_share;
    use std::time::Duration;

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn a_backlog_is_shared_out_over_the_frames_left_and_taken_whole_when_time_is_up() {
        // 500 ms left at 100 ms a frame: a fifth now, rounded up.
        assert_eq!(backlog_share(1000, ms(0), ms(100), ms(500)), 200);
        assert_eq!(backlog_share(3, ms(0), ms(100), ms(500)), 1);
        // 200 ms left: half.
        assert_eq!(backlog_share(1000, ms(300), ms(100), ms(500)), 500);
        // No more than one frame left, or past the bound: all of it.
        assert_eq!(backlog_share(1000, ms(400), ms(100), ms(500)), 1000);
        assert_eq!(backlog_share(1000, ms(900), ms(100), ms(500)), 1000);
        // A first frame (no measured frame time yet) need take nothing.
        assert_eq!(backlog_share(1000, ms(0), ms(0), ms(500)), 0);
        assert_eq!(backlog_share(0, ms(0), ms(100), ms(500)), 0);
    }
}
