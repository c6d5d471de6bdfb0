//! Writes recordings: one MCAP channel per topic, JSON payloads on "json" channels and
//! Sparkplug B payloads on "protobuf" channels with the Sparkplug schema, zstd chunks closed
//! every [`super::FLUSH_INTERVAL`] by the recorder, the context of the run as attachments.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Seek, Write};
use std::path::Path;

use mcap::records::{MessageHeader, Metadata};
use mcap::{Attachment, WriteOptions, Writer};

use super::{
    BASELINE_ATTACHMENT, BINDINGS_ATTACHMENT, LAYOUT_ATTACHMENT, METADATA_NAME, RawMessage,
};

/// Sparkplug B's protobuf schema as an encoded FileDescriptorSet (built by build.rs).
pub const SPARKPLUG_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/sparkplug_b.fds"));
/// The message type of every Sparkplug payload.
pub const SPARKPLUG_SCHEMA_NAME: &str = "org.eclipse.tahu.protobuf.Payload";
/// Value of the `format` metadata key; bumped if the meaning of the file changes.
pub const FORMAT: &str = "plant-twin-recording/1";

/// What a replay needs besides the messages: the plant and how topics map onto it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordingContext {
    pub layout_ron: String,
    pub bindings_ron: Option<String>,
    /// What the detectors knew when the recording started, so a replay scores the same.
    pub baseline_ron: Option<String>,
    /// The learned degradation models in force: (attachment name, RON text).
    pub degradation_ron: Vec<(String, String)>,
    /// Where the data came from ("mqtt://broker:1883", "built-in simulator").
    pub source: String,
}

/// A finished recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub messages: u64,
    pub bytes: u64,
}

/// Writes messages as they arrive. Not thread-safe by itself: the recorder thread owns it.
pub struct RecordingWriter {
    writer: Writer<CountingWriter<BufWriter<File>>>,
    channels: HashMap<String, u16>,
    sparkplug_schema: Option<u16>,
    sequence: u32,
    messages: u64,
    written: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl RecordingWriter {
    /// Creates (truncates) the file and writes the header, metadata and attachments.
    pub fn create(path: &Path, context: &RecordingContext) -> mcap::McapResult<RecordingWriter> {
        let file = File::create(path)?;
        Self::new(CountingWriter::new(BufWriter::new(file)), context)
    }

    fn new(
        out: CountingWriter<BufWriter<File>>,
        context: &RecordingContext,
    ) -> mcap::McapResult<RecordingWriter> {
        let options = WriteOptions::new()
            .compression(Some(mcap::Compression::Zstd))
            .profile("")
            .library(format!("plant-twin {}", env!("CARGO_PKG_VERSION")))
            // Chunks are closed by time (flush); the size limit only bounds bursts.
            .chunk_size(Some(8 << 20))
            // Per-channel indexes of every one-second chunk cost more than the data at 1 Hz;
            // readers seek by the chunk index (time range per chunk) instead.
            .emit_message_indexes(false);
        let written = out.written.clone();
        let mut writer = options.create(out)?;
        let now_ns = now_ns();
        let mut metadata = BTreeMap::new();
        metadata.insert("format".to_string(), FORMAT.to_string());
        metadata.insert(
            "app_version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        );
        metadata.insert("source".to_string(), context.source.clone());
        metadata.insert("started_ns".to_string(), now_ns.to_string());
        writer.write_metadata(&Metadata {
            name: METADATA_NAME.to_string(),
            metadata,
        })?;
        let mut attach = |name: &str, text: &str| {
            writer.attach(&Attachment {
                log_time: now_ns,
                create_time: now_ns,
                name: name.to_string(),
                media_type: "application/x-ron".to_string(),
                data: Cow::Borrowed(text.as_bytes()),
            })
        };
        attach(LAYOUT_ATTACHMENT, &context.layout_ron)?;
        if let Some(bindings) = &context.bindings_ron {
            attach(BINDINGS_ATTACHMENT, bindings)?;
        }
        if let Some(baseline) = &context.baseline_ron {
            attach(BASELINE_ATTACHMENT, baseline)?;
        }
        for (name, text) in &context.degradation_ron {
            attach(name, text)?;
        }
        // Written now so that even a file cut a second later is a valid recording.
        writer.flush()?;
        Ok(RecordingWriter {
            writer,
            channels: HashMap::new(),
            sparkplug_schema: None,
            sequence: 0,
            messages: 0,
            written,
        })
    }

    /// Adds one message (to the open chunk).
    pub fn write(&mut self, message: &RawMessage) -> mcap::McapResult<()> {
        let channel_id = match self.channels.get(&message.topic) {
            Some(id) => *id,
            None => self.add_channel(&message.topic)?,
        };
        let time_ns = (message.received_ms.max(0) as u64).saturating_mul(1_000_000);
        self.sequence = self.sequence.wrapping_add(1);
        self.messages += 1;
        self.writer.write_to_known_channel(
            &MessageHeader {
                channel_id,
                sequence: self.sequence,
                log_time: time_ns,
                publish_time: time_ns,
            },
            &message.payload,
        )
    }

    fn add_channel(&mut self, topic: &str) -> mcap::McapResult<u16> {
        let sparkplug = crate::telemetry::sparkplug::SparkplugTopic::parse(topic).is_some();
        let (schema, encoding) = if sparkplug {
            let schema = match self.sparkplug_schema {
                Some(id) => id,
                None => {
                    let id = self.writer.add_schema(
                        SPARKPLUG_SCHEMA_NAME,
                        "protobuf",
                        SPARKPLUG_DESCRIPTOR_SET,
                    )?;
                    self.sparkplug_schema = Some(id);
                    id
                }
            };
            (schema, "protobuf")
        } else {
            // Unified Namespace topics carry JSON; schemaless JSON channels open in Foxglove.
            (0, "json")
        };
        let id = self
            .writer
            .add_channel(schema, topic, encoding, &BTreeMap::new())?;
        self.channels.insert(topic.to_string(), id);
        Ok(id)
    }

    /// Closes the open chunk and pushes it to the file.
    pub fn flush(&mut self) -> mcap::McapResult<()> {
        self.writer.flush()
    }

    /// Bytes handed to the file so far.
    pub fn bytes_written(&self) -> u64 {
        self.written.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Writes the index and summary and closes the file.
    pub fn finish(mut self) -> mcap::McapResult<Finished> {
        self.writer.finish()?;
        let mut out = self.writer.into_inner();
        out.flush()?;
        let bytes = out.written.load(std::sync::atomic::Ordering::Relaxed);
        out.inner
            .into_inner()
            .map_err(|e| mcap::McapError::Io(e.into_error()))?
            .sync_all()?;
        Ok(Finished {
            messages: self.messages,
            bytes,
        })
    }
}

/// Counts bytes on their way to the file, so the UI can show the size without a syscall. The
/// count is shared: the MCAP writer owns the stream.
pub struct CountingWriter<W> {
    inner: W,
    position: u64,
    written: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<W> CountingWriter<W> {
    fn new(inner: W) -> Self {
        CountingWriter {
            inner,
            position: 0,
            written: Default::default(),
        }
    }
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.position += n as u64;
        self.written
            .fetch_max(self.position, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write + Seek> Seek for CountingWriter<W> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.position = self.inner.seek(pos)?;
        Ok(self.position)
    }
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
