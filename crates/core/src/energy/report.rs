//! `plant-twin energy report`: a recording (or the simulator, in simulated time) through the
//! same decoder and energy account as the live app, printed per asset, line or hour as text,
//! CSV or JSON, with cost and CO2 when a tariff is given.

use std::fmt::Write;
use std::path::Path;
use std::sync::Arc;

use super::tariff::LoadedTariff;
use super::{AccountConfig, Energy, EnergyAccount};
use crate::layout::PlantLayout;
use crate::record::reader::Recording;
use crate::record::replay::{Fed, ReplayCursor, recording_decoder, recording_layout};
use crate::sim::Simulator;
use crate::telemetry::IngestEvent;
use crate::telemetry::bindings::TopicResolver;
use crate::telemetry::decoder::{Decoded, Decoder};
use crate::telemetry::market::MarketKind;

/// How rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Asset,
    Line,
    Hour,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Csv,
    Json,
}

/// What was accounted, and over which source time.
pub struct Accounted {
    pub layout: PlantLayout,
    pub account: EnergyAccount,
    pub first_ms: i64,
    pub last_ms: i64,
    pub messages: u64,
}

fn feed(account: &mut EnergyAccount, events: &mut Vec<IngestEvent>, range: &mut (i64, i64)) {
    for event in events.drain(..) {
        match event {
            IngestEvent::Samples { samples, .. } => {
                for sample in &samples {
                    range.0 = range.0.min(sample.time_ms);
                    range.1 = range.1.max(sample.time_ms);
                    account.add(sample);
                }
            }
            IngestEvent::Market(value) => account.add_market(&value),
            _ => {}
        }
    }
}

/// Accounts everything a recording holds (a damaged one: what it holds).
/// `feeds` are the tariff's live price and carbon topics, read from the recording like any
/// other message.
pub fn account_recording(
    path: &Path,
    config: AccountConfig,
    feeds: Vec<crate::telemetry::market::MarketFeed>,
) -> Result<Accounted, String> {
    let recording = Recording::open(path, None).map_err(|e| e.to_string())?;
    let layout = recording_layout(
        &recording,
        &crate::layout::parse_layout(
            crate::layout::DEMO_LAYOUT_TEXT,
            Path::new(crate::layout::DEMO_LAYOUT_PATH),
        )
        .map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let decoder = recording_decoder(&recording, &layout)
        .map_err(|e| e.to_string())?
        .with_market_feeds(feeds);
    let mut account = EnergyAccount::new(&layout, config);
    let mut cursor = ReplayCursor::new(Arc::new(recording), decoder);
    let mut events = Vec::new();
    let mut range = (i64::MAX, i64::MIN);
    while let Some(time_ms) = cursor.next_time_ms() {
        if let Fed::Data = cursor.feed_next(&mut events) {
            feed(&mut account, &mut events, &mut range);
        }
        account.forecast_demand(time_ms);
    }
    let messages = cursor.messages_fed;
    Ok(Accounted {
        layout,
        account,
        first_ms: range.0,
        last_ms: range.1,
        messages,
    })
}

/// Accounts what a live source sends on `events` until `until`; also says whether the source
/// ever connected (a report of a broker never reached is an error, not zero energy).
pub fn account_live(
    layout: &PlantLayout,
    events: &crossbeam_channel::Receiver<IngestEvent>,
    until: std::time::Instant,
    config: AccountConfig,
) -> (Accounted, bool) {
    let mut account = EnergyAccount::new(layout, config);
    let mut range = (i64::MAX, i64::MIN);
    let (mut messages, mut connected) = (0u64, false);
    let mut batch = Vec::with_capacity(1);
    loop {
        let left = until.saturating_duration_since(std::time::Instant::now());
        let Ok(event) = events.recv_timeout(left) else {
            // Time is up, or the source ended.
            break;
        };
        match &event {
            IngestEvent::Connection(crate::telemetry::ConnectionEvent::Connected { .. }) => {
                connected = true;
            }
            IngestEvent::Samples { .. } => messages += 1,
            _ => {}
        }
        batch.push(event);
        feed(&mut account, &mut batch, &mut range);
        if range.1 != i64::MIN {
            account.forecast_demand(range.1);
        }
    }
    (
        Accounted {
            layout: layout.clone(),
            account,
            first_ms: range.0,
            last_ms: range.1,
            messages,
        },
        connected,
    )
}

/// Accounts `seconds` of the simulator on `layout` at 1 Hz, starting at `start_ms`.
pub fn account_simulation(
    layout: &PlantLayout,
    simulator: &mut Simulator,
    seconds: f64,
    start_ms: i64,
    config: AccountConfig,
) -> Accounted {
    let mut decoder = Decoder::new(TopicResolver::from_layout(layout));
    let mut account = EnergyAccount::new(layout, config);
    let (mut messages, mut decoded, mut events) = (Vec::new(), Decoded::default(), Vec::new());
    let mut range = (i64::MAX, i64::MIN);
    let mut count = 0;
    for step in 0..seconds.max(0.0) as u64 {
        let received_ms = start_ms + step as i64 * 1000;
        simulator.messages(step as f64, received_ms, &mut messages);
        for (topic, payload) in messages.drain(..) {
            decoder.decode(&topic, &payload, received_ms, &mut decoded);
            decoded.drain_events(&topic, received_ms, &mut events);
            feed(&mut account, &mut events, &mut range);
            count += 1;
        }
        account.forecast_demand(received_ms);
    }
    Accounted {
        layout: layout.clone(),
        account,
        first_ms: range.0,
        last_ms: range.1,
        messages: count,
    }
}

/// One row of the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub name: String,
    #[serde(flatten)]
    pub energy: Energy,
    pub kwh_per_part: Option<f64>,
    pub cost: Option<f64>,
    pub co2_kg: Option<f64>,
}

/// The rows, heaviest first (hours in time order).
pub fn rows(accounted: &Accounted, tariff: Option<&LoadedTariff>, by: By) -> Vec<Row> {
    let account = &accounted.account;
    // Energy is kept hour by hour for the plant only, so an asset or a line is costed at the
    // plant's average price over the period; hours get their own price.
    let live = Some(&account.market);
    let average = tariff.map(|t| {
        (
            t.average_price(&account.hourly, live),
            t.average_co2(&account.hourly, live),
        )
    });
    let row = |name: String, energy: Energy, per_kwh: Option<(f64, f64)>| Row {
        kwh_per_part: energy.kwh_per_part(),
        cost: per_kwh.map(|(price, _)| price * energy.measured_kwh),
        co2_kg: per_kwh.map(|(_, co2)| co2 * energy.measured_kwh),
        name,
        energy,
    };
    let mut out: Vec<Row> = match by {
        By::Asset => accounted
            .layout
            .assets
            .iter()
            .zip(&account.assets)
            .filter(|(_, e)| e.measured_kwh > 0.0 || e.estimated_kwh > 0.0 || e.resets > 0)
            .map(|(asset, e)| row(asset.id.clone(), e.clone(), average))
            .collect(),
        By::Line => account
            .by_line(&accounted.layout)
            .into_iter()
            .filter(|(_, e)| e.measured_kwh > 0.0 || e.estimated_kwh > 0.0)
            .map(|(name, e)| row(name, e, average))
            .collect(),
        By::Hour => account
            .hourly
            .iter()
            .map(|&(hour, kwh)| {
                let per_kwh = tariff.map(|t| (t.price_at(hour, live), t.co2_at(hour, live)));
                let energy = Energy {
                    measured_kwh: kwh,
                    ..Energy::default()
                };
                row(hour_label(hour), energy, per_kwh)
            })
            .collect(),
    };
    if by != By::Hour {
        out.sort_by(|a, b| b.energy.measured_kwh.total_cmp(&a.energy.measured_kwh));
    }
    out
}

/// "2024-01-01 07:00 UTC".
fn hour_label(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let hour = ms.rem_euclid(86_400_000) / 3_600_000;
    // Civil date from days since the epoch (Howard Hinnant's algorithm, inverse).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:00 UTC")
}

/// A figure with `digits` decimals, or `missing` (no tariff, no parts).
fn optional(value: Option<f64>, digits: usize, missing: &str) -> String {
    value.map_or_else(|| missing.to_string(), |v| format!("{v:.digits$}"))
}

/// The whole report.
pub fn render(
    accounted: &Accounted,
    tariff: Option<&LoadedTariff>,
    by: By,
    format: Format,
) -> String {
    let rows = rows(accounted, tariff, by);
    let account = &accounted.account;
    let plant = account.plant();
    let hours = (accounted.last_ms - accounted.first_ms).max(0) as f64 / 3_600_000.0;
    let demand_cost = tariff.map(|t| t.tariff.demand_charge_per_kw * account.demand.peak_kw);
    let live = Some(&account.market);
    let energy_cost = tariff.map(|t| t.energy_cost(&account.hourly, live));
    let co2_kg = tariff.map(|t| t.co2_kg(&account.hourly, live));
    let live_hours = |kind| tariff.map(|_| account.market.hours(kind));
    match format {
        Format::Json => serde_json::json!({
            "hours": hours,
            "messages": accounted.messages,
            "plant": plant,
            "energy_cost": energy_cost,
            "demand_peak_kw": account.demand.peak_kw,
            "demand_charge": demand_cost,
            "demand_limit_kw": tariff.and_then(|t| t.tariff.demand_limit_kw),
            "currency": tariff.map(|t| t.tariff.currency.clone()),
            "co2_kg": co2_kg,
            "live_price_hours": live_hours(MarketKind::Price),
            "live_co2_hours": live_hours(MarketKind::Co2),
            "rows": rows,
            "group_meters": account.groups.iter().map(|g| {
                let (members, beyond) = g.balance(&account.assets);
                serde_json::json!({
                    "meter": g.meter,
                    "metered_kwh": g.energy.measured_kwh,
                    "members_kwh": members,
                    "beyond_members_kwh": beyond,
                })
            }).collect::<Vec<_>>(),
        })
        .to_string(),
        Format::Csv => {
            let mut out = String::from(
                "name,measured_kwh,estimated_kwh,missing_s,idle_kwh,parts,kwh_per_part,resets,rejected,cost,co2_kg\n",
            );
            for r in &rows {
                let e = &r.energy;
                let _ = writeln!(
                    out,
                    "{},{:.3},{:.3},{:.0},{:.3},{},{},{},{},{},{}",
                    r.name,
                    e.measured_kwh,
                    e.estimated_kwh,
                    e.missing_s,
                    e.idle_kwh,
                    e.parts,
                    optional(r.kwh_per_part, 3, ""),
                    e.resets,
                    e.rejected,
                    optional(r.cost, 3, ""),
                    optional(r.co2_kg, 3, "")
                );
            }
            out
        }
        Format::Text => {
            let mut out = String::new();
            let _ = writeln!(
                out,
                "{:.2} h of data, {} messages: {:.1} kWh measured, {:.1} kWh estimated across gaps ({:.0} s missing), {:.1} kWh idle ({:.0} %)",
                hours,
                accounted.messages,
                plant.measured_kwh,
                plant.estimated_kwh,
                plant.missing_s,
                plant.idle_kwh,
                100.0 * plant.idle_kwh / plant.measured_kwh.max(f64::MIN_POSITIVE)
            );
            let _ = writeln!(
                out,
                "demand ({:.0}-minute intervals): peak {:.1} kW, {} intervals closed",
                account.config.demand_interval_s / 60.0,
                account.demand.peak_kw,
                account.demand.intervals.len()
            );
            if let Some(t) = tariff {
                let currency = &t.tariff.currency;
                let _ = writeln!(
                    out,
                    "cost: energy {:.2} {currency} + demand charge {:.2} {currency}; CO2 {:.1} kg",
                    energy_cost.unwrap_or(0.0),
                    demand_cost.unwrap_or(0.0),
                    co2_kg.unwrap_or(0.0)
                );
                // Which hours the live feeds priced, so a figure is never silently the
                // tariff's when a live price was expected (or the other way round).
                for (feed, kind, what) in [
                    (&t.tariff.live_price, MarketKind::Price, "price"),
                    (&t.tariff.live_co2, MarketKind::Co2, "carbon intensity"),
                ] {
                    if let Some(feed) = feed {
                        let _ = writeln!(
                            out,
                            "live {what} from {}: {} of {} hour(s); the others at the tariff's",
                            feed.topic,
                            account.market.hours(kind),
                            account.hourly.len()
                        );
                    }
                }
                if let Some(limit) = t.tariff.demand_limit_kw {
                    let over = account
                        .demand
                        .intervals
                        .iter()
                        .filter(|(_, kw)| *kw > limit)
                        .count();
                    let _ = writeln!(
                        out,
                        "demand limit {limit:.0} kW: {over} interval(s) above it"
                    );
                }
            }
            if plant.resets + plant.rejected > 0 {
                let _ = writeln!(
                    out,
                    "{} meter reset(s) and {} refused sample(s) (negative power, time going back, not a number): not counted",
                    plant.resets, plant.rejected
                );
            }
            for group in &account.groups {
                let (members, beyond) = group.balance(&account.assets);
                let _ = writeln!(
                    out,
                    "group meter {}: {:.1} kWh metered, its {} assets' own {:.1} kWh, {:.1} kWh ({:.0} %) beyond them (losses, loads without a meter); the totals count the meter",
                    group.meter,
                    group.energy.measured_kwh,
                    group.members.len(),
                    members,
                    beyond,
                    100.0 * beyond / group.energy.measured_kwh.max(f64::MIN_POSITIVE)
                );
            }
            let _ = writeln!(
                out,
                "\n{:<24} {:>12} {:>10} {:>10} {:>9} {:>10} {:>10}",
                "name", "measured kWh", "estimated", "idle kWh", "kWh/part", "cost", "CO2 kg"
            );
            for r in &rows {
                let e = &r.energy;
                let _ = writeln!(
                    out,
                    "{:<24} {:>12.2} {:>10.2} {:>10.2} {:>9} {:>10} {:>10}",
                    r.name,
                    e.measured_kwh,
                    e.estimated_kwh,
                    e.idle_kwh,
                    optional(r.kwh_per_part, 3, "-"),
                    optional(r.cost, 2, "-"),
                    optional(r.co2_kg, 1, "-")
                );
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simulated(scenario: &str, seconds: f64) -> Accounted {
        let layout = crate::layout::parse_layout(
            crate::layout::DEMO_LAYOUT_TEXT,
            Path::new(crate::layout::DEMO_LAYOUT_PATH),
        )
        .unwrap();
        let config = crate::sim::SimConfig {
            scenario: crate::sim::scenario::scenario(scenario).unwrap(),
            ..crate::sim::SimConfig::default()
        };
        let mut simulator = Simulator::new(&layout, config);
        account_simulation(
            &layout,
            &mut simulator,
            seconds,
            1_704_067_200_000,
            AccountConfig::default(),
        )
    }

    fn energy_of<'a>(accounted: &'a Accounted, id: &str) -> &'a Energy {
        let i = accounted
            .layout
            .assets
            .iter()
            .position(|a| a.id == id)
            .unwrap();
        &accounted.account.assets[i]
    }

    #[test]
    fn a_machine_left_idling_is_all_idle_energy_and_a_leak_costs_compressor_energy() {
        let healthy = simulated("healthy", 1200.0);
        let idling = simulated("idling", 1200.0);
        let mill = energy_of(&idling, "cnc-103");
        // From 30 s on, everything it draws is idle; healthy, most of it is cutting.
        assert!(mill.idle_kwh > 0.9 * mill.measured_kwh, "{mill:?}");
        let healthy_mill = energy_of(&healthy, "cnc-103");
        assert!(
            healthy_mill.idle_kwh < 0.5 * healthy_mill.measured_kwh,
            "{healthy_mill:?}"
        );

        let leak = simulated("air-leak", 1200.0);
        let (with_leak, without) = (
            energy_of(&leak, "comp-02").measured_kwh,
            energy_of(&healthy, "comp-02").measured_kwh,
        );
        assert!(with_leak > 1.1 * without, "{without} -> {with_leak}");
        // The other compressors are untouched by it.
        let other = energy_of(&leak, "comp-01").measured_kwh;
        assert!((other - energy_of(&healthy, "comp-01").measured_kwh).abs() < 0.05 * other);
    }

    #[test]
    fn hours_are_labelled_in_utc() {
        assert_eq!(hour_label(0), "1970-01-01 00:00 UTC");
        assert_eq!(
            hour_label(1_704_067_200_000 + 7 * 3_600_000),
            "2024-01-01 07:00 UTC"
        );
    }
}
