//! The anomaly likelihood: how unusual the recent raw scores are against the signal's own
//! history of scores (the stage Numenta's detectors put on top of their raw score).
//!
//! A detector's raw distance from normal means different things on a calm signal and on one
//! that always jumps about. The likelihood compares the short-term mean of the raw score with
//! its long-term mean and spread, and reports the tail probability of that short-term mean:
//! near 1 only when the signal is unusual *for itself*. Streaming and O(1): exponentially
//! weighted long-term mean and variance, a short moving average, a normal tail.

use super::horizon::normal_cdf;

/// Tuning of the likelihood, in samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LikelihoodConfig {
    /// Memory of the score's history (mean and spread).
    pub long_samples: f64,
    /// Memory of the recent score.
    pub short_samples: f64,
}

impl Default for LikelihoodConfig {
    fn default() -> Self {
        LikelihoodConfig {
            long_samples: 8_640.0,
            short_samples: 10.0,
        }
    }
}

/// The likelihood stage of one signal.
#[derive(Debug, Clone, Default)]
pub struct Likelihood {
    n: f64,
    long_mean: f64,
    long_var: f64,
    short_mean: f64,
}

impl Likelihood {
    /// Feeds a raw score; returns the likelihood in [0, 1] (0.5 is ordinary).
    pub fn update(&mut self, config: &LikelihoodConfig, raw: f64) -> f64 {
        if !raw.is_finite() {
            return 0.5;
        }
        self.n += 1.0;
        // Until the long window is full, its weights are the running mean's (no start bias).
        let long_alpha = (1.0 / self.n).max(1.0 / config.long_samples);
        let short_alpha = (1.0 / self.n).max(1.0 / config.short_samples);
        self.short_mean += (raw - self.short_mean) * short_alpha;
        let likelihood = if self.n < 2.0 || self.long_var <= 0.0 {
            0.5
        } else {
            normal_cdf((self.short_mean - self.long_mean) / self.long_var.sqrt())
        };
        let delta = raw - self.long_mean;
        self.long_mean += delta * long_alpha;
        self.long_var = (1.0 - long_alpha) * (self.long_var + long_alpha * delta * delta);
        likelihood
    }
}

/// A likelihood as a score in [0, 1] on a log scale: 0 at 0.5 and below, 1 at 1 - 1e-5 and
/// above. Likelihoods that matter crowd against 1; the log spreads them for a threshold.
pub fn log_score(likelihood: f64) -> f64 {
    if likelihood <= 0.5 {
        return 0.0;
    }
    let tail = (1.0 - likelihood).max(1e-12);
    ((tail.ln() - 0.5f64.ln()) / (1e-5f64.ln() - 0.5f64.ln())).clamp(0.0, 1.0)
}

/// The "spatial" check Numenta puts beside the likelihood: a value that leaves the range seen
/// so far by more than a share of that range is anomalous at once, whatever its history of
/// scores says. A likelihood needs a few samples to move; a level never seen before is news on
/// its first sample.
#[derive(Debug, Clone)]
pub struct Spatial {
    lowest: f64,
    highest: f64,
}

impl Default for Spatial {
    fn default() -> Self {
        Spatial {
            lowest: f64::INFINITY,
            highest: f64::NEG_INFINITY,
        }
    }
}

impl Spatial {
    /// The margin outside the seen range, as a share of it (Numenta's published 5 %).
    pub const MARGIN: f64 = 0.05;

    /// Feeds a value; true if it lies outside the range seen before it by more than the margin.
    pub fn update(&mut self, value: f64) -> bool {
        if !value.is_finite() {
            return false;
        }
        let range = self.highest - self.lowest;
        let outside = range > 0.0
            && (value > self.highest + Self::MARGIN * range
                || value < self.lowest - Self::MARGIN * range);
        self.lowest = self.lowest.min(value);
        self.highest = self.highest.max(value);
        outside
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::predict::test_noise as noise;

    #[test]
    fn a_noisy_signal_is_ordinary_and_a_sustained_rise_is_not() {
        let config = LikelihoodConfig::default();
        let mut stage = Likelihood::default();
        let mut worst: f64 = 0.0;
        for i in 0..5_000 {
            worst = worst.max(log_score(stage.update(&config, 1.0 + noise(i))));
        }
        assert!(worst < 0.6, "noise reached {worst}");
        let mut found: f64 = 0.0;
        for i in 5_000..5_020 {
            found = found.max(log_score(stage.update(&config, 4.5 + 0.5 * noise(i))));
        }
        assert!(found > 0.99, "a sustained rise scored {found}");
    }

    #[test]
    fn a_value_beyond_the_seen_range_is_spatial_news_once() {
        let mut spatial = Spatial::default();
        // Nothing is news before a range exists.
        assert!(!spatial.update(10.0));
        assert!(!spatial.update(12.0));
        // A range growing by more than the margin at each step is news at each step.
        assert!(spatial.update(13.0));
        let mut spatial = Spatial::default();
        spatial.update(10.0);
        spatial.update(12.0);
        for i in 0..1_000 {
            assert!(
                !spatial.update(10.0 + 2.0 * (i % 11) as f64 / 10.0),
                "row {i}"
            );
        }
        // Seen range 10..12: 12.1 is inside the 5 % margin, 12.2 beyond it, 9.85 below.
        assert!(!spatial.update(12.1));
        assert!(spatial.update(12.3));
        // Once seen, the new level is part of the range.
        assert!(!spatial.update(12.3));
        assert!(spatial.update(9.5));
        assert!(!spatial.update(f64::NAN));
    }

    #[test]
    fn the_log_scale_has_its_ends() {
        assert_eq!(log_score(0.3), 0.0);
        assert_eq!(log_score(0.5), 0.0);
        assert_eq!(log_score(1.0), 1.0);
        assert!((log_score(1.0 - 1e-5) - 1.0).abs() < 1e-9);
    }
}
