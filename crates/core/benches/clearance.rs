//! Clearance check per drag frame with 100, 1,000 and 10,000 assets: the bounding-volume
//! hierarchy against a brute-force check of every pair, in the same run.
//!
//! `cargo bench --bench clearance`

use std::time::Instant;

use plant_twin_core::clearance::ClearanceModel;
use plant_twin_core::layout::{Asset, AssetKind, Floor, Footprint, PlantLayout, Units};

/// A square grid of machines 3 m apart, 2 x 1.5 m each, on a floor sized to fit.
fn grid_plant(count: usize) -> PlantLayout {
    let side = (count as f32).sqrt().ceil() as usize;
    let pitch = 3.0;
    let size = side as f32 * pitch + 2.0;
    PlantLayout {
        schema_version: 1,
        name: format!("grid of {count}"),
        units: Units::Metres,
        floor: Floor {
            width: size,
            depth: size,
        },
        lines: vec![],
        zones: vec![],
        assets: (0..count)
            .map(|i| Asset {
                id: format!("m{i}"),
                name: format!("Machine {i}"),
                kind: AssetKind::CncMachine,
                line: None,
                position: (
                    2.0 + (i % side) as f32 * pitch,
                    2.0 + (i / side) as f32 * pitch,
                ),
                rotation_deg: (i * 15 % 90) as f32,
                footprint: Footprint::Box {
                    length: 2.0,
                    width: 1.5,
                    height: 2.0,
                },
                clearance: 0.8,
                components: vec![],
                signals: vec![],
                telemetry: None,
                pinned: false,
                pickup: None,
                dropoff: None,
                producing: None,
                shiftable: false,
            })
            .collect(),
        degradation_models: vec![],
        flows: vec![],
    }
}

fn per_frame_us(
    model: &mut ClearanceModel,
    moved: &[usize],
    start: (f32, f32),
    brute: bool,
) -> (f64, usize) {
    let frames = 200;
    let mut violations = 0;
    let started = Instant::now();
    for frame in 0..frames {
        // A drag across a few neighbours: 2 cm per frame, turning slowly.
        let x = start.0 + frame as f32 * 0.02;
        for (k, &asset) in moved.iter().enumerate() {
            model.set_pose(asset, (x + k as f32 * 2.5, start.1), frame as f32);
        }
        violations += if brute {
            model.check_moved_brute_force(moved).len()
        } else {
            model.check_moved(moved).len()
        };
    }
    (
        started.elapsed().as_secs_f64() * 1e6 / frames as f64,
        violations,
    )
}

fn main() {
    println!("clearance check per drag frame (mean of 200 frames)");
    println!(
        "{:>7} {:>6} {:>14} {:>14} {:>8}",
        "assets", "moved", "BVH us/frame", "brute us/frame", "speed-up"
    );
    for count in [100, 1_000, 10_000] {
        let plant = grid_plant(count);
        for moved in [
            vec![count / 2],
            (count / 2..count / 2 + 5).collect::<Vec<_>>(),
        ] {
            let start = plant.assets[moved[0]].position;
            let mut model = ClearanceModel::new(&plant);
            let (bvh, found) = per_frame_us(&mut model, &moved, start, false);
            let mut model = ClearanceModel::new(&plant);
            let (brute, found_brute) = per_frame_us(&mut model, &moved, start, true);
            assert_eq!(found, found_brute, "both methods find the same violations");
            println!(
                "{count:>7} {:>6} {bvh:>14.1} {brute:>14.1} {:>7.0}x",
                moved.len(),
                brute / bvh
            );
        }
    }
}
