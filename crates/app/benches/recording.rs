//! Recording and replay benchmark (figures in README's Performance section), by default for
//! 1 hour of 1,000 assets with 10 signals each at 1 Hz (36 million samples, one JSON message
//! per sample as the simulator and Unified Namespace devices send them):
//!
//! 1. recording throughput: what the recorder thread does per message (channel per topic,
//!    zstd chunk, flush every recorded second), against the live rate; and what the ingest
//!    thread pays to offer a message to the recorder (the tap);
//! 2. file size per sample;
//! 3. time to open the file (indexed), and to index it when the index is missing (cut file);
//! 4. replay speed in the headless app, as fast as possible (decoding, live state, detectors
//!    and alarms, checkpoints): messages per second and times real time;
//! 5. seek latency to arbitrary times after that first pass (restore a checkpoint, re-run);
//! 6. peak memory of the process.
//!
//! `cargo bench --bench recording [-- --assets N --signals N --seconds S --keep FILE]`

use std::path::Path;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use plant_twin::TwinCorePlugin;
use plant_twin::data::predict::PredictionPlugin;
use plant_twin::data::replay::{ReplayIntent, ReplayPlugin, ReplayState};
use plant_twin::data::telemetry::{LivePlugin, SourceConfig};
use plant_twin::plant::PlantDocument;
use plant_twin_core::layout::{DEMO_LAYOUT_PATH, DEMO_LAYOUT_TEXT, PlantLayout, parse_layout};
use plant_twin_core::record::{Recorder, Recording, RecordingContext, RecordingWriter};
use plant_twin_core::sim::{SimConfig, Simulator, scaled_layout};
use plant_twin_core::telemetry::tap::{RawMessage, RecordTap};

fn arg(args: &[String], name: &str, default: f64) -> f64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The demo plant's assets repeated `assets` times, each with `signals` signals (the demo's own
/// signals repeated under new ids), so the simulator drives every one realistically.
fn plant(assets: usize, signals: usize) -> PlantLayout {
    let demo = parse_layout(DEMO_LAYOUT_TEXT, Path::new(DEMO_LAYOUT_PATH)).expect("demo layout");
    let mut layout = scaled_layout(&demo, assets);
    for asset in &mut layout.assets {
        let own = asset.signals.clone();
        if own.is_empty() {
            continue;
        }
        asset.signals = (0..signals)
            .map(|j| {
                let mut signal = own[j % own.len()].clone();
                if j >= own.len() {
                    signal.id = format!("{}_{}", signal.id, j / own.len());
                }
                signal
            })
            .collect();
    }
    layout
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let assets = arg(&args, "--assets", 1000.0) as usize;
    let signals = arg(&args, "--signals", 10.0) as usize;
    let seconds = arg(&args, "--seconds", 3600.0) as u64;
    let layout = plant(assets, signals);
    let samples_per_s: usize = layout.assets.iter().map(|a| a.signals.len()).sum();
    println!(
        "plant: {} assets, {samples_per_s} signals at 1 Hz, {seconds} s ({} samples)",
        layout.assets.len(),
        samples_per_s as u64 * seconds
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = match args
        .iter()
        .position(|a| a == "--keep")
        .and_then(|i| args.get(i + 1))
    {
        Some(keep) => std::path::PathBuf::from(keep),
        None => dir.path().join("bench.mcap"),
    };

    // 1. Recording: the simulator's messages written as the recorder thread writes them; only
    //    the writer's time counts.
    let context = RecordingContext {
        layout_ron: plant_twin_core::layout::layout_to_ron(&layout).expect("layout"),
        bindings_ron: None,
        baseline_ron: None,
        degradation_ron: vec![],
        source: "benchmark".into(),
    };
    let start_ms = 1_790_000_000_000;
    let mut simulator = Simulator::new(&layout, SimConfig::default());
    let mut writer = RecordingWriter::create(&path, &context).expect("writer");
    let mut messages = vec![];
    let mut writing = Duration::ZERO;
    let mut written = 0u64;
    for second in 0..seconds {
        let received_ms = start_ms + second as i64 * 1000;
        simulator.messages(second as f64, received_ms, &mut messages);
        let started = Instant::now();
        for (topic, payload) in messages.drain(..) {
            writer
                .write(&RawMessage {
                    topic,
                    received_ms,
                    payload,
                })
                .expect("write");
            written += 1;
        }
        writer.flush().expect("flush");
        writing += started.elapsed();
    }
    let started = Instant::now();
    let finished = writer.finish().expect("finish");
    writing += started.elapsed();
    let rate = written as f64 / writing.as_secs_f64();
    println!(
        "record: {written} messages in {:.1} s of writer time: {:.0} messages/s = {:.0}x the \
         live rate ({samples_per_s}/s), {:.1} % of one core at the live rate",
        writing.as_secs_f64(),
        rate,
        rate / samples_per_s as f64,
        100.0 * samples_per_s as f64 / rate
    );
    println!(
        "file: {:.1} MB, {:.2} bytes per sample",
        finished.bytes as f64 / 1e6,
        finished.bytes as f64 / written as f64
    );

    // The ingest thread's share: offering one message to a running recorder.
    let tap = RecordTap::default();
    let tap_file = dir.path().join("tap.mcap");
    let recorder = Recorder::start(&tap_file, &context, &tap).expect("recorder");
    let payload = br#"{"value":41.2500,"ts":1790000000000}"#;
    let offers = 200_000u32;
    let started = Instant::now();
    for i in 0..offers {
        tap.offer(
            "acme/plant1/line1/cnc-101/spindle_power",
            start_ms + i64::from(i),
            payload,
        );
    }
    let offer_ns = started.elapsed().as_nanos() as f64 / f64::from(offers);
    let dropped = recorder.dropped();
    recorder.stop().expect("stopped");
    println!(
        "tap: {offer_ns:.0} ns per message offered by the ingest thread ({dropped} of {offers} \
         dropped when offered back to back, far above any live rate)"
    );

    // 3. Opening.
    let started = Instant::now();
    let recording = Recording::open(&path, None).expect("open");
    println!(
        "open (indexed): {:.0} ms for {} chunks, {} topics",
        started.elapsed().as_secs_f64() * 1000.0,
        recording.chunk_count(),
        recording.channels.len()
    );
    drop(recording);
    let bytes = std::fs::read(&path).expect("read");
    let cut_path = dir.path().join("cut.mcap");
    std::fs::write(&cut_path, &bytes[..bytes.len() - 64]).expect("cut");
    drop(bytes);
    let started = Instant::now();
    let cut = Recording::open(&cut_path, None).expect("open cut");
    println!(
        "open (no index, every chunk decompressed to index it): {:.0} ms, {} messages",
        started.elapsed().as_secs_f64() * 1000.0,
        cut.message_count()
    );
    drop(cut);
    let _ = std::fs::remove_file(&cut_path);

    // 4. Replay, as fast as possible, in the headless app.
    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins,
        AssetPlugin::default(),
        TransformPlugin,
        bevy::input::InputPlugin,
        bevy::state::app::StatesPlugin,
    ))
    .init_asset::<Mesh>()
    .init_asset::<StandardMaterial>();
    plant_twin::scene::init_material_assets(&mut app).add_plugins((
        TwinCorePlugin {
            document: PlantDocument::demo().expect("demo"),
        },
        LivePlugin {
            source: SourceConfig::Manual,
            bindings: None,
            history: plant_twin::data::telemetry::DEFAULT_HISTORY,
        },
        PredictionPlugin::default(),
        ReplayPlugin {
            open: Some(path.clone()),
            speed: None,
            index_on_open: false,
            frame_budget: Duration::from_millis(500),
        },
    ));
    let started = Instant::now();
    let session = |app: &App| {
        app.world()
            .resource::<ReplayState>()
            .session
            .as_ref()
            .map(|s| (s.ready(), s.at_end(), s.target_ms, s.position_ms))
    };
    while !session(&app).is_some_and(|s| s.0) {
        app.update();
        if let Some(error) = &app.world().resource::<ReplayState>().error {
            panic!("{error}");
        }
    }
    println!(
        "replay ready (file read, plant of {} assets spawned): {:.1} s",
        layout.assets.len(),
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    app.world_mut().write_message(ReplayIntent::Play);
    while !session(&app).is_some_and(|s| s.1) {
        app.update();
    }
    let replaying = started.elapsed().as_secs_f64();
    println!(
        "replay as fast as possible: {written} messages in {replaying:.1} s = {:.0} messages/s \
         = {:.0}x real time; {} checkpoints",
        written as f64 / replaying,
        seconds as f64 / replaying,
        app.world()
            .resource::<ReplayState>()
            .session
            .as_ref()
            .map_or(0, |s| s.checkpoint_count())
    );

    // 5. Seeks to arbitrary times (a fixed pseudo-random sequence).
    let mut latencies = vec![];
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let target = start_ms + (x % (seconds * 1000)) as i64;
        let started = Instant::now();
        app.world_mut().write_message(ReplayIntent::Seek(target));
        loop {
            app.update();
            if session(&app).is_some_and(|s| s.2.is_none() && s.3 == target) {
                break;
            }
        }
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    println!(
        "seek to an arbitrary time: median {:.0} ms, p90 {:.0} ms, max {:.0} ms (20 seeks)",
        latencies[latencies.len() / 2],
        latencies[latencies.len() * 9 / 10],
        latencies[latencies.len() - 1]
    );
    println!("peak memory: {:.0} MB", peak_rss_mb());
}
