//! Alarms and health in the UI: the alarm list (active, by severity and time) and history, the
//! health section of the inspector (score, why, failure horizon, acknowledge and shelve), the
//! hover card, the colour-by choice and its legend. Reads the world, writes `AlarmIntent`s.

use bevy::prelude::{Entity, MessageWriter};
use bevy_egui::egui;

use super::PanelWorld;
use super::status::{AMBER, GREEN, RED, clock};
use crate::data::predict::{AlarmIntent, AssetHealth, part_name, reason};
use crate::score_colour::{ColourBy, Ramp, ramp_colour, signal_scale};
use crate::selection::{SelectAsset, SelectTarget};
use plant_twin_core::predict::horizon::human_duration;
use plant_twin_core::predict::{AlarmChange, Annunciation, Finding, Part, Severity};

/// Shelving choices offered.
const SHELVE_FOR: [(&str, f64); 3] = [("15 min", 900.0), ("1 h", 3600.0), ("8 h", 28_800.0)];

pub fn severity_colour(severity: Severity) -> egui::Color32 {
    match severity {
        Severity::Alarm => RED,
        Severity::Warning => AMBER,
        Severity::Normal => GREEN,
    }
}

/// Shelved alarms are hidden from annunciation, not from the truth: an asset whose only active
/// alarms are shelved reads "shelved", never "normal".
const SHELVED_COLOUR: egui::Color32 = egui::Color32::from_rgb(120, 150, 200);

/// The asset's state as words and a colour: its worst unshelved alarm, or "shelved" when the
/// only alarms standing are shelved ones.
pub fn state_badge(model: &plant_twin_core::predict::AssetModel) -> (String, egui::Color32) {
    let severity = model.severity();
    if severity == Severity::Normal && model.shelved_while_active() {
        ("shelved".into(), SHELVED_COLOUR)
    } else {
        (severity.label().into(), severity_colour(severity))
    }
}

/// The alarm list's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlarmTab {
    #[default]
    Active,
    /// Hidden from annunciation until their shelf time ends, or until unshelved here.
    Shelved,
    History,
}

/// One row of the active alarm list.
struct ActiveAlarm {
    entity: Entity,
    part: Part,
    asset: String,
    name: String,
    severity: Severity,
    state: Annunciation,
    /// Start of the episode (the first warning), seconds.
    raised_s: f64,
    /// When the current severity was reached (the alarm after its warning), seconds.
    since_s: f64,
    acknowledged: Option<(String, f64)>,
    reason: String,
}

fn active_alarms(world: &PanelWorld) -> (Vec<ActiveAlarm>, usize) {
    let config = &world.prediction.config;
    let mut rows = vec![];
    let shelved = world.annunciator.totals().shelved;
    // Only the assets with something standing: the rest are normal.
    for (entity, _) in world.annunciator.standing() {
        let Ok((entity, spec, health)) = world.health.get(entity) else {
            continue;
        };
        let model = &health.0;
        for (part, alarm) in model.parts.iter().zip(&model.alarms) {
            let state = alarm.annunciation();
            if matches!(state, Annunciation::Normal | Annunciation::Shelved) {
                continue;
            }
            rows.push(ActiveAlarm {
                entity,
                part: *part,
                asset: spec.0.id.clone(),
                name: part_name(&spec.0, *part),
                severity: alarm.severity,
                state,
                raised_s: alarm.raised_at_s.unwrap_or(alarm.changed_at_s),
                since_s: alarm
                    .severity_since_s
                    .or(alarm.raised_at_s)
                    .unwrap_or(alarm.changed_at_s),
                acknowledged: alarm.acknowledged_by.clone(),
                reason: reason(&spec.0, model, config, Some(*part)),
            });
        }
    }
    // Most severe first, newest first within a severity; cleared-but-unacknowledged last.
    rows.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.raised_s.total_cmp(&a.raised_s))
    });
    (rows, shelved)
}

/// The shelved alarms, with what stands underneath, until when, and Unshelve.
fn shelved_ui(
    ui: &mut egui::Ui,
    world: &PanelWorld,
    alarms: &mut MessageWriter<AlarmIntent>,
    select: &mut MessageWriter<SelectAsset>,
) {
    let mut any = false;
    egui::Grid::new("shelved_alarms")
        .num_columns(4)
        .striped(true)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            let shelving = world
                .annunciator
                .standing()
                .filter(|(_, standing)| standing.shelved > 0)
                .filter_map(|(entity, _)| world.health.get(entity).ok());
            for (entity, spec, health) in shelving {
                let model = &health.0;
                for (part, alarm) in model.parts.iter().zip(&model.alarms) {
                    let Some(until_s) = alarm.shelved_until_s else {
                        continue;
                    };
                    any = true;
                    // What the shelf hides: the condition as it stands now.
                    ui.label(
                        egui::RichText::new(format!("SHELVED ({})", alarm.severity.label()))
                            .color(severity_colour(alarm.severity)),
                    );
                    let title = format!("{} / {}", spec.0.id, part_name(&spec.0, *part));
                    if ui.link(title).clicked() {
                        select.write(SelectAsset {
                            target: SelectTarget::Entity(entity),
                            frame: true,
                            additive: false,
                        });
                    }
                    ui.weak(format!("until {}", clock((until_s * 1000.0) as i64)));
                    if ui.button("Unshelve").clicked() {
                        alarms.write(AlarmIntent::Unshelve {
                            asset: entity,
                            part: *part,
                        });
                    }
                    ui.end_row();
                }
            }
        });
    if !any {
        ui.weak("No shelved alarms.");
    }
}

/// Counts for the status bar: (alarms, warnings, unacknowledged).
pub fn alarm_counts(world: &PanelWorld) -> (usize, usize, usize) {
    let totals = world.annunciator.totals();
    (totals.alarms, totals.warnings, totals.unacknowledged)
}

pub fn alarm_counts_ui(ui: &mut egui::Ui, world: &PanelWorld, show_alarms: &mut bool) {
    let (alarms, warnings, unacknowledged) = alarm_counts(world);
    let text = egui::RichText::new(format!(
        "● {alarms} alarm{}  ● {warnings} warning{}{}",
        if alarms == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" },
        if unacknowledged > 0 {
            format!("  ({unacknowledged} unacknowledged)")
        } else {
            String::new()
        }
    ))
    .color(if alarms > 0 {
        RED
    } else if warnings > 0 {
        AMBER
    } else {
        ui.visuals().weak_text_color()
    });
    if ui
        .add(egui::Label::new(text).sense(egui::Sense::click()))
        .on_hover_text("Show or hide the alarm list")
        .clicked()
    {
        *show_alarms = !*show_alarms;
    }
}

/// The alarm list panel: active alarms, or the history.
pub fn alarm_panel_ui(
    ui: &mut egui::Ui,
    world: &PanelWorld,
    alarms: &mut MessageWriter<AlarmIntent>,
    select: &mut MessageWriter<SelectAsset>,
    tab: &mut AlarmTab,
) {
    let (rows, shelved) = active_alarms(world);
    let time = ui.input(|i| i.time);
    ui.horizontal(|ui| {
        ui.selectable_value(
            tab,
            AlarmTab::Active,
            format!("Active alarms ({})", rows.len()),
        );
        ui.selectable_value(tab, AlarmTab::Shelved, format!("Shelved ({shelved})"));
        ui.selectable_value(
            tab,
            AlarmTab::History,
            format!("History ({})", world.alarm_log.records.len()),
        );
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let any = rows.iter().any(|r| r.state != Annunciation::Acknowledged);
            if ui
                .add_enabled(any, egui::Button::new("Acknowledge all"))
                .clicked()
            {
                alarms.write(AlarmIntent::AcknowledgeAll);
            }
            // The notes share what the tabs leave: cut short (whole on hover) rather than drawn
            // over the tabs on a narrow screen.
            let note = |ui: &mut egui::Ui, text: &str, weak: bool| {
                let rich = egui::RichText::new(text);
                let rich = if weak { rich.weak() } else { rich };
                if ui.available_width() > 24.0 {
                    ui.add(egui::Label::new(rich).truncate())
                        .on_hover_text(text);
                }
            };
            note(ui, &world.prediction.baseline_note, true);
            if !world.prediction.degradation_note.is_empty() {
                note(ui, &world.prediction.degradation_note, true);
            }
            if let Some(message) = &world.prediction.message {
                note(ui, message, false);
            }
        });
    });
    ui.separator();
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            match tab {
                AlarmTab::History => return history_ui(ui, world, select),
                AlarmTab::Shelved => return shelved_ui(ui, world, alarms, select),
                AlarmTab::Active => {}
            }
            if rows.is_empty() {
                ui.weak("No active alarms.");
                return;
            }
            egui::Grid::new("active_alarms")
                .num_columns(6)
                .striped(true)
                .spacing([14.0, 4.0])
                .show(ui, |ui| {
                    for row in &rows {
                        let colour = severity_colour(row.severity);
                        let unacknowledged = matches!(
                            row.state,
                            Annunciation::Unacknowledged | Annunciation::ReturnedUnacknowledged
                        );
                        // Unacknowledged alarms blink slowly, like an annunciator panel.
                        let lit = !unacknowledged || (time * 1.5).fract() < 0.6;
                        let badge = match (row.severity, row.state) {
                            (_, Annunciation::ReturnedUnacknowledged) => "CLEARED",
                            (Severity::Alarm, _) => "ALARM",
                            (Severity::Warning, _) => "WARNING",
                            (Severity::Normal, _) => "NORMAL",
                        };
                        let mut text = egui::RichText::new(badge).strong();
                        text = if lit {
                            text.color(egui::Color32::BLACK).background_color(colour)
                        } else {
                            text.color(colour)
                        };
                        ui.label(text);
                        // The time the row's state began (an alarm's, not its warning's);
                        // the episode's other times on hover.
                        let mut times =
                            vec![format!("raised {}", clock((row.raised_s * 1000.0) as i64))];
                        if row.since_s > row.raised_s {
                            times.push(format!(
                                "{} since {}",
                                row.severity.label(),
                                clock((row.since_s * 1000.0) as i64)
                            ));
                        }
                        if let Some((by, at)) = &row.acknowledged {
                            times.push(format!(
                                "acknowledged by {by} {}",
                                clock((at * 1000.0) as i64)
                            ));
                        }
                        ui.monospace(clock((row.since_s * 1000.0) as i64))
                            .on_hover_text(times.join("\n"));
                        let title = format!("{} / {}", row.asset, row.name);
                        let title = if unacknowledged {
                            egui::RichText::new(title).strong()
                        } else {
                            egui::RichText::new(title)
                        };
                        if ui
                            .link(title)
                            .on_hover_text("Select and frame this asset")
                            .clicked()
                        {
                            select.write(SelectAsset {
                                target: SelectTarget::Entity(row.entity),
                                frame: true,
                                additive: false,
                            });
                        }
                        ui.label(&row.reason);
                        if unacknowledged {
                            if ui.button("Acknowledge").clicked() {
                                alarms.write(AlarmIntent::Acknowledge {
                                    asset: row.entity,
                                    part: row.part,
                                });
                            }
                        } else {
                            ui.weak("acknowledged");
                        }
                        ui.menu_button("Shelve", |ui| {
                            for (label, seconds) in SHELVE_FOR {
                                if ui.button(format!("for {label}")).clicked() {
                                    alarms.write(AlarmIntent::Shelve {
                                        asset: row.entity,
                                        part: row.part,
                                        duration_s: seconds,
                                    });
                                    ui.close();
                                }
                            }
                        });
                        ui.end_row();
                    }
                });
        });
}

fn history_ui(ui: &mut egui::Ui, world: &PanelWorld, select: &mut MessageWriter<SelectAsset>) {
    egui::Grid::new("alarm_history")
        .num_columns(4)
        .striped(true)
        .spacing([14.0, 3.0])
        .show(ui, |ui| {
            for record in world.alarm_log.records.iter().rev().take(500) {
                ui.monospace(clock(record.time_ms));
                let what = match &record.change {
                    AlarmChange::Raised { severity } => format!("raised {}", severity.label()),
                    AlarmChange::Eased { severity } => format!("eased to {}", severity.label()),
                    AlarmChange::Cleared => "cleared".into(),
                    AlarmChange::Acknowledged { by } => format!("acknowledged by {by}"),
                    AlarmChange::Shelved { until_s, by } => {
                        format!("shelved by {by} until {}", clock((until_s * 1000.0) as i64))
                    }
                    AlarmChange::Unshelved => "unshelved".into(),
                };
                ui.label(egui::RichText::new(what).color(severity_colour(record.severity)));
                let part = record.component.as_deref().unwrap_or("(asset)");
                if ui.link(format!("{} / {part}", record.asset)).clicked() {
                    select.write(SelectAsset {
                        target: SelectTarget::Entity(record.entity),
                        frame: true,
                        additive: false,
                    });
                }
                ui.weak(&record.reason);
                ui.end_row();
            }
        });
}

/// "P(failure within 24 h) = 0.87, expected in 9 min (6-14 min)" for the asset's most likely
/// failure, with the model behind it: the learned one ("health 0.31, learned from 24
/// run-to-failure histories") when the asset's kind has one, else a signal's trend to its
/// limit. None without either.
pub fn horizon_text(
    world: &PanelWorld,
    spec: &plant_twin_core::layout::Asset,
    health: &AssetHealth,
) -> Option<String> {
    let config = &world.prediction.config;
    if let Some(learned) = health.0.learned_horizon(config) {
        return Some(format!(
            "{}: health {:.2} ({})",
            probability_text(&learned.horizon),
            learned.health.clamp(0.0, 1.0),
            learned.provenance
        ));
    }
    let (signal, h) = health.0.horizons(config).into_iter().next()?;
    let id = &spec.signals.get(signal as usize)?.id;
    Some(format!(
        "{}: {id} toward {} (trend to limit)",
        probability_text(&h),
        h.limit
    ))
}

/// "P(failure within 24 h) = 0.87, expected in 9 min (6-14 min)".
fn probability_text(h: &plant_twin_core::predict::Horizon) -> String {
    let (expected, early, late) = (
        human_duration(h.expected_s),
        human_duration(h.early_s),
        human_duration(h.late_s),
    );
    let when = if h.expected_s <= 0.0 {
        "past its limit now".to_string()
    } else if !h.late_s.is_finite() {
        format!("expected in {expected} (at least {early})")
    } else if early == late {
        // "(7 min-7 min)" says nothing: the interval is narrower than the words.
        format!("expected in {expected}")
    } else {
        format!("expected in {expected} ({})", interval_text(&early, &late))
    };
    format!(
        "P(failure within {}) = {:.2}, {when}",
        human_duration(h.within_s),
        h.probability
    )
}

/// "6-14 min" when both ends have the same unit, "50 min-2 h" otherwise.
fn interval_text(early: &str, late: &str) -> String {
    match (early.rsplit_once(' '), late.rsplit_once(' ')) {
        (Some((from, unit)), Some((_, late_unit))) if unit == late_unit => {
            format!("{from}-{late}")
        }
        _ => format!("{early}-{late}"),
    }
}

/// The inspector's health section for one asset.
pub fn health_ui(
    ui: &mut egui::Ui,
    world: &PanelWorld,
    entity: Entity,
    alarms: &mut MessageWriter<AlarmIntent>,
) {
    let Ok((_, spec, health)) = world.health.get(entity) else {
        return;
    };
    let asset = &spec.0;
    let model = &health.0;
    let config = &world.prediction.config;
    let score = model.score(config, None);
    ui.add_space(8.0);
    ui.strong("Health");
    if let Some(left) = model.learning_left_s(config) {
        ui.label(format!(
            "Learning normal behaviour: {} left",
            human_duration(left)
        ));
    }
    let (state, state_colour) = state_badge(model);
    ui.horizontal(|ui| {
        ui.label(
            egui::RichText::new(state.to_uppercase())
                .strong()
                .color(egui::Color32::BLACK)
                .background_color(state_colour),
        );
        // The figure beside its bar, not on it: on a half-filled amber bar the text was
        // unreadable where the fill ended.
        let colour = ramp_colour(Ramp::Anomaly, score.value as f32);
        ui.label(format!("anomaly score {:.2}", score.value));
        ui.add(
            egui::ProgressBar::new(score.value as f32)
                .desired_width(110.0)
                .desired_height(10.0)
                .fill(egui_colour(colour)),
        );
    });
    if let Some((mode, count)) = model.mode() {
        ui.weak(format!(
            "Operating mode {mode} of {count}: scored against what is normal in it"
        ))
        .on_hover_text(
            "Modes (running, idle, load levels) are learned with the baseline from the \
             asset's signals; a stop is normal when stopped.",
        );
    }
    for part in &model.parts {
        if let Some((usual, ago_s)) = model.usual_now(config, *part) {
            let when = if ago_s >= plant_twin_core::predict::recurrence::WEEK_S {
                "a week ago"
            } else {
                "yesterday"
            };
            ui.weak(format!(
                "{}: usual at this time (score {usual:.2} {when}): an alarm is raised only by \
                 what a deviation exceeds it",
                part_name(asset, *part)
            ))
            .on_hover_text(
                "A deviation that came at about this time (within half an hour) a day or a \
                 week before, high enough to alarm then too, is taken as part of the plant's \
                 calendar (a nightly clean, a weekly changeover). An alarm already raised is \
                 held on its own score.",
            );
        }
    }
    if let Some(text) = horizon_text(world, asset, health) {
        ui.label(egui::RichText::new(text).color(AMBER));
    } else {
        ui.weak("No degradation trend toward a failure limit.");
    }
    egui::Grid::new("contributions")
        .num_columns(2)
        .spacing([12.0, 2.0])
        .show(ui, |ui| {
            for c in score.contributions.iter().take(6) {
                let Some(signal) = asset.signals.get(c.signal as usize) else {
                    continue;
                };
                ui.monospace(&signal.id);
                let text = match c.finding {
                    Finding::Frozen => "frozen".to_string(),
                    Finding::Settling => "settling".to_string(),
                    _ => format!("{:+.1} σ", c.sigma),
                };
                let colour = if c.sigma.abs() >= 6.0 {
                    RED
                } else if c.sigma.abs() >= 4.0 {
                    AMBER
                } else {
                    ui.visuals().text_color()
                };
                let shown = ui.label(egui::RichText::new(text).color(colour));
                if c.finding == Finding::Settling {
                    shown.on_hover_text(
                        "Restarted from the saved baseline: re-reading today's level for about \
                         half a minute before scoring; counted as normal meanwhile.",
                    );
                }
                ui.end_row();
            }
        });
    for (part, alarm) in model.parts.iter().zip(&model.alarms) {
        let state = alarm.annunciation();
        if state == Annunciation::Normal {
            continue;
        }
        ui.horizontal_wrapped(|ui| {
            ui.label(
                egui::RichText::new(format!(
                    "{}: {}",
                    part_name(asset, *part),
                    alarm.severity.label()
                ))
                .color(severity_colour(alarm.severity)),
            );
            match state {
                Annunciation::Unacknowledged | Annunciation::ReturnedUnacknowledged => {
                    if ui.button("Acknowledge").clicked() {
                        alarms.write(AlarmIntent::Acknowledge {
                            asset: entity,
                            part: *part,
                        });
                    }
                }
                Annunciation::Acknowledged => {
                    if let Some((who, when)) = &alarm.acknowledged_by {
                        ui.weak(format!(
                            "acknowledged by {who} at {}",
                            clock((when * 1000.0) as i64)
                        ));
                    }
                }
                Annunciation::Shelved => {
                    if let Some(until) = alarm.shelved_until_s {
                        ui.weak(format!("shelved until {}", clock((until * 1000.0) as i64)));
                    }
                    if ui.button("Unshelve").clicked() {
                        alarms.write(AlarmIntent::Unshelve {
                            asset: entity,
                            part: *part,
                        });
                    }
                }
                Annunciation::Normal => {}
            }
            if state != Annunciation::Shelved {
                ui.menu_button("Shelve", |ui| {
                    for (label, seconds) in SHELVE_FOR {
                        if ui.button(format!("for {label}")).clicked() {
                            alarms.write(AlarmIntent::Shelve {
                                asset: entity,
                                part: *part,
                                duration_s: seconds,
                            });
                            ui.close();
                        }
                    }
                });
            }
        });
    }
    if ui
        .small_button("Learn normal again")
        .on_hover_text("Forget this asset's baseline and learn from the data that follows")
        .clicked()
    {
        alarms.write(AlarmIntent::Relearn {
            asset: Some(entity),
        });
    }
}

/// A card next to the pointer for the hovered asset: state, score, why, horizon.
pub fn hover_card_ui(ctx: &egui::Context, world: &PanelWorld, scene_rect: egui::Rect) {
    let Some(entity) = world.selection.hovered else {
        return;
    };
    let Some(pointer) = ctx.pointer_hover_pos().filter(|p| scene_rect.contains(*p)) else {
        return;
    };
    let Ok((_, spec, health)) = world.health.get(entity) else {
        return;
    };
    let config = &world.prediction.config;
    let score = health.0.score(config, None);
    egui::Area::new(egui::Id::new("hover_card"))
        .fixed_pos(pointer + egui::vec2(18.0, 18.0))
        .order(egui::Order::Tooltip)
        .interactable(false)
        .show(ctx, |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                ui.strong(format!("{} ({})", spec.0.name, spec.0.id));
                let (state, state_colour) = state_badge(&health.0);
                ui.label(
                    egui::RichText::new(format!("{state} · score {:.2}", score.value))
                        .color(state_colour),
                );
                if score.value >= 0.25 {
                    ui.label(reason(&spec.0, &health.0, config, None));
                }
                if let Some(text) = horizon_text(world, &spec.0, health) {
                    ui.label(text);
                }
            });
        });
}

/// The colour-by choices (View menu).
pub fn colour_by_ui(ui: &mut egui::Ui, world: &PanelWorld, colour_by: &mut ColourBy) {
    ui.label("Colour the scene by");
    let mut choice = colour_by.clone();
    ui.radio_value(&mut choice, ColourBy::AlarmState, "Alarm state");
    ui.radio_value(&mut choice, ColourBy::Anomaly, "Anomaly score");
    ui.radio_value(&mut choice, ColourBy::Freshness, "Data freshness");
    ui.radio_value(&mut choice, ColourBy::Paint, "Kind colours");
    if world.energy.as_ref().is_some_and(|e| e.account.is_some()) {
        ui.menu_button("Energy", |ui| {
            for view in crate::score_colour::EnergyView::ALL {
                ui.radio_value(&mut choice, ColourBy::Energy(view), view.label());
            }
        });
    }
    ui.menu_button("Signal", |ui| {
        let mut ids: Vec<&str> = world
            .document
            .layout
            .assets
            .iter()
            .flat_map(|a| a.signals.iter().map(|s| s.id.as_str()))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        egui::ScrollArea::vertical()
            .max_height(360.0)
            .show(ui, |ui| {
                for id in ids {
                    ui.radio_value(&mut choice, ColourBy::Signal(id.to_string()), id);
                }
            });
    });
    if choice != *colour_by {
        *colour_by = choice;
    }
}

fn egui_colour(colour: bevy::color::LinearRgba) -> egui::Color32 {
    use bevy::color::ColorToPacked;
    let [r, g, b, _] = bevy::color::Srgba::from(colour).to_u8_array();
    egui::Color32::from_rgb(r, g, b)
}

/// The legend of the current colouring, bottom left of the scene. Returns the area it covers,
/// which asset labels keep clear of.
pub fn legend_ui(
    painter: &egui::Painter,
    scene_rect: egui::Rect,
    world: &PanelWorld,
    colour_by: &ColourBy,
) -> Option<egui::Rect> {
    let (ramp, title, marks): (Ramp, String, Vec<(f32, String)>) = match colour_by {
        ColourBy::Paint => return None,
        ColourBy::AlarmState => (
            Ramp::State,
            "Alarm state (pulsing: unacknowledged)".into(),
            vec![
                (0.0, "normal".into()),
                (0.25, "warning".into()),
                (0.75, "alarm".into()),
            ],
        ),
        ColourBy::Anomaly => (
            Ramp::Anomaly,
            "Anomaly score (pulsing: unacknowledged alarm)".into(),
            vec![
                (0.0, "normal".into()),
                (
                    world.prediction.config.alarm.warning as f32,
                    "warning".into(),
                ),
                (world.prediction.config.alarm.alarm as f32, "alarm".into()),
            ],
        ),
        ColourBy::Freshness => (
            Ramp::Anomaly,
            "Data age (grey: stale)".into(),
            vec![(0.0, "just now".into()), (1.0, "stale timeout".into())],
        ),
        ColourBy::Energy(view) => {
            let account = world.energy.as_ref().and_then(|e| e.account.as_ref())?;
            let has_energy: Vec<bool> = world
                .document
                .layout
                .assets
                .iter()
                .map(|a| a.signals.iter().any(|s| s.energy.is_some()))
                .collect();
            let (_, top) = crate::score_colour::energy_shades(*view, account, &has_energy);
            use crate::score_colour::EnergyView;
            let (title, high) = match view {
                EnergyView::Power => ("Power now (dark: no energy signal)", format!("{top:.1} kW")),
                EnergyView::Energy => (
                    "Energy so far (dark: no energy signal)",
                    format!("{top:.1} kWh"),
                ),
                EnergyView::IdleShare => (
                    "Share of energy drawn idle (dark: not known)",
                    "100 %".to_string(),
                ),
            };
            (
                Ramp::Value,
                title.into(),
                vec![(0.0, "0".into()), (1.0, high)],
            )
        }
        ColourBy::Signal(id) => {
            let signal = world
                .document
                .layout
                .assets
                .iter()
                .find_map(|a| a.signals.iter().find(|s| &s.id == id))?;
            let (low, high) = signal_scale(signal);
            let at = |v: f64| ((v - low) / (high - low).max(1e-12)) as f32;
            let unit = &signal.unit;
            let mut marks = vec![(0.0, format!("{low} {unit}"))];
            marks.push((
                at(signal.normal.1),
                format!("{} {unit} normal max", signal.normal.1),
            ));
            if signal.limits.is_some() {
                marks.push((1.0, format!("{high} {unit} limit")));
            }
            (Ramp::Value, format!("{id} ({})", signal.unit), marks)
        }
    };
    let width = 260.0;
    // Tick labels go on one row while they fit and drop to a second where they would overlap
    // (a normal maximum close to the limit), so none is written over another.
    let font = egui::FontId::proportional(12.0);
    let mut placed: Vec<(f32, egui::Align2, std::sync::Arc<egui::Galley>, f32)> = vec![];
    let mut row_ends = [f32::NEG_INFINITY; 2];
    let mut rows = 1;
    for (at, label) in marks {
        let x = width * at.clamp(0.0, 1.0);
        let galley = painter.layout_no_wrap(label, font.clone(), egui::Color32::WHITE);
        let right_aligned = at >= 0.99;
        let (left, right) = if right_aligned {
            (x - galley.size().x, x)
        } else {
            (x, x + galley.size().x)
        };
        let row = usize::from(left < row_ends[0] + 6.0);
        row_ends[row] = right;
        rows = rows.max(row + 1);
        let align = if right_aligned {
            egui::Align2::RIGHT_TOP
        } else {
            egui::Align2::LEFT_TOP
        };
        placed.push((22.0 + 15.0 * row as f32, align, galley, x));
    }
    let height = 78.0 + 15.0 * (rows - 1) as f32;
    let origin = egui::pos2(scene_rect.min.x + 16.0, scene_rect.max.y - height + 8.0);
    let background = egui::Rect::from_min_size(
        origin - egui::vec2(8.0, 22.0),
        egui::vec2(width + 16.0, height),
    );
    painter.rect_filled(background, 4.0, egui::Color32::from_black_alpha(170));
    painter.text(
        origin - egui::vec2(0.0, 18.0),
        egui::Align2::LEFT_TOP,
        title,
        egui::FontId::proportional(13.0),
        egui::Color32::WHITE,
    );
    let steps = 64;
    for i in 0..steps {
        let x0 = origin.x + width * i as f32 / steps as f32;
        let rect = egui::Rect::from_min_max(
            egui::pos2(x0, origin.y),
            egui::pos2(x0 + width / steps as f32 + 0.5, origin.y + 14.0),
        );
        painter.rect_filled(
            rect,
            0.0,
            egui_colour(ramp_colour(ramp, i as f32 / (steps - 1) as f32)),
        );
    }
    for (label_y, align, galley, x) in placed {
        let x = origin.x + x;
        let tick_end = origin.y + label_y - 2.0;
        painter.line_segment(
            [egui::pos2(x, origin.y), egui::pos2(x, tick_end)],
            egui::Stroke::new(1.0, egui::Color32::WHITE),
        );
        let anchor = egui::pos2(x, origin.y + label_y);
        let rect = align.anchor_size(anchor, galley.size());
        painter.galley(rect.min, galley, egui::Color32::WHITE);
    }
    Some(background)
}

#[cfg(test)]
mod tests {
    use super::interval_text;

    #[test]
    fn an_interval_names_a_shared_unit_once() {
        assert_eq!(interval_text("9 min", "10 min"), "9-10 min");
        assert_eq!(interval_text("50 min", "2 h"), "50 min-2 h");
        assert_eq!(interval_text("now", "3 min"), "now-3 min");
    }
}
