//! The plant simulator: believable telemetry for every signal of a layout (noise, duty cycles,
//! load changes, thermal lag) with scripted faults. Deterministic for a seed. No Bevy.
//!
//! It produces MQTT-shaped messages (topic + payload) in Unified Namespace JSON or Sparkplug B,
//! so the built-in source, `plant-twin sim --mqtt` and the tests all go through the same
//! decoders as real data.

pub mod publish;
pub mod scenario;
pub mod source;

use prost::Message;

use crate::layout::{AssetKind, PlantLayout, Signal};
use crate::rng::Rng;
use crate::telemetry::sparkplug::{self, MessageType, Payload, bd_seq_metric, double_metric};
use scenario::{FaultKind, Scenario};

/// The payload format the simulator speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SimFormat {
    /// One JSON value per topic, `<asset topic>/<signal>`: `{"value": 41.2, "ts": 1732...}`.
    #[default]
    Json,
    /// Sparkplug B: one edge node per line, one device per asset.
    Sparkplug,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    pub seed: u64,
    pub format: SimFormat,
    pub scenario: &'static Scenario,
    /// Sparkplug group id.
    pub group: String,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            format: SimFormat::Json,
            scenario: &scenario::SCENARIOS[0],
            group: "plant1".into(),
        }
    }
}

/// Simulated seconds run before time 0 (see `Simulator::new`).
const WARM_S: f64 = 600.0;

/// What a signal measures, guessed from its id; decides how it moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quantity {
    Temperature,
    Vibration,
    Current,
    Power,
    Pressure,
    Flow,
    Speed,
    Level,
    Torque,
    Force,
    CycleTime,
    /// A counter of cycles or strokes: only ever goes up, while the machine runs.
    Count,
    Occupancy,
    Other,
}

fn quantity_of(signal: &Signal) -> Quantity {
    let id = signal.id.as_str();
    let has = |word: &str| id.contains(word);
    if has("temp") {
        Quantity::Temperature
    } else if has("vibration") {
        Quantity::Vibration
    } else if has("current") {
        Quantity::Current
    } else if has("power") {
        Quantity::Power
    } else if has("pressure") {
        Quantity::Pressure
    } else if has("flow") {
        Quantity::Flow
    } else if has("speed") {
        Quantity::Speed
    } else if has("level") {
        Quantity::Level
    } else if has("torque") {
        Quantity::Torque
    } else if has("force") {
        Quantity::Force
    } else if has("count") {
        Quantity::Count
    } else if has("cycle") {
        Quantity::CycleTime
    } else if has("occupancy") {
        Quantity::Occupancy
    } else {
        Quantity::Other
    }
}

#[derive(Debug, Clone)]
struct SignalModel {
    quantity: Quantity,
    low: f64,
    high: f64,
    /// How far a developing fault pushes this signal at full severity: past its upper
    /// failure limit (or a span above normal without one).
    fault_excess: f64,
    /// First-order lag state for slow quantities (temperatures).
    lagged: f64,
    last: f64,
    frozen: Option<f64>,
    /// The fault acts on this signal.
    faulted: bool,
}

#[derive(Debug, Clone)]
struct AssetModel {
    /// Duty cycle: period and the fraction of it the machine runs.
    period_s: f64,
    phase: f64,
    running_fraction: f64,
    signals: Vec<SignalModel>,
    /// Sparkplug edge node (the asset's line).
    node: String,
}

/// `base`'s assets repeated to `count`, each with its own id and topic, laid out on a grid of
/// 8 m cells over a floor grown to hold them: a large plant for benchmarks.
pub fn scaled_layout(base: &PlantLayout, count: usize) -> PlantLayout {
    let mut layout = base.clone();
    // Not the base plant's name: the title bar and recordings say which plant this is.
    layout.name = format!("{}, scaled to {count} assets", base.name);
    let columns = (count as f64).sqrt().ceil().max(1.0) as usize;
    let cell = 8.0;
    layout.floor.width = layout.floor.width.max(columns as f32 * cell + cell);
    layout.floor.depth = layout.floor.depth.max(columns as f32 * cell + cell);
    layout.zones.clear();
    layout.assets = (0..count)
        .map(|i| {
            let mut asset = base.assets[i % base.assets.len()].clone();
            asset.id = format!("{}-{i}", asset.id);
            asset.position = (
                cell * (0.5 + (i % columns) as f32) + cell / 2.0,
                cell * (0.5 + (i / columns) as f32) + cell / 2.0,
            );
            if let Some(telemetry) = asset.telemetry.as_mut() {
                telemetry.topic = format!("bench/plant/area{}/a{i}", i % 50);
            }
            asset
        })
        .collect();
    // Each whole copy of the base plant keeps its own material flows, between its own assets.
    let per_copy = base.assets.len().max(1);
    let position = |id: &str| base.assets.iter().position(|a| a.id == id);
    layout.flows = (0..count.div_ceil(per_copy))
        .flat_map(|copy| {
            let position = &position;
            base.flows.iter().filter_map(move |flow| {
                let from = copy * per_copy + position(&flow.from)?;
                let to = copy * per_copy + position(&flow.to)?;
                (from < count && to < count).then(|| crate::layout::MaterialFlow {
                    from: format!("{}-{from}", flow.from),
                    to: format!("{}-{to}", flow.to),
                    ..flow.clone()
                })
            })
        })
        .collect();
    layout
}

/// One signal's value at one step; `None` when the sensor sends nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimValue {
    pub asset: usize,
    pub signal: usize,
    pub value: f64,
}

/// The simulator of one plant.
pub struct Simulator {
    layout: PlantLayout,
    config: SimConfig,
    rng: Rng,
    assets: Vec<AssetModel>,
    target: Option<usize>,
    /// (start, ramp) seconds of the fault instead of the scenario's own.
    fault_timing: Option<(f64, f64)>,
    last_t: f64,
    /// Sparkplug session: nodes in order, whether births were sent, seq per node.
    nodes: Vec<String>,
    node_seq: Vec<u64>,
    births_sent: bool,
    node_dead: Option<String>,
    values: Vec<SimValue>,
}

impl Simulator {
    pub fn new(layout: &PlantLayout, config: SimConfig) -> Simulator {
        let mut rng = Rng(config.seed);
        let target = config.scenario.target(layout);
        let scenario = config.scenario;
        let assets: Vec<AssetModel> = layout
            .assets
            .iter()
            .enumerate()
            .map(|(index, asset)| {
                let always_on = matches!(
                    asset.kind,
                    AssetKind::Compressor
                        | AssetKind::Pump
                        | AssetKind::Tank
                        | AssetKind::StorageRack
                );
                AssetModel {
                    period_s: 60.0 + rng.unit() * 120.0,
                    phase: rng.unit(),
                    running_fraction: if always_on {
                        1.0
                    } else {
                        0.75 + rng.unit() * 0.2
                    },
                    node: asset.line.clone().unwrap_or_else(|| "default".into()),
                    signals: asset
                        .signals
                        .iter()
                        .map(|signal| {
                            let quantity = quantity_of(signal);
                            let (low, high) = signal.normal;
                            let faulted = Some(index) == target
                                && match scenario.fault {
                                    Some(FaultKind::BearingWear) => {
                                        signal.id.contains("bearing")
                                            || signal
                                                .component
                                                .as_deref()
                                                .is_some_and(|c| c.contains("bearing"))
                                    }
                                    Some(FaultKind::Overheating) => {
                                        quantity == Quantity::Temperature
                                    }
                                    Some(FaultKind::Cavitation) => matches!(
                                        quantity,
                                        Quantity::Flow | Quantity::Pressure | Quantity::Vibration
                                    ),
                                    Some(
                                        FaultKind::SensorFreeze
                                        | FaultKind::SensorDropout
                                        | FaultKind::NightlyClean,
                                    ) => signal.id.contains(scenario.signal),
                                    Some(
                                        FaultKind::NodeDeath
                                        | FaultKind::ProductChangeover
                                        | FaultKind::RoguePublisher
                                        | FaultKind::IdlingOvernight
                                        | FaultKind::AirLeak,
                                    )
                                    | None => false,
                                };
                            let start = if quantity == Quantity::Count {
                                // A machine that has been running for a while.
                                (rng.unit() * 400_000.0).floor()
                            } else if quantity == Quantity::Temperature {
                                // Warm, as after a while at the typical load: the plant has
                                // been running before the twin starts watching.
                                low + (high - low) * 0.6
                            } else {
                                low + (high - low) * 0.5
                            };
                            let span = high - low;
                            let limit = signal.limits.map_or(high + span, |(_, limit)| limit);
                            SignalModel {
                                quantity,
                                low,
                                high,
                                fault_excess: (limit - high) * 1.3 + span * 0.5,
                                lagged: start,
                                last: start,
                                frozen: None,
                                faulted,
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        let mut nodes: Vec<String> = assets.iter().map(|a| a.node.clone()).collect();
        nodes.sort();
        nodes.dedup();
        let mut simulator = Simulator {
            layout: layout.clone(),
            node_seq: vec![0; nodes.len()],
            nodes,
            rng,
            assets,
            target,
            fault_timing: None,
            config,
            last_t: -WARM_S,
            births_sent: false,
            node_dead: None,
            values: vec![],
        };
        // The plant has been running before anyone watches: let temperatures reach what
        // their machines' duty cycles hold them at, so time 0 is not a cold start.
        for second in 0..WARM_S as u32 {
            simulator.step(second as f64 - WARM_S);
        }
        simulator.values.clear();
        simulator
    }

    /// The same plant with the scenario's fault starting at `start_s` and fully developed
    /// `ramp_s` later: run-to-failure histories that differ in when and how fast.
    pub fn with_fault_timing(mut self, start_s: f64, ramp_s: f64) -> Simulator {
        self.fault_timing = Some((start_s, ramp_s));
        self
    }

    pub fn layout(&self) -> &PlantLayout {
        &self.layout
    }

    /// The asset the scenario's fault affects, by id.
    pub fn fault_target(&self) -> Option<&str> {
        self.target.map(|i| self.layout.assets[i].id.as_str())
    }

    /// Advances to `t` seconds since the start and returns every value sent at this step.
    pub fn step(&mut self, t: f64) -> &[SimValue] {
        let dt = (t - self.last_t).clamp(0.0, 60.0);
        self.last_t = t;
        let scenario = self.config.scenario;
        let severity = match self.fault_timing {
            Some((start_s, ramp_s)) if scenario.fault.is_some() => {
                ((t - start_s) / ramp_s.max(1e-3)).clamp(0.0, 1.0)
            }
            _ => scenario.severity(t),
        };
        let dead_node = (scenario.fault == Some(FaultKind::NodeDeath) && severity > 0.0)
            .then(|| self.target.map(|i| self.assets[i].node.clone()))
            .flatten();
        self.values.clear();
        let changed_node = (scenario.fault == Some(FaultKind::ProductChangeover) && severity > 0.0)
            .then(|| self.target.map(|i| self.assets[i].node.clone()))
            .flatten();
        let target = self.target;
        for (a, asset) in self.assets.iter_mut().enumerate() {
            if dead_node.as_ref() == Some(&asset.node) {
                continue;
            }
            let cycle = ((t / asset.period_s) + asset.phase).fract();
            let faulted_asset = target == Some(a) && severity > 0.0;
            // A leak makes the compressor run more of each cycle; an idling machine never runs.
            let leak = match scenario.fault {
                Some(FaultKind::AirLeak) if faulted_asset => 0.45 * severity,
                _ => 0.0,
            };
            let idling = faulted_asset && scenario.fault == Some(FaultKind::IdlingOvernight);
            let running = !idling && cycle < (asset.running_fraction + leak).min(1.0);
            let changed_over = changed_node.as_ref() == Some(&asset.node);
            // Load wanders while running; idle machines draw a little; after a product
            // changeover the line's machines hold a steady load.
            let load = if running && changed_over {
                0.8
            } else if running {
                0.65 + 0.25
                    * (std::f64::consts::TAU * (t / (asset.period_s * 0.37) + asset.phase)).sin()
            } else {
                0.08
            };
            // The leak's air has to be made too: a compressor that is always on works harder.
            let load = (load + leak * 0.8).min(1.0);
            for (s, model) in asset.signals.iter_mut().enumerate() {
                let span = model.high - model.low;
                let noise = self.rng.normal();
                let target = match model.quantity {
                    Quantity::Temperature => model.low + span * (0.35 + 0.4 * load),
                    Quantity::Vibration => model.low + span * (0.15 + 0.35 * load),
                    Quantity::Current | Quantity::Power | Quantity::Torque => {
                        model.low + span * (0.1 + 0.75 * load)
                    }
                    Quantity::Force => {
                        // Press strokes: short peaks.
                        let stroke = ((t / 6.0) + asset.phase).fract() < 0.2 && running;
                        model.low + span * if stroke { 0.85 } else { 0.05 }
                    }
                    Quantity::Pressure | Quantity::Flow | Quantity::Speed => {
                        model.low + span * if running { 0.55 } else { 0.1 }
                    }
                    Quantity::Level | Quantity::Occupancy => {
                        model.low
                            + span
                                * (0.5
                                    + 0.3
                                        * (std::f64::consts::TAU * (t / 900.0 + asset.phase)).sin())
                    }
                    Quantity::CycleTime | Quantity::Other => model.low + span * 0.5,
                    // One stroke every 6 s of running time, counted from a seeded start.
                    Quantity::Count => model.lagged + if running { dt / 6.0 } else { 0.0 },
                };
                // Temperatures lag their drivers (minutes), the rest follow at once.
                let tau = if model.quantity == Quantity::Temperature {
                    60.0
                } else {
                    0.0
                };
                model.lagged = if tau > 0.0 {
                    model.lagged + (target - model.lagged) * (1.0 - (-dt / tau).exp())
                } else {
                    target
                };
                let noise_scale = match model.quantity {
                    Quantity::Temperature => 0.005,
                    Quantity::Level | Quantity::Occupancy => 0.002,
                    _ => 0.03,
                };
                let mut value = if model.quantity == Quantity::Count {
                    model.lagged.floor()
                } else {
                    model.lagged + noise * span * noise_scale
                };
                if model.faulted && severity > 0.0 {
                    match scenario.fault {
                        Some(FaultKind::BearingWear) => {
                            // Wear shows early and accelerates: a linear part makes the first
                            // minute visible on a trend, the quadratic part takes it past the limit.
                            let wear = 0.35 * severity + 0.65 * severity * severity;
                            value += model.fault_excess * wear + noise * span * 0.05 * wear;
                        }
                        Some(FaultKind::Overheating) => value += model.fault_excess * severity,
                        Some(FaultKind::Cavitation) => match model.quantity {
                            Quantity::Flow => value -= span * 0.6 * severity,
                            _ => {
                                value += noise.abs() * span * 0.6 * severity + span * 0.3 * severity
                            }
                        },
                        Some(FaultKind::SensorFreeze) => {
                            value = *model.frozen.get_or_insert(model.last);
                        }
                        Some(FaultKind::SensorDropout) => continue,
                        Some(FaultKind::NightlyClean) => value -= span * 0.8 * severity,
                        _ => {}
                    }
                }
                if model.quantity != Quantity::Other && model.low >= 0.0 {
                    value = value.max(0.0);
                }
                model.last = value;
                self.values.push(SimValue {
                    asset: a,
                    signal: s,
                    value,
                });
            }
        }
        &self.values
    }

    /// Advances to `t` and encodes this step's values as MQTT messages.
    pub fn messages(&mut self, t: f64, now_ms: i64, out: &mut Vec<(String, Vec<u8>)>) {
        out.clear();
        match self.config.format {
            SimFormat::Json => {
                self.step(t);
                for value in &self.values {
                    let asset = &self.layout.assets[value.asset];
                    let Some(telemetry) = &asset.telemetry else {
                        continue;
                    };
                    let signal = &asset.signals[value.signal];
                    out.push((
                        format!("{}/{}", telemetry.topic, signal.id),
                        format!("{{\"value\":{:.4},\"ts\":{now_ms}}}", value.value).into_bytes(),
                    ));
                }
            }
            SimFormat::Sparkplug => self.sparkplug_messages(t, now_ms, out),
        }
        if self.config.scenario.fault == Some(FaultKind::RoguePublisher) {
            self.rogue_messages(t, now_ms, out);
        }
    }

    /// The rogue publisher of the `rogue` scenario (see [`FaultKind::RoguePublisher`]).
    fn rogue_messages(&mut self, t: f64, now_ms: i64, out: &mut Vec<(String, Vec<u8>)>) {
        let scenario = self.config.scenario;
        let Some(target) = self.target else {
            return;
        };
        let since = t - scenario.start_s;
        if since < 0.0 {
            return;
        }
        let group = self.config.group.clone();
        let sparkplug = self.config.format == SimFormat::Sparkplug;
        // An unknown publisher, every second.
        if sparkplug {
            let kind = if since < 1.0 {
                MessageType::NodeBirth
            } else {
                MessageType::NodeData
            };
            let payload = Payload {
                timestamp: Some(now_ms as u64),
                metrics: vec![double_metric(Some("x"), Some(1), 1.0, now_ms)],
                seq: Some((since as u64) % 256),
                ..Payload::default()
            };
            out.push((
                sparkplug::topic(&group, kind, "edge-rogue", None),
                payload.encode_to_vec(),
            ));
        } else if let Some(telemetry) = &self.layout.assets[target].telemetry {
            let prefix = telemetry.topic.rsplit_once('/').map_or("", |(p, _)| p);
            out.push((
                format!("{prefix}/rogue-99/x"),
                format!("{{\"value\":1,\"ts\":{now_ms}}}").into_bytes(),
            ));
        }
        let device = self.layout.assets[target].id.clone();
        let n = self.node_index(&self.assets[target].node);
        let node = self.nodes.get(n).cloned().unwrap_or_default();
        // A command written to the target's node, once.
        if sparkplug && (1.0..2.0).contains(&since) {
            let payload = Payload {
                timestamp: Some(now_ms as u64),
                metrics: vec![double_metric(
                    Some("Node Control/Rebirth"),
                    None,
                    1.0,
                    now_ms,
                )],
                ..Payload::default()
            };
            out.push((
                sparkplug::topic(&group, MessageType::NodeCommand, &node, None),
                payload.encode_to_vec(),
            ));
        }
        // The target's data message of this step, sent again: a replay.
        let own_topic = sparkplug::topic(&group, MessageType::DeviceData, &node, Some(&device));
        if sparkplug
            && (2.0..3.0).contains(&since)
            && let Some(message) = out.iter().find(|(topic, _)| *topic == own_topic).cloned()
        {
            out.push(message);
        }
        // A flood: the target's data at 50 times its rate, for ten seconds.
        if (3.0..13.0).contains(&since) {
            let extra: Vec<(String, Vec<u8>)> = if sparkplug {
                (0..49)
                    .map(|_| {
                        let metrics = vec![double_metric(None, Some(1), 1.0, now_ms)];
                        let payload = self.sequenced_payload(n, metrics, now_ms);
                        (own_topic.clone(), payload)
                    })
                    .collect()
            } else {
                let first = out
                    .iter()
                    .find(|(topic, _)| {
                        self.layout.assets[target]
                            .telemetry
                            .as_ref()
                            .is_some_and(|b| topic.starts_with(&b.topic))
                    })
                    .cloned();
                first.map_or_else(Vec::new, |message| vec![message; 49])
            };
            out.extend(extra);
        }
    }

    fn node_index(&self, node: &str) -> usize {
        self.nodes.iter().position(|n| n == node).unwrap_or(0)
    }

    /// A node's next message: the payload with its sequence number, encoded.
    fn sequenced_payload(
        &mut self,
        node: usize,
        metrics: Vec<sparkplug::Metric>,
        now_ms: i64,
    ) -> Vec<u8> {
        let seq = self.node_seq[node];
        self.node_seq[node] = (seq + 1) % 256;
        Payload {
            timestamp: Some(now_ms as u64),
            metrics,
            seq: Some(seq),
            ..Payload::default()
        }
        .encode_to_vec()
    }

    fn sparkplug_messages(&mut self, t: f64, now_ms: i64, out: &mut Vec<(String, Vec<u8>)>) {
        let group = self.config.group.clone();
        self.step(t);
        if !self.births_sent {
            self.births_sent = true;
            for n in 0..self.nodes.len() {
                self.node_seq[n] = 0;
                let payload = self.sequenced_payload(n, vec![bd_seq_metric(0)], now_ms);
                out.push((
                    sparkplug::topic(&group, MessageType::NodeBirth, &self.nodes[n], None),
                    payload,
                ));
            }
            for a in 0..self.layout.assets.len() {
                let n = self.node_index(&self.assets[a].node);
                let metrics = self.layout.assets[a]
                    .signals
                    .iter()
                    .zip(&self.assets[a].signals)
                    .enumerate()
                    .map(|(s, (signal, model))| {
                        double_metric(Some(&signal.id), Some(s as u64 + 1), model.last, now_ms)
                    })
                    .collect();
                let payload = self.sequenced_payload(n, metrics, now_ms);
                let asset = &self.layout.assets[a].id;
                out.push((
                    sparkplug::topic(
                        &group,
                        MessageType::DeviceBirth,
                        &self.nodes[n],
                        Some(asset),
                    ),
                    payload,
                ));
            }
        }
        // Group this step's values by asset: one DDATA per device, metrics by alias.
        let mut by_asset: Vec<Vec<(usize, f64)>> = vec![vec![]; self.layout.assets.len()];
        for value in &self.values {
            by_asset[value.asset].push((value.signal, value.value));
        }
        let dead_node = (self.config.scenario.fault == Some(FaultKind::NodeDeath)
            && self.config.scenario.severity(t) > 0.0)
            .then(|| self.target.map(|i| self.assets[i].node.clone()))
            .flatten();
        if let Some(node) = dead_node
            && self.node_dead.is_none()
        {
            // A death carries no sequence number, only the birth's bdSeq.
            let payload = Payload {
                timestamp: Some(now_ms as u64),
                metrics: vec![bd_seq_metric(0)],
                ..Payload::default()
            };
            out.push((
                sparkplug::topic(&group, MessageType::NodeDeath, &node, None),
                payload.encode_to_vec(),
            ));
            self.node_dead = Some(node);
        }
        for (a, values) in by_asset.into_iter().enumerate() {
            if values.is_empty() {
                continue;
            }
            let n = self.node_index(&self.assets[a].node);
            let metrics = values
                .into_iter()
                .map(|(s, value)| double_metric(None, Some(s as u64 + 1), value, now_ms))
                .collect();
            let payload = self.sequenced_payload(n, metrics, now_ms);
            let device = &self.layout.assets[a].id;
            out.push((
                sparkplug::topic(
                    &group,
                    MessageType::DeviceData,
                    &self.nodes[n],
                    Some(device),
                ),
                payload,
            ));
        }
    }
}

/// One simulated run to failure of the scenario's asset, as a CSV history for
/// `learn-degradation` (`time_s,<signal>...`, a row every `step_s`): the fault starts at
/// `start_s`, develops over `ramp_s`, and the history ends at the first step where any of the
/// asset's signals is past a limit (the failure). None if the scenario has no target or nothing
/// failed within `max_s`.
pub fn run_to_failure_csv(
    layout: &PlantLayout,
    config: SimConfig,
    (start_s, ramp_s): (f64, f64),
    step_s: f64,
    max_s: f64,
) -> Option<String> {
    let mut sim = Simulator::new(layout, config).with_fault_timing(start_s, ramp_s);
    let target = sim.target?;
    let asset = &layout.assets[target];
    let mut csv = String::from("time_s");
    for signal in &asset.signals {
        csv.push(',');
        csv.push_str(&signal.id);
    }
    csv.push('\n');
    let mut row = vec![String::new(); asset.signals.len()];
    let mut t = 0.0;
    while t <= max_s {
        row.iter_mut().for_each(String::clear);
        let mut failed = false;
        for value in sim.step(t).iter().filter(|v| v.asset == target) {
            let signal = &asset.signals[value.signal];
            failed |= signal
                .limits
                .is_some_and(|(low, high)| value.value > high || value.value < low);
            row[value.signal] = format!("{:.4}", value.value);
        }
        csv.push_str(&format!("{t:.1},{}\n", row.join(",")));
        if failed {
            return Some(csv);
        }
        t += step_s;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{DEMO_LAYOUT_PATH, DEMO_LAYOUT_TEXT, parse_layout};
    use crate::telemetry::bindings::TopicResolver;
    use crate::telemetry::decoder::{Decoded, Decoder};

    fn layout() -> PlantLayout {
        parse_layout(DEMO_LAYOUT_TEXT, std::path::Path::new(DEMO_LAYOUT_PATH)).expect("demo")
    }

    fn run(config: SimConfig, seconds: usize) -> Vec<Vec<SimValue>> {
        let mut sim = Simulator::new(&layout(), config);
        (0..seconds).map(|t| sim.step(t as f64).to_vec()).collect()
    }

    #[test]
    fn a_scaled_plant_is_a_valid_layout_with_each_copy_s_flows() {
        let base = layout();
        // Two whole copies and part of a third: the part keeps only flows it holds both ends of.
        let count = base.assets.len() * 2 + 10;
        let scaled = scaled_layout(&base, count);
        let text = crate::layout::layout_to_ron(&scaled).expect("RON");
        let back = parse_layout(&text, std::path::Path::new("scaled.ron"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            back.flows.len() >= 2 * base.flows.len(),
            "{}",
            back.flows.len()
        );
        assert!(back.flows.len() < 3 * base.flows.len());
        // Ids are numbered by position: the second copy's rack-01 takes its own flow.
        let rack = base
            .assets
            .iter()
            .position(|a| a.id == "rack-01")
            .expect("rack-01");
        let second_copy = format!("rack-01-{}", base.assets.len() + rack);
        assert!(
            back.flows.iter().any(|f| f.from == second_copy),
            "{second_copy}"
        );
    }

    #[test]
    fn same_seed_same_plant() {
        let config = SimConfig::default();
        assert_eq!(run(config.clone(), 30), run(config.clone(), 30));
        let other = SimConfig { seed: 2, ..config };
        assert_ne!(run(SimConfig::default(), 30), run(other, 30));
    }

    #[test]
    fn healthy_values_stay_mostly_in_their_normal_range() {
        let layout = layout();
        let steps = run(SimConfig::default(), 600);
        let (mut inside, mut total) = (0, 0);
        for value in steps.iter().flatten() {
            let (low, high) = layout.assets[value.asset].signals[value.signal].normal;
            total += 1;
            inside += usize::from(value.value >= low && value.value <= high);
        }
        assert!(inside as f64 / total as f64 > 0.97, "{inside}/{total}");
    }

    #[test]
    fn run_to_failure_histories_end_at_the_first_limit_crossing() {
        let config = SimConfig {
            scenario: scenario::scenario("bearing-wear").expect("exists"),
            ..SimConfig::default()
        };
        let layout = layout();
        let early = run_to_failure_csv(&layout, config.clone(), (100.0, 200.0), 5.0, 3600.0)
            .expect("fails");
        let late = run_to_failure_csv(&layout, config, (400.0, 400.0), 5.0, 3600.0).expect("fails");
        let rows = |csv: &str| csv.lines().count() - 1;
        // Later and slower wear: a longer life, and both fail after their fault began.
        assert!(
            rows(&late) > rows(&early) + 60,
            "{} {}",
            rows(&late),
            rows(&early)
        );
        assert!(rows(&early) * 5 > 100);
        assert!(early.starts_with("time_s,"));
        let healthy = SimConfig::default();
        assert_eq!(
            run_to_failure_csv(&layout, healthy, (0.0, 1.0), 5.0, 600.0),
            None
        );
    }

    #[test]
    fn bearing_wear_crosses_the_limit() {
        let layout = layout();
        let config = SimConfig {
            scenario: scenario::scenario("bearing-wear").expect("exists"),
            ..SimConfig::default()
        };
        let mut sim = Simulator::new(&layout, config);
        let pump = layout
            .assets
            .iter()
            .position(|a| a.id == "pump-02")
            .expect("pump");
        let vib = layout.assets[pump]
            .signals
            .iter()
            .position(|s| s.id == "bearing_vibration_rms")
            .expect("signal");
        let limit = layout.assets[pump].signals[vib].limits.expect("limits").1;
        let at = |sim: &mut Simulator, t: f64| {
            sim.step(t)
                .iter()
                .find(|v| v.asset == pump && v.signal == vib)
                .map(|v| v.value)
                .expect("sent")
        };
        let early = at(&mut sim, 10.0);
        assert!(early < limit * 0.5);
        let late = (430..460)
            .map(|t| at(&mut sim, t as f64))
            .fold(0.0, f64::max);
        assert!(
            late > limit,
            "vibration {late} should pass the limit {limit}"
        );
    }

    #[test]
    fn both_formats_decode_to_every_signal() {
        let layout = layout();
        let signals: usize = layout.assets.iter().map(|a| a.signals.len()).sum();
        for format in [SimFormat::Json, SimFormat::Sparkplug] {
            let mut sim = Simulator::new(
                &layout,
                SimConfig {
                    format,
                    ..SimConfig::default()
                },
            );
            let mut decoder = Decoder::new(TopicResolver::from_layout(&layout));
            let mut messages = vec![];
            let mut decoded = Decoded::default();
            for t in 0..3 {
                sim.messages(t as f64, 1_000 * t, &mut messages);
                let mut samples = 0;
                for (topic, payload) in &messages {
                    decoder.decode(topic, payload, 0, &mut decoded);
                    assert!(
                        decoded.problems.is_empty(),
                        "{format:?} {topic}: {:?}",
                        decoded.problems
                    );
                    samples += decoded.samples.len();
                }
                // The first Sparkplug step also carries the births' values.
                let expected = if format == SimFormat::Sparkplug && t == 0 {
                    2 * signals
                } else {
                    signals
                };
                assert_eq!(samples, expected, "{format:?} at {t}");
            }
        }
    }
}
