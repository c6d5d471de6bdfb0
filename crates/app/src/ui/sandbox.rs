//! The layout sandbox on screen: the edit toolbar, Edit and File menu entries, the clearance
//! window, labels on violations, and the questions asked before losing or overwriting work.

use bevy::prelude::*;
use bevy::window::WindowCloseRequested;
use bevy_egui::egui;

use super::status::RED;
use super::{
    DialogPurpose, FileDialogChannel, PanelIntents, PanelWorld, UiState, open_file_dialog,
};
use crate::sandbox::{DropPolicy, EditIntent, EditMode, Sandbox, current_diff};
use crate::selection::{SelectAsset, SelectTarget};
use plant_twin_core::clearance::Neighbour;
use plant_twin_core::sandbox::history::Placement;

fn editing(world: &PanelWorld) -> bool {
    *world.edit_mode.get() == EditMode::Editing
}

pub(super) fn toolbar_ui(
    ui: &mut egui::Ui,
    world: &PanelWorld,
    intents: &mut PanelIntents,
    ui_state: &mut UiState,
) {
    let sandbox = &world.sandbox;
    if !sandbox.editable() {
        ui.weak("read-only");
        return;
    }
    let mut on = editing(world);
    if ui
        .toggle_value(&mut on, "✏ Edit layout")
        .on_hover_text(
            "Ctrl+E: drag, turn and snap equipment (a what-if; nothing is sent to the plant)",
        )
        .changed()
    {
        intents.next_mode.set(if on {
            EditMode::Editing
        } else {
            EditMode::Viewing
        });
    }
    if !on {
        return;
    }
    ui.label("Grid");
    let mut step = sandbox.grid_step;
    egui::ComboBox::from_id_salt("grid_step")
        .selected_text(if step > 0.0 {
            format!("{step} m")
        } else {
            "off".into()
        })
        .width(64.0)
        .show_ui(ui, |ui| {
            for option in [0.0, 0.1, 0.25, 0.5, 1.0] {
                let text = if option > 0.0 {
                    format!("{option} m")
                } else {
                    "off".into()
                };
                ui.selectable_value(&mut step, option, text);
            }
        });
    let mut policy = sandbox.drop_policy;
    ui.selectable_value(&mut policy, DropPolicy::AllowAndFlag, "Allow and flag")
        .on_hover_text(
            "A drop with clearance violations stays where it is; the violations are listed",
        );
    ui.selectable_value(&mut policy, DropPolicy::RefuseDrop, "Refuse the drop")
        .on_hover_text("A drop with clearance violations goes back where the drag started");
    if step != sandbox.grid_step || policy != sandbox.drop_policy {
        intents.edit.write(EditIntent::Settings {
            grid_step: step,
            drop_policy: policy,
        });
    }
    let violations = sandbox.violations.len();
    let text = if violations == 0 {
        egui::RichText::new("no clearance violations")
    } else {
        egui::RichText::new(format!("{violations} clearance violations")).color(RED)
    };
    if ui.button(text).clicked() {
        ui_state.show_clearance = !ui_state.show_clearance;
    }
    if sandbox.dirty {
        ui.colored_label(egui::Color32::from_rgb(240, 180, 40), "● unsaved");
    }
}

pub(super) fn edit_menu_ui(
    ui: &mut egui::Ui,
    world: &PanelWorld,
    intents: &mut PanelIntents,
    ui_state: &mut UiState,
) {
    ui.menu_button("Edit", |ui| {
        let sandbox = &world.sandbox;
        let on = editing(world);
        let steps = [
            (
                "Undo",
                "Ctrl+Z",
                sandbox.history.undo_label(),
                EditIntent::Undo,
            ),
            (
                "Redo",
                "Ctrl+Shift+Z",
                sandbox.history.redo_label(),
                EditIntent::Redo,
            ),
        ];
        for (verb, keys, label, intent) in steps {
            let text = label.map_or(verb.to_string(), |label| {
                format!("{verb} {label}  ({keys})")
            });
            if ui
                .add_enabled(on && label.is_some(), egui::Button::new(text))
                .clicked()
            {
                intents.edit.write(intent);
            }
        }
        ui.separator();
        if ui.button("Clearance violations…").clicked() {
            ui_state.show_clearance = true;
        }
    });
}

pub(super) fn file_menu_ui(
    ui: &mut egui::Ui,
    world: &PanelWorld,
    intents: &mut PanelIntents,
    ui_state: &mut UiState,
    dialogs: &FileDialogChannel,
) {
    let _ = intents;
    let has_path = world.sandbox.save_path.is_some();
    if ui
        .add_enabled(has_path, egui::Button::new("Save layout  (Ctrl+S)"))
        .clicked()
    {
        ui_state.save_requested = true;
    }
    if ui.button("Save layout as…  (Ctrl+Shift+S)").clicked() {
        open_file_dialog(ui_state, dialogs, DialogPurpose::SaveLayout);
    }
    if ui.button("Save layout as (type a path)…").clicked() {
        ui_state.show_save_as = true;
    }
    if ui.button("Export changes against the baseline…").clicked() {
        open_file_dialog(ui_state, dialogs, DialogPurpose::ExportDiff);
    }
}

/// Distance labels at the middle of each violation's closest points.
pub(super) fn violation_labels_ui(painter: &egui::Painter, world: &PanelWorld) {
    if world.sandbox.violations.is_empty() || !editing(world) {
        return;
    }
    let Ok((camera, camera_transform)) = world.cameras.single() else {
        return;
    };
    for violation in world.sandbox.violations.iter().take(100) {
        let Some((a, b)) = violation.points else {
            continue;
        };
        let middle = Vec3::new(
            (a.x + b.x) * 0.5,
            (a.y + b.y) * 0.5 + 0.3,
            (a.z + b.z) * 0.5,
        );
        let Ok(screen) = camera
            .world_to_viewport(camera_transform, middle)
            .map(|p| world.scene_target.window_from_camera(p))
        else {
            continue;
        };
        let text = violation.short_text();
        let galley =
            painter.layout_no_wrap(text, egui::FontId::proportional(14.0), egui::Color32::WHITE);
        let rect = egui::Rect::from_center_size(
            egui::pos2(screen.x, screen.y),
            galley.size() + egui::vec2(10.0, 4.0),
        );
        painter.rect_filled(
            rect,
            3.0,
            egui::Color32::from_rgba_unmultiplied(160, 30, 25, 220),
        );
        painter.galley(
            rect.min + egui::vec2(5.0, 2.0),
            galley,
            egui::Color32::WHITE,
        );
    }
}

pub(super) fn windows_ui(
    ctx: &egui::Context,
    world: &PanelWorld,
    intents: &mut PanelIntents,
    ui_state: &mut UiState,
    dialogs: &FileDialogChannel,
) {
    let sandbox = &world.sandbox;
    let layout = &world.document.layout;

    if ui_state.show_clearance {
        let mut open = true;
        egui::Window::new("Clearance violations")
            .open(&mut open)
            .default_width(460.0)
            .show(ctx, |ui| {
                if sandbox.dragging() {
                    ui.weak("While dragging: the moved assets' violations.");
                }
                if let Some(refusal) = &sandbox.last_refusal {
                    ui.colored_label(RED, refusal);
                }
                if sandbox.violations.is_empty() {
                    ui.label("Every asset keeps its clearance.");
                }
                egui::ScrollArea::vertical()
                    .max_height(320.0)
                    .show(ui, |ui| {
                        for violation in &sandbox.violations {
                            let text = violation.describe(layout);
                            if ui.link(text).clicked()
                                && let Some(entity) = world.index.at(violation.asset as u32)
                            {
                                intents.select.write(SelectAsset {
                                    target: SelectTarget::Entity(entity),
                                    frame: true,
                                    additive: false,
                                });
                            }
                            if let Neighbour::Asset(_) = violation.neighbour {
                                // Already named in the text; nothing more to show.
                            }
                        }
                    });
            });
        ui_state.show_clearance = open;
    }

    if ui_state.save_requested {
        ui_state.save_requested = false;
        match &sandbox.save_path {
            Some(path) if sandbox.save_overwrites_baseline(&world.document) => {
                ui_state.confirm_overwrite = Some(path.clone());
            }
            Some(path) => {
                intents
                    .edit
                    .write(EditIntent::SaveAs { path: path.clone() });
            }
            None => open_file_dialog(ui_state, dialogs, DialogPurpose::SaveLayout),
        }
    }

    if let Some(path) = ui_state.confirm_overwrite.clone() {
        let mut decided = false;
        egui::Window::new("Overwrite the baseline?")
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                ui.label(format!(
                    "{} is the layout that was loaded. Overwrite it with the edited layout?",
                    path.display()
                ));
                ui.horizontal(|ui| {
                    if ui.button("Overwrite").clicked() {
                        intents
                            .edit
                            .write(EditIntent::SaveAs { path: path.clone() });
                        decided = true;
                    }
                    if ui.button("Save as…").clicked() {
                        open_file_dialog(ui_state, dialogs, DialogPurpose::SaveLayout);
                        decided = true;
                    }
                    if ui.button("Cancel").clicked() {
                        decided = true;
                    }
                });
            });
        if decided {
            ui_state.confirm_overwrite = None;
        }
    }

    if ui_state.show_save_as {
        let mut open = true;
        egui::Window::new("Save layout as")
            .open(&mut open)
            .collapsible(false)
            .show(ctx, |ui| {
                ui.label("Path of the new layout file:");
                ui.text_edit_singleline(&mut ui_state.typed_save_path);
                if ui.button("Save").clicked() && !ui_state.typed_save_path.trim().is_empty() {
                    intents.edit.write(EditIntent::SaveAs {
                        path: ui_state.typed_save_path.trim().into(),
                    });
                    ui_state.show_save_as = false;
                }
            });
        ui_state.show_save_as &= open;
    }

    if let Some((path, outcome)) = &sandbox.last_saved
        && outcome != "saved"
    {
        egui::Window::new("Layout not saved")
            .collapsible(false)
            .show(ctx, |ui| {
                ui.colored_label(RED, format!("{}: {outcome}", path.display()));
            });
    }

    if let Some(path) = ui_state.export_diff_to.take() {
        let diff = current_diff(&world.document, &world.specs, &world.index);
        let text = if path.extension().is_some_and(|e| e == "csv") {
            diff.to_csv()
        } else {
            diff.to_markdown(&world.document.source.to_string())
        };
        if let Err(error) = plant_twin_core::files::write_atomic(&path, text.as_bytes()) {
            warn!("changes not exported to {}: {error}", path.display());
        }
    }

    if ui_state.confirm_quit {
        egui::Window::new("Unsaved layout changes")
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                ui.label("The layout has edits that are not saved.");
                ui.horizontal(|ui| {
                    if ui.button("Save as…").clicked() {
                        open_file_dialog(ui_state, dialogs, DialogPurpose::SaveLayout);
                        ui_state.confirm_quit = false;
                    }
                    if ui.button("Quit without saving").clicked() {
                        intents.exit.write(AppExit::Success);
                    }
                    if ui.button("Cancel").clicked() {
                        ui_state.confirm_quit = false;
                    }
                });
            });
    }
}

/// The window's close button: quit at once, or ask first when edits are unsaved.
pub(super) fn ask_before_closing(
    mut requests: MessageReader<WindowCloseRequested>,
    sandbox: Res<Sandbox>,
    mut ui_state: ResMut<UiState>,
    mut exit: MessageWriter<AppExit>,
) {
    if requests.read().next().is_none() {
        return;
    }
    if sandbox.dirty {
        ui_state.confirm_quit = true;
    } else {
        exit.write(AppExit::Success);
    }
}

/// Exact placement of the selected asset, typed in the inspector; one command when applied.
pub(super) fn typed_placement_ui(
    ui: &mut egui::Ui,
    entity: Entity,
    current: Placement,
    ui_state: &mut UiState,
    edit: &mut MessageWriter<EditIntent>,
) {
    // Typed values only stand while the asset stays where the typing started: after a drag, a
    // turn or an undo they would move it back.
    let typed = match ui_state.typed_placement {
        Some((typed_entity, base, typed)) if typed_entity == entity && base == current => typed,
        _ => (current.position.0, current.position.1, current.rotation_deg),
    };
    let (mut x, mut y, mut rotation) = typed;
    ui.horizontal(|ui| {
        ui.label("x");
        ui.add(
            egui::DragValue::new(&mut x)
                .speed(0.05)
                .suffix(" m")
                .fixed_decimals(3),
        );
        ui.label("y");
        ui.add(
            egui::DragValue::new(&mut y)
                .speed(0.05)
                .suffix(" m")
                .fixed_decimals(3),
        );
        ui.label("turn");
        ui.add(
            egui::DragValue::new(&mut rotation)
                .speed(1.0)
                .suffix("°")
                .fixed_decimals(1),
        );
    });
    ui_state.typed_placement = Some((entity, current, (x, y, rotation)));
    let changed =
        (x, y, rotation) != (current.position.0, current.position.1, current.rotation_deg);
    ui.horizontal(|ui| {
        if ui
            .add_enabled(changed, egui::Button::new("Apply"))
            .clicked()
        {
            edit.write(EditIntent::Place {
                entity,
                placement: Placement {
                    position: (x, y),
                    rotation_deg: rotation,
                },
            });
        }
        if ui
            .add_enabled(changed, egui::Button::new("Reset"))
            .clicked()
        {
            ui_state.typed_placement = None;
        }
    });
}
