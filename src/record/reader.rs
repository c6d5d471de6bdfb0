//! Opens recordings for replay: walks the file's top-level records (chunks, attachments,
//! metadata) without decompressing, takes channels from the summary when the file has one, and
//! otherwise (a recorder that was killed) decompresses every chunk it can read to find them.
//! Whatever follows the first damaged record is reported, not fatal: a truncated recording
//! replays every whole chunk it holds.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use mcap::records::{ChunkHeader, Record};

use super::writer::{RecordingContext, RecordingWriter};
use super::{
    BASELINE_ATTACHMENT, BINDINGS_ATTACHMENT, LAYOUT_ATTACHMENT, METADATA_NAME, RawMessage,
};

const MAGIC: &[u8] = b"\x89MCAP0\r\n";
const OP_CHUNK: u8 = 0x06;
const OP_FOOTER: u8 = 0x02;
/// Records are an opcode and a little-endian u64 length before the body.
const RECORD_PREFIX: usize = 9;

#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not an MCAP file (no MCAP magic at the start)")]
    NotMcap { path: PathBuf },
    #[error("{path}: {what}")]
    Invalid { path: PathBuf, what: String },
}

/// A channel of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelInfo {
    pub topic: String,
    pub message_encoding: String,
    pub messages: u64,
}

/// Where reading stopped in a damaged file.
#[derive(Debug, Clone, PartialEq)]
pub struct Damage {
    /// Byte offset of the first record that could not be read.
    pub at_byte: u64,
    pub file_bytes: u64,
    pub reason: String,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "damaged after byte {} of {} ({}); everything before it was recovered",
            self.at_byte, self.file_bytes, self.reason
        )
    }
}

#[derive(Debug, Clone)]
struct ChunkRef {
    /// The chunk record's body in the file.
    body: Range<usize>,
    start_ns: u64,
    end_ns: u64,
}

/// One recorded message.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedMessage {
    pub time_ns: u64,
    pub channel: u16,
    pub payload: Vec<u8>,
}

impl RecordedMessage {
    /// Receive time in ms since the epoch, as the decoder saw it live.
    pub fn received_ms(&self) -> i64 {
        (self.time_ns / 1_000_000) as i64
    }
}

/// An opened recording: the file in memory and an index of its chunks.
#[derive(Debug)]
pub struct Recording {
    pub path: PathBuf,
    bytes: Vec<u8>,
    chunks: Vec<ChunkRef>,
    pub channels: BTreeMap<u16, ChannelInfo>,
    /// The `plant-twin` metadata record (empty for files of other tools).
    pub metadata: BTreeMap<String, String>,
    pub context: RecordingContext,
    /// Whether the file had its summary (a cleanly finished recording).
    pub indexed: bool,
    pub damage: Option<Damage>,
    /// Messages outside chunks (other writers); not replayed.
    pub loose_messages: u64,
}

impl Recording {
    /// Reads and indexes a recording. `progress` (0 to 1000) is updated while indexing.
    pub fn open(path: &Path, progress: Option<&AtomicU32>) -> Result<Recording, RecordingError> {
        let bytes = std::fs::read(path).map_err(|source| RecordingError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(path, bytes, progress)
    }

    pub fn from_bytes(
        path: &Path,
        bytes: Vec<u8>,
        progress: Option<&AtomicU32>,
    ) -> Result<Recording, RecordingError> {
        if !bytes.starts_with(MAGIC) {
            return Err(RecordingError::NotMcap {
                path: path.to_path_buf(),
            });
        }
        let mut recording = Recording {
            path: path.to_path_buf(),
            bytes: vec![],
            chunks: vec![],
            channels: BTreeMap::new(),
            metadata: BTreeMap::new(),
            context: RecordingContext::default(),
            indexed: false,
            damage: None,
            loose_messages: 0,
        };
        let mut top_channels = BTreeMap::new();
        recording.scan_top_level(&bytes, &mut top_channels);
        let summary = if recording.damage.is_none() {
            mcap::Summary::read(&bytes).ok().flatten()
        } else {
            None
        };
        match summary {
            Some(summary) if !summary.channels.is_empty() || recording.chunks.is_empty() => {
                recording.indexed = true;
                let counts = summary
                    .stats
                    .as_ref()
                    .map(|s| s.channel_message_counts.clone())
                    .unwrap_or_default();
                for (id, channel) in &summary.channels {
                    recording.channels.insert(
                        *id,
                        ChannelInfo {
                            topic: channel.topic.clone(),
                            message_encoding: channel.message_encoding.clone(),
                            messages: counts.get(id).copied().unwrap_or(0),
                        },
                    );
                }
            }
            _ => {
                recording.channels = top_channels;
                recording.index_chunks(&bytes, progress);
            }
        }
        if let Some(progress) = progress {
            progress.store(1000, Ordering::Relaxed);
        }
        recording.bytes = bytes;
        Ok(recording)
    }

    /// Walks the records between the magic bytes; stops at the first one that is cut or
    /// unreadable and notes where.
    fn scan_top_level(&mut self, bytes: &[u8], channels: &mut BTreeMap<u16, ChannelInfo>) {
        let mut offset = MAGIC.len();
        let file_bytes = bytes.len() as u64;
        let damage = |at: usize, reason: String| Damage {
            at_byte: at as u64,
            file_bytes,
            reason,
        };
        while offset < bytes.len() {
            if bytes.len() - offset < RECORD_PREFIX {
                self.damage = Some(damage(offset, "the file ends inside a record".into()));
                return;
            }
            let opcode = bytes[offset];
            let mut length = [0u8; 8];
            length.copy_from_slice(&bytes[offset + 1..offset + RECORD_PREFIX]);
            let length = u64::from_le_bytes(length);
            let body_start = offset + RECORD_PREFIX;
            let available = (bytes.len() - body_start) as u64;
            if length > available {
                self.damage = Some(damage(
                    offset,
                    format!(
                        "the file ends inside a record ({length} bytes announced, {available} there)"
                    ),
                ));
                return;
            }
            let body = body_start..body_start + length as usize;
            if opcode == OP_FOOTER {
                return;
            }
            match mcap::parse_record(opcode, &bytes[body.clone()]) {
                Ok(Record::Chunk { header, .. }) => self.chunks.push(ChunkRef {
                    body: body.clone(),
                    start_ns: header.message_start_time,
                    end_ns: header.message_end_time,
                }),
                Ok(Record::Attachment { header, data, .. }) => {
                    let text = String::from_utf8_lossy(&data).into_owned();
                    match header.name.as_str() {
                        LAYOUT_ATTACHMENT => self.context.layout_ron = text,
                        BINDINGS_ATTACHMENT => self.context.bindings_ron = Some(text),
                        BASELINE_ATTACHMENT => self.context.baseline_ron = Some(text),
                        _ => {}
                    }
                }
                Ok(Record::Metadata(metadata)) if metadata.name == METADATA_NAME => {
                    self.context.source =
                        metadata.metadata.get("source").cloned().unwrap_or_default();
                    self.metadata = metadata.metadata;
                }
                Ok(Record::Channel(channel)) => {
                    channels.insert(
                        channel.id,
                        ChannelInfo {
                            topic: channel.topic,
                            message_encoding: channel.message_encoding,
                            messages: 0,
                        },
                    );
                }
                Ok(Record::Message { .. }) => self.loose_messages += 1,
                Ok(_) => {}
                Err(error) => {
                    self.damage = Some(damage(offset, error.to_string()));
                    return;
                }
            }
            offset = body.end;
        }
    }

    /// Without a summary: decompresses every chunk for its channels and message counts. A
    /// chunk that does not decompress ends the usable part of the file.
    fn index_chunks(&mut self, bytes: &[u8], progress: Option<&AtomicU32>) {
        let total = bytes.len().max(1) as u64;
        let mut usable = self.chunks.len();
        for (i, chunk) in self.chunks.iter().enumerate() {
            if let Some(progress) = progress {
                progress.store(
                    (chunk.body.start as u64 * 1000 / total) as u32,
                    Ordering::Relaxed,
                );
            }
            let result = read_chunk(bytes, chunk, |record| match record {
                Record::Channel(channel) => {
                    self.channels.entry(channel.id).or_insert(ChannelInfo {
                        topic: channel.topic,
                        message_encoding: channel.message_encoding,
                        messages: 0,
                    });
                }
                Record::Message { header, .. } => {
                    if let Some(info) = self.channels.get_mut(&header.channel_id) {
                        info.messages += 1;
                    }
                }
                _ => {}
            });
            if let Err(reason) = result {
                self.damage = Some(Damage {
                    at_byte: (chunk.body.start - RECORD_PREFIX) as u64,
                    file_bytes: bytes.len() as u64,
                    reason,
                });
                usable = i;
                break;
            }
        }
        self.chunks.truncate(usable);
    }

    /// Messages in the file (that replay).
    pub fn message_count(&self) -> u64 {
        self.channels.values().map(|c| c.messages).sum()
    }

    pub fn chunk_count(&self) -> usize {
        self.chunks.len()
    }

    /// Receive time of the first and last message, ns since the epoch.
    pub fn time_range_ns(&self) -> Option<(u64, u64)> {
        let start = self.chunks.iter().map(|c| c.start_ns).min()?;
        let end = self.chunks.iter().map(|c| c.end_ns).max()?;
        Some((start, end))
    }

    /// The chunk holding time `time_ns`: the last whose first message is at or before it.
    pub fn chunk_at(&self, time_ns: u64) -> usize {
        self.chunks
            .partition_point(|c| c.start_ns <= time_ns)
            .saturating_sub(1)
    }

    /// First message time of a chunk.
    pub fn chunk_start_ns(&self, chunk: usize) -> Option<u64> {
        self.chunks.get(chunk).map(|c| c.start_ns)
    }

    /// The messages of one chunk, in file order.
    pub fn chunk_messages(&self, chunk: usize) -> Result<Vec<RecordedMessage>, String> {
        let Some(chunk) = self.chunks.get(chunk) else {
            return Ok(vec![]);
        };
        let mut messages = vec![];
        read_chunk(&self.bytes, chunk, |record| {
            if let Record::Message { header, data } = record {
                messages.push(RecordedMessage {
                    time_ns: header.log_time,
                    channel: header.channel_id,
                    payload: data.into_owned(),
                });
            }
        })?;
        Ok(messages)
    }

    /// The topic of a channel.
    pub fn topic(&self, channel: u16) -> Option<&str> {
        self.channels.get(&channel).map(|c| c.topic.as_str())
    }

    /// File size in bytes.
    pub fn file_bytes(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// A human summary: what `plant-twin recording info` prints.
    pub fn describe(&self, topics_shown: usize) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(out, "file:       {}", self.path.display());
        let _ = writeln!(out, "size:       {} bytes", self.bytes.len());
        match self.time_range_ns() {
            Some((start, end)) => {
                let _ = writeln!(
                    out,
                    "time:       {} to {} UTC",
                    utc_text(start),
                    utc_text(end)
                );
                let _ = writeln!(out, "duration:   {:.1} s", (end - start) as f64 / 1e9);
            }
            None => {
                let _ = writeln!(out, "time:       (no messages)");
            }
        }
        let _ = writeln!(out, "messages:   {}", self.message_count());
        let _ = writeln!(out, "chunks:     {}", self.chunks.len());
        let _ = writeln!(out, "topics:     {}", self.channels.len());
        if !self.context.source.is_empty() {
            let _ = writeln!(out, "source:     {}", self.context.source);
        }
        let _ = writeln!(
            out,
            "layout:     {}",
            if self.context.layout_ron.is_empty() {
                "none (not a plant-twin recording: replays on the current layout)"
            } else {
                "stored in the file"
            }
        );
        let _ = writeln!(
            out,
            "index:      {}",
            if self.indexed {
                "present"
            } else {
                "missing (the recording was not finished; `recording recover` rewrites it)"
            }
        );
        if let Some(damage) = &self.damage {
            let _ = writeln!(out, "damage:     {damage}");
        }
        if self.loose_messages > 0 {
            let _ = writeln!(
                out,
                "ignored:    {} messages outside chunks",
                self.loose_messages
            );
        }
        let mut channels: Vec<_> = self.channels.values().collect();
        channels.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.topic.cmp(&b.topic)));
        for channel in channels.iter().take(topics_shown) {
            let _ = writeln!(
                out,
                "  {:>10}  {:<8}  {}",
                channel.messages, channel.message_encoding, channel.topic
            );
        }
        if channels.len() > topics_shown {
            let _ = writeln!(
                out,
                "  ... and {} more topics",
                channels.len() - topics_shown
            );
        }
        out
    }

    /// Rewrites everything this file holds into a clean, indexed recording at `out` (written
    /// beside it first, then renamed into place). Returns the messages written.
    pub fn recover_into(&self, out: &Path) -> Result<u64, String> {
        let temporary = crate::fsutil::temporary_path(out);
        let result = (|| {
            let mut writer = RecordingWriter::create(&temporary, &self.context)
                .map_err(|e| format!("cannot write {}: {e}", temporary.display()))?;
            let mut written = 0;
            for chunk in 0..self.chunks.len() {
                for message in self.chunk_messages(chunk)? {
                    let Some(topic) = self.topic(message.channel) else {
                        continue;
                    };
                    writer
                        .write(&RawMessage {
                            topic: topic.to_string(),
                            received_ms: message.received_ms(),
                            payload: message.payload,
                        })
                        .map_err(|e| e.to_string())?;
                    written += 1;
                }
                writer.flush().map_err(|e| e.to_string())?;
            }
            writer.finish().map_err(|e| e.to_string())?;
            std::fs::rename(&temporary, out)
                .map_err(|e| format!("cannot rename into {}: {e}", out.display()))?;
            Ok(written)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        result
    }
}

fn read_chunk(
    bytes: &[u8],
    chunk: &ChunkRef,
    mut each: impl FnMut(Record<'_>),
) -> Result<(), String> {
    let Some(body) = bytes.get(chunk.body.clone()) else {
        return Err("chunk outside the file".into());
    };
    let (header, data): (ChunkHeader, _) = match mcap::parse_record(OP_CHUNK, body) {
        Ok(Record::Chunk { header, data }) => (header, data),
        Ok(_) => return Err("not a chunk".into()),
        Err(e) => return Err(e.to_string()),
    };
    let reader = mcap::read::ChunkReader::new(header, &data).map_err(|e| e.to_string())?;
    for record in reader {
        each(record.map_err(|e| format!("chunk does not decompress: {e}"))?);
    }
    Ok(())
}

/// "2026-11-22 14:02:11.250" for ns since the epoch.
pub fn utc_text(time_ns: u64) -> String {
    let ms = (time_ns / 1_000_000) as i64;
    let seconds = ms.div_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03}",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        ms.rem_euclid(1000)
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_gregorian() {
        assert_eq!(utc_text(0), "1970-01-01 00:00:00.000");
        assert_eq!(
            utc_text(1_790_000_000_123_000_000),
            "2026-09-21 14:13:20.123"
        );
    }

    #[test]
    fn a_file_without_magic_is_refused() {
        let error = Recording::from_bytes(Path::new("x.mcap"), b"hello".to_vec(), None)
            .expect_err("refused");
        assert!(error.to_string().contains("not an MCAP file"), "{error}");
    }
}
