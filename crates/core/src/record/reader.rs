//! Opens recordings for replay: walks the file's top-level records (chunks, attachments,
//! metadata) without decompressing, takes channels from the summary when the file has one, and
//! otherwise (a recorder that was killed) decompresses every chunk it can read to find them.
//! Whatever follows the first damaged record is reported, not fatal: a truncated recording
//! replays every whole chunk it holds.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use mcap::records::{ChunkHeader, Record};

use super::writer::{RecordingContext, RecordingWriter};
use super::{
    BASELINE_ATTACHMENT, BINDINGS_ATTACHMENT, DEGRADATION_ATTACHMENT_PREFIX, LAYOUT_ATTACHMENT,
    METADATA_NAME, RawMessage,
};

const MAGIC: &[u8] = b"\x89MCAP0\r\n";
const OP_CHUNK: u8 = 0x06;
const OP_FOOTER: u8 = 0x02;
/// Records are an opcode and a little-endian u64 length before the body.
const RECORD_PREFIX: usize = 9;
/// The footer's body: summary start, summary offset start (u64 each), summary CRC (u32).
const FOOTER_BODY: usize = 20;

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
    /// A chunk that is not one, or does not decompress.
    #[error("{path}: {problem}")]
    Chunk {
        path: PathBuf,
        problem: ChunkProblem,
    },
    /// Writing a recording (recording, recovering, simulating) failed.
    #[error("{path}: {source}")]
    Write {
        path: PathBuf,
        source: mcap::McapError,
    },
    #[error("cannot start the recorder thread: {0}")]
    Thread(std::io::Error),
    #[error("the recorder thread panicked")]
    RecorderPanicked,
    #[error("the recording was already stopped")]
    AlreadyStopped,
}

/// Why a chunk's records could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ChunkProblem {
    #[error("not a chunk")]
    NotAChunk,
    #[error("chunk does not decompress: {0}")]
    Mcap(#[from] mcap::McapError),
    /// A chunk claiming far more data than its compressed bytes can hold (a damaged or
    /// forged header): decompressing it would try to allocate that much and abort the app.
    #[error("chunk header claims {claimed} bytes from {compressed} compressed bytes")]
    ImplausibleSize { claimed: u64, compressed: u64 },
    #[error("chunk does not decompress: {0}")]
    Decompress(String),
}

/// The most a chunk may claim per compressed byte (zstd's best on repetitive telemetry is
/// far below; a claim above it is a damaged header, not data).
const MAX_EXPANSION: u64 = 1024;
/// A chunk may always claim this much, whatever its compressed size.
const MAX_SMALL_CHUNK: u64 = 16 << 20;

/// A channel of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelInfo {
    pub topic: String,
    pub message_encoding: String,
    pub messages: u64,
}

impl From<mcap::records::Channel> for ChannelInfo {
    /// A channel record, before its messages are counted.
    fn from(channel: mcap::records::Channel) -> ChannelInfo {
        ChannelInfo {
            topic: channel.topic,
            message_encoding: channel.message_encoding,
            messages: 0,
        }
    }
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

/// An opened recording: an index of its chunks, read from the file when needed (a one-hour
/// recording of a large plant is hundreds of MB; only the chunk being replayed is in memory).
#[derive(Debug)]
pub struct Recording {
    pub path: PathBuf,
    file: Mutex<File>,
    file_bytes: u64,
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
        let io = |source| RecordingError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(io)?;
        let file_bytes = file.metadata().map_err(io)?.len();
        let mut magic = [0u8; MAGIC.len()];
        if file_bytes < MAGIC.len() as u64 || file.read_exact(&mut magic).is_err() || magic != MAGIC
        {
            return Err(RecordingError::NotMcap {
                path: path.to_path_buf(),
            });
        }
        let mut recording = Recording {
            path: path.to_path_buf(),
            file: Mutex::new(file),
            file_bytes,
            chunks: vec![],
            channels: BTreeMap::new(),
            metadata: BTreeMap::new(),
            context: RecordingContext::default(),
            indexed: false,
            damage: None,
            loose_messages: 0,
        };
        let mut top_channels = BTreeMap::new();
        recording.scan_top_level(&mut top_channels).map_err(io)?;
        let summary = if recording.damage.is_none() {
            recording.read_summary().map_err(io)?
        } else {
            None
        };
        match summary {
            Some(channels) if !channels.is_empty() || recording.chunks.is_empty() => {
                recording.indexed = true;
                recording.channels = channels;
            }
            _ => {
                recording.channels = top_channels;
                recording.index_chunks(progress).map_err(io)?;
            }
        }
        if let Some(progress) = progress {
            progress.store(1000, Ordering::Relaxed);
        }
        Ok(recording)
    }

    /// `len` bytes at `offset` of the file.
    fn read_at(&self, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
        let mut file = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("the recording's file handle is poisoned"))?;
        file.seek(SeekFrom::Start(offset))?;
        let mut buffer = vec![0; len];
        file.read_exact(&mut buffer)?;
        Ok(buffer)
    }

    /// The channels and their message counts from the summary section, if the file was
    /// finished (it ends with a footer that points to one).
    fn read_summary(&self) -> std::io::Result<Option<BTreeMap<u16, ChannelInfo>>> {
        let tail = (FOOTER_BODY + RECORD_PREFIX + MAGIC.len()) as u64;
        if self.file_bytes < MAGIC.len() as u64 + tail {
            return Ok(None);
        }
        let end = self.read_at(self.file_bytes - tail, tail as usize)?;
        if end[0] != OP_FOOTER || !end.ends_with(MAGIC) {
            return Ok(None);
        }
        let mut start = [0u8; 8];
        start.copy_from_slice(&end[RECORD_PREFIX..RECORD_PREFIX + 8]);
        let summary_start = u64::from_le_bytes(start);
        let summary_end = self.file_bytes - tail;
        if summary_start == 0 || summary_start >= summary_end {
            return Ok(None);
        }
        let section = self.read_at(summary_start, (summary_end - summary_start) as usize)?;
        let mut channels: BTreeMap<u16, ChannelInfo> = BTreeMap::new();
        let mut counts = BTreeMap::new();
        for (opcode, body) in records(&section) {
            match mcap::parse_record(opcode, body) {
                Ok(Record::Channel(channel)) => {
                    channels.insert(channel.id, channel.into());
                }
                Ok(Record::Statistics(statistics)) => counts = statistics.channel_message_counts,
                Ok(_) => {}
                // A summary that does not parse: index the chunks instead.
                Err(_) => return Ok(None),
            }
        }
        for (id, channel) in &mut channels {
            channel.messages = counts.get(id).copied().unwrap_or(0);
        }
        Ok(Some(channels))
    }

    /// Walks the records between the magic bytes; stops at the first one that is cut or
    /// unreadable and notes where. Chunks are not read, only their headers' times.
    fn scan_top_level(&mut self, channels: &mut BTreeMap<u16, ChannelInfo>) -> std::io::Result<()> {
        let mut offset = MAGIC.len() as u64;
        let file_bytes = self.file_bytes;
        let damage = |at: u64, reason: String| Damage {
            at_byte: at,
            file_bytes,
            reason,
        };
        while offset < file_bytes {
            if file_bytes - offset < RECORD_PREFIX as u64 {
                self.damage = Some(damage(offset, "the file ends inside a record".into()));
                return Ok(());
            }
            let prefix = self.read_at(offset, RECORD_PREFIX)?;
            let opcode = prefix[0];
            let mut length = [0u8; 8];
            length.copy_from_slice(&prefix[1..]);
            let length = u64::from_le_bytes(length);
            let body_start = offset + RECORD_PREFIX as u64;
            let available = file_bytes - body_start;
            if length > available {
                self.damage = Some(damage(
                    offset,
                    format!(
                        "the file ends inside a record ({length} bytes announced, {available} there)"
                    ),
                ));
                return Ok(());
            }
            let body = body_start as usize..(body_start + length) as usize;
            if opcode == OP_FOOTER {
                return Ok(());
            }
            if opcode == OP_CHUNK {
                // The chunk header starts with the first and last message times.
                if length < 16 {
                    self.damage = Some(damage(offset, "a chunk too short for its header".into()));
                    return Ok(());
                }
                let times = self.read_at(body_start, 16)?;
                let time = |at: usize| {
                    let mut bytes = [0u8; 8];
                    bytes.copy_from_slice(&times[at..at + 8]);
                    u64::from_le_bytes(bytes)
                };
                self.chunks.push(ChunkRef {
                    body,
                    start_ns: time(0),
                    end_ns: time(8),
                });
                offset = body_start + length;
                continue;
            }
            let bytes = self.read_at(body_start, length as usize)?;
            match mcap::parse_record(opcode, &bytes) {
                Ok(Record::Attachment { header, data, .. }) => {
                    let text = String::from_utf8_lossy(&data).into_owned();
                    match header.name.as_str() {
                        LAYOUT_ATTACHMENT => self.context.layout_ron = text,
                        BINDINGS_ATTACHMENT => self.context.bindings_ron = Some(text),
                        BASELINE_ATTACHMENT => self.context.baseline_ron = Some(text),
                        name if name.starts_with(DEGRADATION_ATTACHMENT_PREFIX) => {
                            self.context.degradation_ron.push((name.to_string(), text))
                        }
                        _ => {}
                    }
                }
                Ok(Record::Metadata(metadata)) if metadata.name == METADATA_NAME => {
                    self.context.source =
                        metadata.metadata.get("source").cloned().unwrap_or_default();
                    self.metadata = metadata.metadata;
                }
                Ok(Record::Channel(channel)) => {
                    channels.insert(channel.id, channel.into());
                }
                Ok(Record::Message { .. }) => self.loose_messages += 1,
                Ok(_) => {}
                Err(error) => {
                    self.damage = Some(damage(offset, error.to_string()));
                    return Ok(());
                }
            }
            offset = body_start + length;
        }
        // Cut exactly between two records: nothing is broken, but the recording was never
        // closed (no footer), and a reader must say so rather than call the file whole.
        self.damage = Some(damage(
            offset,
            "the file ends without its footer (the recording was not closed)".into(),
        ));
        Ok(())
    }

    /// Without a summary: decompresses every chunk for its channels and message counts. A
    /// chunk that does not decompress ends the usable part of the file.
    fn index_chunks(&mut self, progress: Option<&AtomicU32>) -> std::io::Result<()> {
        let total = self.file_bytes.max(1);
        let mut usable = self.chunks.len();
        for i in 0..self.chunks.len() {
            let chunk = self.chunks[i].clone();
            if let Some(progress) = progress {
                progress.store(
                    (chunk.body.start as u64 * 1000 / total) as u32,
                    Ordering::Relaxed,
                );
            }
            let body = self.read_at(chunk.body.start as u64, chunk.body.len())?;
            let result = read_chunk(&body, |record| match record {
                Record::Channel(channel) => {
                    self.channels.entry(channel.id).or_insert(channel.into());
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
                    file_bytes: self.file_bytes,
                    reason: reason.to_string(),
                });
                usable = i;
                break;
            }
        }
        self.chunks.truncate(usable);
        Ok(())
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

    /// The messages of one chunk, in file order.
    pub fn chunk_messages(&self, chunk: usize) -> Result<Vec<RecordedMessage>, RecordingError> {
        let Some(chunk) = self.chunks.get(chunk) else {
            return Ok(vec![]);
        };
        let body = self
            .read_at(chunk.body.start as u64, chunk.body.len())
            .map_err(|source| RecordingError::Io {
                path: self.path.clone(),
                source,
            })?;
        let mut messages = vec![];
        read_chunk(&body, |record| {
            if let Record::Message { header, data } = record {
                messages.push(RecordedMessage {
                    time_ns: header.log_time,
                    channel: header.channel_id,
                    payload: data.into_owned(),
                });
            }
        })
        .map_err(|problem| RecordingError::Chunk {
            path: self.path.clone(),
            problem,
        })?;
        Ok(messages)
    }

    /// The topic of a channel.
    pub fn topic(&self, channel: u16) -> Option<&str> {
        self.channels.get(&channel).map(|c| c.topic.as_str())
    }

    /// File size in bytes.
    pub fn file_bytes(&self) -> u64 {
        self.file_bytes
    }

    /// A human summary: what `plant-twin recording info` prints.
    pub fn describe(&self, topics_shown: usize) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(out, "file:       {}", self.path.display());
        let _ = writeln!(out, "size:       {} bytes", self.file_bytes);
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
    pub fn recover_into(&self, out: &Path) -> Result<u64, RecordingError> {
        let temporary = crate::files::temporary_path(out);
        let write_error = |source| RecordingError::Write {
            path: temporary.clone(),
            source,
        };
        let result = (|| {
            let mut writer =
                RecordingWriter::create(&temporary, &self.context).map_err(write_error)?;
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
                        .map_err(write_error)?;
                    written += 1;
                }
                writer.flush().map_err(write_error)?;
            }
            writer.finish().map_err(write_error)?;
            std::fs::rename(&temporary, out).map_err(|source| RecordingError::Io {
                path: out.to_path_buf(),
                source,
            })?;
            Ok(written)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        result
    }
}

/// The records of a chunk record's body, decompressed.
fn read_chunk(body: &[u8], mut each: impl FnMut(Record<'_>)) -> Result<(), ChunkProblem> {
    let (header, data): (ChunkHeader, _) = match mcap::parse_record(OP_CHUNK, body)? {
        Record::Chunk { header, data } => (header, data),
        _ => return Err(ChunkProblem::NotAChunk),
    };
    let compressed = data.len() as u64;
    let plausible = if header.compression.is_empty() {
        header.uncompressed_size == compressed
    } else {
        header.uncompressed_size <= MAX_SMALL_CHUNK.max(compressed.saturating_mul(MAX_EXPANSION))
    };
    if !plausible {
        return Err(ChunkProblem::ImplausibleSize {
            claimed: header.uncompressed_size,
            compressed,
        });
    }
    // Decompressed here, into exactly the size the (checked) header claims, and walked with
    // our own bounds-checked record reader: the mcap crate's chunk reader trusts the record
    // lengths inside a chunk and reserved 3.4 EB for a damaged one (found by
    // `cargo bench --bench fuzz`), which aborts the process.
    let decompressed: std::borrow::Cow<'_, [u8]> = match header.compression.as_str() {
        "" => std::borrow::Cow::Borrowed(&data[..]),
        "zstd" => std::borrow::Cow::Owned(
            zstd::bulk::decompress(&data, header.uncompressed_size as usize)
                .map_err(|e| ChunkProblem::Decompress(e.to_string()))?,
        ),
        other => {
            return Err(ChunkProblem::Decompress(format!(
                "unknown compression {other:?}"
            )));
        }
    };
    if decompressed.len() as u64 != header.uncompressed_size {
        return Err(ChunkProblem::Decompress(format!(
            "{} bytes where the header says {}",
            decompressed.len(),
            header.uncompressed_size
        )));
    }
    let mut rest: &[u8] = &decompressed;
    while !rest.is_empty() {
        let Some((opcode, body, after)) = next_record(rest) else {
            return Err(ChunkProblem::Decompress("a record is cut off".into()));
        };
        each(mcap::parse_record(opcode, body)?);
        rest = after;
    }
    Ok(())
}

/// The first (opcode, body) of `bytes` and what follows it; None if it is cut off.
fn next_record(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let opcode = *bytes.first()?;
    let length: [u8; 8] = bytes.get(1..RECORD_PREFIX)?.try_into().ok()?;
    let length = usize::try_from(u64::from_le_bytes(length)).ok()?;
    let end = RECORD_PREFIX.checked_add(length)?;
    Some((opcode, bytes.get(RECORD_PREFIX..end)?, &bytes[end..]))
}

/// The (opcode, body) records of a run of records (a summary section); stops at a cut one.
fn records(mut bytes: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    std::iter::from_fn(move || {
        if bytes.len() < RECORD_PREFIX {
            return None;
        }
        let opcode = bytes[0];
        let mut length = [0u8; 8];
        length.copy_from_slice(&bytes[1..RECORD_PREFIX]);
        let length = usize::try_from(u64::from_le_bytes(length)).ok()?;
        let body = bytes.get(RECORD_PREFIX..RECORD_PREFIX.checked_add(length)?)?;
        bytes = &bytes[RECORD_PREFIX + length..];
        Some((opcode, body))
    })
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

    /// One MCAP record: opcode, little-endian u64 length, body.
    fn record(opcode: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![opcode];
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(body);
        out
    }

    fn mcap_string(text: &str) -> Vec<u8> {
        let mut out = (text.len() as u32).to_le_bytes().to_vec();
        out.extend_from_slice(text.as_bytes());
        out
    }

    /// Found by `cargo bench --bench fuzz`: a zstd chunk whose inner record claims an absurd
    /// length made the mcap crate reserve 3.4 EB and abort the whole app. Now the chunk is
    /// damage, reported, and the file still opens.
    #[test]
    fn a_chunk_whose_record_claims_exabytes_is_damage_not_an_abort() {
        let mut inner = vec![0x05];
        inner.extend_from_slice(&0x3030_3030_3030_3030u64.to_le_bytes());
        inner.extend_from_slice(b"0000");
        let compressed = zstd::bulk::compress(&inner, 3).expect("compressed");
        let mut chunk = vec![];
        chunk.extend_from_slice(&1u64.to_le_bytes());
        chunk.extend_from_slice(&2u64.to_le_bytes());
        chunk.extend_from_slice(&(inner.len() as u64).to_le_bytes());
        chunk.extend_from_slice(&0u32.to_le_bytes());
        chunk.extend_from_slice(&mcap_string("zstd"));
        chunk.extend_from_slice(&(compressed.len() as u64).to_le_bytes());
        chunk.extend_from_slice(&compressed);
        let mut file = MAGIC.to_vec();
        let mut header = mcap_string("");
        header.extend_from_slice(&mcap_string("test"));
        file.extend(record(0x01, &header));
        file.extend(record(OP_CHUNK, &chunk));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("forged.mcap");
        std::fs::write(&path, &file).expect("write");
        match Recording::open(&path, None) {
            Ok(recording) => {
                assert!(recording.damage.is_some(), "no damage reported");
                assert_eq!(recording.message_count(), 0);
            }
            Err(error) => assert!(!error.to_string().is_empty()),
        }
    }

    #[test]
    fn a_file_without_magic_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.mcap");
        std::fs::write(&path, b"hello").expect("write");
        let error = Recording::open(&path, None).expect_err("refused");
        assert!(error.to_string().contains("not an MCAP file"), "{error}");
    }
}
