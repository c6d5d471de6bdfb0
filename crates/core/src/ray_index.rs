//! Boxes in space found along a ray nearest first, without testing each: what the scene's
//! picking asks of every asset each frame the pointer is over the 3D view (10,000 in the largest
//! plants the benchmarks lay out). A parry3d bounding volume hierarchy, walked best first, so
//! only the boxes the ray passes near are offered to the caller, and none beyond the nearest
//! hit found so far.
//!
//! Coordinates are plain arrays, so callers (the Bevy scene, tests) need none of parry's types.

use parry3d::bounding_volume::Aabb;
use parry3d::math::Vec3;
use parry3d::partitioning::{Bvh, BvhBuildStrategy};
use parry3d::query::Ray;

/// An axis-aligned box: lowest and highest corner, metres, world frame.
pub type WorldBox = ([f32; 3], [f32; 3]);

/// Boxes by index (the caller's), for ray queries.
#[derive(Default)]
pub struct RayIndex {
    bvh: Bvh,
    len: u32,
}

fn aabb((min, max): WorldBox) -> Aabb {
    Aabb::new(Vec3::from_array(min), Vec3::from_array(max))
}

impl RayIndex {
    /// An index of `boxes`, each known by its position in the slice.
    pub fn build(boxes: &[WorldBox]) -> RayIndex {
        let leaves: Vec<Aabb> = boxes.iter().copied().map(aabb).collect();
        RayIndex {
            bvh: Bvh::from_leaves(BvhBuildStrategy::Binned, &leaves),
            len: boxes.len().min(u32::MAX as usize) as u32,
        }
    }

    /// How many boxes it holds.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Moves box `index` (one that `build` was given). The hierarchy is adjusted above it, not
    /// rebuilt: cheap for the few assets a drag moves, though many moves loosen it (rebuild
    /// then).
    pub fn update(&mut self, index: usize, moved: WorldBox) {
        if index < self.len() {
            self.bvh.insert(aabb(moved), index as u32);
        }
    }

    /// The nearest hit along the ray from `origin` in `direction` (any length), within
    /// `max_distance` (in lengths of `direction`). `hit(index, best)` tests box `index`'s
    /// contents and returns their distance along the ray, if hit nearer than `best`; it is
    /// called only for boxes the ray enters before the nearest hit found so far, nearest boxes
    /// first. Returns the index hit and its distance.
    pub fn nearest_along(
        &self,
        origin: [f32; 3],
        direction: [f32; 3],
        max_distance: f32,
        hit: impl Fn(usize, f32) -> Option<f32>,
    ) -> Option<(usize, f32)> {
        if self.is_empty() {
            return None;
        }
        let ray = Ray::new(Vec3::from_array(origin), Vec3::from_array(direction));
        self.bvh
            .cast_ray(&ray, max_distance, |leaf, best| hit(leaf as usize, best))
            .map(|(leaf, distance)| (leaf as usize, distance))
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    /// A grid of unit boxes on the floor, 2 m apart, `columns` x `rows`.
    fn grid(columns: usize, rows: usize) -> Vec<WorldBox> {
        (0..columns * rows)
            .map(|i| {
                let (x, z) = ((i % columns) as f32 * 2.0, (i / columns) as f32 * 2.0);
                ([x, 0.0, z], [x + 1.0, 1.0, z + 1.0])
            })
            .collect()
    }

    /// Where a ray enters a box, if it does (the slab test), for a reference answer.
    fn enters(origin: [f32; 3], direction: [f32; 3], (min, max): WorldBox) -> Option<f32> {
        let (mut near, mut far) = (0.0f32, f32::INFINITY);
        for axis in 0..3 {
            let inverse = 1.0 / direction[axis];
            let a = (min[axis] - origin[axis]) * inverse;
            let b = (max[axis] - origin[axis]) * inverse;
            near = near.max(a.min(b));
            far = far.min(a.max(b));
        }
        (near <= far).then_some(near)
    }

    #[test]
    fn the_nearest_box_is_found_testing_few_of_them() {
        let boxes = grid(100, 100);
        let index = RayIndex::build(&boxes);
        let tested = Cell::new(0);
        // From above and to the side of the grid, looking down across it.
        let origin = [-20.0, 30.0, 50.5];
        let direction = [1.0, -0.8, 0.01];
        let found = index.nearest_along(origin, direction, f32::MAX, |i, best| {
            tested.set(tested.get() + 1);
            enters(origin, direction, boxes[i]).filter(|d| *d < best)
        });
        let expected = boxes
            .iter()
            .enumerate()
            .filter_map(|(i, b)| Some((i, enters(origin, direction, *b)?)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        let (found, expected) = (found.expect("a hit"), expected.expect("a hit"));
        assert_eq!(found.0, expected.0);
        assert!(
            (found.1 - expected.1).abs() < 1e-4,
            "{found:?} {expected:?}"
        );
        assert!(tested.get() < 50, "{} of 10,000 boxes tested", tested.get());
    }

    #[test]
    fn a_box_whose_contents_are_missed_lets_one_behind_it_win() {
        let boxes = grid(10, 1);
        let index = RayIndex::build(&boxes);
        // Along the row at half height: the first box's contents are "not hit" (a hollow asset).
        let found = index.nearest_along([-5.0, 0.5, 0.5], [1.0, 0.0, 0.0], f32::MAX, |i, _| {
            (i != 0).then(|| enters([-5.0, 0.5, 0.5], [1.0, 0.0, 0.0], boxes[i]))?
        });
        assert_eq!(found.map(|f| f.0), Some(1));
        // Nothing along a ray that passes above every box, and nothing in an empty index.
        assert!(
            index
                .nearest_along([-5.0, 3.0, 0.5], [1.0, 0.0, 0.0], f32::MAX, |_, _| Some(
                    0.0
                ))
                .is_none()
        );
        assert!(
            RayIndex::default()
                .nearest_along([0.0; 3], [1.0, 0.0, 0.0], f32::MAX, |_, _| Some(0.0))
                .is_none()
        );
    }

    #[test]
    fn a_moved_box_is_found_where_it_went() {
        let boxes = grid(10, 10);
        let mut index = RayIndex::build(&boxes);
        // Box 55 lifted to 50 m up, beside the others: a ray up there finds it, and only it.
        index.update(55, ([3.0, 50.0, 3.0], [4.0, 51.0, 4.0]));
        let found = index.nearest_along([-5.0, 50.5, 3.5], [1.0, 0.0, 0.0], f32::MAX, |i, _| {
            Some(i as f32)
        });
        assert_eq!(found.map(|f| f.0), Some(55));
        // Out of range: ignored.
        index.update(500, ([0.0; 3], [1.0; 3]));
        assert_eq!(index.len(), 100);
    }
}
