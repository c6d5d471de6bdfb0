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
    fn the_log_scale_has_its_ends() {
        assert_eq!(log_score(0.3), 0.0);
        assert_eq!(log_score(0.5), 0.0);
        assert_eq!(log_score(1.0), 1.0);
        assert!((log_score(1.0 - 1e-5) - 1.0).abs() < 1e-9);
    }
}
