//! The data source on screen: the status-bar indicator, the outage strip over the 3D view, and
//! the diagnostics window (connection, rates, problems per topic).

use bevy_egui::egui;

use crate::data::telemetry::{IngestStatus, LinkState};
use plant_twin_core::telemetry::now_ms;

/// `HH:MM:SS UTC` of a time in ms since the epoch.
pub fn clock(ms: i64) -> String {
    let seconds = ms.div_euclid(1000).rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02} UTC",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

/// "42 s", "3 min 5 s", "2 h 10 min".
pub fn duration_text(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

/// The UI's state colours: good, attention, act now.
pub(super) const GREEN: egui::Color32 = egui::Color32::from_rgb(80, 200, 120);
pub(super) const AMBER: egui::Color32 = egui::Color32::from_rgb(240, 180, 40);
pub(super) const RED: egui::Color32 = egui::Color32::from_rgb(235, 80, 70);
/// Recorded data: not green, which means live.
pub(super) const REPLAY_BLUE: egui::Color32 = egui::Color32::from_rgb(110, 170, 255);

fn state_colour(status: &IngestStatus) -> egui::Color32 {
    match status.state {
        LinkState::Connected => GREEN,
        LinkState::Connecting | LinkState::Idle => AMBER,
        LinkState::Reconnecting | LinkState::Stopped => RED,
    }
}

fn state_text(status: &IngestStatus) -> String {
    match status.state {
        LinkState::Idle => "no data source".into(),
        LinkState::Connecting => format!("connecting to {}", status.source),
        LinkState::Connected => status.source.clone(),
        LinkState::Reconnecting => format!(
            "{}: reconnecting since {} (attempt {})",
            status.source,
            clock(status.since_ms),
            status.reconnect_attempt
        ),
        LinkState::Stopped => format!("{}: stopped", status.source),
    }
}

/// The status-bar part: a coloured dot, the source, rates and the problem count (a button that
/// opens the diagnostics).
/// The data source in the status bar; `replay` (playing, speed) replaces the live link's dot
/// and rate while a recording is open, so a replay never looks like live data.
pub(super) fn status_indicator_ui(
    ui: &mut egui::Ui,
    status: &IngestStatus,
    replay: Option<(bool, Option<f64>)>,
    show_diagnostics: &mut bool,
) {
    match replay {
        Some((playing, speed)) => {
            ui.colored_label(REPLAY_BLUE, "REPLAY");
            ui.label(match (playing, speed) {
                (false, _) => "paused".to_string(),
                (true, Some(speed)) => format!("playing {speed}x"),
                (true, None) => "playing as fast as possible".to_string(),
            });
        }
        None => {
            ui.colored_label(state_colour(status), "⏺");
            ui.label(state_text(status));
            if status.plaintext_over_network {
                ui.label(
                    egui::RichText::new("UNENCRYPTED")
                        .strong()
                        .color(egui::Color32::BLACK)
                        .background_color(AMBER),
                )
                .on_hover_text(
                    "Connected without TLS to a broker on another machine: anyone on the network \
                     can read and inject plant data. Use mqtts:// (see docs/telemetry.md).",
                );
            }
            if status.state == LinkState::Connected {
                ui.label(format!("{:.0} msg/s", status.messages_per_s));
            }
        }
    }
    if status.security_events > 0 {
        let text = egui::RichText::new(format!("{} security events", status.security_events))
            .strong()
            .color(egui::Color32::WHITE)
            .background_color(RED);
        if ui
            .button(text)
            .on_hover_text(
                "Unknown publishers, commands written, replays or floods: Diagnostics (F2)",
            )
            .clicked()
        {
            *show_diagnostics = true;
        }
    }
    let problems = status.problems;
    let text = if problems == 0 {
        egui::RichText::new("no data problems")
    } else {
        egui::RichText::new(format!("{problems} data problems")).color(AMBER)
    };
    if ui.button(text).on_hover_text("Diagnostics (F2)").clicked() {
        *show_diagnostics = !*show_diagnostics;
    }
}

/// A strip across the top of the 3D view while the source is unreachable.
/// The strip across the scene's top while the data source is lost; returns the area it covers.
pub(super) fn outage_strip_ui(
    painter: &egui::Painter,
    rect: egui::Rect,
    status: &IngestStatus,
) -> Option<egui::Rect> {
    if !matches!(status.state, LinkState::Reconnecting | LinkState::Stopped) {
        return None;
    }
    let now = now_ms();
    let mut text = format!(
        "DATA SOURCE LOST since {} ({} ago) - {}",
        clock(status.since_ms),
        duration_text((now - status.since_ms) as f64 / 1000.0),
        if status.state == LinkState::Reconnecting {
            "reconnecting; showing the last known values"
        } else {
            "stopped"
        }
    );
    if let Some((_, error)) = &status.last_error {
        text.push_str(&format!("  ·  {error}"));
    }
    let strip = egui::Rect::from_min_size(rect.min, egui::vec2(rect.width(), 30.0));
    painter.rect_filled(strip, 0.0, egui::Color32::from_rgb(150, 30, 25));
    painter.text(
        strip.left_center() + egui::vec2(10.0, 0.0),
        egui::Align2::LEFT_CENTER,
        text,
        egui::FontId::proportional(15.0),
        egui::Color32::WHITE,
    );
    Some(strip)
}

pub(super) fn diagnostics_ui(ui: &mut egui::Ui, status: &IngestStatus) {
    egui::Grid::new("connection").num_columns(2).show(ui, |ui| {
        ui.weak("Source");
        ui.label(&status.source);
        ui.end_row();
        ui.weak("State");
        ui.colored_label(
            state_colour(status),
            format!("{:?} since {}", status.state, clock(status.since_ms)),
        );
        ui.end_row();
        ui.weak("Subscriptions");
        ui.label(if status.subscriptions.is_empty() {
            "—".to_string()
        } else {
            status.subscriptions.join("\n")
        });
        ui.end_row();
        ui.weak("Messages");
        let queued = match status.backlog_events {
            0 => String::new(),
            queued => format!(", {queued} queued"),
        };
        ui.label(format!(
            "{} ({:.0}/s{queued})",
            status.messages, status.messages_per_s
        ));
        ui.end_row();
        ui.weak("Samples");
        ui.label(format!(
            "{} ({:.0}/s)",
            status.samples, status.samples_per_s
        ));
        ui.end_row();
        ui.weak("Last error");
        ui.label(
            status
                .last_error
                .as_ref()
                .map_or("—".to_string(), |(time, error)| {
                    format!("{}: {error}", clock(*time))
                }),
        );
        ui.end_row();
    });
    ui.separator();
    let problem_topics = status.problem_topics();
    ui.strong(format!("Topics with problems ({})", problem_topics.len()));
    if problem_topics.is_empty() {
        ui.weak("Every message so far decoded and mapped.");
    }
    egui::ScrollArea::vertical()
        .id_salt("problem_topics")
        .max_height(260.0)
        .show(ui, |ui| {
            egui::Grid::new("problems")
                .num_columns(3)
                .striped(true)
                .show(ui, |ui| {
                    ui.weak("topic");
                    ui.weak("problems");
                    ui.weak("last");
                    ui.end_row();
                    for (topic, counters) in problem_topics.iter().take(200) {
                        let topic: &str = topic;
                        ui.monospace(topic);
                        ui.label(
                            counters
                                .problems
                                .iter()
                                .map(|(kind, count)| format!("{count} {kind}"))
                                .collect::<Vec<_>>()
                                .join(", "),
                        );
                        ui.weak(counters.last_problem.as_deref().unwrap_or(""));
                        ui.end_row();
                    }
                });
        });
    ui.separator();
    // Who talks to the plant: what the traffic baseline found, newest first.
    ui.strong(format!("Security events ({})", status.security_events));
    if status.security.is_empty() {
        ui.weak("Nothing unusual: only known publishers, at their usual rates, no commands.");
    }
    egui::ScrollArea::vertical()
        .id_salt("security_events")
        .max_height(200.0)
        .show(ui, |ui| {
            egui::Grid::new("security")
                .num_columns(4)
                .striped(true)
                .show(ui, |ui| {
                    for event in status.security.iter().rev().take(100) {
                        ui.label(clock(event.time_ms));
                        ui.colored_label(RED, event.kind.label());
                        ui.monospace(event.source.as_str());
                        ui.weak(event.detail.as_str());
                        ui.end_row();
                    }
                });
        });
    ui.separator();
    ui.strong("Connection log");
    egui::ScrollArea::vertical()
        .id_salt("connection_log")
        .max_height(160.0)
        .stick_to_bottom(true)
        .show(ui, |ui| {
            for (time, line) in &status.log {
                ui.label(format!("{}  {line}", clock(*time)));
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_well() {
        assert_eq!(clock(0), "00:00:00 UTC");
        assert_eq!(
            clock((14 * 3600 + 2 * 60 + 11) * 1000 + 999),
            "14:02:11 UTC"
        );
        assert_eq!(duration_text(42.2), "42 s");
        assert_eq!(duration_text(185.0), "3 min 5 s");
        assert_eq!(duration_text(7800.0), "2 h 10 min");
    }
}
