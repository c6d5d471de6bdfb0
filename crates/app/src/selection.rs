//! Hover and selection of assets: picking in the scene (`picking`), intents from the panels,
//! and the highlight drawn around the hovered and selected assets.

use bevy::picking::events::{Click, Out, Over, Pointer};
use bevy::prelude::*;

use crate::camera::CameraCommand;
use crate::frame::AppSystems;
use crate::plant::{AssetIndex, AssetSpec};

pub struct SelectionPlugin;

impl Plugin for SelectionPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Selection>()
            .add_message::<SelectAsset>()
            .add_observer(hover_asset)
            .add_observer(unhover_asset)
            .add_observer(click_asset)
            .add_systems(
                Update,
                clear_selection_with_escape.in_set(AppSystems::Input),
            )
            .add_systems(
                Update,
                (forget_despawned, apply_select_intents)
                    .chain()
                    .in_set(SelectionSystems),
            );
    }
}

/// Draws the hover and selection outlines (needs Bevy's gizmos, so only in the windowed app).
pub struct HighlightPlugin;

impl Plugin for HighlightPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Update, draw_highlights.in_set(AppSystems::Presentation));
    }
}

/// Applies selection intents; runs in [`AppSystems::ApplyIntents`] after the plant is spawned.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct SelectionSystems;

/// The asset under the pointer and the selected assets: `selected` is the one the inspector
/// shows, `also` the others of a multi-selection (Ctrl + click), moved together when editing.
#[derive(Resource, Debug, Default, Clone, PartialEq)]
pub struct Selection {
    pub hovered: Option<Entity>,
    pub selected: Option<Entity>,
    pub also: Vec<Entity>,
}

impl Selection {
    /// Every selected asset, the primary first.
    pub fn all(&self) -> Vec<Entity> {
        self.selected.iter().chain(&self.also).copied().collect()
    }

    pub fn contains(&self, entity: Entity) -> bool {
        self.selected == Some(entity) || self.also.contains(&entity)
    }
}

/// Intent: select this asset (or nothing), optionally moving the camera to it; `additive`
/// adds it to (or removes it from) the current selection instead.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct SelectAsset {
    pub target: SelectTarget,
    pub frame: bool,
    pub additive: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SelectTarget {
    Nothing,
    Entity(Entity),
    /// By asset id, resolved against the current plant (used by the CLI and tests).
    Id(String),
}

/// Pointer events bubble from the mesh that was hit up to the asset entity; react there.
fn hover_asset(
    event: On<Pointer<Over>>,
    assets: Query<(), With<AssetSpec>>,
    mut selection: ResMut<Selection>,
) {
    if assets.contains(event.entity) {
        selection.hovered = Some(event.entity);
    }
}

fn unhover_asset(event: On<Pointer<Out>>, mut selection: ResMut<Selection>) {
    if selection.hovered == Some(event.entity) {
        selection.hovered = None;
    }
}

fn click_asset(
    event: On<Pointer<Click>>,
    assets: Query<(), With<AssetSpec>>,
    keys: Option<Res<ButtonInput<KeyCode>>>,
    mut intents: MessageWriter<SelectAsset>,
) {
    let additive =
        keys.is_some_and(|keys| keys.any_pressed([KeyCode::ControlLeft, KeyCode::ControlRight]));
    // A drag that happens to start and end on the same asset orbits; it does not select.
    if assets.contains(event.entity)
        && event.button == PointerButton::Primary
        && event.duration.as_secs_f32() < 0.4
    {
        intents.write(SelectAsset {
            target: SelectTarget::Entity(event.entity),
            frame: false,
            additive,
        });
    }
}

fn clear_selection_with_escape(
    keys: Res<ButtonInput<KeyCode>>,
    egui_input: Option<Res<bevy_egui::input::EguiWantsInput>>,
    mut intents: MessageWriter<SelectAsset>,
) {
    if egui_input.is_some_and(|input| input.wants_any_keyboard_input()) {
        return;
    }
    if keys.just_pressed(KeyCode::Escape) {
        intents.write(SelectAsset {
            target: SelectTarget::Nothing,
            frame: false,
            additive: false,
        });
    }
}

fn forget_despawned(mut selection: ResMut<Selection>, assets: Query<(), With<AssetSpec>>) {
    let gone = |entity: Option<Entity>| entity.is_some_and(|entity| !assets.contains(entity));
    if gone(selection.selected) {
        selection.selected = None;
    }
    if gone(selection.hovered) {
        selection.hovered = None;
    }
    if selection.also.iter().any(|e| !assets.contains(*e)) {
        selection.also.retain(|e| assets.contains(*e));
    }
}

fn apply_select_intents(
    mut intents: MessageReader<SelectAsset>,
    mut selection: ResMut<Selection>,
    index: Res<AssetIndex>,
    // The local transform, not the global one: an asset spawned this frame has no propagated
    // GlobalTransform yet, and the plant root sits at the world origin.
    assets: Query<(&AssetSpec, &Transform)>,
    mut camera: MessageWriter<CameraCommand>,
) {
    for intent in intents.read() {
        let entity = match &intent.target {
            SelectTarget::Nothing => None,
            SelectTarget::Entity(entity) => Some(*entity).filter(|e| assets.contains(*e)),
            SelectTarget::Id(id) => index.get(id),
        };
        match (intent.additive, entity) {
            (true, Some(entity)) if selection.contains(entity) => {
                // Ctrl + click on a selected asset takes it out of the selection.
                if selection.selected == Some(entity) {
                    selection.selected =
                        (!selection.also.is_empty()).then(|| selection.also.remove(0));
                } else {
                    selection.also.retain(|e| *e != entity);
                }
            }
            (true, Some(entity)) => {
                if let Some(previous) = selection.selected.replace(entity) {
                    selection.also.push(previous);
                }
            }
            _ => {
                if selection.selected != entity || !selection.also.is_empty() {
                    selection.selected = entity;
                    selection.also.clear();
                }
            }
        }
        if intent.frame
            && let Some((spec, transform)) = entity.and_then(|e| assets.get(e).ok())
        {
            let (min, max) = asset_world_bounds(spec, transform);
            camera.write(CameraCommand::FrameBounds { min, max });
        }
    }
}

/// World-space box around an asset including its clearance, for framing.
pub fn asset_world_bounds(spec: &AssetSpec, transform: &Transform) -> (Vec3, Vec3) {
    let (length, width, height) = spec.0.extents();
    let reach = 0.5 * length.hypot(width) + spec.0.clearance;
    let center = transform.translation;
    (
        center - Vec3::new(reach, 0.0, reach),
        center + Vec3::new(reach, height, reach),
    )
}

/// Outlines: a box around the hovered asset, a brighter box and a floor ring for the selected.
/// Gizmos cost nothing when nothing is selected and never touch the shared materials.
fn draw_highlights(
    selection: Res<Selection>,
    assets: Query<(&AssetSpec, &GlobalTransform)>,
    mut gizmos: Gizmos,
) {
    let outline = |gizmos: &mut Gizmos, entity: Entity, color: Color, grow: f32| {
        let Ok((spec, transform)) = assets.get(entity) else {
            return;
        };
        let (length, width, height) = spec.0.extents();
        let transform = transform.compute_transform();
        let box_transform = Transform {
            translation: transform.translation + Vec3::Y * height * 0.5,
            rotation: transform.rotation,
            scale: Vec3::new(length + grow, height + grow, width + grow),
        };
        gizmos.cube(box_transform, color);
    };
    if let Some(hovered) = selection.hovered
        && selection.selected != Some(hovered)
    {
        outline(&mut gizmos, hovered, Color::srgb(0.9, 0.95, 1.0), 0.1);
    }
    for other in &selection.also {
        outline(&mut gizmos, *other, Color::srgb(0.1, 0.75, 0.9), 0.15);
    }
    if let Some(selected) = selection.selected {
        let cyan = Color::srgb(0.1, 0.9, 1.0);
        outline(&mut gizmos, selected, cyan, 0.15);
        outline(&mut gizmos, selected, cyan, 0.25);
        if let Ok((spec, transform)) = assets.get(selected) {
            let (length, width, _) = spec.0.extents();
            let radius = 0.5 * length.hypot(width) + spec.0.clearance.max(0.3);
            gizmos.circle(
                Isometry3d::new(
                    transform.translation() + Vec3::Y * 0.02,
                    Quat::from_rotation_x(std::f32::consts::FRAC_PI_2),
                ),
                radius,
                cyan,
            );
        }
    }
}
