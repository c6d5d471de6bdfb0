//! Which asset is under the pointer: a bevy_picking backend that reports hits on asset entities.
//!
//! Bevy's mesh backend tests the ray against the box of every mesh entity every frame, then the
//! triangles of those it crosses: 120,000 part meshes in the 10,000-asset plant. Everything the
//! twin does with the pointer is per asset (hover, select, drag), so this backend tests one box
//! per asset (its bounding box, 10 % larger so no part sticks out of it), and the triangles of
//! the parts only for assets drawn with their parts; an asset drawn as its far box (`detail`)
//! is hit on the box. Hits go to the asset entity itself. The boxes are kept in a hierarchy
//! ([`RayIndex`]) walked nearest first: only the assets the ray passes near are tested, and
//! none behind the nearest hit.

use bevy::math::bounding::{Aabb3d, BoundingVolume};
use bevy::math::{Affine3A, Ray3d, Vec3A};
use bevy::mesh::{Indices, PrimitiveTopology, VertexAttributeValues};
use bevy::picking::PickingSystems;
use bevy::picking::backend::ray::RayMap;
use bevy::picking::backend::{HitData, PointerHits};
use bevy::picking::mesh_picking::ray_cast::{
    Backfaces, RayMeshHit, ray_aabb_intersection_3d, ray_mesh_intersection,
};
use bevy::platform::collections::HashMap;
use bevy::prelude::*;
use plant_twin_core::ray_index::{RayIndex, WorldBox};

use crate::camera::OrbitCamera;
use crate::detail::DrawnFar;
use crate::plant::{AssetExtents, FarProxy};

/// The asset boxes are this much larger than the footprint's box.
const BOX_MARGIN: f32 = 1.1;

pub struct AssetPickingPlugin;

impl Plugin for AssetPickingPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<AssetRayIndex>().add_systems(
            PreUpdate,
            (index_assets, pick_assets)
                .chain()
                .in_set(PickingSystems::Backend),
        );
    }
}

/// An asset's box in its own frame: on the floor, centred on its position.
fn asset_box(extents: &AssetExtents) -> Aabb3d {
    let half = Vec3A::new(extents.length_m, extents.height_m, extents.width_m) * 0.5 * BOX_MARGIN;
    Aabb3d {
        min: Vec3A::new(-half.x, 0.0, -half.z),
        max: Vec3A::new(half.x, 2.0 * half.y, half.z),
    }
}

/// The ray's nearest hit on a triangle mesh drawn with `transform`.
fn ray_on_mesh(ray: Ray3d, mesh: &Mesh, transform: &Affine3A) -> Option<RayMeshHit> {
    if mesh.primitive_topology() != PrimitiveTopology::TriangleList {
        return None;
    }
    let positions = mesh
        .try_attribute(Mesh::ATTRIBUTE_POSITION)
        .ok()?
        .as_float3()?;
    let normals = mesh
        .try_attribute(Mesh::ATTRIBUTE_NORMAL)
        .ok()
        .and_then(VertexAttributeValues::as_float3);
    let cull = Backfaces::Cull;
    match mesh.try_indices().ok() {
        Some(Indices::U16(i)) => {
            ray_mesh_intersection(ray, transform, positions, normals, Some(i), None, cull)
        }
        Some(Indices::U32(i)) => {
            ray_mesh_intersection(ray, transform, positions, normals, Some(i), None, cull)
        }
        None => ray_mesh_intersection::<u32>(ray, transform, positions, normals, None, None, cull),
    }
}

/// The assets' boxes in world space (around the turned [`asset_box`]), for ray queries: the
/// pointer's ray is tested against the few assets it passes near, not against every asset.
#[derive(Resource, Default)]
pub struct AssetRayIndex {
    index: RayIndex,
    /// The asset at each index.
    entities: Vec<Entity>,
    /// Each asset's index.
    slots: HashMap<Entity, usize>,
}

/// The world-space box around an asset's turned box.
fn world_box(extents: &AssetExtents, transform: &GlobalTransform) -> WorldBox {
    let (_, rotation, translation) = transform.to_scale_rotation_translation();
    let turned = asset_box(extents).transformed_by(translation, rotation);
    (turned.min.to_array(), turned.max.to_array())
}

/// Keeps [`AssetRayIndex`] where the assets are: rebuilt when assets come or go (a layout
/// loaded), moved box by box when a few move (a drag).
#[allow(clippy::type_complexity)]
fn index_assets(
    mut index: ResMut<AssetRayIndex>,
    all: Query<(Entity, &GlobalTransform, &AssetExtents)>,
    moved: Query<
        (Entity, &GlobalTransform, &AssetExtents),
        Or<(Changed<GlobalTransform>, Changed<AssetExtents>)>,
    >,
    added: Query<(), Added<AssetExtents>>,
    mut removed: RemovedComponents<AssetExtents>,
) {
    let gone = removed.read().count() > 0;
    let moved_count = moved.iter().count();
    // A quarter of them moved: cheaper to build again than to move each up its branch.
    if gone || !added.is_empty() || moved_count * 4 > index.entities.len() {
        let mut entities = Vec::with_capacity(all.iter().len());
        let mut boxes = Vec::with_capacity(entities.capacity());
        for (entity, transform, extents) in &all {
            entities.push(entity);
            boxes.push(world_box(extents, transform));
        }
        index.index = RayIndex::build(&boxes);
        index.slots = entities.iter().enumerate().map(|(i, e)| (*e, i)).collect();
        index.entities = entities;
        return;
    }
    for (entity, transform, extents) in &moved {
        if let Some(&slot) = index.slots.get(&entity) {
            index.index.update(slot, world_box(extents, transform));
        }
    }
}

#[allow(clippy::type_complexity, clippy::too_many_arguments)]
fn pick_assets(
    rays: Res<RayMap>,
    cameras: Query<&Camera, With<OrbitCamera>>,
    index: Res<AssetRayIndex>,
    assets: Query<(
        &GlobalTransform,
        &AssetExtents,
        &InheritedVisibility,
        Has<DrawnFar>,
    )>,
    children: Query<&Children>,
    parts: Query<(&Mesh3d, &GlobalTransform, &InheritedVisibility), Without<FarProxy>>,
    meshes: Res<Assets<Mesh>>,
    mut hits: MessageWriter<PointerHits>,
) {
    // Where the ray meets an asset, if nearer than `best`: on its box when it is drawn as its
    // box, else on the nearest of its parts' triangles, with the surface's normal.
    let hit_asset = |ray: Ray3d, asset: Entity, best: f32| -> Option<(f32, Vec3, Vec3)> {
        let (transform, extents, visible, far) = assets.get(asset).ok()?;
        if !visible.get() {
            return None;
        }
        let box_distance = ray_aabb_intersection_3d(ray, &asset_box(extents), &transform.affine())?;
        if box_distance >= best {
            return None;
        }
        if far {
            // Drawn as its box: the box is what the pointer is on.
            return Some((box_distance, ray.get_point(box_distance), Vec3::Y));
        }
        let mut nearest: Option<(f32, Vec3, Vec3)> = None;
        for part in children.iter_descendants(asset) {
            let Ok((mesh, transform, visible)) = parts.get(part) else {
                continue;
            };
            let Some(mesh) = meshes.get(&mesh.0).filter(|_| visible.get()) else {
                continue;
            };
            if let Some(hit) = ray_on_mesh(ray, mesh, &transform.affine())
                && hit.distance < best
                && nearest.is_none_or(|(d, _, _)| hit.distance < d)
            {
                nearest = Some((hit.distance, hit.point, hit.normal));
            }
        }
        nearest
    };
    for (&ray_id, &ray) in rays.iter() {
        let Ok(camera) = cameras.get(ray_id.camera) else {
            continue;
        };
        let found = index.index.nearest_along(
            ray.origin.to_array(),
            ray.direction.to_array(),
            f32::MAX,
            |slot, best| Some(hit_asset(ray, *index.entities.get(slot)?, best)?.0),
        );
        // The winner's point and normal (the index keeps only distances).
        let picks = found
            .and_then(|(slot, _)| {
                let asset = *index.entities.get(slot)?;
                let (distance, point, normal) = hit_asset(ray, asset, f32::MAX)?;
                Some(vec![(
                    asset,
                    HitData::new(ray_id.camera, distance, Some(point), Some(normal)),
                )])
            })
            .unwrap_or_default();
        hits.write(PointerHits::new(ray_id.pointer, picks, camera.order as f32));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_box_stands_on_the_floor_around_the_footprint() {
        let extents = AssetExtents {
            length_m: 4.0,
            width_m: 2.0,
            height_m: 3.0,
        };
        let b = asset_box(&extents);
        assert_eq!(b.min.y, 0.0);
        assert!((b.max.y - 3.3).abs() < 1e-5);
        assert!((b.max.x - 2.2).abs() < 1e-5 && (b.min.x + 2.2).abs() < 1e-5);
        assert!((b.max.z - 1.1).abs() < 1e-5);
        // A ray straight down onto the asset's top, turned a quarter about the vertical.
        let transform = Affine3A::from_rotation_translation(
            Quat::from_rotation_y(std::f32::consts::FRAC_PI_2),
            Vec3::new(10.0, 0.0, 5.0),
        );
        let down = |x: f32, z: f32| Ray3d::new(Vec3::new(x, 20.0, z), Dir3::NEG_Y);
        let hit = ray_aabb_intersection_3d(down(10.0, 6.5), &b, &transform);
        assert!(
            hit.is_some_and(|d| (d - (20.0 - 3.3)).abs() < 1e-4),
            "{hit:?}"
        );
        // Turned, the 4 m length runs along z: 1.5 m off in x is beside it.
        assert!(ray_aabb_intersection_3d(down(11.5, 5.0), &b, &transform).is_none());
    }

    #[test]
    fn a_turned_asset_is_indexed_by_the_box_around_it() {
        let extents = AssetExtents {
            length_m: 4.0,
            width_m: 2.0,
            height_m: 3.0,
        };
        let transform = GlobalTransform::from(
            Transform::from_xyz(10.0, 0.0, 5.0)
                .with_rotation(Quat::from_rotation_y(std::f32::consts::FRAC_PI_2)),
        );
        let (min, max) = world_box(&extents, &transform);
        // Turned a quarter, the 4 m length (4.4 m with the margin) runs along z.
        let expected = ([8.9, 0.0, 2.8], [11.1, 3.3, 7.2]);
        for axis in 0..3 {
            assert!((min[axis] - expected.0[axis]).abs() < 1e-4, "{min:?}");
            assert!((max[axis] - expected.1[axis]).abs() < 1e-4, "{max:?}");
        }
    }

    #[test]
    fn a_ray_hits_a_mesh_at_its_surface() {
        let mesh: Mesh = Cuboid::new(2.0, 2.0, 2.0).into();
        let transform = Affine3A::from_translation(Vec3::new(0.0, 1.0, 0.0));
        let ray = Ray3d::new(Vec3::new(0.0, 1.0, 10.0), Dir3::NEG_Z);
        let hit = ray_on_mesh(ray, &mesh, &transform).expect("hits the cube");
        assert!((hit.distance - 9.0).abs() < 1e-4, "{}", hit.distance);
        let past = Ray3d::new(Vec3::new(5.0, 1.0, 10.0), Dir3::NEG_Z);
        assert!(ray_on_mesh(past, &mesh, &transform).is_none());
    }
}
