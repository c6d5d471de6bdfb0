//! SKAB (Skoltech Anomaly Benchmark): the published outlier-detection protocol. In every
//! labelled file the first 400 rows are normal operation to learn from, the rest is scored
//! point by point; counts are summed over all files.
//!
//! Two outputs of the app are scored: the anomaly score against the alarm threshold row by row,
//! and the alarm an operator is shown, which is that score through the ISA-18.2 alarm machine
//! (raised once the score held for the on-delay, cleared once it stayed under the threshold
//! minus the deadband for the off-delay), on the file's own clock.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{EvalError, files_under, parse_datetime, read_text};
use crate::predict::{AlarmConfig, AlarmMachine, DetectorConfig, Severity, SignalDetector};

/// Rows of each file the detectors learn from (the protocol's training part).
pub const TRAINING_ROWS: usize = 400;

/// One labelled SKAB file.
#[derive(Debug, Clone, PartialEq)]
pub struct SkabFile {
    pub path: PathBuf,
    /// Seconds since the epoch, per row.
    pub times: Vec<f64>,
    /// One column per signal.
    pub signals: Vec<Vec<f64>>,
    pub labels: Vec<bool>,
}

/// Point-wise confusion counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Confusion {
    pub tp: u64,
    pub fp: u64,
    pub fn_: u64,
    pub tn: u64,
}

impl Confusion {
    pub fn add(&mut self, predicted: bool, actual: bool) {
        match (predicted, actual) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, true) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }

    pub fn merge(&mut self, other: Confusion) {
        self.tp += other.tp;
        self.fp += other.fp;
        self.fn_ += other.fn_;
        self.tn += other.tn;
    }

    /// SKAB's F1: TP / (TP + (FP + FN) / 2).
    pub fn f1(&self) -> f64 {
        ratio(
            self.tp as f64,
            self.tp as f64 + (self.fp + self.fn_) as f64 / 2.0,
        )
    }

    /// False alarm rate: FP / (FP + TN).
    pub fn far(&self) -> f64 {
        ratio(self.fp as f64, (self.fp + self.tn) as f64)
    }

    /// Missed alarm rate: FN / (FN + TP).
    pub fn mar(&self) -> f64 {
        ratio(self.fn_ as f64, (self.fn_ + self.tp) as f64)
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// Parses a `;`-separated SKAB file; None when it has no `anomaly` column (the anomaly-free
/// file, which the protocol does not score).
pub fn parse(path: &Path, text: &str) -> Result<Option<SkabFile>, EvalError> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .ok_or_else(|| EvalError::file(path, "empty file"))?
        .split(';')
        .map(str::trim)
        .collect();
    let Some(label_col) = header.iter().position(|h| *h == "anomaly") else {
        return Ok(None);
    };
    let time_col = header.iter().position(|h| *h == "datetime");
    let signal_cols: Vec<usize> = (0..header.len())
        .filter(|&i| Some(i) != time_col && i != label_col && header[i] != "changepoint")
        .collect();
    let mut file = SkabFile {
        path: path.to_path_buf(),
        times: vec![],
        signals: vec![vec![]; signal_cols.len()],
        labels: vec![],
    };
    for (n, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(';').map(str::trim).collect();
        let row = n + 2;
        let number = |col: usize| -> Result<f64, EvalError> {
            fields
                .get(col)
                .and_then(|f| f.parse::<f64>().ok())
                .ok_or_else(|| {
                    EvalError::file(
                        path,
                        format!("line {row}: column {} is not a number", col + 1),
                    )
                })
        };
        let time = match time_col {
            Some(col) => fields
                .get(col)
                .and_then(|f| parse_datetime(f))
                .ok_or_else(|| EvalError::file(path, format!("line {row}: bad datetime")))?,
            None => n as f64,
        };
        file.times.push(time);
        for (signal, &col) in signal_cols.iter().enumerate() {
            file.signals[signal].push(number(col)?);
        }
        file.labels.push(number(label_col)? > 0.5);
    }
    Ok(Some(file))
}

/// The asset score (0..1) of every row: the detectors learn from the training rows, then
/// score each following row; the score is the largest standardised deviation, as in the app.
pub fn scores(file: &SkabFile, config: &DetectorConfig) -> Vec<f64> {
    let mut detectors: Vec<SignalDetector> = file
        .signals
        .iter()
        .map(|_| SignalDetector::new(None, 0.0))
        .collect();
    let learn = DetectorConfig {
        // Learning ends where the protocol says, not after a time.
        warm_up_s: f64::INFINITY,
        ..*config
    };
    let mut out = Vec::with_capacity(file.times.len());
    for (row, &time) in file.times.iter().enumerate() {
        if row == TRAINING_ROWS {
            for detector in &mut detectors {
                detector.finish_learning();
            }
        }
        let active = if row < TRAINING_ROWS { &learn } else { config };
        let mut worst: f64 = 0.0;
        for (detector, column) in detectors.iter_mut().zip(&file.signals) {
            worst = worst.max(detector.update(active, time, column[row]).abs());
        }
        out.push(config.score_of(worst));
    }
    out
}

/// Per row, whether the score is at or above `threshold`.
pub fn above(scores: &[f64], threshold: f64) -> Vec<bool> {
    scores.iter().map(|score| *score >= threshold).collect()
}

/// Per row, whether the app's alarm is raised: the scores through the alarm machine the app
/// runs per component, with the file's timestamps as its clock.
pub fn alarm_raised(file: &SkabFile, scores: &[f64], alarm: &AlarmConfig) -> Vec<bool> {
    let mut machine = AlarmMachine::default();
    file.times
        .iter()
        .zip(scores)
        .map(|(&time, &score)| {
            machine.update(alarm, time, score);
            machine.severity == Severity::Alarm
        })
        .collect()
}

/// The confusion counts of one file's test part, given what was flagged on each row.
pub fn confusion(file: &SkabFile, flagged: &[bool]) -> Confusion {
    let mut counts = Confusion::default();
    for (flag, &label) in flagged.iter().zip(&file.labels).skip(TRAINING_ROWS) {
        counts.add(*flag, label);
    }
    counts
}

/// Runs the benchmark on every labelled `.csv` under `dir`; returns the printed table.
pub fn run(dir: &Path, config: &DetectorConfig, alarm: &AlarmConfig) -> Result<String, EvalError> {
    let paths = files_under(dir, &|p| p.extension().is_some_and(|e| e == "csv"))
        .map_err(|e| EvalError::file(dir, format!("cannot list: {e}")))?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "SKAB outlier detection: first {TRAINING_ROWS} rows of each file learn, the rest is scored point by point"
    );
    let _ = writeln!(
        out,
        "score: anomaly score >= {:.2} ({:.1} sigma) on the row itself",
        alarm.alarm,
        alarm.alarm * config.full_scale_sigma
    );
    let _ = writeln!(
        out,
        "alarm: the alarm the app raises from that score (on-delay {} s, off-delay {} s, deadband {:.2})\n",
        alarm.on_delay_s, alarm.off_delay_s, alarm.deadband
    );
    let groups = format!("{:<35}  {:^20}  {:^20}", "", "score", "alarm");
    let _ = writeln!(out, "{}", groups.trim_end());
    let _ = writeln!(
        out,
        "{:<28} {:>6}  {:>6} {:>6} {:>6}  {:>6} {:>6} {:>6}",
        "file", "rows", "F1", "FAR", "MAR", "F1", "FAR", "MAR"
    );
    let row = |counts: [Confusion; 2]| {
        counts
            .iter()
            .map(|c| {
                format!(
                    "  {:>6.3} {:>5.1}% {:>5.1}%",
                    c.f1(),
                    c.far() * 100.0,
                    c.mar() * 100.0
                )
            })
            .collect::<String>()
    };
    let mut total = [Confusion::default(); 2];
    let mut scored = 0;
    for path in &paths {
        let Some(file) = parse(path, &read_text(path)?)? else {
            continue;
        };
        if file.times.len() <= TRAINING_ROWS {
            continue;
        }
        let scores = scores(&file, config);
        let counts = [
            confusion(&file, &above(&scores, alarm.alarm)),
            confusion(&file, &alarm_raised(&file, &scores, alarm)),
        ];
        for (total, counts) in total.iter_mut().zip(counts) {
            total.merge(counts);
        }
        scored += 1;
        let name = path.strip_prefix(dir).unwrap_or(path).display().to_string();
        let _ = writeln!(out, "{name:<28} {:>6}{}", file.times.len(), row(counts));
    }
    if scored == 0 {
        return Err(EvalError::Other(format!(
            "no labelled SKAB files (';'-separated .csv with an 'anomaly' column) under {}",
            dir.display()
        )));
    }
    let _ = writeln!(
        out,
        "{:<28} {:>6}{}",
        format!("all {scored} files"),
        "",
        row(total)
    );
    let _ = writeln!(
        out,
        "\npublished (34 files): Conv-AE F1 0.78 FAR 13.6% MAR 28.0%; MSET 0.78 / 39.7% / 14.1%; T2+Q 0.76 / 26.6% / 24.9%"
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skab_metrics_match_hand_counts() {
        let mut counts = Confusion::default();
        // 3 TP, 1 FP, 2 FN, 4 TN.
        for (p, a) in [
            (1, 1),
            (1, 1),
            (1, 1),
            (1, 0),
            (0, 1),
            (0, 1),
            (0, 0),
            (0, 0),
            (0, 0),
            (0, 0),
        ] {
            counts.add(p == 1, a == 1);
        }
        assert_eq!(
            counts,
            Confusion {
                tp: 3,
                fp: 1,
                fn_: 2,
                tn: 4
            }
        );
        assert!((counts.f1() - 3.0 / 4.5).abs() < 1e-12);
        assert!((counts.far() - 0.2).abs() < 1e-12);
        assert!((counts.mar() - 0.4).abs() < 1e-12);
    }

    #[test]
    fn the_alarm_waits_out_a_spike_and_holds_through_a_short_dip() {
        // One row a second: a 3-row spike, then a 40-row episode with a 4-row dip in it.
        let rows = 120;
        let mut scores = vec![0.0; rows];
        scores[10..13].fill(1.0);
        scores[50..90].fill(0.9);
        scores[65..69].fill(0.6);
        let file = SkabFile {
            path: PathBuf::from("t.csv"),
            times: (0..rows).map(|r| r as f64).collect(),
            signals: vec![],
            labels: (0..rows).map(|r| (50..90).contains(&r)).collect(),
        };
        let alarm = AlarmConfig::default();
        let raised = alarm_raised(&file, &scores, &alarm);
        let at_threshold = above(&scores, alarm.alarm);
        // Shorter than the on-delay: above the threshold, never an alarm.
        assert!(at_threshold[10..13].iter().all(|r| *r));
        assert!(!raised[..50].iter().any(|r| *r));
        // Raised once the score held for the on-delay, kept through the dip, cleared once
        // the score stayed low for the off-delay.
        let first = raised.iter().position(|r| *r);
        assert_eq!(first, Some(50 + alarm.on_delay_s as usize));
        assert!(raised[55..90].iter().all(|r| *r));
        assert!(!at_threshold[65..69].iter().any(|r| *r));
        let last = raised.iter().rposition(|r| *r);
        assert_eq!(last, Some(90 + alarm.off_delay_s as usize - 1));
        // The delays trade a late start for the dip and the tail: 5 rows missed at the
        // start, none in the dip, 10 flagged after the episode. (`confusion` skips the
        // training rows, more than this file has: counted here over every row.)
        let mut counts = Confusion::default();
        for (flag, label) in raised.iter().zip(&file.labels) {
            counts.add(*flag, *label);
        }
        assert_eq!(
            counts,
            Confusion {
                tp: 35,
                fp: 10,
                fn_: 5,
                tn: 70
            }
        );
    }

    #[test]
    fn a_small_file_is_parsed_and_scored_after_its_training_rows() {
        let mut text = String::from("datetime;a;b;anomaly;changepoint\n");
        for row in 0..600 {
            let wiggle = ((row * 7919) % 100) as f64 / 100.0;
            let step = if row >= 500 { 10.0 } else { 0.0 };
            let label = u8::from(row >= 500);
            let (minute, second) = (row / 60, row % 60);
            text.push_str(&format!(
                "2020-03-09 10:{minute:02}:{second:02};{};{};{label};0\n",
                1.0 + wiggle,
                5.0 + wiggle + step
            ));
        }
        let file = parse(Path::new("t.csv"), &text)
            .expect("parsed")
            .expect("labelled");
        assert_eq!(file.signals.len(), 2);
        assert_eq!(file.labels.iter().filter(|l| **l).count(), 100);
        let config = DetectorConfig::default();
        let scores = scores(&file, &config);
        assert!(scores[..TRAINING_ROWS].iter().all(|s| *s == 0.0));
        let counts = confusion(&file, &above(&scores, 0.75));
        assert_eq!(counts.fp, 0, "{counts:?}");
        assert!(counts.tp > 80, "{counts:?}");
        let unlabelled =
            parse(Path::new("free.csv"), "datetime;a\n2020-01-01 00:00:00;1\n").expect("ok");
        assert!(unlabelled.is_none());
        assert!(
            parse(
                Path::new("bad.csv"),
                "datetime;a;anomaly\n2020-01-01 00:00:00;x;0\n"
            )
            .is_err()
        );
    }
}
