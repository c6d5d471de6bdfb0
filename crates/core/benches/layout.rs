//! Layout optimisation: the feasibility check of one candidate swap at 1,000 assets (the
//! sandbox's clearance hierarchy against a check of every pair, same run), and the optimiser on
//! a scrambled 200-machine, 300-flow plant (effort before and after, the result checked again
//! from scratch).
//!
//! `cargo bench --bench layout [-- --seconds S]` (default 60 s for the optimiser)

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use plant_twin_core::clearance::ClearanceModel;
use plant_twin_core::optimise::flow::DistanceMetric;
use plant_twin_core::optimise::layout::{LayoutOptions, optimise_layout};
use plant_twin_core::optimise::synthetic::{scrambled, synthetic_plant};

/// Mean microseconds to try swapping two assets: both placed, checked, put back.
fn swap_check_us(assets: usize, brute: bool) -> (f64, usize) {
    let plant = synthetic_plant(assets, assets, 7);
    let mut model = ClearanceModel::new(&plant);
    let trials = 2_000;
    let mut refused = 0;
    let started = Instant::now();
    for k in 0..trials {
        let (r, s) = ((k * 7919) % assets, (k * 104_729 + 13) % assets);
        if r == s {
            continue;
        }
        let (a, b) = (&plant.assets[r], &plant.assets[s]);
        model.set_pose(r, b.position, a.rotation_deg);
        model.set_pose(s, a.position, b.rotation_deg);
        let violations = if brute {
            model.check_moved_brute_force(&[r, s])
        } else {
            model.check_moved(&[r, s])
        };
        refused += usize::from(!violations.is_empty());
        model.set_pose(r, a.position, a.rotation_deg);
        model.set_pose(s, b.position, b.rotation_deg);
        if model.moved_since_rebuild() > 32 {
            model.rebuild();
        }
    }
    (
        started.elapsed().as_secs_f64() * 1e6 / trials as f64,
        refused,
    )
}

fn main() {
    let seconds = std::env::args()
        .skip_while(|a| a != "--seconds")
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(60.0);

    println!("feasibility of one candidate swap (mean of 2,000)");
    println!(
        "{:>7} {:>12} {:>14} {:>9}",
        "assets", "BVH us", "every pair us", "refused"
    );
    for assets in [200, 1_000, 10_000] {
        let (bvh, refused) = swap_check_us(assets, false);
        let (brute, refused_brute) = swap_check_us(assets, true);
        assert_eq!(refused, refused_brute, "both checks refuse the same swaps");
        println!("{assets:>7} {bvh:>12.2} {brute:>14.2} {refused:>9}");
    }

    let layout = scrambled(&synthetic_plant(200, 300, 1), 1);
    let options = LayoutOptions {
        seconds,
        metric: DistanceMetric::Aisle,
        ..LayoutOptions::default()
    };
    let mut improvements = 0;
    let proposal = match optimise_layout(&layout, &options, &AtomicBool::new(false), &mut |_, _| {
        improvements += 1
    }) {
        Ok(proposal) => proposal,
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    };
    let violations = ClearanceModel::new(&proposal.layout).check_all().len();
    println!(
        "\nscrambled plant, 200 machines, 300 flows, {seconds} s, seed 1: effort along the aisles {:.0} -> {:.0} ({:+.1} %), {} moved, {} swaps, {} improvements, {violations} clearance violations",
        proposal.effort_before,
        proposal.effort_after,
        proposal.change_percent(),
        proposal.moves.len(),
        proposal.iterations,
        improvements
    );
}
