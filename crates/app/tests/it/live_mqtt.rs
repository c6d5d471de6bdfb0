//! Live telemetry over real MQTT on loopback: the headless app's ingest thread against a real
//! broker, fed by a real publishing client.

use std::time::{Duration, Instant};

use bevy::prelude::*;
use plant_twin::data::predict::PredictionPlugin;
use plant_twin::data::telemetry::{
    Freshness, IngestStatus, LinkState, LivePlugin, LiveSignals, SourceConfig,
};
use plant_twin::headless::{HeadlessOptions, headless_app};
use plant_twin::plant::{AssetIndex, AssetSpec, PlantDocument};
use plant_twin_core::telemetry::ProblemKind;
use plant_twin_core::telemetry::mqtt::MqttConfig;
use plant_twin_core::telemetry::sparkplug::{
    MessageType, Payload, bd_seq_metric, double_metric, topic as sp_topic,
};
use prost::Message;

use crate::broker::{CuttableLine, Publisher, TestBroker};

fn live_app(document: PlantDocument, url: &str) -> App {
    live_app_with(document, MqttConfig::new(url.parse().expect("url")))
}

fn live_app_with(document: PlantDocument, config: MqttConfig) -> App {
    let mut app = headless_app(
        document,
        LivePlugin {
            source: SourceConfig::Mqtt(config),
            bindings: None,
            history: 100,
        },
        PredictionPlugin::default(),
        HeadlessOptions::default(),
    );
    app.update();
    app
}

/// Updates the app until `done` holds; fails with `what` after 15 s.
fn run_until(app: &mut App, what: &str, mut done: impl FnMut(&mut App) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        app.update();
        if done(app) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; status: {:?}",
            app.world().resource::<IngestStatus>().log
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `plant-twin sim` publishes the healthy demo plant to `url` for 3 s at 2 Hz.
fn simulate_healthy_plant(url: &str, format: &str) {
    let sim = std::process::Command::new(env!("CARGO_BIN_EXE_plant-twin"))
        .args(["sim", "--mqtt", url, "--format", format, "--rate", "2"])
        .args(["--scenario", "healthy", "--duration", "3"])
        .output()
        .expect("sim runs");
    assert!(
        sim.status.success(),
        "{}",
        String::from_utf8_lossy(&sim.stderr)
    );
}

fn value(app: &mut App, asset: &str, signal: &str) -> Option<f64> {
    let entity = app.world().resource::<AssetIndex>().get(asset)?;
    let spec = app.world().get::<AssetSpec>(entity)?;
    let position = spec.0.signals.iter().position(|s| s.id == signal)?;
    app.world()
        .get::<LiveSignals>(entity)?
        .0
        .get(position)?
        .value
}

fn freshness(app: &mut App, asset: &str) -> Freshness {
    let entity = app
        .world()
        .resource::<AssetIndex>()
        .get(asset)
        .expect("asset");
    app.world()
        .get::<Freshness>(entity)
        .expect("freshness")
        .clone()
}

fn connected(app: &mut App) -> bool {
    let status = app.world().resource::<IngestStatus>();
    status.state == LinkState::Connected && !status.subscriptions.is_empty()
}

fn demo() -> PlantDocument {
    PlantDocument::demo().expect("demo")
}

#[test]
fn json_topics_reach_their_assets_and_garbage_is_counted() {
    let broker = TestBroker::start();
    let mut app = live_app(demo(), &broker.url());
    run_until(&mut app, "connected and subscribed", connected);
    let publisher = Publisher::connect(broker.port);

    publisher.publish("acme/plant1/line2/press-202/oil_temp", "47.5");
    publisher.publish(
        "acme/plant1/utilities/pump-02/bearing/bearing_temp",
        r#"{"value": 51.25, "ts": 1732200000000, "q": "good"}"#,
    );
    publisher.publish(
        "acme/plant1/line1/cnc-103",
        r#"{"spindle_power": 9.5, "axis_motor_current": 12}"#,
    );
    publisher.publish("acme/plant1/line1/cnc-101/spindle_power", "{broken");
    publisher.publish(
        "acme/plant1/line1/cnc-101/spindle_power",
        r#"{"value": "fast"}"#,
    );
    publisher.publish("acme/plant1/line1/cnc-101/no_such_signal", "1");
    publisher.publish("acme/plant1/line2/nobody/x", "1");
    publisher.publish("acme/plant1/line2/press-202/oil_temp", "48.5");

    run_until(&mut app, "values and counters", |app| {
        value(app, "press-202", "oil_temp") == Some(48.5)
            && value(app, "cnc-103", "axis_motor_current") == Some(12.0)
            && app.world().resource::<IngestStatus>().problems >= 4
    });
    assert_eq!(value(&mut app, "pump-02", "bearing_temp"), Some(51.25));
    assert_eq!(value(&mut app, "cnc-103", "spindle_power"), Some(9.5));
    let status = app.world().resource::<IngestStatus>();
    let cnc = &status.topics["acme/plant1/line1/cnc-101/spindle_power"];
    assert_eq!(cnc.problems.get(&ProblemKind::Malformed), Some(&1));
    assert_eq!(cnc.problems.get(&ProblemKind::WrongType), Some(&1));
    assert!(
        status.topics["acme/plant1/line2/nobody/x"]
            .problems
            .contains_key(&ProblemKind::Unmapped)
    );
    assert!(
        status.topics["acme/plant1/line1/cnc-101/no_such_signal"]
            .problems
            .contains_key(&ProblemKind::UnknownSignal)
    );
    // The history keeps both values of the oil temperature, in order.
    let entity = app
        .world()
        .resource::<AssetIndex>()
        .get("press-202")
        .expect("asset");
    let spec = app.world().get::<AssetSpec>(entity).expect("spec");
    let oil = spec
        .0
        .signals
        .iter()
        .position(|s| s.id == "oil_temp")
        .expect("signal");
    let history: Vec<f32> = app.world().get::<LiveSignals>(entity).expect("live").0[oil]
        .history
        .iter()
        .map(|(_, v)| *v)
        .collect();
    assert_eq!(history, vec![47.5, 48.5]);
}

fn sparkplug(
    seq: Option<u64>,
    metrics: Vec<plant_twin_core::telemetry::sparkplug::Metric>,
) -> Vec<u8> {
    Payload {
        timestamp: Some(1_732_200_000_000),
        metrics,
        seq,
        ..Payload::default()
    }
    .encode_to_vec()
}

/// A retained message over the payload limit on a subscribed topic is counted as oversized and
/// skipped; the connection stays up and the other topics' data flows (the client used to drop
/// the connection on it, and the broker resent it on every resubscribe: no data at all).
#[test]
fn an_oversized_retained_message_is_counted_not_fatal() {
    let broker = TestBroker::start();
    let publisher = Publisher::connect(broker.port);
    // 1.5 MiB: over the decoder's 1 MiB and the client's old 1 MiB + 64 KiB packet limit,
    // within what both test brokers take.
    let huge = vec![b'7'; 3 << 19];
    publisher.publish_retained("acme/plant1/line2/press-202/oil_temp", huge);
    // The broker holds it before the twin subscribes.
    std::thread::sleep(Duration::from_millis(300));
    let mut app = live_app(demo(), &broker.url());
    run_until(&mut app, "connected and subscribed", connected);
    publisher.publish("acme/plant1/utilities/pump-02/bearing/bearing_temp", "51.5");
    run_until(
        &mut app,
        "the oversized message counted and data flowing",
        |app| {
            let counted = app
                .world()
                .resource::<IngestStatus>()
                .topics
                .get("acme/plant1/line2/press-202/oil_temp")
                .is_some_and(|t| t.problems.contains_key(&ProblemKind::Oversized));
            counted && value(app, "pump-02", "bearing_temp") == Some(51.5)
        },
    );
    // A second later: still the first connection, never lost.
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        app.update();
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = app.world().resource::<IngestStatus>();
    assert_eq!(status.state, LinkState::Connected, "{:?}", status.log);
    assert_eq!(status.reconnect_attempt, 0, "{:?}", status.log);
    assert!(status.last_error.is_none(), "{:?}", status.last_error);
    assert_eq!(value(&mut app, "press-202", "oil_temp"), None);
}

#[test]
fn sparkplug_births_data_and_death() {
    sparkplug_session(demo());
}

/// An asset fed by Sparkplug B alone (no `telemetry:` line, which the layout format allows)
/// goes stale when its node dies, like any other.
#[test]
fn a_sparkplug_only_asset_goes_stale_when_its_node_dies() {
    let mut document = demo();
    for asset in &mut document.layout.assets {
        if asset.id == "pump-03" {
            asset.telemetry = None;
        }
    }
    sparkplug_session(document);
}

/// Births, data by alias and a death of pump-03's edge node, over a real broker.
fn sparkplug_session(document: PlantDocument) {
    let broker = TestBroker::start();
    let mut app = live_app(document, &broker.url());
    run_until(&mut app, "connected and subscribed", connected);
    let publisher = Publisher::connect(broker.port);
    let group = "plant1";

    publisher.publish(
        &sp_topic(group, MessageType::NodeBirth, "edge-utilities", None),
        sparkplug(Some(0), vec![bd_seq_metric(3)]),
    );
    publisher.publish(
        &sp_topic(
            group,
            MessageType::DeviceBirth,
            "edge-utilities",
            Some("pump-03"),
        ),
        sparkplug(Some(1), vec![double_metric(Some("flow"), Some(1), 22.0, 1)]),
    );
    publisher.publish(
        &sp_topic(
            group,
            MessageType::DeviceData,
            "edge-utilities",
            Some("pump-03"),
        ),
        sparkplug(Some(2), vec![double_metric(None, Some(1), 23.5, 2)]),
    );
    run_until(&mut app, "Sparkplug value by alias", |app| {
        value(app, "pump-03", "flow") == Some(23.5)
    });
    assert!(!freshness(&mut app, "pump-03").stale);

    // A death from an older session is ignored; the current one makes the asset stale.
    publisher.publish(
        &sp_topic(group, MessageType::NodeDeath, "edge-utilities", None),
        sparkplug(None, vec![bd_seq_metric(2)]),
    );
    publisher.publish(
        &sp_topic(group, MessageType::NodeDeath, "edge-utilities", None),
        sparkplug(None, vec![bd_seq_metric(3)]),
    );
    run_until(&mut app, "the node's death", |app| {
        freshness(app, "pump-03").stale
    });
    let dead = freshness(&mut app, "pump-03").dead.expect("a reason");
    assert!(dead.contains("NDEATH"), "{dead}");
}

#[test]
fn silent_assets_go_stale_and_recover() {
    let broker = TestBroker::start();
    let mut document = demo();
    for asset in &mut document.layout.assets {
        if let Some(telemetry) = asset.telemetry.as_mut() {
            telemetry.stale_after_s = 0.5;
        }
    }
    let mut app = live_app(document, &broker.url());
    run_until(&mut app, "connected and subscribed", connected);
    let publisher = Publisher::connect(broker.port);
    publisher.publish("acme/plant1/line3/agv-301/charger_temp", "30");
    run_until(&mut app, "fresh data", |app| {
        value(app, "agv-301", "charger_temp").is_some()
    });
    assert!(!freshness(&mut app, "agv-301").stale);
    run_until(&mut app, "staleness", |app| freshness(app, "agv-301").stale);
    publisher.publish("acme/plant1/line3/agv-301/charger_temp", "31");
    run_until(&mut app, "recovery", |app| !freshness(app, "agv-301").stale);
}

#[test]
fn the_broker_goes_away_and_comes_back() {
    let broker = TestBroker::start();
    let line = CuttableLine::start(broker.port);
    let mut app = live_app(demo(), &line.url());
    run_until(&mut app, "connected and subscribed", connected);
    let publisher = Publisher::connect(broker.port);
    publisher.publish("acme/plant1/line2/press-201/oil_temp", "40");
    run_until(&mut app, "data before the outage", |app| {
        value(app, "press-201", "oil_temp") == Some(40.0)
    });

    line.cut();
    run_until(&mut app, "the loss to be noticed", |app| {
        let status = app.world().resource::<IngestStatus>();
        status.state == LinkState::Reconnecting && status.last_error.is_some()
    });
    // Published while the twin is cut off: not delivered (no persistent session), not fatal.
    publisher.publish("acme/plant1/line2/press-201/oil_temp", "41");
    // A broker restart of a few seconds: the twin keeps retrying at least once a second, so
    // data is back within a second of the broker listening (the delays grew to 2-4 s before).
    let outage_end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < outage_end {
        app.update();
        std::thread::sleep(Duration::from_millis(20));
    }
    let delays: Vec<f64> = app
        .world()
        .resource::<IngestStatus>()
        .log
        .iter()
        .filter_map(|(_, line)| {
            line.strip_prefix("reconnecting (attempt ")?
                .split(" in ")
                .nth(1)?
                .strip_suffix(" s")?
                .parse()
                .ok()
        })
        .collect();
    assert!(delays.len() >= 4, "{delays:?}");
    assert!(delays.iter().all(|d| *d <= 1.0), "{delays:?}");

    line.restore();
    let subscriptions_before = app.world().resource::<IngestStatus>().log.len();
    run_until(&mut app, "reconnected and re-subscribed", |app| {
        let status = app.world().resource::<IngestStatus>();
        status.state == LinkState::Connected
            && status.log.len() > subscriptions_before
            && status
                .log
                .back()
                .is_some_and(|(_, line)| line.starts_with("subscribed"))
    });
    publisher.publish("acme/plant1/line2/press-201/oil_temp", "42");
    run_until(&mut app, "data after the outage", |app| {
        value(app, "press-201", "oil_temp") == Some(42.0)
    });
}

/// The binaries end to end: `plant-twin sim` publishes to a real broker, a headless
/// `plant-twin` mirrors it and writes its snapshot and events.
fn headless_binary_mirrors(format: &str) {
    let broker = TestBroker::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let (snapshot, events) = (
        dir.path().join("snapshot.json"),
        dir.path().join("events.jsonl"),
    );
    let binary = env!("CARGO_BIN_EXE_plant-twin");
    let mut twin = std::process::Command::new(binary)
        .args([
            "--headless",
            "--mqtt",
            &broker.url(),
            "--exit-after",
            "12",
            "--snapshot",
        ])
        .arg(&snapshot)
        .arg("--events")
        .arg(&events)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("twin starts");
    // Let the twin subscribe first, so it sees the Sparkplug births: its event stream says when.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&events).is_ok_and(|e| e.contains("\"state\":\"subscribed\"")) {
        assert!(Instant::now() < deadline, "the twin did not subscribe");
        std::thread::sleep(Duration::from_millis(50));
    }
    simulate_healthy_plant(&broker.url(), format);
    assert!(twin.wait().expect("twin exits").success());

    let snapshot: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&snapshot).expect("snapshot written")).expect("JSON");
    assert_eq!(
        snapshot["connection"]["state"], "connected",
        "{}",
        snapshot["connection"]
    );
    let assets = snapshot["assets"].as_object().expect("assets");
    assert_eq!(assets.len(), 45);
    let mut with_values = 0;
    for (id, asset) in assets {
        for (signal, state) in asset["signals"].as_object().expect("signals") {
            assert!(state["unit"].is_string(), "{id}/{signal}");
            with_values += usize::from(state["value"].is_number());
        }
    }
    assert_eq!(
        with_values, 175,
        "every signal of the demo plant has a value"
    );
    let pump = &snapshot["assets"]["pump-02"]["signals"]["bearing_temp"];
    assert_eq!(pump["unit"], "degC");
    assert_eq!(pump["stale"], false);
    assert!(
        snapshot["topics"]
            .as_object()
            .is_some_and(|t| !t.is_empty())
    );

    let events = std::fs::read_to_string(&events).expect("events written");
    let parsed: Vec<serde_json::Value> = events
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    assert!(
        parsed
            .iter()
            .any(|e| e["event"] == "connection" && e["state"] == "connected"),
        "{events}"
    );
}

#[test]
fn headless_binary_mirrors_json_telemetry() {
    headless_binary_mirrors("json");
}

#[test]
fn headless_binary_mirrors_sparkplug_telemetry() {
    headless_binary_mirrors("sparkplug");
}

/// Everything on the broker, as a spy subscribed to `#` sees it.
fn spy(port: u16) -> crossbeam_channel::Receiver<String> {
    let mut options = rumqttc::MqttOptions::new(format!("spy-{port}"), "127.0.0.1", port);
    options.set_max_packet_size(4 << 20, 4 << 20);
    let (client, mut connection) = rumqttc::Client::new(options, 100);
    let (sender, receiver) = crossbeam_channel::unbounded();
    let (ready_tx, ready_rx) = crossbeam_channel::bounded(1);
    std::thread::Builder::new()
        .name("test-spy".into())
        .spawn(move || {
            for event in connection.iter() {
                match event {
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) => {
                        let _ = client.try_subscribe("#", rumqttc::QoS::AtMostOnce);
                    }
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_))) => {
                        let _ = ready_tx.try_send(());
                    }
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                        let _ = sender.send(p.topic);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(50)),
                    _ => {}
                }
            }
        })
        .expect("spy thread");
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("spy subscribed");
    receiver
}

/// The twin only listens: data from an unborn Sparkplug node would deserve a rebirth request,
/// but none is published unless commands are enabled.
#[test]
fn the_twin_publishes_nothing_unless_commands_are_enabled() {
    for commands_enabled in [false, true] {
        let broker = TestBroker::start();
        let spy = spy(broker.port);
        let mut config = MqttConfig::new(broker.url().parse().expect("url"));
        config.commands_enabled = commands_enabled;
        let mut app = live_app_with(demo(), config);
        run_until(&mut app, "connected and subscribed", connected);
        let publisher = Publisher::connect(broker.port);
        let ddata = sp_topic("plant1", MessageType::DeviceData, "edge-9", Some("pump-01"));
        publisher.publish(
            &ddata,
            sparkplug(Some(4), vec![double_metric(Some("flow"), None, 20.0, 1)]),
        );
        run_until(&mut app, "the unborn data", |app| {
            value(app, "pump-01", "flow") == Some(20.0)
        });
        // Give a would-be command time to reach the spy.
        let deadline = Instant::now() + Duration::from_millis(800);
        let mut seen = vec![];
        while Instant::now() < deadline {
            app.update();
            seen.extend(spy.try_iter());
            std::thread::sleep(Duration::from_millis(20));
        }
        let from_twin: Vec<&String> = seen.iter().filter(|topic| **topic != ddata).collect();
        if commands_enabled {
            assert_eq!(
                from_twin,
                vec!["spBv1.0/plant1/NCMD/edge-9"],
                "a rebirth request"
            );
        } else {
            assert!(from_twin.is_empty(), "the twin published {from_twin:?}");
        }
    }
}

#[test]
fn credentials_are_used_and_a_refusal_is_shown() {
    let broker = TestBroker::start_with_login("twin", "s3cret");
    let login = |password: &str| {
        let mut config = MqttConfig::new(broker.url().parse().expect("url"));
        config.username = Some("twin".into());
        config.password = Some(password.into());
        live_app_with(demo(), config)
    };
    let mut refused = login("wrong");
    run_until(&mut refused, "the refusal", |app| {
        let status = app.world().resource::<IngestStatus>();
        status.state == LinkState::Reconnecting && status.last_error.is_some()
    });
    let error = refused
        .world()
        .resource::<IngestStatus>()
        .last_error
        .clone();
    assert!(error.is_some_and(|(_, text)| !text.is_empty()));

    let mut accepted = login("s3cret");
    run_until(&mut accepted, "connected and subscribed", connected);
}

/// Mutual TLS against mosquitto with a private CA. Needs mosquitto and openssl, so it runs in
/// CI (`PLANT_TWIN_TEST_BROKER=mosquitto`, where they are installed) and says it skipped
/// elsewhere.
#[test]
fn mutual_tls_with_a_private_ca() {
    if std::env::var("PLANT_TWIN_TEST_BROKER").as_deref() != Ok("mosquitto") {
        eprintln!("skipping: TLS runs against mosquitto (PLANT_TWIN_TEST_BROKER=mosquitto)");
        return;
    }
    let pki = crate::broker::TestPki::create();
    let broker = crate::broker::TlsBroker::start(&pki);
    let url = format!("mqtts://127.0.0.1:{}", broker.port);
    let tls_config = |with_client_cert: bool| {
        let mut config = MqttConfig::new(url.parse().expect("url"));
        config.ca_file = Some(pki.path("ca.pem"));
        if with_client_cert {
            config.client_cert = Some((pki.path("client.pem"), pki.path("client.key")));
        }
        config
    };

    let mut without_certificate = live_app_with(demo(), tls_config(false));
    run_until(
        &mut without_certificate,
        "the broker to refuse a client without a certificate",
        |app| {
            let status = app.world().resource::<IngestStatus>();
            status.state == LinkState::Reconnecting && status.last_error.is_some()
        },
    );

    let mut app = live_app_with(demo(), tls_config(true));
    run_until(&mut app, "connected over mutual TLS", connected);
    let publisher_config = {
        // Publish through the same TLS listener, as the twin's own client would.
        let mut options = rumqttc::MqttOptions::new("tls-publisher", "127.0.0.1", broker.port);
        options.set_transport(rumqttc::Transport::Tls(rumqttc::TlsConfiguration::Simple {
            ca: std::fs::read(pki.path("ca.pem")).expect("ca"),
            alpn: None,
            client_auth: Some((
                std::fs::read(pki.path("client.pem")).expect("cert"),
                std::fs::read(pki.path("client.key")).expect("key"),
            )),
        }));
        options
    };
    let (client, mut connection) = rumqttc::Client::new(publisher_config, 10);
    std::thread::spawn(move || for _ in connection.iter() {});
    client
        .publish(
            "acme/plant1/line2/press-203/oil_temp",
            rumqttc::QoS::AtLeastOnce,
            false,
            "39.5",
        )
        .expect("queued");
    run_until(&mut app, "data over TLS", |app| {
        value(app, "press-203", "oil_temp") == Some(39.5)
    });
}

/// `energy report --mqtt`: what a broker carries for a few seconds, through the same account.
#[test]
fn an_energy_report_listens_to_a_broker_for_its_time() {
    let broker = TestBroker::start();
    let binary = env!("CARGO_BIN_EXE_plant-twin");
    let report = std::process::Command::new(binary)
        .args([
            "energy",
            "report",
            "--json",
            "--exit-after",
            "6",
            "--mqtt",
            &broker.url(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("report starts");
    // The report subscribes within a second; the simulator publishes for 3 s after that.
    std::thread::sleep(Duration::from_millis(1500));
    simulate_healthy_plant(&broker.url(), "json");
    let output = report.wait_with_output().expect("report ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert!(value["messages"].as_u64().unwrap_or(0) > 100, "{value}");
    assert!(
        value["plant"]["measured_kwh"].as_f64().unwrap_or(0.0) > 0.0,
        "{value}"
    );
    // Nobody listening: an error, not zero energy.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let output = std::process::Command::new(binary)
        .args(["energy", "report", "--exit-after", "1", "--mqtt"])
        .arg(format!("mqtt://127.0.0.1:{port}"))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("never connected"), "{stderr}");
}

/// A tariff that names a live price and carbon feed: the energy report and the running twin
/// both subscribe to them and price every hour that has a live value with it (here: all of
/// them, 250 EUR/MWh against the tariff's 1 EUR/kWh); a malformed price is a counted problem.
#[test]
fn live_prices_from_the_broker_price_the_energy() {
    let broker = TestBroker::start();
    let binary = env!("CARGO_BIN_EXE_plant-twin");
    let dir = tempfile::tempdir().expect("temp dir");
    let tariff = dir.path().join("spot.ron");
    std::fs::write(
        &tariff,
        r#"Tariff(
    currency: "EUR",
    periods: [(name: "flat", days: [Mon, Tue, Wed, Thu, Fri, Sat, Sun], start_hour: 0, end_hour: 24, price_per_kwh: 1.0)],
    co2_kg_per_kwh: 0.5,
    live_price: Some((topic: "site/energy/spot_price", unit: "EUR/MWh")),
    live_co2: Some((topic: "site/energy/grid_co2", unit: "g/kWh")),
)"#,
    )
    .expect("tariff written");
    let snapshot = dir.path().join("snapshot.json");
    let spawn = |args: &[&str]| {
        std::process::Command::new(binary)
            .args(args)
            .arg("--tariff")
            .arg(&tariff)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("starts")
    };
    let url = broker.url();
    let report = spawn(&[
        "energy",
        "report",
        "--json",
        "--exit-after",
        "8",
        "--mqtt",
        &url,
    ]);
    let twin = std::process::Command::new(binary)
        .args([
            "--headless",
            "--exit-after",
            "8",
            "--mqtt",
            &url,
            "--tariff",
        ])
        .arg(&tariff)
        .arg("--snapshot")
        .arg(&snapshot)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("twin starts");
    std::thread::sleep(Duration::from_millis(2000));
    let publisher = Publisher::connect(broker.port);
    // Prices before and after the plant's data, so an hour that turns during the test has
    // its own price too.
    let prices = |publisher: &Publisher| {
        publisher.publish("site/energy/spot_price", "250");
        publisher.publish("site/energy/grid_co2", r#"{"value": 100}"#);
    };
    prices(&publisher);
    publisher.publish("site/energy/spot_price", "cheap");
    simulate_healthy_plant(&url, "json");
    prices(&publisher);

    let output = report.wait_with_output().expect("report ends");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let kwh = value["plant"]["measured_kwh"].as_f64().unwrap_or(0.0);
    assert!(kwh > 0.0, "{value}");
    assert!(
        value["live_price_hours"].as_u64().unwrap_or(0) >= 1,
        "{value}"
    );
    let cost = value["energy_cost"].as_f64().unwrap_or(0.0);
    let co2 = value["co2_kg"].as_f64().unwrap_or(0.0);
    assert!(
        (cost / kwh - 0.25).abs() < 1e-9,
        "{cost} EUR for {kwh} kWh: {value}"
    );
    assert!(
        (co2 / kwh - 0.1).abs() < 1e-9,
        "{co2} kg for {kwh} kWh: {value}"
    );

    let output = twin.wait_with_output().expect("twin ends");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&snapshot).expect("snapshot")).expect("JSON");
    let energy = &written["energy"];
    let kwh: f64 = energy["hourly_kwh"]
        .as_array()
        .expect("hourly")
        .iter()
        .filter_map(|hour| hour[1].as_f64())
        .sum();
    let cost = energy["energy_cost"].as_f64().unwrap_or(0.0);
    assert!(kwh > 0.0, "{energy}");
    assert!(
        (cost / kwh - 0.25).abs() < 1e-9,
        "{cost} EUR for {kwh} kWh: {energy}"
    );
    // The malformed price is counted against its topic, like any bad payload.
    let text = written.to_string();
    assert!(
        text.contains("site/energy/spot_price") && text.contains("malformed"),
        "{text}"
    );
}
