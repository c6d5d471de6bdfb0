//! `--headless`: the same ECS without a window, for servers, tests and pipelines. Streams
//! connection and data-quality events as JSON lines and writes a JSON snapshot at exit.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use bevy::app::ScheduleRunnerPlugin;
use bevy::input::InputPlugin;
use bevy::prelude::*;

use crate::data::predict::{AssetHealth, Prediction, component_id};
use plant_twin_core::layout::Asset;
use plant_twin_core::predict::{AssetModel, PredictConfig};
use serde_json::{Map, Value, json};

use crate::TwinCorePlugin;
use crate::data::events::DataEvent;
use crate::data::telemetry::{Freshness, IngestStatus, LivePlugin, LiveSignals};
use crate::plant::{AssetSpec, PlantDocument};
use plant_twin_core::telemetry::now_ms;

/// Frames per second of the headless loop: enough to drain the ingest promptly.
const HEADLESS_HZ: f64 = 30.0;

#[derive(Debug, Clone, Default)]
pub struct HeadlessOptions {
    pub exit_after: Option<f64>,
    pub snapshot: Option<PathBuf>,
    /// `-` for standard output.
    pub events: Option<String>,
    /// Record the raw messages to this file.
    pub record: Option<PathBuf>,
    /// Replay this recording instead of the live source; the app exits at its end.
    pub replay: Option<PathBuf>,
    /// Replay speed; `None` as fast as possible.
    pub speed: Option<f64>,
    /// The audit trail of operator actions (None: none).
    pub audit: Option<PathBuf>,
}

/// The headless app: core plugins and live data on a 30 Hz loop, no window, no GPU.
pub fn headless_app(
    document: PlantDocument,
    live: LivePlugin,
    prediction: crate::data::predict::PredictionPlugin,
    options: HeadlessOptions,
) -> App {
    let audit_startup = crate::data::audit::startup_actions(&live.source);
    let mut app = App::new();
    // As fast as possible means no pause between frames.
    let frame_wait = if options.replay.is_some() && options.speed.is_none() {
        Duration::ZERO
    } else {
        Duration::from_secs_f64(1.0 / HEADLESS_HZ)
    };
    app.add_plugins((
        MinimalPlugins.set(ScheduleRunnerPlugin::run_loop(frame_wait)),
        // Warnings and errors (a source that cannot start, a snapshot that cannot be written)
        // go to standard error; `--events -` keeps standard output to itself.
        crate::app::log_plugin(),
        AssetPlugin::default(),
        TransformPlugin,
        InputPlugin,
    ))
    .init_asset::<Mesh>()
    .init_asset::<StandardMaterial>();
    crate::scene::init_material_assets(&mut app).add_plugins((
        TwinCorePlugin { document },
        live,
        prediction,
        crate::data::record::RecordPlugin {
            start: options.record.clone(),
        },
    ));
    if options.replay.is_some() {
        app.add_plugins(crate::data::replay::ReplayPlugin {
            open: options.replay.clone(),
            speed: options.speed,
            index_on_open: false,
            frame_budget: Duration::from_millis(200),
        });
    }
    app.add_plugins(crate::data::audit::AuditPlugin {
        path: options.audit.clone(),
        startup: audit_startup,
    });
    app.add_plugins(HeadlessOutputPlugin { options });
    crate::app::run_main_schedules_on_one_thread(&mut app);
    app
}

pub struct HeadlessOutputPlugin {
    pub options: HeadlessOptions,
}

impl Plugin for HeadlessOutputPlugin {
    fn build(&self, app: &mut App) {
        let sink: Option<Box<dyn Write + Send + Sync>> = match self.options.events.as_deref() {
            None => None,
            Some("-") => Some(Box::new(std::io::stdout())),
            Some(path) => match std::fs::File::create(path) {
                Ok(file) => Some(Box::new(std::io::BufWriter::new(file))),
                Err(error) => {
                    error!("cannot write events to {path}: {error}");
                    None
                }
            },
        };
        app.insert_resource(HeadlessOutput {
            options: self.options.clone(),
            sink,
            started_ms: now_ms(),
        })
        .add_systems(Last, (write_events, exit_when_due).chain());
    }
}

#[derive(Resource)]
struct HeadlessOutput {
    options: HeadlessOptions,
    sink: Option<Box<dyn Write + Send + Sync>>,
    started_ms: i64,
}

fn write_events(mut output: ResMut<HeadlessOutput>, mut events: MessageReader<DataEvent>) {
    let Some(sink) = output.sink.as_mut() else {
        events.clear();
        return;
    };
    let mut wrote = false;
    for event in events.read() {
        match serde_json::to_string(event) {
            Ok(line) => {
                let _ = writeln!(sink, "{line}");
                wrote = true;
            }
            Err(error) => error!("event not written: {error}"),
        }
    }
    if wrote {
        let _ = sink.flush();
    }
}

fn exit_when_due(world: &mut World) {
    let Some(output) = world.get_resource::<HeadlessOutput>() else {
        return;
    };
    let timed_out = output
        .options
        .exit_after
        .is_some_and(|seconds| (now_ms() - output.started_ms) as f64 >= seconds * 1000.0);
    // A replay without --exit-after ends with its recording (or when it cannot be opened).
    let replay_done = output.options.replay.is_some()
        && output.options.exit_after.is_none()
        && world
            .get_resource::<crate::data::replay::ReplayState>()
            .is_some_and(|replay| {
                replay.error.is_some() || replay.session.as_ref().is_some_and(|s| s.at_end())
            });
    let due = timed_out || replay_done;
    let exiting = due
        || world
            .resource::<Messages<AppExit>>()
            .iter_current_update_messages()
            .next()
            .is_some();
    if !exiting {
        return;
    }
    // A replay that could not be opened (missing, empty, not MCAP) is a failed run, whatever
    // else was written: a review pipeline must not read it as a success.
    let replay_failed = output.options.replay.is_some()
        && world
            .get_resource::<crate::data::replay::ReplayState>()
            .is_some_and(|replay| replay.error.is_some() && replay.session.is_none());
    let mut failed = replay_failed;
    // A broker that was never reached is a failed run too (the snapshot would hold nothing).
    if let Some(status) = world.get_resource::<crate::data::telemetry::IngestStatus>()
        && status.source.starts_with("mqtt")
        && !status.ever_connected
    {
        error!(
            "never connected to {}{}",
            status.source,
            status
                .last_error
                .as_ref()
                .map_or(String::new(), |(_, reason)| format!(": {reason}"))
        );
        failed = true;
    }
    if let Some(path) = output.options.snapshot.clone() {
        let snapshot = snapshot(world);
        let text = serde_json::to_vec_pretty(&snapshot).unwrap_or_default();
        match plant_twin_core::files::write_atomic(&path, &text) {
            Ok(()) => info!("snapshot written to {}", path.display()),
            Err(error) => {
                error!("cannot write the snapshot {}: {error}", path.display());
                failed = true;
            }
        }
    }
    if let Some(mut output) = world.get_resource_mut::<HeadlessOutput>()
        && let Some(sink) = output.sink.as_mut()
    {
        let _ = sink.flush();
    }
    if due {
        // A run whose snapshot was lost must not look like a success to a pipeline.
        world.write_message(if failed {
            AppExit::from_code(2)
        } else {
            AppExit::Success
        });
    }
}

/// The world's telemetry state as JSON: per asset and signal the latest value, unit, times,
/// quality and stale flag; the connection; per-topic counters.
pub fn snapshot(world: &mut World) -> Value {
    let now = world
        .get_resource::<crate::data::telemetry::DataClock>()
        .map_or_else(now_ms, |clock| clock.now_ms());
    let document = world.resource::<PlantDocument>();
    let (plant, source) = (document.layout.name.clone(), document.source.to_string());
    let mut assets = Map::new();
    let config = world
        .get_resource::<Prediction>()
        .map(|p| p.config)
        .unwrap_or_default();
    let mut query = world.query::<(&AssetSpec, &LiveSignals, &Freshness, Option<&AssetHealth>)>();
    let mut rows: Vec<_> = query.iter(world).collect();
    rows.sort_by(|a, b| a.0.0.id.cmp(&b.0.0.id));
    for (spec, live, freshness, health) in rows {
        let stale_after_ms = spec
            .0
            .telemetry
            .as_ref()
            .map(|t| (t.stale_after_s as f64 * 1000.0) as i64);
        let mut signals = Map::new();
        for (signal, state) in spec.0.signals.iter().zip(&live.0) {
            let signal_stale = freshness.dead.is_some()
                || state.value.is_none()
                || stale_after_ms.is_some_and(|timeout| now - state.received_ms > timeout);
            signals.insert(
                signal.id.clone(),
                json!({
                    "value": state.value,
                    "unit": signal.unit,
                    "time_ms": state.value.map(|_| state.time_ms),
                    "received_ms": state.value.map(|_| state.received_ms),
                    "quality": state.quality,
                    "stale": signal_stale,
                }),
            );
        }
        let mut entry = json!({
            "kind": spec.0.kind.label(),
            "stale": freshness.stale,
            "dead": freshness.dead,
            "last_data_ms": freshness.last_received_ms,
            "signals": signals,
        });
        if let Some(health) = health {
            entry["health"] = health_json(&spec.0, &health.0, &config);
        }
        assets.insert(spec.0.id.clone(), entry);
    }
    let status = world.resource::<IngestStatus>();
    let topics: Map<String, Value> = {
        let mut topics: Vec<_> = status.topics.iter().collect();
        topics.sort_by(|a, b| a.0.cmp(b.0));
        topics
            .into_iter()
            .map(|(name, counters)| {
                (
                    name.to_string(),
                    serde_json::to_value(counters).unwrap_or(Value::Null),
                )
            })
            .collect()
    };
    let layout = &world.resource::<PlantDocument>().layout;
    let energy = world
        .get_resource::<crate::data::energy::PlantEnergy>()
        .and_then(|energy| {
            let account = energy.account.as_ref()?;
            Some(energy_json(layout, account, energy.tariff.as_ref()))
        });
    json!({
        "plant": plant,
        "layout": source,
        "energy": energy,
        "written_ms": now,
        "connection": {
            "source": status.source,
            "state": status.state,
            "since_ms": status.since_ms,
            "reconnect_attempt": status.reconnect_attempt,
            "last_error": status.last_error.as_ref().map(|(time, text)| json!({"time_ms": time, "error": text})),
            "subscriptions": status.subscriptions,
            "messages": status.messages,
            "samples": status.samples,
            "problems": status.problems,
        },
        "assets": assets,
        "topics": topics,
    })
}

/// The energy account: the plant's totals, per asset, demand, and cost and CO2 with a tariff.
fn energy_json(
    layout: &plant_twin_core::layout::PlantLayout,
    account: &plant_twin_core::energy::EnergyAccount,
    tariff: Option<&plant_twin_core::energy::tariff::LoadedTariff>,
) -> Value {
    let plant = account.plant();
    json!({
        "plant": plant,
        "assets": layout
            .assets
            .iter()
            .zip(&account.assets)
            .filter(|(_, e)| e.measured_kwh > 0.0 || e.estimated_kwh > 0.0)
            .map(|(asset, e)| (asset.id.clone(), json!(e)))
            .collect::<Map<String, Value>>(),
        "power_kw": account.plant_power_kw(),
        "demand": {
            "forecast_kw": account.demand.forecast_kw,
            "interval_kwh": account.demand.interval_kwh,
            "peak_kw": account.demand.peak_kw,
            "limit_kw": tariff.and_then(|t| t.tariff.demand_limit_kw),
        },
        "hourly_kwh": account.hourly.iter().map(|(h, k)| json!([h, k])).collect::<Vec<_>>(),
        "energy_cost": tariff.map(|t| t.energy_cost(&account.hourly, Some(&account.market))),
        "co2_kg": tariff.map(|t| t.co2_kg(&account.hourly, Some(&account.market))),
        "currency": tariff.map(|t| t.tariff.currency.clone()),
    })
}

/// An asset's prediction state: score with contributions, alarms per part, failure horizons.
pub fn health_json(asset: &Asset, model: &AssetModel, config: &PredictConfig) -> Value {
    let signal_id = |i: u16| asset.signals.get(i as usize).map(|s| s.id.clone());
    let score = model.score(config, None);
    let contributions: Vec<Value> = score
        .contributions
        .iter()
        .map(|c| json!({"signal": signal_id(c.signal), "sigma": round3(c.sigma), "finding": c.finding}))
        .collect();
    let alarms: Vec<Value> = model
        .parts
        .iter()
        .zip(&model.alarms)
        .map(|(part, alarm)| {
            json!({
                "component": component_id(asset, *part),
                "score": round3(model.score(config, Some(*part)).value),
                "severity": alarm.severity,
                "state": alarm.annunciation(),
                "raised_ms": alarm.raised_at_s.map(|t| (t * 1000.0) as i64),
                "acknowledged_by": alarm.acknowledged_by.as_ref().map(|(who, when)| json!({"who": who, "time_ms": (when * 1000.0) as i64})),
                "shelved_until_ms": alarm.shelved_until_s.map(|t| (t * 1000.0) as i64),
            })
        })
        .collect();
    let horizons: Vec<Value> = model
        .horizons(config)
        .into_iter()
        .map(|(signal, h)| {
            json!({
                "signal": signal_id(signal),
                "limit": h.limit,
                "expected_s": finite(h.expected_s),
                "early_s": finite(h.early_s),
                "late_s": finite(h.late_s),
                "probability": round3(h.probability),
                "within_s": h.within_s,
            })
        })
        .collect();
    let learned = model.learned_horizon(config).map(|learned| {
        let h = learned.horizon;
        json!({
            "health": round3(learned.health),
            "model": learned.provenance,
            "expected_s": finite(h.expected_s),
            "early_s": finite(h.early_s),
            "late_s": finite(h.late_s),
            "probability": round3(h.probability),
            "within_s": h.within_s,
        })
    });
    json!({
        "score": round3(score.value),
        "severity": model.severity(),
        "learned_horizon": learned,
        "learning_left_s": model.learning_left_s(config),
        "contributions": contributions,
        "alarms": alarms,
        "horizons": horizons,
    })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// JSON has no infinity: "never" is null.
fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}
