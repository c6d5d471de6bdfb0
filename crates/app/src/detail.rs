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

use bevy::camera::visibility::NoCpuCulling;
use bevy::prelude::*;

use crate::camera::OrbitCamera;
use crate::frame::AppSystems;
use crate::plant::{AssetExtents, FarProxy};

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
        app.add_systems(Update, switch_detail.in_set(AppSystems::Presentation));
    }
}

/// On an asset: drawn as its box now.
#[derive(Component, Debug, Clone, Copy)]
pub struct DrawnFar;

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
#[allow(clippy::type_complexity)]
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
    mut visibility: Query<(&mut Visibility, Has<FarProxy>)>,
    grandchildren: Query<&Children>,
    meshes: Query<(), With<Mesh3d>>,
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
            for entity in subtree.filter(|e| meshes.contains(*e)) {
                if hidden {
                    commands.entity(entity).insert(NoCpuCulling);
                } else {
                    commands.entity(entity).remove::<NoCpuCulling>();
                }
            }
        }
        if far {
            commands.entity(asset).insert(DrawnFar);
        } else {
            commands.entity(asset).remove::<DrawnFar>();
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
