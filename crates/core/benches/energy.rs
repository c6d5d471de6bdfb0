//! Energy accounting per power sample at 10,000 assets (the demo plant scaled: 9 of its 45
//! assets carry a power signal), against the same loop over as many samples of signals that
//! are not energy signals (the lookup alone), in the same run.
//!
//! `cargo bench --bench energy`

use std::time::Instant;

use plant_twin_core::energy::{AccountConfig, EnergyAccount};
use plant_twin_core::layout::{DEMO_LAYOUT_PATH, DEMO_LAYOUT_TEXT, parse_layout};
use plant_twin_core::sim::scaled_layout;
use plant_twin_core::telemetry::{Quality, Sample, SignalRef};

fn main() {
    let demo = match parse_layout(DEMO_LAYOUT_TEXT, std::path::Path::new(DEMO_LAYOUT_PATH)) {
        Ok(layout) => layout,
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    };
    let layout = scaled_layout(&demo, 10_000);
    let (mut power, mut other) = (Vec::new(), Vec::new());
    for (a, asset) in layout.assets.iter().enumerate() {
        for (s, signal) in asset.signals.iter().enumerate() {
            let at = SignalRef {
                asset: a as u32,
                signal: s as u16,
            };
            if signal.energy.is_some() {
                power.push(at);
            } else {
                other.push(at);
            }
        }
    }
    other.truncate(power.len());
    println!(
        "{} assets, {} power signals; mean of 600 rounds at 1 Hz",
        layout.assets.len(),
        power.len()
    );
    for (name, signals) in [
        ("power samples", &power),
        ("other samples (lookup only)", &other),
    ] {
        let mut account = EnergyAccount::new(&layout, AccountConfig::default());
        let rounds = 600;
        let started = Instant::now();
        for round in 0..rounds {
            for (k, &signal) in signals.iter().enumerate() {
                account.add(&Sample {
                    signal,
                    value: 10.0 + ((round + k) % 7) as f64,
                    quality: Quality::Good,
                    time_ms: 1_704_067_200_000 + round as i64 * 1000,
                });
            }
        }
        let ns = started.elapsed().as_secs_f64() * 1e9 / (rounds * signals.len()) as f64;
        println!(
            "{name:<28} {ns:>6.1} ns per sample ({:.1} kWh accounted)",
            account.plant().measured_kwh
        );
    }
}
