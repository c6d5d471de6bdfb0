//! Failure horizon: when will a degrading signal cross its failure limit?
//!
//! Each signal with limits keeps an exponentially weighted least-squares line through its recent
//! values (O(1) per sample: six running sums). Extrapolating the line gives the expected time to
//! the limit; the line's uncertainty (residual spread, how much data supports the slope) gives a
//! probability that the limit is crossed within a chosen horizon. Only a trend that is
//! significant and heads for a limit produces an estimate.

use serde::Serialize;

/// A discounted linear fit of value against time.
#[derive(Debug, Clone, Default)]
pub struct Trend {
    /// Weights halve every `ln 2 * tau` seconds.
    tau_s: f64,
    /// Time origin of the sums (the first sample), to keep them well conditioned.
    origin_s: Option<f64>,
    last_s: f64,
    w: f64,
    w2: f64,
    st: f64,
    sx: f64,
    stt: f64,
    stx: f64,
    sxx: f64,
}

/// The fitted line at a moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrendFit {
    /// Fitted value now.
    pub level: f64,
    /// Units per second.
    pub slope: f64,
    /// Standard error of the slope.
    pub slope_se: f64,
    /// Standard deviation of the values around the line.
    pub residual_sd: f64,
    /// Effective number of points behind the fit.
    pub points: f64,
    /// Weighted mean time of the points, relative to now (negative), seconds.
    mean_age_s: f64,
    /// Weighted variance of the points' times, s².
    time_var: f64,
}

impl Trend {
    pub fn new(tau_s: f64) -> Trend {
        Trend {
            tau_s: tau_s.max(1e-6),
            ..Trend::default()
        }
    }

    pub fn push(&mut self, time_s: f64, value: f64) {
        if !value.is_finite() {
            return;
        }
        let origin = *self.origin_s.get_or_insert(time_s);
        let t = time_s.max(self.last_s.max(origin)) - origin;
        let decay = (-(t - (self.last_s - origin).max(0.0)) / self.tau_s).exp();
        self.last_s = t + origin;
        self.w = self.w * decay + 1.0;
        self.w2 = self.w2 * decay * decay + 1.0;
        self.st = self.st * decay + t;
        self.sx = self.sx * decay + value;
        self.stt = self.stt * decay + t * t;
        self.stx = self.stx * decay + t * value;
        self.sxx = self.sxx * decay + value * value;
    }

    /// The line as of the last sample; None with fewer than a handful of points.
    pub fn fit(&self) -> Option<TrendFit> {
        let origin = self.origin_s?;
        let points = self.w * self.w / self.w2.max(1e-12);
        if points < 5.0 {
            return None;
        }
        let mean_t = self.st / self.w;
        let mean_x = self.sx / self.w;
        let time_var = self.stt / self.w - mean_t * mean_t;
        if time_var <= 1e-12 {
            return None;
        }
        let cov = self.stx / self.w - mean_t * mean_x;
        let value_var = (self.sxx / self.w - mean_x * mean_x).max(0.0);
        let slope = cov / time_var;
        let residual_var = (value_var - slope * cov).max(0.0) * points / (points - 2.0);
        let now = self.last_s - origin;
        Some(TrendFit {
            level: mean_x + slope * (now - mean_t),
            slope,
            slope_se: (residual_var / (time_var * points)).sqrt(),
            residual_sd: residual_var.sqrt(),
            points,
            mean_age_s: mean_t - now,
            time_var,
        })
    }
}

impl TrendFit {
    /// Mean and standard deviation of the line's value `ahead_s` seconds from now.
    pub fn predict(&self, ahead_s: f64) -> (f64, f64) {
        let mean = self.level + self.slope * ahead_s;
        let lever = ahead_s - self.mean_age_s;
        let var =
            self.residual_sd.powi(2) * (1.0 / self.points) + self.slope_se.powi(2) * lever * lever;
        (mean, var.max(0.0).sqrt())
    }
}

/// When a signal is expected to cross its failure limit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Horizon {
    /// The limit it heads for.
    pub limit: f64,
    /// Expected seconds until the crossing (0 when already past).
    pub expected_s: f64,
    /// An 80 % interval of the crossing time, seconds; `late` is infinite when the slope may
    /// well be zero.
    pub early_s: f64,
    pub late_s: f64,
    /// Probability of crossing within the horizon asked for.
    pub probability: f64,
    /// The horizon the probability is for, seconds.
    pub within_s: f64,
}

/// z of the 80 % two-sided interval.
const Z80: f64 = 1.2816;

/// The failure horizon of a fitted trend against limits (low, high), or None when the trend is
/// not significant or leads away from both limits. `min_t_ratio` is how many standard errors
/// the slope must be from zero.
pub fn horizon(
    fit: &TrendFit,
    limits: (f64, f64),
    within_s: f64,
    min_t_ratio: f64,
) -> Option<Horizon> {
    let (low, high) = limits;
    let past = fit.level >= high || fit.level <= low;
    let significant = fit.slope.abs() > min_t_ratio * fit.slope_se;
    if !past && !significant {
        return None;
    }
    let limit = if fit.slope >= 0.0 { high } else { low };
    let distance = limit - fit.level;
    let (mean, sd) = fit.predict(within_s);
    // Probability that the line's value at the horizon is past the limit.
    let probability = if past {
        1.0
    } else if sd <= 0.0 {
        if (fit.slope >= 0.0 && mean >= limit) || (fit.slope < 0.0 && mean <= limit) {
            1.0
        } else {
            0.0
        }
    } else if fit.slope >= 0.0 {
        1.0 - normal_cdf((limit - mean) / sd)
    } else {
        normal_cdf((limit - mean) / sd)
    };
    let time_at = |slope: f64| {
        if past {
            0.0
        } else if slope * distance > 0.0 {
            distance / slope
        } else {
            f64::INFINITY
        }
    };
    let steep = fit.slope + fit.slope.signum() * Z80 * fit.slope_se;
    let shallow = fit.slope - fit.slope.signum() * Z80 * fit.slope_se;
    Some(Horizon {
        limit,
        expected_s: time_at(fit.slope),
        early_s: time_at(steep),
        late_s: time_at(shallow),
        probability: probability.clamp(0.0, 1.0),
        within_s,
    })
}

/// Standard normal cumulative distribution (Abramowitz and Stegun 7.1.26, error < 1.5e-7).
pub fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// "9 days", "3.5 h", "42 min", "20 s": a duration as a person reads it.
pub fn human_duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "never".into();
    }
    let s = seconds.max(0.0);
    if s < 90.0 {
        format!("{s:.0} s")
    } else if s < 90.0 * 60.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 48.0 * 3600.0 {
        // "24 h", not "24.0 h"; "3.5 h" keeps its half hour.
        let hours = format!("{:.1}", s / 3600.0);
        format!("{} h", hours.trim_end_matches(".0"))
    } else {
        format!("{:.0} days", s / 86_400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_ramp_is_fitted_exactly() {
        let mut trend = Trend::new(1e9);
        for t in 0..100 {
            trend.push(t as f64, 10.0 + 0.5 * t as f64);
        }
        let fit = trend.fit().expect("fit");
        assert!((fit.slope - 0.5).abs() < 1e-9, "{fit:?}");
        assert!((fit.level - 59.5).abs() < 1e-6, "{fit:?}");
        let horizon = horizon(&fit, (0.0, 100.0), 60.0, 3.0).expect("heads for the limit");
        assert!((horizon.expected_s - 81.0).abs() < 1e-6, "{horizon:?}");
        assert_eq!(horizon.probability, 0.0);
        let horizon = super::horizon(&fit, (0.0, 100.0), 100.0, 3.0).expect("heads");
        assert_eq!(horizon.probability, 1.0);
    }

    #[test]
    fn flat_noise_has_no_horizon() {
        let mut trend = Trend::new(600.0);
        for t in 0..2_000 {
            let wiggle = ((t * 7919) % 200) as f64 / 100.0 - 1.0;
            trend.push(t as f64, 50.0 + wiggle);
        }
        let fit = trend.fit().expect("fit");
        assert!(
            horizon(&fit, (0.0, 90.0), 86_400.0, 3.0).is_none(),
            "{fit:?}"
        );
    }

    #[test]
    fn a_noisy_ramp_gives_an_interval_around_the_truth() {
        let mut trend = Trend::new(300.0);
        for t in 0..600 {
            let wiggle = ((t * 7919) % 200) as f64 / 100.0 - 1.0;
            trend.push(t as f64, 20.0 + 0.05 * t as f64 + wiggle);
        }
        let fit = trend.fit().expect("fit");
        // Level ~49.95 at t = 599; the limit 90 is ~800 s away at 0.05/s.
        let h = horizon(&fit, (0.0, 90.0), 600.0, 3.0).expect("significant");
        assert!(h.early_s < 801.0 && 801.0 < h.late_s, "{h:?}");
        assert!((h.expected_s - 801.0).abs() < 80.0, "{h:?}");
        assert!(h.probability < 0.2, "{h:?}");
        let later = horizon(&fit, (0.0, 90.0), 1_200.0, 3.0).expect("significant");
        assert!(later.probability > 0.8, "{later:?}");
    }

    #[test]
    fn the_normal_cdf_matches_tables() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.96) - 0.975).abs() < 1e-4);
        assert!((normal_cdf(-1.2816) - 0.1).abs() < 1e-4);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(20.0), "20 s");
        assert_eq!(human_duration(42.0 * 60.0), "42 min");
        assert_eq!(human_duration(24.0 * 3600.0), "24 h");
        assert_eq!(human_duration(3.5 * 3600.0), "3.5 h");
        assert_eq!(human_duration(9.0 * 86_400.0), "9 days");
        assert_eq!(human_duration(f64::INFINITY), "never");
    }
}
