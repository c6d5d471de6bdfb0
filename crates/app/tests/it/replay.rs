//! Recording and replay end to end: a simulated session is decoded live and recorded at the same
//! time; the replay of the file, with seeks back and forth, must reach exactly the live state.

use std::path::{Path, PathBuf};

use bevy::prelude::*;
use plant_twin::data::predict::{AlarmIntent, AlarmLog, PredictionPlugin, part_of};
use plant_twin::data::record::{RecordIntent, RecordPlugin, RecordingState};
use plant_twin::data::replay::{ReplayIntent, ReplayPlugin, ReplayState};
use plant_twin::data::telemetry::{
    DataClock, HistoryEpoch, LiveSignals, LiveTap, ManualFeed, decoder_for,
};
use plant_twin::headless::snapshot;
use plant_twin::plant::{AssetIndex, AssetSpec, PlantDocument};
use plant_twin_core::layout::layout_to_ron;
use plant_twin_core::predict::baseline::DEMO_BASELINE_TEXT;
use plant_twin_core::record::{Recording, RecordingContext};
use plant_twin_core::sim::scenario::scenario;
use plant_twin_core::sim::{SimConfig, Simulator};
use plant_twin_core::telemetry::decoder::Decoded;
use serde_json::Value;

/// Receive time of simulated second 0.
const EPOCH_MS: i64 = 1_790_000_000_000;
/// Seconds recorded, and the moments compared.
const SECONDS: u32 = 200;
const MOMENTS: [u32; 3] = [45, 110, 200];

fn context(layout: &plant_twin_core::layout::PlantLayout) -> RecordingContext {
    RecordingContext {
        layout_ron: layout_to_ron(layout).expect("layout"),
        bindings_ron: None,
        baseline_ron: Some(DEMO_BASELINE_TEXT.to_string()),
        // The demo's learned pump model goes with it, as the app records it.
        degradation_ron: plant_twin_core::predict::degradation::attachments(
            plant_twin_core::predict::degradation::models_named_by(layout, None).0,
        ),
        source: "test".into(),
    }
}

fn core_app() -> App {
    let mut app = crate::live_app(PlantDocument::demo().expect("demo"), 120);
    app.add_plugins((
        PredictionPlugin {
            operator: "tester".into(),
            ..PredictionPlugin::default()
        },
        // The energy account is part of the state a seek must reproduce.
        plant_twin::data::energy::EnergyPlugin { tariff: None },
    ));
    app
}

/// Every signal's trend points, per asset id.
type Histories = Vec<(String, Vec<Vec<(u32, f32)>>)>;

/// The state a replay must reproduce: the snapshot (values, staleness, scores, alarm states,
/// horizons, counters) without wall-clock fields, every trend history, and the alarm history.
type State = (Value, Histories, Vec<String>);

fn state(world: &mut World) -> State {
    let mut snap = snapshot(world);
    for field in ["written_ms", "layout"] {
        snap.as_object_mut().expect("object").remove(field);
    }
    let connection = snap["connection"].as_object_mut().expect("connection");
    for field in [
        "since_ms",
        "state",
        "last_error",
        "reconnect_attempt",
        "source",
    ] {
        connection.remove(field);
    }
    let mut histories: Vec<_> = world
        .query::<(&AssetSpec, &LiveSignals)>()
        .iter(world)
        .map(|(spec, live)| {
            (
                spec.0.id.clone(),
                live.0
                    .iter()
                    .map(|s| s.history.iter().copied().collect())
                    .collect(),
            )
        })
        .collect();
    histories.sort_by(|a, b| a.0.cmp(&b.0));
    let alarms = world
        .resource::<AlarmLog>()
        .records
        .iter()
        .map(|r| {
            format!(
                "{} {} {:?} {:?} {:?} {:.6}",
                r.time_ms, r.asset, r.component, r.change, r.severity, r.score
            )
        })
        .collect();
    (snap, histories, alarms)
}

/// Runs the simulator in simulated time through the live plugin (as the ingest thread would:
/// each message offered to the recorder's tap, then decoded), records the run with the record
/// plugin, has an operator acknowledge and shelve the pump's alarm, and returns the state at each
/// of [`MOMENTS`].
/// The pump's bearing alarm: (asset entity, part).
fn pump_bearing(app: &App) -> (Entity, plant_twin_core::predict::Part) {
    let world = app.world();
    let entity = world.resource::<AssetIndex>().get("pump-02").expect("pump");
    let spec = world.get::<AssetSpec>(entity).expect("spec");
    (entity, part_of(&spec.0, Some("bearing")).expect("bearing"))
}

fn live_run_recorded(path: &Path) -> Vec<State> {
    let document = PlantDocument::demo().expect("demo");
    let layout = document.layout.clone();
    let mut app = core_app();
    app.add_plugins(RecordPlugin {
        start: Some(path.to_path_buf()),
    });
    app.insert_resource(HistoryEpoch(EPOCH_MS));
    app.insert_resource(DataClock::At(EPOCH_MS));
    app.update();
    app.update();
    let feed = app.world().resource::<ManualFeed>().clone();
    let tap = app.world().resource::<LiveTap>().0.clone();
    assert!(tap.is_active(), "not recording");
    let mut simulator = Simulator::new(
        &layout,
        SimConfig {
            scenario: scenario("bearing-wear").expect("scenario"),
            ..SimConfig::default()
        },
    );
    let mut decoder = decoder_for(&layout, None, None).expect("decoder");
    let (mut messages, mut decoded, mut batch) = (vec![], Decoded::default(), vec![]);
    let mut states = vec![];
    for second in 0..=SECONDS {
        let now = EPOCH_MS + i64::from(second) * 1000;
        simulator.messages(f64::from(second), now, &mut messages);
        for (topic, payload) in &messages {
            tap.offer(topic, now, payload);
            decoder.decode(topic, payload, now, &mut decoded);
            decoded.drain_events(topic, now, &mut batch);
        }
        for event in batch.drain(..) {
            feed.0.send(event).expect("sent");
        }
        // The bearing alarm is up by second 100 (raised at 68 s): an operator acknowledges it,
        // and later shelves it for 20 s.
        if second == 100 {
            let (asset, part) = pump_bearing(&app);
            app.world_mut()
                .write_message(AlarmIntent::Acknowledge { asset, part });
        }
        if second == 150 {
            let (asset, part) = pump_bearing(&app);
            app.world_mut().write_message(AlarmIntent::Shelve {
                asset,
                part,
                duration_s: 20.0,
            });
        }
        app.insert_resource(DataClock::At(now));
        app.update();
        if MOMENTS.contains(&second) {
            states.push(state(app.world_mut()));
        }
    }
    app.world_mut().write_message(RecordIntent::Stop);
    app.update();
    let finished = app.world().resource::<RecordingState>().last.clone();
    assert!(matches!(finished, Some(Ok(_))), "{finished:?}");
    states
}

fn replay_app(path: &Path) -> App {
    let mut app = core_app();
    app.add_plugins(ReplayPlugin {
        open: Some(path.to_path_buf()),
        speed: None,
        index_on_open: false,
        frame_budget: std::time::Duration::from_millis(5),
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        app.update();
        let ready = app
            .world()
            .resource::<ReplayState>()
            .session
            .as_ref()
            .is_some_and(|s| s.ready());
        if ready {
            break;
        }
        let error = app.world().resource::<ReplayState>().error.clone();
        assert!(error.is_none(), "{error:?}");
        assert!(std::time::Instant::now() < deadline, "replay never ready");
    }
    app.world_mut().write_message(ReplayIntent::Pause);
    app.update();
    app
}

/// Plays as fast as possible from where the replay is; false if it never reaches the end.
fn play_to_end(app: &mut App) -> bool {
    app.world_mut().write_message(ReplayIntent::SetSpeed(None));
    app.world_mut().write_message(ReplayIntent::Play);
    for _ in 0..10_000 {
        app.update();
        let session = app.world().resource::<ReplayState>().session.as_ref();
        if session.is_some_and(|s| s.at_end()) {
            return true;
        }
    }
    false
}

/// Seeks and updates until the replay is there.
fn seek(app: &mut App, time_ms: i64) {
    app.world_mut().write_message(ReplayIntent::Seek(time_ms));
    for _ in 0..10_000 {
        app.update();
        let session = app
            .world()
            .resource::<ReplayState>()
            .session
            .as_ref()
            .map(|s| (s.target_ms, s.position_ms));
        if let Some((None, position)) = session {
            assert_eq!(position, time_ms);
            return;
        }
    }
    panic!("seek to {time_ms} never finished");
}

fn assert_same(what: &str, replayed: &State, live: &State) {
    if replayed.0 != live.0 {
        // Name the first asset that differs: the whole snapshot is long.
        let (r, l) = (&replayed.0["assets"], &live.0["assets"]);
        let first = r
            .as_object()
            .and_then(|assets| assets.iter().find(|(id, v)| l.get(id.as_str()) != Some(v)));
        panic!(
            "{what}: snapshots differ; first asset: {first:#?}\nlive: {:#?}\nconnection: {} vs {}",
            first.and_then(|(id, _)| l.get(id.as_str())),
            replayed.0["connection"],
            live.0["connection"],
        );
    }
    assert!(replayed.1 == live.1, "{what}: trend histories differ");
    assert_eq!(replayed.2, live.2, "{what}: alarm histories differ");
}

#[test]
fn a_replay_reaches_exactly_the_live_state_after_seeks_in_any_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("session.mcap");
    let live = live_run_recorded(&path);
    // The scenario does something by the last moment: the pump's bearing is in alarm, and
    // the operator's acknowledgement and shelving are in its history.
    let history = &live[2].2;
    for what in ["Raised", "Acknowledged", "Shelved", "Unshelved"] {
        assert!(
            history
                .iter()
                .any(|l| l.contains("pump-02") && l.contains(what)),
            "no {what} in the live run: {history:?}"
        );
    }
    // The energy account is in the compared state, and has counted something.
    let kwh = live[2].0["energy"]["plant"]["measured_kwh"].as_f64();
    assert!(kwh.is_some_and(|kwh| kwh > 0.0), "{kwh:?}");
    let mut app = replay_app(&path);
    let moment = |i: usize| EPOCH_MS + i64::from(MOMENTS[i]) * 1000;
    // Forward to the end (taking checkpoints), back to the start of the fault, forward again.
    for i in [2, 0, 1, 2, 1, 0] {
        seek(&mut app, moment(i));
        let replayed = state(app.world_mut());
        assert_same(&format!("at second {}", MOMENTS[i]), &replayed, &live[i]);
    }
    let session_checkpoints = app
        .world()
        .resource::<ReplayState>()
        .session
        .as_ref()
        .map(|s| s.checkpoint_count());
    assert!(session_checkpoints > Some(5), "{session_checkpoints:?}");
    // Playing on from a seek (as fast as possible) ends at the recording's end, in the same
    // state as seeking there.
    seek(&mut app, moment(0));
    assert!(play_to_end(&mut app), "the replay did not end");
    assert_same("played to the end", &state(app.world_mut()), &live[2]);
}

#[test]
fn alarm_markers_and_next_previous_alarm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("session.mcap");
    live_run_recorded(&path);
    let mut app = replay_app(&path);
    seek(&mut app, EPOCH_MS + i64::from(SECONDS) * 1000);
    let markers: Vec<i64> = app
        .world()
        .resource::<ReplayState>()
        .session
        .as_ref()
        .map(|s| s.markers.iter().map(|m| m.time_ms).collect())
        .unwrap_or_default();
    assert!(!markers.is_empty(), "no alarm markers");
    seek(&mut app, EPOCH_MS);
    app.world_mut().write_message(ReplayIntent::NextAlarm);
    let target = |app: &App| {
        app.world()
            .resource::<ReplayState>()
            .session
            .as_ref()
            .and_then(|s| s.target_ms)
    };
    app.update();
    // The seek is under way or done: either way it goes to the first marker.
    let first = markers[0];
    for _ in 0..1000 {
        if target(&app).is_none() {
            break;
        }
        app.update();
    }
    let position = app
        .world()
        .resource::<ReplayState>()
        .session
        .as_ref()
        .map(|s| s.position_ms);
    assert_eq!(position, Some(first));
    // The jump shows the alarm's asset: selected (and framed, in the window).
    let marker_asset = app
        .world()
        .resource::<ReplayState>()
        .session
        .as_ref()
        .and_then(|s| s.markers.iter().next().map(|m| m.asset.clone()))
        .expect("a marker");
    let selected = app
        .world()
        .resource::<plant_twin::selection::Selection>()
        .selected;
    let expected = app.world().resource::<AssetIndex>().get(&marker_asset);
    assert!(selected.is_some() && selected == expected, "{marker_asset}");
    app.world_mut().write_message(ReplayIntent::PreviousAlarm);
    app.update();
    // Nothing before the first marker: the position stays.
    assert_eq!(target(&app), None);
}

fn simulated_recording(dir: &Path, seconds: f64) -> (PathBuf, u64) {
    let path = dir.join("sim.mcap");
    let document = PlantDocument::demo().expect("demo");
    let mut simulator = Simulator::new(&document.layout, SimConfig::default());
    let finished = plant_twin_core::record::simulate_recording(
        &path,
        &mut simulator,
        &context(&document.layout),
        seconds,
        1.0,
        EPOCH_MS,
    )
    .expect("recorded");
    (path, finished.messages)
}

#[test]
fn truncated_recordings_replay_what_they_hold_and_recover() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, total) = simulated_recording(dir.path(), 200.0);
    let bytes = std::fs::read(&path).expect("read");
    let mut previous = 0;
    // The first ~250 kB are the stored layout and baseline (its modes included); the cuts
    // after them land in chunks.
    for fraction in [0.02, 0.6, 0.75, 0.9, 0.97, 0.9999] {
        let cut = ((bytes.len() as f64) * fraction) as usize;
        let cut_path = dir.path().join(format!("cut-{cut}.mcap"));
        std::fs::write(&cut_path, &bytes[..cut]).expect("write");
        let recording = Recording::open(&cut_path, None).expect("a cut file still opens");
        let held = recording.message_count();
        assert!(
            held <= total && held >= previous,
            "{held} of {total} at {cut}"
        );
        assert!(!recording.indexed, "a cut file has no index");
        if fraction >= 0.6 {
            assert!(held > 0, "nothing recovered from {cut} bytes");
            assert!(recording.damage.is_some(), "damage not reported at {cut}");
        }
        previous = held;
        // Rewritten, it is whole and indexed, with everything the cut file held.
        let fixed = dir.path().join(format!("fixed-{cut}.mcap"));
        let written = recording.recover_into(&fixed).expect("recovered");
        assert_eq!(written, held);
        let reopened = Recording::open(&fixed, None).expect("reopened");
        assert!(reopened.indexed && reopened.damage.is_none());
        assert_eq!(reopened.message_count(), held);
        // And the cut file replays to its end.
        if held > 0 {
            let mut app = replay_app(&cut_path);
            assert!(
                play_to_end(&mut app),
                "the replay of {cut} bytes did not end"
            );
            let world = app.world_mut();
            let fed = world
                .resource::<plant_twin::data::telemetry::IngestStatus>()
                .messages;
            assert_eq!(fed, held, "messages replayed from {cut} bytes");
        }
    }
    // The last cut only took the index at the end of the file: every message is still there.
    assert_eq!(previous, total, "a cut index lost messages");
}

#[test]
fn damaged_bytes_inside_a_chunk_end_the_readable_part_without_panicking() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, total) = simulated_recording(dir.path(), 30.0);
    let mut bytes = std::fs::read(&path).expect("read");
    // Scribble over the middle of the file (inside compressed chunks).
    let middle = bytes.len() / 2;
    for byte in &mut bytes[middle..middle + 64] {
        *byte ^= 0x5a;
    }
    let damaged = dir.path().join("damaged.mcap");
    std::fs::write(&damaged, &bytes).expect("write");
    let recording = Recording::open(&damaged, None).expect("opens");
    assert!(recording.message_count() < total);
    assert!(recording.damage.is_some(), "damage not reported");
}

#[test]
fn a_file_that_is_not_a_recording_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("layout.mcap");
    std::fs::write(&path, b"(name: \"not a recording\")").expect("write");
    let error = Recording::open(&path, None).expect_err("refused");
    assert!(error.to_string().contains("not an MCAP file"), "{error}");
    let mut app = core_app();
    app.add_plugins(ReplayPlugin {
        open: Some(path),
        ..ReplayPlugin::default()
    });
    for _ in 0..200 {
        app.update();
        if app.world().resource::<ReplayState>().error.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let state = app.world().resource::<ReplayState>();
    assert!(state.session.is_none());
    let error = state.error.clone().unwrap_or_default();
    assert!(error.contains("not an MCAP file"), "{error}");
    // The plant stays as it was.
    assert_eq!(app.world().resource::<AssetIndex>().by_position.len(), 45);
}

/// The Python `mcap` package (PyPI), if this machine has it: `PLANT_TWIN_PYTHON` names the
/// interpreter (default python3). CI installs it and sets PLANT_TWIN_REQUIRE_PYTHON_MCAP=1,
/// where its absence fails instead of skipping.
fn python_with_mcap() -> Option<String> {
    let python = std::env::var("PLANT_TWIN_PYTHON").unwrap_or_else(|_| "python3".into());
    let found = std::process::Command::new(&python)
        .args(["-c", "import mcap, zstandard"])
        .status()
        .is_ok_and(|status| status.success());
    let required = std::env::var("PLANT_TWIN_REQUIRE_PYTHON_MCAP").is_ok_and(|v| v == "1");
    assert!(
        found || !required,
        "PLANT_TWIN_REQUIRE_PYTHON_MCAP=1 but {python} cannot import mcap and zstandard"
    );
    if !found {
        eprintln!("skipped: {python} has no mcap package (pip install mcap zstandard)");
    }
    found.then_some(python)
}

const PYTHON_READ: &str = r#"
import json, sys
from mcap.reader import make_reader
counts, encodings, first = {}, {}, None
with open(sys.argv[1], "rb") as f:
    reader = make_reader(f)
    for schema, channel, message in reader.iter_messages():
        counts[channel.topic] = counts.get(channel.topic, 0) + 1
        encodings[channel.message_encoding] = encodings.get(channel.message_encoding, 0) + 1
        if first is None:
            first = json.loads(message.data)
    attachments = [a.name for a in reader.iter_attachments()]
    metadata = {m.name: dict(m.metadata) for m in reader.iter_metadata()}
print(json.dumps({"messages": sum(counts.values()), "topics": len(counts),
                  "encodings": encodings, "first": first,
                  "attachments": attachments, "metadata": metadata}))
"#;

const PYTHON_WRITE: &str = r#"
import json, sys
from mcap.writer import Writer, CompressionType
topics = sys.argv[2].split(",")
with open(sys.argv[1], "wb") as f:
    writer = Writer(f, compression=CompressionType.ZSTD)
    writer.start(profile="", library="python-mcap test")
    channels = {t: writer.register_channel(topic=t, message_encoding="json", schema_id=0) for t in topics}
    for second in range(30):
        t_ns = (1790000000000 + second * 1000) * 1000000
        for i, topic in enumerate(topics):
            payload = json.dumps({"value": 40.0 + i + second * 0.01, "ts": t_ns // 1000000})
            writer.add_message(channel_id=channels[topic], log_time=t_ns, publish_time=t_ns,
                               data=payload.encode())
    writer.finish()
"#;

#[test]
fn our_recordings_open_in_the_python_mcap_reader() {
    let Some(python) = python_with_mcap() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, total) = simulated_recording(dir.path(), 20.0);
    let output = std::process::Command::new(python)
        .args(["-c", PYTHON_READ])
        .arg(&path)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(read["messages"], total);
    assert_eq!(read["encodings"]["json"], total);
    assert!(read["first"]["value"].is_number(), "{read}");
    let attachments = read["attachments"].to_string();
    assert!(attachments.contains("layout.ron") && attachments.contains("baseline.ron"));
    assert_eq!(
        read["metadata"]["plant-twin"]["format"],
        "plant-twin-recording/1"
    );
}

#[test]
fn a_recording_written_by_the_python_mcap_writer_replays() {
    let Some(python) = python_with_mcap() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("foreign.mcap");
    // Topics of the demo plant (Unified Namespace JSON), as another tool would have logged them.
    let layout = PlantDocument::demo().expect("demo").layout;
    let pump = layout
        .assets
        .iter()
        .find(|a| a.id == "pump-02")
        .expect("pump-02");
    let prefix = &pump.telemetry.as_ref().expect("telemetry").topic;
    let topics: Vec<String> = pump
        .signals
        .iter()
        .map(|s| format!("{prefix}/{}", s.id))
        .collect();
    let status = std::process::Command::new(python)
        .args(["-c", PYTHON_WRITE])
        .arg(&path)
        .arg(topics.join(","))
        .status()
        .expect("python runs");
    assert!(status.success());
    let recording = Recording::open(&path, None).expect("opens");
    assert_eq!(recording.message_count(), 30 * topics.len() as u64);
    assert!(
        recording.context.layout_ron.is_empty(),
        "no layout in a foreign file"
    );
    // Without a stored layout it replays on the current plant (the demo).
    let mut app = replay_app(&path);
    seek(&mut app, EPOCH_MS + 29_000);
    let world = app.world_mut();
    let entity = world.resource::<AssetIndex>().get("pump-02").expect("pump");
    let live = world.get::<LiveSignals>(entity).expect("signals");
    assert_eq!(live.0[0].value, Some(40.29));
    assert_eq!(live.0[0].history.len(), 30);
}

#[test]
fn the_sample_recording_replays_a_developing_bearing_fault() {
    let path = crate::repo_file("assets/recordings/demo-bearing-wear.mcap");
    let recording = Recording::open(&path, None).expect("the sample opens");
    assert!(recording.indexed && recording.damage.is_none());
    assert!(!recording.context.layout_ron.is_empty());
    let (start, end) = recording.time_range_ns().expect("messages");
    assert!((end - start) / 1_000_000_000 >= 180, "a few minutes");
    let mut app = replay_app(&path);
    let end_ms = (end / 1_000_000) as i64;
    // Every 10 s along the way, only the failing pump has a failure horizon (healthy machines
    // that stop and start on their duty cycles have none).
    let config = plant_twin_core::predict::PredictConfig::default();
    let start_ms = (start / 1_000_000) as i64;
    let mut with_horizon = std::collections::BTreeSet::new();
    let mut learned = std::collections::BTreeSet::new();
    for at_ms in (start_ms + 10_000..=end_ms).step_by(10_000) {
        seek(&mut app, at_ms);
        let world = app.world_mut();
        let mut query = world.query::<(&AssetSpec, &plant_twin::data::predict::AssetHealth)>();
        for (spec, health) in query.iter(world) {
            if !health.0.horizons(&config).is_empty() {
                with_horizon.insert(spec.0.id.clone());
            }
            if health.0.learned_horizon(&config).is_some() {
                learned.insert(spec.0.id.clone());
            }
        }
    }
    assert_eq!(
        with_horizon.into_iter().collect::<Vec<_>>(),
        ["pump-02"],
        "failure horizons in the sample"
    );
    // The sample carries the demo's learned pump model, and it estimates for pump-02 only.
    assert_eq!(recording.context.degradation_ron.len(), 1);
    assert_eq!(
        learned.into_iter().collect::<Vec<_>>(),
        ["pump-02"],
        "learned horizons in the sample"
    );
    seek(&mut app, end_ms);
    let session = app.world().resource::<ReplayState>();
    let markers: Vec<_> = session
        .session
        .as_ref()
        .map(|s| s.markers.iter().map(|m| m.asset.clone()).collect())
        .unwrap_or_default();
    assert!(markers.iter().any(|a| a == "pump-02"), "{markers:?}");
    assert!(
        markers.iter().all(|a| a == "pump-02"),
        "false alarms: {markers:?}"
    );
}

#[test]
fn closing_a_replay_goes_back_to_the_plant_and_clock_from_before() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, _) = simulated_recording(dir.path(), 30.0);
    let mut app = replay_app(&path);
    assert!(matches!(
        *app.world().resource::<DataClock>(),
        DataClock::At(_)
    ));
    seek(&mut app, EPOCH_MS + 20_000);
    app.world_mut().write_message(ReplayIntent::Close);
    for _ in 0..5 {
        app.update();
    }
    let world = app.world();
    assert!(world.resource::<ReplayState>().session.is_none());
    assert_eq!(*world.resource::<DataClock>(), DataClock::Wall);
    assert_eq!(
        world.resource::<PlantDocument>().source,
        plant_twin::plant::LayoutSource::BuiltInDemo
    );
    // The demo plant is back, without the recording's data.
    let index = world.resource::<AssetIndex>();
    assert_eq!(index.by_position.len(), 45);
    let pump = index.get("pump-02").expect("pump");
    let live = world.get::<LiveSignals>(pump).expect("signals");
    assert!(live.0.iter().all(|s| s.value.is_none()));
}

#[test]
fn a_replay_locks_the_sandbox_and_closing_it_unlocks_it() {
    use plant_twin::sandbox::{EditIntent, EditMode, Sandbox, SandboxPlugin};
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, _) = simulated_recording(dir.path(), 10.0);
    let mut app = core_app();
    app.add_plugins((
        SandboxPlugin {
            read_only: false,
            save_as: None,
        },
        ReplayPlugin {
            speed: None,
            index_on_open: false,
            ..Default::default()
        },
    ));
    app.insert_state(EditMode::Editing);
    app.update();
    assert!(app.world().resource::<Sandbox>().editable());

    app.world_mut().write_message(ReplayIntent::Open(path));
    for _ in 0..2_000 {
        app.update();
        if app.world().resource::<ReplayState>().session.is_some() {
            break;
        }
    }
    for _ in 0..3 {
        app.update();
    }
    let world = app.world();
    assert!(world.resource::<ReplayState>().session.is_some(), "opened");
    assert!(
        !world.resource::<Sandbox>().editable(),
        "locked while replaying"
    );
    assert_eq!(
        *world
            .resource::<bevy::state::state::State<EditMode>>()
            .get(),
        EditMode::Viewing
    );

    // An edit on the recorded plant is refused.
    let pump = world.resource::<AssetIndex>().get("pump-02").expect("pump");
    let before = *world.get::<Transform>(pump).expect("transform");
    app.world_mut().write_message(EditIntent::Place {
        entity: pump,
        placement: plant_twin_core::sandbox::history::Placement {
            position: (10.0, 10.0),
            rotation_deg: 0.0,
        },
    });
    app.update();
    assert_eq!(
        *app.world().get::<Transform>(pump).expect("transform"),
        before
    );

    app.world_mut().write_message(ReplayIntent::Close);
    for _ in 0..3 {
        app.update();
    }
    assert!(
        app.world().resource::<Sandbox>().editable(),
        "unlocked after closing"
    );
}
