//! Sparkplug B: topics `spBv1.0/<group>/<type>/<node>[/<device>]`, protobuf payloads, and the
//! session state a host application keeps per edge node: alias tables from births, birth/death
//! sequence numbers (`bdSeq`), message sequence numbers (`seq`).
//!
//! Mapping to the layout: a device id is an asset id and its metric names are signal ids (a
//! name like `hydraulics/oil_temp` uses its last segment). Node-level metrics name the asset
//! first: `press-202/oil_temp`.

use std::collections::HashMap;

use prost::Message;

use super::bindings::TopicResolver;
use super::json::PayloadProblem;
use super::{Liveness, ProblemKind, Quality, Sample, SignalRef};

/// The generated protobuf types (proto/sparkplug_b.proto).
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/org.eclipse.tahu.protobuf.rs"));
}

pub use proto::Payload;
pub use proto::payload::Metric;
use proto::payload::metric::Value as MetricValue;

pub const NAMESPACE: &str = "spBv1.0";

/// The message types of Sparkplug B.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    NodeBirth,
    NodeDeath,
    DeviceBirth,
    DeviceDeath,
    NodeData,
    DeviceData,
    NodeCommand,
    DeviceCommand,
}

impl MessageType {
    fn parse(text: &str) -> Option<MessageType> {
        Some(match text {
            "NBIRTH" => MessageType::NodeBirth,
            "NDEATH" => MessageType::NodeDeath,
            "DBIRTH" => MessageType::DeviceBirth,
            "DDEATH" => MessageType::DeviceDeath,
            "NDATA" => MessageType::NodeData,
            "DDATA" => MessageType::DeviceData,
            "NCMD" => MessageType::NodeCommand,
            "DCMD" => MessageType::DeviceCommand,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::NodeBirth => "NBIRTH",
            MessageType::NodeDeath => "NDEATH",
            MessageType::DeviceBirth => "DBIRTH",
            MessageType::DeviceDeath => "DDEATH",
            MessageType::NodeData => "NDATA",
            MessageType::DeviceData => "DDATA",
            MessageType::NodeCommand => "NCMD",
            MessageType::DeviceCommand => "DCMD",
        }
    }
}

/// A parsed Sparkplug topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SparkplugTopic<'t> {
    pub group: &'t str,
    pub kind: MessageType,
    pub node: &'t str,
    pub device: Option<&'t str>,
}

impl<'t> SparkplugTopic<'t> {
    /// `None` for anything that is not a Sparkplug B message topic (including `STATE`).
    pub fn parse(topic: &'t str) -> Option<SparkplugTopic<'t>> {
        let mut parts = topic.split('/');
        if parts.next()? != NAMESPACE {
            return None;
        }
        let group = parts.next()?;
        let kind = MessageType::parse(parts.next()?)?;
        let node = parts.next()?;
        let device = parts.next();
        if parts.next().is_some() || group.is_empty() || node.is_empty() {
            return None;
        }
        let is_device = matches!(
            kind,
            MessageType::DeviceBirth
                | MessageType::DeviceDeath
                | MessageType::DeviceData
                | MessageType::DeviceCommand
        );
        if is_device != device.is_some() {
            return None;
        }
        Some(SparkplugTopic {
            group,
            kind,
            node,
            device,
        })
    }
}

/// Topic of a message of `kind` for a node or device.
pub fn topic(group: &str, kind: MessageType, node: &str, device: Option<&str>) -> String {
    match device {
        Some(device) => format!("{NAMESPACE}/{group}/{}/{node}/{device}", kind.as_str()),
        None => format!("{NAMESPACE}/{group}/{}/{node}", kind.as_str()),
    }
}

#[derive(Debug, Default, Clone)]
struct DeviceSession {
    born: bool,
    aliases: HashMap<u64, String>,
    asset: Option<u32>,
}

#[derive(Debug, Default, Clone)]
struct NodeSession {
    born: bool,
    bd_seq: Option<u64>,
    last_seq: Option<u64>,
    aliases: HashMap<u64, String>,
    devices: HashMap<String, DeviceSession>,
    /// Assets fed by node-level metrics.
    node_assets: Vec<u32>,
    /// Receive time of the last rebirth request, so one is sent at most every 30 s.
    last_rebirth_request_ms: Option<i64>,
}

impl NodeSession {
    /// Follows births, deaths and sequence numbers. Returns whether the message goes on to
    /// carry metrics (commands and node deaths end here).
    fn follow_session(
        &mut self,
        topic: &SparkplugTopic,
        payload: &Payload,
        effects: &mut SparkplugEffects,
        problems: &mut Vec<PayloadProblem>,
    ) -> bool {
        match topic.kind {
            MessageType::NodeCommand | MessageType::DeviceCommand => return false,
            MessageType::NodeBirth => {
                let bd_seq = bd_seq_of(payload);
                effects.birth_bd_seq = bd_seq;
                *self = NodeSession {
                    born: true,
                    bd_seq,
                    last_seq: payload.seq,
                    ..NodeSession::default()
                };
                remember_aliases(&mut self.aliases, &payload.metrics);
            }
            MessageType::NodeDeath => {
                let bd_seq = bd_seq_of(payload);
                // A death whose bdSeq is not the current birth's belongs to an older session
                // (the broker delivers the will late); honouring it would kill a live node.
                if self.born && bd_seq.is_some() && bd_seq == self.bd_seq {
                    self.born = false;
                    for device in self.devices.values_mut() {
                        device.born = false;
                    }
                    effects.liveness.push(Liveness {
                        assets: self.assets(),
                        alive: false,
                        reason: format!("Sparkplug node {} died (NDEATH)", topic.node),
                    });
                }
                return false;
            }
            _ => {
                if !self.born {
                    problems.push((
                        ProblemKind::Unborn,
                        format!(
                            "{} from node {} before its NBIRTH",
                            topic.kind.as_str(),
                            topic.node
                        ),
                    ));
                } else if let Some(seq) = payload.seq {
                    let expected = self.last_seq.map(|last| (last + 1) % 256);
                    if expected.is_some_and(|expected| expected != seq) {
                        problems.push((
                            ProblemKind::SeqGap,
                            format!("seq {seq}, expected {}", expected.unwrap_or_default()),
                        ));
                        // Within a quarter of the 256 sequence numbers behind the last one:
                        // a repeat or a replay; further is read as a jump forward.
                        if let (Some(last), Some(expected)) = (self.last_seq, expected)
                            && (last + 256 - seq) % 256 < 64
                        {
                            effects.seq_back = Some((seq, expected));
                        }
                    }
                    self.last_seq = Some(seq);
                }
            }
        }
        true
    }

    /// After a message from an unborn node or a sequence gap, asks the node for a rebirth, at
    /// most once per [`REBIRTH_INTERVAL_MS`].
    fn request_rebirth_if_lost(
        &mut self,
        topic: &SparkplugTopic,
        received_ms: i64,
        problems: &[PayloadProblem],
        effects: &mut SparkplugEffects,
    ) {
        let lost = problems
            .iter()
            .any(|(kind, _)| matches!(kind, ProblemKind::Unborn | ProblemKind::SeqGap));
        let due = self
            .last_rebirth_request_ms
            .is_none_or(|last| received_ms - last >= REBIRTH_INTERVAL_MS);
        if lost && due {
            self.last_rebirth_request_ms = Some(received_ms);
            effects.rebirth_request = Some(rebirth_request(topic.group, topic.node, received_ms));
        }
    }

    /// A device's birth, death or data: its metrics are the signals of the asset it names.
    fn device_message(
        &mut self,
        topic: &SparkplugTopic,
        device_id: &str,
        payload: &Payload,
        sink: &mut MetricSink<'_>,
        effects: &mut SparkplugEffects,
    ) {
        let node_born = self.born;
        let asset = sink.resolver.asset_index(device_id);
        let device = self.devices.entry(device_id.to_string()).or_default();
        device.asset = asset;
        match topic.kind {
            MessageType::DeviceBirth => {
                device.born = true;
                device.aliases.clear();
                remember_aliases(&mut device.aliases, &payload.metrics);
                if let Some(asset) = asset {
                    effects.liveness.push(Liveness {
                        assets: vec![asset],
                        alive: true,
                        reason: format!("Sparkplug device {device_id} born (DBIRTH)"),
                    });
                }
            }
            MessageType::DeviceDeath => {
                device.born = false;
                if let Some(asset) = asset {
                    effects.liveness.push(Liveness {
                        assets: vec![asset],
                        alive: false,
                        reason: format!("Sparkplug device {device_id} died (DDEATH)"),
                    });
                }
                return;
            }
            _ => {
                if node_born && !device.born {
                    sink.problems.push((
                        ProblemKind::Unborn,
                        format!("DDATA from device {device_id} before its DBIRTH"),
                    ));
                }
            }
        }
        let Some(asset) = asset else {
            sink.problems.push((
                ProblemKind::Unmapped,
                format!("device \"{device_id}\" is not an asset of the layout"),
            ));
            return;
        };
        let quality = if node_born && device.born {
            Quality::Good
        } else {
            Quality::Uncertain
        };
        for metric in &payload.metrics {
            let Some(name) = metric_name(metric, &device.aliases, sink.problems) else {
                continue;
            };
            let signal_name = name.rsplit('/').next().unwrap_or(name);
            sink.sample(metric, asset, signal_name, quality);
        }
    }

    /// Node-level metrics named `asset/.../signal`: one node feeding several assets.
    fn node_metrics(
        &mut self,
        topic: &SparkplugTopic,
        payload: &Payload,
        sink: &mut MetricSink<'_>,
        effects: &mut SparkplugEffects,
    ) {
        let quality = if self.born {
            Quality::Good
        } else {
            Quality::Uncertain
        };
        for metric in &payload.metrics {
            let Some(name) = metric_name(metric, &self.aliases, sink.problems) else {
                continue;
            };
            let Some((asset_id, rest)) = name.split_once('/') else {
                // bdSeq and other node-scoped metrics without an asset.
                continue;
            };
            if matches!(asset_id, "Node Control" | "Properties") {
                continue;
            }
            let Some(asset) = sink.resolver.asset_index(asset_id) else {
                sink.problems.push((
                    ProblemKind::Unmapped,
                    format!("metric \"{name}\" names no asset of the layout"),
                ));
                continue;
            };
            if !self.node_assets.contains(&asset) {
                self.node_assets.push(asset);
            }
            let signal_name = rest.rsplit('/').next().unwrap_or(rest);
            sink.sample(metric, asset, signal_name, quality);
        }
        if topic.kind == MessageType::NodeBirth && !self.node_assets.is_empty() {
            effects.liveness.push(Liveness {
                assets: self.node_assets.clone(),
                alive: true,
                reason: format!("Sparkplug node {} born (NBIRTH)", topic.node),
            });
        }
    }

    fn assets(&self) -> Vec<u32> {
        let mut assets = self.node_assets.clone();
        assets.extend(self.devices.values().filter_map(|d| d.asset));
        assets.sort_unstable();
        assets.dedup();
        assets
    }
}

/// What one Sparkplug message produced besides samples.
#[derive(Debug, Default, PartialEq)]
pub struct SparkplugEffects {
    pub liveness: Vec<Liveness>,
    /// A rebirth request worth sending (NCMD topic, payload); sent only if commands are enabled.
    pub rebirth_request: Option<(String, Vec<u8>)>,
    /// A sequence number that repeated or went back: (seq, expected). A replayed message,
    /// unlike a forward jump (lost messages).
    pub seq_back: Option<(u64, u64)>,
    /// The bdSeq of an NBIRTH (who the session is).
    pub birth_bd_seq: Option<u64>,
}

/// Host-side Sparkplug session state for every node seen.
#[derive(Debug, Default, Clone)]
pub struct SparkplugState {
    nodes: HashMap<(String, String), NodeSession>,
}

const REBIRTH_INTERVAL_MS: i64 = 30_000;

impl SparkplugState {
    /// Decodes one Sparkplug message. Samples go to `out`, problems to `problems`.
    pub fn decode(
        &mut self,
        topic: &SparkplugTopic,
        payload: &[u8],
        resolver: &TopicResolver,
        received_ms: i64,
        out: &mut Vec<Sample>,
        problems: &mut Vec<PayloadProblem>,
    ) -> SparkplugEffects {
        let mut effects = SparkplugEffects::default();
        let payload = match Payload::decode(payload) {
            Ok(payload) => payload,
            Err(error) => {
                problems.push((ProblemKind::Malformed, format!("protobuf: {error}")));
                return effects;
            }
        };
        let key = (topic.group.to_string(), topic.node.to_string());
        let node = self.nodes.entry(key).or_default();
        if !node.follow_session(topic, &payload, &mut effects, problems) {
            return effects;
        }
        node.request_rebirth_if_lost(topic, received_ms, problems, &mut effects);
        let mut sink = MetricSink {
            resolver,
            payload_time: payload.timestamp.map(|t| t as i64).unwrap_or(received_ms),
            out,
            problems,
        };
        match topic.device {
            Some(device_id) => {
                node.device_message(topic, device_id, &payload, &mut sink, &mut effects)
            }
            None => node.node_metrics(topic, &payload, &mut sink, &mut effects),
        }
        effects
    }
}

fn bd_seq_of(payload: &Payload) -> Option<u64> {
    payload
        .metrics
        .iter()
        .find(|metric| metric.name.as_deref() == Some("bdSeq"))
        .and_then(|metric| match metric.value {
            Some(MetricValue::LongValue(value)) => Some(value),
            Some(MetricValue::IntValue(value)) => Some(value as u64),
            _ => None,
        })
}

fn remember_aliases(aliases: &mut HashMap<u64, String>, metrics: &[Metric]) {
    for metric in metrics {
        if let (Some(name), Some(alias)) = (&metric.name, metric.alias) {
            aliases.insert(alias, name.clone());
        }
    }
}

fn metric_name<'m>(
    metric: &'m Metric,
    aliases: &'m HashMap<u64, String>,
    problems: &mut Vec<PayloadProblem>,
) -> Option<&'m str> {
    if let Some(name) = &metric.name {
        return Some(name);
    }
    let alias = metric.alias?;
    match aliases.get(&alias) {
        Some(name) => Some(name),
        None => {
            problems.push((ProblemKind::UnknownAlias, format!("alias {alias}")));
            None
        }
    }
}

/// Where a message's metrics go: samples of the layout's signals, or problems.
struct MetricSink<'a> {
    resolver: &'a TopicResolver,
    /// The payload's timestamp, for metrics without their own.
    payload_time: i64,
    out: &'a mut Vec<Sample>,
    problems: &'a mut Vec<PayloadProblem>,
}

impl MetricSink<'_> {
    fn sample(&mut self, metric: &Metric, asset: u32, signal_name: &str, quality: Quality) {
        if metric.is_null == Some(true) {
            return;
        }
        let Some(signal) = self.resolver.signal_index(asset, signal_name) else {
            self.problems.push((
                ProblemKind::UnknownSignal,
                format!("metric \"{signal_name}\""),
            ));
            return;
        };
        let value = match metric_value(metric) {
            Ok(value) => value,
            Err(problem) => return self.problems.push(problem),
        };
        if !value.is_finite() {
            return self
                .problems
                .push((ProblemKind::NotFinite, format!("{signal_name} = {value}")));
        }
        self.out.push(Sample {
            signal: SignalRef { asset, signal },
            value,
            quality,
            time_ms: metric
                .timestamp
                .map(|t| t as i64)
                .unwrap_or(self.payload_time),
        });
    }
}

/// The numeric value of a metric, honouring Sparkplug's signed types stored in unsigned fields.
fn metric_value(metric: &Metric) -> Result<f64, PayloadProblem> {
    const INT8: u32 = 1;
    const INT16: u32 = 2;
    const INT32: u32 = 3;
    const INT64: u32 = 4;
    let datatype = metric.datatype.unwrap_or(0);
    match &metric.value {
        Some(MetricValue::IntValue(raw)) => Ok(match datatype {
            INT8 => *raw as i8 as f64,
            INT16 => *raw as i16 as f64,
            INT32 => *raw as i32 as f64,
            _ => *raw as f64,
        }),
        Some(MetricValue::LongValue(raw)) => Ok(if datatype == INT64 {
            *raw as i64 as f64
        } else {
            *raw as f64
        }),
        Some(MetricValue::FloatValue(value)) => Ok(*value as f64),
        Some(MetricValue::DoubleValue(value)) => Ok(*value),
        Some(MetricValue::BooleanValue(flag)) => Ok(if *flag { 1.0 } else { 0.0 }),
        Some(MetricValue::StringValue(_)) | Some(MetricValue::BytesValue(_)) => Err((
            ProblemKind::WrongType,
            format!("metric {:?} is not numeric", metric.name),
        )),
        None => Err((
            ProblemKind::WrongType,
            format!("metric {:?} has no value", metric.name),
        )),
    }
}

/// An NCMD asking a node to publish its births again (`Node Control/Rebirth = true`).
pub fn rebirth_request(group: &str, node: &str, now_ms: i64) -> (String, Vec<u8>) {
    let payload = Payload {
        timestamp: Some(now_ms.max(0) as u64),
        metrics: vec![Metric {
            name: Some("Node Control/Rebirth".into()),
            timestamp: Some(now_ms.max(0) as u64),
            datatype: Some(11),
            value: Some(MetricValue::BooleanValue(true)),
            ..Metric::default()
        }],
        ..Payload::default()
    };
    (
        topic(group, MessageType::NodeCommand, node, None),
        payload.encode_to_vec(),
    )
}

/// Builds a metric carrying a double value (used by the simulator and tests).
pub fn double_metric(name: Option<&str>, alias: Option<u64>, value: f64, time_ms: i64) -> Metric {
    Metric {
        name: name.map(str::to_string),
        alias,
        timestamp: Some(time_ms.max(0) as u64),
        datatype: Some(10),
        value: Some(MetricValue::DoubleValue(value)),
        ..Metric::default()
    }
}

/// The `bdSeq` metric of births and deaths.
pub fn bd_seq_metric(bd_seq: u64) -> Metric {
    Metric {
        name: Some("bdSeq".into()),
        datatype: Some(8),
        value: Some(MetricValue::LongValue(bd_seq)),
        ..Metric::default()
    }
}
