//! The layout sandbox: an edit mode where equipment is dragged on the floor, turned, snapped and
//! nudged, with parry3d clearance checks every frame of a drag, undo/redo, and saving. Edits
//! are a what-if: the assets keep their telemetry, and nothing is ever sent to the plant.
//!
//! Edits change the asset entities (`Transform` and `AssetSpec`), not the loaded
//! `PlantDocument`, so the plant is not respawned and the data source keeps running. The
//! document stays the baseline until a save.

use std::path::{Path, PathBuf};

use bevy::prelude::*;

use crate::data::replay::ReplayState;
use crate::frame::AppSystems;
use crate::plant::{AssetIndex, AssetSpec, LayoutSource, PlantDocument, asset_transform};
use crate::selection::Selection;
use plant_twin_core::clearance::{ClearanceModel, ClearanceViolation};
use plant_twin_core::diff::{LayoutDiff, diff_layouts};
use plant_twin_core::layout::{LayoutSaveError, PlantLayout, WriteStyle};
use plant_twin_core::sandbox::history::{EditCommand, History, Placement, normalise_deg, snap};

pub struct SandboxPlugin {
    /// Never allow editing (wall displays, `--read-only`).
    pub read_only: bool,
    /// Where Save writes instead of the loaded file (`--save-as`, for machines without a
    /// file-dialog portal); saving there needs no confirmation.
    pub save_as: Option<PathBuf>,
}

impl Plugin for SandboxPlugin {
    fn build(&self, app: &mut App) {
        app.init_state::<EditMode>()
            .insert_resource(Sandbox {
                read_only: self.read_only,
                save_as: self.save_as.clone(),
                grid_step: 0.5,
                drop_policy: DropPolicy::AllowAndFlag,
                ..default()
            })
            .add_message::<EditIntent>()
            .add_message::<DragIntent>()
            .add_systems(
                Update,
                (
                    follow_replay,
                    reset_on_new_layout.run_if(resource_changed::<PlantDocument>),
                    apply_edit_intents,
                    apply_drag_intents.run_if(in_state(EditMode::Editing)),
                )
                    .chain()
                    .in_set(SandboxSystems),
            )
            .add_systems(
                Update,
                (
                    edit_keys.run_if(in_state(EditMode::Editing)),
                    toggle_edit_mode,
                    capture_camera_input,
                )
                    .in_set(AppSystems::Input),
            )
            .add_observer(capture_pointer_on_press)
            .add_observer(start_drag)
            .add_observer(continue_drag)
            .add_observer(end_drag);
    }
}

/// Applies edit and drag intents; in [`AppSystems::ApplyIntents`] after selection.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct SandboxSystems;

#[derive(States, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EditMode {
    #[default]
    Viewing,
    Editing,
}

/// What happens when a drag ends with clearance violations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DropPolicy {
    /// Keep the new place and list the violations.
    #[default]
    AllowAndFlag,
    /// Put the assets back where the drag started.
    RefuseDrop,
}

/// An asset being dragged: where it started.
#[derive(Debug, Clone)]
struct Dragged {
    asset: usize,
    entity: Entity,
    start: Placement,
}

#[derive(Debug, Clone)]
struct DragState {
    /// Floor point (plan) under the pointer when the drag started.
    grab: (f32, f32),
    assets: Vec<Dragged>,
}

/// The sandbox's session state.
#[derive(Resource, Default)]
pub struct Sandbox {
    /// Never edit (`--read-only`, the wall, a replay from the start).
    pub read_only: bool,
    /// A recording is open: it shows the recorded plant as it was, with no edits on top.
    pub replay_open: bool,
    /// Grid step in metres for drags and nudges; 0 turns snapping off.
    pub grid_step: f32,
    pub drop_policy: DropPolicy,
    pub history: History,
    /// Edits not yet saved.
    pub dirty: bool,
    /// Violations of the moved assets during a drag; of the whole plant otherwise.
    pub violations: Vec<ClearanceViolation>,
    /// The last refused drop, to explain why the assets jumped back.
    pub last_refusal: Option<String>,
    /// The file the next Save writes to.
    pub save_path: Option<PathBuf>,
    /// The `--save-as` target, kept across layout loads.
    pub save_as: Option<PathBuf>,
    pub last_saved: Option<(PathBuf, String)>,
    model: Option<ClearanceModel>,
    drag: Option<DragState>,
}

impl Sandbox {
    /// Edits are allowed: not read-only and no recording open.
    pub fn editable(&self) -> bool {
        !self.read_only && !self.replay_open
    }

    pub fn dragging(&self) -> bool {
        self.drag.is_some()
    }
}

/// Intents from keys and panels.
#[derive(Message, Debug, Clone, PartialEq)]
pub enum EditIntent {
    /// Move the selection by a plan offset (metres).
    Nudge {
        dx: f32,
        dy: f32,
    },
    /// Turn the selection by degrees (counter-clockwise), each asset about its own centre.
    Rotate {
        degrees: f32,
    },
    /// Put one asset exactly here (typed in the inspector).
    Place {
        entity: Entity,
        placement: Placement,
    },
    /// Put several assets at once, as one undo step (an accepted layout optimisation); asset
    /// positions in the layout. Needs an editable sandbox, not edit mode.
    PlaceMany {
        placements: Vec<(usize, Placement)>,
        what: String,
    },
    Undo,
    Redo,
    /// Write the edited layout to this file (atomic).
    SaveAs {
        path: PathBuf,
    },
    /// Grid step (0 = off) and what a drop with violations does.
    Settings {
        grid_step: f32,
        drop_policy: DropPolicy,
    },
}

/// A drag on the floor, from the pointer (or a test): plan coordinates of the floor point under
/// the pointer.
#[derive(Message, Debug, Clone, PartialEq)]
pub enum DragIntent {
    Start { entity: Entity, floor: (f32, f32) },
    Move { floor: (f32, f32) },
    End,
}

fn placement_of(spec: &AssetSpec) -> Placement {
    Placement {
        position: spec.0.position,
        rotation_deg: spec.0.rotation_deg,
    }
}

/// The baseline with each asset's current placement, as `placement_of_entity` reports it.
fn layout_with_placements(
    document: &PlantDocument,
    index: &AssetIndex,
    placement_of_entity: impl Fn(Entity) -> Option<Placement>,
) -> PlantLayout {
    let mut layout = document.layout.clone();
    for (position, asset) in layout.assets.iter_mut().enumerate() {
        if let Some(placement) = index.at(position as u32).and_then(&placement_of_entity) {
            asset.position = placement.position;
            asset.rotation_deg = placement.rotation_deg;
        }
    }
    layout
}

/// The layout as edited: the baseline with every asset's current placement.
pub fn edited_layout(
    document: &PlantDocument,
    specs: &Query<&AssetSpec>,
    index: &AssetIndex,
) -> PlantLayout {
    layout_with_placements(document, index, |entity| {
        specs.get(entity).ok().map(placement_of)
    })
}

/// Changes against the loaded baseline.
pub fn current_diff(
    document: &PlantDocument,
    specs: &Query<&AssetSpec>,
    index: &AssetIndex,
) -> LayoutDiff {
    diff_layouts(&document.layout, &edited_layout(document, specs, index))
}

fn reset_on_new_layout(mut sandbox: ResMut<Sandbox>, document: Res<PlantDocument>) {
    let model = ClearanceModel::new(&document.layout);
    sandbox.violations = model.check_all();
    sandbox.model = Some(model);
    sandbox.history.clear();
    sandbox.dirty = false;
    sandbox.drag = None;
    sandbox.save_path = match (&sandbox.save_as, &document.source) {
        (Some(target), _) => Some(target.clone()),
        (None, LayoutSource::File(path)) => Some(path.clone()),
        (None, LayoutSource::BuiltInDemo) => None,
    };
}

/// Moves one asset entity and the clearance model to `placement`.
fn place(
    sandbox: &mut Sandbox,
    assets: &mut Query<(&mut AssetSpec, &mut Transform)>,
    entity: Entity,
    asset: usize,
    placement: Placement,
) {
    if let Ok((mut spec, mut transform)) = assets.get_mut(entity) {
        spec.0.position = placement.position;
        spec.0.rotation_deg = placement.rotation_deg;
        *transform = asset_transform(&spec.0);
    }
    if let Some(model) = sandbox.model.as_mut() {
        model.set_pose(asset, placement.position, placement.rotation_deg);
    }
}

fn refresh_all(sandbox: &mut Sandbox) {
    if let Some(model) = sandbox.model.as_mut() {
        model.rebuild();
        sandbox.violations = model.check_all();
    }
}

fn selected_assets(selection: &Selection, index: &AssetIndex) -> Vec<(usize, Entity)> {
    selection
        .all()
        .into_iter()
        .filter_map(|entity| {
            index
                .by_position
                .iter()
                .position(|e| *e == entity)
                .map(|asset| (asset, entity))
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn apply_edit_intents(
    mut intents: MessageReader<EditIntent>,
    mut sandbox: ResMut<Sandbox>,
    mode: Res<State<EditMode>>,
    selection: Res<Selection>,
    index: Res<AssetIndex>,
    mut document: ResMut<PlantDocument>,
    mut assets: Query<(&mut AssetSpec, &mut Transform)>,
) {
    for intent in intents.read() {
        // Saving and settings work in any mode; changing placements only while editing.
        let changes_placements = !matches!(
            intent,
            EditIntent::SaveAs { .. } | EditIntent::Settings { .. }
        );
        let needs_edit_mode = !matches!(intent, EditIntent::PlaceMany { .. });
        if changes_placements
            && ((needs_edit_mode && *mode.get() != EditMode::Editing) || !sandbox.editable())
        {
            continue;
        }
        match intent {
            EditIntent::Settings {
                grid_step,
                drop_policy,
            } => {
                sandbox.grid_step = grid_step.max(0.0);
                sandbox.drop_policy = *drop_policy;
            }
            EditIntent::Nudge { dx, dy } => {
                let targets = selected_assets(&selection, &index);
                move_each(&mut sandbox, &mut assets, &targets, "nudge", |from| {
                    Placement {
                        position: (from.position.0 + dx, from.position.1 + dy),
                        ..from
                    }
                });
            }
            EditIntent::Rotate { degrees } => {
                let targets = selected_assets(&selection, &index);
                move_each(&mut sandbox, &mut assets, &targets, "rotation", |from| {
                    Placement {
                        rotation_deg: normalise_deg(from.rotation_deg + degrees),
                        ..from
                    }
                });
            }
            EditIntent::Place { entity, placement } => {
                let Some(asset) = index.by_position.iter().position(|e| e == entity) else {
                    continue;
                };
                let to = Placement {
                    rotation_deg: normalise_deg(placement.rotation_deg),
                    ..*placement
                };
                move_each(
                    &mut sandbox,
                    &mut assets,
                    &[(asset, *entity)],
                    "typed placement",
                    |_| to,
                );
            }
            EditIntent::PlaceMany { placements, what } => {
                let mut changes = vec![];
                for &(asset, placement) in placements {
                    let Some(entity) = index.at(asset as u32) else {
                        continue;
                    };
                    let Ok((spec, _)) = assets.get(entity) else {
                        continue;
                    };
                    let from = placement_of(spec);
                    place(&mut sandbox, &mut assets, entity, asset, placement);
                    changes.push((asset, from, placement));
                }
                commit(&mut sandbox, what, changes);
            }
            EditIntent::Undo | EditIntent::Redo => {
                let placements = if *intent == EditIntent::Undo {
                    sandbox.history.undo()
                } else {
                    sandbox.history.redo()
                };
                for (asset, placement) in placements.unwrap_or_default() {
                    if let Some(entity) = index.at(asset as u32) {
                        place(&mut sandbox, &mut assets, entity, asset, placement);
                    }
                }
                sandbox.dirty = true;
                refresh_all(&mut sandbox);
            }
            EditIntent::SaveAs { path } => {
                let layout = layout_with_placements(&document, &index, |entity| {
                    assets.get(entity).ok().map(|(spec, _)| placement_of(spec))
                });
                match save_layout(path, document.text.as_deref(), &layout) {
                    Ok(text) => {
                        info!("layout saved to {}", path.display());
                        // The saved file is the new baseline; the scene already shows it, so
                        // the plant is not respawned.
                        let document = document.bypass_change_detection();
                        document.layout = layout;
                        document.source = LayoutSource::File(path.clone());
                        document.text = Some(text.into());
                        if sandbox.save_as.is_none() {
                            sandbox.save_path = Some(path.clone());
                        }
                        sandbox.dirty = false;
                        sandbox.last_saved = Some((path.clone(), "saved".into()));
                    }
                    Err(error) => {
                        warn!("layout not saved: {error}");
                        sandbox.last_saved = Some((path.clone(), format!("not saved: {error}")));
                    }
                }
            }
        }
    }
}

/// Moves each target from its placement to `to(placement)` as one undoable command.
fn move_each(
    sandbox: &mut Sandbox,
    assets: &mut Query<(&mut AssetSpec, &mut Transform)>,
    targets: &[(usize, Entity)],
    what: &str,
    to: impl Fn(Placement) -> Placement,
) {
    let mut changes = vec![];
    for &(asset, entity) in targets {
        let Ok((spec, _)) = assets.get(entity) else {
            continue;
        };
        let from = placement_of(spec);
        let placement = to(from);
        place(sandbox, assets, entity, asset, placement);
        changes.push((asset, from, placement));
    }
    commit(sandbox, what, changes);
}

fn commit(sandbox: &mut Sandbox, what: &str, changes: Vec<(usize, Placement, Placement)>) {
    if let Some(command) = EditCommand::new(what, changes) {
        sandbox.history.push(command);
        sandbox.dirty = true;
    }
    refresh_all(sandbox);
}

/// Saves over the text the layout was read from, changing only what was edited (see
/// [`plant_twin_core::layout::write_layout`]); returns the text written.
pub fn save_layout(
    path: &Path,
    original: Option<&str>,
    layout: &PlantLayout,
) -> Result<String, LayoutSaveError> {
    let (text, style) = plant_twin_core::layout::save_layout(path, original, layout)?;
    if let WriteStyle::Rewritten { reason } = style
        && original.is_some()
    {
        warn!("{} was written in full: {reason}", path.display());
    }
    Ok(text)
}

fn apply_drag_intents(
    mut intents: MessageReader<DragIntent>,
    mut sandbox: ResMut<Sandbox>,
    selection: Res<Selection>,
    index: Res<AssetIndex>,
    mut assets: Query<(&mut AssetSpec, &mut Transform)>,
) {
    if !sandbox.editable() {
        intents.clear();
        return;
    }
    for intent in intents.read() {
        match intent {
            DragIntent::Start { entity, floor } => {
                // Dragging a selected asset moves the whole selection; another asset, itself.
                let group: Vec<Entity> = if selection.contains(*entity) {
                    selection.all()
                } else {
                    vec![*entity]
                };
                let dragged = group
                    .into_iter()
                    .filter_map(|entity| {
                        let asset = index.by_position.iter().position(|e| *e == entity)?;
                        let (spec, _) = assets.get(entity).ok()?;
                        Some(Dragged {
                            asset,
                            entity,
                            start: placement_of(spec),
                        })
                    })
                    .collect();
                sandbox.drag = Some(DragState {
                    grab: *floor,
                    assets: dragged,
                });
                sandbox.last_refusal = None;
            }
            DragIntent::Move { floor } => {
                let Some(drag) = sandbox.drag.clone() else {
                    continue;
                };
                let Some(lead) = drag.assets.first() else {
                    continue;
                };
                // Snap the asset that was grabbed; the others keep their offsets to it.
                let wanted = (
                    lead.start.position.0 + floor.0 - drag.grab.0,
                    lead.start.position.1 + floor.1 - drag.grab.1,
                );
                let snapped = snap(wanted, sandbox.grid_step);
                let delta = (
                    snapped.0 - lead.start.position.0,
                    snapped.1 - lead.start.position.1,
                );
                for dragged in &drag.assets {
                    let to = Placement {
                        position: (
                            dragged.start.position.0 + delta.0,
                            dragged.start.position.1 + delta.1,
                        ),
                        ..dragged.start
                    };
                    place(&mut sandbox, &mut assets, dragged.entity, dragged.asset, to);
                }
                let moved: Vec<usize> = drag.assets.iter().map(|d| d.asset).collect();
                if let Some(model) = sandbox.model.as_ref() {
                    sandbox.violations = model.check_moved(&moved);
                }
            }
            DragIntent::End => {
                let Some(drag) = sandbox.drag.take() else {
                    continue;
                };
                let moved: Vec<usize> = drag.assets.iter().map(|d| d.asset).collect();
                let violations = sandbox
                    .model
                    .as_ref()
                    .map(|model| model.check_moved(&moved))
                    .unwrap_or_default();
                if sandbox.drop_policy == DropPolicy::RefuseDrop && !violations.is_empty() {
                    for dragged in &drag.assets {
                        place(
                            &mut sandbox,
                            &mut assets,
                            dragged.entity,
                            dragged.asset,
                            dragged.start,
                        );
                    }
                    sandbox.last_refusal = Some(format!(
                        "Drop refused: {} clearance violation(s); the assets went back.",
                        violations.len()
                    ));
                    refresh_all(&mut sandbox);
                    continue;
                }
                let changes = drag
                    .assets
                    .iter()
                    .filter_map(|dragged| {
                        let (spec, _) = assets.get(dragged.entity).ok()?;
                        Some((dragged.asset, dragged.start, placement_of(spec)))
                    })
                    .collect();
                commit(&mut sandbox, "move", changes);
            }
        }
    }
}

/// The floor point (plan) under a window position, through the 3D camera.
fn floor_point(
    cameras: &Query<(&Camera, &GlobalTransform), With<crate::camera::OrbitCamera>>,
    target: &crate::camera::SceneTarget,
    window_position: Vec2,
) -> Option<(f32, f32)> {
    let (camera, transform) = cameras.single().ok()?;
    let ray = camera
        .viewport_to_world(transform, target.camera_from_window(window_position))
        .ok()?;
    let distance = ray.intersect_plane(Vec3::ZERO, InfinitePlane3d::new(Vec3::Y))?;
    Some(plant_twin_core::geometry::plan_from_world(
        ray.get_point(distance),
    ))
}

fn start_drag(
    event: On<Pointer<DragStart>>,
    mode: Res<State<EditMode>>,
    specs: Query<(), With<AssetSpec>>,
    cameras: Query<(&Camera, &GlobalTransform), With<crate::camera::OrbitCamera>>,
    target: Res<crate::camera::SceneTarget>,
    mut intents: MessageWriter<DragIntent>,
) {
    if *mode.get() != EditMode::Editing
        || event.button != PointerButton::Primary
        || !specs.contains(event.entity)
    {
        return;
    }
    if let Some(floor) = floor_point(&cameras, &target, event.pointer_location.position) {
        intents.write(DragIntent::Start {
            entity: event.entity,
            floor,
        });
    }
}

fn continue_drag(
    event: On<Pointer<Drag>>,
    sandbox: Res<Sandbox>,
    specs: Query<(), With<AssetSpec>>,
    cameras: Query<(&Camera, &GlobalTransform), With<crate::camera::OrbitCamera>>,
    target: Res<crate::camera::SceneTarget>,
    mut intents: MessageWriter<DragIntent>,
) {
    if !sandbox.dragging() || !specs.contains(event.entity) {
        return;
    }
    if let Some(floor) = floor_point(&cameras, &target, event.pointer_location.position) {
        intents.write(DragIntent::Move { floor });
    }
}

fn end_drag(
    event: On<Pointer<DragEnd>>,
    sandbox: Res<Sandbox>,
    specs: Query<(), With<AssetSpec>>,
    mut intents: MessageWriter<DragIntent>,
) {
    if sandbox.dragging() && specs.contains(event.entity) {
        intents.write(DragIntent::End);
    }
}

/// Keys of the edit mode: R / Shift+R turn by 15 degrees (with Alt: 1 degree), arrows nudge by
/// the grid step (0.1 m without a grid), Ctrl+Z undoes, Ctrl+Shift+Z or Ctrl+Y redoes.
fn edit_keys(
    keys: Res<ButtonInput<KeyCode>>,
    egui_input: Option<Res<bevy_egui::input::EguiWantsInput>>,
    sandbox: Res<Sandbox>,
    mut intents: MessageWriter<EditIntent>,
) {
    if egui_input.is_some_and(|input| input.wants_any_keyboard_input()) {
        return;
    }
    let ctrl = keys.any_pressed([KeyCode::ControlLeft, KeyCode::ControlRight]);
    let shift = keys.any_pressed([KeyCode::ShiftLeft, KeyCode::ShiftRight]);
    let alt = keys.any_pressed([KeyCode::AltLeft, KeyCode::AltRight]);
    if ctrl && (keys.just_pressed(KeyCode::KeyY) || (shift && keys.just_pressed(KeyCode::KeyZ))) {
        intents.write(EditIntent::Redo);
        return;
    }
    if ctrl && keys.just_pressed(KeyCode::KeyZ) {
        intents.write(EditIntent::Undo);
        return;
    }
    if ctrl {
        return;
    }
    if keys.just_pressed(KeyCode::KeyR) {
        let step = if alt { 1.0 } else { 15.0 };
        intents.write(EditIntent::Rotate {
            degrees: if shift { -step } else { step },
        });
    }
    let step = if sandbox.grid_step > 0.0 {
        sandbox.grid_step
    } else {
        0.1
    };
    for (key, dx, dy) in [
        (KeyCode::ArrowLeft, -step, 0.0),
        (KeyCode::ArrowRight, step, 0.0),
        (KeyCode::ArrowUp, 0.0, step),
        (KeyCode::ArrowDown, 0.0, -step),
    ] {
        if keys.just_pressed(key) {
            intents.write(EditIntent::Nudge { dx, dy });
        }
    }
}

/// Ctrl+E switches between viewing and editing (never in read-only mode).
fn toggle_edit_mode(
    keys: Res<ButtonInput<KeyCode>>,
    sandbox: Res<Sandbox>,
    mode: Res<State<EditMode>>,
    mut next: ResMut<NextState<EditMode>>,
) {
    let ctrl = keys.any_pressed([KeyCode::ControlLeft, KeyCode::ControlRight]);
    if ctrl && keys.just_pressed(KeyCode::KeyE) {
        next.set(match (mode.get(), !sandbox.editable()) {
            (EditMode::Viewing, false) => EditMode::Editing,
            _ => EditMode::Viewing,
        });
    }
}

/// Locks the sandbox while a recording is open (and leaves edit mode), unlocks it after.
fn follow_replay(
    replay: Option<Res<ReplayState>>,
    mut sandbox: ResMut<Sandbox>,
    mut next: ResMut<NextState<EditMode>>,
) {
    let open = replay.is_some_and(|replay| replay.session.is_some());
    if open != sandbox.replay_open {
        sandbox.replay_open = open;
        if open {
            next.set(EditMode::Viewing);
        }
    }
}

/// A press on an asset in edit mode belongs to the sandbox, not to the orbiting camera.
fn capture_pointer_on_press(
    event: On<Pointer<Press>>,
    mode: Res<State<EditMode>>,
    sandbox: Res<Sandbox>,
    specs: Query<(), With<AssetSpec>>,
    mut capture: ResMut<crate::camera::CameraInputCapture>,
) {
    if *mode.get() == EditMode::Editing
        && sandbox.editable()
        && event.button == PointerButton::Primary
        && specs.contains(event.entity)
    {
        capture.pointer = true;
    }
}

fn capture_camera_input(
    buttons: Res<ButtonInput<MouseButton>>,
    mode: Res<State<EditMode>>,
    selection: Res<Selection>,
    sandbox: Res<Sandbox>,
    mut capture: ResMut<crate::camera::CameraInputCapture>,
) {
    let editing = *mode.get() == EditMode::Editing && sandbox.editable();
    if !buttons.pressed(MouseButton::Left) && !sandbox.dragging() && capture.pointer {
        capture.pointer = false;
    }
    let arrows = editing && selection.selected.is_some();
    if capture.arrow_keys != arrows {
        capture.arrow_keys = arrows;
    }
}

/// Draws clearance violations in edit mode: a red line between the closest points and a red
/// outline around each asset involved (needs Bevy's gizmos, so only in the windowed app).
pub struct ViolationGizmosPlugin;

impl Plugin for ViolationGizmosPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(
            Update,
            draw_violations
                .run_if(in_state(EditMode::Editing))
                .in_set(AppSystems::Presentation),
        );
    }
}

fn draw_violations(
    sandbox: Res<Sandbox>,
    index: Res<AssetIndex>,
    assets: Query<(&AssetSpec, &GlobalTransform)>,
    mut gizmos: Gizmos,
) {
    let red = Color::srgb(1.0, 0.2, 0.15);
    let mut outlined: Vec<usize> = vec![];
    for violation in &sandbox.violations {
        if let Some((a, b)) = violation.points {
            gizmos.line(a, b, red);
            gizmos.sphere(Isometry3d::from_translation(a), 0.06, red);
            gizmos.sphere(Isometry3d::from_translation(b), 0.06, red);
        }
        let mut involved = vec![violation.asset];
        if let plant_twin_core::clearance::Neighbour::Asset(other) = violation.neighbour {
            involved.push(other);
        }
        for asset in involved {
            if outlined.contains(&asset) {
                continue;
            }
            outlined.push(asset);
            let Some((spec, transform)) = index.at(asset as u32).and_then(|e| assets.get(e).ok())
            else {
                continue;
            };
            let (length, width, height) = spec.0.extents();
            let transform = transform.compute_transform();
            gizmos.cube(
                Transform {
                    translation: transform.translation + Vec3::Y * height * 0.5,
                    rotation: transform.rotation,
                    scale: Vec3::new(length + 0.05, height + 0.05, width + 0.05),
                },
                red,
            );
        }
    }
}

impl Sandbox {
    /// Whether a Save to the current target overwrites the file the plant was loaded from.
    pub fn save_overwrites_baseline(&self, document: &PlantDocument) -> bool {
        match (&self.save_path, &document.source) {
            (Some(target), LayoutSource::File(loaded)) => target == loaded,
            _ => false,
        }
    }
}
