//! Right panel: everything the layout says about the selected asset.

use bevy_egui::egui;

use super::PanelWorld;
use crate::geometry::plan_from_world;
use crate::layout::Footprint;

pub(super) fn inspector_ui(ui: &mut egui::Ui, world: &PanelWorld) {
    ui.heading("Inspector");
    let Some((spec, transform)) = world
        .selection
        .selected
        .and_then(|entity| world.assets.get(entity).ok())
    else {
        ui.weak("Click an asset in the scene or the list to inspect it.");
        return;
    };
    let asset = &spec.0;
    let layout = &world.document.layout;
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.label(egui::RichText::new(&asset.name).strong().size(16.0));
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
                        match asset.footprint {
                            Footprint::Box {
                                length,
                                width,
                                height,
                            } => format!("box {length} × {width} × {height} m"),
                            Footprint::Cylinder { radius, height } => {
                                format!("cylinder r {radius} m, h {height} m")
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
                    ui.weak("unit");
                    ui.weak("normal");
                    ui.weak("limits");
                    ui.end_row();
                    for signal in &asset.signals {
                        ui.monospace(&signal.id).on_hover_text(
                            signal
                                .component
                                .as_ref()
                                .map_or("asset-level signal".to_string(), |c| {
                                    format!("measures component {c}")
                                }),
                        );
                        ui.label(&signal.unit);
                        ui.label(format!("{} … {}", signal.normal.0, signal.normal.1));
                        ui.label(
                            signal
                                .limits
                                .map_or("—".to_string(), |(lo, hi)| format!("{lo} … {hi}")),
                        );
                        ui.end_row();
                    }
                });
            ui.add_space(6.0);
            ui.weak("Live values appear here once telemetry is connected.");
        });
}
