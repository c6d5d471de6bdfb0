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

/// Memory the load conditioning takes per signal (its record and sigma floor), bytes.
pub const BYTES_PER_SIGNAL: usize = std::mem::size_of::<SignalLoad>() + 8;

/// What one signal is to the load conditioning, with its state: one small record per signal,
/// so that a sample touches one cache line (at 10,000 assets the cost per sample is the memory
/// it touches; four parallel arrays cost twice the time of this record).
#[derive(Debug, Clone, Copy)]
struct SignalLoad {
    role: Role,
    /// A load signal: its latest value as a fraction of its normal range. A conditioned
    /// signal: its residual from the load's prediction, smoothed on source time.
    latest: f64,
    /// Source time of `latest`.
    at_s: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    /// Neither a load nor conditioned on it.
    Plain,
    /// Part of the asset's load: low of its normal range and 1 / its width.
    Load { low: f64, inv_span: f64 },
    /// Predicted from the load smoothed with `LOAD_TAUS_S[tau]`.
    Conditioned {
        tau: u8,
        intercept: f64,
        slope: f64,
        sigma: f64,
    },
}

impl SignalLoad {
    fn new(role: Role) -> SignalLoad {
        SignalLoad {
            role,
            latest: f64::NAN,
            at_s: 0.0,
        }
    }

    fn learned(&self) -> Option<ConditionedBaseline> {
        match self.role {
            Role::Conditioned {
                tau,
                intercept,
                slope,
                sigma,
            } => Some(ConditionedBaseline {
                tau_s: LOAD_TAUS_S[usize::from(tau)],
                intercept,
                slope,
                sigma,
            }),
            _ => None,
        }
    }
}

/// The role of a signal conditioned as `learned` (Plain if its time constant is unknown).
fn conditioned(learned: &ConditionedBaseline) -> Role {
    LOAD_TAUS_S
        .iter()
        .position(|t| *t == learned.tau_s)
        .map_or(Role::Plain, |tau| Role::Conditioned {
            tau: tau as u8,
            intercept: learned.intercept,
            slope: learned.slope,
            sigma: learned.sigma,
        })
}

/// What a conditioned signal should read with these smoothed loads (None for other roles or
/// before the load was first seen).
fn predicted(role: Role, smoothed: &[f64; LOAD_TAUS_S.len()]) -> Option<f64> {
    match role {
        Role::Conditioned {
            tau,
            intercept,
            slope,
            ..
        } => {
            let load = smoothed[usize::from(tau)];
            load.is_finite().then_some(intercept + slope * load)
        }
        _ => None,
    }
}

/// The load conditioning of one asset.
#[derive(Debug, Clone)]
pub struct LoadConditioning {
    signals: Vec<SignalLoad>,
    /// The load smoothed with each of [`LOAD_TAUS_S`]; NaN before the first load sample.
    smoothed: [f64; LOAD_TAUS_S.len()],
    /// Source time the smoothed loads are at.
    at_s: f64,
    /// Learning: per signal and time constant, the regression sums; None once learned.
    sums: Option<Vec<[Sums; LOAD_TAUS_S.len()]>>,
    /// Source time learning ends; None before the first sample.
    learn_until_s: Option<f64>,
    floors: Vec<f64>,
    /// Bit i: some signal is conditioned on `LOAD_TAUS_S[i]`.
    used_taus: u8,
}

impl LoadConditioning {
    /// For an asset's signals; from `saved` (a baseline's, by signal id) when given, else
    /// learned from the first `learn_s` seconds of data.
    pub fn new(
        signals: &[Signal],
        floors: &[f64],
        saved: Option<&BTreeMap<String, ConditionedBaseline>>,
    ) -> LoadConditioning {
        let records: Vec<SignalLoad> = signals
            .iter()
            .map(|s| {
                SignalLoad::new(if is_load_signal(s) {
                    Role::Load {
                        low: s.normal.0,
                        inv_span: 1.0 / (s.normal.1 - s.normal.0).abs().max(1e-12),
                    }
                } else {
                    saved
                        .and_then(|m| m.get(&s.id))
                        .map_or(Role::Plain, conditioned)
                })
            })
            .collect();
        let any_load = records.iter().any(|r| matches!(r.role, Role::Load { .. }));
        let mut conditioning = LoadConditioning {
            smoothed: [f64::NAN; LOAD_TAUS_S.len()],
            at_s: f64::NEG_INFINITY,
            sums: (saved.is_none() && any_load)
                .then(|| vec![[Sums::default(); LOAD_TAUS_S.len()]; signals.len()]),
            learn_until_s: None,
            floors: floors.to_vec(),
            used_taus: 0,
            signals: records,
        };
        conditioning.note_used_taus();
        conditioning
    }

    /// Which smoothed loads the conditioned signals need.
    fn note_used_taus(&mut self) {
        self.used_taus = self.signals.iter().fold(0, |bits, s| match s.role {
            Role::Conditioned { tau, .. } => bits | (1 << tau),
            _ => bits,
        });
    }

    /// The asset's load now: the mean fraction of its load signals seen so far.
    fn load(&self) -> Option<f64> {
        let (sum, count) = self
            .signals
            .iter()
            .filter(|s| matches!(s.role, Role::Load { .. }) && s.latest.is_finite())
            .fold((0.0, 0.0), |(sum, n), s| (sum + s.latest, n + 1.0));
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
        // Nothing learned and nothing to learn (no load signal, or no signal follows it):
        // the common case costs one branch.
        if self.used_taus == 0 && self.sums.is_none() {
            return;
        }
        let until = *self.learn_until_s.get_or_insert(time_s + learn_s);
        let since_start_s = time_s - (until - learn_s);
        // Time moved on: the smoothed loads advance with the load as it stood until now
        // (once learned, only those some signal is conditioned on).
        if time_s > self.at_s {
            if let Some(load) = self.load() {
                let dt = if self.at_s.is_finite() {
                    time_s - self.at_s
                } else {
                    0.0
                };
                let used = if self.sums.is_some() {
                    u8::MAX
                } else {
                    self.used_taus
                };
                for (index, (smoothed, tau)) in
                    self.smoothed.iter_mut().zip(LOAD_TAUS_S).enumerate()
                {
                    if used & (1 << index) == 0 {
                        continue;
                    }
                    *smoothed = if smoothed.is_nan() {
                        load
                    } else {
                        *smoothed + (load - *smoothed) * (1.0 - (-dt / tau).exp())
                    };
                }
            }
            self.at_s = time_s;
        }
        if self.sums.is_some() && time_s > until {
            self.finish();
        }
        let Some(record) = self.signals.get_mut(signal) else {
            return;
        };
        match record.role {
            Role::Load { low, inv_span } => record.latest = (value - low) * inv_span,
            role @ Role::Conditioned { .. } => {
                // Scoring: the residual from what the load predicts, smoothed on source time.
                if let Some(expected) = predicted(role, &self.smoothed) {
                    let residual = value - expected;
                    record.latest = if record.latest.is_nan() {
                        residual
                    } else {
                        let dt = (time_s - record.at_s).max(0.0);
                        record.latest + (residual - record.latest) * (dt / (fast_tau_s + dt))
                    };
                    record.at_s = time_s;
                }
            }
            Role::Plain => {
                if let Some(slot) = self.sums.as_mut().and_then(|sums| sums.get_mut(signal)) {
                    // A smoothed load starts at the first value seen: it means something
                    // only after about one time constant.
                    for ((sum, smoothed), tau) in
                        slot.iter_mut().zip(self.smoothed).zip(LOAD_TAUS_S)
                    {
                        if smoothed.is_finite() && since_start_s >= tau {
                            sum.push(smoothed, value);
                        }
                    }
                }
            }
        }
    }

    /// Ends learning: each signal whose variation the smoothed load explains well enough is
    /// conditioned on the time constant that explains most.
    pub fn finish(&mut self) {
        let Some(sums) = self.sums.take() else {
            return;
        };
        for ((record, slot), floor) in self.signals.iter_mut().zip(&sums).zip(&self.floors) {
            if record.role != Role::Plain {
                continue;
            }
            let best = slot
                .iter()
                .zip(LOAD_TAUS_S)
                .filter_map(|(s, tau)| s.fit().map(|fit| (fit, tau)))
                .max_by(|a, b| a.0.3.total_cmp(&b.0.3));
            if let Some(((intercept, slope, sd, _), tau_s)) =
                best.filter(|((_, _, _, explained), _)| *explained >= MIN_EXPLAINED)
            {
                record.role = conditioned(&ConditionedBaseline {
                    tau_s,
                    intercept,
                    slope,
                    sigma: sd.max(*floor),
                });
            }
        }
        self.note_used_taus();
    }

    /// Signed distance of `signal` from what the load predicts, in sigmas of the raw
    /// residual (its smoothed value is compared with the spread of unsmoothed residuals: a
    /// conservative yardstick, since the residual's lag errors are not white noise).
    pub fn deviation(&self, signal: usize) -> Option<f64> {
        let record = self.signals.get(signal)?;
        match record.role {
            Role::Conditioned { sigma, .. } if record.latest.is_finite() => {
                Some(record.latest / sigma)
            }
            _ => None,
        }
    }

    /// What `signal` should read now given the asset's recent load, if it is conditioned.
    pub fn expected(&self, signal: usize) -> Option<f64> {
        predicted(self.signals.get(signal)?.role, &self.smoothed)
    }

    /// What was learned, by signal id, for a baseline file.
    pub fn baselines(&self, ids: &[&str]) -> BTreeMap<String, ConditionedBaseline> {
        ids.iter()
            .zip(&self.signals)
            .filter_map(|(id, record)| Some((id.to_string(), record.learned()?)))
            .collect()
    }

    /// How many signals are conditioned on the load.
    pub fn conditioned(&self) -> usize {
        self.signals.iter().filter_map(SignalLoad::learned).count()
    }

    /// Learns again from the next samples.
    pub fn relearn(&mut self) {
        for record in &mut self.signals {
            if matches!(record.role, Role::Conditioned { .. }) {
                record.role = Role::Plain;
            }
            record.latest = f64::NAN;
        }
        self.used_taus = 0;
        if self
            .signals
            .iter()
            .any(|r| matches!(r.role, Role::Load { .. }))
        {
            self.sums = Some(vec![
                [Sums::default(); LOAD_TAUS_S.len()];
                self.signals.len()
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
