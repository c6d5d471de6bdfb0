//! The streaming anomaly detector of one signal: a gated EWMA baseline.
//!
//! A fast EWMA (about ten seconds) smooths the signal; a slow EWMA (minutes) is its baseline,
//! the level the signal normally sits at. The score is how far the smoothed value is from the
//! baseline, in units of the spread that distance had while the signal was known to be good.
//! The baseline follows slow, normal drift, but only while the signal is close to it: once the
//! distance passes the gate, the baseline nearly stops, so a fault is not learned away as it
//! develops and the score returns to zero when the signal comes back.
//!
//! Two behaviours sit on top: a sensor that repeats one value far longer than it ever did while
//! learning is scored as frozen, and a counter (a value that only ever rose while learning) is
//! scored on its rate rather than its ever-growing level.
//!
//! Every step depends only on the sample's value and source time, so the same input sequence
//! gives the same scores whatever the frame rate (replays rely on it).

use serde::{Deserialize, Serialize};

/// Tuning of every signal detector. The defaults are the values measured on SKAB (see
/// ARCHITECTURE.md); times are seconds of source time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DetectorConfig {
    /// Time constant of the smoothing EWMA.
    pub fast_tau_s: f64,
    /// Time constant of the baseline EWMA.
    pub baseline_tau_s: f64,
    /// Above this distance (sigmas) the baseline follows the signal ever more slowly.
    pub gate_sigma: f64,
    /// How long a signal is watched before it is scored, when no saved baseline exists.
    pub warm_up_s: f64,
    /// Fewest samples a warm-up needs, however long it took.
    pub warm_up_min_samples: u32,
    /// The distance (sigmas) that maps to score 1.
    pub full_scale_sigma: f64,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            fast_tau_s: 10.0,
            baseline_tau_s: 333.0,
            gate_sigma: 4.0,
            warm_up_s: 600.0,
            warm_up_min_samples: 30,
            full_scale_sigma: 8.0,
        }
    }
}

impl DetectorConfig {
    /// Score in [0, 1] of a distance in sigmas.
    pub fn score_of(&self, sigma: f64) -> f64 {
        (sigma.abs() / self.full_scale_sigma).clamp(0.0, 1.0)
    }
}

/// A restart from a saved baseline first watches for this many fast time constants: levels
/// move between sessions (a machine warmer than when the baseline was saved), spreads do not.
const SETTLE_TAUS: f64 = 3.0;
/// Today's level replaces the saved one only if it is at least this far off (sigmas)...
const SETTLE_MIN_SIGMA: f64 = 2.0;
/// ...and at most this far.
const SETTLE_MAX_SIGMA: f64 = 8.0;

/// What a signal's detector learned while the signal was known to be good; saved next to the
/// layout so a restart scores at once.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SignalBaseline {
    /// Where the baseline EWMA stood at the end of learning.
    pub level: f64,
    /// Standard deviation of (smoothed - baseline) while learning: one sigma.
    pub sigma: f64,
    /// The longest the value stayed exactly unchanged while learning, seconds.
    pub longest_flat_s: f64,
    /// Typical time between samples, seconds.
    pub sample_interval_s: f64,
    /// The value only ever rose while learning: it is scored on its rate.
    #[serde(default)]
    pub counter: bool,
}

/// Welford's running mean and variance.
#[derive(Debug, Clone, Copy, Default)]
struct Running {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Running {
    fn push(&mut self, x: f64) {
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
    }

    fn sd(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            (self.m2 / (self.n - 1) as f64).sqrt()
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Learning {
    started_s: Option<f64>,
    samples: u32,
    residual: Running,
    raw: Running,
    longest_flat_s: f64,
    rose: u32,
    fell: u32,
    /// The same statistics of the rate, in case the signal turns out to be a counter.
    fast_rate: f64,
    rate_mean: Running,
    rate_residual: Running,
}

/// Why a signal scores what it scores.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// Not scored yet: still learning what normal looks like.
    #[default]
    Learning,
    /// Restarted from a saved baseline, re-reading today's level (half a minute): normal.
    Settling,
    /// Within its normal spread, or off it by `sigma` (signed: above or below the baseline).
    Deviation,
    /// The value has not changed for this long (seconds), longer than it ever did while learning.
    Frozen,
}

/// The detector of one signal.
#[derive(Debug, Clone)]
pub struct SignalDetector {
    learned: Option<SignalBaseline>,
    /// Only while learning: boxed, so a detector that scores is small (memory per signal is
    /// what a 10,000-asset plant pays for).
    learning: Option<Box<Learning>>,
    /// Used to keep a constant signal from having a zero sigma (e.g. 1 % of its normal range).
    sigma_floor: f64,
    fast: f64,
    baseline: f64,
    last_time_s: Option<f64>,
    last_value: f64,
    flat_since_s: f64,
    interval_s: f64,
    /// Started from a saved baseline: until this time, the mean of what arrives, which becomes
    /// the baseline's level if it is near the saved one.
    settling: Option<(f64, Running)>,
    /// Signed distance from the baseline, sigmas; the frozen score when frozen.
    pub sigma: f64,
    pub finding: Finding,
    /// Seconds the value has not changed.
    pub flat_s: f64,
}

impl SignalDetector {
    /// A detector that learns first (`baseline` = None) or scores at once from a saved baseline.
    /// `sigma_floor` is the smallest sigma the signal may have, in its own unit.
    pub fn new(baseline: Option<SignalBaseline>, sigma_floor: f64) -> SignalDetector {
        SignalDetector {
            learned: baseline,
            learning: baseline.is_none().then(Box::default),
            sigma_floor: sigma_floor.max(1e-12),
            fast: 0.0,
            baseline: baseline.map_or(0.0, |b| b.level),
            last_time_s: None,
            last_value: f64::NAN,
            flat_since_s: 0.0,
            interval_s: baseline.map_or(1.0, |b| b.sample_interval_s.max(1e-6)),
            settling: None,
            sigma: 0.0,
            finding: Finding::Learning,
            flat_s: 0.0,
        }
    }

    /// What was learned, once learning is over.
    pub fn baseline(&self) -> Option<SignalBaseline> {
        self.learned.map(|learned| SignalBaseline {
            level: self.baseline,
            ..learned
        })
    }

    /// The smoothed value now (about ten seconds of memory), in the signal's unit; a counter's
    /// smoothed rate per second.
    pub fn smoothed(&self) -> f64 {
        self.fast
    }

    /// Seconds of learning done, if still learning.
    pub fn learning_s(&self, now_s: f64) -> Option<f64> {
        match (
            self.learned,
            self.learning.as_ref().and_then(|l| l.started_s),
        ) {
            (None, Some(start)) => Some((now_s - start).max(0.0)),
            (None, None) => Some(0.0),
            (Some(_), _) => None,
        }
    }

    /// Forgets what was learned and learns again from the next sample.
    pub fn relearn(&mut self) {
        *self = SignalDetector::new(None, self.sigma_floor);
    }

    /// Feeds one sample (source time in seconds) and returns the new signed distance in sigmas
    /// (0 while learning).
    pub fn update(&mut self, config: &DetectorConfig, time_s: f64, value: f64) -> f64 {
        if !value.is_finite() {
            return self.sigma;
        }
        let Some(last_time) = self.last_time_s else {
            self.first_sample(time_s, value);
            if self.learned.is_some_and(|b| !b.counter) {
                let mut mean = Running::default();
                mean.push(value);
                self.settling = Some((time_s + SETTLE_TAUS * config.fast_tau_s, mean));
            }
            return self.sigma;
        };
        // Repeated or out-of-order timestamps still count, as one typical interval.
        let dt = if time_s > last_time {
            time_s - last_time
        } else {
            self.interval_s
        };
        self.interval_s += (dt - self.interval_s) * 0.05;
        let now = last_time.max(time_s);
        self.last_time_s = Some(now);

        let counter = self.learned.is_some_and(|b| b.counter);
        let delta = value - self.last_value;
        // Counters are watched through their rate; anything else through its value.
        let observed = if counter { delta / dt } else { value };
        if delta.abs() > 1e-12 * value.abs().max(1.0) {
            self.flat_since_s = now;
        }
        self.flat_s = now - self.flat_since_s;
        if self.learned.is_none() {
            let learning = self.learning_mut();
            if delta > 0.0 {
                learning.rose += 1;
            } else if delta < 0.0 {
                learning.fell += 1;
            }
        }
        self.last_value = value;

        let fast_alpha = 1.0 - (-dt / config.fast_tau_s).exp();
        let slow_alpha = 1.0 - (-dt / config.baseline_tau_s).exp();
        self.fast += (observed - self.fast) * fast_alpha;

        let Some(learned) = self.learned else {
            let rate = delta / dt;
            let learning = self.learning_mut();
            learning.fast_rate += (rate - learning.fast_rate) * fast_alpha;
            learning.rate_mean.push(rate);
            self.learn(config, now, value, slow_alpha);
            return self.sigma;
        };
        let sigma = learned.sigma.max(self.sigma_floor);
        if let Some((until, mut mean)) = self.settling.take() {
            mean.push(observed);
            if now < until {
                self.settling = Some((until, mean));
                self.sigma = 0.0;
                self.finding = Finding::Settling;
                return 0.0;
            }
            // Today's operating point, unless it is far off what was learned: then the saved
            // level stays and the signal is scored against it at once.
            // Near the saved level, the saved level stands: half a minute of a cycling signal
            // is a worse estimate than the minutes it was learned from.
            let offset = ((mean.mean - self.baseline) / sigma).abs();
            if offset > SETTLE_MIN_SIGMA && offset <= SETTLE_MAX_SIGMA {
                self.baseline = mean.mean;
            }
        }
        let distance = (self.fast - self.baseline) / sigma;
        // Past the gate the baseline slows with the square of the distance: a fault is not
        // learned away, yet a drift that crossed the gate on a noise peak is not lost for good.
        let follow = if distance.abs() < config.gate_sigma {
            1.0
        } else {
            (config.gate_sigma / distance).powi(2)
        };
        self.baseline += (observed - self.baseline) * slow_alpha * follow;
        let frozen_limit = (3.0 * learned.longest_flat_s).max(10.0 * self.interval_s);
        if !counter && self.flat_s > frozen_limit {
            // Rises from 0 at the limit to full scale at twice the limit.
            let excess = (self.flat_s - frozen_limit) / frozen_limit;
            self.sigma = config.full_scale_sigma * excess.min(1.0);
            self.finding = Finding::Frozen;
        } else {
            self.sigma = distance;
            self.finding = Finding::Deviation;
        }
        self.sigma
    }

    fn first_sample(&mut self, time_s: f64, value: f64) {
        self.last_time_s = Some(time_s);
        self.last_value = value;
        self.flat_since_s = time_s;
        let counter = self.learned.is_some_and(|b| b.counter);
        // A counter's rate is unknown until the second sample; start it at its baseline.
        self.fast = if counter { self.baseline } else { value };
        if self.learned.is_none() {
            self.baseline = value;
            let learning = self.learning_mut();
            learning.started_s = Some(time_s);
            learning.samples = 1;
            learning.raw.push(value);
        }
    }

    fn learning_mut(&mut self) -> &mut Learning {
        self.learning.get_or_insert_with(Box::default)
    }

    fn learn(&mut self, config: &DetectorConfig, now: f64, value: f64, slow_alpha: f64) {
        let flat_s = self.flat_s;
        let (fast, baseline) = (
            self.fast,
            self.baseline + (value - self.baseline) * slow_alpha,
        );
        self.baseline = baseline;
        // The baseline learns exactly as it will score (an EWMA from the first value), so the
        // spread measured now is the spread of the same statistic later; a running mean here
        // gave a tighter spread and a third more false alarms on SKAB.
        let learning = self.learning_mut();
        let started = *learning.started_s.get_or_insert(now);
        learning.samples += 1;
        learning.raw.push(value);
        learning.longest_flat_s = learning.longest_flat_s.max(flat_s);
        // The smoothing needs a few time constants before its spread means anything.
        if now - started > 2.0 * config.fast_tau_s {
            learning.residual.push(fast - baseline);
            learning
                .rate_residual
                .push(learning.fast_rate - learning.rate_mean.mean);
        }
        let done = now - started >= config.warm_up_s
            && learning.samples >= config.warm_up_min_samples
            && learning.residual.n >= 2;
        if done {
            self.finish_learning();
        }
    }

    /// Ends learning now with what has been seen (the benchmarks' fixed training rows use it).
    /// Returns false when too little was seen to learn anything.
    pub fn finish_learning(&mut self) -> bool {
        if self.learned.is_some() {
            return true;
        }
        let Some(learning) = self.learning.as_deref() else {
            return false;
        };
        if learning.samples < 2 {
            return false;
        }
        // Only ever rose, and did so in most steps: a cumulative counter.
        let counter = learning.fell == 0 && learning.rose * 2 >= learning.samples;
        let residual_sd = if learning.residual.n >= 2 {
            learning.residual.sd()
        } else {
            learning.raw.sd()
        };
        let mut sigma = residual_sd.max(1e-3 * learning.raw.mean.abs());
        if counter {
            // From now on the detector follows the rate: its smoothed value, mean and spread.
            self.fast = learning.fast_rate;
            self.baseline = learning.rate_mean.mean;
            sigma = learning
                .rate_residual
                .sd()
                .max(1e-3 * learning.rate_mean.mean.abs());
        }
        self.learned = Some(SignalBaseline {
            level: self.baseline,
            sigma,
            longest_flat_s: learning.longest_flat_s,
            sample_interval_s: self.interval_s,
            counter,
        });
        self.learning = None;
        self.sigma = 0.0;
        self.finding = Finding::Deviation;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::predict::test_noise as noise;

    fn learned(config: &DetectorConfig) -> (SignalDetector, u64) {
        let mut detector = SignalDetector::new(None, 1e-6);
        let mut t = 0;
        while detector.learning_s(t as f64).is_some() {
            detector.update(config, t as f64, 50.0 + noise(t));
            t += 1;
            assert!(t < 10_000, "never finished learning");
        }
        (detector, t)
    }

    #[test]
    fn noise_only_stays_quiet() {
        let config = DetectorConfig::default();
        let (mut detector, start) = learned(&config);
        let mut worst: f64 = 0.0;
        for t in start..start + 20_000 {
            worst = worst.max(detector.update(&config, t as f64, 50.0 + noise(t)).abs());
        }
        // Below the alarm level (6 sigma) with a margin; short peaks past 4 are what the alarm
        // on-delay is for.
        assert!(worst < 5.0, "noise scored {worst} sigma");
    }

    #[test]
    fn a_step_is_found_at_once_and_not_learned_away() {
        let config = DetectorConfig::default();
        let (mut detector, start) = learned(&config);
        let mut first_alarm = None;
        for t in start..start + 2_000 {
            let sigma = detector.update(&config, t as f64, 53.0 + noise(t));
            if sigma > 6.0 && first_alarm.is_none() {
                first_alarm = Some(t - start);
            }
        }
        let delay = first_alarm.expect("a 3-unit step on 1-unit noise must be found");
        assert!(delay < 30, "found after {delay} s");
        // Half an hour later, the step is still an anomaly: the gate kept the baseline.
        assert!(
            detector.sigma > 6.0,
            "step learned away: {}",
            detector.sigma
        );
        // Back to normal: the score falls back.
        for t in start + 2_000..start + 2_200 {
            detector.update(&config, t as f64, 50.0 + noise(t));
        }
        assert!(detector.sigma.abs() < 2.0, "{}", detector.sigma);
    }

    #[test]
    fn a_ramp_is_found_before_it_gets_far() {
        let config = DetectorConfig::default();
        let (mut detector, start) = learned(&config);
        let mut found_at = None;
        for i in 0..3_000u64 {
            // 1 unit (about two noise amplitudes) every 100 s.
            let value = 50.0 + i as f64 * 0.01 + noise(start + i);
            if detector.update(&config, (start + i) as f64, value) > 6.0 {
                found_at = Some(i);
                break;
            }
        }
        let found = found_at.expect("ramp never found") as f64;
        assert!(
            found * 0.01 < 10.0,
            "found after a rise of {}",
            found * 0.01
        );
    }

    #[test]
    fn slow_normal_drift_is_followed() {
        let config = DetectorConfig::default();
        let (mut detector, start) = learned(&config);
        let mut worst: f64 = 0.0;
        for i in 0..20_000u64 {
            // A slow daily-like swing of 3 units over hours.
            let drift = 3.0 * (i as f64 / 20_000.0 * std::f64::consts::PI).sin();
            let value = 50.0 + drift + noise(start + i);
            worst = worst.max(detector.update(&config, (start + i) as f64, value).abs());
        }
        assert!(worst < 6.0, "drift scored {worst}");
    }

    #[test]
    fn a_frozen_sensor_is_found() {
        let config = DetectorConfig::default();
        let (mut detector, start) = learned(&config);
        let mut t = start;
        for _ in 0..100 {
            detector.update(&config, t as f64, 50.0 + noise(t));
            t += 1;
        }
        assert_eq!(detector.finding, Finding::Deviation);
        let stuck = 50.3;
        for _ in 0..40 {
            detector.update(&config, t as f64, stuck);
            t += 1;
        }
        assert_eq!(detector.finding, Finding::Frozen);
        assert!(
            detector.sigma >= config.full_scale_sigma,
            "{}",
            detector.sigma
        );
        detector.update(&config, t as f64, 50.0 + noise(t));
        assert_eq!(detector.finding, Finding::Deviation);
    }

    #[test]
    fn a_counter_is_scored_on_its_rate() {
        let config = DetectorConfig::default();
        let mut detector = SignalDetector::new(None, 1e-6);
        let mut t = 0u64;
        let mut count = 1_000.0;
        while detector.learning_s(t as f64).is_some() {
            count += if noise(t) > -0.6 { 1.0 } else { 0.0 };
            detector.update(&config, t as f64, count);
            t += 1;
        }
        assert!(detector.baseline().is_some_and(|b| b.counter));
        let mut worst: f64 = 0.0;
        for _ in 0..5_000 {
            count += if noise(t) > -0.6 { 1.0 } else { 0.0 };
            worst = worst.max(detector.update(&config, t as f64, count).abs());
            t += 1;
        }
        assert!(worst < 6.0, "a steady counter scored {worst}");
    }

    #[test]
    fn same_input_same_scores() {
        let config = DetectorConfig::default();
        let run = || {
            let mut detector = SignalDetector::new(None, 1e-6);
            (0..3_000u64)
                .map(|t| detector.update(&config, t as f64, 50.0 + noise(t) + (t / 1500) as f64))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn a_saved_baseline_scores_at_once() {
        let config = DetectorConfig::default();
        let (detector, _) = learned(&config);
        let saved = detector.baseline().expect("learned");
        let mut restored = SignalDetector::new(Some(saved), 1e-6);
        assert_eq!(restored.learning_s(0.0), None);
        // Far off the saved level: after the settling half minute it scores against it.
        let mut sigma = 0.0;
        for t in 0..40 {
            sigma = restored.update(&config, t as f64, 60.0 + noise(t));
        }
        assert!(sigma > 8.0, "{sigma}");
        // A little off (today's operating point): taken as the level.
        let mut nearby = SignalDetector::new(Some(saved), 1e-6);
        for t in 0..200u64 {
            sigma = nearby.update(&config, t as f64, 50.4 + noise(t));
        }
        assert!(sigma.abs() < 4.0, "{sigma}");
    }
}
