//! The `plant-twin` binary's command line, run as a user would.

use std::process::Command;

use crate::{fixture, repo_file};

fn plant_twin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plant-twin"));
    // The default audit trail goes under $XDG_STATE_HOME: a test's, not the user's.
    command.env(
        "XDG_STATE_HOME",
        std::env::temp_dir().join(format!("plant-twin-test-state-{}", std::process::id())),
    );
    command
}

#[test]
fn validate_prints_a_summary_and_exits_0() {
    let output = plant_twin()
        .arg("validate")
        .arg(repo_file("plant-layouts/demo-plant.ron"))
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("valid"), "{stdout}");
    assert!(stdout.contains("assets:     45"), "{stdout}");
    assert!(stdout.contains("CNC machine"), "{stdout}");
    assert!(stdout.contains("signals:"), "{stdout}");
}

#[test]
fn validate_lists_every_problem_and_exits_1() {
    let bad = fixture("invalid/bad-references.ron");
    let output = plant_twin()
        .arg("validate")
        .arg(fixture("small-plant.ron"))
        .arg(&bad)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let located: Vec<_> = stderr
        .lines()
        .filter(|line| line.starts_with(&format!("{}:", bad.display())))
        .collect();
    assert!(located.iter().any(|l| l.contains(":25:44: ")), "{stderr}");
    assert!(located.iter().any(|l| l.contains(":33:13: ")), "{stderr}");
    assert!(stderr.contains("2 problem(s) found"), "{stderr}");
    // The valid file in the same run is still reported as valid.
    assert!(String::from_utf8_lossy(&output.stdout).contains("small-plant.ron: valid"));
}

#[test]
fn help_explains_the_options() {
    let output = plant_twin().arg("--help").output().expect("runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for option in ["--layout", "validate", "--select", "--screenshot"] {
        assert!(
            help.contains(option),
            "--help does not mention {option}:\n{help}"
        );
    }
}

/// `sim` publishes: it offers the broker connection, not what only a subscriber does.
#[test]
fn sim_help_offers_no_subscriber_options() {
    let output = plant_twin().args(["sim", "--help"]).output().expect("runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("--mqtt "), "{help}");
    for option in ["--sparkplug-group", "--enable-commands"] {
        assert!(
            !help.contains(option),
            "sim --help offers {option}:\n{help}"
        );
    }
    let app_help = plant_twin().arg("--help").output().expect("runs");
    let app_help = String::from_utf8_lossy(&app_help.stdout);
    assert!(app_help.contains("--sparkplug-group") && app_help.contains("--enable-commands"));
}

#[test]
fn a_bad_layout_stops_before_any_window_opens() {
    let output = plant_twin()
        .arg("--layout")
        .arg(fixture("invalid/unknown-kind.ron"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown-kind.ron:32:19: "), "{stderr}");
}

#[test]
fn clearance_reports_each_violation_to_the_millimetre() {
    let dir = tempfile::tempdir().expect("temp dir");
    let layout = dir.path().join("moved.ron");
    // Move robot-201 to 0.42 m beside press-201 (press spans x 20.5..23.5, robot is 1.2 m wide).
    let text = std::fs::read_to_string(repo_file("plant-layouts/demo-plant.ron"))
        .expect("demo")
        .replace("position: (28.0, 31.0)", "position: (24.52, 31.0)");
    std::fs::write(&layout, text).expect("written");

    let clean = plant_twin()
        .arg("clearance")
        .arg(repo_file("plant-layouts/demo-plant.ron"))
        .output()
        .expect("runs");
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );

    let output = plant_twin()
        .arg("clearance")
        .arg(&layout)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("press-201 <-> robot-201: 0.420 m < 1.200 m required clearance"),
        "{stdout}"
    );

    let output = plant_twin()
        .args(["clearance", "--json"])
        .arg(&layout)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        rows[0],
        serde_json::json!({"asset": "press-201", "other": "robot-201", "distance_m": 0.42, "required_m": 1.2})
    );
}

#[test]
fn diff_lists_moves_and_clearance_changes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let edited = dir.path().join("edited.ron");
    let text = std::fs::read_to_string(repo_file("plant-layouts/demo-plant.ron"))
        .expect("demo")
        .replace(
            "position: (28.0, 31.0)",
            "position: (24.52, 31.0),\n            rotation_deg: 30.0",
        );
    std::fs::write(&edited, text).expect("written");
    let output = plant_twin()
        .arg("diff")
        .arg(repo_file("plant-layouts/demo-plant.ron"))
        .arg(&edited)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let markdown = String::from_utf8_lossy(&output.stdout);
    assert!(
        markdown.contains("| robot-201 | 28.000, 31.000 | 24.520, 31.000 | 3.480 | 30.0 |"),
        "{markdown}"
    );
    assert!(
        markdown.contains("## Clearance violations added (1)"),
        "{markdown}"
    );
    assert!(
        markdown.contains("- press-201 <-> robot-201:"),
        "{markdown}"
    );

    let output = plant_twin()
        .args(["diff", "--csv"])
        .arg(repo_file("plant-layouts/demo-plant.ron"))
        .arg(&edited)
        .output()
        .expect("runs");
    let csv = String::from_utf8_lossy(&output.stdout);
    assert!(csv.starts_with("kind,asset,from_x_m"), "{csv}");
    assert!(
        csv.contains("moved,robot-201,28.000,31.000,24.520,31.000,3.480,30.0,"),
        "{csv}"
    );
    assert!(csv.contains("violation_added,press-201,"), "{csv}");
}

#[test]
fn layout_move_changes_two_lines_keeps_comments_and_validates() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("moved.ron");
    let demo = repo_file("plant-layouts/demo-plant.ron");
    let output = plant_twin()
        .args(["layout", "move"])
        .arg(&demo)
        .args(["press-202", "--to", "35.5,30", "--rotate", "-90", "-o"])
        .arg(&out)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("| press-202 | 34.000, 31.000 | 35.500, 30.000 |"),
        "{stdout}"
    );
    assert!(stdout.contains("2 line(s) changed"), "{stdout}");
    let before = std::fs::read_to_string(&demo).expect("demo");
    let after = std::fs::read_to_string(&out).expect("written");
    let removed: Vec<_> = before.lines().filter(|l| !after.contains(*l)).collect();
    let added: Vec<_> = after.lines().filter(|l| !before.contains(*l)).collect();
    assert_eq!(removed, ["            position: (34.0, 31.0),"], "{after}");
    assert_eq!(
        added,
        [
            "            position: (35.5, 30.0),",
            "            rotation_deg: -90.0,"
        ]
    );
    let comments = |text: &str| text.lines().filter(|l| l.contains("//")).count();
    assert_eq!(comments(&after), comments(&before));
    // The layout names its pump model beside it: a copy elsewhere needs the model too.
    let model = "demo-plant.pump.degradation.ron";
    std::fs::copy(
        repo_file(&format!("plant-layouts/{model}")),
        out.with_file_name(model),
    )
    .expect("model copied");
    let validate = plant_twin()
        .arg("validate")
        .arg(&out)
        .output()
        .expect("runs");
    assert!(validate.status.success(), "{validate:?}");

    // An unknown asset and a move off the floor fail and write nothing.
    for args in [["nope", "--to", "1,1"], ["press-202", "--to", "-5,1"]] {
        let refused = dir.path().join("refused.ron");
        let output = plant_twin()
            .args(["layout", "move"])
            .arg(&demo)
            .args(args)
            .arg("-o")
            .arg(&refused)
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(1));
        assert!(!refused.exists());
    }
}

#[test]
fn a_lost_snapshot_fails_the_headless_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = plant_twin()
        .args(["--headless", "--exit-after", "0.5", "--snapshot"])
        .arg(dir.path().join("missing-dir/snapshot.json"))
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot write the snapshot"), "{stderr}");

    let snapshot = dir.path().join("snapshot.json");
    let output = plant_twin()
        .args(["--headless", "--exit-after", "1.5", "--snapshot"])
        .arg(&snapshot)
        .output()
        .expect("runs");
    assert!(output.status.success());
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&snapshot).expect("written")).expect("JSON");
    assert_eq!(written["connection"]["source"], "built-in simulator");
}

/// A headless run against a broker nobody listens on says why on stderr and exits 2 (it
/// printed nothing and exited 0).
#[test]
fn a_headless_run_that_never_reaches_its_broker_fails() {
    // A port that was free a moment ago: nothing listens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let output = plant_twin()
        .args(["--headless", "--exit-after", "2", "--mqtt"])
        .arg(format!("mqtt://127.0.0.1:{port}"))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("connection lost"), "{stderr}");
    assert!(
        stderr.contains("never connected to mqtt://127.0.0.1"),
        "{stderr}"
    );
}

#[test]
fn a_replay_that_cannot_be_opened_fails_and_logs_plain_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let empty = dir.path().join("empty.mcap");
    std::fs::write(&empty, b"").expect("written");
    let not_mcap = dir.path().join("notes.mcap");
    std::fs::write(&not_mcap, b"not a recording at all").expect("written");
    for file in [dir.path().join("missing.mcap"), empty, not_mcap] {
        for extra in [&[][..], &["--exit-after", "2"][..]] {
            let output = plant_twin()
                .args(["--headless", "--replay"])
                .arg(&file)
                .args(extra)
                .output()
                .expect("runs");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(
                output.status.code(),
                Some(2),
                "{} {extra:?}: {stderr}",
                file.display()
            );
            assert!(stderr.contains("recording not opened"), "{stderr}");
            // Standard error is a pipe here: no terminal colour codes in it.
            assert!(!stderr.contains('\u{1b}'), "escape codes: {stderr:?}");
        }
    }
}

#[test]
fn a_broker_url_without_a_host_is_refused() {
    let output = plant_twin()
        .args(["--headless", "--exit-after", "1", "--mqtt", "mqtt://:1883"])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("has no host"), "{stderr}");
}

/// Commands over plaintext to another machine need a second, explicit yes; to loopback or
/// over TLS the first is enough (the run then fails only because nothing listens there).
#[test]
fn commands_over_plaintext_to_another_machine_are_refused() {
    let run = |url: &str, extra: &[&str]| {
        let output = plant_twin()
            .args([
                "--headless",
                "--exit-after",
                "1",
                "--enable-commands",
                "--mqtt",
                url,
            ])
            .args(extra)
            .output()
            .expect("runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, stderr) = run("mqtt://192.0.2.10:1883", &[]);
    assert!(!ok);
    assert!(stderr.contains("--allow-plaintext-commands"), "{stderr}");
    for (url, extra) in [
        (
            "mqtt://192.0.2.10:1883",
            &["--allow-plaintext-commands"][..],
        ),
        ("mqtt://127.0.0.1:9", &[][..]),
    ] {
        let (_, stderr) = run(url, extra);
        assert!(!stderr.contains("is refused"), "{url}: {stderr}");
    }
}

/// Tiny benchmark directories laid out like the public ones, written by hand.
mod eval {
    use super::plant_twin;

    fn run(args: &[&str]) -> (Option<i32>, String, String) {
        let output = plant_twin().args(args).output().expect("runs");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    #[test]
    fn skab_on_a_tiny_directory_prints_the_table() {
        let dir = tempfile::tempdir().expect("dir");
        let sub = dir.path().join("some-set");
        std::fs::create_dir(&sub).expect("dir");
        let mut text = String::from("datetime;a;b;anomaly;changepoint\n");
        for row in 0..600 {
            let wiggle = ((row * 7919) % 100) as f64 / 100.0;
            let label = u8::from(row >= 500);
            let step = if row >= 500 { 10.0 } else { 0.0 };
            text.push_str(&format!(
                "2020-03-09 10:{:02}:{:02};{};{};{label};0\n",
                row / 60,
                row % 60,
                1.0 + wiggle,
                5.0 + wiggle + step
            ));
        }
        std::fs::write(sub.join("run-a.csv"), text).expect("written");
        std::fs::write(
            dir.path().join("anomaly-free.csv"),
            "datetime;a\n2020-01-01 00:00:00;1\n",
        )
        .expect("written");
        let (code, stdout, stderr) = run(&["eval", "skab", &dir.path().to_string_lossy()]);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(stdout.contains("some-set/run-a.csv"), "{stdout}");
        assert!(stdout.contains("all 1 files"), "{stdout}");
        // Both outputs, the row-by-row score and the alarm with the app's delays.
        assert!(stdout.contains("on-delay 5 s, off-delay 10 s"), "{stdout}");
        let total = stdout
            .lines()
            .find(|l| l.starts_with("all 1 files"))
            .unwrap_or_default();
        assert_eq!(total.split_whitespace().count(), 9, "{total}");
    }

    #[test]
    fn nab_and_cmapss_on_tiny_directories() {
        let dir = tempfile::tempdir().expect("dir");
        let data = dir.path().join("data/folder");
        std::fs::create_dir_all(&data).expect("dir");
        std::fs::create_dir_all(dir.path().join("labels")).expect("dir");
        let mut text = String::from("timestamp,value\n");
        for row in 0..400 {
            let value = if (300..310).contains(&row) {
                50.0
            } else {
                ((row * 37) % 10) as f64
            };
            text.push_str(&format!(
                "2014-01-{:02} {:02}:{:02}:00,{value}\n",
                1 + row / 288,
                row % 288 / 12,
                row % 12 * 5
            ));
        }
        std::fs::write(data.join("s.csv"), text).expect("written");
        std::fs::write(
            dir.path().join("labels/combined_windows.json"),
            r#"{"folder/s.csv": [["2014-01-02 00:50:00.000000", "2014-01-02 02:00:00.000000"]]}"#,
        )
        .expect("written");
        let (code, stdout, stderr) = run(&["eval", "nab", &dir.path().to_string_lossy()]);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(
            stdout.contains("standard") && stdout.contains("folder"),
            "{stdout}"
        );

        let cm = tempfile::tempdir().expect("dir");
        let engine = |unit: usize, cycles: usize| -> String {
            (1..=cycles)
                .map(|c| {
                    let wear = c as f64 / cycles as f64;
                    format!("{unit} {c} 0 0 100 1 {} 7\n", 100.0 - 20.0 * wear * wear)
                })
                .collect()
        };
        let train: String = (1..=5).map(|u| engine(u, 150 + u * 10)).collect();
        std::fs::write(cm.path().join("train_X1.txt"), train).expect("written");
        std::fs::write(cm.path().join("test_X1.txt"), engine(1, 100)).expect("written");
        std::fs::write(cm.path().join("RUL_X1.txt"), "60\n").expect("written");
        let (code, stdout, stderr) = run(&["eval", "cmapss", &cm.path().to_string_lossy()]);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(stdout.contains("X1"), "{stdout}");
    }

    #[test]
    fn an_empty_directory_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("dir");
        for benchmark in ["skab", "nab", "cmapss"] {
            let (code, _, stderr) = run(&["eval", benchmark, &dir.path().to_string_lossy()]);
            assert_eq!(code, Some(1), "{benchmark}");
            assert!(!stderr.is_empty(), "{benchmark}");
        }
    }
}

#[test]
fn recording_simulate_info_recover_and_headless_replay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("shift.mcap");
    let output = plant_twin()
        .args(["recording", "simulate"])
        .arg(&file)
        .args(["--seconds", "120", "--start-ms", "1790000000000"])
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let output = plant_twin()
        .args(["recording", "info"])
        .arg(&file)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("duration:   119.0 s"), "{stdout}");
    assert!(stdout.contains("messages:   21000"), "{stdout}");
    assert!(stdout.contains("topics:     175"), "{stdout}");
    assert!(stdout.contains("2026-09-21 14:13:20.000"), "{stdout}");

    // Cut like a killed recorder: info says so, recover rewrites what is left.
    let bytes = std::fs::read(&file).expect("read");
    let cut = dir.path().join("cut.mcap");
    std::fs::write(&cut, &bytes[..bytes.len() * 3 / 4]).expect("write");
    let output = plant_twin()
        .args(["recording", "info"])
        .arg(&cut)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("damage:") && stdout.contains("index:      missing"),
        "{stdout}"
    );
    let fixed = dir.path().join("fixed.mcap");
    let output = plant_twin()
        .args(["recording", "recover"])
        .arg(&cut)
        .arg(&fixed)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("messages written to"), "{stdout}");

    // Headless replay as fast as possible: exits by itself at the end with a snapshot.
    let snapshot = dir.path().join("snapshot.json");
    let events = dir.path().join("events.jsonl");
    let output = plant_twin()
        .arg("--headless")
        .arg("--replay")
        .arg(&file)
        .arg("--snapshot")
        .arg(&snapshot)
        .arg("--events")
        .arg(&events)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let snapshot: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&snapshot).expect("snapshot")).expect("json");
    assert_eq!(snapshot["written_ms"], 1_790_000_119_000i64);
    assert_eq!(snapshot["connection"]["messages"], 21000);
    let pump = &snapshot["assets"]["pump-02"];
    assert_eq!(pump["stale"], false);
    assert!(
        pump["signals"]["bearing_temp"]["value"].is_number(),
        "{pump}"
    );
    let events = std::fs::read_to_string(&events).expect("events");
    assert!(
        events
            .lines()
            .any(|l| l.contains("\"asset\":\"pump-02\"") && l.contains("raised")),
        "no pump alarm in the replay's events"
    );

    // Not a recording: a clear error, exit 1.
    let output = plant_twin()
        .args(["recording", "info"])
        .arg(repo_file("plant-layouts/demo-plant.ron"))
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not an MCAP file"));
}

#[test]
fn headless_record_writes_a_recording_that_replays() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("live.mcap");
    // The built-in simulator in real time for 3 s, recorded.
    let output = plant_twin()
        .args(["--headless", "--exit-after", "3", "--record"])
        .arg(&file)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let recording = plant_twin_core::record::Recording::open(&file, None).expect("opens");
    assert!(recording.indexed, "finished at exit");
    assert!(
        recording.message_count() >= 175,
        "{}",
        recording.message_count()
    );
    assert!(!recording.context.layout_ron.is_empty());
    assert!(recording.context.baseline_ron.is_some());
    assert_eq!(recording.context.source, "built-in simulator");
}

/// Simulated run-to-failure histories in, a model file out; a layout that names it validates
/// and says who uses it, and the app's headless snapshot estimates with it; bad input is
/// refused with where it is wrong.
#[test]
fn learn_degradation_from_histories_then_validate_and_use_the_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    let histories = dir.path().join("histories");
    let output = plant_twin()
        .args(["recording", "run-to-failure"])
        .arg(&histories)
        .args(["--runs", "8", "--step", "5"])
        .output()
        .expect("runs");
    assert!(output.status.success(), "{output:?}");
    let mut files: Vec<_> = std::fs::read_dir(&histories)
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    assert_eq!(files.len(), 8);
    let model = dir.path().join("pump.degradation.ron");
    let output = plant_twin()
        .args([
            "learn-degradation",
            "--kind",
            "Pump",
            "--healthy-beyond",
            "300",
            "-o",
        ])
        .arg(&model)
        .args(&files)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout.contains("learned from 8 run-to-failure histories"),
        "{stdout}"
    );
    // A layout beside it that names it.
    let layout_text = std::fs::read_to_string(repo_file("plant-layouts/demo-plant.ron"))
        .expect("demo")
        .replace("demo-plant.pump.degradation.ron", "pump.degradation.ron");
    let layout = dir.path().join("plant.ron");
    std::fs::write(&layout, layout_text).expect("written");
    let output = plant_twin()
        .arg("validate")
        .arg(&layout)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout.contains("degradation model pump.degradation.ron: Pump learned from 8"),
        "{stdout}"
    );
    assert!(stdout.contains("used by 4 of 4 Pump assets"), "{stdout}");

    // A history with a bad cell: file:line:column, exit 1, no model written.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "time_s,flow\n0,1\n5,oops\n").expect("written");
    let refused = dir.path().join("refused.ron");
    let output = plant_twin()
        .args(["learn-degradation", "--kind", "Pump", "-o"])
        .arg(&refused)
        .arg(&files[0])
        .arg(&bad)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{}:3:3: ", bad.display())),
        "{stderr}"
    );
    assert!(!refused.exists());
    // A damaged model file named by the layout: validate says where, exits 1.
    std::fs::write(&model, "(format_version: 1, kind: Pimp").expect("written");
    let output = plant_twin()
        .arg("validate")
        .arg(&layout)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{}:1:", model.display())),
        "{stderr}"
    );
}

/// A recording of the rogue scenario replays its security events: the `--events` stream of a
/// headless replay has them, with kind, source and what normal is (the traffic baseline runs
/// in the decoder, on the recording's receive times).
#[test]
fn a_replayed_rogue_publisher_shows_up_as_security_events() {
    let dir = tempfile::tempdir().expect("temp dir");
    let recording = dir.path().join("rogue.mcap");
    let output = plant_twin()
        .args(["recording", "simulate"])
        .arg(&recording)
        .args([
            "--scenario",
            "rogue",
            "--seconds",
            "110",
            "--start-ms",
            "1800000000000",
        ])
        .output()
        .expect("runs");
    assert!(output.status.success(), "{output:?}");
    let output = plant_twin()
        .args(["--headless", "--audit", "none", "--replay"])
        .arg(&recording)
        .args(["--events", "-"])
        .output()
        .expect("runs");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let security: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["event"] == "security")
        .collect();
    let kinds: Vec<&str> = security.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.contains(&"unknown_publisher"), "{security:?}");
    assert!(kinds.contains(&"rate_flood"), "{security:?}");
    // Nothing before the rogue starts at 90 s.
    assert!(
        security.iter().all(|e| e["time_ms"]
            .as_i64()
            .is_some_and(|t| t >= 1_800_000_090_000)),
        "{security:?}"
    );
}

fn run_ok(command: &mut Command) -> String {
    let output = command.output().expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn a_scrambled_plant_is_optimised_and_passes_the_independent_clearance_check() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plant = dir.path().join("scrambled.ron");
    let out = dir.path().join("optimised.ron");
    run_ok(
        plant_twin()
            .args(["layout", "generate", "--assets", "40", "--flows", "60"])
            .arg("--scrambled")
            .arg(&plant),
    );
    let flows = run_ok(plant_twin().args(["layout", "flows"]).arg(&plant));
    assert!(flows.contains("distances along the aisles"), "{flows}");
    assert!(flows.contains("m x parts/h"), "{flows}");

    let report = run_ok(
        plant_twin()
            .args(["layout", "optimise"])
            .arg(&plant)
            .args(["--iterations", "300", "--distance", "rectilinear", "-o"])
            .arg(&out),
    );
    // "transport effort (rectilinear): B before, A after (-P %), ..."
    let line = report
        .lines()
        .find(|l| l.starts_with("transport effort"))
        .expect("an effort line");
    let number = |after: &str| -> f64 {
        let rest = &line[line.find(after).expect(after) + after.len()..];
        rest.split_whitespace()
            .next()
            .unwrap_or("")
            .trim_end_matches([',', '('])
            .parse()
            .expect(line)
    };
    let (before, after) = (number("(rectilinear): "), number("before, "));
    assert!(after < 0.8 * before, "{line}");
    run_ok(plant_twin().arg("clearance").arg(&out));
    // The same seed and budget write the same file.
    let again = dir.path().join("again.ron");
    run_ok(
        plant_twin()
            .args(["layout", "optimise"])
            .arg(&plant)
            .args(["--iterations", "300", "--distance", "rectilinear", "-o"])
            .arg(&again),
    );
    assert_eq!(std::fs::read(&out).ok(), std::fs::read(&again).ok());
}

#[test]
fn an_optimisation_that_cannot_improve_or_start_exits_1_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plant = dir.path().join("plant.ron");
    run_ok(
        plant_twin()
            .args(["layout", "generate", "--assets", "12", "--flows", "10"])
            .arg(&plant),
    );
    let out = dir.path().join("out.ron");
    let no_flows = fixture("small-plant.ron");
    let cases: [(&std::path::Path, &[&str], &str); 3] = [
        // One movable asset: nothing can trade places.
        (
            &plant,
            &["--move", "m-0003"],
            "fewer than two assets may move",
        ),
        (
            &plant,
            &["--move", "m-0003,nope"],
            "\"nope\", which is not an asset",
        ),
        (&no_flows, &[], "no material flows"),
    ];
    for (file, args, message) in cases {
        let output = plant_twin()
            .args(["layout", "optimise"])
            .arg(file)
            .args(args)
            .args(["--iterations", "50", "-o"])
            .arg(&out)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
        assert!(!out.exists());
    }
}

#[test]
fn eval_qap_reads_qaplib_files_and_refuses_one_cut_short() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A 4-facility instance and its optimum, found by listing all 24 permutations in the test.
    let flow = [[0, 3, 0, 2], [3, 0, 0, 1], [0, 0, 0, 4], [2, 1, 4, 0]];
    let distance = [
        [0, 22, 53, 53],
        [22, 0, 40, 62],
        [53, 40, 0, 55],
        [53, 62, 55, 0],
    ];
    let cost = |p: &[usize]| -> i64 {
        (0..4)
            .flat_map(|i| (0..4).map(move |j| (i, j)))
            .map(|(i, j)| flow[i][j] * distance[p[i]][p[j]])
            .sum()
    };
    let mut best = (i64::MAX, vec![]);
    for code in 0..256usize {
        let p: Vec<usize> = (0..4).map(|k| (code >> (2 * k)) & 3).collect();
        let mut seen = p.clone();
        seen.sort();
        if seen == [0, 1, 2, 3] && cost(&p) < best.0 {
            best = (cost(&p), p);
        }
    }
    let matrix = |m: &[[i64; 4]; 4]| {
        m.iter()
            .map(|row| row.map(|v| v.to_string()).join(" "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let dat = format!("4\n\n{}\n\n{}\n", matrix(&flow), matrix(&distance));
    std::fs::write(dir.path().join("tiny4.dat"), &dat).expect("written");
    let one_based: Vec<String> = best.1.iter().map(|k| (k + 1).to_string()).collect();
    std::fs::write(
        dir.path().join("tiny4.sln"),
        format!("4 {}\n{}\n", best.0, one_based.join(" ")),
    )
    .expect("written");
    let table = run_ok(
        plant_twin()
            .args(["eval", "qap", "--seconds", "0.2"])
            .arg(dir.path()),
    );
    let row = table
        .lines()
        .find(|l| l.starts_with("tiny4"))
        .expect(&table);
    let fields: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(fields[2], best.0.to_string(), "{table}");
    assert_eq!(fields[4], "0.000", "{table}");

    std::fs::write(dir.path().join("tiny4.dat"), &dat[..dat.len() - 8]).expect("written");
    let output = plant_twin()
        .args(["eval", "qap", "--seconds", "0.2"])
        .arg(dir.path())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("tiny4.dat: cut short"), "{stderr}");
}

#[test]
fn energy_report_accounts_the_simulator_with_a_tariff_and_refuses_bad_input() {
    let tariff = repo_file("docs/examples/tariff.ron");
    let text = run_ok(
        plant_twin()
            .args(["energy", "report", "--simulate", "1800", "--tariff"])
            .arg(&tariff),
    );
    assert!(text.contains("0.50 h of data"), "{text}");
    assert!(text.contains("cost: energy"), "{text}");
    let csv = run_ok(
        plant_twin()
            .args([
                "energy",
                "report",
                "--simulate",
                "1800",
                "--csv",
                "--by",
                "line",
            ])
            .arg("--tariff")
            .arg(&tariff),
    );
    let utilities = csv
        .lines()
        .find(|l| l.starts_with("utilities,"))
        .expect(&csv);
    let kwh: f64 = utilities
        .split(',')
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect(utilities);
    // Three compressors at 20-45 kW for half an hour.
    assert!(kwh > 30.0 && kwh < 70.0, "{utilities}");
    let json = run_ok(plant_twin().args(["energy", "report", "--simulate", "600", "--json"]));
    let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert!(
        value["plant"]["measured_kwh"].as_f64().unwrap_or(0.0) > 0.0,
        "{json}"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad-tariff.ron");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&tariff)
            .expect("tariff")
            .replace("days: [Sat, Sun]", "days: [Sat]"),
    )
    .expect("written");
    let layout_without_energy = fixture("small-plant.ron");
    for (args, message) in [
        (
            vec![
                "--simulate".into(),
                "60".into(),
                "--tariff".into(),
                bad.display().to_string(),
            ],
            "no period covers Sun 00:00-24:00",
        ),
        (
            vec![
                "--simulate".into(),
                "60".into(),
                "--layout".into(),
                layout_without_energy.display().to_string(),
            ],
            "marks no signal as power",
        ),
    ] {
        let output = plant_twin()
            .args(["energy", "report"])
            .args(&args)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
    }
}

#[test]
fn energy_what_if_moves_a_shiftable_consumer_and_refuses_others() {
    let tariff = repo_file("docs/examples/tariff.ron");
    let what_if = |extra: &[&str]| -> serde_json::Value {
        let json = run_ok(
            plant_twin()
                .args([
                    "energy",
                    "what-if",
                    "--simulate",
                    "1800",
                    "--shift",
                    "comp-03",
                ])
                .args(extra)
                .arg("--json")
                .arg("--tariff")
                .arg(&tariff),
        );
        serde_json::from_str(&json).expect("JSON")
    };
    let figure = |v: &serde_json::Value, side: &str, name: &str| -> f64 {
        v[side][name].as_f64().unwrap_or(f64::NAN)
    };
    // The simulation starts at 01:00 local on a Monday (night, 0.11 EUR/kWh); 8 h later is the
    // peak period (0.24 EUR/kWh).
    let later = what_if(&["--by", "8"]);
    let moved = later["moved_kwh"].as_f64().expect("moved");
    assert!(moved > 5.0, "{later}");
    assert!(
        (figure(&later, "before", "energy_kwh") - figure(&later, "after", "energy_kwh")).abs()
            < 1e-6,
        "energy is kept: {later}"
    );
    let extra_cost =
        figure(&later, "after", "energy_cost") - figure(&later, "before", "energy_cost");
    assert!(
        (extra_cost - moved * (0.24 - 0.11)).abs() < 1e-6 * moved.max(1.0),
        "{later}"
    );
    assert!(
        later["outside_kwh"].as_f64().unwrap_or(0.0) > 0.0,
        "{later}"
    );
    let best = what_if(&["--cheapest"]);
    assert_ne!(best["shift_hours"].as_i64(), Some(0), "{best}");
    let total =
        |side: &str| figure(&best, side, "energy_cost") + figure(&best, side, "demand_charge");
    assert!(total("after") < total("before"), "{best}");

    let output = plant_twin()
        .args([
            "energy",
            "what-if",
            "--simulate",
            "60",
            "--shift",
            "cnc-101",
            "--by",
            "2",
        ])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cnc-101 is not shiftable"), "{stderr}");
}

#[test]
fn the_headless_snapshot_holds_the_energy_figures_priced_by_the_tariff() {
    let dir = tempfile::tempdir().expect("temp dir");
    let snapshot = dir.path().join("snapshot.json");
    run_ok(
        plant_twin()
            .args(["--headless", "--exit-after", "4", "--tariff"])
            .arg(repo_file("docs/examples/tariff.ron"))
            .arg("--snapshot")
            .arg(&snapshot),
    );
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&snapshot).expect("written")).expect("JSON");
    let energy = &written["energy"];
    assert!(
        energy["plant"]["measured_kwh"].as_f64().unwrap_or(0.0) > 0.0,
        "{energy}"
    );
    assert!(
        energy["power_kw"].as_f64().unwrap_or(0.0) > 20.0,
        "{energy}"
    );
    assert!(
        energy["assets"]["comp-01"]["measured_kwh"]
            .as_f64()
            .is_some(),
        "{energy}"
    );
    assert_eq!(energy["currency"], "EUR");
    assert_eq!(energy["demand"]["limit_kw"], 160.0);
    assert!(
        energy["energy_cost"].as_f64().unwrap_or(0.0) > 0.0,
        "{energy}"
    );

    // A tariff that does not load stops the app before it starts.
    let bad = dir.path().join("bad.ron");
    std::fs::write(&bad, "Tariff(currency: \"EUR\", periods: [])").expect("written");
    let output = plant_twin()
        .args(["--headless", "--exit-after", "1", "--tariff"])
        .arg(&bad)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no period covers Mon 00:00-24:00"),
        "{stderr}"
    );
}
