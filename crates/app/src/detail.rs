//! Level of detail: far from the camera an asset is drawn as one box of its footprint and height
//! instead of its parts, from the distance where its small parts (0.3 m: a motor, a valve, a
//! gripper) would span under 2 of the pixels the 3D view is rendered with. There they add
//! nothing an eye can see, while they are most of what a software renderer spends its frame on
//! (the 10,000-asset plant has 109,000 part meshes; as boxes, 10,000). The distance follows
//! the rendered view's height: 94 m for the 520-pixel view of a 1280x720 window, 160 m at
//! 1920x1080, more on a 4K wall, half that where the low tier renders the view at half its
//! size.
//!
//! The box takes the asset's colour the way its body does (alarm state, score, energy...), at
//! full strength: from afar it is the only thing left to see. It is pickable like the parts.
//!
//! Bevy's `VisibilityRange` would switch each part mesh on its own distance; this switches a
//! whole asset at once, on the asset's distance, so an asset is never half boxed.
//!
//! A boxed asset's parts are then stowed: [`Stowed`] is a disabling component, so they leave
//! every query that does not ask for them, Bevy's own included. Hidden but not stowed, the
//! 10,000-asset plant's 109,000 hidden part meshes were still walked each frame by every
//! change-detecting pass (transform dirty marking, bounds, visibility, the renderer's mesh
//! extraction with its fifteen `Changed` filters). What must keep reaching them (the colours,
//! the stale grey) asks with `Allow<Stowed>`, so a part comes back in its current colour.

use bevy::camera::visibility::NoCpuCulling;
use bevy::prelude::*;

use crate::camera::OrbitCamera;
use crate::frame::AppSystems;
use crate::plant::{AssetComponentPart, AssetExtents, FarProxy};

/// The size of the small parts whose visibility decides the switch.
pub const SMALL_PART_M: f32 = 0.3;

/// Parts smaller than this on screen are not worth drawing.
pub const MIN_PART_PX: f32 = 2.0;

/// Either side of the switching distance an asset keeps how it is drawn (as a share of the
/// distance), so that a camera resting there does not make assets flicker.
pub const HYSTERESIS: f32 = 0.05;

/// The 3D view's height (logical pixels) assumed until the panels have laid it out.
const DEFAULT_VIEW_HEIGHT_PX: f32 = 540.0;

/// The distance from the camera beyond which a [`SMALL_PART_M`] part spans under
/// [`MIN_PART_PX`] pixels of a 3D view `view_height_px` high.
pub fn detail_distance_m(view_height_px: f32) -> f32 {
    let metres_per_px_at_1m = 2.0 * (crate::camera::FOV_Y * 0.5).tan() / view_height_px.max(1.0);
    SMALL_PART_M / (MIN_PART_PX * metres_per_px_at_1m)
}

pub struct DetailPlugin;

impl Plugin for DetailPlugin {
    fn build(&self, app: &mut App) {
        app.register_disabling_component::<Stowed>();
        app.add_systems(
            Update,
            (stow_parts, switch_detail)
                .chain()
                .in_set(AppSystems::Presentation),
        );
    }
}

/// On an asset: drawn as its box now.
#[derive(Component, Debug, Clone, Copy)]
pub struct DrawnFar;

/// On the parts of an asset drawn as its box (component groups and their meshes, body meshes),
/// once the renderer has taken them off screen: a disabling component, so queries that do not
/// name it skip them.
#[derive(Component, Debug, Clone, Copy)]
pub struct Stowed;

/// On an asset whose parts were hidden this frame: they are stowed next frame, when the
/// renderer has extracted them as hidden. Stowed at once, they would keep their last extracted
/// state, on screen.
#[derive(Component, Debug, Clone, Copy)]
struct StowNextFrame;

/// Should an asset at `distance_m` from the camera be drawn as a box, given the switching
/// distance and how it is drawn now?
pub fn draw_far(distance_m: f32, switch_m: f32, far_now: bool) -> bool {
    if far_now {
        distance_m > switch_m * (1.0 - HYSTERESIS)
    } else {
        distance_m > switch_m * (1.0 + HYSTERESIS)
    }
}

/// Swaps parts and box per asset when the asset crosses the threshold. Only assets that cross
/// are touched, so a resting camera changes nothing and nothing is re-propagated.
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
fn switch_detail(
    mut commands: Commands,
    cameras: Query<&GlobalTransform, With<OrbitCamera>>,
    assets: Query<(
        Entity,
        &GlobalTransform,
        &AssetExtents,
        &Children,
        Has<DrawnFar>,
    )>,
    mut visibility: Query<(&mut Visibility, Has<FarProxy>), Allow<Stowed>>,
    grandchildren: Query<&Children, Allow<Stowed>>,
    meshes: Query<(), (With<Mesh3d>, Allow<Stowed>)>,
    mut transforms: Query<&mut Transform, Allow<Stowed>>,
    view: Option<Res<crate::camera::SceneTarget>>,
) {
    let Some(eye) = cameras.iter().next().map(GlobalTransform::translation) else {
        return;
    };
    // The pixels the scene is rendered with: a scaled view (the low tier's) has fewer than
    // the window shows it on, and a part under 2 of them is not drawn any better by its mesh.
    let view_height_px = view
        .map(|v| match &v.image {
            Some((_, size)) => size.y as f32,
            None => v.rect.height(),
        })
        .filter(|h| *h > 0.0)
        .unwrap_or(DEFAULT_VIEW_HEIGHT_PX);
    let switch_m = detail_distance_m(view_height_px);
    for (asset, transform, extents, children, far_now) in &assets {
        let centre = transform.translation() + Vec3::Y * (extents.height_m * 0.5);
        let far = draw_far(centre.distance(eye), switch_m, far_now);
        if far == far_now {
            continue;
        }
        for child in children.iter() {
            let Ok((mut shown, proxy)) = visibility.get_mut(child) else {
                continue;
            };
            let hidden = proxy != far;
            *shown = if hidden {
                Visibility::Hidden
            } else {
                Visibility::Inherited
            };
            // What is hidden leaves Bevy's per-frame culling passes, which otherwise reset
            // and test every mesh with a visibility each frame, hidden or not (at 10,000
            // assets, 120,000 of them): with `NoCpuCulling` its view visibility follows its
            // inherited one, only when that changes. Shown again, it is culled as before:
            // Bevy 0.19 does not draw a shown mesh that kept `NoCpuCulling` (tried on the far
            // boxes). The asset and its component groups, which have no mesh, are out of the
            // passes from their spawn (`plant`).
            let subtree = std::iter::once(child).chain(
                grandchildren
                    .get(child)
                    .into_iter()
                    .flat_map(|parts| parts.iter()),
            );
            for entity in subtree {
                if hidden {
                    if meshes.contains(entity) {
                        commands.entity(entity).try_insert(NoCpuCulling);
                    }
                    continue;
                }
                let mut back = commands.entity(entity);
                back.try_remove::<Stowed>();
                if meshes.contains(entity) {
                    back.try_remove::<NoCpuCulling>();
                }
                // Stowed, a part's global transform was not kept up: its asset may have been
                // dragged meanwhile. Marked changed, it is propagated again.
                if let Ok(mut transform) = transforms.get_mut(entity) {
                    transform.set_changed();
                }
            }
        }
        if far {
            commands.entity(asset).try_insert((DrawnFar, StowNextFrame));
        } else {
            commands
                .entity(asset)
                .try_remove::<(DrawnFar, StowNextFrame)>();
        }
    }
}

/// Stows the parts hidden last frame: a component group and its meshes, or a body mesh. Other
/// children (a glTF model's root, whose scene may still be loading) are only hidden.
#[allow(clippy::type_complexity)]
fn stow_parts(
    mut commands: Commands,
    assets: Query<(Entity, &Children), With<StowNextFrame>>,
    parts: Query<(Has<Mesh3d>, Has<AssetComponentPart>, Option<&Children>), Without<FarProxy>>,
) {
    for (asset, children) in &assets {
        commands.entity(asset).try_remove::<StowNextFrame>();
        for child in children.iter() {
            let Ok((mesh, group, meshes)) = parts.get(child) else {
                continue;
            };
            if !(mesh || group) {
                continue;
            }
            commands.entity(child).try_insert(Stowed);
            for part in meshes.into_iter().flat_map(|m| m.iter()) {
                commands.entity(part).try_insert(Stowed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switching_distance_is_where_a_small_part_spans_two_pixels() {
        for height_px in [520.0, 880.0, 2000.0] {
            let d = detail_distance_m(height_px);
            let px = SMALL_PART_M / (2.0 * d * (crate::camera::FOV_Y * 0.5).tan()) * height_px;
            assert!((px - MIN_PART_PX).abs() < 1e-3, "{height_px}: {px}");
        }
        // A 720p window's 3D view, and a 1080p one's.
        assert!((detail_distance_m(520.0) - 94.1).abs() < 0.5);
        assert!((detail_distance_m(880.0) - 159.3).abs() < 0.5);
    }

    #[test]
    fn an_asset_switches_past_the_threshold_and_keeps_its_look_inside_the_band() {
        let d = 100.0;
        assert!(!draw_far(50.0, d, false));
        assert!(!draw_far(101.0, d, false));
        assert!(draw_far(105.1, d, false));
        assert!(draw_far(99.0, d, true));
        assert!(!draw_far(94.9, d, true));
    }
}
