//! Operating modes of an asset: running, idle, load levels, product changeovers.
//!
//! A machine on a duty cycle has two or more normal states. One detector per signal learns a
//! spread wide enough for all of them, and still flags every stop as a deviation (the smoothed
//! value leaves the slow baseline); a failure-horizon trend then heads for the lower limit on
//! every stop. So the asset's state is placed among the modes seen while learning, and each
//! signal is scored against what is normal *in the current mode*.
//!
//! The state is the vector of the asset's latest signal values, each as a fraction of its normal
//! range (so no learning is needed to compare signals of different units). Modes are found
//! online while learning (leader clustering: a state far from every known mode opens a new one,
//! at most [`MAX_MODES`]); rare modes (transitions) are dropped when learning ends. The
//! distance to a mode ignores the worst third of the signals, so one failing signal does not
//! move its asset into another mode: it stays a deviation in the mode its healthy signals show.
//! Bounded work per sample: at most `MAX_MODES x signals`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Most modes an asset learns.
pub const MAX_MODES: usize = 4;
/// A state this far from every known mode (root mean square of fractions of the signals'
/// normal ranges) opens a new mode while learning.
pub const NEW_MODE_DISTANCE: f64 = 0.25;
/// Modes with less than this share of the learning samples are transitions, not modes.
pub const MIN_MODE_SHARE: f64 = 0.02;
/// A signal that moved this far (fraction of its normal range) since the asset was last
/// placed among its modes has it placed again.
const RECHECK_DISTANCE: f64 = 0.05;
/// A signal this far outside its normal range (in fractions of it) says nothing about the mode:
/// a fault or a counter.
const MODE_SIGNAL_RANGE: (f64, f64) = (-1.0, 2.0);

/// A mode as saved in a baseline file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeBaseline {
    /// Where each signal sits in this mode, as a fraction of its normal range, by signal id.
    pub centre: BTreeMap<String, f64>,
    /// Share of the learning samples spent in this mode.
    pub share: f64,
    /// Each signal's smoothed level and spread in this mode, by signal id.
    pub signals: BTreeMap<String, ModeSignalBaseline>,
}

/// A signal's normal in one mode: where its smoothed value sits and how far it strays.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeSignalBaseline {
    pub level: f64,
    pub sigma: f64,
}

/// One signal in one mode: a smoothed value on the mode's clock and, once learned, its level
/// and spread in the mode. Six numbers: a 10,000-asset plant keeps one per mode and signal.
#[derive(Debug, Clone, Copy)]
struct ModeSignal {
    /// Smoothed value (about ten seconds of the mode's clock); NaN before the first sample.
    fast: f64,
    last_clock_s: f64,
    /// Welford sums of `fast` while learning.
    count: f64,
    mean: f64,
    m2: f64,
    /// Learned spread of `fast` in the mode; NaN while learning.
    sigma: f64,
}

impl ModeSignal {
    fn new(saved: Option<ModeSignalBaseline>) -> ModeSignal {
        ModeSignal {
            fast: f64::NAN,
            last_clock_s: 0.0,
            count: 0.0,
            mean: saved.map_or(0.0, |b| b.level),
            m2: 0.0,
            sigma: saved.map_or(f64::NAN, |b| b.sigma),
        }
    }

    fn update(&mut self, clock_s: f64, value: f64, fast_tau_s: f64, learning: bool) {
        if self.fast.is_nan() {
            self.fast = value;
        } else {
            // Repeated timestamps (a mode just entered) count as one typical second.
            let dt = (clock_s - self.last_clock_s).max(0.0);
            let dt = if dt > 0.0 { dt } else { 1.0 };
            self.fast += (value - self.fast) * (dt / (fast_tau_s + dt));
        }
        self.last_clock_s = clock_s;
        if learning && self.sigma.is_nan() {
            self.count += 1.0;
            let delta = self.fast - self.mean;
            self.mean += delta / self.count;
            self.m2 += delta * (self.fast - self.mean);
        }
    }

    fn finish(&mut self, floor: f64) {
        if self.sigma.is_nan() && self.count >= 2.0 {
            self.sigma = (self.m2 / (self.count - 1.0)).sqrt().max(floor);
        }
    }

    /// Signed distance from the mode's level, in the mode's sigmas, once learned.
    fn deviation(&self, floor: f64) -> Option<f64> {
        (self.sigma.is_finite() && self.fast.is_finite())
            .then(|| (self.fast - self.mean) / self.sigma.max(floor))
    }

    fn baseline(&self) -> Option<ModeSignalBaseline> {
        self.sigma.is_finite().then_some(ModeSignalBaseline {
            level: self.mean,
            sigma: self.sigma,
        })
    }
}

/// The modes of one asset and which one it is in. Kept in flat arrays (mode-major), so that
/// placing the asset reads one contiguous block: at 10,000 assets the cost per sample is the
/// memory it touches.
#[derive(Debug, Clone)]
pub struct Modes {
    /// Signals of the asset.
    n: usize,
    /// Per mode, per signal: where the signal sits in the mode (fraction of its normal range).
    centres: Vec<f64>,
    /// Per mode, per signal, while discovering: sum and count of the positions seen.
    sums: Vec<(f64, u64)>,
    /// Per mode: samples seen while learning.
    samples: Vec<u64>,
    /// Per mode: time spent in it, seconds. A mode's detectors run on this clock, so that a
    /// stint in another mode is not a gap (after a gap a detector's smoothing would jump to the
    /// raw value and compare noise with the spread of a smoothed value).
    clocks: Vec<f64>,
    /// Per mode, per signal: its smoothed value and what is normal for it in the mode.
    signals: Vec<ModeSignal>,
    /// Per signal: (low of the normal range, its width), to place values as fractions of it.
    scale: Vec<(f64, f64)>,
    floors: Vec<f64>,
    /// The asset's state: each signal's latest value as a fraction of its normal range.
    position: Vec<f64>,
    /// The state at the last placement among the modes; a signal that moved further than
    /// [`RECHECK_DISTANCE`] from it since asks for a new placement (most samples do not: the
    /// placement is the largest part of the cost per sample).
    placed_at: Vec<f64>,
    moved: bool,
    /// New modes are opened until this source time; `None` before the first sample.
    discover_until_s: Option<f64>,
    discovering: bool,
    current: Option<usize>,
    /// Source time of the last classification.
    last_time_s: f64,
}

impl Modes {
    /// Modes for signals with these normal ranges and sigma floors: a baseline's modes if
    /// given (then nothing new is opened), otherwise discovered while learning.
    pub fn new(
        normal: &[(f64, f64)],
        floors: &[f64],
        ids: &[&str],
        saved: &[ModeBaseline],
    ) -> Modes {
        let n = ids.len();
        let mut modes = Modes {
            n,
            centres: Vec::with_capacity(saved.len() * n),
            sums: vec![],
            samples: vec![],
            clocks: vec![],
            signals: Vec::with_capacity(saved.len() * n),
            scale: normal
                .iter()
                .map(|(low, high)| (*low, (high - low).abs().max(1e-12)))
                .collect(),
            floors: floors.to_vec(),
            position: vec![f64::NAN; n],
            placed_at: vec![f64::NAN; n],
            moved: true,
            discover_until_s: None,
            discovering: saved.is_empty(),
            current: None,
            last_time_s: f64::NEG_INFINITY,
        };
        for mode in saved {
            for id in ids {
                modes
                    .centres
                    .push(mode.centre.get(*id).copied().unwrap_or(f64::NAN));
                modes
                    .signals
                    .push(ModeSignal::new(mode.signals.get(*id).copied()));
            }
            modes.samples.push((mode.share * 1e6) as u64);
            modes.clocks.push(0.0);
        }
        modes
    }

    /// How many modes the asset has.
    pub fn count(&self) -> usize {
        self.samples.len()
    }

    /// Notes signal `signal`'s latest value.
    pub fn observe(&mut self, signal: usize, value: f64) {
        if let (Some(slot), Some((low, span))) =
            (self.position.get_mut(signal), self.scale.get(signal))
        {
            let x = (value - low) / span;
            *slot = if (MODE_SIGNAL_RANGE.0..=MODE_SIGNAL_RANGE.1).contains(&x) {
                x
            } else {
                f64::NAN
            };
            let placed = self.placed_at[signal];
            let far = (*slot - placed).abs() > RECHECK_DISTANCE;
            // NaN on one side only (a signal left or came back into range) is a move too.
            if far || slot.is_nan() != placed.is_nan() {
                self.moved = true;
            }
        }
    }

    /// The mode the asset is in at `time_s`, with every signal's latest value (classified at
    /// every sample: within one timestamp the signals of a machine that just stopped arrive
    /// one by one, and each is judged with the newest state); while learning, opens a new mode
    /// for a state far from every known one. `learn_s` is how long modes are discovered after
    /// the first sample.
    pub fn classify(&mut self, time_s: f64, learn_s: f64) -> Option<usize> {
        let until = *self.discover_until_s.get_or_insert(time_s + learn_s);
        if self.discovering && time_s > until {
            self.finish_discovery();
        }
        if !self.discovering && !self.moved && self.current.is_some() {
            self.advance_clock(time_s, self.current);
            return self.current;
        }
        self.moved = false;
        self.placed_at.copy_from_slice(&self.position);
        // Discovery measures the whole state (a mode may show in two signals of six); placing
        // the asset among known modes ignores its worst signals (one may be failing).
        let trim = !self.discovering;
        let mut nearest: Option<(usize, f64)> = None;
        for mode in 0..self.count() {
            let centre = &self.centres[mode * self.n..(mode + 1) * self.n];
            if let Some(d) = distance(&self.position, centre, trim)
                && nearest.is_none_or(|(_, best)| d < best)
            {
                nearest = Some((mode, d));
            }
        }
        let previous = self.current;
        if self.discovering && self.position.iter().any(|x| x.is_finite()) {
            match nearest {
                Some((i, d)) if d <= NEW_MODE_DISTANCE || self.count() >= MAX_MODES => {
                    self.absorb(i);
                    self.current = Some(i);
                }
                _ => self.current = Some(self.open_mode()),
            }
        } else {
            self.current = nearest.map(|(i, _)| i);
        }
        self.advance_clock(time_s, previous);
        self.current
    }

    /// The current mode's clock runs only while the asset is in it.
    fn advance_clock(&mut self, time_s: f64, previous: Option<usize>) {
        let elapsed = (time_s - self.last_time_s).max(0.0);
        self.last_time_s = self.last_time_s.max(time_s);
        if let Some(mode) = self.current
            && previous == self.current
            && elapsed.is_finite()
        {
            self.clocks[mode] += elapsed;
        }
    }

    fn open_mode(&mut self) -> usize {
        let mode = self.count();
        self.centres.extend_from_slice(&self.position);
        self.sums.extend(std::iter::repeat_n((0.0, 0), self.n));
        self.samples.push(0);
        self.clocks.push(0.0);
        self.signals
            .extend(std::iter::repeat_n(ModeSignal::new(None), self.n));
        self.absorb(mode);
        mode
    }

    fn absorb(&mut self, mode: usize) {
        self.samples[mode] += 1;
        let range = mode * self.n..(mode + 1) * self.n;
        for ((sum, count), (x, centre)) in self.sums[range.clone()]
            .iter_mut()
            .zip(self.position.iter().zip(&mut self.centres[range]))
        {
            if x.is_finite() {
                *sum += x;
                *count += 1;
                *centre = *sum / *count as f64;
            }
        }
    }

    /// Ends discovery: rare modes (transitions between the real ones) are dropped.
    pub fn finish_discovery(&mut self) {
        if !self.discovering {
            return;
        }
        self.discovering = false;
        let total: u64 = self.samples.iter().sum();
        let keep: Vec<bool> = self
            .samples
            .iter()
            .map(|s| total == 0 || *s as f64 >= MIN_MODE_SHARE * total as f64)
            .collect();
        let n = self.n.max(1);
        retain_modes(&mut self.centres, n, &keep);
        retain_modes(&mut self.signals, n, &keep);
        retain_modes(&mut self.samples, 1, &keep);
        retain_modes(&mut self.clocks, 1, &keep);
        for (index, signal) in self.signals.iter_mut().enumerate() {
            signal.finish(self.floors[index % n]);
        }
        self.sums = vec![];
        self.current = None;
        self.moved = true;
    }

    /// Forgets the modes and discovers them again from the next sample.
    pub fn relearn(&mut self) {
        self.centres.clear();
        self.sums.clear();
        self.samples.clear();
        self.clocks.clear();
        self.signals.clear();
        self.discover_until_s = None;
        self.discovering = true;
        self.current = None;
        self.moved = true;
    }

    /// The current mode, if the asset has been placed in one.
    pub fn current(&self) -> Option<usize> {
        self.current
    }

    /// The clock of mode `mode`, seconds in it so far.
    pub fn clock_s(&self, mode: usize) -> f64 {
        self.clocks.get(mode).copied().unwrap_or(0.0)
    }

    /// Feeds signal `signal`'s value to mode `mode` (on the mode's clock).
    pub fn update(&mut self, mode: usize, signal: usize, value: f64, fast_tau_s: f64) {
        let clock_s = self.clock_s(mode);
        let learning = self.discovering;
        if signal < self.n
            && let Some(slot) = self.signals.get_mut(mode * self.n + signal)
        {
            slot.update(clock_s, value, fast_tau_s, learning);
        }
    }

    /// Signal `signal`'s signed distance from what is normal in the current mode (sigmas),
    /// once that is known.
    pub fn deviation(&self, signal: usize) -> Option<f64> {
        let mode = self.current?;
        let floor = *self.floors.get(signal)?;
        (signal < self.n)
            .then(|| self.signals.get(mode * self.n + signal))
            .flatten()?
            .deviation(floor)
    }

    /// The modes as saved in a baseline file.
    pub fn baselines(&self, ids: &[&str]) -> Vec<ModeBaseline> {
        let total = self.samples.iter().sum::<u64>().max(1);
        (0..self.count())
            .map(|mode| {
                let range = mode * self.n..(mode + 1) * self.n;
                ModeBaseline {
                    centre: ids
                        .iter()
                        .zip(&self.centres[range.clone()])
                        .filter(|(_, c)| c.is_finite())
                        .map(|(id, c)| (id.to_string(), *c))
                        .collect(),
                    share: self.samples[mode] as f64 / total as f64,
                    signals: ids
                        .iter()
                        .zip(&self.signals[range])
                        .filter_map(|(id, s)| Some((id.to_string(), s.baseline()?)))
                        .collect(),
                }
            })
            .collect()
    }
}

/// Keeps the entries of the modes marked in `keep`, in a mode-major array of `per_mode`
/// entries per mode.
fn retain_modes<T>(entries: &mut Vec<T>, per_mode: usize, keep: &[bool]) {
    let mut index = 0;
    entries.retain(|_| {
        index += 1;
        keep.get((index - 1) / per_mode).copied().unwrap_or(false)
    });
}

/// Root mean square distance between a state and a mode's centre over the signals both know;
/// with `trim`, without the worst third of them (a failing signal must not move its asset to
/// another mode). No allocation, no sort: the few largest are subtracted.
fn distance(position: &[f64], centre: &[f64], trim: bool) -> Option<f64> {
    let mut sum = 0.0;
    let mut n = 0usize;
    // The largest squares, for trimming (a third of at most 12 signals; more are rare).
    let mut largest = [0.0f64; 4];
    for (x, c) in position.iter().zip(centre) {
        let square = (x - c) * (x - c);
        if square.is_finite() {
            sum += square;
            n += 1;
            if trim && square > largest[largest.len() - 1] {
                largest[largest.len() - 1] = square;
                largest.sort_unstable_by(|a, b| b.total_cmp(a));
            }
        }
    }
    if n == 0 {
        return None;
    }
    let dropped = if trim { (n / 3).min(largest.len()) } else { 0 };
    let kept = n - dropped;
    let sum = sum - largest[..dropped].iter().sum::<f64>();
    Some((sum.max(0.0) / kept as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modes(n: usize) -> Modes {
        Modes::new(&vec![(0.0, 10.0); n], &vec![0.01; n], &vec!["s"; n], &[])
    }

    fn at(modes: &mut Modes, t: f64, values: &[f64]) -> Option<usize> {
        for (i, v) in values.iter().enumerate() {
            modes.observe(i, *v);
        }
        modes.classify(t, 100.0)
    }

    #[test]
    fn a_duty_cycle_is_two_modes_and_transitions_are_dropped() {
        let mut m = modes(3);
        for t in 0..100 {
            let running = (t / 10) % 2 == 0;
            // One transitional sample per switch.
            let values = if t % 10 == 0 {
                [3.3, 3.3, 3.3]
            } else if running {
                [6.0, 5.0, 7.0]
            } else {
                [1.0, 0.5, 1.0]
            };
            at(&mut m, f64::from(t), &values);
        }
        m.finish_discovery();
        assert_eq!(m.count(), 2, "{:?}", m.samples);
        let running = at(&mut m, 200.0, &[6.1, 5.0, 7.0]);
        let idle = at(&mut m, 201.0, &[1.0, 0.6, 1.0]);
        assert!(running.is_some() && idle.is_some() && running != idle);
    }

    #[test]
    fn one_failing_signal_does_not_change_the_mode() {
        let mut m = modes(4);
        for t in 0..100 {
            let values = if t % 2 == 0 {
                [6.0, 5.0, 7.0, 6.0]
            } else {
                [1.0, 0.5, 1.0, 1.0]
            };
            at(&mut m, f64::from(t), &values);
        }
        m.finish_discovery();
        let running = at(&mut m, 200.0, &[6.0, 5.0, 7.0, 6.0]);
        // The fourth signal falls to the idle level alone: still running.
        assert_eq!(at(&mut m, 201.0, &[6.0, 5.0, 7.0, 1.0]), running);
    }

    #[test]
    fn saved_modes_are_used_as_they_are() {
        let mut m = modes(2);
        for t in 0..50 {
            let values = if t < 25 { [2.0, 2.0] } else { [8.0, 8.0] };
            at(&mut m, f64::from(t), &values);
        }
        m.finish_discovery();
        let saved = m.baselines(&["a", "b"]);
        assert_eq!(saved.len(), 2);
        assert!((saved[0].share - 0.5).abs() < 0.05, "{saved:?}");
        let mut again = Modes::new(&[(0.0, 10.0); 2], &[0.01; 2], &["a", "b"], &saved);
        // Nothing new is opened: a state between them goes to the nearer one.
        assert_eq!(at(&mut again, 0.0, &[7.0, 7.0]), Some(1));
        assert_eq!(again.count(), 2);
    }
}
