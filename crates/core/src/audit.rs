//! The audit trail: every operator action appended to a JSON-lines file, each line carrying the
//! BLAKE3 hash of the previous one and its own, so a changed, removed or reordered line breaks
//! the chain where it happened (`plant-twin audit verify FILE`).
//!
//! A line is written with one `write` on a file opened for appending and synced before the
//! action counts as recorded: a crash loses at most the line being written, and `verify` then
//! names it. The chain proves order and integrity, not authorship: whoever can rewrite the
//! whole file can rewrite the chain (keep a copy of the last hash elsewhere, or ship the file
//! to a write-once store, where that matters).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The `prev` of the first line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// What separates a line's hashed part from its hash: the hash is the last field.
const HASH_FIELD: &str = ",\"hash\":\"";

/// One line, as written: `hash` is the BLAKE3 of the line's text before `,"hash":"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub time_ms: i64,
    pub operator: String,
    /// What was done: `acknowledge`, `shelve`, `relearn`, `save_baseline`, `save_layout`...
    pub action: String,
    /// The action's particulars (asset, component, duration, file...).
    #[serde(default)]
    pub detail: serde_json::Value,
    /// Hash of the previous line ([`GENESIS`] for the first).
    pub prev: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {problem}")]
    Broken {
        path: PathBuf,
        line: usize,
        problem: String,
    },
}

/// An audit file open for appending.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: std::fs::File,
    next_seq: u64,
    last_hash: String,
}

impl AuditLog {
    /// Opens (or creates, with its directory) an audit file and continues its chain. A file
    /// whose last line was cut off by a crash is continued after that line, which `verify`
    /// keeps reporting: nothing is removed from an audit file.
    pub fn open(path: &Path) -> Result<AuditLog, AuditError> {
        let io = |source| AuditError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(error) => return Err(io(error)),
        };
        let (next_seq, last_hash) = text
            .lines()
            .rev()
            .find_map(|line| {
                let (entry, hash) = parse_line(line).ok()?;
                Some((entry.seq + 1, hash.to_string()))
            })
            .unwrap_or((0, GENESIS.to_string()));
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        if !text.is_empty() && !text.ends_with('\n') {
            file.write_all(b"\n").map_err(io)?;
        }
        Ok(AuditLog {
            path: path.to_path_buf(),
            file,
            next_seq,
            last_hash,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one action and syncs it to disk.
    pub fn append(
        &mut self,
        time_ms: i64,
        operator: &str,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<(), AuditError> {
        let entry = AuditEntry {
            seq: self.next_seq,
            time_ms,
            operator: operator.to_string(),
            action: action.to_string(),
            detail,
            prev: self.last_hash.clone(),
        };
        let (line, hash) = encode(&entry);
        let io = |source| AuditError::Io {
            path: self.path.clone(),
            source,
        };
        self.file.write_all(line.as_bytes()).map_err(io)?;
        self.file.sync_data().map_err(io)?;
        self.next_seq += 1;
        self.last_hash = hash;
        Ok(())
    }
}

/// The line of an entry (with its newline) and its hash.
pub fn encode(entry: &AuditEntry) -> (String, String) {
    let body = serde_json::to_string(entry).unwrap_or_default();
    // `body` is `{...}`: the hash goes in as the last field.
    let hashed = &body[..body.len().saturating_sub(1)];
    let hash = blake3::hash(hashed.as_bytes()).to_hex().to_string();
    (format!("{hashed}{HASH_FIELD}{hash}\"}}\n"), hash)
}

/// A line's entry and its stored hash, if the hash matches the text before it.
fn parse_line(line: &str) -> Result<(AuditEntry, &str), String> {
    let at = line
        .rfind(HASH_FIELD)
        .ok_or("not an audit entry (no hash)")?;
    let hash = line[at + HASH_FIELD.len()..]
        .strip_suffix("\"}")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or("not an audit entry (malformed hash: cut off?)")?;
    if blake3::hash(&line.as_bytes()[..at]).to_hex().as_str() != hash {
        return Err("altered: its text does not match its hash".into());
    }
    let entry: AuditEntry = serde_json::from_str(&format!("{}}}", &line[..at]))
        .map_err(|e| format!("not an audit entry: {e}"))?;
    Ok((entry, hash))
}

/// Checks a whole audit file: every line intact, in sequence, chained to the one before.
/// Returns the number of entries, or the first line (1-based) that breaks the chain.
pub fn verify(path: &Path, text: &str) -> Result<u64, AuditError> {
    let broken = |line: usize, problem: String| AuditError::Broken {
        path: path.to_path_buf(),
        line,
        problem,
    };
    let mut prev = GENESIS.to_string();
    let mut expected_seq = 0u64;
    for (n, line) in text.lines().enumerate() {
        let (entry, hash) = parse_line(line).map_err(|problem| broken(n + 1, problem))?;
        if entry.prev != prev {
            return Err(broken(
                n + 1,
                if entry.seq == expected_seq + 1 {
                    format!("entry {expected_seq} is missing (or was moved)")
                } else if entry.seq > expected_seq {
                    format!(
                        "entries {expected_seq} to {} are missing (or were moved)",
                        entry.seq - 1
                    )
                } else {
                    format!(
                        "entry {} does not follow the line before (lines removed, reordered or inserted)",
                        entry.seq
                    )
                },
            ));
        }
        if entry.seq != expected_seq {
            return Err(broken(
                n + 1,
                format!("entry {} where {expected_seq} was due", entry.seq),
            ));
        }
        prev = hash.to_string();
        expected_seq += 1;
    }
    Ok(expected_seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(dir: &Path, count: usize) -> (PathBuf, String) {
        let path = dir.join("audit").join("trail.jsonl");
        let mut log = AuditLog::open(&path).expect("opened");
        for i in 0..count {
            log.append(
                1_000 + i as i64,
                "ana",
                "acknowledge",
                serde_json::json!({"asset": format!("pump-{i:02}")}),
            )
            .expect("appended");
        }
        let text = std::fs::read_to_string(&path).expect("read");
        (path, text)
    }

    #[test]
    fn an_intact_chain_verifies_and_reopening_continues_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, _) = written(dir.path(), 3);
        let mut log = AuditLog::open(&path).expect("reopened");
        log.append(
            5_000,
            "ben",
            "shelve",
            serde_json::json!({"duration_s": 900}),
        )
        .expect("appended");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(verify(&path, &text).expect("intact"), 4);
    }

    #[test]
    fn a_changed_removed_or_reordered_line_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, text) = written(dir.path(), 5);
        let lines: Vec<&str> = text.lines().collect();
        let line_of = |result: Result<u64, AuditError>| match result {
            Err(AuditError::Broken { line, .. }) => line,
            other => panic!("not broken: {other:?}"),
        };
        // Changed: the operator of line 3.
        let changed = text
            .replacen("\"ana\"", "\"eve\"", 3)
            .replacen("\"eve\"", "\"ana\"", 2);
        assert_eq!(line_of(verify(&path, &changed)), 3);
        // Removed: line 2.
        let removed = [lines[0], lines[2], lines[3], lines[4]].join("\n");
        assert_eq!(line_of(verify(&path, &removed)), 2);
        // Reordered: lines 4 and 5 swapped.
        let swapped = [lines[0], lines[1], lines[2], lines[4], lines[3]].join("\n");
        assert_eq!(line_of(verify(&path, &swapped)), 4);
        // Cut off by a crash: the last line is named, and the log continues after it.
        let cut = &text[..text.len() - 10];
        std::fs::write(&path, cut).expect("written");
        assert_eq!(line_of(verify(&path, cut)), 5);
        let mut log = AuditLog::open(&path).expect("reopened");
        log.append(9_000, "ana", "relearn", serde_json::Value::Null)
            .expect("appended");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(line_of(verify(&path, &text)), 5);
        assert_eq!(text.lines().count(), 6);
    }
}
