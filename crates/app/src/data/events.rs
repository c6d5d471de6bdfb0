//! The data path's event stream. Its own module, so that telemetry (connections, data problems,
//! staleness) and prediction (alarm changes) both write it without knowing each other.

use bevy::prelude::*;
use plant_twin_core::predict::{AlarmChange, Severity};
use plant_twin_core::telemetry::{ConnectionEvent, ProblemKind};

/// What happened to the data, in order: connection and data-quality events (written by
/// `data::telemetry`) and alarm changes (by `data::predict`), for the headless `--events` stream,
/// the wall and the UI log.
#[derive(Message, Debug, Clone, PartialEq, serde::Serialize)]
pub struct DataEvent {
    pub time_ms: i64,
    #[serde(flatten)]
    pub kind: DataEventKind,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DataEventKind {
    Connection(ConnectionEvent),
    /// The first problem of its kind on a topic, then at most one every 10 s with the count.
    DataProblem {
        topic: String,
        problem: ProblemKind,
        detail: String,
        count: u64,
    },
    Stale {
        asset: String,
        last_data_ms: Option<i64>,
        reason: String,
    },
    Fresh {
        asset: String,
    },
    /// The traffic baseline found something unusual: an unknown publisher, a command written,
    /// a replayed sequence number, a flood (`plant_twin_core::telemetry::traffic`).
    Security {
        kind: plant_twin_core::telemetry::traffic::SecurityKind,
        source: String,
        detail: String,
    },
    /// An alarm was raised, eased, cleared, acknowledged, shelved or unshelved.
    Alarm {
        asset: String,
        /// The component id, or None for the asset as a whole.
        component: Option<String>,
        #[serde(flatten)]
        change: AlarmChange,
        /// The severity after the change.
        state: Severity,
        /// Why, in words: "bearing_temp +6.2 sigma, vibration +4.1 sigma".
        reason: String,
        score: f64,
    },
}
