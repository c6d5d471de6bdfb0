//! The material flow window: transport effort now and against the loaded layout, the flows
//! heaviest first, the distance measure, and the layout optimiser (run, progress, accept or
//! discard). Reads `MaterialFlows`, writes `FlowIntent`s.

use bevy::prelude::*;
use bevy_egui::egui;

use crate::flows::{FlowIntent, MaterialFlows, handling_colour};
use plant_twin_core::optimise::flow::DistanceMetric;

/// "12,430": thousands separated, for efforts read at a glance.
pub(super) fn grouped(value: f64) -> String {
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if value < -0.5 {
        out.insert(0, '-');
    }
    out
}

/// "12,430 m x parts/h + 1,025 m x pallets/h": the effort per unit.
fn totals(flows: &MaterialFlows) -> String {
    flows
        .current
        .by_unit
        .iter()
        .map(|(unit, total)| format!("{} {}", grouped(*total), unit.label()))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// "transport effort 12,430 m x parts/h, -8.0 % against the loaded layout".
pub(super) fn effort_summary(flows: &MaterialFlows) -> Option<String> {
    (!flows.current.legs.is_empty()).then(|| {
        format!(
            "transport effort {}, {:+.1} % against the loaded layout",
            totals(flows),
            flows.change_percent()
        )
    })
}

/// The edit toolbar's version, change first so a narrow window still shows it:
/// "effort -8.0 % (12,430 m x parts/h)".
pub(super) fn effort_toolbar_ui(ui: &mut egui::Ui, flows: &MaterialFlows) {
    let Some(summary) = effort_summary(flows) else {
        return;
    };
    ui.separator();
    ui.label(format!(
        "effort {:+.1} % ({})",
        flows.change_percent(),
        totals(flows)
    ))
    .on_hover_text(summary);
}

/// Optimiser time the window offers, seconds.
const OPTIMISE_SECONDS: [f64; 4] = [5.0, 15.0, 60.0, 300.0];

pub(super) fn flows_window_ui(
    ctx: &egui::Context,
    flows: &MaterialFlows,
    layout: &plant_twin_core::layout::PlantLayout,
    editable: bool,
    now_s: f64,
    seconds: &mut f64,
    intents: &mut MessageWriter<FlowIntent>,
) {
    let mut open = flows.show;
    egui::Window::new("Material flows")
        .open(&mut open)
        .default_width(480.0)
        .default_pos(egui::pos2(300.0, 80.0))
        .show(ctx, |ui| {
            if layout.flows.is_empty() {
                ui.label("This layout has no material flows.");
                ui.weak("Add `flows: [(from: \"a\", to: \"b\", amount_per_hour: 10.0)]` to the layout file (docs/layout-format.md).");
                return;
            }
            if let Some(summary) = effort_summary(flows) {
                ui.strong(summary);
            }
            ui.horizontal(|ui| {
                ui.label("Distances");
                let mut metric = flows.metric;
                for (choice, text, hover) in [
                    (DistanceMetric::Aisle, "along the aisles", "Shortest path on the free floor, around equipment and keep-out zones"),
                    (DistanceMetric::Rectilinear, "rectilinear", "Along x, then along y"),
                    (DistanceMetric::Straight, "straight", "As the crow flies"),
                ] {
                    ui.selectable_value(&mut metric, choice, text).on_hover_text(hover);
                }
                if metric != flows.metric {
                    intents.write(FlowIntent::Metric(metric));
                }
            });
            ui.separator();
            optimiser_ui(ui, flows, editable, now_s, seconds, intents);
            ui.separator();
            // A third of the screen at most, so the ribbons stay in view on small screens.
            let table_height = (ctx.content_rect().height() * 0.3).max(120.0);
            flow_table_ui(ui, flows, layout, table_height);
        });
    if open != flows.show {
        intents.write(FlowIntent::Show(open));
    }
}

fn optimiser_ui(
    ui: &mut egui::Ui,
    flows: &MaterialFlows,
    editable: bool,
    now_s: f64,
    seconds: &mut f64,
    intents: &mut MessageWriter<FlowIntent>,
) {
    if let Some(job) = &flows.job {
        let elapsed = (now_s - job.started_s).max(0.0);
        ui.horizontal(|ui| {
            ui.add(
                egui::ProgressBar::new((elapsed / job.seconds.max(0.1)).clamp(0.0, 1.0) as f32)
                    .desired_width(220.0)
                    .text(format!("optimising, {elapsed:.0} of {:.0} s", job.seconds)),
            );
            if ui.button("Cancel").clicked() {
                intents.write(FlowIntent::Cancel);
            }
        });
        ui.weak(format!(
            "{} better arrangements so far; ghosts show the best",
            job.improvements
        ));
        return;
    }
    match &flows.outcome {
        Some(Ok(proposal))
            if !proposal.moves.is_empty() && proposal.effort_after < proposal.effort_before =>
        {
            ui.strong(format!(
                "Proposal: {} assets move, effort {} -> {} ({:+.1} %), every clearance kept",
                proposal.moves.len(),
                grouped(proposal.effort_before),
                grouped(proposal.effort_after),
                proposal.change_percent()
            ));
            ui.horizontal(|ui| {
                let accept = ui
                    .add_enabled(editable, egui::Button::new("Accept"))
                    .on_hover_text("Move the assets to the ghosts' places (one undo step)")
                    .on_disabled_hover_text("The layout is read-only here");
                if accept.clicked() {
                    intents.write(FlowIntent::Accept);
                }
                if ui.button("Discard").clicked() {
                    intents.write(FlowIntent::Discard);
                }
            });
            return;
        }
        Some(Ok(_)) => {
            ui.label("No feasible improvement found: the layout stays as it is.");
        }
        Some(Err(error)) => {
            ui.colored_label(egui::Color32::LIGHT_RED, error);
        }
        None => {}
    }
    ui.horizontal(|ui| {
        let run = ui
            .add_enabled(editable, egui::Button::new("Optimise layout"))
            .on_hover_text(
                "Movable assets (not pinned, with a flow) trade places to lower the effort; \
                 every clearance rule holds. A proposal: nothing moves until you accept it.",
            )
            .on_disabled_hover_text("The layout is read-only here");
        egui::ComboBox::from_id_salt("optimise_seconds")
            .selected_text(format!("{seconds:.0} s"))
            .width(64.0)
            .show_ui(ui, |ui| {
                for option in OPTIMISE_SECONDS {
                    ui.selectable_value(seconds, option, format!("{option:.0} s"));
                }
            });
        if run.clicked() {
            intents.write(FlowIntent::Optimise { seconds: *seconds });
        }
    });
}

fn flow_table_ui(
    ui: &mut egui::Ui,
    flows: &MaterialFlows,
    layout: &plant_twin_core::layout::PlantLayout,
    max_height: f32,
) {
    let mut legs: Vec<_> = flows.current.legs.iter().collect();
    legs.sort_by(|a, b| b.effort.total_cmp(&a.effort));
    egui::ScrollArea::vertical()
        .max_height(max_height)
        .show(ui, |ui| {
            egui::Grid::new("flow_table")
                .striped(true)
                .num_columns(6)
                .show(ui, |ui| {
                    for heading in ["from -> to", "amount/h", "handling", "distance", "effort"] {
                        ui.strong(heading);
                    }
                    ui.end_row();
                    for leg in legs {
                        let Some(flow) = layout.flows.get(leg.flow) else {
                            continue;
                        };
                        let [r, g, b] = handling_colour(flow.handling);
                        let colour = egui::Color32::from_rgb(
                            (r * 255.0) as u8,
                            (g * 255.0) as u8,
                            (b * 255.0) as u8,
                        );
                        ui.colored_label(colour, format!("{} -> {}", flow.from, flow.to));
                        ui.label(format!("{:.1} {}", flow.amount_per_hour, flow.unit.label()));
                        ui.label(flow.handling.map(|h| format!("{h:?}")).unwrap_or_default());
                        let distance = ui.label(format!("{:.1} m", leg.distance_m));
                        if leg.unrouted {
                            distance.on_hover_text(
                                "No route on the free floor: rectilinear distance instead",
                            );
                        }
                        ui.label(grouped(leg.effort));
                        ui.end_row();
                    }
                });
        });
}
