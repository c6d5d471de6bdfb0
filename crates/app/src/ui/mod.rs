//! The egui panels around the 3D view: menu, asset list, inspector, status bar, help, labels.
//! The UI reads the world and writes intents (messages); it owns only presentation state.

mod alarms;
mod asset_list;
mod energy;
mod flows;
mod inspector;
mod labels;
mod sandbox;
mod shortcuts;
mod status;
mod timeline;
mod wall;

use std::path::PathBuf;

use bevy::camera::CameraOutputMode;
use bevy::camera::visibility::RenderLayers;
use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy::render::render_resource::BlendState;
use bevy_egui::{
    EguiContexts, EguiGlobalSettings, EguiPlugin, EguiPrimaryContextPass, PrimaryEguiContext, egui,
};
use crossbeam_channel::{Receiver, Sender};

use crate::camera::{CameraCommand, OrbitCamera, SceneViewport};
use crate::frame::AppSystems;
use crate::plant::{AssetIndex, AssetSpec, LayoutLoadStatus, LoadLayoutRequest, PlantDocument};
use crate::selection::{SelectAsset, SelectTarget, Selection};

pub use shortcuts::SHORTCUTS;

pub struct UiPlugin;

impl Plugin for UiPlugin {
    fn build(&self, app: &mut App) {
        let (dialog_sender, dialog_receiver) = crossbeam_channel::bounded(4);
        app.add_plugins(EguiPlugin::default());
        // egui's shapes with their colours converted per vertex, not per pixel: the same
        // panels, 3-7 ms less a frame under a software renderer (`shaders/egui.wgsl`). It
        // follows bevy_egui 0.42's bindings and vertex layout; the GUI tests' pixel checks
        // of the panels fail if an upgrade changes them.
        crate::shaders::register(
            app,
            &bevy_egui::render::EGUI_SHADER_HANDLE,
            include_str!("../../../../shaders/egui.wgsl"),
            "shaders/egui.wgsl",
        );
        app.insert_resource(UiState {
            show_labels: true,
            ..default()
        })
        .insert_resource(FileDialogChannel {
            sender: dialog_sender,
            receiver: dialog_receiver,
        })
        .init_resource::<FrameStats>()
        .add_systems(Startup, spawn_ui_camera)
        .add_systems(
            Update,
            (
                shortcuts::keyboard_shortcuts,
                forward_dialog_results,
                measure_frame_time,
                sandbox::ask_before_closing,
            )
                .in_set(AppSystems::Input),
        )
        .add_systems(
            Update,
            compose_over_scene
                .after(crate::camera::CameraSystems)
                .in_set(AppSystems::Presentation),
        )
        .add_systems(EguiPrimaryContextPass, panels_ui.in_set(UiSystems));
    }
}

/// How the panels reach the window. Over a 3D view drawn into the window they are blended; when
/// the view is an image drawn under them (`scene_image`), the panels and that image cover every
/// pixel, so they are copied: blending read the window back for nothing (a few ms of a 1080p
/// frame under a software renderer).
///
/// In that case the panels' background is also the panels camera's clear colour, and the panels
/// are painted without a fill ([`panel_frame`]). egui's fills covered about a million pixels at
/// 1080p, each a texture sample and a blend in sRGB under a software renderer; a clear fills
/// tiles without a shader.
fn compose_over_scene(
    target: Res<crate::camera::SceneTarget>,
    mut contexts: EguiContexts,
    mut ui_cameras: Query<&mut Camera, With<PrimaryEguiContext>>,
) {
    let blend_state = match target.image {
        Some(_) => None,
        None => Some(BlendState::ALPHA_BLENDING),
    };
    let clear_color = match (&target.image, contexts.ctx_mut()) {
        (Some(_), Ok(ctx)) => {
            let [r, g, b, a] = ctx
                .global_style()
                .visuals
                .panel_fill
                .to_srgba_unmultiplied();
            ClearColorConfig::Custom(Color::srgba_u8(r, g, b, a))
        }
        _ => ClearColorConfig::Custom(Color::NONE),
    };
    for mut camera in &mut ui_cameras {
        let output_mode = CameraOutputMode::Write {
            blend_state,
            clear_color: ClearColorConfig::None,
        };
        // Written only when it changes: a changed camera is a reason to draw the window.
        if !matches!(camera.output_mode, CameraOutputMode::Write { blend_state: b, .. } if b == blend_state)
        {
            camera.output_mode = output_mode;
        }
        if !same_clear(&camera.clear_color, &clear_color) {
            camera.clear_color = clear_color;
        }
    }
}

fn same_clear(a: &ClearColorConfig, b: &ClearColorConfig) -> bool {
    match (a, b) {
        (ClearColorConfig::Custom(a), ClearColorConfig::Custom(b)) => a == b,
        (ClearColorConfig::Default, ClearColorConfig::Default)
        | (ClearColorConfig::None, ClearColorConfig::None) => true,
        _ => false,
    }
}

/// A docked panel's frame. Over the panels camera's clear (see [`compose_over_scene`]) it has no
/// fill of its own: the clear is the same colour.
fn panel_frame(style: &egui::Style, over_clear: bool) -> egui::Frame {
    let frame = egui::Frame::side_top_panel(style);
    if over_clear {
        frame.fill(egui::Color32::TRANSPARENT)
    } else {
        frame
    }
}

/// Draws the panels; runs in bevy_egui's [`EguiPrimaryContextPass`].
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct UiSystems;

/// Presentation state only: what is open, what is typed in the search box.
#[derive(Resource, Debug, Default)]
pub struct UiState {
    pub search: String,
    /// The asset list's collapsed groups and cached grouping.
    asset_list: asset_list::AssetListState,
    pub show_help: bool,
    pub show_labels: bool,
    pub show_diagnostics: bool,
    /// The load error the user closed, so the same one does not pop up again.
    dismissed_error: Option<String>,
    dialog_open: bool,
    pub show_clearance: bool,
    /// Ask before quitting with unsaved edits.
    confirm_quit: bool,
    /// Ask before overwriting the loaded baseline file.
    confirm_overwrite: Option<PathBuf>,
    /// A path typed for Save As, for machines without a file-dialog portal.
    typed_save_path: String,
    show_save_as: bool,
    export_diff_to: Option<PathBuf>,
    save_requested: bool,
    /// The alarm list is closed (it is open by default).
    pub hide_alarms: bool,
    /// Reload this layout file once the user confirmed what it discards; true when its assets
    /// fit the current models (learned state and alarm history are kept).
    confirm_reload: Option<(PathBuf, bool)>,
    /// What the last spot suggestion did (inspector).
    spot_message: Option<String>,
    /// The energy window is open (View > Energy).
    pub show_energy: bool,
    /// The energy window's load-shift what-if: which asset, by how many hours.
    energy_shift: energy::ShiftChoice,
    /// Seconds the layout optimiser gets (the flow window's choice; 0 until chosen).
    optimise_seconds: f64,
    /// What the alarm list shows: active alarms, shelved ones, or the history.
    pub alarm_tab: alarms::AlarmTab,
    /// Typed placement in the inspector: the asset, the placement the typing started from, and
    /// the typed (x, y, rotation).
    typed_placement: Option<(
        Entity,
        plant_twin_core::sandbox::history::Placement,
        (f32, f32, f32),
    )>,
}

/// Results of native file dialogs, which run on their own thread so the frame loop never waits.
#[derive(Resource)]
struct FileDialogChannel {
    sender: Sender<(DialogPurpose, Option<PathBuf>)>,
    receiver: Receiver<(DialogPurpose, Option<PathBuf>)>,
}

/// Smoothed frame time for the status bar.
#[derive(Resource, Debug, Default)]
pub struct FrameStats {
    pub frame_ms: f32,
}

fn measure_frame_time(time: Res<Time<Real>>, mut stats: ResMut<FrameStats>) {
    let ms = time.delta_secs() * 1000.0;
    stats.frame_ms = if stats.frame_ms == 0.0 {
        ms
    } else {
        stats.frame_ms * 0.95 + ms * 0.05
    };
}

/// egui gets its own camera drawing over the whole window, so the 3D camera's viewport can
/// shrink to the space the panels leave.
fn spawn_ui_camera(mut commands: Commands, mut settings: ResMut<EguiGlobalSettings>) {
    settings.auto_create_primary_context = false;
    commands.spawn((
        Name::new("UI camera"),
        PrimaryEguiContext,
        Camera2d,
        crate::scene_image::ShowsSceneImage,
        RenderLayers::none(),
        Camera {
            order: 1,
            output_mode: CameraOutputMode::Write {
                blend_state: Some(BlendState::ALPHA_BLENDING),
                clear_color: ClearColorConfig::None,
            },
            clear_color: ClearColorConfig::Custom(Color::NONE),
            ..default()
        },
    ));
}

/// What a native file dialog was opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogPurpose {
    OpenLayout,
    SaveLayout,
    ExportDiff,
    OpenRecording,
    RecordTo,
}

fn open_file_dialog(ui_state: &mut UiState, channel: &FileDialogChannel, purpose: DialogPurpose) {
    if ui_state.dialog_open {
        return;
    }
    let sender = channel.sender.clone();
    let spawned = std::thread::Builder::new()
        .name("file-dialog".into())
        .spawn(move || {
            let dialog = rfd::FileDialog::new();
            let picked = match purpose {
                DialogPurpose::OpenLayout => dialog
                    .set_title("Open plant layout")
                    .add_filter("Plant layout (RON)", &["ron"])
                    .pick_file(),
                DialogPurpose::SaveLayout => dialog
                    .set_title("Save plant layout as")
                    .add_filter("Plant layout (RON)", &["ron"])
                    .set_file_name("layout.ron")
                    .save_file(),
                DialogPurpose::ExportDiff => dialog
                    .set_title("Export layout changes")
                    .add_filter("Markdown", &["md"])
                    .add_filter("CSV", &["csv"])
                    .set_file_name("layout-changes.md")
                    .save_file(),
                DialogPurpose::OpenRecording => dialog
                    .set_title("Open recording")
                    .add_filter("Recording (MCAP)", &["mcap"])
                    .pick_file(),
                DialogPurpose::RecordTo => dialog
                    .set_title("Record telemetry to")
                    .add_filter("Recording (MCAP)", &["mcap"])
                    .set_file_name("recording.mcap")
                    .save_file(),
            };
            // The app may have quit while the dialog was open; nothing is lost then.
            let _ = sender.send((purpose, picked));
        });
    match spawned {
        Ok(_) => ui_state.dialog_open = true,
        Err(error) => warn!("cannot open a file dialog: {error}"),
    }
}

fn forward_dialog_results(
    channel: Res<FileDialogChannel>,
    mut ui_state: ResMut<UiState>,
    mut load: MessageWriter<LoadLayoutRequest>,
    mut edits: MessageWriter<crate::sandbox::EditIntent>,
    mut replay: MessageWriter<crate::data::replay::ReplayIntent>,
    mut record: MessageWriter<crate::data::record::RecordIntent>,
) {
    for (purpose, picked) in channel.receiver.try_iter() {
        ui_state.dialog_open = false;
        let Some(path) = picked else { continue };
        match purpose {
            DialogPurpose::OpenLayout => {
                load.write(LoadLayoutRequest { path });
            }
            DialogPurpose::SaveLayout => {
                edits.write(crate::sandbox::EditIntent::SaveAs { path });
            }
            DialogPurpose::ExportDiff => ui_state.export_diff_to = Some(path),
            DialogPurpose::OpenRecording => {
                replay.write(crate::data::replay::ReplayIntent::Open(path));
            }
            DialogPurpose::RecordTo => {
                record.write(crate::data::record::RecordIntent::Start(path));
            }
        }
    }
}

/// What the panels read of each asset.
type AssetView = (
    &'static AssetSpec,
    &'static GlobalTransform,
    Option<&'static crate::data::telemetry::LiveSignals>,
    Option<&'static crate::data::telemetry::Freshness>,
    Option<&'static crate::data::predict::AssetHealth>,
);

/// What a label needs of an asset.
type LabelView = (
    Entity,
    &'static AssetSpec,
    &'static GlobalTransform,
    &'static crate::plant::AssetExtents,
    Option<&'static crate::data::telemetry::Freshness>,
);

#[derive(SystemParam)]
struct PanelWorld<'w, 's> {
    document: Res<'w, PlantDocument>,
    selection: Res<'w, Selection>,
    index: Res<'w, AssetIndex>,
    load_status: Res<'w, LayoutLoadStatus>,
    stats: Res<'w, FrameStats>,
    ingest: Res<'w, crate::data::telemetry::IngestStatus>,
    history_epoch: Res<'w, crate::data::telemetry::HistoryEpoch>,
    sandbox: Res<'w, crate::sandbox::Sandbox>,
    edit_mode: Res<'w, State<crate::sandbox::EditMode>>,
    specs: Query<'w, 's, &'static AssetSpec>,
    health: Query<
        'w,
        's,
        (
            Entity,
            &'static AssetSpec,
            &'static crate::data::predict::AssetHealth,
        ),
    >,
    prediction: Res<'w, crate::data::predict::Prediction>,
    wall: Option<Res<'w, crate::wall::WallMode>>,
    clock: Res<'w, crate::data::telemetry::DataClock>,
    replay: Option<Res<'w, crate::data::replay::ReplayState>>,
    recording: Option<Res<'w, crate::data::record::RecordingState>>,
    alarm_log: Res<'w, crate::data::predict::AlarmLog>,
    annunciator: Res<'w, crate::data::annunciator::Annunciator>,
    assets: Query<'w, 's, AssetView>,
    labelled: Query<'w, 's, LabelView>,
    cameras: Query<'w, 's, (&'static Camera, &'static GlobalTransform), With<OrbitCamera>>,
    /// Where the 3D view is drawn (window positions of what the camera projects).
    scene_target: Res<'w, crate::camera::SceneTarget>,
    quality: Option<Res<'w, crate::quality::RenderQuality>>,
    pace: Option<Res<'w, crate::redraw::RedrawPace>>,
    frame_cost: Option<Res<'w, crate::frame_cost::FrameCost>>,
    flows: Option<Res<'w, crate::flows::MaterialFlows>>,
    real_time: Res<'w, Time<Real>>,
    energy: Option<Res<'w, crate::data::energy::PlantEnergy>>,
}

#[derive(SystemParam)]
struct PanelIntents<'w> {
    select: MessageWriter<'w, SelectAsset>,
    camera: MessageWriter<'w, CameraCommand>,
    load: MessageWriter<'w, LoadLayoutRequest>,
    exit: MessageWriter<'w, AppExit>,
    edit: MessageWriter<'w, crate::sandbox::EditIntent>,
    alarms: MessageWriter<'w, crate::data::predict::AlarmIntent>,
    colour_by: ResMut<'w, crate::score_colour::ColourBy>,
    next_mode: ResMut<'w, NextState<crate::sandbox::EditMode>>,
    replay: MessageWriter<'w, crate::data::replay::ReplayIntent>,
    record: MessageWriter<'w, crate::data::record::RecordIntent>,
    quality: MessageWriter<'w, crate::quality::SetQuality>,
    render_scale: MessageWriter<'w, crate::quality::SetRenderScale>,
    flows: MessageWriter<'w, crate::flows::FlowIntent>,
}

fn panels_ui(
    mut contexts: EguiContexts,
    world: PanelWorld,
    mut intents: PanelIntents,
    mut ui_state: ResMut<UiState>,
    dialogs: Res<FileDialogChannel>,
    mut viewport: ResMut<SceneViewport>,
) -> Result {
    // A scaled 3D view is an image the panels camera draws under the panels (`scene_image`).
    let ctx = contexts.ctx_mut()?;
    // Over the panels camera's clear the panels paint no fill (`panel_frame`). The root still
    // says what is under them, for what blends into the background: the fade at a scroll
    // area's edge reads the first filled frame up the stack.
    let over_clear = world.scene_target.image.is_some();
    let under_panels = egui::Frame::new().fill(if over_clear {
        ctx.global_style().visuals.panel_fill
    } else {
        egui::Color32::TRANSPARENT
    });
    let mut root = egui::Ui::new(
        ctx.clone(),
        "plant-twin-root".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect())
            .ui_stack_info(egui::UiStackInfo::default().with_frame(under_panels)),
    );

    if let Some(wall) = &world.wall {
        // The wall display has its own screen: no menus, no editing, large type.
        let scene_rect = wall::wall_ui(ctx, &mut root, &world, wall, &mut intents.alarms);
        viewport.rect = Some(bevy::math::Rect::new(
            scene_rect.min.x,
            scene_rect.min.y,
            scene_rect.max.x,
            scene_rect.max.y,
        ));
        viewport.pointer_over_scene = false;
        let scene_painter = root.painter_at(scene_rect);
        let legend = alarms::legend_ui(&scene_painter, scene_rect, &world, &intents.colour_by);
        // Only the assets in warning or alarm: a wall is read from across the room.
        labels::labels_ui(&scene_painter, &world, false, legend.as_slice());
        return Ok(());
    }

    let replaying = world.replay.as_ref().is_some_and(|r| r.active());
    let frame = panel_frame(&ctx.global_style(), over_clear);
    egui::Panel::top("menu_bar")
        .frame(frame)
        .show(&mut root, |ui| {
            egui::MenuBar::new().ui(ui, |ui| {
                ui.menu_button("File", |ui| {
                    file_menu_ui(ui, &world, &mut intents, &mut ui_state, &dialogs, replaying);
                });
                ui.menu_button("View", |ui| {
                    view_menu_ui(ui, &world, &mut intents, &mut ui_state)
                });
                ui.menu_button("Alarms", |ui| alarms_menu_ui(ui, &mut intents));
                sandbox::edit_menu_ui(ui, &world, &mut intents, &mut ui_state);
                ui.menu_button("Help", |ui| {
                    if ui.button("Keyboard and mouse  (F1)").clicked() {
                        ui_state.show_help = true;
                    }
                });
                ui.separator();
                ui.strong(&world.document.layout.name);
                ui.separator();
                sandbox::toolbar_ui(ui, &world, &mut intents, &mut ui_state);
                // While editing, what each drag does to the transport effort.
                if *world.edit_mode.get() == crate::sandbox::EditMode::Editing
                    && let Some(material) = world.flows.as_deref()
                {
                    flows::effort_toolbar_ui(ui, material);
                }
                if let Some(recording) = &world.recording {
                    ui.separator();
                    timeline::record_ui(ui, recording, replaying, &mut intents.record);
                }
            });
        });

    egui::Panel::bottom("status_bar")
        .frame(frame)
        .show(&mut root, |ui| status_bar_ui(ui, &world, &mut ui_state));

    if let Some(replay) = world
        .replay
        .as_ref()
        .filter(|r| r.active() || r.error.is_some())
    {
        egui::Panel::bottom("timeline")
            .frame(frame)
            .show(&mut root, |ui| {
                timeline::timeline_ui(ui, replay, &mut intents.replay);
            });
    }

    if !ui_state.hide_alarms {
        egui::Panel::bottom("alarm_list")
            .frame(frame)
            .resizable(true)
            .default_size(150.0)
            .show(&mut root, |ui| {
                alarms::alarm_panel_ui(
                    ui,
                    &world,
                    &mut intents.alarms,
                    &mut intents.select,
                    &mut ui_state.alarm_tab,
                );
            });
    }

    egui::Panel::left("asset_list")
        .frame(frame)
        .resizable(true)
        .default_size(260.0)
        .show(&mut root, |ui| {
            let state = &mut *ui_state;
            asset_list::asset_list_ui(
                ui,
                &world,
                &mut state.search,
                &mut state.asset_list,
                &mut intents.select,
            );
        });

    // Wide enough from the start for a selected asset's signal table, so selecting one does
    // not widen the panel and shift the scene. A minimum, not only a default: egui keeps the
    // width of the first frames, when the window may not have its size yet.
    egui::Panel::right("inspector")
        .frame(frame)
        .resizable(true)
        .size_range(INSPECTOR_WIDTH..=720.0)
        .show(&mut root, |ui| {
            inspector::inspector_ui(
                ui,
                &world,
                &mut ui_state,
                &mut intents.edit,
                &mut intents.alarms,
            );
        });

    let scene_rect = root.available_rect_before_wrap();
    let pointer = ctx.pointer_hover_pos();
    viewport.rect = Some(bevy::math::Rect::new(
        scene_rect.min.x,
        scene_rect.min.y,
        scene_rect.max.x,
        scene_rect.max.y,
    ));
    viewport.pointer_over_scene =
        pointer.is_some_and(|pos| scene_rect.contains(pos)) && !ctx.is_pointer_over_egui();

    let scene_painter = root.painter_at(scene_rect);
    // The overlays first: labels keep clear of them (the legend's background lets through
    // what is under it, and a label half under it reads as neither).
    let strip = (!replaying)
        .then(|| status::outage_strip_ui(&scene_painter, scene_rect, &world.ingest))
        .flatten();
    let legend = alarms::legend_ui(&scene_painter, scene_rect, &world, &intents.colour_by);
    let overlays: Vec<egui::Rect> = strip.into_iter().chain(legend).collect();
    // Assets in warning or alarm keep their labels when the others are hidden (L).
    labels::labels_ui(&scene_painter, &world, ui_state.show_labels, &overlays);
    alarms::hover_card_ui(ctx, &world, scene_rect);
    sandbox::violation_labels_ui(&scene_painter, &world);
    sandbox::windows_ui(ctx, &world, &mut intents, &mut ui_state, &dialogs);
    if ui_state.show_energy
        && let Some(energy) = world.energy.as_deref()
    {
        let state = &mut *ui_state;
        energy::energy_window_ui(
            ctx,
            &mut state.show_energy,
            &mut state.energy_shift,
            energy,
            &world.document.layout,
        );
    }
    if let Some(material) = world.flows.as_deref().filter(|f| f.show) {
        if ui_state.optimise_seconds <= 0.0 {
            ui_state.optimise_seconds = 15.0;
        }
        flows::flows_window_ui(
            ctx,
            material,
            &world.document.layout,
            world.sandbox.editable(),
            world.real_time.elapsed_secs_f64(),
            &mut ui_state.optimise_seconds,
            &mut intents.flows,
        );
    }

    confirm_reload_ui(ctx, &world, &mut ui_state, &mut intents.load);
    floating_windows_ui(ctx, &world, &mut ui_state);
    Ok(())
}

/// File: layouts, recordings, saving, quitting.
fn file_menu_ui(
    ui: &mut egui::Ui,
    world: &PanelWorld,
    intents: &mut PanelIntents,
    ui_state: &mut UiState,
    dialogs: &FileDialogChannel,
    replaying: bool,
) {
    if ui.button("Open layout…  (Ctrl+O)").clicked() {
        open_file_dialog(ui_state, dialogs, DialogPurpose::OpenLayout);
    }
    // A replay replaces the plant with the recording's: unsaved edits would be lost.
    let open_recording = ui
        .add_enabled(!world.sandbox.dirty, egui::Button::new("Open recording…"))
        .on_disabled_hover_text("Save or undo the layout changes first");
    if open_recording.clicked() {
        open_file_dialog(ui_state, dialogs, DialogPurpose::OpenRecording);
    }
    let recording = world
        .recording
        .as_ref()
        .is_some_and(|r| r.recorder.is_some());
    if ui
        .add_enabled(!recording && !replaying, egui::Button::new("Record to…"))
        .clicked()
    {
        open_file_dialog(ui_state, dialogs, DialogPurpose::RecordTo);
    }
    ui.separator();
    sandbox::file_menu_ui(ui, world, intents, ui_state, dialogs);
    if let crate::plant::LayoutSource::File(path) = &world.document.source
        && ui.button("Reload layout").clicked()
    {
        // The file is read once here to tell whether the learned state survives the reload.
        let keeps_learning = plant_twin_core::layout::load_layout(path)
            .is_ok_and(|file| plant_twin_core::predict::models_fit(&world.document.layout, &file));
        if reload_discards(world, keeps_learning).is_empty() {
            intents.load.write(LoadLayoutRequest { path: path.clone() });
        } else {
            ui_state.confirm_reload = Some((path.clone(), keeps_learning));
        }
    }
    ui.separator();
    if ui.button("Quit").clicked() {
        if world.sandbox.dirty {
            ui_state.confirm_quit = true;
        } else {
            intents.exit.write(AppExit::Success);
        }
    }
}

/// View: framing, labels, panels, what the colours show.
fn view_menu_ui(
    ui: &mut egui::Ui,
    world: &PanelWorld,
    intents: &mut PanelIntents,
    ui_state: &mut UiState,
) {
    if ui.button("Frame all  (Home)").clicked() {
        intents.camera.write(CameraCommand::FrameAll);
    }
    let has_selection = world.selection.selected.is_some();
    if ui
        .add_enabled(has_selection, egui::Button::new("Frame selected  (F)"))
        .clicked()
        && let Some(entity) = world.selection.selected
    {
        intents.select.write(SelectAsset {
            target: SelectTarget::Entity(entity),
            frame: true,
            additive: false,
        });
    }
    ui.checkbox(&mut ui_state.show_labels, "Asset labels  (L)");
    ui.checkbox(&mut ui_state.show_diagnostics, "Data diagnostics  (F2)");
    let mut show_alarms = !ui_state.hide_alarms;
    ui.checkbox(&mut show_alarms, "Alarm list  (F3)");
    ui_state.hide_alarms = !show_alarms;
    if world.energy.is_some() {
        ui.checkbox(&mut ui_state.show_energy, "Energy")
            .on_hover_text("Power now, kWh per hour, idle energy, demand against its limit, cost");
    }
    if let Some(flows) = &world.flows {
        let mut show = flows.show;
        if ui
            .checkbox(&mut show, "Material flows")
            .on_hover_text("Flows drawn on the floor, the flow table, transport effort and layout optimisation")
            .changed()
        {
            intents.flows.write(crate::flows::FlowIntent::Show(show));
        }
    }
    ui.separator();
    alarms::colour_by_ui(ui, world, &mut intents.colour_by);
    if let Some(quality) = &world.quality {
        ui.separator();
        quality_ui(ui, quality, &mut intents.quality);
        render_scale_ui(ui, quality, &mut intents.render_scale);
    }
}

/// View > Render quality: auto (what the adapter suggests) or a fixed tier.
fn quality_ui(
    ui: &mut egui::Ui,
    quality: &crate::quality::RenderQuality,
    intents: &mut MessageWriter<crate::quality::SetQuality>,
) {
    use crate::quality::{Quality, SetQuality, Tier};
    ui.label("Render quality");
    let auto = match &quality.adapter {
        Some((name, kind)) => format!(
            "Auto: {} for this adapter ({kind})",
            crate::quality::tier_for(kind, name).name()
        ),
        None => "Auto".to_string(),
    };
    let mut choice = quality.requested;
    ui.radio_value(&mut choice, Quality::Auto, auto);
    for (tier, what) in [
        (
            Tier::Low,
            "Low: no shadows, no smoothing (software rendering)",
        ),
        (Tier::Medium, "Medium: simple shadows"),
        (Tier::High, "High: detailed shadows, smoothed edges"),
    ] {
        ui.radio_value(&mut choice, Quality::Fixed(tier), what);
    }
    if choice != quality.requested {
        intents.write(SetQuality(choice));
    }
}

/// View > Render scale: the tier's, or a share of the 3D view's resolution.
fn render_scale_ui(
    ui: &mut egui::Ui,
    quality: &crate::quality::RenderQuality,
    intents: &mut MessageWriter<crate::quality::SetRenderScale>,
) {
    ui.menu_button("Render scale", |ui| {
        let mut choice = quality.scale_override;
        let tier_scale = crate::quality::RenderQuality {
            scale_override: None,
            ..quality.clone()
        }
        .render_scale();
        ui.radio_value(
            &mut choice,
            None,
            format!("The tier's ({:.0} %)", 100.0 * tier_scale),
        )
        .on_hover_text("Half in the low tier (a software renderer's time grows with the pixels), all otherwise");
        for scale in [1.0, 0.75, 0.5, 0.35] {
            ui.radio_value(&mut choice, Some(scale), format!("{:.0} %", 100.0 * scale));
        }
        if choice != quality.scale_override {
            intents.write(crate::quality::SetRenderScale(choice));
        }
    });
}

/// Alarms: acknowledge all, save the baseline, learn again.
fn alarms_menu_ui(ui: &mut egui::Ui, intents: &mut PanelIntents) {
    if ui.button("Acknowledge all").clicked() {
        intents
            .alarms
            .write(crate::data::predict::AlarmIntent::AcknowledgeAll);
    }
    ui.separator();
    if ui
        .button("Save baseline")
        .on_hover_text("Save what every asset learned as normal, next to the layout")
        .clicked()
    {
        intents
            .alarms
            .write(crate::data::predict::AlarmIntent::SaveBaseline);
    }
    if ui
        .button("Learn normal again (all assets)")
        .on_hover_text("Forget every baseline and learn from the data that follows")
        .clicked()
    {
        intents
            .alarms
            .write(crate::data::predict::AlarmIntent::Relearn { asset: None });
    }
}

/// The status bar: layout, counts, the data link, alarm counts, frame time.
fn status_bar_ui(ui: &mut egui::Ui, world: &PanelWorld, ui_state: &mut UiState) {
    ui.horizontal(|ui| {
        ui.label(format!("Layout: {}", world.document.source.short()))
            .on_hover_text(world.document.source.to_string());
        ui.separator();
        ui.label(format!("{} assets", world.document.layout.assets.len()));
        ui.separator();
        ui.label(format!("{} zones", world.document.layout.zones.len()));
        ui.separator();
        let replay = world
            .replay
            .as_ref()
            .and_then(|r| r.session.as_ref())
            .map(|session| (session.playing, session.speed));
        status::status_indicator_ui(ui, &world.ingest, replay, &mut ui_state.show_diagnostics);
        ui.separator();
        let mut show_alarms = !ui_state.hide_alarms;
        alarms::alarm_counts_ui(ui, world, &mut show_alarms);
        ui_state.hide_alarms = !show_alarms;
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let ms = world.stats.frame_ms;
            let fps = if ms > 0.0 { 1000.0 / ms } else { 0.0 };
            let pace = world.pace.as_ref().map(|p| p.0);
            let cost = world.frame_cost.as_ref().map_or_else(String::new, |c| {
                format!(
                    "\n\nLast frames: {ms:.0} ms a frame, of which the twin's own systems \
                     {:.1} ms (the rest is drawing); {} draw calls for {} mesh instances.",
                    c.main_world_ms, c.draw_calls, c.instances
                )
            });
            // At rest a frame rate says nothing (frames that change nothing are not drawn),
            // and a number easing toward it would itself be a change to draw.
            let pace_text = match pace {
                Some(crate::redraw::Pace::Idle) => "idle".to_string(),
                Some(pace) => format!("{fps:4.0} fps {}", pace.name()),
                None => format!("{fps:4.0} fps"),
            };
            ui.monospace(pace_text).on_hover_text(format!(
                "The window draws on input, every frame while the camera moves, 10 times a \
                 second (4 in the low tier) while an alarm pulses or a replay plays, and at \
                 most once a second otherwise, only when something shown changed \
                 (--redraw continuous: always).{cost}"
            ));
            if let Some(quality) = &world.quality {
                ui.separator();
                ui.label(quality.tier_text()).on_hover_text(format!(
                    "Render quality (View menu, --quality): {}",
                    quality.summary()
                ));
            }
            ui.separator();
            ui.label("F1: help");
        });
    });
}

/// What reloading the layout would throw away, in words; empty when nothing.
/// Logical pixels: the inspector's signal table (id, value with unit, normal range, limits)
/// of the demo plant's widest asset.
const INSPECTOR_WIDTH: f32 = 410.0;

fn reload_discards(world: &PanelWorld, keeps_learning: bool) -> Vec<String> {
    let mut lost = vec![];
    if world.sandbox.dirty {
        lost.push("the layout edits that are not saved".to_string());
    }
    if keeps_learning {
        return lost;
    }
    let records = world.alarm_log.records.len();
    if records > 0 {
        let entries = if records == 1 { "entry" } else { "entries" };
        lost.push(format!("the alarm history ({records} {entries})"));
    }
    let (alarms, warnings, _) = alarms::alarm_counts(world);
    if alarms + warnings > 0 {
        lost.push(format!(
            "the standing alarms and their acknowledgements ({} active)",
            alarms + warnings
        ));
    }
    let learned = world
        .health
        .iter()
        .any(|(_, _, health)| health.0.detectors.iter().any(|d| d.baseline().is_some()));
    if learned {
        lost.push(
            "what the detectors learned since they started (the saved baseline is read again)"
                .to_string(),
        );
    }
    lost
}

/// Asks before a reload throws away work; says what.
fn confirm_reload_ui(
    ctx: &egui::Context,
    world: &PanelWorld,
    ui_state: &mut UiState,
    load: &mut MessageWriter<LoadLayoutRequest>,
) {
    let Some((path, keeps_learning)) = ui_state.confirm_reload.clone() else {
        return;
    };
    egui::Window::new("Reload the layout?")
        .collapsible(false)
        .resizable(false)
        .show(ctx, |ui| {
            ui.label(format!("Reloading {} discards:", path.display()));
            for what in reload_discards(world, keeps_learning) {
                ui.label(format!("• {what}"));
            }
            if keeps_learning {
                ui.label("Its assets are the same: alarms, their history and what the detectors learned are kept.");
            }
            ui.horizontal(|ui| {
                if ui.button("Reload").clicked() {
                    load.write(LoadLayoutRequest { path: path.clone() });
                    ui_state.confirm_reload = None;
                }
                if ui.button("Cancel").clicked() {
                    ui_state.confirm_reload = None;
                }
            });
        });
}

/// Windows over the scene: data diagnostics, help, a layout that was not loaded.
fn floating_windows_ui(ctx: &egui::Context, world: &PanelWorld, ui_state: &mut UiState) {
    if ui_state.show_diagnostics {
        let mut open = true;
        egui::Window::new("Data diagnostics")
            .open(&mut open)
            .default_width(520.0)
            .show(ctx, |ui| status::diagnostics_ui(ui, &world.ingest));
        ui_state.show_diagnostics = open;
    }

    if ui_state.show_help {
        let mut open = true;
        // Over the top of the scene, scrolling rather than growing over the alarm list (at
        // 1280x720 the whole list of keys is taller than the scene).
        let max_height = (ctx.content_rect().height() * 0.55).max(200.0);
        egui::Window::new("Keyboard and mouse")
            .open(&mut open)
            .resizable(false)
            .collapsible(false)
            .anchor(egui::Align2::CENTER_TOP, [0.0, 36.0])
            .show(ctx, |ui| {
                egui::ScrollArea::vertical()
                    .max_height(max_height)
                    .show(ui, shortcuts::help_ui);
            });
        ui_state.show_help = open;
    }

    if let Some(error) = &world.load_status.last_error
        && ui_state.dismissed_error.as_ref() != Some(error)
    {
        let mut dismissed = false;
        egui::Window::new("Layout not loaded")
            .collapsible(false)
            .show(ctx, |ui| {
                ui.label("The file has problems; the current plant stays as it was.");
                egui::ScrollArea::vertical()
                    .max_height(240.0)
                    .show(ui, |ui| {
                        ui.monospace(error);
                    });
                dismissed = ui.button("Close").clicked();
            });
        if dismissed {
            ui_state.dismissed_error = Some(error.clone());
        }
    }
}
