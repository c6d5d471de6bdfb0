//! Live telemetry without Bevy: what flows from the network to the world (samples, connection
//! events, data problems), topic bindings, payload decoders (JSON, Sparkplug B), and the MQTT
//! ingest thread. The `live` plugin applies it to the ECS.

pub mod bindings;
pub mod decoder;
pub mod json;
pub mod market;
pub mod mqtt;
pub mod sparkplug;
pub mod tap;
pub mod traffic;

/// Why a data source (the MQTT ingest, the simulator, `plant-twin sim --mqtt`) could not be set
/// up, started or kept publishing. Once running, sources report through [`ConnectionEvent`]s
/// instead and reconnect by themselves.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The broker address is not `mqtt://host[:port]` or `mqtts://host[:port]`.
    #[error("{0}")]
    BrokerUrl(String),
    /// TLS was asked for without what it needs.
    #[error("{0}")]
    Tls(&'static str),
    #[error("cannot read {what} {}: {source}", path.display())]
    Unreadable {
        what: &'static str,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot start the {thread} thread: {source}")]
    Thread {
        thread: &'static str,
        source: std::io::Error,
    },
    /// The broker did not accept the connection.
    #[error("{0}")]
    Connect(String),
    #[error("publish failed: {0}")]
    Publish(#[from] rumqttc::ClientError),
}

use std::fmt;

/// A signal of the layout, by position: `assets[asset].signals[signal]`. Indices keep the hot
/// path free of string hashing once a topic is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SignalRef {
    pub asset: u32,
    pub signal: u16,
}

/// How far a value can be trusted, as the source said (OPC UA style, simplified).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Quality {
    #[default]
    Good,
    Uncertain,
    Bad,
}

/// One decoded value of one signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub signal: SignalRef,
    /// In the layout's unit (after the binding's scale and offset).
    pub value: f64,
    pub quality: Quality,
    /// Source timestamp, ms since the Unix epoch; the receive time when the payload has none.
    pub time_ms: i64,
}

/// The state of the link to the data source, as the UI shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionEvent {
    /// Trying to reach the source (first attempt).
    Connecting { source: String },
    /// The broker accepted the connection.
    Connected { source: String },
    /// Subscriptions acknowledged.
    Subscribed { filters: Vec<String> },
    /// The connection dropped or could not be made.
    Lost { reason: String },
    /// Waiting before the next attempt.
    Reconnecting { attempt: u32, delay_ms: u64 },
    /// The source ended (simulator stopped, app shutting down).
    Stopped,
    /// This twin published a command to the plant (a Sparkplug rebirth request; only with
    /// commands enabled). Audited.
    CommandSent { topic: String },
}

/// Something wrong with incoming data. Counted per topic and shown; never fatal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// No binding maps the topic to an asset.
    Unmapped,
    /// The topic maps to an asset, but the asset has no such signal.
    UnknownSignal,
    /// Not valid JSON / not valid protobuf.
    Malformed,
    /// Valid, but a value of the wrong type (a string where a number belongs...).
    WrongType,
    /// NaN or infinite.
    NotFinite,
    /// Larger than the accepted payload size.
    Oversized,
    /// Sparkplug: a sequence number was skipped.
    SeqGap,
    /// Sparkplug: data from a node or device whose birth was never seen.
    Unborn,
    /// Sparkplug: a metric alias the birth did not define.
    UnknownAlias,
}

impl ProblemKind {
    pub fn label(self) -> &'static str {
        match self {
            ProblemKind::Unmapped => "unmapped topic",
            ProblemKind::UnknownSignal => "unknown signal",
            ProblemKind::Malformed => "malformed payload",
            ProblemKind::WrongType => "wrong type",
            ProblemKind::NotFinite => "NaN or infinite",
            ProblemKind::Oversized => "oversized payload",
            ProblemKind::SeqGap => "sequence gap",
            ProblemKind::Unborn => "no birth seen",
            ProblemKind::UnknownAlias => "unknown alias",
        }
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A data problem on one topic.
#[derive(Debug, Clone, PartialEq)]
pub struct DataProblem {
    pub topic: String,
    pub kind: ProblemKind,
    pub detail: String,
    /// The first problem of a message that gave no samples: it counts that message, which no
    /// `Samples` event will.
    pub unused_message: bool,
}

/// Whether the assets fed by a Sparkplug node or device are alive (births and deaths).
#[derive(Debug, Clone, PartialEq)]
pub struct Liveness {
    pub assets: Vec<u32>,
    pub alive: bool,
    pub reason: String,
}

/// A message's topic, shared: every message of a topic carries the same string (interned by
/// [`decoder::Decoded`]), so handing one to the world allocates nothing.
pub type Topic = std::sync::Arc<str>;

/// The samples of one message, held inline up to one (a value per topic, the usual UNS shape).
pub type MessageSamples = smallvec::SmallVec<[Sample; 1]>;

/// What the ingest thread hands to the world.
#[derive(Debug, Clone, PartialEq)]
pub enum IngestEvent {
    /// The samples of one message.
    Samples {
        topic: Topic,
        received_ms: i64,
        samples: MessageSamples,
    },
    Connection(ConnectionEvent),
    Problem(DataProblem),
    Liveness(Liveness),
    /// The traffic baseline found something unusual (`traffic`).
    Security(traffic::SecurityEvent),
    /// A price or carbon value from a feed the tariff names (`market`).
    Market(market::MarketValue),
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
