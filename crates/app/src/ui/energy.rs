//! The energy window (View > Energy): plant power now, energy measured and estimated, idle
//! energy, the demand interval's forecast against the contracted limit, kWh per hour as bars,
//! and the top consumers with kWh per part, cost and CO2 when a tariff is loaded, and the
//! load-shift what-if of shiftable consumers. Reads `PlantEnergy`; writes nothing (a what-if
//! is computed, never sent).

use bevy_egui::egui;
use egui_plot::{Bar, BarChart, Plot};

use super::status::AMBER;
use crate::data::energy::PlantEnergy;
use plant_twin_core::energy::shift;
use plant_twin_core::layout::PlantLayout;
use plant_twin_core::telemetry::market::MarketKind;

/// Consumers listed, heaviest first.
const TOP_CONSUMERS: usize = 12;

/// The what-if the user is looking at.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct ShiftChoice {
    /// Index of the asset in the layout (a shiftable one).
    asset: Option<usize>,
    hours: i32,
}

/// Hours a consumer can be moved either way in the window.
const SHIFT_RANGE_H: i32 = 12;

pub(super) fn energy_window_ui(
    ctx: &egui::Context,
    open: &mut bool,
    shift: &mut ShiftChoice,
    energy: &PlantEnergy,
    layout: &PlantLayout,
) {
    egui::Window::new("Energy")
        .open(open)
        // Taller than a 720p screen with the load shift: it scrolls instead of running off.
        .vscroll(true)
        .default_width(460.0)
        // Tall enough for everything at 1080p; egui keeps it on a smaller screen.
        .default_height(800.0)
        .default_pos(egui::pos2(320.0, 90.0))
        .show(ctx, |ui| {
            let Some(account) = &energy.account else {
                ui.label("No signal of this layout is marked as power or an energy meter.");
                ui.weak("Mark one with `energy: Some(Power)` (kW) or `energy: Some(Meter())` (kWh) in the layout file.");
                return;
            };
            let plant = account.plant();
            ui.strong(format!("plant {:.1} kW now", account.plant_power_kw()));
            ui.label(format!(
                "{:.1} kWh measured, {:.1} kWh idle ({:.0} %)",
                plant.measured_kwh,
                plant.idle_kwh,
                100.0 * plant.idle_kwh / plant.measured_kwh.max(f64::MIN_POSITIVE)
            ))
            .on_hover_text("Idle: drawn while the asset's producing signal said it was not producing");
            if plant.estimated_kwh > 0.0 || plant.missing_s > 0.0 {
                ui.label(format!(
                    "+ {:.1} kWh estimated across gaps ({:.0} s of signal time missing): not in the figures above",
                    plant.estimated_kwh, plant.missing_s
                ));
            }
            if plant.resets + plant.rejected > 0 {
                ui.label(format!(
                    "{} meter reset(s), {} refused sample(s): not counted",
                    plant.resets, plant.rejected
                ));
            }
            for group in &account.groups {
                let (members, beyond) = group.balance(&account.assets);
                ui.label(format!(
                    "group meter {}: {:.1} kWh, its {} assets' own {:.1} kWh, {:.1} kWh beyond them",
                    group.meter,
                    group.energy.measured_kwh,
                    group.members.len(),
                    members,
                    beyond
                ))
                .on_hover_text("The plant's and lines' totals count the meter instead of its members; beyond them: losses and loads without a meter of their own");
            }
            lines_ui(ui, account, layout);
            if let Some(since) = energy.restarted_ms {
                ui.weak(format!(
                    "counted from the replay position at {} (after a seek back)",
                    super::status::clock(since)
                ));
            }
            ui.separator();
            demand_ui(ui, energy);
            ui.separator();
            hourly_ui(ui, energy);
            ui.separator();
            consumers_ui(ui, energy, layout);
            waste_ui(ui, energy, layout);
            shift_ui(ui, shift, energy, layout);
        });
}

/// Move a shiftable consumer's recorded profile by whole hours and compare.
fn shift_ui(
    ui: &mut egui::Ui,
    choice: &mut ShiftChoice,
    energy: &PlantEnergy,
    layout: &PlantLayout,
) {
    let Some(account) = &energy.account else {
        return;
    };
    let shiftable: Vec<usize> = (0..layout.assets.len())
        .filter(|&i| account.asset_slots.get(i).is_some_and(Option::is_some))
        .collect();
    ui.separator();
    ui.label("Load shift: what if a consumer ran at another time (nothing is sent to the plant)");
    let Some(&first) = shiftable.first() else {
        ui.weak("No consumer is marked `shiftable: true` in the layout (a batch furnace, a compressor charging a receiver, AGV charging).");
        return;
    };
    let asset = *choice.asset.get_or_insert(first);
    let id = |i: usize| layout.assets.get(i).map_or("?", |a| a.id.as_str());
    ui.horizontal(|ui| {
        egui::ComboBox::from_id_salt("shift-asset")
            .selected_text(id(asset))
            .show_ui(ui, |ui| {
                for &i in &shiftable {
                    ui.selectable_value(&mut choice.asset, Some(i), id(i));
                }
            });
        ui.add(
            egui::Slider::new(&mut choice.hours, -SHIFT_RANGE_H..=SHIFT_RANGE_H)
                .suffix(" h")
                .text("moved by"),
        );
        if ui
            .button("Cheapest window")
            .on_hover_text("The shift within 12 h either way that costs least (energy and demand charge; the lowest peak without a tariff)")
            .clicked()
            && let Some(best) = shift::cheapest_shift(
                account,
                asset,
                id(asset),
                SHIFT_RANGE_H,
                energy.tariff.as_ref(),
            )
        {
            choice.hours = best.shift_hours;
        }
    });
    let Some(what_if) = shift::what_if(
        account,
        asset,
        id(asset),
        choice.hours,
        energy.tariff.as_ref(),
    ) else {
        return;
    };
    let currency = energy
        .tariff
        .as_ref()
        .map_or("", |t| t.tariff.currency.as_str());
    egui::Grid::new("shift-table").striped(true).show(ui, |ui| {
        ui.label("");
        ui.strong("now");
        ui.strong("moved");
        ui.strong("change");
        ui.end_row();
        let rows = [
            (
                format!("energy cost {currency}"),
                what_if.before.energy_cost,
                what_if.after.energy_cost,
            ),
            (
                format!("demand charge {currency}"),
                what_if.before.demand_charge,
                what_if.after.demand_charge,
            ),
            (
                "CO2 kg".to_string(),
                what_if.before.co2_kg,
                what_if.after.co2_kg,
            ),
            (
                "peak demand kW".to_string(),
                Some(what_if.before.peak_kw),
                Some(what_if.after.peak_kw),
            ),
        ];
        for (name, before, after) in rows {
            ui.label(name);
            match (before, after) {
                (Some(b), Some(a)) => {
                    ui.label(format!("{b:.2}"));
                    ui.label(format!("{a:.2}"));
                    // No colour: amber and red mean warning and alarm in this app and
                    // nothing else; the sign says which way it went.
                    let change = a - b;
                    if change.abs() < 0.005 {
                        ui.label("0.00");
                    } else {
                        ui.strong(format!("{change:+.2}"));
                    }
                }
                _ => {
                    ui.weak("-");
                    ui.weak("-");
                    ui.weak("needs --tariff");
                }
            }
            ui.end_row();
        }
    });
    ui.weak(format!(
        "{:.1} kWh of {} moved",
        what_if.moved_kwh, what_if.asset
    ));
    if what_if.outside_kwh > 0.0 {
        ui.weak(format!(
            "{:.1} kWh lands outside the span counted so far: there the rest of the plant is assumed to draw its average",
            what_if.outside_kwh
        ));
    }
}

fn demand_ui(ui: &mut egui::Ui, energy: &PlantEnergy) {
    let Some(account) = &energy.account else {
        return;
    };
    let demand = &account.demand;
    let limit = energy
        .tariff
        .as_ref()
        .and_then(|t| t.tariff.demand_limit_kw);
    let text = format!(
        "demand interval: {:.1} kWh so far, forecast average {:.1} kW{}; peak {:.1} kW",
        demand.interval_kwh,
        demand.forecast_kw,
        limit
            .map(|l| format!(" (limit {l:.0} kW)"))
            .unwrap_or_default(),
        demand.peak_kw
    );
    // Amber is the scene's warning colour: the forecast says this interval will pass the
    // contract. Shown, never acted on.
    if limit.is_some_and(|l| demand.forecast_kw > l) {
        ui.colored_label(AMBER, format!("⚠ {text}"))
            .on_hover_text("At this power the interval's average passes the contracted limit");
    } else {
        ui.label(text);
    }
}

/// Today's energy and the current shift's (shifts from the tariff file), counted to the
/// newest data: live, the present; in a replay, its position.
fn today_ui(ui: &mut egui::Ui, energy: &PlantEnergy, hours: &[(i64, f64)]) {
    let (Some(day), Some(&(first_hour, _))) = (energy.day_start_ms(), hours.first()) else {
        return;
    };
    let tariff = energy.tariff.as_ref();
    let today = energy.today_hours();
    let kwh = plant_twin_core::energy::tariff::kwh_since(&today, i64::MIN);
    let cost = tariff
        .map(|t| {
            format!(
                ", {:.2} {} energy",
                t.energy_cost(&today, energy.live()),
                t.tariff.currency
            )
        })
        .unwrap_or_default();
    let zone = if tariff.is_some() { "local" } else { "UTC" };
    let mut text = format!("today (from 00:00 {zone}): {kwh:.1} kWh{cost}");
    if let Some((shift, start)) = energy.shift() {
        text.push_str(&format!(
            "; shift {} (from {:02}:00): {:.1} kWh",
            shift.name,
            shift.start_hour,
            plant_twin_core::energy::tariff::kwh_since(hours, start)
        ));
    }
    // Started mid-day (or a replay that does): say the figures are partial.
    let counted_from = first_hour;
    if counted_from > day {
        text.push_str(&format!(
            " (counted only from the hour of {}, when data began)",
            super::status::clock(counted_from)
        ));
    }
    ui.label(text);
}

fn hourly_ui(ui: &mut egui::Ui, energy: &PlantEnergy) {
    let Some(account) = &energy.account else {
        return;
    };
    let hours = &account.hourly;
    if hours.is_empty() {
        ui.weak("kWh per hour: no complete interval yet");
        return;
    }
    let first = hours[0].0;
    let bars: Vec<Bar> = hours
        .iter()
        .map(|&(hour, kwh)| {
            let price = energy
                .tariff
                .as_ref()
                .map(|t| {
                    let live = account.market.hour_mean(MarketKind::Price, hour);
                    match live {
                        Some(p) => format!(", live {p:.3} {}/kWh", t.tariff.currency),
                        None => format!(", {}", t.period_at(hour).name),
                    }
                })
                .unwrap_or_default();
            Bar::new(((hour - first) / 3_600_000) as f64, kwh)
                .width(0.8)
                .name(format!(
                    "{} {kwh:.1} kWh{price}",
                    super::status::clock(hour)
                ))
        })
        .collect();
    today_ui(ui, energy, hours);
    ui.label("kWh per hour");
    Plot::new("energy_per_hour")
        .height(110.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .show_x(false)
        // At least half a day on the axis, so one early bar does not fill the plot.
        .include_x(-0.5)
        .include_x((hours.len() as f64 - 0.5).max(11.5))
        .include_y(0.0)
        .show(ui, |plot| {
            plot.bar_chart(BarChart::new("kWh", bars).color(egui::Color32::from_rgb(90, 150, 230)));
        });
    if let Some(tariff) = &energy.tariff {
        let currency = &tariff.tariff.currency;
        let live = energy.live();
        ui.label(format!(
            "cost {:.2} {currency} energy + {:.2} {currency} demand charge (peak so far); CO2 {:.1} kg",
            tariff.energy_cost(hours, live),
            tariff.tariff.demand_charge_per_kw * account.demand.peak_kw,
            tariff.co2_kg(hours, live)
        ));
        price_now_ui(ui, tariff, account);
    }
}

/// The price and carbon intensity the current hour is counted at, and where they come from:
/// a live feed named in the tariff, or the tariff's period.
fn price_now_ui(
    ui: &mut egui::Ui,
    tariff: &plant_twin_core::energy::tariff::LoadedTariff,
    account: &plant_twin_core::energy::EnergyAccount,
) {
    let Some(now) = account.latest_ms() else {
        return;
    };
    let hour = now.div_euclid(3_600_000) * 3_600_000;
    let live = &account.market;
    let currency = &tariff.tariff.currency;
    let source = |kind: MarketKind, feed: &Option<plant_twin_core::energy::tariff::LiveFeed>| match (
        live.hour_mean(kind, hour),
        feed,
        live.latest(kind),
    ) {
        (Some(_), Some(feed), _) => format!("live, {}", feed.topic),
        (None, Some(feed), Some((at, _))) => format!(
            "tariff: nothing from {} since {}",
            feed.topic,
            super::status::clock(at)
        ),
        (None, Some(feed), None) => format!("tariff: nothing from {} yet", feed.topic),
        (_, None, _) => format!("tariff, {}", tariff.period_at(now).name),
    };
    ui.label(format!(
        "now: {:.3} {currency}/kWh ({}); {:.0} g CO2/kWh ({})",
        tariff.price_at(hour, Some(live)),
        source(MarketKind::Price, &tariff.tariff.live_price),
        1000.0 * tariff.co2_at(hour, Some(live)),
        source(MarketKind::Co2, &tariff.tariff.live_co2),
    ));
}

/// Each line's power now and energy so far (lines with energy signals only).
fn lines_ui(
    ui: &mut egui::Ui,
    account: &plant_twin_core::energy::EnergyAccount,
    layout: &PlantLayout,
) {
    let lines: Vec<_> = account
        .by_line(layout)
        .into_iter()
        .filter(|(_, e)| e.measured_kwh > 0.0 || e.power_kw > 0.0)
        .collect();
    if lines.is_empty() {
        return;
    }
    egui::Grid::new("energy_lines")
        .num_columns(4)
        .show(ui, |ui| {
            for heading in ["line", "kW now", "kWh", "idle kWh"] {
                ui.weak(heading);
            }
            ui.end_row();
            for (id, e) in lines {
                let name = layout.lines.iter().find(|l| l.id == id).map(|l| &l.name);
                ui.label(name.unwrap_or(&id));
                ui.label(format!("{:.1}", e.power_kw));
                ui.label(format!("{:.2}", e.measured_kwh));
                ui.label(format!("{:.2}", e.idle_kwh));
                ui.end_row();
            }
        });
}

fn consumers_ui(ui: &mut egui::Ui, energy: &PlantEnergy, layout: &PlantLayout) {
    let Some(account) = &energy.account else {
        return;
    };
    let mut rows: Vec<(usize, &plant_twin_core::energy::Energy)> = account
        .assets
        .iter()
        .enumerate()
        .filter(|(_, e)| e.measured_kwh > 0.0 || e.power_kw > 0.0)
        .collect();
    rows.sort_by(|a, b| b.1.measured_kwh.total_cmp(&a.1.measured_kwh));
    let price = energy
        .tariff
        .as_ref()
        .map(|t| t.average_price(&account.hourly, Some(&account.market)));
    ui.label("Top consumers");
    egui::Grid::new("energy_consumers")
        .striped(true)
        .num_columns(6)
        .show(ui, |ui| {
            for heading in ["asset", "kW now", "kWh", "idle kWh", "kWh/part", "cost"] {
                ui.strong(heading);
            }
            ui.end_row();
            for (asset, e) in rows.into_iter().take(TOP_CONSUMERS) {
                let id = layout.assets.get(asset).map_or("?", |a| a.id.as_str());
                ui.label(id);
                ui.label(format!("{:.1}", e.power_kw));
                ui.label(format!("{:.2}", e.measured_kwh));
                ui.label(format!("{:.2}", e.idle_kwh));
                ui.label(e.kwh_per_part().map_or("-".into(), |v| format!("{v:.3}")));
                ui.label(price.map_or("-".into(), |p| format!("{:.2}", p * e.measured_kwh)));
                ui.end_row();
            }
        });
}

/// Idle energy per asset, largest first: energy drawn while nothing was made.
fn waste_ui(ui: &mut egui::Ui, energy: &PlantEnergy, layout: &PlantLayout) {
    let Some(account) = &energy.account else {
        return;
    };
    let mut idle: Vec<(usize, f64)> = account
        .assets
        .iter()
        .enumerate()
        .map(|(i, e)| (i, e.idle_kwh))
        .filter(|(_, kwh)| *kwh > 0.0)
        .collect();
    if idle.is_empty() {
        return;
    }
    idle.sort_by(|a, b| b.1.total_cmp(&a.1));
    let price = energy.tariff.as_ref().map(|t| {
        (
            t.average_price(&account.hourly, Some(&account.market)),
            t.tariff.currency.clone(),
        )
    });
    ui.separator();
    ui.label("Waste: energy drawn while not producing");
    for (asset, kwh) in idle.into_iter().take(5) {
        let id = layout.assets.get(asset).map_or("?", |a| a.id.as_str());
        let cost = price
            .as_ref()
            .map(|(p, currency)| format!(", {:.2} {currency}", p * kwh))
            .unwrap_or_default();
        ui.label(format!("{id}: {kwh:.2} kWh{cost}"));
    }
}
