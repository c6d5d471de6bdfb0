//! Layout optimisation: the movable assets trade places so that the transport effort falls,
//! and every clearance rule holds after every step (a hard constraint, checked with the
//! sandbox's clearance model, never traded against effort).
//!
//! The places are the ones the assets stand on now (each asset keeps its rotation), so the
//! problem is a quadratic assignment: assets are the facilities, their places the locations,
//! flows the flow matrix and the rectilinear distance between places the distance matrix. The
//! robust tabu search of [`super::qap`] solves it, with a filter that refuses a swap whose two
//! footprints do not fit each other's place. Pick-up and drop-off offsets are left out of the
//! search's distances; the effort before and after is measured in full with
//! [`super::flow::transport_effort`].

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;

use super::flow::{DistanceMetric, rectilinear, transport_effort};
use super::qap::{Qap, SolveOptions, SwapFilter, solve};
use crate::clearance::ClearanceModel;
use crate::layout::PlantLayout;

/// What to optimise and for how long.
#[derive(Debug, Clone)]
pub struct LayoutOptions {
    pub seconds: f64,
    /// With an iteration limit the result depends only on the layout and the seed.
    pub max_iterations: Option<u64>,
    pub seed: u64,
    /// Only these asset ids may move (default: every asset that is not pinned and has a flow).
    pub movable: Option<Vec<String>>,
    /// How the effort before and after is measured.
    pub metric: DistanceMetric,
}

impl Default for LayoutOptions {
    fn default() -> Self {
        LayoutOptions {
            seconds: 60.0,
            max_iterations: None,
            seed: 1,
            movable: None,
            metric: DistanceMetric::Aisle,
        }
    }
}

/// A candidate layout and what it changes.
#[derive(Debug, Clone)]
pub struct LayoutProposal {
    pub layout: PlantLayout,
    pub effort_before: f64,
    pub effort_after: f64,
    /// Every asset that moved, in layout order.
    pub moves: Vec<AssetMove>,
    pub iterations: u64,
    pub elapsed_s: f64,
}

impl LayoutProposal {
    /// Change of effort, percent of the effort before (negative is better).
    pub fn change_percent(&self) -> f64 {
        100.0 * (self.effort_after - self.effort_before) / self.effort_before.max(f64::MIN_POSITIVE)
    }
}

/// One asset of a proposal on a new place (plan coordinates, metres).
#[derive(Debug, Clone, PartialEq)]
pub struct AssetMove {
    pub id: String,
    pub from: (f32, f32),
    pub to: (f32, f32),
}

/// Called with each better arrangement: every asset's plan position, and its effort in the
/// search's own measure (rectilinear between places).
pub type OnBetterLayout<'a> = dyn FnMut(&[(f32, f32)], f64) + 'a;

/// Why nothing was optimised.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptimiseError {
    #[error("the layout has no material flows: there is no transport effort to lower")]
    NoFlows,
    #[error("--move names \"{0}\", which is not an asset of this layout")]
    UnknownAsset(String),
    #[error("asset \"{0}\" is pinned and cannot be moved")]
    Pinned(String),
    #[error("fewer than two assets may move: nothing can trade places")]
    NothingMovable,
    #[error("the layout cannot be optimised: {0}")]
    Unsolvable(String),
    #[error("the layout already breaks {} clearance rule(s); fix them first:\n{}", .0.len(), .0.join("\n"))]
    Infeasible(Vec<String>),
}

/// Proposes a layout with less transport effort. `on_best` sees each better arrangement as
/// plan positions per asset (for ghosts in the scene); `cancel` stops the search early with the
/// best so far.
pub fn optimise_layout(
    layout: &PlantLayout,
    options: &LayoutOptions,
    cancel: &AtomicBool,
    on_best: &mut OnBetterLayout,
) -> Result<LayoutProposal, OptimiseError> {
    if layout.flows.is_empty() {
        return Err(OptimiseError::NoFlows);
    }
    let movable = movable_assets(layout, options.movable.as_deref())?;
    let model = ClearanceModel::new(layout);
    let violations = model.check_all();
    if !violations.is_empty() {
        return Err(OptimiseError::Infeasible(
            violations.iter().map(|v| v.describe(layout)).collect(),
        ));
    }
    let effort_before = transport_effort(layout, options.metric).total;
    let places: Vec<(f32, f32)> = layout.assets.iter().map(|a| a.position).collect();
    let qap = assignment_problem(layout, &places)?;
    let mut filter = FitsAndMovable {
        model,
        movable,
        places: places.clone(),
        rotations: layout.assets.iter().map(|a| a.rotation_deg).collect(),
        current: (0..places.len()).collect(),
    };
    let start: Vec<usize> = (0..places.len()).collect();
    let solve_options = SolveOptions {
        seconds: options.seconds,
        max_iterations: options.max_iterations,
        seed: options.seed,
        target_cost: None,
    };
    let solution = solve(
        &qap,
        Some(&start),
        &solve_options,
        &mut filter,
        cancel,
        &mut |p, cost| {
            let positions: Vec<(f32, f32)> = p.iter().map(|&k| places[k]).collect();
            on_best(&positions, cost as f64 / SCALE);
        },
    );
    let mut proposal = layout.clone();
    let mut moves = Vec::new();
    for (asset, &place) in proposal.assets.iter_mut().zip(&solution.permutation) {
        if asset.position != places[place] {
            moves.push(AssetMove {
                id: asset.id.clone(),
                from: asset.position,
                to: places[place],
            });
            asset.position = places[place];
        }
    }
    let effort_after = transport_effort(&proposal, options.metric).total;
    Ok(LayoutProposal {
        layout: proposal,
        effort_before,
        effort_after,
        moves,
        iterations: solution.iterations,
        elapsed_s: solution.elapsed_s,
    })
}

/// Flows in thousandths of their amount per hour and distances in millimetres: integers for
/// the exact delta arithmetic of the search.
const SCALE: f64 = 1000.0 * 1000.0;

fn assignment_problem(layout: &PlantLayout, places: &[(f32, f32)]) -> Result<Qap, OptimiseError> {
    let n = places.len();
    let index: HashMap<&str, usize> = layout
        .assets
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.as_str(), i))
        .collect();
    let mut flow = vec![0i64; n * n];
    for f in &layout.flows {
        if let (Some(&i), Some(&j)) = (index.get(f.from.as_str()), index.get(f.to.as_str())) {
            flow[i * n + j] += (f.amount_per_hour.max(0.0) as f64 * 1000.0).round() as i64;
        }
    }
    let mut distance = vec![0i64; n * n];
    for k in 0..n {
        for l in 0..n {
            distance[k * n + l] = (rectilinear(places[k], places[l]) * 1000.0).round() as i64;
        }
    }
    Qap::new(n, flow, distance).map_err(|e| OptimiseError::Unsolvable(e.to_string()))
}

/// Which assets may move: the ones named (each must exist and not be pinned), or every asset
/// that is not pinned and has a flow.
fn movable_assets(
    layout: &PlantLayout,
    named: Option<&[String]>,
) -> Result<Vec<bool>, OptimiseError> {
    let movable: Vec<bool> = match named {
        // An asset no flow touches has no effort to lower: it stays (the search would trade
        // it around for nothing).
        None => layout
            .assets
            .iter()
            .map(|a| !a.pinned && layout.flows.iter().any(|f| f.from == a.id || f.to == a.id))
            .collect(),
        Some(ids) => {
            let mut movable = vec![false; layout.assets.len()];
            for id in ids {
                let i = layout
                    .assets
                    .iter()
                    .position(|a| &a.id == id)
                    .ok_or_else(|| OptimiseError::UnknownAsset(id.clone()))?;
                if layout.assets[i].pinned {
                    return Err(OptimiseError::Pinned(id.clone()));
                }
                movable[i] = true;
            }
            movable
        }
    };
    if movable.iter().filter(|&&m| m).count() < 2 {
        return Err(OptimiseError::NothingMovable);
    }
    Ok(movable)
}

/// A swap is allowed if both assets may move and, standing on each other's place, neither
/// breaks a clearance rule.
struct FitsAndMovable {
    model: ClearanceModel,
    movable: Vec<bool>,
    places: Vec<(f32, f32)>,
    rotations: Vec<f32>,
    /// The place each asset has in `model`.
    current: Vec<usize>,
}

impl FitsAndMovable {
    fn put(&mut self, asset: usize, place: usize) {
        self.model
            .set_pose(asset, self.places[place], self.rotations[asset]);
        self.current[asset] = place;
    }
}

impl SwapFilter for FitsAndMovable {
    fn allows(&mut self, p: &[usize], r: usize, s: usize) -> bool {
        if !(self.movable[r] && self.movable[s]) {
            return false;
        }
        // Bring the model to `p` (the search may have moved on, or restarted from its best).
        for (asset, &place) in p.iter().enumerate() {
            if self.current[asset] != place {
                self.put(asset, place);
            }
        }
        // Moved assets are checked one by one against the hierarchy's stale entries: rebuild
        // it once many have moved (a rebuild at 1,000 assets costs about one pair check each).
        if self.model.moved_since_rebuild() > 32 {
            self.model.rebuild();
        }
        let (pr, ps) = (p[r], p[s]);
        self.put(r, ps);
        self.put(s, pr);
        let fits = self.model.check_moved(&[r, s]).is_empty();
        self.put(r, pr);
        self.put(s, ps);
        fits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{layout_to_ron, parse_layout};
    use crate::optimise::synthetic::{scrambled, synthetic_plant};

    fn options(iterations: u64) -> LayoutOptions {
        LayoutOptions {
            seconds: f64::INFINITY,
            max_iterations: Some(iterations),
            metric: DistanceMetric::Rectilinear,
            ..LayoutOptions::default()
        }
    }

    fn violations(layout: &PlantLayout) -> Vec<String> {
        ClearanceModel::new(layout)
            .check_all()
            .iter()
            .map(|v| v.describe(layout))
            .collect()
    }

    #[test]
    fn generated_plants_are_valid_and_feasible_before_and_after_scrambling() {
        let good = synthetic_plant(60, 90, 3);
        let text = layout_to_ron(&good).unwrap();
        parse_layout(&text, std::path::Path::new("generated.ron")).unwrap();
        assert_eq!(violations(&good), Vec::<String>::new());
        let bad = scrambled(&good, 3);
        assert_eq!(violations(&bad), Vec::<String>::new());
        let (good_effort, bad_effort) = (
            transport_effort(&good, DistanceMetric::Rectilinear).total,
            transport_effort(&bad, DistanceMetric::Rectilinear).total,
        );
        assert!(
            bad_effort > 2.0 * good_effort,
            "{good_effort} -> {bad_effort}"
        );
    }

    #[test]
    fn a_scrambled_plant_gets_a_third_less_effort_and_keeps_every_clearance() {
        let layout = scrambled(&synthetic_plant(60, 90, 5), 5);
        let mut reported = Vec::new();
        let proposal = optimise_layout(
            &layout,
            &options(400),
            &AtomicBool::new(false),
            &mut |positions, effort| reported.push((positions.len(), effort)),
        )
        .unwrap();
        assert!(
            proposal.change_percent() <= -30.0,
            "{} -> {} ({:+.1} %)",
            proposal.effort_before,
            proposal.effort_after,
            proposal.change_percent()
        );
        // Without the clearance filter wide machines land in narrow bays here (checked by
        // switching it off): the independent check of the result finds nothing.
        assert_eq!(violations(&proposal.layout), Vec::<String>::new());
        // Pinned assets stayed; every move is in the list; progress was reported, falling.
        for (before, after) in layout.assets.iter().zip(&proposal.layout.assets) {
            if before.pinned {
                assert_eq!(before.position, after.position, "{}", before.id);
            }
            let listed = proposal.moves.iter().any(|m| m.id == before.id);
            assert_eq!(listed, before.position != after.position, "{}", before.id);
        }
        assert!(reported.len() > 10 && reported.iter().all(|(n, _)| *n == 60));
        assert!(reported.windows(2).all(|w| w[1].1 < w[0].1));
        // The same seed and budget give the same layout.
        let again = optimise_layout(
            &layout,
            &options(400),
            &AtomicBool::new(false),
            &mut |_, _| {},
        )
        .unwrap();
        assert_eq!(again.layout, proposal.layout);
    }

    #[test]
    fn layouts_that_cannot_be_optimised_say_why() {
        let layout = synthetic_plant(12, 10, 1);
        let cancel = AtomicBool::new(false);
        let run = |layout: &PlantLayout, options: &LayoutOptions| {
            optimise_layout(layout, options, &cancel, &mut |_, _| {}).unwrap_err()
        };
        let mut no_flows = layout.clone();
        no_flows.flows.clear();
        assert_eq!(run(&no_flows, &options(10)), OptimiseError::NoFlows);

        let mut one = options(10);
        one.movable = Some(vec!["m-0001".into()]);
        assert_eq!(run(&layout, &one), OptimiseError::NothingMovable);
        one.movable = Some(vec!["m-0001".into(), "m-9999".into()]);
        assert_eq!(
            run(&layout, &one),
            OptimiseError::UnknownAsset("m-9999".into())
        );

        let mut overlapping = layout.clone();
        overlapping.assets[1].position = overlapping.assets[0].position;
        let OptimiseError::Infeasible(rules) = run(&overlapping, &options(10)) else {
            panic!("an overlap must be refused");
        };
        assert!(
            rules
                .iter()
                .any(|r| r.contains("m-0000") && r.contains("m-0001")),
            "{rules:?}"
        );
    }
}
