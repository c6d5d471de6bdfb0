//! Plan-to-world conventions and the parry3d shapes of assets. No Bevy here: the scene, the
//! validator and (later) clearance checks all use these same functions.
//!
//! World frame (as Bevy's): `+Y` up, plan `x` → world `+X`, plan `y` (north) → world `-Z`, so a
//! camera looking down with `+X` to the right sees north at the top of the screen, and a positive
//! plan rotation (counter-clockwise from above) is a positive rotation about world `+Y`.

use parry3d::bounding_volume::{Aabb, BoundingVolume};
use parry3d::math::{Pose, Vec3};
use parry3d::shape::{Cuboid, Cylinder, SharedShape};

use crate::layout::{Asset, Footprint};

/// World position of a plan point at height `up`.
pub fn world_from_plan(x: f32, y: f32, up: f32) -> Vec3 {
    Vec3::new(x, up, -y)
}

/// Plan point `(x, y)` of a world position (height dropped).
pub fn plan_from_world(world: Vec3) -> (f32, f32) {
    (world.x, -world.z)
}

/// Rotation about world `+Y` for a plan rotation in degrees.
pub fn yaw_from_rotation_deg(rotation_deg: f32) -> f32 {
    rotation_deg.to_radians()
}

/// Pose of the asset's footprint centre, at half its height so the shape sits on the floor.
pub fn world_from_asset(asset: &Asset) -> Pose {
    let (_, _, height) = asset.extents();
    let (x, y) = asset.position;
    Pose::from_parts(
        world_from_plan(x, y, height * 0.5),
        parry3d::math::Rot3::from_rotation_y(yaw_from_rotation_deg(asset.rotation_deg)),
    )
}

/// The asset's footprint as a parry3d shape in its own frame (centred, `+Y` up).
pub fn asset_shape(asset: &Asset) -> AssetShape {
    match &asset.footprint {
        Footprint::Box {
            length,
            width,
            height,
        } => AssetShape::Box(Cuboid::new(Vec3::new(*length, *height, *width) * 0.5)),
        Footprint::Cylinder { radius, height } => {
            AssetShape::Cylinder(Cylinder::new(height * 0.5, *radius))
        }
        Footprint::Compound(parts) => {
            // The asset's pose sits at half its total height; each box stands on the floor.
            let half_total = asset.extents().2 * 0.5;
            let boxes = parts
                .iter()
                .map(|part| {
                    let pose = Pose::from_parts(
                        world_from_plan(
                            part.offset.0,
                            part.offset.1,
                            part.height * 0.5 - half_total,
                        ),
                        parry3d::math::Rot3::from_rotation_y(yaw_from_rotation_deg(
                            part.rotation_deg,
                        )),
                    );
                    (
                        pose,
                        SharedShape::cuboid(part.length * 0.5, part.height * 0.5, part.width * 0.5),
                    )
                })
                .collect();
            AssetShape::Compound(SharedShape::compound(boxes))
        }
    }
}

/// A footprint shape; a closed enum keeps the common cases free of dynamic dispatch.
#[derive(Clone)]
pub enum AssetShape {
    Box(Cuboid),
    Cylinder(Cylinder),
    Compound(SharedShape),
}

impl std::fmt::Debug for AssetShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AssetShape::Box(cuboid) => write!(f, "Box({:?})", cuboid.half_extents),
            AssetShape::Cylinder(cylinder) => write!(f, "Cylinder({cylinder:?})"),
            AssetShape::Compound(_) => write!(f, "Compound"),
        }
    }
}

impl AssetShape {
    pub fn aabb(&self, pose: &Pose) -> Aabb {
        match self {
            AssetShape::Box(cuboid) => cuboid.aabb(pose),
            AssetShape::Cylinder(cylinder) => cylinder.aabb(pose),
            // parry bounds a compound by its parts' local box turned with it, which grows at
            // odd angles; the union of the parts' own boxes is exact and matches
            // `Asset::plan_bounds`, so validation and the floor-boundary check agree.
            AssetShape::Compound(shape) => shape
                .as_compound()
                .and_then(|compound| {
                    compound
                        .shapes()
                        .iter()
                        .map(|(part_pose, part)| part.compute_aabb(&(*pose * *part_pose)))
                        .reduce(|a, b| a.merged(&b))
                })
                .unwrap_or_else(|| shape.compute_aabb(pose)),
        }
    }

    /// The shape for parry3d's queries.
    pub fn as_shape(&self) -> &dyn parry3d::shape::Shape {
        match self {
            AssetShape::Box(cuboid) => cuboid,
            AssetShape::Cylinder(cylinder) => cylinder,
            AssetShape::Compound(shape) => shape.as_ref(),
        }
    }
}

/// Twice the signed area of a plan polygon (positive when counter-clockwise).
fn signed_area2(points: &[(f32, f32)]) -> f32 {
    let n = points.len();
    (0..n)
        .map(|i| {
            let (a, b) = (points[i], points[(i + 1) % n]);
            a.0 * b.1 - b.0 * a.1
        })
        .sum()
}

/// Triangles (as index triples, counter-clockwise) covering a simple polygon, by ear clipping.
///
/// Returns fewer triangles than `n - 2` only for degenerate input (collinear or
/// self-intersecting corners), never panics.
///
/// ```
/// let square = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)];
/// assert_eq!(plant_twin_core::geometry::triangulate_polygon(&square).len(), 2);
/// ```
pub fn triangulate_polygon(points: &[(f32, f32)]) -> Vec<[usize; 3]> {
    let mut remaining: Vec<usize> = (0..points.len()).collect();
    if signed_area2(points) < 0.0 {
        remaining.reverse();
    }
    let cross = |o: (f32, f32), a: (f32, f32), b: (f32, f32)| {
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    };
    let mut triangles = Vec::new();
    while remaining.len() > 3 {
        let n = remaining.len();
        let ear = (0..n).find(|&i| {
            let (a, b, c) = (
                points[remaining[(i + n - 1) % n]],
                points[remaining[i]],
                points[remaining[(i + 1) % n]],
            );
            if cross(a, b, c) <= 0.0 {
                return false;
            }
            remaining.iter().all(|&j| {
                let p = points[j];
                p == a
                    || p == b
                    || p == c
                    || !(cross(a, b, p) >= 0.0 && cross(b, c, p) >= 0.0 && cross(c, a, p) >= 0.0)
            })
        });
        let Some(i) = ear else {
            break;
        };
        triangles.push([
            remaining[(i + n - 1) % n],
            remaining[i],
            remaining[(i + 1) % n],
        ]);
        remaining.remove(i);
    }
    if remaining.len() == 3 {
        triangles.push([remaining[0], remaining[1], remaining[2]]);
    }
    triangles
}

/// Diagonal hatch lines (rising at 45 degrees) clipped to a simple polygon, `spacing` metres
/// apart, as plan segments.
pub fn hatch_segments(points: &[(f32, f32)], spacing: f32) -> Vec<((f32, f32), (f32, f32))> {
    let n = points.len();
    if n < 3 || spacing <= 0.0 {
        return vec![];
    }
    // Lines x - y = c; along each line, parametrise by x.
    let offsets: Vec<f32> = points.iter().map(|(x, y)| x - y).collect();
    let (lo, hi) = offsets
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &c| {
            (lo.min(c), hi.max(c))
        });
    let mut segments = vec![];
    let mut c = (lo / spacing).ceil() * spacing;
    while c <= hi {
        let mut crossings: Vec<f32> = vec![];
        for i in 0..n {
            let (a, b) = (points[i], points[(i + 1) % n]);
            let (ca, cb) = (offsets[i], offsets[(i + 1) % n]);
            // Half-open test so a line through a corner is counted once.
            if (ca <= c && c < cb) || (cb <= c && c < ca) {
                let t = (c - ca) / (cb - ca);
                crossings.push(a.0 + t * (b.0 - a.0));
            }
        }
        crossings.sort_by(f32::total_cmp);
        for pair in crossings.chunks_exact(2) {
            segments.push(((pair[0], pair[0] - c), (pair[1], pair[1] - c)));
        }
        c += spacing;
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{AssetKind, Footprint};

    fn asset(footprint: Footprint, position: (f32, f32), rotation_deg: f32) -> Asset {
        Asset {
            id: "a".into(),
            name: "A".into(),
            kind: AssetKind::Pump,
            line: None,
            position,
            rotation_deg,
            footprint,
            clearance: 0.0,
            components: vec![],
            signals: vec![],
            telemetry: None,
            pinned: false,
            pickup: None,
            dropoff: None,
            producing: None,
            shiftable: false,
        }
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-4
    }

    #[test]
    fn triangulates_a_concave_polygon_fully() {
        // An L shape: area 3, needs 4 triangles, in either winding.
        let l_shape = [
            (0.0, 0.0),
            (2.0, 0.0),
            (2.0, 1.0),
            (1.0, 1.0),
            (1.0, 2.0),
            (0.0, 2.0),
        ];
        for points in [l_shape.to_vec(), l_shape.iter().rev().copied().collect()] {
            let triangles = triangulate_polygon(&points);
            assert_eq!(triangles.len(), 4);
            let area: f32 = triangles
                .iter()
                .map(|t| signed_area2(&[points[t[0]], points[t[1]], points[t[2]]]) * 0.5)
                .sum();
            assert!(close(area, 3.0), "area {area}");
        }
    }

    #[test]
    fn hatch_lines_stay_inside_a_square() {
        let square = [(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)];
        let segments = hatch_segments(&square, 1.0);
        // Offsets -4..=4 give 8 lines with length (corner lines touch at one point and pair up
        // into zero-length segments or are dropped by the half-open rule).
        assert!(
            segments.len() >= 7 && segments.len() <= 9,
            "{}",
            segments.len()
        );
        for ((x0, y0), (x1, y1)) in segments {
            for v in [x0, y0, x1, y1] {
                assert!((-1e-4..=4.0001).contains(&v));
            }
            assert!(close(x1 - x0, y1 - y0), "segments rise at 45 degrees");
        }
    }

    fn plan_bounds_of(asset: &Asset) -> ((f32, f32), (f32, f32)) {
        asset.plan_bounds()
    }

    /// The same bounds from parry3d's bounding boxes of the collision shape's parts.
    fn parry_plan_bounds(asset: &Asset) -> ((f32, f32), (f32, f32)) {
        let aabb = asset_shape(asset).aabb(&world_from_asset(asset));
        // World -Z is plan +y, so the world z range flips.
        ((aabb.mins.x, -aabb.maxs.z), (aabb.maxs.x, -aabb.mins.z))
    }

    #[test]
    fn layout_plan_bounds_match_the_collision_shapes() {
        let footprints = [
            Footprint::Box {
                length: 4.0,
                width: 2.0,
                height: 1.0,
            },
            Footprint::Cylinder {
                radius: 1.5,
                height: 3.0,
            },
            Footprint::Compound(vec![
                crate::layout::FootprintPart {
                    offset: (0.0, 0.0),
                    length: 6.0,
                    width: 1.0,
                    height: 1.0,
                    rotation_deg: 0.0,
                },
                crate::layout::FootprintPart {
                    offset: (2.5, 2.0),
                    length: 1.0,
                    width: 3.0,
                    height: 2.0,
                    rotation_deg: 30.0,
                },
            ]),
        ];
        for footprint in footprints {
            for rotation_deg in [0.0, 17.0, 90.0, 135.0, 271.0] {
                let asset = asset(footprint.clone(), (10.0, -4.0), rotation_deg);
                let ((a0, b0), (a1, b1)) = asset.plan_bounds();
                let ((p0, q0), (p1, q1)) = parry_plan_bounds(&asset);
                for (ours, parry) in [(a0, p0), (b0, q0), (a1, p1), (b1, q1)] {
                    assert!(
                        (ours - parry).abs() < 1e-3,
                        "{footprint:?} at {rotation_deg} deg: {ours} vs parry {parry}"
                    );
                }
            }
        }
    }

    #[test]
    fn plan_bounds_of_a_box_turn_with_it() {
        let footprint = Footprint::Box {
            length: 4.0,
            width: 2.0,
            height: 1.0,
        };
        let ((x0, y0), (x1, y1)) = plan_bounds_of(&asset(footprint.clone(), (10.0, 5.0), 0.0));
        assert!(close(x0, 8.0) && close(x1, 12.0) && close(y0, 4.0) && close(y1, 6.0));
        let ((x0, y0), (x1, y1)) = plan_bounds_of(&asset(footprint.clone(), (10.0, 5.0), 90.0));
        assert!(close(x0, 9.0) && close(x1, 11.0) && close(y0, 3.0) && close(y1, 7.0));
        // At 45 degrees the half-diagonal projection is (2 + 1) / sqrt(2) on both axes.
        let ((x0, _), (x1, _)) = plan_bounds_of(&asset(footprint, (10.0, 5.0), 45.0));
        let half = 3.0 / 2f32.sqrt();
        assert!(close(x0, 10.0 - half) && close(x1, 10.0 + half));
    }

    #[test]
    fn counter_clockwise_rotation_turns_local_x_toward_north() {
        let pose = world_from_asset(&asset(
            Footprint::Cylinder {
                radius: 1.0,
                height: 2.0,
            },
            (0.0, 0.0),
            90.0,
        ));
        let local_x_in_world = pose.rotation * Vec3::X;
        let (px, py) = plan_from_world(local_x_in_world);
        assert!(close(px, 0.0) && close(py, 1.0));
    }
}
