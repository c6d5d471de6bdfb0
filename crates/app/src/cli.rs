//! The command line: open the GUI, or check a layout without a window.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::data::telemetry::{DEFAULT_HISTORY, SourceConfig};
use plant_twin_core::layout::AssetKind;
use plant_twin_core::sim::scenario::{DEFAULT_SCENARIO, scenario};
use plant_twin_core::sim::{SimConfig, SimFormat};
use plant_twin_core::telemetry::mqtt::{BrokerUrl, MqttConfig, PASSWORD_ENV};

/// Interactive 3D digital twin of a factory floor.
///
/// Without a subcommand, opens the plant in a window (the built-in demo plant unless --layout
/// is given).
#[derive(Debug, Parser)]
#[command(name = "plant-twin", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Plant layout file (RON) to open instead of the built-in demo plant.
    #[arg(long, value_name = "FILE")]
    pub layout: Option<PathBuf>,

    /// Select this asset (by id) and frame it at start-up.
    #[arg(long, value_name = "ASSET_ID")]
    pub select: Option<String>,

    /// Window size in logical pixels, e.g. 1920x1080.
    #[arg(long, value_name = "WIDTHxHEIGHT", value_parser = parse_size)]
    pub window_size: Option<(u32, u32)>,

    /// Save a PNG screenshot of the window after --screenshot-after frames, then quit.
    #[arg(long, value_name = "PNG")]
    pub screenshot: Option<PathBuf>,

    /// Frames to render before taking the --screenshot.
    #[arg(
        long,
        value_name = "FRAMES",
        default_value_t = 90,
        requires = "screenshot"
    )]
    pub screenshot_after: u32,

    #[command(flatten)]
    pub source: SourceArgs,

    /// Never allow editing the layout (control rooms, shared screens).
    #[arg(long)]
    pub read_only: bool,

    /// Start in the layout sandbox's edit mode (Ctrl+E toggles it).
    #[arg(long, conflicts_with_all = ["read_only", "wall"])]
    pub edit: bool,

    /// Control-room wall display: borderless fullscreen, read-only, large type, alarm banner,
    /// KPI tiles and a camera tour; no mouse or keyboard needed.
    #[arg(long, conflicts_with = "headless")]
    pub wall: bool,

    /// Wall display settings (RON; see docs/wall-display.md).
    #[arg(long, value_name = "FILE", requires = "wall")]
    pub wall_config: Option<PathBuf>,

    /// Wall display: the monitor to fill, by index (0 = the first).
    #[arg(long, value_name = "N", requires = "wall")]
    pub monitor: Option<usize>,

    /// How the scene is drawn: auto (from the graphics adapter: low on a software renderer,
    /// medium on an integrated or virtual GPU, high on a discrete one), low (no shadows, no
    /// multisampling), medium (simple shadows) or high (four shadow cascades, 4x MSAA).
    #[arg(long, value_name = "TIER", default_value = "auto", value_parser = crate::quality::parse_quality, conflicts_with = "headless")]
    pub quality: crate::quality::Quality,

    /// The share of the 3D view's width and height that is drawn, then stretched: 0.25 to 1
    /// (default: the tier's, half in the low tier and all otherwise). Software renderers'
    /// time grows with the pixels.
    #[arg(long, value_name = "SCALE", value_parser = crate::quality::parse_render_scale, conflicts_with = "headless")]
    pub render_scale: Option<f32>,

    /// When the window draws: on-change (default: on input, while something moves or
    /// pulses, and once a second otherwise) or continuous (as fast as possible).
    #[arg(long, value_name = "WHEN", default_value = "on-change", value_parser = ["on-change", "continuous"], conflicts_with = "headless")]
    pub redraw: String,

    /// Log what frames cost every 10 s: frames drawn, the time of the twin's own systems (the
    /// main world, without drawing: wall time by phase, and its threads' CPU time) and draw
    /// calls. For sizing a PC for a large plant.
    #[arg(long, conflicts_with = "headless")]
    pub frame_stats: bool,

    /// Time each render pass on the renderer (timestamp queries) and add the passes to what
    /// --frame-stats and --screenshot log: where the drawing of a frame goes. The queries
    /// themselves cost a little.
    #[arg(long, conflicts_with = "headless")]
    pub pass_times: bool,

    /// Where File > Save (Ctrl+S) writes the edited layout, instead of the loaded file; for
    /// machines without a file-dialog portal.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["read_only", "wall"])]
    pub save_as: Option<PathBuf>,

    /// Run without a window: the same ECS, fed by the same source, writing --snapshot and
    /// --events.
    #[arg(long)]
    pub headless: bool,

    /// Headless: stop after this many seconds.
    #[arg(long, value_name = "SECONDS", requires = "headless")]
    pub exit_after: Option<f64>,

    /// Headless: at exit, write a JSON snapshot (latest value, unit, time and stale flag per
    /// signal; connection state; per-topic counters).
    #[arg(long, value_name = "FILE", requires = "headless")]
    pub snapshot: Option<PathBuf>,

    /// Headless: stream connection and data-quality events as JSON lines to FILE ('-' for
    /// standard output).
    #[arg(long, value_name = "FILE", requires = "headless")]
    pub events: Option<String>,

    /// Record every raw message (topic, receive time, payload) to FILE (MCAP; opens in
    /// Foxglove). Also headless.
    #[arg(long, value_name = "FILE", conflicts_with = "replay")]
    pub record: Option<PathBuf>,

    /// Replay a recording (MCAP) instead of live data: the same decoding, prediction and alarms
    /// on the recording's clock, with a timeline (headless: to the end, then exit).
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,

    /// Replay speed, 0.1 to 100 (default: 1 in the window, as fast as possible headless).
    #[arg(long, value_name = "X", requires = "replay", value_parser = parse_speed)]
    pub speed: Option<f64>,

    /// Points of history kept per signal for trends.
    #[arg(long, value_name = "POINTS", default_value_t = DEFAULT_HISTORY)]
    pub history: usize,

    /// Audit trail of operator actions (acknowledge, shelve, learn again, save, enabling
    /// commands), hash-chained JSON lines; `plant-twin audit verify FILE` checks it. Default:
    /// $XDG_STATE_HOME/plant-twin/audit.jsonl (~/.local/state/...); 'none' for no trail.
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,

    /// Tariff that prices the energy view (RON: time-of-use periods, demand charge and limit,
    /// CO2 per kWh; docs/examples/tariff.ron).
    #[arg(long, value_name = "FILE")]
    pub tariff: Option<PathBuf>,

    #[command(flatten)]
    pub prediction: PredictionArgs,
}

/// Anomaly scores, alarms and failure horizons.
#[derive(Debug, Clone, Args)]
pub struct PredictionArgs {
    /// Baseline learned from a known-good period (default: <layout>.baseline.ron beside the
    /// layout, if present; without one each signal learns for --warm-up first).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// How long each signal is watched before it is scored, without a baseline (e.g. 10m).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub warm_up: f64,

    /// Failure probabilities are for a limit crossed within this time (e.g. 14d, 8h).
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_duration)]
    pub horizon: f64,

    /// What the scene's colours show: alarms (default: grey when normal, amber for a warning,
    /// red for an alarm), anomaly (the continuous score), freshness, paint (the kinds' own
    /// colours), energy:power, energy:kwh or energy:idle (against the plant's largest; idle:
    /// the share drawn while not producing) or signal:ID (e.g. signal:bearing_temp).
    #[arg(long, value_name = "WHAT", default_value = "alarms", value_parser = parse_colour_by)]
    pub colour_by: crate::score_colour::ColourBy,

    /// Name recorded when alarms are acknowledged or shelved (default: the login name).
    #[arg(long, value_name = "NAME")]
    pub operator: Option<String>,
}

impl PredictionArgs {
    pub fn plugin(&self) -> crate::data::predict::PredictionPlugin {
        let mut config = plant_twin_core::predict::PredictConfig::default();
        config.detector.warm_up_s = self.warm_up;
        config.horizon_s = self.horizon;
        crate::data::predict::PredictionPlugin {
            config,
            baseline: self.baseline.clone(),
            operator: self
                .operator
                .clone()
                .unwrap_or_else(crate::data::predict::default_operator),
        }
    }
}

pub fn parse_colour_by(text: &str) -> Result<crate::score_colour::ColourBy, String> {
    use crate::score_colour::ColourBy;
    match text {
        "alarms" => Ok(ColourBy::AlarmState),
        "anomaly" => Ok(ColourBy::Anomaly),
        "freshness" => Ok(ColourBy::Freshness),
        "paint" => Ok(ColourBy::Paint),
        "energy:power" => Ok(ColourBy::Energy(crate::score_colour::EnergyView::Power)),
        "energy:kwh" => Ok(ColourBy::Energy(crate::score_colour::EnergyView::Energy)),
        "energy:idle" => Ok(ColourBy::Energy(crate::score_colour::EnergyView::IdleShare)),
        _ => match text.strip_prefix("signal:") {
            Some(id) if !id.is_empty() => Ok(ColourBy::Signal(id.to_string())),
            _ => Err(format!(
                "{text:?}: expected alarms, anomaly, freshness, paint, energy:power, energy:kwh, energy:idle or signal:ID"
            )),
        },
    }
}

/// An asset kind by its layout name (`Pump`, `CncMachine`) or file stem (`cnc_machine`).
fn asset_kind(text: &str) -> Result<AssetKind, String> {
    AssetKind::ALL
        .into_iter()
        .find(|kind| format!("{kind:?}").eq_ignore_ascii_case(text) || kind.file_stem() == text)
        .ok_or_else(|| {
            let names: Vec<String> = AssetKind::ALL.iter().map(|k| format!("{k:?}")).collect();
            format!("unknown asset kind {text:?}; one of {}", names.join(", "))
        })
}

/// A replay speed between 0.1x and 100x ("2", "2x").
pub fn parse_speed(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches(['x', 'X']);
    match number.parse::<f64>() {
        Ok(speed) if (0.1..=100.0).contains(&speed) => Ok(speed),
        _ => Err(format!("{text:?}: expected a speed from 0.1 to 100")),
    }
}

/// Seconds of `90`, `90s`, `10m`, `8h` or `14d`.
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (e.g. 90s, 10m, 8h, 14d)"))?;
    let scale = match unit {
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in {text:?} (use s, m, h or d)"
            ));
        }
    };
    if !(value.is_finite() && value > 0.0) {
        return Err(format!("{text:?}: a duration must be positive"));
    }
    Ok(value * scale)
}

/// Where live data comes from: the built-in simulator (default) or an MQTT broker.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    #[command(flatten)]
    pub mqtt: MqttArgs,

    #[command(flatten)]
    pub subscriber: SubscriberArgs,

    /// Topic bindings file (RON); default: <layout>.bindings.ron beside the layout, if present.
    #[arg(long, value_name = "FILE")]
    pub bindings: Option<PathBuf>,

    /// Built-in simulator: the fault scenario to run (see `plant-twin sim --list-scenarios`).
    #[arg(long, value_name = "NAME", default_value = DEFAULT_SCENARIO)]
    pub scenario: String,

    /// Built-in simulator: random seed (the same seed gives the same data).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,

    /// Built-in simulator: samples per signal per second.
    #[arg(long, value_name = "HZ", default_value_t = 1.0)]
    pub rate: f64,
}

/// Connection to an MQTT broker. The password comes from the PLANT_TWIN_MQTT_PASSWORD
/// environment variable or --mqtt-password-file, never from the command line.
#[derive(Debug, Clone, Args)]
pub struct MqttArgs {
    /// Broker URL, mqtt://host[:port] or mqtts://host[:port] (TLS). Without it, the built-in
    /// simulator feeds the plant.
    #[arg(long, value_name = "URL")]
    pub mqtt: Option<BrokerUrl>,

    /// User name for the broker.
    #[arg(long, value_name = "NAME")]
    pub mqtt_user: Option<String>,

    /// File holding the broker password (first line).
    #[arg(long, value_name = "FILE")]
    pub mqtt_password_file: Option<PathBuf>,

    /// CA certificate(s) to trust for TLS (PEM).
    #[arg(long, value_name = "FILE")]
    pub mqtt_ca: Option<PathBuf>,

    /// Client certificate for mutual TLS (PEM); needs --mqtt-key.
    #[arg(long, value_name = "FILE", requires = "mqtt_key")]
    pub mqtt_cert: Option<PathBuf>,

    /// Client private key for mutual TLS (PEM); needs --mqtt-cert.
    #[arg(long, value_name = "FILE", requires = "mqtt_cert")]
    pub mqtt_key: Option<PathBuf>,

    /// MQTT client id; default: unique per process (plant-twin-<host>-<pid>-<n>).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
}

/// What the twin subscribes to and may send as a subscriber (not offered by `plant-twin sim`,
/// which only publishes).
#[derive(Debug, Clone, Args)]
pub struct SubscriberArgs {
    /// Sparkplug B group to subscribe to ('+' for all, 'none' to ignore Sparkplug).
    #[arg(long, value_name = "GROUP", default_value = "+")]
    pub sparkplug_group: String,

    /// Allow the twin to publish commands (Sparkplug rebirth requests). Off by default: the
    /// twin only listens. Refused over an unencrypted connection to another machine unless
    /// --allow-plaintext-commands is given too.
    #[arg(long)]
    pub enable_commands: bool,

    /// Allow --enable-commands without TLS to a broker on another machine (anyone on the
    /// network could then read and forge the commands).
    #[arg(long, requires = "enable_commands")]
    pub allow_plaintext_commands: bool,
}

impl MqttArgs {
    /// The MQTT configuration, if a broker was given; reads the password from the
    /// environment or the password file.
    pub fn config(&self) -> Result<Option<MqttConfig>, String> {
        let Some(url) = self.mqtt.clone() else {
            return Ok(None);
        };
        let mut config = MqttConfig::new(url);
        if let Some(id) = &self.client_id {
            config.client_id = id.clone();
        }
        config.username = self.mqtt_user.clone();
        config.password = match &self.mqtt_password_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read the password file {}: {e}", path.display()))?
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            ),
            None => std::env::var(PASSWORD_ENV).ok(),
        };
        if config.password.is_some() && config.username.is_none() {
            return Err(format!(
                "a password was given ({PASSWORD_ENV} or --mqtt-password-file) but no --mqtt-user"
            ));
        }
        config.ca_file = self.mqtt_ca.clone();
        config.client_cert = self.mqtt_cert.clone().zip(self.mqtt_key.clone());
        Ok(Some(config))
    }
}

impl SourceArgs {
    pub fn source_config(&self) -> Result<SourceConfig, String> {
        if let Some(mut config) = self.mqtt.config()? {
            let group = &self.subscriber.sparkplug_group;
            config.sparkplug_group = (group != "none").then(|| group.clone());
            if self.subscriber.enable_commands
                && config.url.plaintext_over_network()
                && !self.subscriber.allow_plaintext_commands
            {
                return Err(format!(
                    "--enable-commands over an unencrypted connection to {} is refused: use mqtts:// or add --allow-plaintext-commands",
                    config.url
                ));
            }
            config.commands_enabled = self.subscriber.enable_commands;
            return Ok(SourceConfig::Mqtt(config));
        }
        Ok(SourceConfig::Simulator {
            sim: sim_config(&self.scenario, self.seed, SimFormat::Json)?,
            rate_hz: positive_rate(self.rate)?,
        })
    }
}

fn positive_rate(rate: f64) -> Result<f64, String> {
    if rate.is_finite() && rate > 0.0 && rate <= 1000.0 {
        Ok(rate)
    } else {
        Err(format!(
            "--rate {rate}: expected a rate between 0 and 1000 Hz"
        ))
    }
}

/// `--format`: the simulator's payload format on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SimFormatArg {
    /// One JSON value per topic (Unified Namespace).
    Json,
    /// Sparkplug B: one edge node per line, one device per asset.
    Sparkplug,
}

impl From<SimFormatArg> for SimFormat {
    fn from(format: SimFormatArg) -> SimFormat {
        match format {
            SimFormatArg::Json => SimFormat::Json,
            SimFormatArg::Sparkplug => SimFormat::Sparkplug,
        }
    }
}

pub fn sim_config(scenario_name: &str, seed: u64, format: SimFormat) -> Result<SimConfig, String> {
    let scenario = scenario(scenario_name).ok_or_else(|| {
        format!("no scenario \"{scenario_name}\" (see `plant-twin sim --list-scenarios`)")
    })?;
    Ok(SimConfig {
        seed,
        format,
        scenario,
        ..SimConfig::default()
    })
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check layout files without opening a window. Prints a summary of each valid file and
    /// exits 0, or prints every problem found as FILE:LINE:COLUMN: message and exits 1.
    Validate {
        /// Layout files (RON) to check.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Check every clearance rule of a layout without a window: asset to asset, asset to
    /// keep-out zone, walkway free width, floor boundary. Prints each violation (distances
    /// rounded to the millimetre) and exits 1 if there is any, 0 if none.
    Clearance {
        /// Layout file (RON).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Compare an edited layout with its baseline: assets moved or turned, clearance
    /// violations added and removed. Markdown by default.
    Diff {
        #[arg(value_name = "BASELINE")]
        baseline: PathBuf,
        #[arg(value_name = "EDITED")]
        edited: PathBuf,
        /// CSV instead of Markdown.
        #[arg(long)]
        csv: bool,
    },
    /// Edit layout files from scripts. Every write changes only what was edited and keeps the
    /// file's comments and formatting.
    Layout {
        #[command(subcommand)]
        action: LayoutCommand,
    },
    /// Publish simulated telemetry for every asset and signal of a layout to an MQTT broker,
    /// with an optional scripted fault.
    Sim(Box<SimArgs>),
    /// Learn what normal looks like from the built-in simulator's healthy run (in simulated
    /// time, no waiting) and write it as the layout's baseline file. On a real plant, learn from
    /// live data and use "Save baseline" in the app instead.
    Baseline {
        /// Layout (default: the built-in demo plant).
        #[arg(long, value_name = "FILE")]
        layout: Option<PathBuf>,
        /// Simulated seconds to learn from.
        #[arg(long, value_name = "S", default_value_t = 1200.0)]
        seconds: f64,
        #[arg(long, value_name = "N", default_value_t = 1)]
        seed: u64,
        /// Samples per signal per second.
        #[arg(long, value_name = "HZ", default_value_t = 1.0)]
        rate: f64,
        /// Output file (default: <layout>.baseline.ron next to the layout).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Learn a degradation model for one asset kind from run-to-failure histories (CSV: a
    /// header `time_s,<signal id>,...`, a row per sample, the last row at the failure) and write
    /// it as a model file a layout names in `degradation_models`. The assets of that kind then
    /// get "P(failure within H)" from the histories instead of a trend to a limit.
    LearnDegradation {
        /// The asset kind the histories are of (e.g. Pump, CncMachine).
        #[arg(long, value_name = "KIND", value_parser = asset_kind)]
        kind: AssetKind,
        /// Run-to-failure histories (CSV), one per file, all with the same columns.
        #[arg(value_name = "FILES", required = true)]
        files: Vec<PathBuf>,
        /// Columns that set the operating regime (load, speed, product), comma-separated:
        /// the other signals are standardised within each regime.
        #[arg(long, value_name = "IDS", value_delimiter = ',')]
        settings: Vec<String>,
        /// Seconds per step of the model (default: the histories' median sample interval).
        #[arg(long, value_name = "S")]
        step: Option<f64>,
        /// Remaining life beyond which an asset counts as healthy, seconds (default: half the
        /// median history length). Wear is read only within it.
        #[arg(long, value_name = "S")]
        healthy_beyond: Option<f64>,
        /// Output model file, e.g. plant-layouts/pump.degradation.ron.
        #[arg(short, long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Inspect, repair or make recordings (MCAP files of raw messages).
    Recording {
        #[command(subcommand)]
        action: RecordingCommand,
    },
    /// Energy figures without a window: where the power goes, what it costs.
    Energy {
        #[command(subcommand)]
        action: EnergyCommand,
    },
    /// The audit trail of operator actions.
    Audit {
        #[command(subcommand)]
        action: AuditCommand,
    },
    /// Run the prediction code on a public benchmark data set and print its published metric
    /// next to the published results. DIR is laid out like the public distribution.
    Eval {
        #[command(subcommand)]
        benchmark: Benchmark,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum LayoutCommand {
    /// Place one asset at a new position (and rotation) and write the layout to OUT (which may
    /// be FILE itself): a scripted what-if. Prints what moved and the clearance violations the
    /// move adds or removes; exits 1 if the asset is unknown or the result is invalid.
    Move {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Asset id.
        #[arg(value_name = "ID")]
        id: String,
        /// New centre in plan coordinates, metres: `X,Y`.
        #[arg(long, value_name = "X,Y", value_parser = parse_point, allow_hyphen_values = true)]
        to: (f32, f32),
        /// New rotation, degrees counter-clockwise seen from above (default: unchanged).
        #[arg(long, value_name = "DEG", allow_hyphen_values = true)]
        rotate: Option<f32>,
        #[arg(short = 'o', long = "out", value_name = "OUT")]
        output: PathBuf,
    },
    /// Rearrange the movable assets so that the transport effort of the layout's material
    /// flows falls, keeping every clearance rule; write the result to OUT. Prints the effort
    /// before and after and every move; exits 1 if no feasible improvement was found (nothing
    /// is written then).
    Optimise {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[arg(short = 'o', long = "out", value_name = "OUT")]
        output: PathBuf,
        /// Time the search gets, seconds (one core).
        #[arg(long, value_name = "S", default_value_t = 60.0)]
        seconds: f64,
        /// Stop after this many swaps instead: the result then depends only on FILE and seed.
        #[arg(long, value_name = "N")]
        iterations: Option<u64>,
        #[arg(long, value_name = "N", default_value_t = 1)]
        seed: u64,
        /// Only these assets may move (comma-separated ids; default: every asset that is not
        /// pinned and has a flow).
        #[arg(long = "move", value_name = "ID,...", value_delimiter = ',')]
        movable: Option<Vec<String>>,
        #[command(flatten)]
        distance: DistanceArg,
    },
    /// The layout's material flows, each with its distance and effort (amount x distance),
    /// heaviest first, and the totals per unit.
    Flows {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        distance: DistanceArg,
    },
    /// Write a generated plant (machines in bays, production lines, flows): material for the
    /// optimiser and its benchmark.
    Generate {
        #[arg(value_name = "OUT")]
        output: PathBuf,
        #[arg(long, value_name = "N", default_value_t = 200)]
        assets: usize,
        #[arg(long, value_name = "N", default_value_t = 300)]
        flows: usize,
        #[arg(long, value_name = "N", default_value_t = 1)]
        seed: u64,
        /// Shuffle the machines among bays of their size (feasible, but a poor layout).
        #[arg(long)]
        scrambled: bool,
    },
}

/// How a flow's distance is measured.
#[derive(Debug, Clone, Copy, Args)]
pub struct DistanceArg {
    /// aisle: around equipment and keep-out zones on the free floor; rectilinear or straight
    /// when chosen instead.
    #[arg(long = "distance", value_enum, default_value_t = DistanceChoice::Aisle)]
    pub metric: DistanceChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DistanceChoice {
    Aisle,
    Rectilinear,
    Straight,
}

impl From<DistanceChoice> for plant_twin_core::optimise::flow::DistanceMetric {
    fn from(choice: DistanceChoice) -> Self {
        use plant_twin_core::optimise::flow::DistanceMetric;
        match choice {
            DistanceChoice::Aisle => DistanceMetric::Aisle,
            DistanceChoice::Rectilinear => DistanceMetric::Rectilinear,
            DistanceChoice::Straight => DistanceMetric::Straight,
        }
    }
}

#[derive(Debug, Clone, Subcommand)]
pub enum RecordingCommand {
    /// Print duration, time range, topics and message counts, and any damage.
    Info {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Topics to list (most messages first).
        #[arg(long, value_name = "N", default_value_t = 20)]
        topics: usize,
    },
    /// Rewrite everything a damaged or unfinished recording holds into a clean, indexed file.
    Recover {
        #[arg(value_name = "IN")]
        input: PathBuf,
        #[arg(value_name = "OUT")]
        output: PathBuf,
    },
    /// Write run-to-failure histories (CSV, input for `learn-degradation`) of the simulator's
    /// fault scenario on its asset, in simulated time: each run starts its fault at another
    /// time and lets it develop at another pace, and ends where a signal passes a limit.
    RunToFailure {
        /// Directory the CSV files are written to (created if missing).
        #[arg(value_name = "DIR")]
        output: PathBuf,
        /// Layout (default: the built-in demo plant).
        #[arg(long, value_name = "FILE")]
        layout: Option<PathBuf>,
        #[arg(long, value_name = "NAME", default_value = DEFAULT_SCENARIO)]
        scenario: String,
        /// Histories to write.
        #[arg(long, value_name = "N", default_value_t = 24)]
        runs: u64,
        /// Seed of the first run (run k uses seed + k).
        #[arg(long, value_name = "N", default_value_t = 1)]
        seed: u64,
        /// Seconds between rows.
        #[arg(long, value_name = "S", default_value_t = 5.0)]
        step: f64,
    },
    /// Write a recording of the built-in simulator in simulated time (no waiting): samples,
    /// benchmarks and tests.
    Simulate {
        #[arg(value_name = "OUT")]
        output: PathBuf,
        /// Layout (default: the built-in demo plant).
        #[arg(long, value_name = "FILE")]
        layout: Option<PathBuf>,
        /// Simulate this many copies of the layout's assets instead (a large plant).
        #[arg(long, value_name = "N")]
        assets: Option<usize>,
        /// Simulated seconds.
        #[arg(long, value_name = "S", default_value_t = 300.0)]
        seconds: f64,
        #[arg(long, value_name = "NAME", default_value = DEFAULT_SCENARIO)]
        scenario: String,
        #[arg(long, value_name = "N", default_value_t = 1)]
        seed: u64,
        /// Samples per signal per second.
        #[arg(long, value_name = "HZ", default_value_t = 1.0)]
        rate: f64,
        /// Receive time of the first message, ms since the epoch (default: now).
        #[arg(long, value_name = "MS")]
        start_ms: Option<i64>,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum EnergyCommand {
    /// Energy per asset, line or hour from a recording, the simulator in simulated time, or a
    /// broker for --exit-after seconds: measured, estimated across gaps, idle, kWh per part,
    /// peak demand, group meters; cost and CO2 with a tariff. Exits 1 if the source cannot be
    /// read or reached or has no energy signal.
    Report {
        #[command(flatten)]
        source: EnergySource,
        #[arg(long, value_enum, default_value_t = EnergyGrouping::Asset)]
        by: EnergyGrouping,
        #[arg(long, conflicts_with = "json")]
        csv: bool,
        #[arg(long)]
        json: bool,
    },
    /// Load-shift what-if: move a shiftable asset's consumption (`shiftable: true` in the
    /// layout) by whole hours, or into its cheapest window, and print the change of cost, CO2
    /// and peak demand. Nothing is sent to the plant. Exits 1 if the asset is not shiftable.
    WhatIf {
        #[command(flatten)]
        source: EnergySource,
        /// The asset whose consumption moves.
        #[arg(long, value_name = "ASSET")]
        shift: String,
        /// Hours to move it (negative: earlier).
        #[arg(
            long,
            value_name = "H",
            allow_negative_numbers = true,
            required_unless_present = "cheapest",
            conflicts_with = "cheapest"
        )]
        by: Option<i32>,
        /// Or: the shift within --within hours that costs least (the lowest peak without a
        /// tariff).
        #[arg(long)]
        cheapest: bool,
        #[arg(long, value_name = "H", default_value_t = 12)]
        within: i32,
        #[arg(long)]
        json: bool,
    },
}

/// Where `energy` commands read energy from.
#[derive(Debug, Clone, clap::Args)]
pub struct EnergySource {
    /// A recording (MCAP) to account.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["simulate", "mqtt"])]
    pub replay: Option<PathBuf>,
    /// Or: this many simulated seconds of the built-in simulator (no waiting).
    #[arg(long, value_name = "S", required_unless_present_any = ["replay", "mqtt"], conflicts_with = "mqtt")]
    pub simulate: Option<f64>,
    /// Or: a live broker (--mqtt URL, with its login and TLS options), for --exit-after
    /// seconds; the layout (--layout, default the demo plant) says what the topics are.
    // Boxed: the broker options are most of the command's size.
    #[command(flatten)]
    pub broker: Box<MqttArgs>,
    /// With --mqtt: how long to listen, seconds.
    #[arg(long, value_name = "S", requires = "mqtt")]
    pub exit_after: Option<f64>,
    /// Layout for --simulate and --mqtt (default: the demo plant).
    #[arg(long, value_name = "FILE")]
    pub layout: Option<PathBuf>,
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Simulator scenario for --simulate (`idling` and `air-leak` waste energy).
    #[arg(long, value_name = "NAME", default_value = DEFAULT_SCENARIO)]
    pub scenario: String,
    /// Tariff file (RON: time-of-use periods, demand charge, CO2 per kWh).
    #[arg(long, value_name = "FILE")]
    pub tariff: Option<PathBuf>,
    /// Samples further apart than this are a gap (estimated, not measured), seconds.
    #[arg(long, value_name = "S", default_value_t = 60.0)]
    pub max_gap: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnergyGrouping {
    Asset,
    Line,
    Hour,
}

#[derive(Debug, Clone, Subcommand)]
pub enum AuditCommand {
    /// Check that no line of an audit file was changed, removed, inserted or reordered. Prints
    /// the number of entries and exits 0, or the first broken line as FILE:LINE: what and
    /// exits 1.
    Verify {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

/// Where the audit trail goes: the file given, none for 'none', else the user's state
/// directory ($XDG_STATE_HOME or ~/.local/state)/plant-twin/audit.jsonl.
pub fn audit_path(given: Option<&PathBuf>) -> Option<PathBuf> {
    match given {
        Some(path) if path.as_os_str() == "none" => None,
        Some(path) => Some(path.clone()),
        None => std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| {
                std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/state"))
            })
            .map(|state| state.join("plant-twin").join("audit.jsonl")),
    }
}

/// The public benchmarks `plant-twin eval` knows.
#[derive(Debug, Clone, Subcommand)]
pub enum Benchmark {
    /// SKAB: ';'-separated CSV files with an `anomaly` column (F1, FAR, MAR).
    Skab {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// NAB: DIR/data/<folder>/*.csv and DIR/labels/combined_windows.json (NAB score, three
    /// profiles).
    Nab {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// C-MAPSS: train_*.txt, test_*.txt, RUL_*.txt (RUL RMSE and PHM08 score).
    Cmapss {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// QAPLIB: NAME.dat with NAME.sln (cost found, best known cost, gap, time): the layout
    /// optimiser's assignment solver.
    Qap {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Seconds per instance (default by size: 1 s up to n = 20, 10 s up to 40, else 60 s).
        #[arg(long, value_name = "S")]
        seconds: Option<f64>,
        #[arg(long, value_name = "N", default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    #[command(flatten)]
    pub mqtt: MqttArgs,

    /// Layout whose assets to simulate (default: the built-in demo plant).
    #[arg(long, value_name = "FILE")]
    pub layout: Option<PathBuf>,

    /// Payload format: Unified Namespace JSON, or Sparkplug B (one edge node per line).
    #[arg(long, value_enum, default_value_t = SimFormatArg::Json)]
    pub format: SimFormatArg,

    /// Samples per signal per second.
    #[arg(long, value_name = "HZ", default_value_t = 1.0)]
    pub rate: f64,

    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,

    /// Fault scenario to run.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_SCENARIO)]
    pub scenario: String,

    /// Sparkplug B group id.
    #[arg(long, value_name = "GROUP", default_value = "plant1")]
    pub group: String,

    /// Stop after this many seconds (default: run until interrupted).
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,

    /// List the fault scenarios and exit.
    #[arg(long)]
    pub list_scenarios: bool,
}

impl SimArgs {
    pub fn config(&self) -> Result<(SimConfig, f64), String> {
        let mut config = sim_config(&self.scenario, self.seed, self.format.into())?;
        config.group = self.group.clone();
        Ok((config, positive_rate(self.rate)?))
    }
}

/// `X,Y` in metres, both finite.
fn parse_point(text: &str) -> Result<(f32, f32), String> {
    let (x, y) = text
        .split_once(',')
        .ok_or_else(|| format!("expected X,Y in metres, got \"{text}\""))?;
    let parse = |part: &str| {
        part.trim()
            .parse::<f32>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("\"{part}\" is not a number of metres"))
    };
    Ok((parse(x)?, parse(y)?))
}

fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (width, height) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected WIDTHxHEIGHT, got \"{text}\""))?;
    let parse = |part: &str| {
        part.trim()
            .parse::<u32>()
            .ok()
            .filter(|v| (64..=16384).contains(v))
            .ok_or_else(|| format!("\"{part}\" is not a size between 64 and 16384"))
    };
    Ok((parse(width)?, parse(height)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn window_options_parse_into_their_fields() {
        // A value parser's type must match its field's: clap only finds out when parsing.
        use clap::Parser;
        let cli = Cli::try_parse_from([
            "plant-twin",
            "--render-scale",
            "0.5",
            "--quality",
            "low",
            "--colour-by",
            "energy:idle",
        ])
        .expect("parsed");
        assert_eq!(cli.render_scale, Some(0.5));
        assert_eq!(
            cli.quality,
            crate::quality::Quality::Fixed(crate::quality::Tier::Low)
        );
        assert_eq!(
            cli.prediction.colour_by,
            crate::score_colour::ColourBy::Energy(crate::score_colour::EnergyView::IdleShare)
        );
        assert!(Cli::try_parse_from(["plant-twin", "--render-scale", "0.1"]).is_err());
    }

    #[test]
    fn window_sizes_parse() {
        assert_eq!(parse_size("1920x1080"), Ok((1920, 1080)));
        assert!(parse_size("1920").is_err());
        assert!(parse_size("0x10").is_err());
    }
}
