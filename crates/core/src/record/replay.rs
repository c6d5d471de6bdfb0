//! A recording read back in time order, without an ECS: a cursor over its chunks that decodes
//! each message through the same [`Decoder`] as live data, and the plant and bindings a
//! recording carries. The app's `data::replay` moves the cursor frame by frame, seeks, and
//! keeps checkpoints of it.

use std::sync::Arc;

use super::reader::{RecordedMessage, Recording};
use super::{OPERATOR_TOPIC, OperatorAction};
use crate::files::FileError;
use crate::layout::{PlantLayout, parse_layout};
use crate::telemetry::IngestEvent;
use crate::telemetry::bindings::{BindingError, TopicResolver, parse_bindings};
use crate::telemetry::decoder::{Decoded, Decoder};

/// Why the plant or bindings stored in a recording cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoredContextError {
    #[error("the layout stored in the recording is not valid:\n{0}")]
    Layout(FileError),
    #[error("the bindings stored in the recording are not valid:\n{0}")]
    Bindings(FileError),
    #[error("the bindings stored in the recording are not valid: {0}")]
    Rule(BindingError),
}

/// The plant of a recording: its stored layout, or (a file from another tool) `current`.
pub fn recording_layout(
    recording: &Recording,
    current: &PlantLayout,
) -> Result<PlantLayout, StoredContextError> {
    if recording.context.layout_ron.is_empty() {
        return Ok(current.clone());
    }
    parse_layout(&recording.context.layout_ron, &recording.path).map_err(StoredContextError::Layout)
}

/// The decoder the recorded run used: default bindings plus the stored bindings file, if any.
pub fn recording_decoder(
    recording: &Recording,
    layout: &PlantLayout,
) -> Result<Decoder, StoredContextError> {
    let resolver = match &recording.context.bindings_ron {
        Some(text) => {
            let file = parse_bindings(text, &recording.path, layout)
                .map_err(StoredContextError::Bindings)?;
            TopicResolver::with_file(layout, &file).map_err(StoredContextError::Rule)?
        }
        None => TopicResolver::from_layout(layout),
    };
    Ok(Decoder::new(resolver))
}

/// Which message comes next: `index` in chunk `chunk`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Position {
    chunk: usize,
    index: usize,
}

/// What one message fed.
#[derive(Debug, Clone, PartialEq)]
pub enum Fed {
    /// Decoded into ingest events (maybe none, as live).
    Data,
    /// An operator's alarm action, to apply after exactly the data before it.
    OperatorAction(OperatorAction),
    /// Nothing: a channel without a topic, or an operator action that does not parse (why).
    Skipped(Option<String>),
}

/// The cursor's state at one point of the recording, for a replay checkpoint (the decoder holds
/// the Sparkplug sessions, so it is part of the state).
#[derive(Clone)]
pub struct CursorCheckpoint {
    position: Position,
    decoder: Decoder,
}

/// Reads a recording's messages in order and decodes them; only the current chunk is in memory.
pub struct ReplayCursor {
    recording: Arc<Recording>,
    decoder: Decoder,
    position: Position,
    /// The messages of `position.chunk`.
    chunk: Vec<RecordedMessage>,
    decoded: Decoded,
    /// Messages decoded so far (including re-runs after seeks).
    pub messages_fed: u64,
    /// Chunks that could not be read, and why the last one failed.
    pub read_errors: u64,
    pub last_read_error: Option<String>,
}

impl ReplayCursor {
    /// A cursor before the first message.
    pub fn new(recording: Arc<Recording>, decoder: Decoder) -> ReplayCursor {
        let mut cursor = ReplayCursor {
            recording,
            decoder,
            position: Position::default(),
            chunk: vec![],
            decoded: Decoded::default(),
            messages_fed: 0,
            read_errors: 0,
            last_read_error: None,
        };
        cursor.load_chunk();
        cursor
    }

    pub fn recording(&self) -> &Arc<Recording> {
        &self.recording
    }

    fn load_chunk(&mut self) {
        self.chunk = match self.recording.chunk_messages(self.position.chunk) {
            Ok(messages) => messages,
            Err(error) => {
                self.read_errors += 1;
                self.last_read_error = Some(format!("chunk {}: {error}", self.position.chunk));
                vec![]
            }
        };
    }

    /// The receive time of the next message, ms since the epoch; `None` at the end.
    pub fn next_time_ms(&mut self) -> Option<i64> {
        loop {
            if let Some(message) = self.chunk.get(self.position.index) {
                return Some(message.received_ms());
            }
            if self.position.chunk + 1 >= self.recording.chunk_count() {
                return None;
            }
            self.position = Position {
                chunk: self.position.chunk + 1,
                index: 0,
            };
            self.load_chunk();
        }
    }

    /// Decodes the next message of the current chunk into `out` (call [`Self::next_time_ms`]
    /// first, which moves to the next chunk when this one is done).
    pub fn feed_next(&mut self, out: &mut Vec<IngestEvent>) -> Fed {
        let Some(message) = self.chunk.get(self.position.index) else {
            return Fed::Skipped(None);
        };
        self.position.index += 1;
        self.messages_fed += 1;
        let received_ms = message.received_ms();
        let Some(topic) = self.recording.topic(message.channel) else {
            return Fed::Skipped(None);
        };
        if topic == OPERATOR_TOPIC {
            return match serde_json::from_slice(&message.payload) {
                Ok(action) => Fed::OperatorAction(action),
                Err(error) => Fed::Skipped(Some(format!(
                    "recorded operator action not understood: {error}"
                ))),
            };
        }
        self.decoder
            .decode(topic, &message.payload, received_ms, &mut self.decoded);
        self.decoded.drain_events(topic, received_ms, out);
        Fed::Data
    }

    pub fn checkpoint(&self) -> CursorCheckpoint {
        CursorCheckpoint {
            position: self.position,
            decoder: self.decoder.clone(),
        }
    }

    /// Back (or forward) to a checkpoint of this recording.
    pub fn restore(&mut self, checkpoint: &CursorCheckpoint) {
        self.decoder = checkpoint.decoder.clone();
        let reload = checkpoint.position.chunk != self.position.chunk || self.chunk.is_empty();
        self.position = checkpoint.position;
        if reload {
            self.load_chunk();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{DEMO_LAYOUT_PATH, DEMO_LAYOUT_TEXT};
    use crate::record::RecordingContext;
    use crate::sim::{SimConfig, SimFormat, Simulator};

    /// Every ingest event of the rest of the recording, in order.
    fn drain(cursor: &mut ReplayCursor) -> Vec<IngestEvent> {
        let mut events = vec![];
        while cursor.next_time_ms().is_some() {
            cursor.feed_next(&mut events);
        }
        events
    }

    #[test]
    fn a_restored_checkpoint_replays_exactly_what_followed_it() {
        let layout =
            parse_layout(DEMO_LAYOUT_TEXT, std::path::Path::new(DEMO_LAYOUT_PATH)).expect("demo");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sim.mcap");
        let config = SimConfig {
            format: SimFormat::Sparkplug,
            ..SimConfig::default()
        };
        let context = RecordingContext {
            layout_ron: DEMO_LAYOUT_TEXT.into(),
            bindings_ron: None,
            baseline_ron: None,
            degradation_ron: vec![],
            source: "test".into(),
        };
        let finished = crate::record::simulate_recording(
            &path,
            &mut Simulator::new(&layout, config),
            &context,
            12.0,
            1.0,
            1_700_000_000_000,
        )
        .expect("recorded");
        let recording = Arc::new(Recording::open(&path, None).expect("opens"));
        assert!(
            recording.chunk_count() > 2,
            "one chunk per simulated second"
        );
        let stored = recording_layout(&recording, &layout).expect("stored layout");
        assert_eq!(stored, layout);
        let decoder = recording_decoder(&recording, &stored).expect("decoder");

        let mut cursor = ReplayCursor::new(recording, decoder);
        let mut first_half = vec![];
        let half_ms = 1_700_000_000_000 + 6_000;
        while cursor.next_time_ms().is_some_and(|t| t < half_ms) {
            assert_eq!(cursor.feed_next(&mut first_half), Fed::Data);
        }
        let checkpoint = cursor.checkpoint();
        let rest = drain(&mut cursor);
        assert_eq!(cursor.messages_fed, finished.messages);
        assert_eq!(cursor.read_errors, 0);
        assert!(!first_half.is_empty() && !rest.is_empty());

        // Sparkplug sessions (births, sequence numbers) come back with the decoder: the rerun
        // reports no sequence gap or unborn node that the first run did not.
        cursor.restore(&checkpoint);
        assert_eq!(drain(&mut cursor), rest);
    }
}
