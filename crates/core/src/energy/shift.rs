//! Load-shift what-if: a shiftable consumer's recorded or simulated profile moved by whole
//! hours, and what that changes in energy cost, CO2 and the peak demand interval. A what-if
//! only: nothing is sent to the plant.
//!
//! The profiles are the account's energy per demand interval (15 minutes by default), so the
//! peak is the utility's figure: the highest interval average. The moved energy keeps its
//! shape; it lands where the shift puts it, also beyond the recorded span (a night shift of a
//! day's recording adds intervals after it), so no energy is lost or invented. There the rest
//! of the plant's load is not known; for the peak it is taken as its average over the span, so
//! moving a load out of a short recording does not look like removing it.

use serde::Serialize;

use super::EnergyAccount;
use super::tariff::LoadedTariff;

const HOUR_MS: i64 = 3_600_000;

/// What a profile costs and demands.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Outcome {
    pub energy_kwh: f64,
    /// With a tariff: energy priced by its time-of-use period.
    pub energy_cost: Option<f64>,
    /// With a tariff: kg CO2 at each period's grid intensity.
    pub co2_kg: Option<f64>,
    /// The highest demand-interval average, kW.
    pub peak_kw: f64,
    /// With a tariff: the peak times the demand charge.
    pub demand_charge: Option<f64>,
}

impl Outcome {
    /// Energy cost plus demand charge (None without a tariff).
    pub fn total_cost(&self) -> Option<f64> {
        Some(self.energy_cost? + self.demand_charge.unwrap_or(0.0))
    }
}

/// One what-if: the plant before and after moving one asset's consumption.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhatIf {
    pub asset: String,
    /// Positive: later.
    pub shift_hours: i32,
    /// The asset's energy that moved, kWh.
    pub moved_kwh: f64,
    /// Of it, what lands outside the recorded span, where the rest of the plant's load is not
    /// known (its average over the span is assumed for the peak), kWh.
    pub outside_kwh: f64,
    pub before: Outcome,
    pub after: Outcome,
}

/// Cost, CO2 and peak of a profile of (interval start ms, kWh).
pub fn outcome(slots: &[(i64, f64)], interval_ms: i64, tariff: Option<&LoadedTariff>) -> Outcome {
    outcome_beyond(slots, interval_ms, tariff, None)
}

/// [`outcome`], where intervals outside `known` (first and last interval start of the
/// measured span) meet `beyond_kwh` of the rest of the plant's load when the peak is taken:
/// energy moved out of the span is not alone there.
fn outcome_beyond(
    slots: &[(i64, f64)],
    interval_ms: i64,
    tariff: Option<&LoadedTariff>,
    known: Option<(i64, i64, f64)>,
) -> Outcome {
    let interval_h = interval_ms as f64 / HOUR_MS as f64;
    let peak_kw = slots
        .iter()
        .map(|(start, kwh)| {
            let beyond = known
                .filter(|(a, b, _)| start < a || start > b)
                .map_or(0.0, |k| k.2);
            (kwh + beyond) / interval_h
        })
        .fold(0.0, f64::max);
    let energy_kwh = slots.iter().map(|(_, kwh)| kwh).sum();
    let priced = tariff.map(|t| {
        slots.iter().fold((0.0, 0.0), |(cost, co2), (start, kwh)| {
            let period = t.period_at(*start);
            (
                cost + kwh * period.price_per_kwh,
                co2 + kwh * period.co2_kg_per_kwh.unwrap_or(t.tariff.co2_kg_per_kwh),
            )
        })
    });
    Outcome {
        energy_kwh,
        energy_cost: priced.map(|p| p.0),
        co2_kg: priced.map(|p| p.1),
        peak_kw,
        demand_charge: tariff.map(|t| peak_kw * t.tariff.demand_charge_per_kw),
    }
}

/// The plant's profile with `part` (one of its consumers' profile) moved by `shift_ms`.
pub fn moved(plant: &[(i64, f64)], part: &[(i64, f64)], shift_ms: i64) -> Vec<(i64, f64)> {
    let mut result: Vec<(i64, f64)> = plant.to_vec();
    let mut add = |start: i64, kwh: f64| match result.binary_search_by_key(&start, |s| s.0) {
        Ok(i) => result[i].1 += kwh,
        Err(i) => result.insert(i, (start, kwh)),
    };
    for (start, kwh) in part {
        add(*start, -kwh);
        add(start + shift_ms, *kwh);
    }
    // Rounding can leave -1e-15 where the part was the whole interval.
    for slot in &mut result {
        slot.1 = slot.1.max(0.0);
    }
    result
}

/// The plant before and after moving asset `asset`'s consumption by `shift_hours`; None when
/// the asset is not shiftable (the account keeps no profile for it).
pub fn what_if(
    account: &EnergyAccount,
    asset: usize,
    asset_id: &str,
    shift_hours: i32,
    tariff: Option<&LoadedTariff>,
) -> Option<WhatIf> {
    let part = account.asset_slots.get(asset)?.as_ref()?;
    let interval_ms = account.interval_ms();
    let shift_ms = i64::from(shift_hours) * HOUR_MS;
    let after = moved(&account.slots, part, shift_ms);
    let span = account
        .slots
        .first()
        .zip(account.slots.last())
        .map(|(a, b)| (a.0, b.0));
    let outside_kwh = part
        .iter()
        .filter(|(start, _)| span.is_none_or(|(a, b)| start + shift_ms < a || start + shift_ms > b))
        .map(|s| s.1)
        .sum();
    // Beyond the span the rest of the plant is assumed to draw its average over the span (the
    // full intervals only: the first and last are partial).
    let inner = account
        .slots
        .get(1..account.slots.len().saturating_sub(1))
        .unwrap_or(&[]);
    let rest_kwh_per_interval = if inner.is_empty() {
        0.0
    } else {
        let part_inner: f64 = part
            .iter()
            .filter(|(start, _)| inner.iter().any(|s| s.0 == *start))
            .map(|s| s.1)
            .sum();
        (inner.iter().map(|s| s.1).sum::<f64>() - part_inner).max(0.0) / inner.len() as f64
    };
    Some(WhatIf {
        asset: asset_id.to_string(),
        shift_hours,
        outside_kwh,
        moved_kwh: part.iter().map(|s| s.1).sum(),
        before: outcome(&account.slots, interval_ms, tariff),
        after: outcome_beyond(
            &after,
            interval_ms,
            tariff,
            span.map(|(a, b)| (a, b, rest_kwh_per_interval)),
        ),
    })
}

/// The shift within ±`max_hours` that costs least (energy and demand charge with a tariff,
/// the lowest peak without one); the smaller move on a tie, so an asset already in its
/// cheapest window stays.
pub fn cheapest_shift(
    account: &EnergyAccount,
    asset: usize,
    asset_id: &str,
    max_hours: i32,
    tariff: Option<&LoadedTariff>,
) -> Option<WhatIf> {
    let mut best: Option<(f64, WhatIf)> = None;
    for magnitude in 0..=max_hours.max(0) {
        for shift in [magnitude, -magnitude] {
            let candidate = what_if(account, asset, asset_id, shift, tariff)?;
            let score = candidate
                .after
                .total_cost()
                .unwrap_or(candidate.after.peak_kw);
            // Better by more than rounding: a tie keeps the smaller move found first.
            if best
                .as_ref()
                .is_none_or(|(b, _)| score < b - 1e-9 * b.abs().max(1.0))
            {
                best = Some((score, candidate));
            }
        }
    }
    best.map(|b| b.1)
}

impl WhatIf {
    /// The table `energy what-if` prints: before, after and the change of each figure.
    pub fn render_text(&self, currency: Option<&str>) -> String {
        let money = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
        let change = |a: Option<f64>, b: Option<f64>| match (a, b) {
            // A change below the last printed digit reads 0, not -0.00.
            (Some(a), Some(b)) if (b - a).abs() < 0.005 => "0.00".to_string(),
            (Some(a), Some(b)) => format!("{:+.2}", b - a),
            _ => "-".to_string(),
        };
        let unit = currency.unwrap_or("cost");
        let rows: [(String, Option<f64>, Option<f64>); 6] = [
            (
                "energy kWh".into(),
                Some(self.before.energy_kwh),
                Some(self.after.energy_kwh),
            ),
            (
                format!("energy cost {unit}"),
                self.before.energy_cost,
                self.after.energy_cost,
            ),
            (
                format!("demand charge {unit}"),
                self.before.demand_charge,
                self.after.demand_charge,
            ),
            (
                format!("total {unit}"),
                self.before.total_cost(),
                self.after.total_cost(),
            ),
            ("CO2 kg".into(), self.before.co2_kg, self.after.co2_kg),
            (
                "peak demand kW".into(),
                Some(self.before.peak_kw),
                Some(self.after.peak_kw),
            ),
        ];
        let mut out = format!(
            "{} moved {:+} h ({:.1} kWh of its consumption); nothing is sent to the plant\n\n{:<22} {:>12} {:>12} {:>12}\n",
            self.asset, self.shift_hours, self.moved_kwh, "", "before", "after", "change"
        );
        for (name, before, after) in rows {
            out.push_str(&format!(
                "{name:<22} {:>12} {:>12} {:>12}\n",
                money(before),
                money(after),
                change(before, after)
            ));
        }
        if self.outside_kwh > 0.0 {
            out.push_str(&format!(
                "\n{:.1} kWh lands outside the recorded span: there the rest of the plant is assumed to draw its average over the span (record a longer span for a firmer peak)\n",
                self.outside_kwh
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::energy::tariff::parse_tariff;
    use std::path::Path;

    const QUARTER_MS: i64 = 900_000;

    /// Monday 2026-11-30 00:00 UTC.
    const MONDAY_MS: i64 = 1_796_083_200_000;

    fn tariff() -> LoadedTariff {
        parse_tariff(
            r#"Tariff(currency: "EUR", periods: [
                (name: "day", days: [Mon, Tue, Wed, Thu, Fri, Sat, Sun], start_hour: 6, end_hour: 22, price_per_kwh: 0.30, co2_kg_per_kwh: Some(0.5)),
                (name: "night", days: [Mon, Tue, Wed, Thu, Fri, Sat, Sun], start_hour: 0, end_hour: 6, price_per_kwh: 0.10),
                (name: "late", days: [Mon, Tue, Wed, Thu, Fri, Sat, Sun], start_hour: 22, end_hour: 24, price_per_kwh: 0.10),
            ], demand_charge_per_kw: 10.0, co2_kg_per_kwh: 0.2)"#,
            Path::new("t.ron"),
        )
        .expect("tariff")
    }

    /// `kw` for the quarter hours [from_h, to_h) of Monday.
    fn block(from_h: i64, to_h: i64, kw: f64) -> Vec<(i64, f64)> {
        (from_h * 4..to_h * 4)
            .map(|q| (MONDAY_MS + q * QUARTER_MS, kw * 0.25))
            .collect()
    }

    #[test]
    fn outcome_prices_each_interval_in_its_period_and_finds_the_peak() {
        // 10 kW from 05:00 to 07:00: one hour of night, one of day.
        let slots = block(5, 7, 10.0);
        let o = outcome(&slots, QUARTER_MS, Some(&tariff()));
        assert!((o.energy_kwh - 20.0).abs() < 1e-9);
        assert!((o.energy_cost.expect("cost") - (10.0 * 0.10 + 10.0 * 0.30)).abs() < 1e-9);
        assert!((o.co2_kg.expect("co2") - (10.0 * 0.2 + 10.0 * 0.5)).abs() < 1e-9);
        assert!((o.peak_kw - 10.0).abs() < 1e-9);
        assert!((o.demand_charge.expect("charge") - 100.0).abs() < 1e-9);
        assert_eq!(outcome(&slots, QUARTER_MS, None).energy_cost, None);
    }

    #[test]
    fn moving_a_furnace_off_the_peak_period_saves_its_price_difference() {
        // A base load of 50 kW all day, and a 30 kW furnace from 10:00 to 12:00.
        let mut plant = block(0, 24, 50.0);
        let furnace = block(10, 12, 30.0);
        for slot in &mut plant {
            if let Some(f) = furnace.iter().find(|f| f.0 == slot.0) {
                slot.1 += f.1;
            }
        }
        let before = outcome(&plant, QUARTER_MS, Some(&tariff()));
        assert!((before.peak_kw - 80.0).abs() < 1e-9);
        // 12 hours later: 22:00 to midnight, the late (cheap) period.
        let after = outcome(
            &moved(&plant, &furnace, 12 * HOUR_MS),
            QUARTER_MS,
            Some(&tariff()),
        );
        assert!(
            (after.energy_kwh - before.energy_kwh).abs() < 1e-9,
            "energy kept"
        );
        let saved = before.energy_cost.expect("b") - after.energy_cost.expect("a");
        assert!((saved - 60.0 * (0.30 - 0.10)).abs() < 1e-9, "{saved}");
        // Still 80 kW at night: the peak moved, it did not fall.
        assert!((after.peak_kw - 80.0).abs() < 1e-9);
        // Past the recorded day the energy is kept in new intervals.
        let later = moved(&plant, &furnace, 20 * HOUR_MS);
        let total: f64 = later.iter().map(|s| s.1).sum();
        assert!((total - before.energy_kwh).abs() < 1e-6);
        assert!(later.len() > plant.len());
    }

    #[test]
    fn a_load_moved_out_of_the_span_meets_the_rest_of_the_plant_at_its_average() {
        // Two hours of 50 kW base load plus a 30 kW furnace in the first hour.
        let furnace = block(10, 11, 30.0);
        let mut plant = block(10, 12, 50.0);
        for slot in &mut plant {
            if let Some(f) = furnace.iter().find(|f| f.0 == slot.0) {
                slot.1 += f.1;
            }
        }
        let account = crate::energy::tests::account_with(plant, furnace);
        let later = what_if(&account, 0, "furnace", 4, None).expect("shiftable");
        assert!((later.before.peak_kw - 80.0).abs() < 1e-9);
        // At 14:00 the furnace meets the 50 kW the rest of the plant drew on average, not 0.
        assert!((later.after.peak_kw - 80.0).abs() < 1e-9, "{later:?}");
        assert!((later.outside_kwh - 30.0).abs() < 1e-9);
        // Moved inside the span (into the second hour) it meets the measured 50 kW there.
        let inside = what_if(&account, 0, "furnace", 1, None).expect("shiftable");
        assert!((inside.after.peak_kw - 80.0).abs() < 1e-9);
        assert_eq!(inside.outside_kwh, 0.0);
    }

    #[test]
    fn the_cheapest_window_is_found_and_a_tie_keeps_the_smaller_move() {
        // Energy only (the peak is the same anywhere): 2 h of 30 kW at 10:00, from a plant
        // that is only that furnace.
        let furnace = block(10, 12, 30.0);
        let layout_free = crate::energy::tests::account_with(furnace.clone(), furnace.clone());
        let best = cheapest_shift(&layout_free, 0, "furnace", 14, Some(&tariff())).expect("some");
        // Night (00-06) and late (22-24) cost the same; 04:00-06:00 (-6 h) is the smallest
        // move into either.
        assert_eq!(best.shift_hours, -6);
        assert!(best.after.total_cost() < best.before.total_cost());
        // Already in the cheapest window: it stays.
        let night = block(1, 3, 30.0);
        let account = crate::energy::tests::account_with(night.clone(), night);
        let best = cheapest_shift(&account, 0, "furnace", 14, Some(&tariff())).expect("some");
        assert_eq!(best.shift_hours, 0);
        assert_eq!(best.outside_kwh, 0.0);
        // Not shiftable: no what-if.
        assert!(what_if(&account, 5, "x", 1, None).is_none());
    }
}
