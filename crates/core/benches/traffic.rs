//! The traffic baseline's cost per message (target: <= 100 ns), on the keys a 10,000-asset
//! plant gives it: UNS topics by (asset, signal) and Sparkplug devices of 100 edge nodes.
//!
//! `cargo bench --bench traffic`

use std::time::Instant;

use plant_twin_core::telemetry::traffic::TrafficMonitor;

fn main() {
    const MESSAGES: usize = 4_000_000;
    let mut events = vec![];
    let mut best_uns = f64::INFINITY;
    let mut best_sparkplug = f64::INFINITY;
    let nodes: Vec<String> = (0..100).map(|n| format!("edge-{n}")).collect();
    for _ in 0..3 {
        let mut monitor = TrafficMonitor::default();
        let started = Instant::now();
        for i in 0..MESSAGES {
            // 10,000 assets x 4 signals, each once a second.
            let key = ((i / 4 % 10_000) as u32, (i % 4) as u16);
            let received_ms = (i / 40_000) as i64 * 1000;
            monitor.uns(
                "acme/plant/line/asset/signal",
                Some(key),
                (received_ms, 40),
                &mut events,
            );
        }
        best_uns = best_uns.min(started.elapsed().as_secs_f64() * 1e9 / MESSAGES as f64);
        let started = Instant::now();
        for i in 0..MESSAGES {
            let asset = (i % 10_000) as u32;
            let received_ms = (i / 10_000) as i64 * 1000;
            monitor.sparkplug(
                "spBv1.0/plant/DDATA/edge/asset",
                "plant",
                &nodes[asset as usize % 100],
                Some((asset, u16::MAX - 1)),
                false,
                (None, None),
                (received_ms, 60),
                &mut events,
            );
        }
        best_sparkplug =
            best_sparkplug.min(started.elapsed().as_secs_f64() * 1e9 / MESSAGES as f64);
    }
    println!(
        "traffic UNS {best_uns:.0} ns per message, Sparkplug B {best_sparkplug:.0} ns per message (best of 3, {MESSAGES} messages, 10,000 assets); {} events (a steady plant: 0 expected)",
        events.len()
    );
}
