//! Clearance checks with parry3d: asset to asset (the larger of the two required clearances),
//! asset to keep-out zone (the asset's clearance), asset to walkway (the free width it leaves),
//! asset to floor boundary (inside). A bounding-volume hierarchy over the assets keeps a drag
//! check to a handful of exact distance queries, whatever the plant's size. No Bevy here.

use parry3d::bounding_volume::{Aabb, BoundingVolume};
use parry3d::math::{Pose, Vec3};
use parry3d::partitioning::{Bvh, BvhBuildStrategy, BvhNode};
use parry3d::query::{ClosestPoints, closest_points, contact};
use parry3d::shape::{Shape, SharedShape};

use crate::geometry::{
    AssetShape, asset_shape, triangulate_polygon, world_from_asset, world_from_plan,
};
use crate::layout::{Area, Asset, PlantLayout, ZoneKind};

/// Height of the prisms standing for zones: taller than any machine.
const ZONE_HEIGHT: f32 = 50.0;
/// Distances are compared at this tolerance (a tenth of a millimetre).
const TOLERANCE: f32 = 1e-4;

/// What an asset comes too close to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Neighbour {
    Asset(usize),
    Zone(usize),
    Boundary,
}

/// One clearance rule broken.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClearanceViolation {
    /// The asset, by position in the layout.
    pub asset: usize,
    pub neighbour: Neighbour,
    /// Metres: free distance between the two, negative when they overlap (minus the depth of
    /// the overlap: the shortest push that would separate them); for walkways the free width
    /// left; for the boundary the margin to the nearest wall (negative outside).
    pub distance: f32,
    pub required: f32,
    /// Closest points (world), for drawing a line between them.
    pub points: Option<(Vec3, Vec3)>,
}

impl ClearanceViolation {
    /// `press-201 <-> robot-201: 0.420 m < 0.800 m required`.
    pub fn describe(&self, layout: &PlantLayout) -> String {
        let asset = &layout.assets[self.asset].id;
        let (other, what) = match self.neighbour {
            Neighbour::Asset(other) => (layout.assets[other].id.clone(), "clearance"),
            Neighbour::Zone(zone) => (
                format!("zone {}", layout.zones[zone].id),
                match layout.zones[zone].kind {
                    ZoneKind::KeepOut => "clearance",
                    ZoneKind::Walkway { .. } => "free walkway width",
                },
            ),
            Neighbour::Boundary => ("floor boundary".into(), "margin"),
        };
        let shortfall = match (self.neighbour, self.distance < 0.0) {
            (Neighbour::Boundary, true) => format!("{:.3} m outside", -self.distance),
            (_, true) => format!(
                "overlapping by {:.3} m ({:.3} m {what} required)",
                -self.distance, self.required
            ),
            (_, false) => format!(
                "{:.3} m < {:.3} m required {what}",
                self.distance, self.required
            ),
        };
        format!("{asset} <-> {other}: {shortfall}")
    }

    /// The shortfall in two figures for a label in the scene: `0.42 m < 1.20 m required`, or
    /// `overlapping by 0.80 m`.
    pub fn short_text(&self) -> String {
        if self.distance < 0.0 {
            format!("overlapping by {:.2} m", -self.distance)
        } else {
            format!("{:.2} m < {:.2} m required", self.distance, self.required)
        }
    }

    /// The item ids of both sides, for reports.
    pub fn ids(&self, layout: &PlantLayout) -> (String, String) {
        let other = match self.neighbour {
            Neighbour::Asset(other) => layout.assets[other].id.clone(),
            Neighbour::Zone(zone) => format!("zone:{}", layout.zones[zone].id),
            Neighbour::Boundary => "boundary".into(),
        };
        (layout.assets[self.asset].id.clone(), other)
    }
}

struct AssetEntry {
    pose: Pose,
    shape: AssetShape,
    clearance: f32,
    aabb: Aabb,
}

impl AssetEntry {
    fn new(asset: &Asset) -> AssetEntry {
        let pose = world_from_asset(asset);
        let shape = asset_shape(asset);
        AssetEntry {
            aabb: shape.aabb(&pose),
            pose,
            shape,
            clearance: asset.clearance.max(0.0),
        }
    }

    fn shape(&self) -> &dyn Shape {
        self.shape.as_shape()
    }
}

enum ZoneRule {
    /// Keep the asset's clearance from this solid.
    KeepOut(SharedShape),
    /// Leave at least `min_width` free across a rectangular walkway whose narrow side runs
    /// along `across_x` (true: the walkway runs north-south, its width is along x).
    Walkway {
        min: (f32, f32),
        max: (f32, f32),
        min_width: f32,
        across_x: bool,
    },
    /// A polygon walkway: no intrusion at all.
    NoIntrusion(SharedShape),
}

/// The clearance model of a layout. Asset poses can be changed ([`ClearanceModel::set_pose`])
/// while dragging; the hierarchy is rebuilt with [`ClearanceModel::rebuild`] after a drop.
pub struct ClearanceModel {
    assets: Vec<AssetEntry>,
    zones: Vec<ZoneRule>,
    floor: (f32, f32),
    max_clearance: f32,
    bvh: Bvh,
    /// The AABBs the hierarchy was built from (stale for assets moved since).
    built_aabbs: Vec<Aabb>,
    /// Assets moved since the hierarchy was built: checked directly, not through it.
    moved_since_build: Vec<usize>,
}

/// How deep two intersecting solids overlap (the shortest push that separates them, metres) and
/// the deepest points. Compounds parry cannot pair directly are measured part by part and the
/// deepest pair counts. `None` when no depth can be found (touching faces).
fn overlap(
    pose1: &Pose,
    shape1: &dyn Shape,
    pose2: &Pose,
    shape2: &dyn Shape,
) -> Option<(f32, (Vec3, Vec3))> {
    let deepest = |found: Option<parry3d::query::Contact>| {
        found
            .filter(|c| c.dist < 0.0)
            .map(|c| (-c.dist, (c.point1, c.point2)))
    };
    if let Ok(found) = contact(pose1, shape1, pose2, shape2, 0.0) {
        return deepest(found);
    }
    let parts = |pose: &Pose, shape: &'_ dyn Shape| -> Vec<(Pose, SharedShape)> {
        match shape.as_compound() {
            Some(compound) => compound
                .shapes()
                .iter()
                .map(|(part_pose, part)| (*pose * *part_pose, part.clone()))
                .collect(),
            None => vec![(*pose, SharedShape(shape.clone_dyn().into()))],
        }
    };
    let (first, second) = (parts(pose1, shape1), parts(pose2, shape2));
    first
        .iter()
        .flat_map(|(p1, s1)| {
            second.iter().filter_map(move |(p2, s2)| {
                deepest(
                    contact(p1, s1.as_ref(), p2, s2.as_ref(), 0.0)
                        .ok()
                        .flatten(),
                )
            })
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
}

fn prism(corners: &[(f32, f32)]) -> Option<SharedShape> {
    let parts: Vec<(Pose, SharedShape)> = triangulate_polygon(corners)
        .into_iter()
        .filter_map(|triangle| {
            let points: Vec<Vec3> = triangle
                .iter()
                .flat_map(|&i| {
                    let (x, y) = corners[i];
                    [
                        world_from_plan(x, y, 0.0),
                        world_from_plan(x, y, ZONE_HEIGHT),
                    ]
                })
                .collect();
            SharedShape::convex_hull(&points).map(|shape| (Pose::IDENTITY, shape))
        })
        .collect();
    (!parts.is_empty()).then(|| SharedShape::compound(parts))
}

impl ClearanceModel {
    pub fn new(layout: &PlantLayout) -> ClearanceModel {
        let assets: Vec<AssetEntry> = layout.assets.iter().map(AssetEntry::new).collect();
        let zones = layout
            .zones
            .iter()
            .map(|zone| match (zone.kind, &zone.area) {
                (ZoneKind::Walkway { min_width }, Area::Rect { min, max }) => ZoneRule::Walkway {
                    min: (min.0.min(max.0), min.1.min(max.1)),
                    max: (min.0.max(max.0), min.1.max(max.1)),
                    min_width,
                    across_x: (max.0 - min.0).abs() < (max.1 - min.1).abs(),
                },
                (kind, area) => {
                    let solid = prism(&area.corners())
                        .unwrap_or_else(|| SharedShape::cuboid(0.0, 0.0, 0.0));
                    match kind {
                        ZoneKind::KeepOut => ZoneRule::KeepOut(solid),
                        ZoneKind::Walkway { .. } => ZoneRule::NoIntrusion(solid),
                    }
                }
            })
            .collect();
        let max_clearance = assets.iter().map(|a| a.clearance).fold(0.0, f32::max);
        let mut model = ClearanceModel {
            assets,
            zones,
            floor: (layout.floor.width, layout.floor.depth),
            max_clearance,
            bvh: Bvh::new(),
            built_aabbs: vec![],
            moved_since_build: vec![],
        };
        model.rebuild();
        model
    }

    pub fn asset_count(&self) -> usize {
        self.assets.len()
    }

    /// Moves an asset (plan position, rotation in degrees). The hierarchy is not touched: moved
    /// assets are checked against it with their new shapes, and against each other directly.
    pub fn set_pose(&mut self, asset: usize, position: (f32, f32), rotation_deg: f32) {
        let Some(entry) = self.assets.get_mut(asset) else {
            return;
        };
        let height = entry.aabb.maxs.y - entry.aabb.mins.y;
        entry.pose = Pose::from_parts(
            world_from_plan(position.0, position.1, height * 0.5),
            parry3d::math::Rot3::from_rotation_y(rotation_deg.to_radians()),
        );
        entry.aabb = entry.shape.aabb(&entry.pose);
        // Back where the hierarchy has it (a candidate tried and put back): not stale.
        if self.built_aabbs.get(asset) == Some(&entry.aabb) {
            self.moved_since_build.retain(|&a| a != asset);
        } else if !self.moved_since_build.contains(&asset) {
            self.moved_since_build.push(asset);
        }
    }

    /// Assets moved since the hierarchy was built: each is checked outside it until a rebuild.
    pub fn moved_since_rebuild(&self) -> usize {
        self.moved_since_build.len()
    }

    /// Rebuilds the hierarchy from the current poses (after a drop).
    pub fn rebuild(&mut self) {
        self.built_aabbs = self.assets.iter().map(|a| a.aabb).collect();
        self.bvh = Bvh::from_leaves(BvhBuildStrategy::Binned, &self.built_aabbs);
        self.moved_since_build.clear();
    }

    /// Candidates near asset `a`: from the hierarchy, minus assets whose entry there is out of
    /// date, plus those assets directly.
    fn neighbours(&self, a: usize) -> impl Iterator<Item = usize> + '_ {
        let query = self.assets[a].aabb.loosened(self.max_clearance + TOLERANCE);
        let stale = &self.moved_since_build;
        self.bvh
            .leaves(move |node: &BvhNode| node.aabb().intersects(&query))
            .map(|leaf| leaf as usize)
            .filter(move |b| !stale.contains(b))
            .chain(stale.iter().copied())
            .filter(move |&b| b != a)
    }

    fn pair(&self, a: usize, b: usize) -> Option<ClearanceViolation> {
        let (first, second) = (&self.assets[a], &self.assets[b]);
        let required = first.clearance.max(second.clearance);
        let result = closest_points(
            &first.pose,
            first.shape(),
            &second.pose,
            second.shape(),
            required + TOLERANCE,
        )
        .ok()?;
        let (distance, points, intersecting) = match result {
            ClosestPoints::Intersecting => {
                match overlap(&first.pose, first.shape(), &second.pose, second.shape()) {
                    Some((depth, points)) => (-depth, Some(points), true),
                    None => (0.0, None, true),
                }
            }
            ClosestPoints::WithinMargin(p1, p2) => (p1.distance(p2), Some((p1, p2)), false),
            ClosestPoints::Disjoint => return None,
        };
        (distance + TOLERANCE < required || (required == 0.0 && intersecting)).then_some(
            ClearanceViolation {
                asset: a,
                neighbour: Neighbour::Asset(b),
                distance,
                required,
                points,
            },
        )
    }

    fn zone_and_boundary(&self, a: usize, out: &mut Vec<ClearanceViolation>) {
        let entry = &self.assets[a];
        for (z, zone) in self.zones.iter().enumerate() {
            match zone {
                ZoneRule::KeepOut(solid) | ZoneRule::NoIntrusion(solid) => {
                    let required = if matches!(zone, ZoneRule::KeepOut(_)) {
                        entry.clearance
                    } else {
                        0.0
                    };
                    let Ok(result) = closest_points(
                        &entry.pose,
                        entry.shape(),
                        &Pose::IDENTITY,
                        solid.as_ref(),
                        required + TOLERANCE,
                    ) else {
                        continue;
                    };
                    let violation = match result {
                        ClosestPoints::Intersecting => Some(
                            overlap(&entry.pose, entry.shape(), &Pose::IDENTITY, solid.as_ref())
                                .map_or((0.0, None), |(depth, points)| (-depth, Some(points))),
                        ),
                        ClosestPoints::WithinMargin(p1, p2) => {
                            let distance = p1.distance(p2);
                            (distance + TOLERANCE < required).then_some((distance, Some((p1, p2))))
                        }
                        ClosestPoints::Disjoint => None,
                    };
                    if let Some((distance, points)) = violation {
                        out.push(ClearanceViolation {
                            asset: a,
                            neighbour: Neighbour::Zone(z),
                            distance,
                            required,
                            points,
                        });
                    }
                }
                ZoneRule::Walkway {
                    min,
                    max,
                    min_width,
                    across_x,
                } => {
                    // Plan bounds of the asset; world z is minus plan y.
                    let (ax0, ax1) = (entry.aabb.mins.x, entry.aabb.maxs.x);
                    let (ay0, ay1) = (-entry.aabb.maxs.z, -entry.aabb.mins.z);
                    let overlaps = ax0 < max.0 && ax1 > min.0 && ay0 < max.1 && ay1 > min.1;
                    if !overlaps {
                        continue;
                    }
                    // The free width is the widest gap left across the walkway beside the asset.
                    let (lo, hi, a0, a1) = if *across_x {
                        (min.0, max.0, ax0, ax1)
                    } else {
                        (min.1, max.1, ay0, ay1)
                    };
                    let free = (a0 - lo).max(hi - a1).max(0.0);
                    if free + TOLERANCE < *min_width {
                        out.push(ClearanceViolation {
                            asset: a,
                            neighbour: Neighbour::Zone(z),
                            distance: free,
                            required: *min_width,
                            points: None,
                        });
                    }
                }
            }
        }
        let margin = [
            entry.aabb.mins.x,
            self.floor.0 - entry.aabb.maxs.x,
            -entry.aabb.maxs.z,
            self.floor.1 + entry.aabb.mins.z,
        ]
        .into_iter()
        .fold(f32::INFINITY, f32::min);
        if margin < -TOLERANCE {
            out.push(ClearanceViolation {
                asset: a,
                neighbour: Neighbour::Boundary,
                distance: margin,
                required: 0.0,
                points: None,
            });
        }
    }

    /// Every violation involving the `moved` assets: what a drag needs each frame. Uses the
    /// hierarchy for the assets that stand still.
    pub fn check_moved(&self, moved: &[usize]) -> Vec<ClearanceViolation> {
        let mut out = vec![];
        for (i, &a) in moved.iter().enumerate() {
            if a >= self.assets.len() {
                continue;
            }
            for b in self.neighbours(a) {
                if !moved.contains(&b) {
                    out.extend(self.pair(a, b));
                }
            }
            for &b in &moved[i + 1..] {
                if b < self.assets.len() {
                    out.extend(self.pair(a, b));
                }
            }
            self.zone_and_boundary(a, &mut out);
        }
        sort(&mut out);
        out
    }

    /// The same as [`ClearanceModel::check_moved`] by comparing every pair: the reference the
    /// benchmark measures the hierarchy against.
    pub fn check_moved_brute_force(&self, moved: &[usize]) -> Vec<ClearanceViolation> {
        let mut out = vec![];
        for (i, &a) in moved.iter().enumerate() {
            for b in 0..self.assets.len() {
                // Pairs of moved assets are counted once, from the earlier one.
                if b == a || moved[..i].contains(&b) {
                    continue;
                }
                out.extend(self.pair(a, b));
            }
            self.zone_and_boundary(a, &mut out);
        }
        sort(&mut out);
        out
    }

    /// Every violation in the plant, each pair once.
    pub fn check_all(&self) -> Vec<ClearanceViolation> {
        let mut out = vec![];
        for a in 0..self.assets.len() {
            for b in self.neighbours(a) {
                if b > a {
                    out.extend(self.pair(a, b));
                }
            }
            self.zone_and_boundary(a, &mut out);
        }
        sort(&mut out);
        out
    }
}

fn sort(violations: &mut [ClearanceViolation]) {
    violations.sort_by(|x, y| {
        (x.asset, x.neighbour)
            .cmp(&(y.asset, y.neighbour))
            .then(x.distance.total_cmp(&y.distance))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{AssetKind, Floor, Footprint, Zone};

    fn asset(
        id: &str,
        position: (f32, f32),
        rotation_deg: f32,
        footprint: Footprint,
        clearance: f32,
    ) -> Asset {
        Asset {
            id: id.into(),
            name: id.into(),
            kind: AssetKind::Compressor,
            line: None,
            position,
            rotation_deg,
            footprint,
            clearance,
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

    fn cube(size: f32) -> Footprint {
        Footprint::Box {
            length: size,
            width: size,
            height: 1.0,
        }
    }

    fn layout(assets: Vec<Asset>, zones: Vec<Zone>) -> PlantLayout {
        PlantLayout {
            schema_version: 1,
            name: "t".into(),
            units: Default::default(),
            floor: Floor {
                width: 20.0,
                depth: 20.0,
            },
            lines: vec![],
            zones,
            assets,
            degradation_models: vec![],
            flows: vec![],
        }
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-3
    }

    #[test]
    fn box_to_box_uses_the_larger_clearance() {
        // Two 2 m cubes, centres 2.42 m apart: 0.42 m gap; clearances 0.8 and 0.3.
        let plant = layout(
            vec![
                asset("press", (5.0, 5.0), 0.0, cube(2.0), 0.3),
                asset("robot", (7.42, 5.0), 0.0, cube(2.0), 0.8),
            ],
            vec![],
        );
        let found = ClearanceModel::new(&plant).check_all();
        assert_eq!(found.len(), 1);
        assert!(close(found[0].distance, 0.42) && close(found[0].required, 0.8));
        assert_eq!(
            found[0].describe(&plant),
            "press <-> robot: 0.420 m < 0.800 m required clearance"
        );
    }

    #[test]
    fn overlaps_say_how_deep() {
        // Two 2 m cubes 1.2 m apart overlap by 0.8 m; a cube 0.5 m into a polygon keep-out zone.
        let zones = vec![Zone {
            id: "ko".into(),
            name: "ko".into(),
            kind: ZoneKind::KeepOut,
            area: Area::Polygon(vec![(10.0, 10.0), (14.0, 10.0), (14.0, 14.0), (10.0, 14.0)]),
        }];
        let plant = layout(
            vec![
                asset("press", (5.0, 5.0), 0.0, cube(2.0), 1.2),
                asset("robot", (6.2, 5.0), 0.0, cube(2.0), 0.5),
                asset("intruder", (9.5, 12.0), 0.0, cube(2.0), 0.0),
            ],
            zones,
        );
        let found = ClearanceModel::new(&plant).check_all();
        let pair = found
            .iter()
            .find(|v| v.neighbour == Neighbour::Asset(1))
            .expect("the pair");
        assert!(close(pair.distance, -0.8), "{}", pair.distance);
        assert!(pair.points.is_some());
        assert_eq!(
            pair.describe(&plant),
            "press <-> robot: overlapping by 0.800 m (1.200 m clearance required)"
        );
        assert_eq!(pair.short_text(), "overlapping by 0.80 m");
        let zone = found
            .iter()
            .find(|v| v.neighbour == Neighbour::Zone(0))
            .expect("the zone");
        assert!(close(zone.distance, -0.5), "{}", zone.distance);
    }

    #[test]
    fn a_rotated_box_reaches_further() {
        // A 2 m cube turned 45 degrees reaches sqrt(2) m from its centre along x.
        let plant = layout(
            vec![
                asset("a", (5.0, 5.0), 45.0, cube(2.0), 0.5),
                asset(
                    "b",
                    (7.0 + 2f32.sqrt() - 0.8 + 0.001, 5.0),
                    0.0,
                    cube(2.0),
                    0.0,
                ),
            ],
            vec![],
        );
        let found = ClearanceModel::new(&plant).check_all();
        assert_eq!(found.len(), 1, "{found:?}");
        // Corner of a at x = 5 + sqrt(2); face of b at x = 7 + sqrt(2) - 0.8 + 0.001 - 1.
        assert!(close(found[0].distance, 0.201), "{}", found[0].distance);
    }

    #[test]
    fn box_to_keep_out_zone_boundary_and_walkway() {
        let zones = vec![
            Zone {
                id: "ko".into(),
                name: "ko".into(),
                kind: ZoneKind::KeepOut,
                area: Area::Polygon(vec![(10.0, 10.0), (14.0, 10.0), (14.0, 14.0), (10.0, 14.0)]),
            },
            Zone {
                id: "aisle".into(),
                name: "aisle".into(),
                kind: ZoneKind::Walkway { min_width: 3.0 },
                area: Area::Rect {
                    min: (0.0, 0.0),
                    max: (20.0, 4.0),
                },
            },
        ];
        let plant = layout(
            vec![
                // 1 m west of the keep-out zone, needs 1.5.
                asset("near-zone", (8.0, 12.0), 0.0, cube(2.0), 1.5),
                // Half outside the floor's east wall.
                asset("outside", (19.5, 10.0), 0.0, cube(2.0), 0.0),
                // Reaches 1.5 m into the 4 m aisle from the north: 2.5 m left, 3 m needed.
                asset("in-aisle", (6.0, 3.5), 0.0, cube(2.0), 0.0),
                // A compound case: a cylinder (tank) clear of everything.
                asset(
                    "tank",
                    (16.0, 16.0),
                    0.0,
                    Footprint::Cylinder {
                        radius: 1.0,
                        height: 3.0,
                    },
                    0.5,
                ),
            ],
            zones,
        );
        let found = ClearanceModel::new(&plant).check_all();
        let by = |id: &str| {
            found
                .iter()
                .filter(|v| plant.assets[v.asset].id == id)
                .collect::<Vec<_>>()
        };
        let zone = by("near-zone");
        assert_eq!(zone.len(), 1);
        assert!(close(zone[0].distance, 1.0) && close(zone[0].required, 1.5));
        assert_eq!(zone[0].neighbour, Neighbour::Zone(0));
        let wall = by("outside");
        assert!(
            wall.iter()
                .any(|v| v.neighbour == Neighbour::Boundary && close(v.distance, -0.5))
        );
        let aisle = by("in-aisle");
        assert_eq!(aisle.len(), 1, "{aisle:?}");
        assert!(close(aisle[0].distance, 2.5) && close(aisle[0].required, 3.0));
        assert!(by("tank").is_empty());
    }

    #[test]
    fn a_compound_footprint_is_measured_by_its_parts() {
        use crate::layout::FootprintPart;
        // An L: a 4 x 1 m bar along x (x 3..7, y 4.5..5.5) and a 1 x 3 m leg at its east end
        // (x 6..7, y 5.5..8.5). A 1 m crate in the inside corner (x 4.5..5.5, y 6..7) is 0.5 m
        // from both, though it sits inside the L's bounding box.
        let l_shape = Footprint::Compound(vec![
            FootprintPart {
                offset: (0.0, 0.0),
                length: 4.0,
                width: 1.0,
                height: 1.0,
                rotation_deg: 0.0,
            },
            FootprintPart {
                offset: (1.5, 2.0),
                length: 3.0,
                width: 1.0,
                height: 2.0,
                rotation_deg: 90.0,
            },
        ]);
        for (clearance, expected) in [(0.8, Some(0.5)), (0.4, None)] {
            let plant = layout(
                vec![
                    asset("l-conveyor", (5.0, 5.0), 0.0, l_shape.clone(), clearance),
                    asset("crate", (5.0, 6.5), 0.0, cube(1.0), 0.0),
                ],
                vec![],
            );
            let found = ClearanceModel::new(&plant).check_all();
            match expected {
                Some(distance) => {
                    assert_eq!(found.len(), 1, "{found:?}");
                    assert!(close(found[0].distance, distance), "{}", found[0].distance);
                }
                None => assert!(found.is_empty(), "{found:?}"),
            }
        }
    }

    #[test]
    fn moving_uses_the_hierarchy_and_agrees_with_brute_force() {
        let assets: Vec<Asset> = (0..100)
            .map(|i| {
                asset(
                    &format!("a{i}"),
                    (1.0 + (i % 10) as f32 * 1.9, 1.0 + (i / 10) as f32 * 1.9),
                    (i * 7) as f32,
                    cube(1.0),
                    0.4,
                )
            })
            .collect();
        let plant = layout(assets, vec![]);
        let mut model = ClearanceModel::new(&plant);
        for (step, moved) in [vec![0usize], vec![5, 6, 55], vec![99, 98]]
            .into_iter()
            .enumerate()
        {
            for &a in &moved {
                model.set_pose(a, (3.0 + step as f32 * 0.37, 3.1), 10.0 * step as f32);
            }
            assert_eq!(
                model.check_moved(&moved),
                model.check_moved_brute_force(&moved)
            );
        }
    }
}
