//! Keyboard shortcuts and the help window that lists them (one table for both).

use bevy::prelude::*;
use bevy_egui::egui;
use bevy_egui::input::EguiWantsInput;

use super::{DialogPurpose, FileDialogChannel, UiState, open_file_dialog};
use crate::camera::CameraCommand;
use crate::selection::{SelectAsset, SelectTarget, Selection};

/// Every input the app understands, as shown in the help window.
pub const SHORTCUTS: &[(&str, &str)] = &[
    ("Left drag", "Orbit the camera"),
    ("Right / middle drag, Shift + left drag", "Pan"),
    ("Mouse wheel, + / -", "Zoom"),
    ("W A S D, arrow keys", "Pan"),
    ("Q / E", "Turn left / right"),
    ("Page Up / Page Down", "Tilt up / down"),
    ("Click an asset", "Select it"),
    ("F", "Frame the selected asset"),
    ("Home", "Frame the whole plant"),
    ("Esc", "Clear the selection, close help and diagnostics"),
    ("L", "Show or hide asset labels"),
    ("F2", "Show or hide data diagnostics"),
    ("F3", "Show or hide the alarm list"),
    ("Ctrl + O", "Open a layout file"),
    ("Replay: Space", "Play / pause"),
    ("Replay: , / .", "Step back / forward 10 s"),
    ("Replay: [ / ]", "Previous / next alarm"),
    ("Ctrl + E", "Edit mode on or off (the layout sandbox)"),
    (
        "Edit mode: drag an asset",
        "Move it (and the rest of the selection) on the floor",
    ),
    (
        "Edit mode: R / Shift + R",
        "Turn the selection 15 degrees (with Alt: 1 degree)",
    ),
    (
        "Edit mode: arrow keys",
        "Nudge the selection by the grid step",
    ),
    ("Ctrl + click", "Add to or remove from the selection"),
    ("Ctrl + Z / Ctrl + Shift + Z, Ctrl + Y", "Undo / redo"),
    ("Ctrl + S / Ctrl + Shift + S", "Save / save as"),
    ("F1 or ?", "Show or hide this help"),
];

pub(super) fn help_ui(ui: &mut egui::Ui) {
    egui::Grid::new("shortcuts")
        .num_columns(2)
        .striped(true)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            for (keys, action) in SHORTCUTS {
                ui.strong(*keys);
                ui.label(*action);
                ui.end_row();
            }
        });
    ui.add_space(6.0);
    ui.label("The 3D view ignores the mouse while it is over a panel or window.");
}

#[allow(clippy::too_many_arguments)]
pub(super) fn keyboard_shortcuts(
    keys: Res<ButtonInput<KeyCode>>,
    egui_input: Option<Res<EguiWantsInput>>,
    selection: Res<Selection>,
    mut ui_state: ResMut<UiState>,
    dialogs: Res<FileDialogChannel>,
    mut select: MessageWriter<SelectAsset>,
    mut camera: MessageWriter<CameraCommand>,
    replay: Option<Res<crate::data::replay::ReplayState>>,
    mut replay_intents: MessageWriter<crate::data::replay::ReplayIntent>,
) {
    if egui_input.is_some_and(|input| input.wants_any_keyboard_input()) {
        return;
    }
    if replay.is_some_and(|r| r.session.is_some()) {
        use crate::data::replay::ReplayIntent;
        let step = 10_000;
        for (key, intent) in [
            (KeyCode::Space, ReplayIntent::TogglePlay),
            (KeyCode::Comma, ReplayIntent::Step(-step)),
            (KeyCode::Period, ReplayIntent::Step(step)),
            (KeyCode::BracketLeft, ReplayIntent::PreviousAlarm),
            (KeyCode::BracketRight, ReplayIntent::NextAlarm),
        ] {
            if keys.just_pressed(key) {
                replay_intents.write(intent);
            }
        }
    }
    let ctrl = keys.any_pressed([KeyCode::ControlLeft, KeyCode::ControlRight]);
    let shift = keys.any_pressed([KeyCode::ShiftLeft, KeyCode::ShiftRight]);
    if keys.just_pressed(KeyCode::F1) || (shift && keys.just_pressed(KeyCode::Slash)) {
        ui_state.show_help = !ui_state.show_help;
    }
    if keys.just_pressed(KeyCode::Home) {
        camera.write(CameraCommand::FrameAll);
    }
    if keys.just_pressed(KeyCode::KeyF)
        && let Some(entity) = selection.selected
    {
        select.write(SelectAsset {
            target: SelectTarget::Entity(entity),
            frame: true,
            additive: false,
        });
    }
    if keys.just_pressed(KeyCode::Escape) {
        // Esc closes the help and the diagnostics, as it closes a selection.
        ui_state.show_help = false;
        ui_state.show_diagnostics = false;
    }
    if keys.just_pressed(KeyCode::F2) {
        ui_state.show_diagnostics = !ui_state.show_diagnostics;
    }
    if keys.just_pressed(KeyCode::F3) {
        ui_state.hide_alarms = !ui_state.hide_alarms;
    }
    if keys.just_pressed(KeyCode::KeyL) && !ctrl {
        ui_state.show_labels = !ui_state.show_labels;
    }
    if ctrl && keys.just_pressed(KeyCode::KeyO) {
        open_file_dialog(&mut ui_state, &dialogs, DialogPurpose::OpenLayout);
    }
    if ctrl && keys.just_pressed(KeyCode::KeyS) {
        if shift {
            open_file_dialog(&mut ui_state, &dialogs, DialogPurpose::SaveLayout);
        } else {
            ui_state.save_requested = true;
        }
    }
}
