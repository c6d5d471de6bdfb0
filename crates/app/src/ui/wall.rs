//! The wall display's screen: an alarm banner, a full-width "DATA STALE" banner when data stops,
//! KPI tiles, and the 3D view taking the rest. Type is scaled to the screen (1080p up to 4K) so
//! it reads from across a room. Reads the world; writes nothing unless acknowledging is allowed.

use bevy::prelude::MessageWriter;
use bevy_egui::egui;

use super::PanelWorld;
use super::alarms::{horizon_text, severity_colour};
use super::status::{AMBER, RED, clock};
use crate::data::predict::{AlarmIntent, part_name};
use crate::data::telemetry::LinkState;
use crate::wall::WallMode;
use plant_twin_core::predict::{Annunciation, Severity};
use plant_twin_core::wall::config::WallTheme;

const BANNER_BACKGROUND: egui::Color32 = egui::Color32::from_rgb(16, 22, 34);

/// Why the data is stale and since when, or None while it flows.
fn stale_since(world: &PanelWorld) -> Option<(i64, &'static str)> {
    let status = &world.ingest;
    let mut bound = 0;
    let mut stale = 0;
    let mut last = None::<i64>;
    for (spec, _, _, freshness, _) in &world.assets {
        if spec.0.telemetry.is_none() {
            continue;
        }
        bound += 1;
        if let Some(freshness) = freshness {
            if freshness.stale {
                stale += 1;
            }
            last = last.max(freshness.last_received_ms);
        }
    }
    let link_down = matches!(status.state, LinkState::Reconnecting | LinkState::Stopped)
        || (status.state == LinkState::Connecting && status.messages > 0);
    let all_stale = bound > 0 && stale == bound;
    if !(link_down || all_stale) {
        return None;
    }
    let doing = match status.state {
        LinkState::Reconnecting | LinkState::Connecting => "reconnecting",
        LinkState::Stopped => "source stopped",
        _ => "waiting for data",
    };
    Some((last.unwrap_or(status.since_ms), doing))
}

pub(super) fn wall_ui(
    ctx: &egui::Context,
    root: &mut egui::Ui,
    world: &PanelWorld,
    wall: &WallMode,
    alarms: &mut MessageWriter<AlarmIntent>,
) -> egui::Rect {
    let screen = ctx.content_rect();
    let s = (screen.height() / 1080.0).max(0.5) * wall.config.text_scale;
    ctx.set_visuals(match wall.config.theme {
        WallTheme::Dark => egui::Visuals::dark(),
        WallTheme::Light => egui::Visuals::light(),
    });
    let now = world.clock.now_ms();
    let config = &world.prediction.config;

    if wall.config.banner {
        egui::Panel::top("wall_banner")
            .exact_size(96.0 * s)
            .frame(
                egui::Frame::new()
                    .fill(BANNER_BACKGROUND)
                    .inner_margin(12.0 * s),
            )
            .show(root, |ui| banner_ui(ui, world, wall, alarms, s, now));
    }
    if let Some((since, doing)) = stale_since(world) {
        egui::Panel::top("wall_stale")
            .exact_size(72.0 * s)
            .frame(egui::Frame::new().fill(RED).inner_margin(10.0 * s))
            .show(root, |ui| {
                ui.centered_and_justified(|ui| {
                    ui.label(
                        egui::RichText::new(format!("DATA STALE since {}, {doing}", clock(since)))
                            .size(44.0 * s)
                            .strong()
                            .color(egui::Color32::WHITE),
                    );
                });
            });
    }
    // The wall's own colours are kept; the footer and the tiles are on the panels' background.
    let frame = super::panel_frame(&ctx.global_style(), world.scene_target.image.is_some());
    egui::Panel::bottom("wall_footer")
        .frame(frame)
        .exact_size(40.0 * s)
        .show(root, |ui| {
            ui.horizontal_centered(|ui| {
                ui.label(
                    egui::RichText::new(format!(
                        "{} · {} · next view in {:.0} s",
                        world.document.layout.name,
                        wall.showing,
                        wall.tour.remaining_s(wall.now_s)
                    ))
                    .size(22.0 * s),
                );
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.label(egui::RichText::new(clock(now)).size(22.0 * s).monospace());
                });
            });
        });
    if wall.config.kpi_tiles {
        egui::Panel::right("wall_kpis")
            .frame(frame)
            .exact_size(screen.width() * 0.25)
            .show(root, |ui| kpi_tiles_ui(ui, world, wall, config, s));
    }
    root.available_rect_before_wrap()
}

fn banner_ui(
    ui: &mut egui::Ui,
    world: &PanelWorld,
    wall: &WallMode,
    alarms: &mut MessageWriter<AlarmIntent>,
    s: f32,
    now: i64,
) {
    let mut counts = [0usize; 3];
    let mut newest: Vec<(f64, String)> = vec![];
    for (_, spec, health) in &world.health {
        for (part, alarm) in health.0.parts.iter().zip(&health.0.alarms) {
            if alarm.shelved_until_s.is_some() {
                continue;
            }
            counts[alarm.severity as usize] += 1;
            if alarm.annunciation() == Annunciation::Unacknowledged {
                newest.push((
                    alarm.raised_at_s.unwrap_or(alarm.changed_at_s),
                    format!("{} / {}", spec.0.id, part_name(&spec.0, *part)),
                ));
            }
        }
    }
    newest.sort_by(|a, b| b.0.total_cmp(&a.0));
    ui.horizontal_centered(|ui| {
        for (severity, one, many) in [
            (Severity::Alarm, "ALARM", "ALARMS"),
            (Severity::Warning, "WARNING", "WARNINGS"),
        ] {
            let count = counts[severity as usize];
            let label = if count == 1 { one } else { many };
            let colour = if count > 0 {
                severity_colour(severity)
            } else {
                egui::Color32::from_gray(110)
            };
            ui.label(
                egui::RichText::new(format!("{count} {label}"))
                    .size(52.0 * s)
                    .strong()
                    .color(colour),
            );
            ui.add_space(28.0 * s);
        }
        ui.separator();
        ui.vertical(|ui| {
            if newest.is_empty() {
                ui.label(
                    egui::RichText::new("No unacknowledged alarms")
                        .size(26.0 * s)
                        .color(egui::Color32::from_gray(170)),
                );
            }
            for (time, name) in newest.iter().take(2) {
                ui.label(
                    egui::RichText::new(format!("{}  {name}", clock((time * 1000.0) as i64)))
                        .size(26.0 * s)
                        .color(egui::Color32::WHITE),
                );
            }
        });
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            ui.label(
                egui::RichText::new(clock(now))
                    .size(40.0 * s)
                    .monospace()
                    .color(egui::Color32::WHITE),
            );
            // A replay on the wall must never pass for live data.
            if world.replay.as_ref().is_some_and(|r| r.active()) {
                ui.label(
                    egui::RichText::new("REPLAY")
                        .size(32.0 * s)
                        .strong()
                        .color(egui::Color32::from_rgb(240, 180, 40)),
                );
            }
            if wall.config.allow_acknowledge
                && !newest.is_empty()
                && ui
                    .button(egui::RichText::new("Acknowledge all").size(24.0 * s))
                    .clicked()
            {
                alarms.write(AlarmIntent::AcknowledgeAll);
            }
        });
    });
}

fn tile(ui: &mut egui::Ui, s: f32, title: &str, body: impl FnOnce(&mut egui::Ui)) {
    egui::Frame::new()
        .fill(ui.visuals().faint_bg_color)
        .corner_radius(8.0 * s)
        .inner_margin(14.0 * s)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(
                egui::RichText::new(title)
                    .size(22.0 * s)
                    .color(ui.visuals().weak_text_color()),
            );
            body(ui);
        });
    ui.add_space(12.0 * s);
}

/// Plant power now, today's energy and cost, and the demand interval against its limit.
fn energy_tile_ui(ui: &mut egui::Ui, energy: &crate::data::energy::PlantEnergy, s: f32) {
    let Some(account) = &energy.account else {
        return;
    };
    // Before the first energy sample there is no day yet: nothing counts as today.
    let today = energy.today_hours();
    let today_kwh = plant_twin_core::energy::tariff::kwh_since(&today, i64::MIN);
    tile(ui, s, "Energy", |ui| {
        ui.label(
            egui::RichText::new(format!("{:.0} kW now", account.plant_power_kw()))
                .size(30.0 * s)
                .monospace(),
        );
        let cost = energy
            .tariff
            .as_ref()
            .map(|t| {
                let cost = t.energy_cost(&today, energy.live());
                // Whole units once there are some; cents while the day is young.
                let digits = if cost >= 100.0 { 0 } else { 2 };
                format!(", {cost:.digits$} {}", t.tariff.currency)
            })
            .unwrap_or_default();
        ui.label(egui::RichText::new(format!("today {today_kwh:.0} kWh{cost}")).size(24.0 * s));
        if let Some((shift, start)) = energy.shift() {
            let kwh = plant_twin_core::energy::tariff::kwh_since(&account.hourly, start);
            ui.label(
                egui::RichText::new(format!("shift {} {kwh:.0} kWh", shift.name)).size(24.0 * s),
            );
        }
        let limit = energy
            .tariff
            .as_ref()
            .and_then(|t| t.tariff.demand_limit_kw);
        let forecast = account.demand.forecast_kw;
        let text = match limit {
            Some(limit) => format!("demand {forecast:.0} of {limit:.0} kW"),
            None => format!("demand {forecast:.0} kW"),
        };
        let over = limit.is_some_and(|l| forecast > l);
        ui.label(egui::RichText::new(text).size(24.0 * s).color(if over {
            AMBER
        } else {
            ui.visuals().text_color()
        }));
    });
}

fn kpi_tiles_ui(
    ui: &mut egui::Ui,
    world: &PanelWorld,
    wall: &WallMode,
    config: &plant_twin_core::predict::PredictConfig,
    s: f32,
) {
    let mut by_state = [0usize; 4]; // normal, warning, alarm, stale
    let mut bound = 0;
    let mut fresh = 0;
    for (spec, _, _, freshness, _) in &world.assets {
        let stale = freshness.is_some_and(|f| f.stale);
        if spec.0.telemetry.is_some() {
            bound += 1;
            if !stale && freshness.is_some_and(|f| f.last_received_ms.is_some()) {
                fresh += 1;
            }
        }
        if stale {
            by_state[3] += 1;
        }
    }
    let mut ranked = vec![];
    for (entity, spec, health) in &world.health {
        let stale = world
            .assets
            .get(entity)
            .is_ok_and(|(_, _, _, f, _)| f.is_some_and(|f| f.stale));
        if !stale {
            by_state[health.0.severity() as usize] += 1;
        }
        let score = health.0.score_value(config, None).unwrap_or(0.0);
        if score > 0.0 {
            ranked.push((score, entity, spec, health));
        }
    }
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    ui.add_space(10.0 * s);
    tile(ui, s, "Assets", |ui| {
        for (i, (label, colour)) in [
            ("normal", severity_colour(Severity::Normal)),
            ("warning", AMBER),
            ("alarm", RED),
            ("stale", egui::Color32::from_gray(140)),
        ]
        .into_iter()
        .enumerate()
        {
            ui.label(
                egui::RichText::new(format!("{:>4}  {label}", by_state[i]))
                    .size(30.0 * s)
                    .monospace()
                    .color(colour),
            );
        }
    });
    tile(ui, s, "Data", |ui| {
        ui.label(
            egui::RichText::new(format!("{fresh} of {bound} assets current"))
                .size(28.0 * s)
                .color(if fresh == bound {
                    severity_colour(Severity::Normal)
                } else {
                    AMBER
                }),
        );
        ui.label(
            egui::RichText::new(format!("{:.0} messages/s", world.ingest.messages_per_s))
                .size(24.0 * s),
        );
    });
    if let Some(energy) = world.energy.as_deref() {
        energy_tile_ui(ui, energy, s);
    }
    // Who talks to the plant: the traffic baseline's findings (details: diagnostics, F2).
    tile(ui, s, "Network", |ui| {
        match world.ingest.security.back() {
            None => ui.label(
                egui::RichText::new("nothing unusual")
                    .size(24.0 * s)
                    .color(severity_colour(Severity::Normal)),
            ),
            Some(last) => {
                ui.label(
                    egui::RichText::new(format!(
                        "{} security events",
                        world.ingest.security_events
                    ))
                    .size(28.0 * s)
                    .strong()
                    .color(RED),
                );
                ui.label(
                    egui::RichText::new(format!(
                        "last: {} at {}",
                        last.kind.label(),
                        super::status::clock(last.time_ms)
                    ))
                    .size(22.0 * s),
                );
                ui.label(
                    egui::RichText::new(last.source.as_str())
                        .size(20.0 * s)
                        .monospace(),
                )
            }
        };
    });
    tile(ui, s, "Top anomalies", |ui| {
        if ranked.is_empty() {
            ui.label(egui::RichText::new("none").size(24.0 * s));
        }
        for (score, _, spec, health) in ranked.iter().take(wall.config.top_anomalies) {
            let severity = health.0.severity();
            ui.label(
                egui::RichText::new(format!("{:.2}  {}", score, spec.0.id))
                    .size(28.0 * s)
                    .strong()
                    .color(if severity == Severity::Normal {
                        ui.visuals().text_color()
                    } else {
                        severity_colour(severity)
                    }),
            );
            if let Some(text) = horizon_text(world, &spec.0, health) {
                ui.label(egui::RichText::new(text).size(18.0 * s));
            }
        }
    });
}
