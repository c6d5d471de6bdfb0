//! Transport effort of a layout: each material flow's distance from the source's pick-up point
//! to the destination's drop-off point, times its amount per hour, summed. The distance is
//! measured along the free floor around equipment and keep-out zones ([`DistanceMetric::Aisle`]),
//! or, chosen explicitly, straight or rectilinear (x then y, like aisles on a grid).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use crate::layout::{FlowUnit, PlantLayout, ZoneKind};

/// How a flow's distance is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DistanceMetric {
    /// Shortest path on the free floor: not through other assets' footprints or keep-out zones.
    #[default]
    Aisle,
    /// Along x then along y.
    Rectilinear,
    /// As the crow flies.
    Straight,
}

impl DistanceMetric {
    pub fn label(self) -> &'static str {
        match self {
            DistanceMetric::Aisle => "along the aisles",
            DistanceMetric::Rectilinear => "rectilinear",
            DistanceMetric::Straight => "straight line",
        }
    }
}

/// One flow, measured.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowLeg {
    /// Index into the layout's `flows`.
    pub flow: usize,
    /// The route, plan coordinates, from pick-up to drop-off (two points unless routed).
    pub route: Vec<(f32, f32)>,
    pub distance_m: f64,
    /// amount per hour x distance.
    pub effort: f64,
    /// No route on the free floor: the distance is the rectilinear one instead.
    pub unrouted: bool,
}

/// The flows of a layout, measured.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TransportEffort {
    pub legs: Vec<FlowLeg>,
    /// Effort per unit of amount (parts, pallets, kg do not add up).
    pub by_unit: BTreeMap<UnitKey, f64>,
    /// Every leg's effort added up, whatever its unit: what the optimiser lowers.
    pub total: f64,
}

/// A [`FlowUnit`] usable as a map key in a stable order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnitKey(u8);

impl UnitKey {
    pub fn of(unit: FlowUnit) -> UnitKey {
        UnitKey(match unit {
            FlowUnit::Parts => 0,
            FlowUnit::Pallets => 1,
            FlowUnit::Kg => 2,
        })
    }

    pub fn label(self) -> &'static str {
        ["m x parts/h", "m x pallets/h", "m x kg/h"][self.0 as usize]
    }
}

/// Measures every flow of `layout` (flows naming unknown assets are skipped: validation reports
/// them).
pub fn transport_effort(layout: &PlantLayout, metric: DistanceMetric) -> TransportEffort {
    let grid = (metric == DistanceMetric::Aisle).then(|| FloorGrid::new(layout));
    let index: BTreeMap<&str, usize> = layout
        .assets
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.as_str(), i))
        .collect();
    let mut out = TransportEffort::default();
    for (k, flow) in layout.flows.iter().enumerate() {
        let (Some(&from), Some(&to)) = (index.get(flow.from.as_str()), index.get(flow.to.as_str()))
        else {
            continue;
        };
        let start = layout.assets[from].pickup_point();
        let end = layout.assets[to].dropoff_point();
        let routed = grid
            .as_ref()
            .map(|grid| grid.route(start, end, &[from, to]));
        let (route, distance_m, unrouted) = match (metric, routed) {
            (_, Some(Some(route))) => {
                let length = polyline_length(&route);
                (route, length, false)
            }
            (DistanceMetric::Straight, _) => (vec![start, end], straight(start, end), false),
            (DistanceMetric::Rectilinear, _) => (
                vec![start, (end.0, start.1), end],
                rectilinear(start, end),
                false,
            ),
            (DistanceMetric::Aisle, _) => (
                vec![start, (end.0, start.1), end],
                rectilinear(start, end),
                true,
            ),
        };
        let effort = flow.amount_per_hour.max(0.0) as f64 * distance_m;
        *out.by_unit.entry(UnitKey::of(flow.unit)).or_insert(0.0) += effort;
        out.total += effort;
        out.legs.push(FlowLeg {
            flow: k,
            route,
            distance_m,
            effort,
            unrouted,
        });
    }
    out
}

pub fn straight(a: (f32, f32), b: (f32, f32)) -> f64 {
    ((a.0 - b.0) as f64).hypot((a.1 - b.1) as f64)
}

pub fn rectilinear(a: (f32, f32), b: (f32, f32)) -> f64 {
    ((a.0 - b.0) as f64).abs() + ((a.1 - b.1) as f64).abs()
}

fn polyline_length(points: &[(f32, f32)]) -> f64 {
    points.windows(2).map(|w| straight(w[0], w[1])).sum()
}

/// The floor as square cells, each free or blocked by a footprint (its plan bounds, with the
/// asset's index so a route may leave its own asset) or a keep-out zone.
struct FloorGrid {
    cell_m: f32,
    columns: usize,
    rows: usize,
    /// Per cell: `FREE`, `ZONE`, or the index of the asset standing on it.
    owner: Vec<u32>,
}

const FREE: u32 = u32::MAX;
const ZONE: u32 = u32::MAX - 1;
/// Cells the grid may have at most: a 200 x 200 m hall at 0.5 m; bigger floors get bigger cells.
const MAX_CELLS: f32 = 160_000.0;

impl FloorGrid {
    fn new(layout: &PlantLayout) -> FloorGrid {
        let (width, depth) = (layout.floor.width.max(0.1), layout.floor.depth.max(0.1));
        let cell_m = 0.5f32.max((width * depth / MAX_CELLS).sqrt());
        let columns = (width / cell_m).ceil() as usize;
        let rows = (depth / cell_m).ceil() as usize;
        let mut grid = FloorGrid {
            cell_m,
            columns,
            rows,
            owner: vec![FREE; columns * rows],
        };
        for zone in &layout.zones {
            if zone.kind == ZoneKind::KeepOut {
                grid.fill(zone.area.bounds(), ZONE);
            }
        }
        for (i, asset) in layout.assets.iter().enumerate() {
            grid.fill(asset.plan_bounds(), i as u32);
        }
        grid
    }

    fn cell_of(&self, (x, y): (f32, f32)) -> (usize, usize) {
        let column = ((x / self.cell_m).floor().max(0.0) as usize).min(self.columns - 1);
        let row = ((y / self.cell_m).floor().max(0.0) as usize).min(self.rows - 1);
        (column, row)
    }

    fn centre(&self, (column, row): (usize, usize)) -> (f32, f32) {
        (
            (column as f32 + 0.5) * self.cell_m,
            (row as f32 + 0.5) * self.cell_m,
        )
    }

    /// Marks the cells whose centre lies in `bounds`.
    fn fill(&mut self, (min, max): ((f32, f32), (f32, f32)), owner: u32) {
        let (c0, r0) = self.cell_of(min);
        let (c1, r1) = self.cell_of(max);
        for row in r0..=r1 {
            for column in c0..=c1 {
                let (x, y) = self.centre((column, row));
                if x >= min.0 && x <= max.0 && y >= min.1 && y <= max.1 {
                    let cell = &mut self.owner[row * self.columns + column];
                    // Keep-out zones stay blocked for everyone.
                    if *cell != ZONE {
                        *cell = owner;
                    }
                }
            }
        }
    }

    /// Shortest 8-connected route from `start` to `end` that crosses no footprint but those of
    /// `own` (the flow's two assets) and no keep-out zone (A*, octile distance). None if the
    /// end cannot be reached.
    fn route(&self, start: (f32, f32), end: (f32, f32), own: &[usize]) -> Option<Vec<(f32, f32)>> {
        let passable = |cell: usize| {
            let owner = self.owner[cell];
            owner == FREE || (owner != ZONE && own.contains(&(owner as usize)))
        };
        let (sc, sr) = self.cell_of(start);
        let (ec, er) = self.cell_of(end);
        let (start_cell, end_cell) = (sr * self.columns + sc, er * self.columns + ec);
        // Scaled to integers (millimetres) so the heap orders exactly.
        let step_mm = (self.cell_m * 1000.0) as u64;
        let diagonal_mm = (self.cell_m as f64 * std::f64::consts::SQRT_2 * 1000.0) as u64;
        let heuristic = |cell: usize| {
            let (c, r) = (cell % self.columns, cell / self.columns);
            let dx = c.abs_diff(ec) as u64;
            let dy = r.abs_diff(er) as u64;
            dx.max(dy) * step_mm + dx.min(dy) * (diagonal_mm - step_mm)
        };
        let mut cost = vec![u64::MAX; self.owner.len()];
        let mut came_from = vec![u32::MAX; self.owner.len()];
        let mut open = BinaryHeap::new();
        cost[start_cell] = 0;
        open.push(Reverse((heuristic(start_cell), start_cell)));
        while let Some(Reverse((_, cell))) = open.pop() {
            if cell == end_cell {
                break;
            }
            let (c, r) = (cell % self.columns, cell / self.columns);
            for (dc, dr) in [
                (-1i64, 0i64),
                (1, 0),
                (0, -1),
                (0, 1),
                (-1, -1),
                (-1, 1),
                (1, -1),
                (1, 1),
            ] {
                let (nc, nr) = (c as i64 + dc, r as i64 + dr);
                if nc < 0 || nr < 0 || nc >= self.columns as i64 || nr >= self.rows as i64 {
                    continue;
                }
                let next = nr as usize * self.columns + nc as usize;
                if !passable(next) {
                    continue;
                }
                // No corner cutting: a diagonal step needs both sides free.
                if dc != 0
                    && dr != 0
                    && (!passable(r * self.columns + nc as usize)
                        || !passable(nr as usize * self.columns + c))
                {
                    continue;
                }
                let step = if dc != 0 && dr != 0 {
                    diagonal_mm
                } else {
                    step_mm
                };
                let through = cost[cell] + step;
                if through < cost[next] {
                    cost[next] = through;
                    came_from[next] = cell as u32;
                    open.push(Reverse((through + heuristic(next), next)));
                }
            }
        }
        if cost[end_cell] == u64::MAX {
            return None;
        }
        let mut cells = vec![end_cell];
        while let Some(&last) = cells.last() {
            let previous = came_from[last];
            if previous == u32::MAX {
                break;
            }
            cells.push(previous as usize);
        }
        cells.reverse();
        // The exact end points, joined by the centres of the cells where the route turns.
        let mut route = vec![start];
        for w in cells.windows(3) {
            // The same index step twice is the same direction.
            if w[1] as i64 - w[0] as i64 != w[2] as i64 - w[1] as i64 {
                let (c, r) = (w[1] % self.columns, w[1] / self.columns);
                route.push(self.centre((c, r)));
            }
        }
        route.push(end);
        Some(route)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{Area, Asset, AssetKind, Floor, Footprint, MaterialFlow, Zone};

    fn asset(id: &str, position: (f32, f32), size: (f32, f32)) -> Asset {
        Asset {
            id: id.into(),
            name: id.into(),
            kind: AssetKind::CncMachine,
            line: None,
            position,
            rotation_deg: 0.0,
            footprint: Footprint::Box {
                length: size.0,
                width: size.1,
                height: 2.0,
            },
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

    fn plant(assets: Vec<Asset>, zones: Vec<Zone>, flows: Vec<MaterialFlow>) -> PlantLayout {
        PlantLayout {
            schema_version: 1,
            name: "flows".into(),
            units: Default::default(),
            floor: Floor {
                width: 40.0,
                depth: 20.0,
            },
            lines: vec![],
            zones,
            assets,
            degradation_models: vec![],
            flows,
        }
    }

    fn flow(from: &str, to: &str, amount: f32) -> MaterialFlow {
        MaterialFlow {
            from: from.into(),
            to: to.into(),
            amount_per_hour: amount,
            unit: FlowUnit::Parts,
            handling: None,
        }
    }

    #[test]
    fn effort_is_amount_times_distance_in_each_metric() {
        let mut a = asset("a", (5.0, 5.0), (2.0, 2.0));
        a.pickup = Some((1.0, 0.0));
        let b = asset("b", (15.0, 8.0), (2.0, 2.0));
        let layout = plant(vec![a, b], vec![], vec![flow("a", "b", 10.0)]);
        let straight_m = (9.0f64).hypot(3.0);
        let e = transport_effort(&layout, DistanceMetric::Straight);
        assert!((e.total - 10.0 * straight_m).abs() < 1e-4, "{e:?}");
        let e = transport_effort(&layout, DistanceMetric::Rectilinear);
        assert!((e.total - 120.0).abs() < 1e-4);
        // Nothing in the way: the grid route is within a cell of the straight line.
        let e = transport_effort(&layout, DistanceMetric::Aisle);
        assert!(!e.legs[0].unrouted);
        assert!(
            e.legs[0].distance_m >= straight_m - 0.01 && e.legs[0].distance_m <= straight_m + 1.0,
            "{}",
            e.legs[0].distance_m
        );
    }

    #[test]
    fn an_aisle_route_goes_around_a_machine_and_a_keep_out_zone() {
        // A wall of a machine between a and b, open at the top: the route climbs around it.
        let a = asset("a", (5.0, 5.0), (1.0, 1.0));
        let b = asset("b", (15.0, 5.0), (1.0, 1.0));
        let wall = asset("wall", (10.0, 6.0), (1.0, 12.0));
        let layout = plant(vec![a, b, wall], vec![], vec![flow("a", "b", 1.0)]);
        let e = transport_effort(&layout, DistanceMetric::Aisle);
        let leg = &e.legs[0];
        assert!(!leg.unrouted);
        // Over the wall's end at y = 12: at least twice the hypotenuse of 5 m by 7 m (17.2 m),
        // against 10 m straight.
        assert!(leg.distance_m > 17.2, "{}", leg.distance_m);
        let highest = leg.route.iter().map(|p| p.1).fold(0.0, f32::max);
        assert!(highest > 12.0, "{:?}", leg.route);

        // A keep-out zone closing the gap leaves no route: the leg says so, and falls back.
        let zone = Zone {
            id: "cell".into(),
            name: "cell".into(),
            kind: ZoneKind::KeepOut,
            area: Area::Rect {
                min: (9.0, 11.0),
                max: (11.0, 20.0),
            },
        };
        let mut closed = layout.clone();
        closed.zones.push(zone);
        let e = transport_effort(&closed, DistanceMetric::Aisle);
        assert!(e.legs[0].unrouted);
        assert!((e.legs[0].distance_m - 10.0).abs() < 1e-4);
    }

    #[test]
    fn units_are_summed_apart() {
        let a = asset("a", (5.0, 5.0), (1.0, 1.0));
        let b = asset("b", (15.0, 5.0), (1.0, 1.0));
        let mut kg = flow("b", "a", 100.0);
        kg.unit = FlowUnit::Kg;
        let layout = plant(vec![a, b], vec![], vec![flow("a", "b", 2.0), kg]);
        let e = transport_effort(&layout, DistanceMetric::Straight);
        assert_eq!(e.by_unit[&UnitKey::of(FlowUnit::Parts)], 20.0);
        assert_eq!(e.by_unit[&UnitKey::of(FlowUnit::Kg)], 1000.0);
        assert_eq!(e.total, 1020.0);
    }
}
