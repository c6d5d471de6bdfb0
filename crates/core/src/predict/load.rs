//! Load-conditioned normal: what a slow signal (a motor or gearbox temperature) should read
//! given how hard its machine has been working lately.
//!
//! A temperature follows its machine's load with a lag of minutes. While learning, the load
//! wandered around its usual mix, so the temperature's learned spread is narrow; a steady,
//! higher load (a product changeover, all within what the machine does every day) then warms
//! it beyond that spread, and every detector that learns one level per mode flags it. So each
//! signal that is not itself a load is regressed, while learning, on the asset's load smoothed
//! with a few time constants; where the load explains most of the signal's variation, the
//! signal is also scored as the residual from that prediction.
//!
//! The load is the mean of the asset's load signals (electrical current or power, torque; by
//! unit or name), each as a fraction of its normal range: engineering knowledge of what a load
//! is, not a constant fitted to data. Bounded work: a few smoothed loads per asset, one
//! multiply-add per scored sample.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::layout::Signal;

/// Time constants the load is smoothed with while learning, seconds: a signal's own lag is
/// one of them (thermal lags of motors and gearboxes are minutes).
pub const LOAD_TAUS_S: [f64; 4] = [30.0, 60.0, 120.0, 240.0];
/// The share of a signal's variance the smoothed load must explain for the signal to be
/// conditioned on it.
pub const MIN_EXPLAINED: f64 = 0.5;
/// The smoothed load must have varied at least this much (fraction of the load signals'
/// normal range) while learning: a machine that never changed its load says nothing about how
/// its temperatures follow it.
const MIN_LOAD_SD: f64 = 0.02;

/// What a signal should read given the asset's load: `intercept + slope x load` smoothed with
/// `tau_s`, give or take `sigma`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionedBaseline {
    pub tau_s: f64,
    pub intercept: f64,
    pub slope: f64,
    pub sigma: f64,
}

/// True for a signal that measures its machine's load: electrical current or power, torque.
pub fn is_load_signal(signal: &Signal) -> bool {
    let unit = signal.unit.trim();
    let electrical = [
        "A", "mA", "kA", "W", "kW", "MW", "kVA", "Nm", "N m", "N·m", "kNm",
    ];
    let id = signal.id.to_ascii_lowercase();
    electrical.contains(&unit)
        || ["current", "power", "torque", "load"]
            .iter()
            .any(|word| id.contains(word))
}

/// Regression sums of one signal against one smoothed load.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    n: f64,
    x: f64,
    y: f64,
    xx: f64,
    xy: f64,
    yy: f64,
}

impl Sums {
    fn push(&mut self, x: f64, y: f64) {
        self.n += 1.0;
        self.x += x;
        self.y += y;
        self.xx += x * x;
        self.xy += x * y;
        self.yy += y * y;
    }

    /// (intercept, slope, residual sd, share of variance explained), if the load varied.
    fn fit(&self) -> Option<(f64, f64, f64, f64)> {
        if self.n < 30.0 {
            return None;
        }
        let mx = self.x / self.n;
        let my = self.y / self.n;
        let vx = self.xx / self.n - mx * mx;
        let vy = self.yy / self.n - my * my;
        let cov = self.xy / self.n - mx * my;
        if vx < MIN_LOAD_SD * MIN_LOAD_SD || vy <= 0.0 {
            return None;
        }
        let slope = cov / vx;
        let explained = (cov * cov / (vx * vy)).clamp(0.0, 1.0);
        let residual_sd = (vy * (1.0 - explained)).max(0.0).sqrt();
        Some((my - slope * mx, slope, residual_sd, explained))
    }
}

/// The load conditioning of one asset.
#[derive(Debug, Clone)]
pub struct LoadConditioning {
    /// Per signal: (low of its normal range, width) if it is a load signal.
    load_scale: Vec<Option<(f64, f64)>>,
    /// Per load signal: its latest value as a fraction of its normal range.
    fraction: Vec<f64>,
    /// The load smoothed with each of [`LOAD_TAUS_S`]; NaN before the first load sample.
    smoothed: [f64; LOAD_TAUS_S.len()],
    /// Source time the smoothed loads are at.
    at_s: f64,
    /// Per signal: what was learned (None: not conditioned).
    learned: Vec<Option<ConditionedBaseline>>,
    /// Learning: per signal and time constant, the regression sums; None once learned.
    sums: Option<Vec<[Sums; LOAD_TAUS_S.len()]>>,
    /// Source time learning ends; None before the first sample.
    learn_until_s: Option<f64>,
    floors: Vec<f64>,
    /// Per signal: (source time, smoothed residual from the load's prediction).
    residual: Vec<(f64, f64)>,
}

impl LoadConditioning {
    /// For an asset's signals; from `saved` (a baseline's, by signal id) when given, else
    /// learned from the first `learn_s` seconds of data.
    pub fn new(
        signals: &[Signal],
        floors: &[f64],
        saved: Option<&BTreeMap<String, ConditionedBaseline>>,
    ) -> LoadConditioning {
        let load_scale: Vec<Option<(f64, f64)>> = signals
            .iter()
            .map(|s| {
                is_load_signal(s).then(|| (s.normal.0, (s.normal.1 - s.normal.0).abs().max(1e-12)))
            })
            .collect();
        let any_load = load_scale.iter().any(Option::is_some);
        LoadConditioning {
            fraction: vec![f64::NAN; signals.len()],
            smoothed: [f64::NAN; LOAD_TAUS_S.len()],
            at_s: f64::NEG_INFINITY,
            learned: signals
                .iter()
                .map(|s| saved.and_then(|m| m.get(&s.id)).copied())
                .collect(),
            sums: (saved.is_none() && any_load)
                .then(|| vec![[Sums::default(); LOAD_TAUS_S.len()]; signals.len()]),
            learn_until_s: None,
            floors: floors.to_vec(),
            residual: vec![(0.0, f64::NAN); signals.len()],
            load_scale,
        }
    }

    /// The asset's load now: the mean fraction of its load signals seen so far.
    fn load(&self) -> Option<f64> {
        let (sum, count) = self
            .fraction
            .iter()
            .zip(&self.load_scale)
            .filter(|(f, scale)| scale.is_some() && f.is_finite())
            .fold((0.0, 0.0), |(s, n), (f, _)| (s + f, n + 1.0));
        (count > 0.0).then(|| sum / count)
    }

    /// Notes a sample. The regression is learned on raw values (a smoothed value lags the
    /// load by its own smoothing on top of the thermal lag, which halved the fitted gain); the
    /// residual is then smoothed with `fast_tau_s` for scoring, like the detectors' values.
    pub fn observe(
        &mut self,
        signal: usize,
        time_s: f64,
        value: f64,
        fast_tau_s: f64,
        learn_s: f64,
    ) {
        let until = *self.learn_until_s.get_or_insert(time_s + learn_s);
        let since_start_s = time_s - (until - learn_s);
        // Time moved on: the smoothed loads advance with the load as it stood until now.
        if time_s > self.at_s {
            if let Some(load) = self.load() {
                let dt = if self.at_s.is_finite() {
                    time_s - self.at_s
                } else {
                    0.0
                };
                for (smoothed, tau) in self.smoothed.iter_mut().zip(LOAD_TAUS_S) {
                    *smoothed = if smoothed.is_nan() {
                        load
                    } else {
                        *smoothed + (load - *smoothed) * (1.0 - (-dt / tau).exp())
                    };
                }
            }
            self.at_s = time_s;
        }
        if let Some(Some((low, span))) = self.load_scale.get(signal) {
            self.fraction[signal] = (value - low) / span;
            return;
        }
        if time_s > until {
            self.finish();
        }
        if let Some(sums) = self.sums.as_mut()
            && let Some(slot) = sums.get_mut(signal)
        {
            // A smoothed load starts at the first value seen: it means something only after
            // about one time constant.
            for ((sum, smoothed), tau) in slot.iter_mut().zip(self.smoothed).zip(LOAD_TAUS_S) {
                if smoothed.is_finite() && since_start_s >= tau {
                    sum.push(smoothed, value);
                }
            }
            return;
        }
        // Scoring: the residual from what the load predicts, smoothed on source time.
        if let Some(Some(learned)) = self.learned.get(signal)
            && let Some(index) = LOAD_TAUS_S.iter().position(|t| *t == learned.tau_s)
            && self.smoothed[index].is_finite()
        {
            let residual = value - learned.intercept - learned.slope * self.smoothed[index];
            let (last_s, smoothed) = &mut self.residual[signal];
            *smoothed = if smoothed.is_nan() {
                residual
            } else {
                let dt = (time_s - *last_s).max(0.0);
                *smoothed + (residual - *smoothed) * (dt / (fast_tau_s + dt))
            };
            *last_s = time_s;
        }
    }

    /// Ends learning: each signal whose variation the smoothed load explains well enough is
    /// conditioned on the time constant that explains most.
    pub fn finish(&mut self) {
        let Some(sums) = self.sums.take() else {
            return;
        };
        for ((learned, slot), floor) in self.learned.iter_mut().zip(&sums).zip(&self.floors) {
            let best = slot
                .iter()
                .zip(LOAD_TAUS_S)
                .filter_map(|(s, tau)| s.fit().map(|fit| (fit, tau)))
                .max_by(|a, b| a.0.3.total_cmp(&b.0.3));
            *learned = best
                .filter(|((_, _, _, explained), _)| *explained >= MIN_EXPLAINED)
                .map(|((intercept, slope, sd, _), tau_s)| ConditionedBaseline {
                    tau_s,
                    intercept,
                    slope,
                    sigma: sd.max(*floor),
                });
        }
    }

    /// Signed distance of `signal` from what the load predicts, in sigmas of the raw
    /// residual (its smoothed value is compared with the spread of unsmoothed residuals: a
    /// conservative yardstick, since the residual's lag errors are not white noise).
    pub fn deviation(&self, signal: usize) -> Option<f64> {
        let learned = self.learned.get(signal)?.as_ref()?;
        let (_, residual) = self.residual.get(signal)?;
        residual.is_finite().then(|| residual / learned.sigma)
    }

    /// What was learned, by signal id, for a baseline file.
    pub fn baselines(&self, ids: &[&str]) -> BTreeMap<String, ConditionedBaseline> {
        ids.iter()
            .zip(&self.learned)
            .filter_map(|(id, learned)| Some((id.to_string(), (*learned)?)))
            .collect()
    }

    /// How many signals are conditioned on the load.
    pub fn conditioned(&self) -> usize {
        self.learned.iter().flatten().count()
    }

    /// Learns again from the next samples.
    pub fn relearn(&mut self) {
        self.learned.fill(None);
        self.residual.fill((0.0, f64::NAN));
        if self.load_scale.iter().any(Option::is_some) {
            self.sums = Some(vec![
                [Sums::default(); LOAD_TAUS_S.len()];
                self.learned.len()
            ]);
        }
        self.learn_until_s = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals() -> Vec<Signal> {
        ron::from_str(
            r#"[
                (id: "motor_current", unit: "A", normal: (0.0, 10.0)),
                (id: "motor_temp", unit: "degC", normal: (20.0, 60.0)),
                (id: "speed", unit: "m/s", normal: (0.0, 1.0)),
            ]"#,
        )
        .expect("signals")
    }

    /// A machine whose temperature follows its load with a 60 s lag; its load swings while
    /// learning, then holds steady higher.
    #[test]
    fn a_temperature_is_predicted_from_the_load_and_a_fault_is_not() {
        let signals = signals();
        let mut conditioning = LoadConditioning::new(&signals, &[0.4, 0.4, 0.01], None);
        let mut lagged = 0.6;
        let mut last_deviation = |conditioning: &mut LoadConditioning, t: u32, extra: f64| {
            let time = f64::from(t);
            let load = if t < 1200 {
                0.55 + 0.3 * (time / 40.0).sin()
                    + if (t / 90).is_multiple_of(4) {
                        -0.4
                    } else {
                        0.0
                    }
            } else {
                0.8
            };
            lagged += (load - lagged) * (1.0 - (-1.0f64 / 60.0).exp());
            let temp = 30.0 + 20.0 * lagged + extra + 0.05 * crate::predict::test_noise(t.into());
            conditioning.observe(0, time, load * 10.0, 10.0, 900.0);
            conditioning.observe(1, time, temp, 10.0, 900.0);
            conditioning.observe(2, time, 0.5, 10.0, 900.0);
            conditioning.deviation(1)
        };
        for t in 0..1200 {
            last_deviation(&mut conditioning, t, 0.0);
        }
        assert_eq!(conditioning.conditioned(), 1, "only the temperature");
        let learned = conditioning.baselines(&["motor_current", "motor_temp", "speed"]);
        assert!(learned.contains_key("motor_temp"), "{learned:?}");
        // A steady, higher load: the temperature rises as the load says, within 3 sigma.
        let mut worst: f64 = 0.0;
        for t in 1200..1800 {
            let d = last_deviation(&mut conditioning, t, 0.0).expect("scored");
            worst = worst.max(d.abs());
        }
        assert!(worst < 3.0, "{worst}");
        // Lost cooling at the same load: far off what the load explains.
        let mut d = 0.0;
        for t in 1800..1900 {
            d = last_deviation(&mut conditioning, t, f64::from(t - 1800) * 0.1).expect("scored");
        }
        assert!(d > 6.0, "{d}");
    }

    #[test]
    fn a_machine_whose_load_never_changed_is_not_conditioned() {
        let signals = signals();
        let mut conditioning = LoadConditioning::new(&signals, &[0.4, 0.4, 0.01], None);
        for t in 0..1000 {
            let noise = crate::predict::test_noise(t);
            conditioning.observe(0, t as f64, 5.0 + 0.01 * noise, 10.0, 600.0);
            conditioning.observe(1, t as f64, 40.0 + noise, 10.0, 600.0);
        }
        assert_eq!(conditioning.conditioned(), 0);
    }
}
