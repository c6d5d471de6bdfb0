//! "Suggest a spot" for one asset: the nearest place (and turn) where it breaks no clearance
//! rule, or the feasible place within a radius where its flows cost least. Candidates lie on a
//! grid around the asset and on its four quarter turns; each is checked with the sandbox's
//! clearance model, so the answer keeps every rule the sandbox checks.

use super::flow::rectilinear;
use crate::clearance::ClearanceModel;
use crate::layout::PlantLayout;

/// What the suggestion optimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpotGoal {
    /// The feasible place closest to where the asset stands (its own turn first).
    NearestFeasible,
    /// The feasible place within the radius with the least effort of the asset's flows
    /// (rectilinear), nearest first among equals.
    LeastEffort,
}

/// A suggested placement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spot {
    pub position: (f32, f32),
    pub rotation_deg: f32,
    /// How far it is from where the asset stands, metres.
    pub distance_m: f32,
    /// The asset's flows' effort there (amount x rectilinear metres).
    pub effort: f64,
}

/// The suggestion for asset `asset` of `layout`, searching `radius_m` around it in steps of
/// `step_m`; None if no candidate is feasible (or the asset does not exist).
pub fn suggest_spot(
    layout: &PlantLayout,
    asset: usize,
    goal: SpotGoal,
    radius_m: f32,
    step_m: f32,
) -> Option<Spot> {
    let subject = layout.assets.get(asset)?;
    let step = step_m.max(0.05);
    let rings = (radius_m.max(0.0) / step).ceil() as i32;
    let mut candidates: Vec<(f32, (f32, f32))> = Vec::new();
    for i in -rings..=rings {
        for j in -rings..=rings {
            let (dx, dy) = (i as f32 * step, j as f32 * step);
            let distance = dx.hypot(dy);
            if distance <= radius_m + 1e-4 {
                let position = (subject.position.0 + dx, subject.position.1 + dy);
                candidates.push((distance, position));
            }
        }
    }
    candidates.sort_by(|a, b| a.0.total_cmp(&b.0));
    let turns = [0.0, 90.0, 180.0, 270.0].map(|t| (subject.rotation_deg + t) % 360.0);
    let mut model = ClearanceModel::new(layout);
    let mut best: Option<Spot> = None;
    for &(distance, position) in &candidates {
        for rotation_deg in turns {
            model.set_pose(asset, position, rotation_deg);
            if !model.check_moved(&[asset]).is_empty() {
                continue;
            }
            let effort = flow_effort(layout, asset, position, rotation_deg);
            let spot = Spot {
                position,
                rotation_deg,
                distance_m: distance,
                effort,
            };
            match goal {
                SpotGoal::NearestFeasible => return Some(spot),
                // Candidates come nearest first: a later one must be strictly better.
                SpotGoal::LeastEffort => {
                    if best.is_none_or(|b| effort < b.effort - 1e-9) {
                        best = Some(spot);
                    }
                }
            }
        }
    }
    best
}

/// Effort of the flows into and out of `asset` if it stood at `position`, turned
/// `rotation_deg` (rectilinear distances between pick-up and drop-off points).
pub fn flow_effort(
    layout: &PlantLayout,
    asset: usize,
    position: (f32, f32),
    rotation_deg: f32,
) -> f64 {
    let Some(subject) = layout.assets.get(asset) else {
        return 0.0;
    };
    let mut moved = subject.clone();
    moved.position = position;
    moved.rotation_deg = rotation_deg;
    let find = |id: &str| {
        if id == subject.id {
            Some(&moved)
        } else {
            layout.assets.iter().find(|a| a.id == id)
        }
    };
    layout
        .flows
        .iter()
        .filter(|f| f.from == subject.id || f.to == subject.id)
        .filter_map(|f| {
            let (from, to) = (find(&f.from)?, find(&f.to)?);
            Some(
                f.amount_per_hour.max(0.0) as f64
                    * rectilinear(from.pickup_point(), to.dropoff_point()),
            )
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimise::synthetic::synthetic_plant;

    #[test]
    fn an_overlapping_asset_gets_the_nearest_place_that_breaks_no_rule() {
        let mut layout = synthetic_plant(20, 20, 2);
        // Push machine 1 half into machine 0.
        let (x0, y0) = layout.assets[0].position;
        layout.assets[1].position = (x0 + 2.0, y0);
        assert!(!ClearanceModel::new(&layout).check_all().is_empty());
        let spot = suggest_spot(&layout, 1, SpotGoal::NearestFeasible, 12.0, 0.25).unwrap();
        let mut fixed = layout.clone();
        fixed.assets[1].position = spot.position;
        fixed.assets[1].rotation_deg = spot.rotation_deg;
        assert!(
            ClearanceModel::new(&fixed).check_all().is_empty(),
            "{spot:?}"
        );
        // Nothing nearer on the grid is feasible with any turn (checked from scratch).
        let mut model = ClearanceModel::new(&layout);
        let rings = (spot.distance_m / 0.25).ceil() as i32;
        for i in -rings..=rings {
            for j in -rings..=rings {
                let (dx, dy) = (i as f32 * 0.25, j as f32 * 0.25);
                if dx.hypot(dy) < spot.distance_m - 1e-4 {
                    for turn in [0.0, 90.0, 180.0, 270.0] {
                        model.set_pose(1, (x0 + 2.0 + dx, y0 + dy), turn);
                        assert!(!model.check_moved(&[1]).is_empty(), "({dx}, {dy}) {turn}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_least_effort_spot_is_feasible_and_no_worse_than_staying() {
        let layout = synthetic_plant(30, 40, 4);
        let subject = 5;
        let here = flow_effort(
            &layout,
            subject,
            layout.assets[subject].position,
            layout.assets[subject].rotation_deg,
        );
        let spot = suggest_spot(&layout, subject, SpotGoal::LeastEffort, 10.0, 0.5).unwrap();
        assert!(spot.effort <= here + 1e-9, "{here} -> {spot:?}");
        let mut moved = layout.clone();
        moved.assets[subject].position = spot.position;
        moved.assets[subject].rotation_deg = spot.rotation_deg;
        assert!(ClearanceModel::new(&moved).check_all().is_empty());
        assert!(suggest_spot(&layout, 999, SpotGoal::LeastEffort, 5.0, 0.5).is_none());
    }
}
