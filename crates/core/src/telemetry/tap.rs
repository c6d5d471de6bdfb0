//! The record tap: where the ingest threads (MQTT, simulator) offer every raw message they
//! receive. It lives with telemetry, which owns those threads; `record` attaches its recorder
//! thread to it, so telemetry never depends on recording.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crossbeam_channel::{Sender, TrySendError};

/// One message as it arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct RawMessage {
    pub topic: String,
    /// Receive time, ms since the Unix epoch: the same value the decoder was given, so a replay
    /// decodes exactly what the live run decoded.
    pub received_ms: i64,
    pub payload: Vec<u8>,
}

/// Where the ingest threads offer their messages. Cheap to clone; costs one atomic load per
/// message while nothing records.
#[derive(Clone, Default)]
pub struct RecordTap(Arc<TapInner>);

#[derive(Default)]
struct TapInner {
    active: AtomicBool,
    sender: Mutex<Option<Sender<RawMessage>>>,
    dropped: AtomicU64,
}

impl RecordTap {
    /// Copies a message to the recorder, if one runs. Never blocks.
    pub fn offer(&self, topic: &str, received_ms: i64, payload: &[u8]) {
        if !self.0.active.load(Ordering::Relaxed) {
            return;
        }
        let Ok(guard) = self.0.sender.lock() else {
            return;
        };
        let Some(sender) = guard.as_ref() else {
            return;
        };
        let message = RawMessage {
            topic: topic.to_string(),
            received_ms,
            payload: payload.to_vec(),
        };
        if let Err(TrySendError::Full(_)) = sender.try_send(message) {
            self.0.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Is a recorder attached?
    pub fn is_active(&self) -> bool {
        self.0.active.load(Ordering::Relaxed)
    }

    pub(crate) fn attach(&self, sender: Sender<RawMessage>) {
        if let Ok(mut guard) = self.0.sender.lock() {
            *guard = Some(sender);
            self.0.dropped.store(0, Ordering::Relaxed);
            self.0.active.store(true, Ordering::Relaxed);
        }
    }

    pub(crate) fn detach(&self) {
        self.0.active.store(false, Ordering::Relaxed);
        if let Ok(mut guard) = self.0.sender.lock() {
            *guard = None;
        }
    }

    /// Messages the recorder could not take (it fell behind) since it started.
    pub fn dropped(&self) -> u64 {
        self.0.dropped.load(Ordering::Relaxed)
    }
}
