//! The project's own files (layouts, bindings, baselines, wall settings, recordings): one error
//! for every file that is refused, with file:line:column per problem, and atomic saves, so a
//! crash never leaves half a file.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A 1-based line and column (columns count characters, as RON's own errors do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct TextPosition {
    pub line: usize,
    pub col: usize,
}

/// One problem found in a file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileIssue {
    /// Where in the file; `None` when the file could not be read at all.
    pub position: Option<TextPosition>,
    pub message: String,
}

/// Why a file (layout, bindings, baseline, wall settings) was refused: every problem found,
/// with where it is. Displayed one `FILE:LINE:COLUMN: message` per line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", IssueList { file, issues })]
pub struct FileError {
    pub file: PathBuf,
    pub issues: Vec<FileIssue>,
}

impl FileError {
    /// The file could not be read at all.
    pub fn unreadable(file: &Path, error: &std::io::Error) -> FileError {
        FileError::without_position(file, format!("cannot read the file: {error}"))
    }

    /// One problem with no place in the text.
    pub fn without_position(file: &Path, message: impl Into<String>) -> FileError {
        FileError {
            file: file.to_path_buf(),
            issues: vec![FileIssue {
                position: None,
                message: message.into(),
            }],
        }
    }

    /// A RON syntax or type error, at the position RON reports.
    pub fn ron(file: &Path, error: &ron::error::SpannedError) -> FileError {
        FileError {
            file: file.to_path_buf(),
            issues: vec![ron_issue(error)],
        }
    }
}

struct IssueList<'a> {
    file: &'a Path,
    issues: &'a [FileIssue],
}

impl fmt::Display for IssueList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, issue) in self.issues.iter().enumerate() {
            if n > 0 {
                writeln!(f)?;
            }
            match issue.position {
                Some(TextPosition { line, col }) => {
                    write!(f, "{}:{line}:{col}: {}", self.file.display(), issue.message)?
                }
                None => write!(f, "{}: {}", self.file.display(), issue.message)?,
            }
        }
        Ok(())
    }
}

/// A RON syntax or type error as a located issue (every RON file of the project reports them
/// this way: layouts, bindings, baselines, wall settings).
pub fn ron_issue(error: &ron::error::SpannedError) -> FileIssue {
    FileIssue {
        position: Some(TextPosition {
            line: error.span.start.line,
            col: error.span.start.col,
        }),
        message: error.code.to_string(),
    }
}

/// A file that belongs to a layout and lives next to it: `plant.ron` -> `plant.<what>.ron`
/// (bindings, prediction baseline).
pub fn companion_path(layout_path: &Path, what: &str) -> PathBuf {
    let stem = layout_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    layout_path.with_file_name(format!("{stem}.{what}.ron"))
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so
/// readers see the old file or the new one, never a partial one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = temporary_path(path);
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// A hidden temporary name beside `path`, for writers that stream before renaming into place.
pub fn temporary_path(path: &Path) -> PathBuf {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    directory.join(format!(".{name}.tmp-{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("out.json");
        write_atomic(&path, b"first").expect("write");
        write_atomic(&path, b"second").expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(write_atomic(&dir.path().join("missing/x"), b"").is_err());
    }
}
