//! The embedded prediction system, without Bevy: per-signal anomaly detectors, their fusion per
//! component and per asset into scores in [0, 1] with each signal's contribution, ISA-18.2
//! alarm state machines, and failure horizons from degradation trends. The `prediction` plugin
//! runs it on live samples; `plant-twin eval` runs the same code on public benchmarks.

pub mod alarm;
pub mod baseline;
pub mod degradation;
pub mod detector;
pub mod horizon;
pub mod likelihood;
pub mod load;
pub mod mode;
pub mod net;
pub mod recurrence;

use serde::{Deserialize, Serialize};

use crate::layout::Asset;
pub use alarm::{AlarmChange, AlarmConfig, AlarmMachine, Annunciation, Severity};
pub use detector::{DetectorConfig, Finding, SignalBaseline, SignalDetector};
pub use horizon::{Horizon, Trend, TrendFit};

/// True when the models built for `before` fit `after` unchanged: the same assets in the same
/// order with the same id, kind, components and signals (limits and normal ranges included).
/// Placement, names and footprints do not matter, so a reloaded layout whose assets only moved
/// keeps what its detectors learned.
pub fn models_fit(before: &crate::layout::PlantLayout, after: &crate::layout::PlantLayout) -> bool {
    before.assets.len() == after.assets.len()
        && before.assets.iter().zip(&after.assets).all(|(a, b)| {
            a.id == b.id
                && a.kind == b.kind
                && a.components == b.components
                && a.signals == b.signals
        })
}

/// Deterministic noise in [-1, 1] for the stages' tests.
#[cfg(test)]
pub(crate) fn test_noise(i: u64) -> f64 {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    x ^= x >> 29;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 32;
    (x as f64 / u64::MAX as f64) * 2.0 - 1.0
}

/// Everything that tunes prediction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PredictConfig {
    pub detector: DetectorConfig,
    pub alarm: AlarmConfig,
    /// Memory of the degradation trend (weights fall by e every this many seconds).
    pub trend_tau_s: f64,
    /// The failure probability is for crossing a limit within this many seconds.
    pub horizon_s: f64,
    /// A trend counts when its slope is this many standard errors from zero.
    pub trend_min_t_ratio: f64,
}

impl PredictConfig {
    /// A signal gets a failure horizon only once it is this far (sigmas) from normal: as far as
    /// makes a warning on its own. A horizon on a signal the twin does not call abnormal is a
    /// prediction the operator cannot see a reason for (3 sigma gave a changeover's warming
    /// gearbox "toward 95 degC" for a minute without any warning).
    pub fn horizon_min_sigma(&self) -> f64 {
        self.alarm.warning * self.detector.full_scale_sigma
    }
}

impl Default for PredictConfig {
    fn default() -> Self {
        PredictConfig {
            detector: DetectorConfig::default(),
            alarm: AlarmConfig::default(),
            trend_tau_s: 300.0,
            horizon_s: 24.0 * 3600.0,
            trend_min_t_ratio: 4.0,
        }
    }
}

/// One signal's part in a score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Contribution {
    /// Index of the signal in the asset's signal list.
    pub signal: u16,
    /// Signed distance from normal, sigmas (frozen: the frozen score).
    pub sigma: f64,
    pub finding: Finding,
}

/// A score and why: the signals that contribute, worst first.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Score {
    /// In [0, 1]; the largest standardised deviation of the signals, over the full scale.
    pub value: f64,
    pub contributions: Vec<Contribution>,
}

/// An alarm source inside an asset: one of its components, or the asset itself for signals
/// that belong to no component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Part {
    Asset,
    Component(u16),
}

/// The prediction state of one asset.
#[derive(Debug, Clone)]
pub struct AssetModel {
    /// One detector per signal over every mode: scores until the current mode's own detector
    /// has learned, and places the asset among its modes.
    pub detectors: Vec<SignalDetector>,
    /// The asset's operating modes, each with its own detector per signal.
    pub modes: mode::Modes,
    /// What each slow signal should read given the asset's recent load.
    pub load: load::LoadConditioning,
    /// Per signal: the low end of its normal range (a limit at or below a non-negative
    /// signal's floor is not a failure limit).
    normal_low: Vec<f64>,
    /// Per signal: the distance (sigmas, absolute) its scoring detector reports, NaN while it
    /// learns. Kept up to date on every sample so that a part's score reads one small array,
    /// not every detector of the part (at 10,000 assets each detector read is a cache miss).
    scored_sigma: Vec<f64>,
    trends: Vec<Option<Trend>>,
    limits: Vec<Option<(f64, f64)>>,
    /// Which part each signal belongs to.
    part_of: Vec<Part>,
    /// The parts that have signals, in order: the asset first (if it has own signals), then
    /// components in layout order.
    pub parts: Vec<Part>,
    pub alarms: Vec<AlarmMachine>,
    /// Per part (as `parts`): its scores at each time of day over the last week, so that a
    /// deviation as usual then as it was a day or a week before raises nothing.
    usual: Vec<recurrence::Recurrence>,
    /// Latest source time seen, seconds.
    pub now_s: f64,
    /// The learned degradation model of the asset's kind, tracked on this asset.
    degradation: Option<Box<degradation::DegradationTracker>>,
}

/// A change of one alarm of an asset.
#[derive(Debug, Clone, PartialEq)]
pub struct PartChange {
    pub part: Part,
    pub change: AlarmChange,
    pub time_s: f64,
}

impl AssetModel {
    /// A model for `asset`, scoring at once for signals found in `baseline`.
    pub fn new(
        asset: &Asset,
        config: &PredictConfig,
        baseline: Option<&baseline::AssetBaseline>,
    ) -> AssetModel {
        let mut parts = vec![];
        let part_of: Vec<Part> = asset
            .signals
            .iter()
            .map(|signal| {
                signal
                    .component
                    .as_ref()
                    .and_then(|id| asset.components.iter().position(|c| &c.id == id))
                    .map_or(Part::Asset, |i| Part::Component(i as u16))
            })
            .collect();
        for part in &part_of {
            if !parts.contains(part) {
                parts.push(*part);
            }
        }
        parts.sort();
        // A constant-looking signal gets at least 1 % of its normal range as sigma.
        let floors: Vec<f64> = asset
            .signals
            .iter()
            .map(|signal| 0.01 * (signal.normal.1 - signal.normal.0).abs())
            .collect();
        let detectors = asset
            .signals
            .iter()
            .zip(&floors)
            .map(|(signal, floor)| {
                let saved = baseline.and_then(|b| b.signals.get(&signal.id)).copied();
                SignalDetector::new(saved, *floor)
            })
            .collect();
        let normal: Vec<(f64, f64)> = asset.signals.iter().map(|s| s.normal).collect();
        let ids: Vec<&str> = asset.signals.iter().map(|s| s.id.as_str()).collect();
        let saved_modes = baseline.map_or(&[][..], |b| b.modes.as_slice());
        AssetModel {
            detectors,
            modes: mode::Modes::new(&normal, &floors, &ids, saved_modes),
            load: load::LoadConditioning::new(
                &asset.signals,
                &floors,
                baseline.map(|b| &b.conditioned),
            ),
            normal_low: normal.iter().map(|n| n.0).collect(),
            scored_sigma: vec![f64::NAN; asset.signals.len()],
            trends: asset
                .signals
                .iter()
                .map(|s| s.limits.map(|_| Trend::new(config.trend_tau_s)))
                .collect(),
            limits: asset.signals.iter().map(|s| s.limits).collect(),
            part_of,
            alarms: vec![AlarmMachine::default(); parts.len()],
            usual: vec![recurrence::Recurrence::default(); parts.len()],
            parts,
            now_s: f64::NEG_INFINITY,
            degradation: None,
        }
    }

    /// Tracks a learned degradation model on this asset (its remaining-life estimate then
    /// comes from run-to-failure histories, not from a trend).
    pub fn set_degradation(&mut self, tracker: degradation::DegradationTracker) {
        self.degradation = Some(Box::new(tracker));
    }

    pub fn degradation(&self) -> Option<&degradation::DegradationTracker> {
        self.degradation.as_deref()
    }

    /// Feeds one sample of signal `signal`; the alarm of its part is updated and any change is
    /// appended to `changes`.
    pub fn update(
        &mut self,
        config: &PredictConfig,
        signal: usize,
        time_s: f64,
        value: f64,
        changes: &mut Vec<PartChange>,
    ) {
        let Some(detector) = self.detectors.get_mut(signal) else {
            return;
        };
        detector.update(&config.detector, time_s, value);
        self.load.observe(
            signal,
            time_s,
            value,
            config.detector.fast_tau_s,
            config.detector.warm_up_s,
        );
        // The mode follows the raw value: a machine stops at once, and a stop of a few seconds
        // is still a stop (a smoothed value would show it as a state between the modes).
        self.modes.observe(signal, value);
        let previous_mode = self.modes.current();
        let mode = self.modes.classify(time_s, config.detector.warm_up_s);
        if let Some(mode) = mode {
            self.modes
                .update(mode, signal, value, config.detector.fast_tau_s);
        }
        if mode == previous_mode {
            self.refresh_scored(signal);
        } else {
            for other in 0..self.scored_sigma.len() {
                self.refresh_scored(other);
            }
        }
        if let Some(Some(trend)) = self.trends.get_mut(signal) {
            trend.push(time_s, value);
        }
        if let Some(tracker) = self.degradation.as_deref_mut() {
            tracker.observe(signal, time_s, value);
        }
        self.now_s = self.now_s.max(time_s);
        let part = self.part_of[signal];
        let score = self.part_score(config, part);
        if let Some(index) = self.parts.iter().position(|p| *p == part)
            && let Some(change) = {
                let driving = self.alarm_score(config, index, score);
                self.alarms[index].update(&config.alarm, self.now_s, driving)
            }
        {
            changes.push(PartChange {
                part,
                change,
                time_s: self.now_s,
            });
        }
    }

    /// Lets time pass without samples (shelves expire, delays run out on the last score).
    pub fn tick(&mut self, config: &PredictConfig, now_s: f64, changes: &mut Vec<PartChange>) {
        if now_s <= self.now_s {
            return;
        }
        self.now_s = now_s;
        for index in 0..self.parts.len() {
            let part = self.parts[index];
            let score = self.part_score(config, part);
            let driving = self.alarm_score(config, index, score);
            if let Some(change) = self.alarms[index].update(&config.alarm, now_s, driving) {
                changes.push(PartChange {
                    part,
                    change,
                    time_s: now_s,
                });
            }
        }
    }

    /// The score that drives part `index`'s alarm, and `score` remembered for its time of
    /// day. While the part is normal and its score at about this time a day or a week before
    /// was high enough to alarm (within the deadband), only what `score` exceeds that one may
    /// raise it; once raised the alarm follows `score` itself, so a standing fault is not
    /// cleared by lasting a day (`recurrence`).
    fn alarm_score(&mut self, config: &PredictConfig, index: usize, score: f64) -> f64 {
        let Some(usual) = self.usual.get_mut(index) else {
            return score;
        };
        let lowest_raise = config.alarm.warning.min(config.alarm.alarm);
        // Only a score this high is ever taken off a later one: lower ones need no memory, so
        // a part that never scored this high holds none.
        let would_alarm = lowest_raise - config.alarm.deadband;
        let normal = self
            .alarms
            .get(index)
            .is_none_or(|alarm| alarm.severity == Severity::Normal);
        let driving = if normal && score >= lowest_raise {
            usual.beyond_usual(self.now_s, score, would_alarm)
        } else {
            score
        };
        if score >= would_alarm {
            usual.observe(self.now_s, score);
        }
        driving
    }

    /// What part `part`'s score was at about this time a day or a week before, when it was
    /// high enough to alarm then and so keeps a new deviation from raising an alarm by less
    /// than it: (score, seconds ago).
    pub fn usual_now(&self, config: &PredictConfig, part: Part) -> Option<(f64, f64)> {
        let index = self.parts.iter().position(|p| *p == part)?;
        let lowest_raise = config.alarm.warning.min(config.alarm.alarm);
        self.usual
            .get(index)?
            .usual_at(self.now_s)
            .filter(|(score, _)| *score >= lowest_raise - config.alarm.deadband)
    }

    /// Bytes held by the time-of-day memories of the asset's parts.
    pub fn usual_bytes(&self) -> usize {
        self.usual.iter().map(recurrence::Recurrence::bytes).sum()
    }

    fn part_score(&self, config: &PredictConfig, part: Part) -> f64 {
        self.score_value(config, Some(part)).unwrap_or(0.0)
    }

    /// Signal `signal`'s detector over every mode (its smoothed value, baseline, findings).
    pub fn detector(&self, signal: usize) -> Option<&SignalDetector> {
        self.detectors.get(signal)
    }

    /// Signal `signal`'s distance from normal now (sigmas, signed) and its finding. A signal
    /// is abnormal only if it is far from normal over every mode, in the mode the asset is in,
    /// and from what its recent load predicts (where the load explains it): the smallest
    /// distance speaks. A stop is normal when stopped, a load swing normal overall, a motor
    /// warmer after a steady higher load normal for that load. A frozen sensor is frozen in
    /// every mode.
    pub fn scored(&self, signal: usize) -> Option<(f64, Finding)> {
        let overall = self.detectors.get(signal)?;
        if overall.finding != Finding::Deviation {
            return Some((overall.sigma, overall.finding));
        }
        let mut best = overall.sigma;
        for other in [
            self.modes.deviation(signal),
            self.load
                .deviation(signal)
                .filter(|_| !overall.baseline().is_some_and(|b| b.counter)),
        ]
        .into_iter()
        .flatten()
        {
            if other.abs() < best.abs() {
                best = other;
            }
        }
        Some((best, Finding::Deviation))
    }

    /// The operating mode the asset is in, as (1-based number, number of modes), once it has
    /// more than one.
    pub fn mode(&self) -> Option<(usize, usize)> {
        let count = self.modes.count();
        (count > 1)
            .then(|| self.modes.current().map(|m| (m + 1, count)))
            .flatten()
    }

    fn refresh_scored(&mut self, signal: usize) {
        let sigma = self
            .scored(signal)
            .filter(|(_, finding)| *finding != Finding::Learning)
            .map_or(f64::NAN, |(sigma, _)| sigma.abs());
        if let Some(slot) = self.scored_sigma.get_mut(signal) {
            *slot = sigma;
        }
    }

    /// Ends learning now with what has been seen, modes included (a baseline learned from a
    /// fixed stretch of data).
    pub fn finish_learning(&mut self) {
        for detector in &mut self.detectors {
            detector.finish_learning();
        }
        self.modes.finish_discovery();
        self.load.finish();
    }

    /// The score of one part (or the whole asset with `None`) and its contributions.
    pub fn score(&self, config: &PredictConfig, part: Option<Part>) -> Score {
        let mut contributions: Vec<Contribution> = (0..self.detectors.len())
            .filter(|i| part.is_none_or(|p| self.part_of[*i] == p))
            .filter_map(|i| Some((i, self.scored(i)?)))
            .filter(|(_, (_, finding))| *finding != Finding::Learning)
            .map(|(i, (sigma, finding))| Contribution {
                signal: i as u16,
                sigma,
                finding,
            })
            .collect();
        contributions.sort_by(|a, b| b.sigma.abs().total_cmp(&a.sigma.abs()));
        Score {
            value: config
                .detector
                .score_of(contributions.first().map_or(0.0, |c| c.sigma)),
            contributions,
        }
    }

    /// Just the score of a part (or the asset with `None`), without contributions: None while
    /// every signal in it is still learning. Allocation-free, for per-frame use.
    pub fn score_value(&self, config: &PredictConfig, part: Option<Part>) -> Option<f64> {
        self.scored_sigma
            .iter()
            .zip(&self.part_of)
            .filter(|(sigma, p)| !sigma.is_nan() && part.is_none_or(|q| q == **p))
            .map(|(sigma, _)| *sigma)
            .reduce(f64::max)
            .map(|sigma| config.detector.score_of(sigma))
    }

    /// Which part a signal belongs to.
    pub fn part_of(&self, signal: usize) -> Option<Part> {
        self.part_of.get(signal).copied()
    }

    /// The worst alarm of the asset.
    pub fn severity(&self) -> Severity {
        self.alarms
            .iter()
            .filter(|a| a.shelved_until_s.is_none())
            .map(|a| a.severity)
            .max()
            .unwrap_or_default()
    }

    /// An alarm stands but is shelved: hidden from annunciation, so the asset must not read
    /// "normal".
    pub fn shelved_while_active(&self) -> bool {
        self.alarms
            .iter()
            .any(|a| a.shelved_until_s.is_some() && a.severity != Severity::Normal)
    }

    /// Seconds of learning left, if any signal is still learning.
    pub fn learning_left_s(&self, config: &PredictConfig) -> Option<f64> {
        self.detectors
            .iter()
            .filter_map(|d| d.learning_s(self.now_s))
            .map(|done| (config.detector.warm_up_s - done).max(0.0))
            .reduce(f64::max)
    }

    /// How fast a signal with a trend moves, units per second, when its trend is clear (the
    /// slope at least two standard errors from zero); None without limits, data or a trend.
    pub fn trend_rate_per_s(&self, signal: usize) -> Option<f64> {
        let fit = self.trends.get(signal)?.as_ref()?.fit()?;
        (fit.slope.abs() >= 2.0 * fit.slope_se).then_some(fit.slope)
    }

    /// The failure horizon of each signal that heads for a limit, soonest first.
    pub fn horizons(&self, config: &PredictConfig) -> Vec<(u16, Horizon)> {
        let mut out: Vec<(u16, Horizon)> = self
            .trends
            .iter()
            .zip(&self.limits)
            .enumerate()
            .filter_map(|(i, (trend, limits))| {
                let detector = self.detector(i)?;
                let (sigma, finding) = self.scored(i)?;
                // Degradation first shows as a deviation from normal: a signal inside its
                // normal spread (a machine's load swinging, a stop in its idle mode) has no
                // failure horizon, and a frozen sensor has a stuck value, not a trend.
                if finding != Finding::Deviation || sigma.abs() < config.horizon_min_sigma() {
                    return None;
                }
                let fit = trend.as_ref()?.fit()?;
                if fit.slope * sigma < 0.0 {
                    return None;
                }
                // A trend must move the signal by more than its normal spread within the
                // trend's memory: a statistically certain but tiny slope is not degradation.
                let spread = detector.baseline().map_or(0.0, |b| b.sigma);
                if fit.slope.abs() * config.trend_tau_s < spread {
                    return None;
                }
                let (low, high) = (*limits)?;
                let h = horizon::horizon(
                    &fit,
                    (low, high),
                    config.horizon_s,
                    config.trend_min_t_ratio,
                )?;
                // A low limit at or below the floor of a signal that is never negative (a
                // speed, a vibration, a temperature that is normally above 0) is where the
                // machine stops or cools, not where it fails: no "toward 0".
                if h.limit == low && low <= 0.0 && self.normal_low[i] >= 0.0 {
                    return None;
                }
                Some((i as u16, h))
            })
            .collect();
        out.sort_by(|a, b| {
            b.1.probability
                .total_cmp(&a.1.probability)
                .then(a.1.expected_s.total_cmp(&b.1.expected_s))
        });
        out
    }

    /// The learned remaining-life estimate, when the asset has a model, one of the model's
    /// signals deviates from normal (degradation first shows as a deviation, as for the trend)
    /// and most matching histories were already failing at this point.
    pub fn learned_horizon(&self, config: &PredictConfig) -> Option<degradation::LearnedHorizon> {
        if !self.degradation_signals_deviate(config) {
            return None;
        }
        self.degradation.as_deref()?.horizon(config.horizon_s)
    }

    /// True when one of the degradation model's signals is far enough from normal for a
    /// failure horizon (the estimate is matched only then).
    fn degradation_signals_deviate(&self, config: &PredictConfig) -> bool {
        self.degradation.as_deref().is_some_and(|tracker| {
            tracker.signals().iter().any(|&i| {
                self.scored(i).is_some_and(|(sigma, finding)| {
                    finding == Finding::Deviation && sigma.abs() >= config.horizon_min_sigma()
                })
            })
        })
    }

    /// Starts learning normal behaviour afresh on every signal, modes included.
    pub fn relearn(&mut self) {
        for detector in &mut self.detectors {
            detector.relearn();
        }
        self.modes.relearn();
        self.load.relearn();
        self.scored_sigma.fill(f64::NAN);
        // What was usual at each time of day was learned with the rest.
        self.usual.fill(recurrence::Recurrence::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::parse_layout;

    fn pump() -> Asset {
        let layout = parse_layout(
            crate::layout::DEMO_LAYOUT_TEXT,
            std::path::Path::new("demo.ron"),
        )
        .expect("demo");
        layout
            .assets
            .into_iter()
            .find(|a| a.id == "pump-02")
            .expect("pump-02")
    }

    /// The first signal of `asset`'s bearing.
    fn bearing_signal(asset: &Asset) -> usize {
        asset
            .signals
            .iter()
            .position(|s| s.id.contains("bearing"))
            .expect("a bearing signal")
    }

    /// Signal `s` of `asset` in the middle of its normal range, moved by `wiggle` (-1..1) times
    /// 2 % of the range.
    fn near_middle(asset: &Asset, s: usize, wiggle: f64) -> f64 {
        let signal = &asset.signals[s];
        let mid = (signal.normal.0 + signal.normal.1) / 2.0;
        let span = signal.normal.1 - signal.normal.0;
        mid + span * 0.02 * wiggle
    }

    #[test]
    fn a_fault_on_one_component_raises_that_component_only() {
        let asset = pump();
        let config = PredictConfig::default();
        let mut model = AssetModel::new(&asset, &config, None);
        let mut changes = vec![];
        let bearing = bearing_signal(&asset);
        let value = |s: usize, t: u64| {
            let wiggle = ((t * 7919 + s as u64 * 104_729) % 200) as f64 / 100.0 - 1.0;
            near_middle(&asset, s, wiggle)
        };
        let learn_s = config.detector.warm_up_s as u64 + 5;
        for t in 0..learn_s + 600 {
            for s in 0..asset.signals.len() {
                let mut v = value(s, t);
                if s == bearing && t > learn_s + 100 {
                    v += asset.signals[s].normal.1 * 0.5;
                }
                model.update(&config, s, t as f64, v, &mut changes);
            }
        }
        let bearing_part = model.part_of(bearing).expect("part");
        let raised: Vec<_> = changes
            .iter()
            .filter(|c| matches!(c.change, AlarmChange::Raised { .. }))
            .collect();
        assert!(!raised.is_empty(), "no alarm");
        assert!(raised.iter().all(|c| c.part == bearing_part), "{raised:?}");
        let score = model.score(&config, None);
        assert_eq!(score.contributions[0].signal as usize, bearing);
        assert_eq!(score.value, 1.0);
        assert_eq!(model.severity(), Severity::Alarm);
    }

    #[test]
    fn a_deviation_every_day_at_the_same_time_alarms_once_and_a_standing_fault_stays_raised() {
        let asset = pump();
        let config = PredictConfig::default();
        let mut model = AssetModel::new(&asset, &config, None);
        let mut changes = vec![];
        let bearing = bearing_signal(&asset);
        let value = |s: usize, t: u64| near_middle(&asset, s, test_noise(t * 31 + s as u64));
        let learn_s = config.detector.warm_up_s as u64 + 5;
        for t in 0..learn_s {
            for s in 0..asset.signals.len() {
                model.update(&config, s, t as f64, value(s, t), &mut changes);
            }
        }
        // Then four days sampled every minute. The bearing deviates for ten minutes at 02:00
        // every day, for ten minutes at 14:00 on day 1 and at 13:00 on day 2, and from 12:00
        // to 16:00 on day 3.
        let day_s = 86_400;
        let start = learn_s.div_ceil(day_s) * day_s;
        let deviates = |t: u64| {
            let (day, minute) = ((t - start) / day_s, (t - start) % day_s / 60);
            (120..130).contains(&minute)
                || (day == 1 && (840..850).contains(&minute))
                || (day == 2 && (780..790).contains(&minute))
                || (day == 3 && (720..960).contains(&minute))
        };
        let (mut raised_at, mut cleared_at) = (vec![], vec![]);
        for t in (start..start + 4 * day_s).step_by(60) {
            changes.clear();
            for s in 0..asset.signals.len() {
                let mut v = value(s, t);
                if s == bearing && deviates(t) {
                    v += asset.signals[s].normal.1 * 0.5;
                }
                model.update(&config, s, t as f64, v, &mut changes);
            }
            if changes
                .iter()
                .any(|c| matches!(c.change, AlarmChange::Raised { .. }))
            {
                raised_at.push(((t - start) / day_s, (t - start) % day_s / 60));
            }
            if changes
                .iter()
                .any(|c| matches!(c.change, AlarmChange::Cleared))
            {
                cleared_at.push(((t - start) / day_s, (t - start) % day_s / 60));
            }
        }
        // Day 0 at 02:00, and not at 02:00 again; the new ones on days 1 and 2; day 3's at
        // 12:00, held through 13:00 (where the day before deviated as much) until it ends.
        let tens = |at: Vec<(u64, u64)>| -> Vec<(u64, u64)> {
            at.into_iter()
                .map(|(d, minute)| (d, minute / 10 * 10))
                .collect()
        };
        assert_eq!(
            tens(raised_at),
            vec![(0, 120), (1, 840), (2, 780), (3, 720)]
        );
        assert_eq!(
            tens(cleared_at),
            vec![(0, 130), (1, 850), (2, 790), (3, 960)]
        );
        let part = model.part_of(bearing).expect("part");
        // At the end (day 3, 23:59) the day before was quiet: nothing is usual then.
        assert_eq!(model.usual_now(&config, part), None);
        assert_eq!(model.severity(), Severity::Normal);
        // At 02:00 on day 4 the deviation of the day before is what is usual.
        let two_am = (start + 4 * day_s + 7200) as f64;
        model.tick(&config, two_am, &mut changes);
        assert_eq!(
            model.usual_now(&config, part).map(|(_, ago)| ago),
            Some(recurrence::DAY_S)
        );
    }
}
