//! Generated plants for the optimiser's tests and benchmark: production lines of machines on a
//! grid of bays, wide and narrow, with walkways between rows of bays, flows along each line and
//! some across lines, a few pinned utilities; then "scrambled": assets of the same size class
//! trade bays at random, so the plant stays feasible but its material criss-crosses the hall.

use crate::layout::{
    Area, Asset, AssetKind, Floor, FlowUnit, Footprint, Handling, MaterialFlow, PlantLayout, Zone,
    ZoneKind,
};
use crate::rng::Rng;

/// Bay sizes, metres: wide bays hold any machine, narrow bays only the narrow ones.
const WIDE_BAY_M: f32 = 9.0;
const NARROW_BAY_M: f32 = 6.0;
const BAY_DEPTH_M: f32 = 8.0;
const WALKWAY_M: f32 = 3.0;
/// A walkway after this many rows of bays.
const ROWS_PER_AISLE: usize = 2;
const LINE_LENGTH: usize = 10;

/// A plant of `assets` machines with `flows` flows, laid out line by line (the good layout).
pub fn synthetic_plant(assets: usize, flows: usize, seed: u64) -> PlantLayout {
    let mut rng = Rng(seed);
    let columns = (assets as f32).sqrt().ceil() as usize + 2;
    let rows = assets.div_ceil(columns);
    // Columns alternate wide, wide, narrow: a third of the bays are narrow.
    let column_width = |c: usize| if c % 3 == 2 { NARROW_BAY_M } else { WIDE_BAY_M };
    let column_x: Vec<f32> = (0..columns)
        .scan(0.0, |x, c| {
            let left = *x;
            *x += column_width(c);
            Some(left)
        })
        .collect();
    let width: f32 = (0..columns).map(column_width).sum();
    let aisles = rows.div_ceil(ROWS_PER_AISLE);
    let depth = rows as f32 * BAY_DEPTH_M + aisles as f32 * WALKWAY_M;
    let row_y = |r: usize| r as f32 * BAY_DEPTH_M + (r / ROWS_PER_AISLE) as f32 * WALKWAY_M;

    let mut zones = Vec::new();
    for aisle in 0..aisles {
        let y = row_y(aisle * ROWS_PER_AISLE + ROWS_PER_AISLE) - WALKWAY_M;
        if y + WALKWAY_M > depth {
            break;
        }
        zones.push(Zone {
            id: format!("aisle-{aisle}"),
            name: format!("Aisle {aisle}"),
            kind: ZoneKind::Walkway { min_width: 2.5 },
            area: Area::Rect {
                min: (0.0, y),
                max: (width, y + WALKWAY_M),
            },
        });
    }

    // Bays in reading order; machine k of the good layout stands in bay k, so a line's
    // machines are neighbours. Narrow bays get narrow machines.
    let mut list = Vec::with_capacity(assets);
    for k in 0..assets {
        let (c, r) = (k % columns, k / columns);
        let narrow = column_width(c) == NARROW_BAY_M;
        let clearance = 0.5;
        let room_x = column_width(c) - 2.0 * clearance - 0.2;
        let length = if narrow {
            3.0 + rng.unit() as f32 * (room_x - 3.0)
        } else {
            // Most wide-bay machines would not fit a narrow bay.
            5.5 + rng.unit() as f32 * (room_x - 5.5)
        };
        let footprint_width = 2.5 + rng.unit() as f32 * 3.5;
        let kind = [
            AssetKind::CncMachine,
            AssetKind::HydraulicPress,
            AssetKind::RobotArm,
            AssetKind::StorageRack,
        ][rng.below(4)];
        list.push(Asset {
            id: format!("m-{k:04}"),
            name: format!("Machine {k}"),
            kind,
            line: None,
            position: (
                column_x[c] + column_width(c) * 0.5,
                row_y(r) + BAY_DEPTH_M * 0.5,
            ),
            rotation_deg: 0.0,
            footprint: Footprint::Box {
                length,
                width: footprint_width,
                height: 2.5,
            },
            clearance,
            components: vec![],
            signals: vec![],
            telemetry: None,
            // Every 25th machine is a utility that stays where it is.
            pinned: k % 25 == 24,
            pickup: Some((length * 0.5, 0.0)),
            dropoff: Some((-length * 0.5, 0.0)),
            producing: None,
            shiftable: false,
        });
    }

    // Along each line of LINE_LENGTH consecutive machines, then across lines, lighter.
    let mut flow_list = Vec::with_capacity(flows);
    'lines: for start in (0..assets).step_by(LINE_LENGTH) {
        for k in start..(start + LINE_LENGTH - 1).min(assets - 1) {
            if flow_list.len() == flows {
                break 'lines;
            }
            flow_list.push(MaterialFlow {
                from: list[k].id.clone(),
                to: list[k + 1].id.clone(),
                amount_per_hour: 20.0 + rng.below(60) as f32,
                unit: FlowUnit::Parts,
                handling: Some(Handling::Conveyor),
            });
        }
    }
    while flow_list.len() < flows && assets > 1 {
        let from = rng.below(assets);
        // Across to a machine a few lines away, like a shared heat-treatment or paint shop.
        let to = (from + LINE_LENGTH * (1 + rng.below(3)) + rng.below(LINE_LENGTH)) % assets;
        if to == from {
            continue;
        }
        flow_list.push(MaterialFlow {
            from: list[from].id.clone(),
            to: list[to].id.clone(),
            amount_per_hour: 2.0 + rng.below(10) as f32,
            unit: FlowUnit::Pallets,
            handling: Some(Handling::Forklift),
        });
    }

    PlantLayout {
        schema_version: crate::layout::SCHEMA_VERSION,
        name: format!("Generated plant, {assets} machines, {flows} flows"),
        units: Default::default(),
        floor: Floor { width, depth },
        lines: vec![],
        zones,
        assets: list,
        degradation_models: vec![],
        flows: flow_list,
    }
}

/// `layout` with its unpinned assets shuffled among bays of their own width class, so it stays
/// feasible.
pub fn scrambled(layout: &PlantLayout, seed: u64) -> PlantLayout {
    let mut rng = Rng(seed ^ 0x5eed);
    let mut out = layout.clone();
    // Narrow-bay machines are under 5 m long, wide-bay ones 5.5 m or more.
    let narrow = |a: &Asset| a.extents().0 < 5.0;
    for class in [true, false] {
        let members: Vec<usize> = (0..out.assets.len())
            .filter(|&i| !out.assets[i].pinned && narrow(&out.assets[i]) == class)
            .collect();
        let mut places: Vec<(f32, f32)> = members.iter().map(|&i| out.assets[i].position).collect();
        for i in (1..places.len()).rev() {
            places.swap(i, rng.below(i + 1));
        }
        for (&i, place) in members.iter().zip(places) {
            out.assets[i].position = place;
        }
    }
    out
}
