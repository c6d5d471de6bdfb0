//! The quadratic assignment problem and its solver: which facility goes to which location so
//! that the sum of flow x distance is least. It is the assignment core of layout optimisation
//! (which asset goes to which slot) and is measured on QAPLIB by `plant-twin eval qap`.
//!
//! The method is Taillard's robust tabu search (1991), chosen by the QAPLIB figures in
//! ARCHITECTURE.md: every iteration takes the best pair swap that is not tabu, with the cost
//! change of all n(n-1)/2 swaps kept in a table updated in O(1) per pair after a swap (O(n) for
//! the pairs touching the swapped facilities), so an iteration costs O(n^2) and memory stays at
//! the two matrices plus two n x n tables. On top of it, a restart from the best solution with
//! a random perturbation when the search has stalled (iterated tabu search): robust tabu search
//! alone stays in the valleys of instances whose flows form a tree (chr*).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::rng::Rng;

/// A QAP instance: cost of a permutation `p` (facility i at location `p[i]`) is
/// `sum over i, j of flow[i][j] * distance[p[i]][p[j]]`, QAPLIB's convention. Matrices need not
/// be symmetric.
#[derive(Debug, Clone, PartialEq)]
pub struct Qap {
    n: usize,
    /// Row-major n x n.
    flow: Vec<i64>,
    /// Row-major n x n.
    distance: Vec<i64>,
}

/// Why an instance cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QapError {
    #[error("a QAP needs at least 2 facilities, got {0}")]
    TooSmall(usize),
    #[error("the {which} matrix has {found} entries, {n} x {n} needs {}", n * n)]
    Shape {
        which: &'static str,
        n: usize,
        found: usize,
    },
    #[error(
        "flow and distance values this large can overflow the cost (largest |flow| {flow}, |distance| {distance})"
    )]
    TooLarge { flow: i64, distance: i64 },
}

impl Qap {
    /// An instance from row-major `n x n` flow and distance matrices.
    pub fn new(n: usize, flow: Vec<i64>, distance: Vec<i64>) -> Result<Qap, QapError> {
        if n < 2 {
            return Err(QapError::TooSmall(n));
        }
        for (which, matrix) in [("flow", &flow), ("distance", &distance)] {
            if matrix.len() != n * n {
                return Err(QapError::Shape {
                    which,
                    n,
                    found: matrix.len(),
                });
            }
        }
        // A swap's cost change sums 4n products of differences (each up to 2 max); keep the sum
        // of all of them, and the cost itself, well inside i64.
        let largest = |m: &[i64]| m.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0);
        let (f, d) = (largest(&flow), largest(&distance));
        let bound = (f as u128) * (d as u128) * 16 * (n as u128) * (n as u128);
        if bound >= i64::MAX as u128 {
            return Err(QapError::TooLarge {
                flow: f as i64,
                distance: d as i64,
            });
        }
        Ok(Qap { n, flow, distance })
    }

    pub fn size(&self) -> usize {
        self.n
    }

    fn f(&self, i: usize, j: usize) -> i64 {
        self.flow[i * self.n + j]
    }

    fn d(&self, k: usize, l: usize) -> i64 {
        self.distance[k * self.n + l]
    }

    /// The cost of `p`, which must be a permutation of `0..n`.
    pub fn cost(&self, p: &[usize]) -> i64 {
        let n = self.n;
        let mut total = 0;
        for i in 0..n {
            let row = &self.flow[i * n..(i + 1) * n];
            let drow = &self.distance[p[i] * n..(p[i] + 1) * n];
            for j in 0..n {
                total += row[j] * drow[p[j]];
            }
        }
        total
    }

    /// The change of cost when facilities `r` and `s` swap locations, in O(n).
    pub fn swap_delta(&self, p: &[usize], r: usize, s: usize) -> i64 {
        let (pr, ps) = (p[r], p[s]);
        let mut delta = self.f(r, r) * (self.d(ps, ps) - self.d(pr, pr))
            + self.f(r, s) * (self.d(ps, pr) - self.d(pr, ps))
            + self.f(s, r) * (self.d(pr, ps) - self.d(ps, pr))
            + self.f(s, s) * (self.d(pr, pr) - self.d(ps, ps));
        for (k, &pk) in p.iter().enumerate() {
            if k == r || k == s {
                continue;
            }
            delta += self.f(k, r) * (self.d(pk, ps) - self.d(pk, pr))
                + self.f(k, s) * (self.d(pk, pr) - self.d(pk, ps))
                + self.f(r, k) * (self.d(ps, pk) - self.d(pr, pk))
                + self.f(s, k) * (self.d(pr, pk) - self.d(ps, pk));
        }
        delta
    }

    /// The new change of cost of swapping `u` and `v` after `r` and `s` were swapped (`p` is
    /// the permutation after that swap; {u, v} and {r, s} are disjoint), in O(1) from the old one.
    fn swap_delta_after(
        &self,
        p: &[usize],
        old: i64,
        (r, s): (usize, usize),
        (u, v): (usize, usize),
    ) -> i64 {
        let (pr, ps, pu, pv) = (p[r], p[s], p[u], p[v]);
        old + (self.f(r, u) - self.f(r, v) + self.f(s, v) - self.f(s, u))
            * (self.d(ps, pu) - self.d(ps, pv) + self.d(pr, pv) - self.d(pr, pu))
            + (self.f(u, r) - self.f(v, r) + self.f(v, s) - self.f(u, s))
                * (self.d(pu, ps) - self.d(pv, ps) + self.d(pv, pr) - self.d(pu, pr))
    }
}

/// How long to search and from where.
#[derive(Debug, Clone)]
pub struct SolveOptions {
    /// Wall-clock limit, seconds.
    pub seconds: f64,
    /// Iteration limit (a swap per iteration). With a limit and no time limit the result
    /// depends only on the seed and the instance.
    pub max_iterations: Option<u64>,
    pub seed: u64,
    /// Stop as soon as a solution this good is found (e.g. a proven optimum).
    pub target_cost: Option<i64>,
}

impl Default for SolveOptions {
    fn default() -> Self {
        SolveOptions {
            seconds: 10.0,
            max_iterations: None,
            seed: 1,
            target_cost: None,
        }
    }
}

/// The best assignment a search found.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// Facility i at location `permutation[i]`.
    pub permutation: Vec<usize>,
    pub cost: i64,
    /// Swaps made.
    pub iterations: u64,
    /// When the best was first reached, seconds from the start.
    pub time_to_best_s: f64,
    pub elapsed_s: f64,
}

/// Which swaps the caller allows (layout: a swap must keep every clearance). Asked best first,
/// so an expensive check runs rarely; `permutation` is the one the swap would start from.
pub trait SwapFilter {
    fn allows(&mut self, permutation: &[usize], r: usize, s: usize) -> bool;
}

/// Every swap is allowed: the plain QAP.
pub struct AnySwap;

impl SwapFilter for AnySwap {
    fn allows(&mut self, _: &[usize], _: usize, _: usize) -> bool {
        true
    }
}

/// Search from `start` (or a random permutation) until the time or iteration limit, the target
/// cost, or `cancel`. `on_best` sees every new best solution (progress for a background job).
pub fn solve(
    qap: &Qap,
    start: Option<&[usize]>,
    options: &SolveOptions,
    filter: &mut dyn SwapFilter,
    cancel: &AtomicBool,
    on_best: &mut dyn FnMut(&[usize], i64),
) -> Solution {
    let started = Instant::now();
    let n = qap.n;
    let mut rng = Rng(options.seed);
    let mut p: Vec<usize> = match start {
        Some(start) if is_permutation(start, n) => start.to_vec(),
        _ => {
            let mut p: Vec<usize> = (0..n).collect();
            shuffle(&mut p, &mut rng);
            p
        }
    };
    let mut cost = qap.cost(&p);
    let mut best = Solution {
        permutation: p.clone(),
        cost,
        iterations: 0,
        time_to_best_s: 0.0,
        elapsed_s: 0.0,
    };
    on_best(&p, cost);

    let mut delta = vec![0i64; n * n];
    fill_deltas(qap, &p, &mut delta);
    // tabu[i * n + loc]: until which iteration facility i may not go back to location loc.
    // Taillard starts it negative and distinct, so the first long-unseen moves are aspired.
    let mut tabu: Vec<i64> = (0..n * n).map(|k| -(k as i64) - 1).collect();
    let (tenure_low, tenure_high) = ((n * 9 / 10).max(2), (n * 11 / 10).max(3));
    // Taillard's aspiration: a swap that puts both facilities where neither has been for this
    // many iterations is made even if tabu (long-term diversification).
    let aspiration = (n * n * 5) as i64;
    let mut tenure = tenure_low + rng.below(tenure_high - tenure_low + 1);
    // A restart from the best with a perturbation when the best has not improved for this long.
    let stall_limit = (n * n * 20).max(2_000) as u64;
    let mut since_improvement = 0u64;

    let mut iteration: i64 = 0;
    loop {
        if best.cost <= options.target_cost.unwrap_or(i64::MIN)
            || options
                .max_iterations
                .is_some_and(|limit| iteration as u64 >= limit)
            || (iteration % 32 == 0
                && (cancel.load(Ordering::Relaxed)
                    || started.elapsed().as_secs_f64() >= options.seconds))
        {
            break;
        }
        iteration += 1;
        if (iteration as usize).is_multiple_of(2 * tenure_high) {
            tenure = tenure_low + rng.below(tenure_high - tenure_low + 1);
        }

        let Some((r, s)) = choose_swap(
            qap, &p, &delta, &tabu, cost, best.cost, iteration, aspiration, filter,
        ) else {
            // Every swap is tabu and not aspired, or the filter refused all: perturb.
            perturb(&mut p, &mut rng, filter, n / 4 + 2);
            cost = qap.cost(&p);
            fill_deltas(qap, &p, &mut delta);
            continue;
        };
        tabu[r * n + p[r]] = iteration + tenure as i64;
        tabu[s * n + p[s]] = iteration + tenure as i64;
        cost += delta[r * n + s];
        p.swap(r, s);
        update_deltas(qap, &p, &mut delta, r, s);

        if cost < best.cost {
            best.cost = cost;
            best.permutation.copy_from_slice(&p);
            best.time_to_best_s = started.elapsed().as_secs_f64();
            since_improvement = 0;
            on_best(&p, cost);
        } else {
            since_improvement += 1;
            if since_improvement >= stall_limit {
                since_improvement = 0;
                p.copy_from_slice(&best.permutation);
                perturb(&mut p, &mut rng, filter, n / 4 + 2);
                cost = qap.cost(&p);
                fill_deltas(qap, &p, &mut delta);
            }
        }
    }
    best.iterations = iteration as u64;
    best.elapsed_s = started.elapsed().as_secs_f64();
    best
}

/// Taillard's rule: the best swap that is allowed (not tabu for both facilities) or aspired
/// (improves the best, or puts both where they have not been for `aspiration` iterations; an
/// aspired swap wins over any merely allowed one). The filter is asked best first.
#[allow(clippy::too_many_arguments)]
fn choose_swap(
    qap: &Qap,
    p: &[usize],
    delta: &[i64],
    tabu: &[i64],
    cost: i64,
    best_cost: i64,
    iteration: i64,
    aspiration: i64,
    filter: &mut dyn SwapFilter,
) -> Option<(usize, usize)> {
    let n = qap.n;
    let admissible = |r: usize, s: usize| {
        let d = delta[r * n + s];
        let (tr, ts) = (tabu[r * n + p[s]], tabu[s * n + p[r]]);
        let allowed = tr < iteration || ts < iteration;
        let aspired =
            cost + d < best_cost || (tr < iteration - aspiration && ts < iteration - aspiration);
        (allowed || aspired).then_some((!aspired, d))
    };
    // (not aspired, delta): the order of preference, so an aspired swap wins over any other.
    let mut chosen: Option<((bool, i64), usize, usize)> = None;
    for r in 0..n - 1 {
        for s in r + 1..n {
            if let Some(key) = admissible(r, s)
                && chosen.is_none_or(|(best, ..)| key < best)
            {
                chosen = Some((key, r, s));
            }
        }
    }
    let (_, r, s) = chosen?;
    if filter.allows(p, r, s) {
        return Some((r, s));
    }
    // The filter refused the best (a layout: two footprints that do not fit each other's
    // place): try the others best first, up to a limit, then give up for a perturbation.
    let mut candidates: Vec<((bool, i64), usize, usize)> = (0..n - 1)
        .flat_map(|r| (r + 1..n).map(move |s| (r, s)))
        .filter_map(|(r, s)| admissible(r, s).map(|key| (key, r, s)))
        .collect();
    candidates.sort_unstable();
    candidates
        .into_iter()
        .skip(1)
        .take(4 * n)
        .find(|&(_, r, s)| filter.allows(p, r, s))
        .map(|(_, r, s)| (r, s))
}

fn fill_deltas(qap: &Qap, p: &[usize], delta: &mut [i64]) {
    let n = qap.n;
    for r in 0..n - 1 {
        for s in r + 1..n {
            delta[r * n + s] = qap.swap_delta(p, r, s);
        }
    }
}

/// After `r` and `s` swapped (`p` already swapped): O(1) per pair not touching them, O(n) for
/// the 2n pairs that do.
fn update_deltas(qap: &Qap, p: &[usize], delta: &mut [i64], r: usize, s: usize) {
    let n = qap.n;
    for u in 0..n - 1 {
        for v in u + 1..n {
            delta[u * n + v] = if u != r && u != s && v != r && v != s {
                qap.swap_delta_after(p, delta[u * n + v], (r, s), (u, v))
            } else {
                qap.swap_delta(p, u, v)
            };
        }
    }
}

/// Random swaps the filter allows (at most `count`).
fn perturb(p: &mut [usize], rng: &mut Rng, filter: &mut dyn SwapFilter, count: usize) {
    let n = p.len();
    for _ in 0..count {
        let r = rng.below(n);
        let s = rng.below(n);
        if r != s && filter.allows(p, r.min(s), r.max(s)) {
            p.swap(r, s);
        }
    }
}

fn shuffle(p: &mut [usize], rng: &mut Rng) {
    for i in (1..p.len()).rev() {
        p.swap(i, rng.below(i + 1));
    }
}

/// Whether `p` holds each of `0..n` once.
pub fn is_permutation(p: &[usize], n: usize) -> bool {
    let mut seen = vec![false; n];
    p.len() == n
        && p.iter()
            .all(|&k| k < n && !std::mem::replace(&mut seen[k], true))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A search limited by iterations only: the same result on any machine.
    fn budget(iterations: u64, seed: u64) -> SolveOptions {
        SolveOptions {
            seconds: f64::INFINITY,
            max_iterations: Some(iterations),
            seed,
            target_cost: None,
        }
    }

    /// A small asymmetric instance with a diagonal, from a seeded generator.
    fn random_instance(n: usize, seed: u64) -> Qap {
        let mut rng = Rng(seed);
        let mut matrix = || (0..n * n).map(|_| rng.below(20) as i64 - 5).collect();
        let flow = matrix();
        let distance = matrix();
        Qap::new(n, flow, distance).unwrap()
    }

    fn brute_force_best(qap: &Qap) -> i64 {
        fn permute(qap: &Qap, p: &mut Vec<usize>, k: usize, best: &mut i64) {
            if k == p.len() {
                *best = (*best).min(qap.cost(p));
                return;
            }
            for i in k..p.len() {
                p.swap(k, i);
                permute(qap, p, k + 1, best);
                p.swap(k, i);
            }
        }
        let mut best = i64::MAX;
        permute(qap, &mut (0..qap.size()).collect(), 0, &mut best);
        best
    }

    #[test]
    fn swap_deltas_equal_the_cost_difference_even_for_asymmetric_matrices() {
        let qap = random_instance(7, 3);
        let p = vec![3, 0, 6, 1, 5, 2, 4];
        for r in 0..7 {
            for s in r + 1..7 {
                let mut q = p.clone();
                q.swap(r, s);
                assert_eq!(qap.swap_delta(&p, r, s), qap.cost(&q) - qap.cost(&p));
            }
        }
    }

    #[test]
    fn the_kept_delta_table_stays_exact_over_many_swaps() {
        let qap = random_instance(9, 5);
        let mut rng = Rng(11);
        let mut p: Vec<usize> = (0..9).collect();
        let mut delta = vec![0; 81];
        fill_deltas(&qap, &p, &mut delta);
        for _ in 0..200 {
            let (a, b) = (rng.below(9), rng.below(9));
            if a == b {
                continue;
            }
            let (r, s) = (a.min(b), a.max(b));
            p.swap(r, s);
            update_deltas(&qap, &p, &mut delta, r, s);
        }
        let mut fresh = vec![0; 81];
        fill_deltas(&qap, &p, &mut fresh);
        assert_eq!(delta, fresh);
    }

    #[test]
    fn the_search_finds_the_optimum_of_small_instances() {
        for seed in [1, 2, 3] {
            let qap = random_instance(8, seed);
            let optimum = brute_force_best(&qap);
            let options = budget(5_000, seed);
            let found = solve(
                &qap,
                None,
                &options,
                &mut AnySwap,
                &AtomicBool::new(false),
                &mut |_, _| {},
            );
            assert_eq!(found.cost, optimum, "seed {seed}");
            assert_eq!(qap.cost(&found.permutation), found.cost);
        }
    }

    #[test]
    fn the_same_seed_and_iteration_limit_give_the_same_solution() {
        let qap = random_instance(12, 9);
        let options = budget(3_000, 4);
        let run = || {
            solve(
                &qap,
                None,
                &options,
                &mut AnySwap,
                &AtomicBool::new(false),
                &mut |_, _| {},
            )
        };
        let (a, b) = (run(), run());
        assert_eq!((a.permutation, a.cost), (b.permutation, b.cost));
    }

    #[test]
    fn a_filter_keeps_refused_swaps_out_of_every_solution() {
        // Facility 0 may never move: every solution keeps it at location 0.
        struct Pinned;
        impl SwapFilter for Pinned {
            fn allows(&mut self, _: &[usize], r: usize, s: usize) -> bool {
                r != 0 && s != 0
            }
        }
        let qap = random_instance(8, 21);
        let start: Vec<usize> = (0..8).collect();
        let options = budget(2_000, 1);
        let mut seen_moved = false;
        let found = solve(
            &qap,
            Some(&start),
            &options,
            &mut Pinned,
            &AtomicBool::new(false),
            &mut |p, _| seen_moved |= p[0] != 0,
        );
        assert_eq!(found.permutation[0], 0);
        assert!(!seen_moved);
    }

    #[test]
    fn malformed_instances_are_refused() {
        assert_eq!(Qap::new(1, vec![0], vec![0]), Err(QapError::TooSmall(1)));
        assert!(matches!(
            Qap::new(2, vec![0; 3], vec![0; 4]),
            Err(QapError::Shape { which: "flow", .. })
        ));
        assert!(matches!(
            Qap::new(2, vec![i64::MAX / 4; 4], vec![8; 4]),
            Err(QapError::TooLarge { .. })
        ));
        assert!(is_permutation(&[2, 0, 1], 3));
        assert!(!is_permutation(&[2, 2, 1], 3));
        assert!(!is_permutation(&[0, 1], 3));
    }
}
