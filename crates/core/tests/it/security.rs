//! The traffic baseline end to end: the simulator's plant through the real decoder, in
//! simulated time; a rogue publisher is flagged within 5 s of each thing it does, and a
//! healthy hour raises nothing.

use plant_twin_core::layout::{DEMO_LAYOUT_TEXT, PlantLayout, parse_layout};
use plant_twin_core::sim::{SimConfig, SimFormat, Simulator, scenario};
use plant_twin_core::telemetry::IngestEvent;
use plant_twin_core::telemetry::bindings::TopicResolver;
use plant_twin_core::telemetry::decoder::{Decoded, Decoder};
use plant_twin_core::telemetry::traffic::{SecurityEvent, SecurityKind};

const EPOCH_MS: i64 = 1_800_000_000_000;

fn demo() -> PlantLayout {
    parse_layout(DEMO_LAYOUT_TEXT, std::path::Path::new("demo.ron")).expect("demo layout")
}

/// Every security event of `seconds` of a scenario, with its simulated second.
fn security_events(
    scenario_name: &str,
    format: SimFormat,
    seconds: u32,
) -> Vec<(f64, SecurityEvent)> {
    let layout = demo();
    let mut simulator = Simulator::new(
        &layout,
        SimConfig {
            format,
            scenario: scenario::scenario(scenario_name).expect("scenario"),
            ..SimConfig::default()
        },
    );
    let mut decoder = Decoder::new(TopicResolver::from_layout(&layout));
    let (mut messages, mut decoded, mut events) = (vec![], Decoded::default(), vec![]);
    let mut found = vec![];
    for second in 0..seconds {
        let now = EPOCH_MS + i64::from(second) * 1000;
        simulator.messages(f64::from(second), now, &mut messages);
        for (topic, payload) in &messages {
            decoder.decode(topic, payload, now, &mut decoded);
            decoded.drain_events(topic, now, &mut events);
        }
        for event in events.drain(..) {
            if let IngestEvent::Security(event) = event {
                found.push((f64::from(second), event));
            }
        }
    }
    found
}

/// The first time each kind was flagged.
fn first(found: &[(f64, SecurityEvent)], kind: SecurityKind) -> Option<f64> {
    found.iter().find(|(_, e)| e.kind == kind).map(|(t, _)| *t)
}

#[test]
fn a_rogue_sparkplug_publisher_is_flagged_within_5_s_of_each_act() {
    let start = scenario::scenario("rogue").expect("scenario").start_s;
    let found = security_events("rogue", SimFormat::Sparkplug, start as u32 + 20);
    assert!(
        found.iter().all(|(t, _)| *t >= start),
        "before the rogue: {found:?}"
    );
    for (kind, acted) in [
        (SecurityKind::UnknownPublisher, 0.0),
        (SecurityKind::CommandWritten, 1.0),
        (SecurityKind::SequenceReplayed, 2.0),
        (SecurityKind::RateFlood, 3.0),
    ] {
        let at = first(&found, kind).unwrap_or_else(|| panic!("{kind:?} not flagged: {found:?}"));
        assert!(at - (start + acted) <= 5.0, "{kind:?} at {at} s: {found:?}");
    }
    let unknown = found
        .iter()
        .find(|(_, e)| e.kind == SecurityKind::UnknownPublisher)
        .expect("unknown");
    assert!(unknown.1.source.contains("edge-rogue"), "{unknown:?}");
}

#[test]
fn a_rogue_uns_publisher_and_a_flood_are_flagged() {
    let start = scenario::scenario("rogue").expect("scenario").start_s;
    let found = security_events("rogue", SimFormat::Json, start as u32 + 20);
    assert!(
        found.iter().all(|(t, _)| *t >= start),
        "before the rogue: {found:?}"
    );
    for (kind, acted) in [
        (SecurityKind::UnknownPublisher, 0.0),
        (SecurityKind::RateFlood, 3.0),
    ] {
        let at = first(&found, kind).unwrap_or_else(|| panic!("{kind:?} not flagged: {found:?}"));
        assert!(at - (start + acted) <= 5.0, "{kind:?} at {at} s: {found:?}");
    }
}

#[test]
fn a_healthy_hour_raises_no_security_event() {
    for format in [SimFormat::Json, SimFormat::Sparkplug] {
        let found = security_events("healthy", format, 3600);
        assert!(found.is_empty(), "{format:?}: {found:?}");
    }
}
