//! Recordings without Bevy: raw MQTT (or simulator) messages as they arrived, in MCAP.
//!
//! The ingest threads offer every message to a [`RecordTap`]; while a recording runs, the tap
//! hands a copy to the recorder thread (`plant-recorder`), which writes it with
//! [`writer::RecordingWriter`]. The tap never blocks: if the recorder falls behind, messages are
//! counted as dropped instead of slowing the ingest. [`reader::Recording`] opens a file again
//! (indexed or damaged) for replay, `recording info` and `recording recover`.

pub mod reader;
pub mod replay;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use crate::telemetry::tap::{RawMessage, RecordTap};

pub use reader::{Recording, RecordingError};
pub use writer::{RecordingContext, RecordingWriter};

/// Name of the metadata record that marks a plant-twin recording.
pub const METADATA_NAME: &str = "plant-twin";
/// Attachment holding the layout in force when recording started (RON).
pub const LAYOUT_ATTACHMENT: &str = "layout.ron";
/// Attachment holding the topic bindings file in force, if there was one (RON).
pub const BINDINGS_ATTACHMENT: &str = "bindings.ron";
/// Attachment holding what the detectors had learned when recording started (RON).
pub const BASELINE_ATTACHMENT: &str = "baseline.ron";
/// Attachments holding the learned degradation models in force (RON), one each, named
/// `degradation/<kind>.ron`: a replay estimates remaining life as the recorded session did.
pub const DEGRADATION_ATTACHMENT_PREFIX: &str = "degradation/";
/// Topic of the operators' alarm actions (acknowledge, shelve...) in a recording: they change
/// alarm states, so a replay applies them where they happened.
pub const OPERATOR_TOPIC: &str = "plant-twin/operator/alarm";
/// How often the recorder closes a chunk: a crash loses at most this much.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// Messages the recorder may hold before the tap drops: seconds of a large plant.
const QUEUE_CAPACITY: usize = 1 << 18;

/// An operator's alarm action as recorded (JSON on [`OPERATOR_TOPIC`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OperatorAction {
    /// The alarms' (source) clock when it was applied, seconds since the epoch.
    pub time_s: f64,
    pub operator: String,
    #[serde(flatten)]
    pub action: OperatorActionKind,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum OperatorActionKind {
    Acknowledge {
        asset: String,
        component: Option<String>,
    },
    AcknowledgeAll,
    Shelve {
        asset: String,
        component: Option<String>,
        duration_s: f64,
    },
    Unshelve {
        asset: String,
        component: Option<String>,
    },
    /// Learn normal again: one asset, or all.
    Relearn {
        asset: Option<String>,
    },
}

/// Counters of a running recording, shared with its thread.
#[derive(Debug, Default)]
pub struct RecorderStats {
    pub messages: AtomicU64,
    /// Bytes written to the file so far (after compression).
    pub bytes: AtomicU64,
    /// Set when the thread stopped on a write error.
    pub failed: Mutex<Option<String>>,
}

/// A running recording: a named thread writing what the tap hands it.
pub struct Recorder {
    pub path: PathBuf,
    pub started: Instant,
    pub stats: Arc<RecorderStats>,
    tap: RecordTap,
    sender: Option<Sender<RawMessage>>,
    thread: Option<std::thread::JoinHandle<Result<writer::Finished, RecordingError>>>,
}

impl Recorder {
    /// Creates the file, writes the context (layout, bindings, baseline) and starts the
    /// `plant-recorder` thread; from now on, the tap's messages go to the file.
    pub fn start(
        path: &Path,
        context: &RecordingContext,
        tap: &RecordTap,
    ) -> Result<Recorder, RecordingError> {
        let writer =
            RecordingWriter::create(path, context).map_err(|source| RecordingError::Write {
                path: path.to_path_buf(),
                source,
            })?;
        let (sender, receiver) = crossbeam_channel::bounded(QUEUE_CAPACITY);
        let stats = Arc::new(RecorderStats::default());
        let thread_stats = stats.clone();
        let thread = std::thread::Builder::new()
            .name("plant-recorder".into())
            .spawn({
                let path = path.to_path_buf();
                move || record_loop(writer, &path, receiver, &thread_stats)
            })
            .map_err(RecordingError::Thread)?;
        tap.attach(sender.clone());
        Ok(Recorder {
            path: path.to_path_buf(),
            started: Instant::now(),
            stats,
            tap: tap.clone(),
            sender: Some(sender),
            thread: Some(thread),
        })
    }

    /// Messages written so far.
    pub fn messages(&self) -> u64 {
        self.stats.messages.load(Ordering::Relaxed)
    }

    /// Bytes in the file so far.
    pub fn bytes(&self) -> u64 {
        self.stats.bytes.load(Ordering::Relaxed)
    }

    /// Messages lost because the recorder fell behind.
    pub fn dropped(&self) -> u64 {
        self.tap.dropped()
    }

    /// The write error that stopped the recording, if any.
    pub fn failure(&self) -> Option<String> {
        self.stats.failed.lock().ok().and_then(|f| f.clone())
    }

    /// Stops taking messages, writes what is queued, the index and the summary.
    pub fn stop(mut self) -> Result<writer::Finished, RecordingError> {
        self.finish()
    }

    fn finish(&mut self) -> Result<writer::Finished, RecordingError> {
        self.tap.detach();
        // The thread ends when every sender is gone and the queue is drained.
        self.sender = None;
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .map_err(|_| RecordingError::RecorderPanicked)?,
            None => Err(RecordingError::AlreadyStopped),
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.finish();
        }
    }
}

fn record_loop(
    mut writer: RecordingWriter,
    path: &Path,
    receiver: Receiver<RawMessage>,
    stats: &RecorderStats,
) -> Result<writer::Finished, RecordingError> {
    // The error also goes to the stats, where the UI shows it while the thread is gone.
    let fail = |what: &str, source: mcap::McapError| {
        let error = RecordingError::Write {
            path: path.to_path_buf(),
            source,
        };
        if let Ok(mut failed) = stats.failed.lock() {
            *failed = Some(format!("{what}: {error}"));
        }
        error
    };
    let mut next_flush = Instant::now() + FLUSH_INTERVAL;
    loop {
        let wait = next_flush.saturating_duration_since(Instant::now());
        match receiver.recv_timeout(wait) {
            Ok(message) => {
                writer
                    .write(&message)
                    .map_err(|e| fail("recording stopped", e))?;
                stats.messages.fetch_add(1, Ordering::Relaxed);
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        }
        if Instant::now() >= next_flush {
            writer.flush().map_err(|e| fail("recording stopped", e))?;
            stats.bytes.store(writer.bytes_written(), Ordering::Relaxed);
            next_flush = Instant::now() + FLUSH_INTERVAL;
        }
    }
    let finished = writer
        .finish()
        .map_err(|e| fail("recording not finished", e))?;
    stats.bytes.store(finished.bytes, Ordering::Relaxed);
    Ok(finished)
}

/// Writes `seconds` of the simulator in simulated time (no waiting) as a recording starting at
/// `start_ms`: one chunk per simulated second, like the live recorder.
pub fn simulate_recording(
    path: &Path,
    simulator: &mut crate::sim::Simulator,
    context: &RecordingContext,
    seconds: f64,
    rate_hz: f64,
    start_ms: i64,
) -> Result<writer::Finished, RecordingError> {
    let fail = |source| RecordingError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut writer = RecordingWriter::create(path, context).map_err(fail)?;
    let steps = (seconds * rate_hz).round() as u64;
    let per_flush = rate_hz.round().max(1.0) as u64;
    let mut messages = vec![];
    for step in 0..steps {
        let t = step as f64 / rate_hz;
        let received_ms = start_ms + (t * 1000.0).round() as i64;
        simulator.messages(t, received_ms, &mut messages);
        for (topic, payload) in messages.drain(..) {
            writer
                .write(&RawMessage {
                    topic,
                    received_ms,
                    payload,
                })
                .map_err(fail)?;
        }
        if (step + 1) % per_flush == 0 {
            writer.flush().map_err(fail)?;
        }
    }
    writer.finish().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> RecordingContext {
        RecordingContext {
            layout_ron: "(name: \"x\")".into(),
            bindings_ron: None,
            baseline_ron: None,
            degradation_ron: vec![],
            source: "test".into(),
        }
    }

    #[test]
    fn sparkplug_topics_get_protobuf_channels_with_the_schema_and_json_topics_json() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("mixed.mcap");
        let mut writer = RecordingWriter::create(&path, &context()).expect("writer");
        let (topic, payload) = crate::telemetry::sparkplug::rebirth_request("g1", "edge-1", 5);
        for message in [
            RawMessage {
                topic: "acme/plant1/line1/cnc-101/spindle_power".into(),
                received_ms: 1,
                payload: b"{\"value\":1.5}".to_vec(),
            },
            RawMessage {
                topic,
                received_ms: 2,
                payload,
            },
        ] {
            writer.write(&message).expect("written");
        }
        writer.finish().expect("finished");
        let bytes = std::fs::read(&path).expect("read");
        let summary = mcap::Summary::read(&bytes)
            .expect("summary")
            .expect("present");
        let mut encodings: Vec<_> = summary
            .channels
            .values()
            .map(|c| {
                (
                    c.message_encoding.clone(),
                    c.schema
                        .as_ref()
                        .map(|s| (s.name.clone(), s.encoding.clone())),
                )
            })
            .collect();
        encodings.sort();
        assert_eq!(
            encodings,
            vec![
                ("json".to_string(), None),
                (
                    "protobuf".to_string(),
                    Some((
                        writer::SPARKPLUG_SCHEMA_NAME.to_string(),
                        "protobuf".to_string()
                    ))
                ),
            ]
        );
        // The schema is the compiled Sparkplug FileDescriptorSet, which names its package.
        let schema = summary.schemas.values().next().expect("one schema");
        assert_eq!(&schema.data[..], writer::SPARKPLUG_DESCRIPTOR_SET);
        let package = b"org.eclipse.tahu.protobuf";
        assert!(schema.data.windows(package.len()).any(|w| w == package));
    }

    #[test]
    fn a_tap_without_recorder_takes_nothing() {
        let tap = RecordTap::default();
        tap.offer("a/b", 1, b"{}");
        assert!(!tap.is_active());
        assert_eq!(tap.dropped(), 0);
    }

    #[test]
    fn the_recorder_writes_what_the_tap_offers_and_stops_cleanly() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("r.mcap");
        let tap = RecordTap::default();
        let recorder = Recorder::start(&path, &context(), &tap).expect("started");
        for i in 0..100 {
            tap.offer(
                "plant/a/temp",
                1_000 + i,
                format!("{{\"value\":{i}}}").as_bytes(),
            );
        }
        let finished = recorder.stop().expect("stopped");
        assert_eq!(finished.messages, 100);
        assert!(!tap.is_active());
        tap.offer("plant/a/temp", 5_000, b"{}");
        let recording = Recording::open(&path, None).expect("opened");
        assert_eq!(recording.message_count(), 100);
        assert!(recording.damage.is_none());
    }
}
