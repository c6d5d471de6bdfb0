//! `plant-twin eval`: the prediction code run on public labelled data sets, scored as their
//! authors score them, so our figures compare with published ones. No Bevy here.
//!
//! Each benchmark takes a directory laid out like the public distribution and finds its files
//! by pattern, not by name.

pub mod cmapss;
pub mod nab;
pub mod qap;
pub mod skab;

use std::path::{Path, PathBuf};

/// Every file under `dir` (recursively) whose name satisfies `keep`, sorted by path.
pub fn files_under(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> std::io::Result<Vec<PathBuf>> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if keep(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Seconds since the Unix epoch of `YYYY-MM-DD hh:mm:ss[.ffffff]` (UTC); None if malformed.
pub fn parse_datetime(text: &str) -> Option<f64> {
    let text = text.trim();
    let (date, time) = text.split_once([' ', 'T'])?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.splitn(3, ':');
    let hour: i64 = t.next()?.parse().ok()?;
    let minute: i64 = t.next()?.parse().ok()?;
    let second: f64 = t.next().unwrap_or("0").parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some((days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60) as f64 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A problem with a benchmark directory or file, with the path.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("{0}")]
    Other(String),
}

impl EvalError {
    pub fn file(path: &Path, message: impl Into<String>) -> EvalError {
        EvalError::File {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

pub fn read_text(path: &Path) -> Result<String, EvalError> {
    std::fs::read_to_string(path).map_err(|e| EvalError::file(path, format!("cannot read: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_parse_to_epoch_seconds() {
        assert_eq!(parse_datetime("1970-01-01 00:00:00"), Some(0.0));
        assert_eq!(parse_datetime("2000-03-01 00:00:01"), Some(951_868_801.0));
        assert_eq!(
            parse_datetime("2013-12-15 07:00:00.500000"),
            Some(1_387_090_800.5)
        );
        assert_eq!(parse_datetime("2013-13-15 07:00:00"), None);
        assert_eq!(parse_datetime("yesterday"), None);
    }
}
