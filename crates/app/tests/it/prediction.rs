//! The prediction plugin end to end in a headless App: the simulator's fault scenarios, in
//! simulated time, through the real decoder, live plugin, detectors and alarms.

use bevy::prelude::*;
use plant_twin::TwinCorePlugin;
use plant_twin::data::events::{DataEvent, DataEventKind};
use plant_twin::data::predict::{AlarmIntent, AlarmLog, AssetHealth, PredictionPlugin};
use plant_twin::data::telemetry::{LivePlugin, ManualFeed, SourceConfig, decoder_for};
use plant_twin::plant::{AssetIndex, PlantDocument};
use plant_twin_core::predict::{AlarmChange, Annunciation, Part, Severity};
use plant_twin_core::sim::scenario::scenario;
use plant_twin_core::sim::{SimConfig, Simulator};
use plant_twin_core::telemetry::decoder::Decoded;
use plant_twin_core::telemetry::now_ms;

/// Source time of simulated second 0.
const EPOCH_MS: i64 = 1_790_000_000_000;

struct Run {
    app: App,
    simulator: Simulator,
    decoder: plant_twin_core::telemetry::decoder::Decoder,
    feed: ManualFeed,
    t: f64,
    events: Vec<DataEvent>,
}

impl Run {
    fn new(scenario_name: &str) -> Run {
        let document = PlantDocument::demo().expect("demo");
        let layout = document.layout.clone();
        let mut app = crate::bare_app();
        app.add_plugins((
            TwinCorePlugin { document },
            LivePlugin {
                source: SourceConfig::Manual,
                bindings: None,
                history: 10,
            },
            PredictionPlugin {
                operator: "tester".into(),
                ..PredictionPlugin::default()
            },
        ));
        app.update();
        app.update();
        let feed = app.world().resource::<ManualFeed>().clone();
        let sim = SimConfig {
            scenario: scenario(scenario_name).expect("scenario"),
            ..SimConfig::default()
        };
        Run {
            app,
            simulator: Simulator::new(&layout, sim),
            decoder: decoder_for(&layout, None, None).expect("decoder"),
            feed,
            t: 0.0,
            events: vec![],
        }
    }

    /// Advances simulated time by `seconds`, one second (one app update) at a time.
    fn run(&mut self, seconds: u32) {
        let mut messages = vec![];
        let mut decoded = Decoded::default();
        let mut batch = vec![];
        for _ in 0..seconds {
            let source_ms = EPOCH_MS + (self.t * 1000.0) as i64;
            self.simulator.messages(self.t, source_ms, &mut messages);
            for (topic, payload) in &messages {
                self.decoder.decode(topic, payload, now_ms(), &mut decoded);
                decoded.drain_events(topic, now_ms(), &mut batch);
            }
            for event in batch.drain(..) {
                self.feed.0.send(event).expect("sent");
            }
            self.app.update();
            let world = self.app.world_mut();
            let mut reader = world.resource_mut::<Messages<DataEvent>>();
            self.events.extend(reader.drain());
            self.t += 1.0;
        }
    }

    fn entity(&self, id: &str) -> Entity {
        self.app
            .world()
            .resource::<AssetIndex>()
            .get(id)
            .expect("asset")
    }

    fn health(&self, id: &str) -> &AssetHealth {
        self.app
            .world()
            .get::<AssetHealth>(self.entity(id))
            .expect("health")
    }

    /// (simulated second, asset, component, change) of every alarm event so far.
    fn alarms(&self) -> Vec<(f64, String, Option<String>, AlarmChange)> {
        self.events
            .iter()
            .filter_map(|e| match &e.kind {
                DataEventKind::Alarm {
                    asset,
                    component,
                    change,
                    ..
                } => Some((
                    (e.time_ms - EPOCH_MS) as f64 / 1000.0,
                    asset.clone(),
                    component.clone(),
                    change.clone(),
                )),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn bearing_wear_raises_an_alarm_on_the_bearing_and_nothing_else() {
    let mut run = Run::new("bearing-wear");
    run.run(330);
    let alarms = run.alarms();
    let raised: Vec<_> = alarms
        .iter()
        .filter(|a| matches!(a.3, AlarmChange::Raised { .. }))
        .collect();
    assert!(!raised.is_empty(), "no alarm in 330 s");
    for alarm in &raised {
        assert_eq!(
            alarm.1, "pump-02",
            "a healthy asset raised an alarm: {alarm:?}"
        );
    }
    // Warning first, then alarm, on the bearing, before the limit is crossed (~5 min in).
    let first = raised[0];
    assert!(
        first.2.as_deref().is_some_and(|c| c.contains("bearing")),
        "{first:?}"
    );
    assert!(
        first.0 > 20.0 && first.0 < 200.0,
        "first raised at {} s",
        first.0
    );
    assert!(
        raised.iter().any(|a| a.3
            == AlarmChange::Raised {
                severity: Severity::Alarm
            }
            && a.0 < 300.0),
        "no red alarm before 300 s: {raised:?}"
    );
    let health = run.health("pump-02");
    assert_eq!(health.0.severity(), Severity::Alarm);
    // The reason names the bearing's signal, and a failure horizon is estimated.
    let config = plant_twin_core::predict::PredictConfig::default();
    let score = health.0.score(&config, None);
    let top = &run
        .app
        .world()
        .get::<plant_twin::plant::AssetSpec>(run.entity("pump-02"))
        .expect("spec")
        .0
        .signals[score.contributions[0].signal as usize];
    assert!(top.id.contains("bearing"), "{top:?}");
    // In the operator's words: the value with its unit, where it heads and how fast, and what
    // is usual for it; sigma stays in the inspector.
    let spec = &run
        .app
        .world()
        .get::<plant_twin::plant::AssetSpec>(run.entity("pump-02"))
        .expect("spec")
        .0;
    let words = plant_twin::data::predict::reason(spec, &health.0, &config, None);
    assert!(
        words.starts_with("bearing_")
            && words.contains(", rising ")
            && words.contains("/min, usually ")
            && !words.contains("sigma"),
        "{words}"
    );
    let horizons = health.0.horizons(&config);
    assert!(!horizons.is_empty(), "no failure horizon");
    assert!(horizons[0].1.probability > 0.5, "{horizons:?}");
    // Healthy machines, whose loads swing all the time, have no failure horizon.
    let layout = run.app.world().resource::<PlantDocument>().layout.clone();
    for asset in layout.assets.iter().filter(|a| a.id != "pump-02") {
        let horizons = run.health(&asset.id).0.horizons(&config);
        assert!(horizons.is_empty(), "{}: {horizons:?}", asset.id);
    }
}

/// The second pump-02 first passes a limit in the bearing-wear scenario, from the simulator
/// itself (the truth the learned horizon is judged against).
fn pump_failure_second() -> f64 {
    let layout = PlantDocument::demo().expect("demo").layout;
    let pump = layout
        .assets
        .iter()
        .position(|a| a.id == "pump-02")
        .expect("pump");
    let mut simulator = Simulator::new(
        &layout,
        SimConfig {
            scenario: scenario("bearing-wear").expect("scenario"),
            ..SimConfig::default()
        },
    );
    (0..1200)
        .find(|&t| {
            simulator.step(f64::from(t)).iter().any(|v| {
                v.asset == pump
                    && layout.assets[pump].signals[v.signal]
                        .limits
                        .is_some_and(|(low, high)| v.value < low || v.value > high)
            })
        })
        .map_or(f64::INFINITY, f64::from)
}

#[test]
fn the_learned_pump_model_estimates_pump_02s_remaining_life_and_nothing_else() {
    let failure_s = pump_failure_second();
    assert!(failure_s.is_finite() && failure_s > 150.0, "{failure_s}");
    let config = plant_twin_core::predict::PredictConfig::default();
    let mut run = Run::new("bearing-wear");
    let layout = run.app.world().resource::<PlantDocument>().layout.clone();
    let pumps = layout
        .assets
        .iter()
        .filter(|a| a.kind == plant_twin_core::layout::AssetKind::Pump)
        .count();
    let tracked = layout
        .assets
        .iter()
        .filter(|a| run.health(&a.id).0.degradation().is_some())
        .count();
    assert!(
        pumps >= 2 && tracked == pumps,
        "{tracked} of {pumps} pumps tracked"
    );
    let mut first_seen = None;
    let stop = (failure_s - 30.0).floor() as u32;
    for second in (10..=stop).step_by(10) {
        run.run(10);
        for asset in &layout.assets {
            let learned = run.health(&asset.id).0.learned_horizon(&config);
            if asset.id == "pump-02" {
                if learned.is_some() && first_seen.is_none() {
                    first_seen = Some(second);
                }
            } else {
                assert!(learned.is_none(), "{} at {second} s: {learned:?}", asset.id);
            }
        }
    }
    // Seen before the failure, with its source named, and the remaining life right to within
    // a minute, 30 s before the failure.
    let seen = first_seen.expect("no learned horizon on pump-02 before it failed");
    let learned = run
        .health("pump-02")
        .0
        .learned_horizon(&config)
        .expect("still estimated");
    let truth_s = failure_s - f64::from(stop);
    assert!(
        (learned.horizon.expected_s - truth_s).abs() <= 60.0,
        "expected in {} s, truth {truth_s} s (first seen at {seen} s)",
        learned.horizon.expected_s
    );
    assert!(learned.horizon.probability > 0.9, "{learned:?}");
    assert!(
        learned.provenance.contains("24 run-to-failure"),
        "{learned:?}"
    );
}

#[test]
fn a_frozen_sensor_is_an_alarm_and_acknowledge_and_shelve_work() {
    let mut run = Run::new("sensor-freeze");
    run.run(90);
    let raised: Vec<_> = run
        .alarms()
        .into_iter()
        .filter(|a| matches!(a.3, AlarmChange::Raised { .. }))
        .collect();
    assert!(
        raised
            .iter()
            .any(|a| a.1 == "cnc-104" && a.0 > 30.0 && a.0 < 80.0),
        "{raised:?}"
    );
    assert!(raised.iter().all(|a| a.1 == "cnc-104"), "{raised:?}");

    let cnc = run.entity("cnc-104");
    let (part, _) = {
        let health = run.health("cnc-104");
        let index = health
            .0
            .alarms
            .iter()
            .position(|a| a.severity != Severity::Normal)
            .expect("an active alarm");
        (health.0.parts[index], index)
    };
    run.app
        .world_mut()
        .write_message(AlarmIntent::Acknowledge { asset: cnc, part });
    run.run(1);
    let health = run.health("cnc-104");
    let alarm = &health.0.alarms[health
        .0
        .parts
        .iter()
        .position(|p| *p == part)
        .expect("part")];
    assert_eq!(alarm.annunciation(), Annunciation::Acknowledged);
    assert_eq!(
        alarm.acknowledged_by.as_ref().map(|a| a.0.as_str()),
        Some("tester")
    );

    run.app.world_mut().write_message(AlarmIntent::Shelve {
        asset: cnc,
        part,
        duration_s: 20.0,
    });
    run.run(2);
    let shelved = |run: &Run| {
        let health = run.health("cnc-104");
        health.0.alarms[health
            .0
            .parts
            .iter()
            .position(|p| *p == part)
            .expect("part")]
        .annunciation()
    };
    assert_eq!(shelved(&run), Annunciation::Shelved);
    // Shelving hides the alarm, not the truth: the asset does not read as normal.
    let health = &run.health("cnc-104").0;
    assert!(
        health.shelved_while_active(),
        "{:?}",
        health.alarms.iter().map(|a| a.severity).collect::<Vec<_>>()
    );
    run.run(25);
    assert_ne!(shelved(&run), Annunciation::Shelved, "shelf time ran out");
    let log = run.app.world().resource::<AlarmLog>();
    let changes: Vec<_> = log
        .records
        .iter()
        .filter(|r| r.asset == "cnc-104")
        .map(|r| &r.change)
        .collect();
    assert!(
        changes
            .iter()
            .any(|c| matches!(c, AlarmChange::Acknowledged { by } if by == "tester"))
    );
    assert!(
        changes
            .iter()
            .any(|c| matches!(c, AlarmChange::Shelved { .. }))
    );
    assert!(changes.iter().any(|c| matches!(c, AlarmChange::Unshelved)));
    let _ = Part::Asset;
}

#[test]
fn the_same_input_gives_the_same_scores() {
    let scores = || {
        let mut run = Run::new("cavitation");
        run.run(120);
        let config = plant_twin_core::predict::PredictConfig::default();
        let ids = ["pump-01", "pump-02", "pump-03", "cnc-101"];
        ids.map(|id| run.health(id).0.score(&config, None).value)
    };
    let first = scores();
    assert!(first[2] > 0.5, "cavitation not seen: {first:?}");
    assert_eq!(first, scores());
}

/// The assets the alarm-state colouring paints (anything but neutral grey or stale), with the
/// largest step of their body and components.
fn coloured_assets(run: &mut Run) -> Vec<(String, u8)> {
    use plant_twin::data::predict::Prediction;
    use plant_twin::data::telemetry::{Freshness, LiveSignals};
    use plant_twin::plant::AssetSpec;
    use plant_twin::score_colour::{ColourBy, FLAG_STALE, tint_for};
    let world = run.app.world_mut();
    let mut query = world.query::<(&AssetSpec, &AssetHealth, &LiveSignals, &Freshness)>();
    let prediction = world.resource::<Prediction>();
    let mut coloured = vec![];
    for (spec, health, live, freshness) in query.iter(world) {
        let parts = std::iter::once(None)
            .chain((0..spec.0.components.len()).map(|i| Some(Part::Component(i as u16))));
        let steps: Vec<u8> = parts
            .filter_map(|part| {
                tint_for(
                    &ColourBy::AlarmState,
                    prediction,
                    (spec, health, live, freshness),
                    part,
                    now_ms(),
                    None,
                )
            })
            .filter(|tint| tint.flags & FLAG_STALE == 0)
            .map(|tint| tint.step)
            .collect();
        let worst = steps.iter().copied().max().unwrap_or(0);
        if worst > 0 {
            coloured.push((spec.0.id.clone(), worst));
        }
    }
    coloured
}

#[test]
fn alarm_state_colouring_paints_only_the_asset_in_alarm() {
    let mut run = Run::new("bearing-wear");
    run.run(20);
    assert_eq!(
        coloured_assets(&mut run),
        vec![],
        "at 20 s nothing is abnormal"
    );
    run.run(70);
    assert_eq!(
        run.health("pump-02").0.severity(),
        Severity::Alarm,
        "the bearing is in alarm 90 s in"
    );
    // Red is the top of the state ramp: only pump-02, no other asset amber or red, although
    // healthy machines have anomaly scores of 0.2-0.4 that the continuous scale paints.
    assert_eq!(
        coloured_assets(&mut run),
        vec![("pump-02".to_string(), plant_twin::score_colour::STEPS)]
    );
}

#[test]
fn reloading_a_layout_with_the_same_assets_keeps_alarms_history_and_learning() {
    let mut run = Run::new("bearing-wear");
    run.run(100);
    let history = run.app.world().resource::<AlarmLog>().records.len();
    assert!(history > 0, "pump-02 raised nothing in 100 s");
    assert_ne!(run.health("pump-02").0.severity(), Severity::Normal);

    // The same plant with one press moved, as a save of the sandbox writes it.
    let dir = tempfile::tempdir().expect("temp dir");
    let moved = dir.path().join("moved.ron");
    let mut layout = run.app.world().resource::<PlantDocument>().layout.clone();
    let press = layout
        .assets
        .iter_mut()
        .find(|a| a.id == "press-202")
        .expect("press");
    press.position = (35.0, 31.0);
    plant_twin_core::layout::save_layout(
        &moved,
        Some(plant_twin_core::layout::DEMO_LAYOUT_TEXT),
        &layout,
    )
    .expect("saved");
    let old_pump = run.entity("pump-02");
    run.app
        .world_mut()
        .write_message(plant_twin::plant::LoadLayoutRequest { path: moved });
    run.run(2);
    let pump = run.entity("pump-02");
    assert_ne!(pump, old_pump, "the plant was respawned");
    assert_ne!(run.health("pump-02").0.severity(), Severity::Normal);
    let log = run.app.world().resource::<AlarmLog>();
    assert!(log.records.len() >= history, "the alarm history was lost");
    assert!(
        log.records
            .iter()
            .filter(|r| r.asset == "pump-02")
            .all(|r| r.entity == pump),
        "history rows point at the despawned entity"
    );

    // Another plant (a signal removed): everything starts again.
    let changed = dir.path().join("changed.ron");
    layout.assets[0].signals.pop();
    plant_twin_core::layout::save_layout(&changed, None, &layout).expect("saved");
    run.app
        .world_mut()
        .write_message(plant_twin::plant::LoadLayoutRequest { path: changed });
    run.run(1);
    assert!(run.app.world().resource::<AlarmLog>().records.is_empty());
    assert_eq!(run.health("pump-02").0.severity(), Severity::Normal);
}

/// Assets whose health changed in the last frame (`Changed<AssetHealth>`: what recolours an
/// asset and rescans its alarms).
#[derive(Resource, Default)]
struct HealthChanged(usize);

fn count_changed_health(
    changed: Query<(), Changed<AssetHealth>>,
    mut count: ResMut<HealthChanged>,
) {
    count.0 = changed.iter().count();
}

/// Time passing (a new whole second of source time) ticks every asset's alarms, but marks an
/// asset changed only when something of it changed: the asset that sent a sample, not the
/// other 44 the tick found as they were.
#[test]
fn a_second_passing_marks_only_assets_that_changed() {
    let mut run = Run::new("healthy");
    run.app.init_resource::<HealthChanged>().add_systems(
        Update,
        count_changed_health.after(plant_twin::frame::DataSystems::Predict),
    );
    run.run(5);
    let asset_count = run.app.world().resource::<AssetIndex>().by_position.len();
    assert!(
        run.app.world().resource::<HealthChanged>().0 > asset_count / 2,
        "a second of the whole plant's data changes most assets"
    );
    let position = crate::position_of(&run.app, "pump-01");
    let before = run.health("cnc-101").0.now_s;
    // One sample of one asset, two seconds of source time later.
    let time_ms = EPOCH_MS + ((run.t + 1.0) * 1000.0) as i64;
    run.feed
        .0
        .send(crate::pump_01_flow(position, 20.0, time_ms))
        .expect("sent");
    run.app.update();
    assert!(
        run.health("cnc-101").0.now_s > before,
        "the other assets were ticked"
    );
    assert_eq!(run.app.world().resource::<HealthChanged>().0, 1);
}

/// How many of `asset`'s meshes carry a score tint, and how many of those pulse (an
/// unacknowledged alarm). Parts stowed while the asset is drawn as its box (`detail`; the
/// default camera frames the whole demo plant) count: they must come back in the colour of now.
fn tinted_meshes(run: &mut Run, asset: &str) -> (usize, usize) {
    use bevy::ecs::query::Allow;
    use plant_twin::detail::Stowed;
    use plant_twin::score_colour::Tinted;
    let world = run.app.world_mut();
    let entity = world
        .resource::<AssetIndex>()
        .get(asset)
        .expect("asset spawned");
    let mut tinted = world.query_filtered::<&Tinted, Allow<Stowed>>();
    let mut children = world.query_filtered::<&Children, Allow<Stowed>>();
    let mut meshes = vec![];
    let mut stack = vec![entity];
    while let Some(parent) = stack.pop() {
        if let Ok(kids) = children.get(world, parent) {
            stack.extend(kids.iter());
        }
        if let Ok(tint) = tinted.get(world, parent) {
            meshes.push(tint.pulses());
        }
    }
    (meshes.len(), meshes.iter().filter(|p| **p).count())
}

/// The scene's meshes follow the alarms (an asset's meshes keep their tint while its scores
/// move within a colour step, and take a new one when it changes), and going back to paint and
/// to a colouring again tints every mesh again.
#[test]
fn the_scene_tints_follow_alarms_and_come_back_after_paint() {
    use plant_twin::score_colour::{ColourBy, ScoreColourPlugin};
    let mut run = Run::new("bearing-wear");
    run.app.add_plugins(ScoreColourPlugin);
    run.app.insert_resource(ColourBy::AlarmState);
    run.run(20);
    let stowed = {
        use plant_twin::detail::Stowed;
        let world = run.app.world_mut();
        let pump = world
            .resource::<AssetIndex>()
            .get("pump-02")
            .expect("spawned");
        world
            .query_filtered::<&ChildOf, With<Stowed>>()
            .iter(world)
            .filter(|c| c.parent() == pump)
            .count()
    };
    assert!(stowed > 0, "pump-02 is drawn as its box, its parts stowed");
    let (meshes, pulsing) = tinted_meshes(&mut run, "pump-02");
    assert!(
        meshes > 1,
        "pump-02's stowed parts are tinted, not only its box"
    );
    assert_eq!(pulsing, 0, "nothing is in alarm at 20 s");
    let others = tinted_meshes(&mut run, "cnc-101").0;
    assert!(others > 0);

    run.run(70);
    assert_eq!(run.health("pump-02").0.severity(), Severity::Alarm);
    assert!(
        tinted_meshes(&mut run, "pump-02").1 > 1,
        "the unacknowledged alarm pulses on pump-02's meshes, stowed or not"
    );
    assert_eq!(tinted_meshes(&mut run, "cnc-101"), (others, 0));

    run.app.insert_resource(ColourBy::Paint);
    run.run(2);
    assert_eq!(tinted_meshes(&mut run, "pump-02"), (0, 0), "paint is back");
    run.app.insert_resource(ColourBy::AlarmState);
    run.run(2);
    let (again, pulsing) = tinted_meshes(&mut run, "pump-02");
    assert_eq!(again, meshes, "every mesh is tinted again");
    assert!(pulsing > 0, "and the alarm still shows");
    assert_eq!(tinted_meshes(&mut run, "cnc-101"), (others, 0));
}
