//! The replay timeline (play, pause, speed, step, seek, alarm markers, wall-clock time) and
//! the record button. Reads the replay and recorder state; writes intents.

use std::sync::atomic::Ordering;

use bevy::prelude::*;
use bevy_egui::egui;

use super::status::{AMBER, GREEN, RED, duration_text};
use crate::data::record::{RecordIntent, RecordingState};
use crate::data::replay::{ReplayIntent, ReplaySession, ReplayState, SPEEDS};
use plant_twin_core::predict::Severity;
use plant_twin_core::record::reader::utc_text;

/// Steps of the step buttons, ms.
const STEP_MS: i64 = 10_000;

/// The bar under the 3D view while a recording is open or opening.
pub(super) fn timeline_ui(
    ui: &mut egui::Ui,
    replay: &ReplayState,
    intents: &mut MessageWriter<ReplayIntent>,
) {
    if let Some(loading) = &replay.loading {
        let progress = loading.progress.load(Ordering::Relaxed) as f32 / 1000.0;
        ui.horizontal(|ui| {
            ui.label(format!("Opening {} …", loading.path.display()));
            ui.add(
                egui::ProgressBar::new(progress)
                    .show_percentage()
                    .desired_width(ui.available_width()),
            );
        });
        return;
    }
    if let Some(error) = &replay.error {
        ui.colored_label(RED, format!("Recording not opened: {error}"));
    }
    let Some(session) = &replay.session else {
        return;
    };
    ui.horizontal(|ui| {
        controls_ui(ui, session, intents);
    });
    timeline_bar_ui(ui, session, intents);
}

fn controls_ui(
    ui: &mut egui::Ui,
    session: &ReplaySession,
    intents: &mut MessageWriter<ReplayIntent>,
) {
    ui.strong("REPLAY");
    let busy = !session.ready() || session.indexing;
    ui.add_enabled_ui(!busy, |ui| {
        if ui.button("⏮").on_hover_text("Previous alarm").clicked() {
            intents.write(ReplayIntent::PreviousAlarm);
        }
        if ui.button("◀ 10 s").on_hover_text("Step back").clicked() {
            intents.write(ReplayIntent::Step(-STEP_MS));
        }
        let play = if session.playing {
            "⏸ Pause"
        } else {
            "▶ Play"
        };
        if ui
            .button(play)
            .on_hover_text("Play / pause (Space)")
            .clicked()
        {
            intents.write(ReplayIntent::TogglePlay);
        }
        if ui.button("10 s ▶").on_hover_text("Step forward").clicked() {
            intents.write(ReplayIntent::Step(STEP_MS));
        }
        if ui.button("⏭").on_hover_text("Next alarm").clicked() {
            intents.write(ReplayIntent::NextAlarm);
        }
        let speed_text = |speed: Option<f64>| match speed {
            Some(s) if s < 1.0 => format!("{s}x"),
            Some(s) => format!("{s:.0}x"),
            None => "max".to_string(),
        };
        egui::ComboBox::from_id_salt("replay_speed")
            .selected_text(speed_text(session.speed))
            .width(64.0)
            .show_ui(ui, |ui| {
                for speed in SPEEDS {
                    if ui
                        .selectable_label(session.speed == Some(speed), speed_text(Some(speed)))
                        .clicked()
                    {
                        intents.write(ReplayIntent::SetSpeed(Some(speed)));
                    }
                }
            });
    });
    ui.separator();
    let position = session.position_ms.max(session.start_ms);
    ui.monospace(format!("{} UTC", utc_text(position as u64 * 1_000_000)));
    ui.monospace(format!(
        "{} / {}",
        duration_text((position - session.start_ms) as f64 / 1000.0),
        duration_text((session.end_ms - session.start_ms) as f64 / 1000.0)
    ));
    if session.indexing {
        ui.colored_label(
            AMBER,
            format!(
                "indexing alarms and checkpoints {:.0} %",
                session.fraction() * 100.0
            ),
        );
    } else if session.target_ms.is_some() {
        ui.colored_label(AMBER, "seeking…");
    }
    let recording = session.recording();
    ui.separator();
    ui.label(format!(
        "{} alarms · {}",
        session.markers.len(),
        recording
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ))
    .on_hover_text(format!(
        "{} messages on {} topics, {} checkpoints, {} messages decoded so far{}",
        recording.message_count(),
        recording.channels.len(),
        session.checkpoint_count(),
        session.messages_fed(),
        match session.read_errors() {
            0 => String::new(),
            n => format!(", {n} chunks unreadable (skipped)"),
        }
    ));
    if let Some(damage) = &recording.damage {
        ui.colored_label(AMBER, "⚠ damaged file")
            .on_hover_text(format!("{damage}; replaying what it holds"));
    }
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
        if ui
            .button("Close replay")
            .on_hover_text("Back to the live plant and data")
            .clicked()
        {
            intents.write(ReplayIntent::Close);
        }
    });
}

/// The bar: played part, alarm markers, playhead; click or drag to seek.
fn timeline_bar_ui(
    ui: &mut egui::Ui,
    session: &ReplaySession,
    intents: &mut MessageWriter<ReplayIntent>,
) {
    let width = ui.available_width();
    let (rect, response) =
        ui.allocate_exact_size(egui::vec2(width, 22.0), egui::Sense::click_and_drag());
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    painter.rect_filled(rect, 3.0, visuals.extreme_bg_color);
    let span = (session.end_ms - session.start_ms).max(1) as f32;
    let x_of = |time_ms: i64| {
        rect.left() + rect.width() * ((time_ms - session.start_ms) as f32 / span).clamp(0.0, 1.0)
    };
    let played =
        egui::Rect::from_min_max(rect.min, egui::pos2(x_of(session.position_ms), rect.max.y));
    painter.rect_filled(played, 3.0, visuals.selection.bg_fill.gamma_multiply(0.5));
    for marker in &session.markers {
        let colour = match marker.severity {
            Severity::Alarm => RED,
            Severity::Warning => AMBER,
            Severity::Normal => GREEN,
        };
        let x = x_of(marker.time_ms);
        painter.line_segment(
            [
                egui::pos2(x, rect.top() + 2.0),
                egui::pos2(x, rect.bottom() - 2.0),
            ],
            egui::Stroke::new(2.0, colour),
        );
    }
    let head = x_of(session.position_ms);
    painter.line_segment(
        [
            egui::pos2(head, rect.top()),
            egui::pos2(head, rect.bottom()),
        ],
        egui::Stroke::new(3.0, visuals.strong_text_color()),
    );
    let time_at = |x: f32| {
        let fraction = ((x - rect.left()) / rect.width()).clamp(0.0, 1.0);
        session.start_ms + (fraction * span).round() as i64
    };
    let response = response.on_hover_ui_at_pointer(|ui| {
        if let Some(pointer) = ui.ctx().pointer_hover_pos() {
            let time = time_at(pointer.x);
            ui.label(format!("{} UTC", utc_text(time as u64 * 1_000_000)));
            // The markers under the pointer (within 3 px).
            for marker in session
                .markers
                .iter()
                .filter(|m| (x_of(m.time_ms) - pointer.x).abs() <= 3.0)
                .take(5)
            {
                let component = marker
                    .component
                    .as_deref()
                    .map(|c| format!(" / {c}"))
                    .unwrap_or_default();
                ui.label(format!(
                    "{:?}: {}{component}",
                    marker.severity, marker.asset
                ));
            }
        }
    });
    let busy = !session.ready() || session.indexing;
    if !busy
        && (response.clicked() || response.drag_stopped())
        && let Some(pointer) = response.interact_pointer_pos()
    {
        intents.write(ReplayIntent::Seek(time_at(pointer.x)));
    }
}

/// The record button, or the running recording's time and size with a stop button.
pub(super) fn record_ui(
    ui: &mut egui::Ui,
    recording: &RecordingState,
    replaying: bool,
    intents: &mut MessageWriter<RecordIntent>,
) {
    match &recording.recorder {
        Some(recorder) => {
            let elapsed = recorder.started.elapsed().as_secs_f64();
            let megabytes = recorder.bytes() as f64 / 1e6;
            ui.colored_label(
                RED,
                format!("⏺ REC {}  {megabytes:.1} MB", duration_text(elapsed)),
            )
            .on_hover_text(format!(
                "Recording to {}: {} messages{}",
                recorder.path.display(),
                recorder.messages(),
                match recorder.dropped() {
                    0 => String::new(),
                    n => format!(", {n} dropped (the disk could not keep up)"),
                }
            ));
            if let Some(failure) = recorder.failure() {
                ui.colored_label(RED, failure);
            }
            if ui.button("⏹ Stop").clicked() {
                intents.write(RecordIntent::Stop);
            }
        }
        None => {
            let button = ui
                .add_enabled(!replaying, egui::Button::new("⏺ Record"))
                .on_hover_text("Record the raw telemetry to recordings/ (MCAP; opens in Foxglove)");
            if button.clicked() {
                intents.write(RecordIntent::StartDefault);
            }
            if let Some(last) = &recording.last {
                match last {
                    Ok((path, finished)) => {
                        ui.weak(format!(
                            "saved {} ({} messages)",
                            path.display(),
                            finished.messages
                        ));
                    }
                    Err(error) => {
                        ui.colored_label(RED, error);
                    }
                }
            }
        }
    }
}
