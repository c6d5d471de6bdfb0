//! Energy accounting without Bevy: power signals integrated to energy (trapezoid on source
//! time), energy meters followed across rollovers and resets, energy drawn while an asset is not
//! producing, hourly energy, and the utility's demand interval with the forecast of its
//! average. The same account runs live, in replay and in `plant-twin energy report`.
//!
//! Gaps longer than [`AccountConfig::max_gap_s`] are not bridged as measured energy: the
//! trapezoid across them is kept apart as "estimated", and their length as "missing", so a
//! figure never silently includes a guess or a zero.

pub mod report;
pub mod shift;
pub mod tariff;

use crate::layout::{EnergyMeasure, PlantLayout, Producing};
use crate::telemetry::Sample;

/// How the account treats time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AccountConfig {
    /// A longer silence between two samples of a signal is a gap, seconds.
    pub max_gap_s: f64,
    /// The utility's demand interval, seconds (15 minutes by default).
    pub demand_interval_s: f64,
}

impl Default for AccountConfig {
    fn default() -> Self {
        AccountConfig {
            max_gap_s: 60.0,
            demand_interval_s: 900.0,
        }
    }
}

const HOUR_MS: i64 = 3_600_000;

/// Energy of one asset (or the plant), kWh unless named otherwise.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Energy {
    /// Integrated from samples no further apart than the gap limit, and meter differences.
    pub measured_kwh: f64,
    /// Bridged across gaps longer than the limit: a guess, shown apart.
    pub estimated_kwh: f64,
    /// Time with no data, summed over the asset's energy signals, seconds.
    pub missing_s: f64,
    /// Of `measured_kwh`, drawn while the asset was not producing (only assets that say when
    /// they produce).
    pub idle_kwh: f64,
    /// Parts made (a producing counter's increase).
    pub parts: f64,
    /// Meter resets (a counter that stepped back without wrapping) and other refused samples.
    pub resets: u32,
    pub rejected: u32,
    /// Power now (sum of the asset's power signals, and meters' last rate), kW.
    pub power_kw: f64,
}

impl Energy {
    /// Adds another asset's figures (a line's or the plant's total).
    pub fn add(&mut self, other: &Energy) {
        self.measured_kwh += other.measured_kwh;
        self.estimated_kwh += other.estimated_kwh;
        self.missing_s += other.missing_s;
        self.idle_kwh += other.idle_kwh;
        self.parts += other.parts;
        self.resets += other.resets;
        self.rejected += other.rejected;
        self.power_kw += other.power_kw;
    }

    /// kWh per part, where the asset counts parts.
    pub fn kwh_per_part(&self) -> Option<f64> {
        (self.parts > 0.0).then(|| self.measured_kwh / self.parts)
    }
}

/// Where a signal's samples go.
#[derive(Debug, Clone)]
enum Channel {
    Power {
        /// W, kW or MW to kW.
        to_kw: f64,
        last: Option<(i64, f64)>,
        /// The asset produces while this power is above the threshold (in the signal's unit):
        /// the signal is also the producing signal.
        producing_above: Option<f64>,
    },
    Meter {
        to_kwh: f64,
        rollover: Option<f64>,
        last: Option<(i64, f64)>,
    },
    /// The producing signal.
    Producing {
        kind: ProducingKind,
        last: Option<f64>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ProducingKind {
    Running,
    Counter,
    Above(f64),
}

/// The demand interval now: energy so far and the forecast of its average.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Demand {
    /// Start of the current interval, ms since the epoch.
    pub interval_start_ms: i64,
    /// Energy in the current interval so far, kWh.
    pub interval_kwh: f64,
    /// The classic demand controller's forecast of this interval's average power: the energy
    /// so far plus the power now for the rest of the interval, over its length, kW.
    pub forecast_kw: f64,
    /// The highest completed interval's average power, kW, and when it started.
    pub peak_kw: f64,
    pub peak_start_ms: i64,
    /// Average power of each completed interval (start ms, kW).
    pub intervals: Vec<(i64, f64)>,
}

/// Books `kwh` drawn evenly over [t0, t1] into `series` of (period start ms, kWh) with
/// periods of `period_ms`, kept in time order.
fn book_spread(series: &mut Vec<(i64, f64)>, period_ms: i64, t0: i64, t1: i64, kwh: f64) {
    let duration = (t1 - t0).max(1) as f64;
    let mut start = t0;
    while start < t1 {
        let period = start.div_euclid(period_ms) * period_ms;
        let end = (period + period_ms).min(t1);
        let share = kwh * (end - start) as f64 / duration;
        match series.last_mut() {
            Some((p, total)) if *p == period => *total += share,
            _ => {
                // Out-of-order periods (a late signal) go to their own period.
                match series.binary_search_by_key(&period, |(p, _)| *p) {
                    Ok(i) => series[i].1 += share,
                    Err(i) => series.insert(i, (period, share)),
                }
            }
        }
        start = end;
    }
}

/// An energy signal that meters a group of assets, and what it measured.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GroupMeter {
    /// "asset/signal" of the meter.
    pub meter: String,
    /// Layout positions of the assets it meters.
    #[serde(skip)]
    pub members: Vec<usize>,
    /// The meter's own energy (not the rest of its asset's).
    pub energy: Energy,
}

impl GroupMeter {
    /// The members' own measured energy and what the meter saw beyond it (losses, loads
    /// without a meter of their own), kWh.
    pub fn balance(&self, assets: &[Energy]) -> (f64, f64) {
        let members: f64 = self
            .members
            .iter()
            .filter_map(|&m| assets.get(m))
            .map(|e| e.measured_kwh)
            .sum();
        (members, self.energy.measured_kwh - members)
    }
}

/// The energy account of a plant.
#[derive(Debug, Clone)]
pub struct EnergyAccount {
    config: AccountConfig,
    /// Per asset, per signal index: what the signal is for (none for most signals).
    channels: Vec<Vec<Option<Channel>>>,
    /// Per asset.
    pub assets: Vec<Energy>,
    /// Whether each asset is producing now (None: it does not say).
    producing: Vec<Option<bool>>,
    /// Per asset: its energy is metered by a group meter, which the plant's totals count
    /// instead.
    covered: Vec<bool>,
    /// The group meters, with the energy of their meter signal alone.
    pub groups: Vec<GroupMeter>,
    /// Per asset, per signal index: the group meter the signal is (same shape as `channels`).
    group_of: Vec<Vec<Option<usize>>>,
    /// Plant energy per hour: (hour start ms, measured kWh), in time order.
    pub hourly: Vec<(i64, f64)>,
    /// Plant energy per demand interval: (interval start ms, measured kWh), in time order, the
    /// current interval last.
    pub slots: Vec<(i64, f64)>,
    /// Per asset, for shiftable assets only: its energy per demand interval, like `slots`
    /// (what a load-shift what-if moves).
    pub asset_slots: Vec<Option<Vec<(i64, f64)>>>,
    pub demand: Demand,
    /// Prices and carbon intensities received live, by hour (empty without live feeds).
    pub market: tariff::LiveMarket,
    /// Latest source time of an energy sample, ms (`i64::MIN` before the first).
    now_ms: i64,
}

impl EnergyAccount {
    pub fn new(layout: &PlantLayout, config: AccountConfig) -> EnergyAccount {
        let channels = layout
            .assets
            .iter()
            .map(|asset| {
                asset
                    .signals
                    .iter()
                    .map(|signal| {
                        let producing = asset
                            .producing
                            .as_ref()
                            .filter(|p| p.signal() == signal.id)
                            .map(|p| Channel::Producing {
                                kind: match p {
                                    Producing::Running(_) => ProducingKind::Running,
                                    Producing::Counter(_) => ProducingKind::Counter,
                                    Producing::Above(_, threshold) => {
                                        ProducingKind::Above(*threshold)
                                    }
                                },
                                last: None,
                            });
                        let scale = match signal.unit.as_str() {
                            "W" | "Wh" => 1e-3,
                            "MW" | "MWh" => 1e3,
                            _ => 1.0,
                        };
                        match &signal.energy {
                            Some(EnergyMeasure::Power) => Some(Channel::Power {
                                to_kw: scale,
                                last: None,
                                producing_above: match asset.producing.as_ref() {
                                    Some(Producing::Above(id, threshold)) if *id == signal.id => {
                                        Some(*threshold)
                                    }
                                    _ => None,
                                },
                            }),
                            Some(EnergyMeasure::Meter { rollover }) => Some(Channel::Meter {
                                to_kwh: scale,
                                rollover: *rollover,
                                last: None,
                            }),
                            None => producing,
                        }
                    })
                    .collect()
            })
            .collect();
        let position = |id: &str| layout.assets.iter().position(|a| a.id == id);
        let mut groups = vec![];
        let mut covered = vec![false; layout.assets.len()];
        let group_of = layout
            .assets
            .iter()
            .map(|asset| {
                asset
                    .signals
                    .iter()
                    .map(|signal| {
                        if signal.meters_for.is_empty() || signal.energy.is_none() {
                            return None;
                        }
                        let members: Vec<usize> = signal
                            .meters_for
                            .iter()
                            .filter_map(|id| position(id))
                            .collect();
                        for &m in &members {
                            covered[m] = true;
                        }
                        groups.push(GroupMeter {
                            meter: format!("{}/{}", asset.id, signal.id),
                            members,
                            energy: Energy::default(),
                        });
                        Some(groups.len() - 1)
                    })
                    .collect()
            })
            .collect();
        EnergyAccount {
            config,
            covered,
            groups,
            group_of,
            channels,
            assets: vec![Energy::default(); layout.assets.len()],
            producing: layout
                .assets
                .iter()
                .map(|a| a.producing.as_ref().map(|_| false))
                .collect(),
            hourly: Vec::new(),
            slots: Vec::new(),
            asset_slots: layout
                .assets
                .iter()
                .map(|a| a.shiftable.then(Vec::new))
                .collect(),
            demand: Demand::default(),
            market: tariff::LiveMarket::default(),
            now_ms: i64::MIN,
        }
    }

    /// Whether any signal of the layout is an energy signal.
    pub fn has_energy_signals(&self) -> bool {
        self.channels
            .iter()
            .flatten()
            .any(|c| matches!(c, Some(Channel::Power { .. }) | Some(Channel::Meter { .. })))
    }

    /// Takes a live price or carbon intensity (a feed the tariff names).
    pub fn add_market(&mut self, value: &crate::telemetry::market::MarketValue) {
        self.market.add(value);
    }

    /// Takes one sample (any signal; those that are not energy or producing signals cost one
    /// lookup).
    pub fn add(&mut self, sample: &Sample) {
        let (asset, signal) = (sample.signal.asset as usize, sample.signal.signal as usize);
        let Some(channel) = self
            .channels
            .get_mut(asset)
            .and_then(|signals| signals.get_mut(signal))
            .and_then(Option::as_mut)
        else {
            return;
        };
        let (time_ms, value) = (sample.time_ms, sample.value);
        let max_gap_ms = (self.config.max_gap_s * 1000.0) as i64;
        let mut producing = self.producing[asset];
        let energy = &mut self.assets[asset];
        if !value.is_finite() {
            energy.rejected += 1;
            return;
        }
        // (from ms, to ms, measured kWh, power at the end kW) of what this sample adds.
        let mut span: Option<(i64, i64, f64)> = None;
        match channel {
            Channel::Power {
                to_kw,
                last,
                producing_above,
            } => {
                let kw = value * *to_kw;
                // The state that held over the interval ending now: the one at its start.
                if let Some(threshold) = *producing_above {
                    producing = last.map(|(_, kw0)| kw0 > threshold * *to_kw);
                    self.producing[asset] = Some(value > threshold);
                }
                if kw < 0.0 {
                    // Negative active power (a sign error or export) is not consumption.
                    energy.rejected += 1;
                    return;
                }
                match *last {
                    Some((t0, _)) if time_ms <= t0 => {
                        energy.rejected += 1;
                        return;
                    }
                    Some((t0, kw0)) => {
                        let kwh = 0.5 * (kw0 + kw) * (time_ms - t0) as f64 / HOUR_MS as f64;
                        if time_ms - t0 > max_gap_ms {
                            energy.estimated_kwh += kwh;
                            energy.missing_s += (time_ms - t0) as f64 / 1000.0;
                        } else {
                            span = Some((t0, time_ms, kwh));
                        }
                        energy.power_kw += kw - kw0;
                    }
                    None => energy.power_kw += kw,
                }
                *last = Some((time_ms, kw));
            }
            Channel::Meter {
                to_kwh,
                rollover,
                last,
            } => {
                if let Some((t0, v0)) = *last {
                    if time_ms <= t0 {
                        energy.rejected += 1;
                        return;
                    }
                    let step = if value >= v0 {
                        Some(value - v0)
                    } else {
                        // A wrap: from near the top to near zero. Anything else is a reset
                        // (meter replaced or cleared), not consumption.
                        rollover
                            .filter(|r| v0 > 0.5 * r && value < 0.5 * r)
                            .map(|r| r - v0 + value)
                    };
                    match step {
                        Some(step) => {
                            let kwh = step * *to_kwh;
                            let hours = (time_ms - t0) as f64 / HOUR_MS as f64;
                            if time_ms - t0 > max_gap_ms {
                                // A meter's difference across a gap is still measured energy
                                // (the meter kept counting); only its timing is unknown.
                                energy.measured_kwh += kwh;
                                if let Some(&Some(group)) = self.group_of[asset].get(signal) {
                                    self.groups[group].energy.measured_kwh += kwh;
                                }
                                energy.missing_s += hours * 3600.0;
                            } else {
                                span = Some((t0, time_ms, kwh));
                            }
                            let rate = kwh / hours;
                            energy.power_kw = rate;
                        }
                        None => energy.resets += 1,
                    }
                }
                *last = Some((time_ms, value));
            }
            Channel::Producing { kind, last } => {
                let now = match kind {
                    ProducingKind::Running => value > 0.5,
                    ProducingKind::Above(threshold) => value > *threshold,
                    ProducingKind::Counter => {
                        let made = last.map_or(0.0, |l| (value - l).max(0.0));
                        energy.parts += made;
                        made > 0.0
                    }
                };
                *last = Some(value);
                self.producing[asset] = Some(now);
                return;
            }
        }
        self.now_ms = self.now_ms.max(time_ms);
        if let Some((t0, t1, kwh)) = span {
            energy.measured_kwh += kwh;
            if producing == Some(false) {
                energy.idle_kwh += kwh;
            }
            if let Some(&Some(group)) = self.group_of[asset].get(signal) {
                self.groups[group].energy.measured_kwh += kwh;
            }
            // A metered member's energy is in its group meter's already.
            if !self.covered[asset] {
                self.book(t0, t1, kwh);
            }
            let interval_ms = self.interval_ms();
            if let Some(Some(slots)) = self.asset_slots.get_mut(asset) {
                book_spread(slots, interval_ms, t0, t1, kwh);
            }
        }
    }

    /// The demand interval, ms.
    pub fn interval_ms(&self) -> i64 {
        ((self.config.demand_interval_s * 1000.0) as i64).max(1)
    }

    /// Books `kwh` drawn evenly over [t0, t1] into the hours and the demand intervals.
    fn book(&mut self, t0: i64, t1: i64, kwh: f64) {
        book_spread(&mut self.hourly, HOUR_MS, t0, t1, kwh);
        let interval_ms = self.interval_ms();
        book_spread(&mut self.slots, interval_ms, t0, t1, kwh);
        self.book_demand(t0, t1, kwh);
    }

    fn book_demand(&mut self, t0: i64, t1: i64, kwh: f64) {
        let interval_ms = (self.config.demand_interval_s * 1000.0) as i64;
        let interval = t1.div_euclid(interval_ms) * interval_ms;
        let demand = &mut self.demand;
        if demand.interval_start_ms == 0 && demand.intervals.is_empty() {
            demand.interval_start_ms = interval;
        }
        if interval > demand.interval_start_ms {
            // The interval closed: its average power is its energy over its length.
            let average = demand.interval_kwh / (interval_ms as f64 / HOUR_MS as f64);
            demand.intervals.push((demand.interval_start_ms, average));
            if average > demand.peak_kw {
                demand.peak_kw = average;
                demand.peak_start_ms = demand.interval_start_ms;
            }
            demand.interval_start_ms = interval;
            demand.interval_kwh = 0.0;
        }
        // The part of this span inside the current interval.
        let inside = (t1 - t0.max(interval)).max(0) as f64 / (t1 - t0).max(1) as f64;
        demand.interval_kwh += kwh * inside;
    }

    /// Source time of the latest energy sample, ms since the epoch.
    pub fn latest_ms(&self) -> Option<i64> {
        (self.now_ms != i64::MIN).then_some(self.now_ms)
    }

    /// The plant's power now, kW (group meters instead of their members).
    pub fn plant_power_kw(&self) -> f64 {
        self.assets
            .iter()
            .zip(&self.covered)
            .filter(|(_, covered)| !**covered)
            .map(|(a, _)| a.power_kw)
            .sum()
    }

    /// Whether an asset's energy is metered by a group meter (and left out of the totals).
    pub fn is_metered_by_group(&self, asset: usize) -> bool {
        self.covered.get(asset).copied().unwrap_or(false)
    }

    /// Refreshes the demand forecast for `now_ms` (after a batch of samples).
    pub fn forecast_demand(&mut self, now_ms: i64) -> f64 {
        let interval_ms = self.config.demand_interval_s * 1000.0;
        let elapsed_ms = (now_ms - self.demand.interval_start_ms).clamp(0, interval_ms as i64);
        let remaining_h = (interval_ms - elapsed_ms as f64) / HOUR_MS as f64;
        let forecast = (self.demand.interval_kwh + self.plant_power_kw() * remaining_h)
            / (interval_ms / HOUR_MS as f64);
        self.demand.forecast_kw = forecast;
        forecast
    }

    /// Each line's totals, in the layout's order of lines (assets without a line as "(no
    /// line)"); a group meter counts for its own asset's line instead of its members.
    pub fn by_line(&self, layout: &PlantLayout) -> Vec<(String, Energy)> {
        let mut lines: Vec<(String, Energy)> = Vec::new();
        for (i, (asset, e)) in layout.assets.iter().zip(&self.assets).enumerate() {
            if self.is_metered_by_group(i) {
                continue;
            }
            let name = asset.line.as_deref().unwrap_or("(no line)");
            match lines.iter_mut().find(|(n, _)| n == name) {
                Some((_, total)) => total.add(e),
                None => lines.push((name.to_string(), e.clone())),
            }
        }
        lines
    }

    /// The plant's totals (group meters instead of their members).
    pub fn plant(&self) -> Energy {
        let mut total = Energy::default();
        for (a, covered) in self.assets.iter().zip(&self.covered) {
            if !covered {
                total.add(a);
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{Asset, AssetKind, Floor, Footprint, Signal};
    use crate::telemetry::{Quality, SignalRef};

    fn signal(id: &str, unit: &str, energy: Option<EnergyMeasure>) -> Signal {
        Signal {
            id: id.into(),
            component: None,
            unit: unit.into(),
            normal: (0.0, 1e9),
            limits: None,
            energy,
            meters_for: vec![],
        }
    }

    fn plant(signals: Vec<Signal>, producing: Option<Producing>) -> PlantLayout {
        PlantLayout {
            schema_version: 1,
            name: "energy".into(),
            units: Default::default(),
            floor: Floor {
                width: 10.0,
                depth: 10.0,
            },
            lines: vec![],
            zones: vec![],
            assets: vec![Asset {
                id: "m".into(),
                name: "m".into(),
                kind: AssetKind::CncMachine,
                line: None,
                position: (5.0, 5.0),
                rotation_deg: 0.0,
                footprint: Footprint::Box {
                    length: 1.0,
                    width: 1.0,
                    height: 1.0,
                },
                clearance: 0.0,
                components: vec![],
                signals,
                telemetry: None,
                pinned: false,
                pickup: None,
                dropoff: None,
                producing,
                shiftable: true,
            }],
            degradation_models: vec![],
            flows: vec![],
        }
    }

    /// An account whose plant and one shiftable asset have these profiles (for the what-if
    /// tests).
    pub(crate) fn account_with(
        plant_slots: Vec<(i64, f64)>,
        asset_slots: Vec<(i64, f64)>,
    ) -> EnergyAccount {
        let mut account = EnergyAccount::new(
            &plant(vec![signal("p", "kW", Some(EnergyMeasure::Power))], None),
            AccountConfig::default(),
        );
        account.slots = plant_slots;
        account.asset_slots = vec![Some(asset_slots)];
        account
    }

    fn sample(signal: u16, time_ms: i64, value: f64) -> Sample {
        Sample {
            signal: SignalRef { asset: 0, signal },
            value,
            quality: Quality::Good,
            time_ms,
        }
    }

    #[test]
    fn a_group_meter_counts_instead_of_its_members_and_shows_what_they_miss() {
        // Two machines at 10 and 20 kW, and a feeder meter covering both that also sees 5 kW
        // of losses: 35 kW for an hour.
        let machine = |id: &str| Asset {
            id: id.into(),
            ..plant(vec![signal("p", "kW", Some(EnergyMeasure::Power))], None).assets[0].clone()
        };
        let mut layout = plant(vec![], None);
        let mut feeder = machine("feeder");
        feeder.signals = vec![Signal {
            meters_for: vec!["a".into(), "b".into()],
            ..signal("p", "kW", Some(EnergyMeasure::Power))
        }];
        layout.assets = vec![machine("a"), machine("b"), feeder];
        let mut account = EnergyAccount::new(&layout, AccountConfig::default());
        for second in 0..=3600 {
            let t = second * 1000;
            for (asset, kw) in [(0u32, 10.0), (1, 20.0), (2, 35.0)] {
                account.add(&Sample {
                    signal: SignalRef { asset, signal: 0 },
                    ..sample(0, t, kw)
                });
            }
        }
        let plant = account.plant();
        assert!((plant.measured_kwh - 35.0).abs() < 1e-6, "{plant:?}");
        assert!((account.plant_power_kw() - 35.0).abs() < 1e-9);
        let hourly: f64 = account.hourly.iter().map(|h| h.1).sum();
        assert!((hourly - 35.0).abs() < 1e-6);
        let group = &account.groups[0];
        assert_eq!(group.meter, "feeder/p");
        let (members, beyond) = group.balance(&account.assets);
        assert!((members - 30.0).abs() < 1e-6 && (beyond - 5.0).abs() < 1e-6);
        assert!(account.is_metered_by_group(0) && !account.is_metered_by_group(2));
    }

    #[test]
    fn a_known_power_curve_integrates_within_a_tenth_of_a_percent() {
        // P(t) = 50 + 30 sin(2 pi t / 1 h) kW over 3 hours at 1 Hz: exactly 150 kWh.
        let layout = plant(vec![signal("p", "kW", Some(EnergyMeasure::Power))], None);
        let mut account = EnergyAccount::new(&layout, AccountConfig::default());
        for s in 0..=3 * 3600 {
            let kw = 50.0 + 30.0 * (std::f64::consts::TAU * s as f64 / 3600.0).sin();
            account.add(&sample(0, s * 1000, kw));
        }
        let e = &account.assets[0];
        assert!((e.measured_kwh - 150.0).abs() / 150.0 < 1e-3, "{e:?}");
        assert_eq!(e.estimated_kwh, 0.0);
        // Each hour holds 50 kWh (the sine integrates to zero over its period).
        assert_eq!(account.hourly.len(), 3);
        for (_, kwh) in &account.hourly {
            assert!((kwh - 50.0).abs() < 0.05, "{kwh}");
        }
        // The same energy in watts.
        let layout = plant(vec![signal("p", "W", Some(EnergyMeasure::Power))], None);
        let mut watts = EnergyAccount::new(&layout, AccountConfig::default());
        for s in 0..=3600 {
            watts.add(&sample(0, s * 1000, 2000.0));
        }
        assert!((watts.assets[0].measured_kwh - 2.0).abs() < 1e-9);
    }

    #[test]
    fn a_gap_is_estimated_and_missing_never_zero_or_measured() {
        let layout = plant(vec![signal("p", "kW", Some(EnergyMeasure::Power))], None);
        let mut account = EnergyAccount::new(&layout, AccountConfig::default());
        // 10 kW for 10 minutes, silence for 20 minutes, 10 kW for 10 minutes.
        for s in (0..=600).step_by(10) {
            account.add(&sample(0, s * 1000, 10.0));
        }
        for s in (1800..=2400).step_by(10) {
            account.add(&sample(0, s * 1000, 10.0));
        }
        let e = &account.assets[0];
        assert!((e.measured_kwh - 10.0 * 20.0 / 60.0).abs() < 1e-9, "{e:?}");
        assert!((e.estimated_kwh - 10.0 * 20.0 / 60.0).abs() < 1e-9);
        assert_eq!(e.missing_s, 1200.0);
        // A sample from the past and a negative power are refused and counted.
        account.add(&sample(0, 100_000, 10.0));
        account.add(&sample(0, 2_500_000, -3.0));
        assert_eq!(account.assets[0].rejected, 2);
    }

    #[test]
    fn a_meter_counts_across_its_rollover_and_not_across_a_reset() {
        let meter = EnergyMeasure::Meter {
            rollover: Some(100_000.0),
        };
        let layout = plant(vec![signal("e", "kWh", Some(meter))], None);
        let mut account = EnergyAccount::new(&layout, AccountConfig::default());
        // 99,990 -> 99,998 -> (wrap) 6 -> 20: 8 + 8 + 14 = 30 kWh.
        for (t, v) in [(0, 99_990.0), (30, 99_998.0), (60, 6.0), (90, 20.0)] {
            account.add(&sample(0, t * 1000, v));
        }
        assert!((account.assets[0].measured_kwh - 30.0).abs() < 1e-9);
        assert_eq!(account.assets[0].resets, 0);
        // A step back that is no wrap (20 -> 3): a reset, nothing counted; then it counts on.
        account.add(&sample(0, 120_000, 3.0));
        account.add(&sample(0, 150_000, 5.0));
        assert!((account.assets[0].measured_kwh - 32.0).abs() < 1e-9);
        assert_eq!(account.assets[0].resets, 1);
        // Without a rollover configured, a wrap is a reset too.
        let layout = plant(
            vec![signal(
                "e",
                "Wh",
                Some(EnergyMeasure::Meter { rollover: None }),
            )],
            None,
        );
        let mut plain = EnergyAccount::new(&layout, AccountConfig::default());
        for (t, v) in [(0, 99_000.0), (30, 99_500.0), (60, 10.0)] {
            plain.add(&sample(0, t * 1000, v));
        }
        assert!((plain.assets[0].measured_kwh - 0.5).abs() < 1e-9);
        assert_eq!(plain.assets[0].resets, 1);
    }

    #[test]
    fn energy_while_not_producing_is_idle_and_parts_give_kwh_per_part() {
        let layout = plant(
            vec![
                signal("p", "kW", Some(EnergyMeasure::Power)),
                signal("parts", "parts", None),
            ],
            Some(Producing::Counter("parts".into())),
        );
        let mut account = EnergyAccount::new(&layout, AccountConfig::default());
        // First 30 minutes producing 1 part a minute at 20 kW, then 30 minutes idle at 4 kW.
        for s in (0..=3600).step_by(60) {
            account.add(&sample(1, s * 1000, (s.min(1800) / 60) as f64));
            account.add(&sample(0, s * 1000, if s < 1800 { 20.0 } else { 4.0 }));
        }
        let e = &account.assets[0];
        assert_eq!(e.parts, 30.0);
        // The counter stops after 1800 s: the 30 minutes after it, at 4 kW, are idle.
        assert!((e.idle_kwh - 2.0).abs() < 1e-9, "{e:?}");
        // 29 minutes at 20 kW, one ramp minute at 12 kW on average, 30 minutes at 4 kW.
        let measured = (29.0 * 20.0 + 12.0 + 30.0 * 4.0) / 60.0;
        assert!((e.measured_kwh - measured).abs() < 1e-9);
        assert!((e.kwh_per_part().unwrap() - measured / 30.0).abs() < 1e-9);
    }

    #[test]
    fn a_power_signal_can_say_itself_when_the_asset_produces() {
        let layout = plant(
            vec![signal("p", "kW", Some(EnergyMeasure::Power))],
            Some(Producing::Above("p".into(), 5.0)),
        );
        let mut account = EnergyAccount::new(&layout, AccountConfig::default());
        // Cutting at 10 kW for 10 minutes, then standing at 2 kW for 10 minutes.
        for s in 0..=1200 {
            account.add(&sample(0, s * 1000, if s <= 600 { 10.0 } else { 2.0 }));
        }
        let e = &account.assets[0];
        // Idle from the first interval that starts below 5 kW: (601, 1200] at 2 kW.
        assert!((e.idle_kwh - 2.0 * 599.0 / 3600.0).abs() < 1e-9, "{e:?}");
        assert!(e.measured_kwh > e.idle_kwh * 5.0);
    }

    #[test]
    fn the_demand_forecast_follows_a_step() {
        let layout = plant(vec![signal("p", "kW", Some(EnergyMeasure::Power))], None);
        let mut account = EnergyAccount::new(&layout, AccountConfig::default());
        // 100 kW for the first 5 minutes of an interval, then a step to 400 kW.
        let start = 900_000 * 1000; // on an interval boundary
        for s in 0..=300 {
            account.add(&sample(0, start + s * 1000, 100.0));
        }
        let forecast = account.forecast_demand(start + 300_000);
        assert!((forecast - 100.0).abs() < 0.5, "{forecast}");
        account.add(&sample(0, start + 301_000, 400.0));
        // 5 min at 100 kW done, 10 min at 400 kW to come: (100 x 5 + 400 x 10) / 15 = 300.
        let forecast = account.forecast_demand(start + 301_000);
        assert!((forecast - 300.0).abs() < 1.0, "{forecast}");
        for s in 302..=900 {
            account.add(&sample(0, start + s * 1000, 400.0));
        }
        account.add(&sample(0, start + 901_000, 400.0));
        // The interval closed near 300 kW and is the peak so far.
        assert_eq!(account.demand.intervals.len(), 1);
        assert!(
            (account.demand.peak_kw - 300.0).abs() < 1.0,
            "{:?}",
            account.demand
        );
    }
}
