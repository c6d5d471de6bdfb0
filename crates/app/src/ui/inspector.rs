//! Right panel: the selected asset: what the layout says about it, and its live signals with
//! trends.

use bevy_egui::egui;
use egui_plot::{HLine, Line, Plot, PlotPoints};

use super::PanelWorld;
use super::status::{clock, duration_text};
use crate::data::telemetry::{Freshness, LiveSignal, LiveSignals};
use plant_twin_core::geometry::plan_from_world;
use plant_twin_core::layout::{Footprint, Signal};
use plant_twin_core::telemetry::Quality;

pub(super) fn inspector_ui(
    ui: &mut egui::Ui,
    world: &PanelWorld,
    ui_state: &mut super::UiState,
    edit: &mut bevy::prelude::MessageWriter<crate::sandbox::EditIntent>,
    alarms: &mut bevy::prelude::MessageWriter<crate::data::predict::AlarmIntent>,
) {
    ui.heading("Inspector");
    let Some((entity, (spec, transform, live, freshness, _))) = world
        .selection
        .selected
        .and_then(|entity| world.assets.get(entity).ok().map(|found| (entity, found)))
    else {
        ui.weak("Click an asset in the scene or the list to inspect it.");
        return;
    };
    let asset = &spec.0;
    let layout = &world.document.layout;
    let now = world.clock.now_ms();
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.label(egui::RichText::new(&asset.name).strong().size(16.0));
            let replaying = matches!(*world.clock, crate::data::telemetry::DataClock::At(_));
            freshness_ui(ui, asset.telemetry.is_some(), freshness, now, replaying);
            super::alarms::health_ui(ui, world, entity, alarms);
            if *world.edit_mode.get() == crate::sandbox::EditMode::Editing
                && world.sandbox.editable()
            {
                ui.strong("Placement");
                super::sandbox::typed_placement_ui(
                    ui,
                    entity,
                    plant_twin_core::sandbox::history::Placement {
                        position: asset.position,
                        rotation_deg: asset.rotation_deg,
                    },
                    ui_state,
                    edit,
                );
                spot_ui(ui, world, entity, ui_state, edit);
                ui.add_space(4.0);
            }
            egui::Grid::new("asset_facts")
                .num_columns(2)
                .spacing([12.0, 3.0])
                .show(ui, |ui| {
                    let mut row = |key: &str, value: String| {
                        ui.weak(key);
                        ui.label(value);
                        ui.end_row();
                    };
                    row("Id", asset.id.clone());
                    row("Kind", asset.kind.label().to_string());
                    let line = asset
                        .line
                        .as_ref()
                        .and_then(|id| layout.lines.iter().find(|line| &line.id == id))
                        .map_or("—".to_string(), |line| line.name.clone());
                    row("Line", line);
                    let (x, y) = plan_from_world(transform.translation());
                    row("Position", format!("x {x:.2} m, y {y:.2} m"));
                    let (_, rotation, _) = transform.to_scale_rotation_translation();
                    let yaw = rotation.to_euler(bevy::math::EulerRot::YXZ).0.to_degrees();
                    row("Rotation", format!("{:.1}°", yaw.rem_euclid(360.0)));
                    row(
                        "Footprint",
                        match &asset.footprint {
                            Footprint::Box {
                                length,
                                width,
                                height,
                            } => format!("box {length} × {width} × {height} m"),
                            Footprint::Cylinder { radius, height } => {
                                format!("cylinder r {radius} m, h {height} m")
                            }
                            Footprint::Compound(parts) => {
                                let (length, width, height) = asset.extents();
                                format!(
                                    "{} boxes within {length:.2} × {width:.2} × {height:.2} m",
                                    parts.len()
                                )
                            }
                        },
                    );
                    row("Clearance", format!("{} m", asset.clearance));
                    row(
                        "Telemetry",
                        asset
                            .telemetry
                            .as_ref()
                            .map_or("not bound".to_string(), |t| t.topic.clone()),
                    );
                });

            ui.add_space(8.0);
            ui.strong(format!("Components ({})", asset.components.len()));
            egui::Grid::new("components")
                .num_columns(3)
                .striped(true)
                .show(ui, |ui| {
                    for component in &asset.components {
                        ui.monospace(&component.id);
                        ui.label(&component.name);
                        ui.weak(component.kind.label());
                        ui.end_row();
                    }
                });

            ui.add_space(8.0);
            ui.strong(format!("Signals ({})", asset.signals.len()));
            egui::Grid::new("signals")
                .num_columns(4)
                .striped(true)
                .show(ui, |ui| {
                    ui.weak("signal");
                    ui.weak("value");
                    ui.weak("normal");
                    ui.weak("limits");
                    ui.end_row();
                    for (index, signal) in asset.signals.iter().enumerate() {
                        ui.monospace(&signal.id).on_hover_text(
                            signal
                                .component
                                .as_ref()
                                .map_or("asset-level signal".to_string(), |c| {
                                    format!("measures component {c}")
                                }),
                        );
                        let state = live.and_then(|live| live.0.get(index));
                        value_ui(ui, signal, state, now);
                        ui.label(format!(
                            "{} … {} {}",
                            signal.normal.0, signal.normal.1, signal.unit
                        ));
                        ui.label(
                            signal
                                .limits
                                .map_or("—".to_string(), |(lo, hi)| format!("{lo} … {hi}")),
                        );
                        ui.end_row();
                    }
                });

            if let Some(live) = live.filter(|live| live.0.iter().any(|s| !s.history.is_empty())) {
                ui.add_space(8.0);
                ui.strong("Trends");
                trends_ui(
                    ui,
                    &asset.id,
                    &asset.signals,
                    live,
                    world.history_epoch.0,
                    now,
                );
            }
        });
}

fn freshness_ui(
    ui: &mut egui::Ui,
    bound: bool,
    freshness: Option<&Freshness>,
    now: i64,
    replaying: bool,
) {
    let Some(freshness) = freshness.filter(|_| bound) else {
        return;
    };
    let amber = egui::Color32::from_rgb(240, 180, 40);
    match (freshness.last_received_ms, freshness.stale) {
        (None, _) => {
            ui.colored_label(amber, "No data received yet");
        }
        (Some(last), true) => {
            let age = duration_text((now - last) as f64 / 1000.0);
            let why = freshness
                .dead
                .as_ref()
                .map_or(String::new(), |reason| format!(" — {reason}"));
            ui.colored_label(
                egui::Color32::from_rgb(235, 80, 70),
                format!("STALE: last data {age} ago ({}){why}", clock(last)),
            );
        }
        (Some(last), false) => {
            ui.weak(format!(
                "{} · last data {} ago",
                if replaying { "Replay" } else { "Live" },
                duration_text((now - last) as f64 / 1000.0)
            ));
        }
    }
}

fn value_ui(ui: &mut egui::Ui, signal: &Signal, state: Option<&LiveSignal>, now: i64) {
    let Some((state, value)) = state.and_then(|s| s.value.map(|v| (s, v))) else {
        ui.weak("—");
        return;
    };
    let (low, high) = signal.normal;
    let outside = value < low || value > high;
    let beyond_limit = signal
        .limits
        .is_some_and(|(lo, hi)| value < lo || value > hi);
    let mut text =
        egui::RichText::new(format!("{} {}", format_value(value), signal.unit)).monospace();
    if beyond_limit {
        text = text.color(egui::Color32::from_rgb(235, 80, 70)).strong();
    } else if outside {
        text = text.color(egui::Color32::from_rgb(240, 180, 40));
    }
    let quality = match state.quality {
        Quality::Good => "",
        Quality::Uncertain => " (uncertain)",
        Quality::Bad => " (bad)",
    };
    ui.label(text).on_hover_text(format!(
        "source time {} · received {} ago{quality}",
        clock(state.time_ms),
        duration_text((now - state.received_ms) as f64 / 1000.0)
    ));
}

/// Up to four significant digits, without scientific notation for plant-sized numbers.
pub fn format_value(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1000.0 {
        format!("{value:.0}")
    } else if magnitude >= 100.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

fn trends_ui(
    ui: &mut egui::Ui,
    asset_id: &str,
    signals: &[Signal],
    live: &LiveSignals,
    epoch: i64,
    now: i64,
) {
    for (index, (signal, state)) in signals.iter().zip(&live.0).enumerate() {
        if state.history.is_empty() {
            continue;
        }
        ui.label(format!("{} [{}]", signal.id, signal.unit));
        let points: Vec<[f64; 2]> = state
            .history
            .iter()
            .map(|(offset, value)| {
                [
                    (epoch + *offset as i64 - now) as f64 / 1000.0,
                    *value as f64,
                ]
            })
            .collect();
        let (low, high) = signal.normal;
        let normal = egui::Color32::from_rgba_unmultiplied(120, 200, 140, 110);
        // The y axis is labelled where it matters, the normal range and the limit, instead of
        // wherever a round number happened to fall (often nowhere in 70 px).
        let mut marks = vec![low, high];
        if let Some((_, limit)) = signal.limits {
            marks.push(limit);
        }
        let spread = (high - low).abs().max(1e-9);
        Plot::new(("trend", asset_id, index))
            .height(84.0)
            .y_grid_spacer(move |_| {
                marks
                    .iter()
                    .map(|&value| egui_plot::GridMark {
                        value,
                        step_size: spread,
                    })
                    .collect()
            })
            .y_axis_min_width(34.0)
            .allow_zoom(false)
            .allow_drag(false)
            .allow_scroll(false)
            .allow_boxed_zoom(false)
            .show_x(false)
            .include_y(low)
            .include_y(high)
            .x_axis_formatter(|mark, _| format!("{:.0} s", mark.value))
            .show(ui, |plot| {
                plot.hline(HLine::new("normal low", low).color(normal));
                plot.hline(HLine::new("normal high", high).color(normal));
                if let Some((_, limit)) = signal.limits {
                    plot.hline(
                        HLine::new("limit", limit).color(egui::Color32::from_rgb(235, 80, 70)),
                    );
                }
                plot.line(
                    Line::new(signal.id.clone(), PlotPoints::from(points))
                        .width(1.5)
                        .color(egui::Color32::from_rgb(110, 180, 255)),
                );
            });
    }
}

/// "Suggest a spot": the nearest place where the asset breaks no clearance rule, or the
/// feasible place within 10 m where its flows cost least; applied as a typed placement (one
/// undo step).
fn spot_ui(
    ui: &mut egui::Ui,
    world: &PanelWorld,
    entity: bevy::prelude::Entity,
    ui_state: &mut super::UiState,
    edit: &mut bevy::prelude::MessageWriter<crate::sandbox::EditIntent>,
) {
    use plant_twin_core::optimise::spot::{SpotGoal, suggest_spot};
    let Some(asset) = world.index.by_position.iter().position(|e| *e == entity) else {
        return;
    };
    // Ids and flows do not change while editing: the loaded layout answers this every frame;
    // the edited one is built only when a button is pressed.
    let loaded = &world.document.layout;
    let has_flows = loaded
        .assets
        .get(asset)
        .is_some_and(|a| loaded.flows.iter().any(|f| f.from == a.id || f.to == a.id));
    let mut goal = None;
    ui.horizontal(|ui| {
        if ui
            .button("Nearest free spot")
            .on_hover_text(
                "The closest place (or quarter turn) within 15 m where every clearance rule holds",
            )
            .clicked()
        {
            goal = Some((SpotGoal::NearestFeasible, 15.0));
        }
        if has_flows
            && ui
                .button("Least flow effort")
                .on_hover_text(
                    "The free place within 10 m where this asset's material flows cost least",
                )
                .clicked()
        {
            goal = Some((SpotGoal::LeastEffort, 10.0));
        }
    });
    if let Some((goal, radius_m)) = goal {
        let layout = crate::sandbox::edited_layout(&world.document, &world.specs, &world.index);
        ui_state.spot_message = match suggest_spot(&layout, asset, goal, radius_m, 0.25) {
            Some(spot) => {
                edit.write(crate::sandbox::EditIntent::Place {
                    entity,
                    placement: plant_twin_core::sandbox::history::Placement {
                        position: spot.position,
                        rotation_deg: spot.rotation_deg,
                    },
                });
                Some(format!(
                    "moved {:.2} m{}",
                    spot.distance_m,
                    if goal == SpotGoal::LeastEffort {
                        format!(", flow effort {:.0}", spot.effort)
                    } else {
                        String::new()
                    }
                ))
            }
            None => Some(format!("no free spot within {radius_m} m")),
        };
    }
    if let Some(message) = &ui_state.spot_message {
        ui.weak(message);
    }
}
