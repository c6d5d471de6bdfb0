//! Prediction benchmarks (figures in README's Performance section):
//!
//! 1. the detector, fusion, trend and alarm update per sample (`AssetModel::update`), on a
//!    10,000-asset plant fed by the simulator, in ns per sample and in the share of one core
//!    that 10,000 assets at 10 Hz need;
//! 2. with `--false-alarms`: alarms raised on a healthy 1,000-asset plant over 30 simulated
//!    minutes (a quality figure);
//! 3. with `--write-layouts DIR`: writes 1,000- and 10,000-asset layouts (their baselines and
//!    the demo's pump model beside them) for measuring the frame cost of the coloured scene in
//!    the app: `plant-twin --layout DIR/plant-10000.ron --screenshot x.png --screenshot-after 90`
//!    logs the mean frame time, the main world's share and the draw calls; `--frame-stats`
//!    logs them every 10 s as the window runs on change.
//!
//! `cargo bench --bench prediction [-- --false-alarms | --write-layouts DIR]`

use std::time::Instant;

use plant_twin_core::layout::{DEMO_LAYOUT_PATH, DEMO_LAYOUT_TEXT, layout_to_ron, parse_layout};
use plant_twin_core::predict::baseline::{baseline_path_for, learn_from_simulation, save_baseline};
use plant_twin_core::predict::degradation::{DegradationTracker, models_named_by};
use plant_twin_core::predict::{AssetModel, PredictConfig};
use plant_twin_core::sim::{SimConfig, Simulator, scaled_layout, scenario};

const ASSETS: usize = 10_000;

/// Tracks the demo's learned pump model on every pump, as the app does; returns how many.
fn attach_demo_models(
    layout: &plant_twin_core::layout::PlantLayout,
    models: &mut [AssetModel],
) -> usize {
    let (learned, errors) = models_named_by(layout, None);
    assert!(errors.is_empty(), "{errors:?}");
    let mut tracked = 0;
    for (asset, model) in layout.assets.iter().zip(models.iter_mut()) {
        if let Some(found) = learned.iter().find(|m| m.model.kind == asset.kind)
            && let Ok(tracker) = DegradationTracker::new(found.model.clone(), asset)
        {
            model.set_degradation(tracker);
            tracked += 1;
        }
    }
    tracked
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let demo = parse_layout(DEMO_LAYOUT_TEXT, std::path::Path::new(DEMO_LAYOUT_PATH))
        .expect("demo layout");
    if let Some(dir) = args
        .iter()
        .position(|a| a == "--write-layouts")
        .and_then(|i| args.get(i + 1))
    {
        std::fs::create_dir_all(dir).expect("layout directory made");
        // The layouts name the demo's pump model by a relative path: it goes beside them.
        for model in &demo.degradation_models {
            let from = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../plant-layouts")
                .join(model);
            std::fs::copy(&from, std::path::Path::new(dir).join(model)).expect("model copied");
        }
        for count in [1_000, 10_000] {
            let layout = scaled_layout(&demo, count);
            let path = std::path::Path::new(dir).join(format!("plant-{count}.ron"));
            let text = layout_to_ron(&layout).expect("serialises");
            std::fs::write(&path, text).expect("layout written");
            let baseline = learn_from_simulation(&layout, &PredictConfig::default(), 1, 600.0, 1.0);
            save_baseline(&baseline_path_for(&path), &baseline).expect("baseline written");
            println!("wrote {}", path.display());
        }
        return;
    }

    let layout = scaled_layout(&demo, ASSETS);
    let config = PredictConfig::default();
    if args.iter().any(|a| a == "--false-alarms") {
        false_alarms(&scaled_layout(&demo, 1_000), &config);
        return;
    }
    let started = Instant::now();
    let baseline = learn_from_simulation(&layout, &config, 1, 300.0, 1.0);
    println!(
        "learned a baseline for {ASSETS} assets from 300 simulated seconds in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut models: Vec<AssetModel> = layout
        .assets
        .iter()
        .map(|asset| AssetModel::new(asset, &config, baseline.assets.get(&asset.id)))
        .collect();
    let tracked = attach_demo_models(&layout, &mut models);
    // A fault on one asset in ten, so alarms and trends do real work too.
    let sim = SimConfig {
        scenario: scenario::scenario("healthy").expect("scenario"),
        ..SimConfig::default()
    };
    let mut simulator = Simulator::new(&layout, sim);
    let steps = 120;
    let values: Vec<Vec<(usize, usize, f64)>> = (0..steps)
        .map(|step| {
            simulator
                .step(step as f64)
                .iter()
                .map(|v| {
                    let drift = if v.asset % 10 == 0 {
                        step as f64 * 0.5
                    } else {
                        0.0
                    };
                    (v.asset, v.signal, v.value + drift)
                })
                .collect()
        })
        .collect();
    let samples: usize = values.iter().map(Vec::len).sum();
    let signals = samples / steps;
    // The reference, timed in the same run (figures on this shared machine move by a third
    // from one run to the next): the same plant without load conditioning and without the
    // learned degradation model.
    let mut without = baseline.clone();
    for asset in without.assets.values_mut() {
        asset.conditioned.clear();
    }
    let mut reference: Vec<AssetModel> = layout
        .assets
        .iter()
        .map(|asset| AssetModel::new(asset, &config, without.assets.get(&asset.id)))
        .collect();
    let mut changes = vec![];
    let mut best = f64::INFINITY;
    let mut best_reference = f64::INFINITY;
    for pass in 0..3 {
        for (models, best) in [
            (&mut models, &mut best),
            (&mut reference, &mut best_reference),
        ] {
            let started = Instant::now();
            for (step, row) in values.iter().enumerate() {
                let t = (pass * steps + step) as f64;
                for &(asset, signal, value) in row {
                    models[asset].update(&config, signal, t, value, &mut changes);
                }
                changes.clear();
            }
            *best = best.min(started.elapsed().as_secs_f64() * 1e9 / samples as f64);
        }
    }
    // Best of 3, like the update: the first pass after the reference's runs on cold caches.
    let mut horizon_ns = f64::INFINITY;
    let mut horizons = 0;
    for _ in 0..3 {
        let started = Instant::now();
        horizons = models.iter().map(|m| m.horizons(&config).len()).sum();
        horizon_ns = horizon_ns.min(started.elapsed().as_secs_f64() * 1e9 / ASSETS as f64);
    }
    let learned: usize = models
        .iter()
        .filter(|m| m.learned_horizon(&config).is_some())
        .count();
    let per_second = signals as f64 * 10.0;
    println!(
        "update  {ASSETS} assets, {signals} signals: {best:.0} ns per sample (best of 3 passes of {samples} samples); {best_reference:.0} ns in the same run without load conditioning and learned degradation"
    );
    println!(
        "load    10,000 assets at 10 Hz = {:.0} samples/s -> {:.1} % of one core",
        per_second,
        per_second * best * 1e-9 * 100.0
    );
    println!(
        "horizon all failure horizons of an asset: {horizon_ns:.0} ns per asset ({horizons} trends heading for a limit)"
    );
    println!(
        "learned {tracked} pumps track the demo's learned degradation model (included in the update figure); {learned} with a learned horizon at the end"
    );
    // Memory: a detector and a trend per signal, and per mode its centre, a smoothed value,
    // level and spread (6 f64) per signal; the rest per asset is small.
    let modes: usize = models.iter().map(|m| m.modes.count()).sum();
    let modes_per_asset = modes as f64 / ASSETS as f64;
    let detector = std::mem::size_of::<plant_twin_core::predict::SignalDetector>();
    let trend = std::mem::size_of::<plant_twin_core::predict::Trend>();
    // Per signal: position, placement, score cache, normal low, limits, part (8 numbers).
    let per_mode = 7 * 8;
    // Load conditioning per signal: what was learned, the smoothed residual and its time, the
    // load fraction and scale, the sigma floor.
    let load = plant_twin_core::predict::load::BYTES_PER_SIGNAL;
    // What is usual by time of day: one week of quarter hours per alarm part (`recurrence`).
    let usual = models.iter().map(|m| m.usual_bytes()).sum::<usize>() as f64 / signals as f64;
    let per_signal =
        (detector + trend + 8 * 8 + load) as f64 + per_mode as f64 * modes_per_asset + usual;
    let conditioned: usize = models.iter().map(|m| m.load.conditioned()).sum();
    println!(
        "memory  {modes_per_asset:.2} modes per asset; about {per_signal:.0} bytes per signal ({detector} per detector, {trend} per trend, {per_mode} per mode, {load} for load conditioning, {usual:.0} for what is usual by time of day); {conditioned} signals conditioned on their asset's load"
    );
}

/// Quality, not speed: alarms raised on a healthy simulated plant over 30 minutes, from a
/// baseline learned on another stretch of it (`-- --false-alarms`).
fn false_alarms(layout: &plant_twin_core::layout::PlantLayout, config: &PredictConfig) {
    let baseline = learn_from_simulation(layout, config, 1, 1200.0, 1.0);
    let mut models: Vec<AssetModel> = layout
        .assets
        .iter()
        .map(|asset| AssetModel::new(asset, config, baseline.assets.get(&asset.id)))
        .collect();
    attach_demo_models(layout, &mut models);
    let sim = SimConfig {
        seed: 1,
        scenario: scenario::scenario("healthy").expect("scenario"),
        ..SimConfig::default()
    };
    let mut simulator = Simulator::new(layout, sim);
    let mut changes = vec![];
    let mut raised = (0, 0);
    let mut with_horizon = std::collections::BTreeSet::new();
    for step in 0..1800 {
        let t = step as f64;
        for v in simulator.step(t) {
            models[v.asset].update(config, v.signal, t, v.value, &mut changes);
        }
        if step % 10 == 0 {
            for (asset, model) in models.iter().enumerate() {
                if !model.horizons(config).is_empty() || model.learned_horizon(config).is_some() {
                    with_horizon.insert(asset);
                }
            }
        }
        for change in changes.drain(..) {
            if let plant_twin_core::predict::AlarmChange::Raised { severity } = change.change {
                match severity {
                    plant_twin_core::predict::Severity::Alarm => raised.0 += 1,
                    _ => raised.1 += 1,
                }
            }
        }
    }
    let elevated = models
        .iter()
        .filter(|m| m.score(config, None).value >= 0.3)
        .count();
    println!(
        "false   healthy {}-asset plant, 30 simulated minutes: {} alarms, {} warnings raised, {} assets with a failure horizon (checked every 10 s); {elevated} assets at score >= 0.3 at the end",
        layout.assets.len(),
        raised.0,
        raised.1,
        with_horizon.len()
    );
}
