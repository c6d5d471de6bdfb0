//! Bindings files on disk: the documented example maps what it says; bad files say where.

use plant_twin_core::layout::{DEMO_LAYOUT_PATH, PlantLayout, load_layout};
use plant_twin_core::telemetry::Quality;
use plant_twin_core::telemetry::bindings::{TopicResolver, load_bindings};
use plant_twin_core::telemetry::decoder::{Decoded, Decoder};

use crate::repo_file;

fn demo() -> PlantLayout {
    load_layout(&repo_file(DEMO_LAYOUT_PATH)).expect("demo layout")
}

fn signal_value(layout: &PlantLayout, decoded: &Decoded, asset: &str, signal: &str) -> Option<f64> {
    let a = layout.assets.iter().position(|x| x.id == asset)?;
    let s = layout.assets[a]
        .signals
        .iter()
        .position(|x| x.id == signal)?;
    decoded
        .samples
        .iter()
        .find(|sample| sample.signal.asset as usize == a && sample.signal.signal as usize == s)
        .map(|sample| sample.value)
}

#[test]
fn the_documented_example_maps_gateway_topics() {
    let layout = demo();
    let file = load_bindings(
        &repo_file("docs/examples/legacy-gateway.bindings.ron"),
        &layout,
    )
    .expect("the example loads");
    let mut decoder = Decoder::new(TopicResolver::with_file(&layout, &file).expect("compiles"));
    let mut decoded = Decoded::default();

    decoder.decode(
        "legacy/pump2/state",
        br#"{"F": 6.0, "T_F": 212}"#,
        0,
        &mut decoded,
    );
    assert!(decoded.problems.is_empty(), "{:?}", decoded.problems);
    let flow = signal_value(&layout, &decoded, "pump-02", "flow").expect("flow");
    let temp = signal_value(&layout, &decoded, "pump-02", "bearing_temp").expect("temperature");
    assert!((flow - 21.6).abs() < 1e-9, "l/s to m3/h: {flow}");
    assert!((temp - 100.0).abs() < 1e-3, "Fahrenheit to Celsius: {temp}");

    decoder.decode(
        "factory/north/press-202/telemetry/oil_temp",
        br#"{"v": 475, "t": 1732200000, "st": "bad"}"#,
        0,
        &mut decoded,
    );
    assert_eq!(
        signal_value(&layout, &decoded, "press-202", "oil_temp"),
        Some(47.5)
    );
    assert_eq!(decoded.samples[0].time_ms, 1_732_200_000_000);
    assert_eq!(decoded.samples[0].quality, Quality::Bad);

    // The layout's own topics still work beside the rules.
    decoder.decode(
        "acme/plant1/line2/press-202/oil_temp",
        b"44",
        0,
        &mut decoded,
    );
    assert_eq!(
        signal_value(&layout, &decoded, "press-202", "oil_temp"),
        Some(44.0)
    );
}

#[test]
fn a_bad_bindings_file_says_where() {
    let layout = demo();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bad.bindings.ron");
    std::fs::write(
        &path,
        "(\n    schema_version: 1,\n    rules: [\n        (topic: \"a/{signal}\", asset: Some(\"no-such-asset\"), payload: Value()),\n    ],\n)\n",
    )
    .expect("written");
    let error = load_bindings(&path, &layout)
        .expect_err("refused")
        .to_string();
    assert!(
        error.starts_with(&format!("{}:4:9: ", path.display())) && error.contains("no-such-asset"),
        "{error}"
    );
}
