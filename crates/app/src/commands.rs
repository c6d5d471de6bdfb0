//! The subcommands (`validate`, `clearance`, `diff`, `layout`, `sim`, `baseline`, `eval`, `recording`)
//! and the app itself (window or `--headless`), each run to an exit code. `main.rs` only parses
//! the command line and calls [`run`].

use std::process::ExitCode;
use std::time::Duration;

use crate::app::{GuiOptions, gui_app};
use crate::capture::CaptureRequest;
use crate::cli::{Benchmark, Cli, Command, RecordingCommand, SimArgs};
use crate::data::telemetry::LivePlugin;
use crate::headless::{HeadlessOptions, headless_app};
use crate::plant::PlantDocument;
use plant_twin_core::layout::{LayoutSummary, load_layout};
use plant_twin_core::sim::Simulator;
use plant_twin_core::sim::scenario::SCENARIOS;

/// Runs what the command line asks for.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Some(Command::Validate { ref files }) => validate(files),
        Some(Command::Sim(ref args)) => simulate(args),
        Some(Command::Clearance { ref file, json }) => clearance(file, json),
        Some(Command::Diff {
            ref baseline,
            ref edited,
            csv,
        }) => diff(baseline, edited, csv),
        Some(Command::Layout { ref action }) => crate::layout_commands::run(action),
        Some(Command::Eval { ref benchmark }) => evaluate(benchmark),
        Some(Command::Energy { ref action }) => energy(action),
        Some(Command::Audit {
            action: crate::cli::AuditCommand::Verify { ref file },
        }) => verify_audit(file),
        Some(Command::Recording { ref action }) => recording(action),
        Some(Command::Baseline {
            ref layout,
            seconds,
            seed,
            rate,
            ref out,
        }) => learn_baseline(layout.as_deref(), seconds, seed, rate, out.as_deref()),
        Some(Command::LearnDegradation {
            kind,
            ref files,
            ref settings,
            step,
            healthy_beyond,
            ref out,
        }) => learn_degradation(kind, files, settings, step, healthy_beyond, out),
        None => run_app(cli),
    }
}

/// `plant-twin learn-degradation`: histories in, a model file out, exit 1 on any bad file.
fn learn_degradation(
    kind: plant_twin_core::layout::AssetKind,
    files: &[std::path::PathBuf],
    settings: &[String],
    step_s: Option<f64>,
    healthy_beyond_s: Option<f64>,
    out: &std::path::Path,
) -> ExitCode {
    use plant_twin_core::predict::degradation::{DegradationModel, parse_history_csv, save_model};
    let mut parsed = vec![];
    for file in files {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(error) => {
                eprintln!("{}: cannot read the file: {error}", file.display());
                return ExitCode::FAILURE;
            }
        };
        match parse_history_csv(file, &text) {
            Ok(history) => parsed.push((file, history)),
            Err(error) => {
                eprintln!("{error}");
                return ExitCode::FAILURE;
            }
        }
    }
    let Some((_, first)) = parsed.first() else {
        eprintln!("no histories given");
        return ExitCode::FAILURE;
    };
    let columns = first.signals.clone();
    if let Some(missing) = settings.iter().find(|s| !columns.contains(s)) {
        eprintln!("--settings names {missing:?}, which is not a column of the histories");
        return ExitCode::FAILURE;
    }
    if let Some((file, _)) = parsed.iter().find(|(_, h)| h.signals != columns) {
        eprintln!(
            "{}:1:1: its columns differ from {}'s: every history needs the same signals",
            file.display(),
            parsed[0].0.display()
        );
        return ExitCode::FAILURE;
    }
    let mut steps: Vec<f64> = parsed
        .iter()
        .filter_map(|(_, h)| h.median_step_s())
        .collect();
    steps.sort_by(f64::total_cmp);
    let Some(step_s) = step_s
        .or_else(|| steps.get(steps.len() / 2).copied())
        .filter(|s| *s > 0.0 && s.is_finite())
    else {
        eprintln!("cannot tell the sample interval: give --step");
        return ExitCode::FAILURE;
    };
    let runs: Vec<_> = parsed
        .iter()
        .map(|(file, history)| {
            let name = file.file_name().map_or_else(
                || file.display().to_string(),
                |n| n.to_string_lossy().into(),
            );
            history.run(&name, step_s, settings)
        })
        .collect();
    let mut lengths: Vec<usize> = runs.iter().map(|r| r.values.len()).collect();
    lengths.sort_unstable();
    let cap_steps = healthy_beyond_s.map_or_else(
        || {
            lengths
                .get(lengths.len() / 2)
                .map_or(1.0, |n| *n as f64 / 2.0)
        },
        |s| s / step_s,
    );
    let model = match DegradationModel::learn(
        kind,
        first.value_signals(settings),
        settings.to_vec(),
        step_s,
        cap_steps,
        &runs,
    ) {
        Ok(model) => model,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(error) = save_model(out, &model) {
        eprintln!("{}: cannot write: {error}", out.display());
        return ExitCode::FAILURE;
    }
    let lives: Vec<String> = [0, lengths.len() / 2, lengths.len() - 1]
        .iter()
        .map(|&i| plant_twin_core::predict::horizon::human_duration(lengths[i] as f64 * step_s))
        .collect();
    println!(
        "{} model {}: {} signals, {} operating regimes, step {step_s} s, healthy beyond {}; lives shortest/median/longest {}; written to {}",
        kind.label(),
        model.provenance(),
        model.signals.len(),
        model.health.regimes.len(),
        plant_twin_core::predict::horizon::human_duration(cap_steps * step_s),
        lives.join("/"),
        out.display()
    );
    ExitCode::SUCCESS
}

fn learn_baseline(
    layout: Option<&std::path::Path>,
    seconds: f64,
    seed: u64,
    rate: f64,
    out: Option<&std::path::Path>,
) -> ExitCode {
    use plant_twin_core::predict::baseline::{
        baseline_path_for, learn_from_simulation, save_baseline,
    };
    let document = match load_document(layout) {
        Ok(document) => document,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let target = out.map(std::path::Path::to_path_buf).unwrap_or_else(|| {
        baseline_path_for(layout.unwrap_or(std::path::Path::new(
            plant_twin_core::layout::DEMO_LAYOUT_PATH,
        )))
    });
    let config = plant_twin_core::predict::PredictConfig::default();
    let file = learn_from_simulation(
        &document.layout,
        &config,
        seed,
        seconds,
        rate.clamp(0.01, 100.0),
    );
    match save_baseline(&target, &file) {
        Ok(()) => {
            println!(
                "baseline of {} assets written to {}",
                file.assets.len(),
                target.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("cannot write {}: {error}", target.display());
            ExitCode::FAILURE
        }
    }
}

fn recording(action: &RecordingCommand) -> ExitCode {
    use plant_twin_core::record::Recording;
    match action {
        RecordingCommand::Info { file, topics } => match Recording::open(file, None) {
            Ok(recording) => {
                print!("{}", recording.describe(*topics));
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("{error}");
                ExitCode::FAILURE
            }
        },
        RecordingCommand::Recover { input, output } => {
            let recording = match Recording::open(input, None) {
                Ok(recording) => recording,
                Err(error) => {
                    eprintln!("{error}");
                    return ExitCode::FAILURE;
                }
            };
            match &recording.damage {
                Some(damage) => println!("{}: {damage}", input.display()),
                None if !recording.indexed => {
                    println!("{}: not finished (no index); rewriting", input.display())
                }
                None => println!("{}: intact; rewriting anyway", input.display()),
            }
            match recording.recover_into(output) {
                Ok(messages) => {
                    println!(
                        "{messages} of {} messages written to {}",
                        recording.message_count(),
                        output.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("{error}");
                    ExitCode::FAILURE
                }
            }
        }
        RecordingCommand::RunToFailure {
            output,
            layout,
            scenario,
            runs,
            seed,
            step,
        } => run_to_failure(output, layout.as_deref(), scenario, *runs, *seed, *step),
        RecordingCommand::Simulate {
            output,
            layout,
            assets,
            seconds,
            scenario,
            seed,
            rate,
            start_ms,
        } => {
            let prepared = (|| -> Result<_, String> {
                let document = load_document(layout.as_deref())?;
                let plant = match assets {
                    Some(n) => plant_twin_core::sim::scaled_layout(&document.layout, *n),
                    None => document.layout,
                };
                let sim =
                    crate::cli::sim_config(scenario, *seed, plant_twin_core::sim::SimFormat::Json)?;
                Ok((plant, sim))
            })();
            let (plant, sim) = match prepared {
                Ok(prepared) => prepared,
                Err(error) => {
                    eprintln!("{error}");
                    return ExitCode::FAILURE;
                }
            };
            let rate = rate.clamp(0.01, 100.0);
            // The demo plant starts from the baseline the app ships; another plant from what
            // the detectors learn from 20 minutes of its healthy simulation.
            let shipped = (layout.is_none() && assets.is_none())
                .then(|| {
                    plant_twin_core::predict::baseline::parse_baseline(
                        plant_twin_core::predict::baseline::DEMO_BASELINE_TEXT,
                    )
                    .ok()
                })
                .flatten();
            let baseline = shipped.unwrap_or_else(|| {
                plant_twin_core::predict::baseline::learn_from_simulation(
                    &plant,
                    &plant_twin_core::predict::PredictConfig::default(),
                    seed.wrapping_add(1000),
                    1200.0,
                    rate,
                )
            });
            let context = plant_twin_core::record::RecordingContext {
                layout_ron: match plant_twin_core::layout::layout_to_ron(&plant) {
                    Ok(text) => text,
                    Err(error) => {
                        eprintln!("cannot write the layout: {error}");
                        return ExitCode::FAILURE;
                    }
                },
                bindings_ron: None,
                baseline_ron: ron::ser::to_string_pretty(
                    &baseline,
                    ron::ser::PrettyConfig::default(),
                )
                .ok(),
                // The models the layout names go with it (none for a scaled plant's copies,
                // whose ids the layout's models still fit by kind).
                degradation_ron: plant_twin_core::predict::degradation::attachments(
                    plant_twin_core::predict::degradation::models_named_by(
                        &plant,
                        layout.as_deref(),
                    )
                    .0,
                ),
                source: format!(
                    "{} (simulated time)",
                    plant_twin_core::sim::source::SIMULATOR_SOURCE
                ),
            };
            let start = start_ms.unwrap_or_else(plant_twin_core::telemetry::now_ms);
            let mut simulator = Simulator::new(&plant, sim);
            let started = std::time::Instant::now();
            match plant_twin_core::record::simulate_recording(
                output,
                &mut simulator,
                &context,
                *seconds,
                rate,
                start,
            ) {
                Ok(finished) => {
                    println!(
                        "{} messages, {} bytes, written to {} in {:.1} s",
                        finished.messages,
                        finished.bytes,
                        output.display(),
                        started.elapsed().as_secs_f64()
                    );
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("{error}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// `plant-twin recording run-to-failure`: simulated histories for `learn-degradation`.
fn run_to_failure(
    output: &std::path::Path,
    layout: Option<&std::path::Path>,
    scenario: &str,
    runs: u64,
    seed: u64,
    step_s: f64,
) -> ExitCode {
    let prepared = load_document(layout).and_then(|document| {
        let sim = crate::cli::sim_config(scenario, seed, plant_twin_core::sim::SimFormat::Json)?;
        Ok((document.layout, sim))
    });
    let (plant, sim) = match prepared {
        Ok(prepared) => prepared,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    if sim.scenario.fault.is_none() {
        eprintln!("scenario {scenario:?} has no fault: nothing fails");
        return ExitCode::FAILURE;
    }
    if let Err(error) = std::fs::create_dir_all(output) {
        eprintln!("{}: {error}", output.display());
        return ExitCode::FAILURE;
    }
    let step_s = step_s.clamp(0.1, 3600.0);
    let mut written = 0;
    for run in 0..runs {
        // Spread evenly, not randomly: the fault starts after 2 to 20 minutes of healthy
        // running and develops over 0.6 to 1.6 times the scenario's own ramp.
        let share = if runs > 1 {
            run as f64 / (runs - 1) as f64
        } else {
            0.5
        };
        let start_s = 120.0 + 1080.0 * ((share * 7.0).fract());
        let ramp_s = sim.scenario.ramp_s * (0.6 + share);
        let config = plant_twin_core::sim::SimConfig {
            seed: seed.wrapping_add(run),
            ..sim.clone()
        };
        let max_s = start_s + 4.0 * ramp_s;
        let Some(csv) = plant_twin_core::sim::run_to_failure_csv(
            &plant,
            config,
            (start_s, ramp_s),
            step_s,
            max_s,
        ) else {
            eprintln!("run {run}: nothing passed a limit within {max_s:.0} s; not written");
            continue;
        };
        let path = output.join(format!("{scenario}-{run:03}.csv"));
        if let Err(error) = plant_twin_core::files::write_atomic(&path, csv.as_bytes()) {
            eprintln!("{}: {error}", path.display());
            return ExitCode::FAILURE;
        }
        written += 1;
    }
    println!(
        "{written} run-to-failure histories written to {}",
        output.display()
    );
    if written == 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `plant-twin audit verify`: exit 0 with the entry count, or 1 at the first broken line.
fn verify_audit(file: &std::path::Path) -> ExitCode {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("{}: cannot read the file: {error}", file.display());
            return ExitCode::FAILURE;
        }
    };
    let started = std::time::Instant::now();
    match plant_twin_core::audit::verify(file, &text) {
        Ok(entries) => {
            println!(
                "{}: {entries} entries, chain intact (checked in {:.0} ms)",
                file.display(),
                started.elapsed().as_secs_f64() * 1000.0
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

fn config_for_account(max_gap_s: f64) -> plant_twin_core::energy::AccountConfig {
    plant_twin_core::energy::AccountConfig {
        max_gap_s,
        ..plant_twin_core::energy::AccountConfig::default()
    }
}

/// The account of an `energy` command's source, and its tariff.
fn energy_source(
    source: &crate::cli::EnergySource,
) -> Result<
    (
        plant_twin_core::energy::report::Accounted,
        Option<plant_twin_core::energy::tariff::LoadedTariff>,
    ),
    String,
> {
    use plant_twin_core::energy::report::{account_recording, account_simulation};
    let crate::cli::EnergySource {
        replay,
        simulate,
        broker,
        exit_after,
        layout,
        seed,
        scenario,
        tariff,
        max_gap,
    } = source;
    if !(max_gap.is_finite() && *max_gap > 0.0) {
        return Err(format!(
            "--max-gap must be a positive number of seconds, got {max_gap}"
        ));
    }
    let config = config_for_account(*max_gap);
    let tariff = tariff
        .as_deref()
        .map(plant_twin_core::energy::tariff::load_tariff)
        .transpose()
        .map_err(|e| e.to_string())?;
    let feeds = tariff
        .as_ref()
        .map(plant_twin_core::energy::tariff::LoadedTariff::market_feeds)
        .unwrap_or_default();
    let live = broker.config()?;
    let accounted = match (replay, simulate) {
        _ if live.is_some() => {
            let Some(mut mqtt) = live else {
                return Err("no broker".into());
            };
            let seconds = exit_after
                .filter(|s| s.is_finite() && *s > 0.0)
                .ok_or("--mqtt needs --exit-after S: how long to listen")?;
            mqtt.sparkplug_group = Some("+".into());
            let url = mqtt.url.to_string();
            let document = load_document(layout.as_deref())?;
            let decoder = plant_twin_core::telemetry::decoder::Decoder::new(
                plant_twin_core::telemetry::bindings::TopicResolver::from_layout(&document.layout),
            )
            .with_market_feeds(feeds.clone());
            let (sender, receiver) = crossbeam_channel::bounded(65_536);
            let mut ingest = plant_twin_core::telemetry::mqtt::spawn_mqtt_ingest(
                mqtt,
                decoder,
                sender,
                plant_twin_core::telemetry::tap::RecordTap::default(),
            )
            .map_err(|e| e.to_string())?;
            let until = std::time::Instant::now() + std::time::Duration::from_secs_f64(seconds);
            let (accounted, connected) = plant_twin_core::energy::report::account_live(
                &document.layout,
                &receiver,
                until,
                config,
            );
            ingest.stop(&receiver);
            if !connected {
                return Err(format!("never connected to {url} in {seconds} s"));
            }
            accounted
        }
        (Some(path), _) => account_recording(path, config, feeds.clone())
            .map_err(|e| format!("{}: {e}", path.display()))?,
        (None, Some(seconds)) => {
            let document = load_document(layout.as_deref())?;
            let sim =
                crate::cli::sim_config(scenario, *seed, plant_twin_core::sim::SimFormat::Json)?;
            let mut simulator = Simulator::new(&document.layout, sim);
            // Midnight UTC of 2024-01-01, a Monday: hours and tariff periods line up.
            account_simulation(
                &document.layout,
                &mut simulator,
                *seconds,
                1_704_067_200_000,
                config,
            )
        }
        (None, None) => return Err("give --replay FILE or --simulate S".into()),
    };
    if !accounted.account.has_energy_signals() {
        return Err(
            "the layout marks no signal as power or energy meter (`energy: Some(Power)`)".into(),
        );
    }
    Ok((accounted, tariff))
}

fn energy(action: &crate::cli::EnergyCommand) -> ExitCode {
    use crate::cli::{EnergyCommand, EnergyGrouping};
    use plant_twin_core::energy::report::{By, Format, render};
    use plant_twin_core::energy::shift;
    let (name, result) = match action {
        EnergyCommand::Report {
            source,
            by,
            csv,
            json,
        } => (
            "report",
            energy_source(source).map(|(accounted, tariff)| {
                let by = match by {
                    EnergyGrouping::Asset => By::Asset,
                    EnergyGrouping::Line => By::Line,
                    EnergyGrouping::Hour => By::Hour,
                };
                let format = if *json {
                    Format::Json
                } else if *csv {
                    Format::Csv
                } else {
                    Format::Text
                };
                render(&accounted, tariff.as_ref(), by, format)
            }),
        ),
        EnergyCommand::WhatIf {
            source,
            shift: asset_id,
            by,
            cheapest,
            within,
            json,
        } => (
            "what-if",
            energy_source(source).and_then(|(accounted, tariff)| {
                let asset = accounted
                    .layout
                    .assets
                    .iter()
                    .position(|a| a.id == *asset_id)
                    .ok_or_else(|| format!("no asset {asset_id:?} in the layout"))?;
                let found = if *cheapest {
                    shift::cheapest_shift(
                        &accounted.account,
                        asset,
                        asset_id,
                        *within,
                        tariff.as_ref(),
                    )
                } else {
                    shift::what_if(
                        &accounted.account,
                        asset,
                        asset_id,
                        by.unwrap_or(0),
                        tariff.as_ref(),
                    )
                };
                let what_if = found.ok_or_else(|| {
                    format!("{asset_id} is not shiftable (mark it `shiftable: true` in the layout)")
                })?;
                if *json {
                    serde_json::to_string_pretty(&what_if).map_err(|e| e.to_string())
                } else {
                    Ok(what_if.render_text(tariff.as_ref().map(|t| t.tariff.currency.as_str())))
                }
            }),
        ),
    };
    match result {
        Ok(text) => {
            println!("{}", text.trim_end());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("plant-twin energy {name}: {error}");
            ExitCode::FAILURE
        }
    }
}

fn evaluate(benchmark: &Benchmark) -> ExitCode {
    use plant_twin_core::eval;
    use plant_twin_core::predict::PredictConfig;
    let config = PredictConfig::default();
    let result = match benchmark {
        Benchmark::Skab { dir } => eval::skab::run(dir, &config.detector, &config.alarm),
        Benchmark::Nab { dir } => eval::nab::run(dir, &config.detector),
        Benchmark::Cmapss { dir } => eval::cmapss::run(dir),
        Benchmark::Qap { dir, seconds, seed } => eval::qap::run(dir, *seconds, *seed),
    };
    match result {
        Ok(table) => {
            print!("{table}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

fn validate(files: &[std::path::PathBuf]) -> ExitCode {
    let mut failed = false;
    for (n, file) in files.iter().enumerate() {
        if n > 0 {
            println!();
        }
        match load_layout(file) {
            Ok(layout) => {
                use plant_twin_core::predict::degradation::{DegradationTracker, models_named_by};
                let (models, errors) = models_named_by(&layout, Some(file));
                if !errors.is_empty() {
                    failed = true;
                    for error in &errors {
                        eprintln!("{error}");
                    }
                    eprintln!(
                        "{}: {} degradation model(s) cannot be used",
                        file.display(),
                        errors.len()
                    );
                    continue;
                }
                if let Some((i, twice)) = models
                    .iter()
                    .enumerate()
                    .find(|(i, m)| models[..*i].iter().any(|o| o.model.kind == m.model.kind))
                {
                    failed = true;
                    eprintln!(
                        "{}: degradation model {} is the second for {} assets: one model per kind",
                        file.display(),
                        layout.degradation_models.get(i).map_or("?", String::as_str),
                        twice.model.kind.label()
                    );
                    continue;
                }
                println!("{}: valid", file.display());
                println!("{}", LayoutSummary::of(&layout));
                for learned in &models {
                    let kind = learned.model.kind;
                    let of_kind: Vec<_> = layout.assets.iter().filter(|a| a.kind == kind).collect();
                    let fitting = of_kind
                        .iter()
                        .filter(|a| DegradationTracker::new(learned.model.clone(), a).is_ok())
                        .count();
                    println!(
                        "degradation model {}: {} {}, used by {fitting} of {} {} assets (the others lack its signals)",
                        learned.attachment.trim_start_matches("degradation/"),
                        kind.label(),
                        learned.model.provenance(),
                        of_kind.len(),
                        kind.label()
                    );
                }
            }
            Err(error) => {
                failed = true;
                eprintln!("{error}");
                eprintln!(
                    "{}: {} problem(s) found",
                    file.display(),
                    error.issues.len()
                );
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn clearance(file: &std::path::Path, json: bool) -> ExitCode {
    let layout = match load_layout(file) {
        Ok(layout) => layout,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    let violations = plant_twin_core::clearance::ClearanceModel::new(&layout).check_all();
    let millimetres = |metres: f32| (metres as f64 * 1000.0).round() / 1000.0;
    if json {
        let rows: Vec<serde_json::Value> = violations
            .iter()
            .map(|violation| {
                let (asset, other) = violation.ids(&layout);
                serde_json::json!({
                    "asset": asset,
                    "other": other,
                    "distance_m": millimetres(violation.distance),
                    "required_m": millimetres(violation.required),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".into())
        );
    } else if violations.is_empty() {
        println!("{}: no clearance violations", file.display());
    } else {
        for violation in &violations {
            println!("{}", violation.describe(&layout));
        }
        println!("{}: {} violation(s)", file.display(), violations.len());
    }
    if violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn diff(baseline: &std::path::Path, edited: &std::path::Path, csv: bool) -> ExitCode {
    let (baseline_layout, edited_layout) = match (load_layout(baseline), load_layout(edited)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(error), _) | (_, Err(error)) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    let diff = plant_twin_core::diff::diff_layouts(&baseline_layout, &edited_layout);
    if csv {
        print!("{}", diff.to_csv());
    } else {
        print!("{}", diff.to_markdown(&baseline.display().to_string()));
    }
    ExitCode::SUCCESS
}

fn load_document(layout: Option<&std::path::Path>) -> Result<PlantDocument, String> {
    match layout {
        Some(path) => PlantDocument::from_file(path.to_path_buf()),
        None => PlantDocument::demo(),
    }
    .map_err(|error| error.to_string())
}

fn simulate(args: &SimArgs) -> ExitCode {
    if args.list_scenarios {
        for scenario in SCENARIOS {
            println!("{:<16} {}", scenario.name, scenario.description);
        }
        return ExitCode::SUCCESS;
    }
    let run = || -> Result<u64, String> {
        let document = load_document(args.layout.as_deref())?;
        let (sim, rate) = args.config()?;
        let mqtt = args
            .mqtt
            .config()?
            .ok_or("plant-twin sim needs --mqtt URL (the broker to publish to)")?;
        let simulator = Simulator::new(&document.layout, sim);
        if let Some(target) = simulator.fault_target() {
            eprintln!("scenario {}: fault on {target}", args.scenario);
        }
        eprintln!(
            "publishing {} assets to {} at {rate} Hz",
            document.layout.assets.len(),
            mqtt.url
        );
        let duration = args.duration.map(Duration::from_secs_f64);
        plant_twin_core::sim::publish::publish_simulation(simulator, &mqtt, rate, duration)
            .map_err(|error| error.to_string())
    };
    match run() {
        Ok(published) => {
            eprintln!("published {published} messages");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("plant-twin sim: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run_app(cli: Cli) -> ExitCode {
    let prepared = (|| -> Result<_, String> {
        let document = load_document(cli.layout.as_deref())?;
        // A headless replay feeds the plant itself: no live source at all. The window keeps the
        // live source to go back to when the replay is closed (it stops once the file is open).
        let source = if cli.replay.is_some() && cli.headless {
            crate::data::telemetry::SourceConfig::Manual
        } else {
            cli.source.source_config()?
        };
        let wall = match (&cli.wall_config, cli.wall) {
            (Some(path), _) => Some(
                plant_twin_core::wall::config::load_wall_config(path)
                    .map_err(|error| error.to_string())?,
            ),
            (None, true) => Some(plant_twin_core::wall::config::WallConfig::default()),
            (None, false) => None,
        };
        let tariff = cli
            .tariff
            .as_deref()
            .map(plant_twin_core::energy::tariff::load_tariff)
            .transpose()
            .map_err(|error| error.to_string())?;
        Ok((document, source, wall, tariff))
    })();
    let (document, source, wall, tariff) = match prepared {
        Ok(prepared) => prepared,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let live = LivePlugin {
        source,
        bindings: cli.source.bindings.clone(),
        history: cli.history,
    };
    let mut app = if cli.headless {
        headless_app(
            document,
            live,
            cli.prediction.plugin(),
            HeadlessOptions {
                exit_after: cli.exit_after,
                snapshot: cli.snapshot,
                events: cli.events,
                record: cli.record.clone(),
                replay: cli.replay.clone(),
                speed: cli.speed,
                audit: crate::cli::audit_path(cli.audit.as_ref()),
            },
        )
    } else {
        let options = GuiOptions {
            select: cli.select,
            window_size: cli.window_size,
            capture: cli.screenshot.map(|path| CaptureRequest {
                path,
                after_frames: cli.screenshot_after,
            }),
            read_only: cli.read_only,
            edit: cli.edit,
            save_as: cli.save_as,
            colour_by: cli.prediction.colour_by.clone(),
            wall: wall.map(|config| (config, cli.monitor.unwrap_or(0))),
            record: cli.record.clone(),
            replay: cli.replay.clone(),
            speed: cli.speed,
            audit: crate::cli::audit_path(cli.audit.as_ref()),
            quality: cli.quality,
            render_scale: cli.render_scale,
            continuous_redraw: cli.redraw == "continuous",
            frame_stats: cli.frame_stats,
            pass_times: cli.pass_times,
        };
        gui_app(document, options, live, cli.prediction.plugin())
    };
    app.add_plugins(crate::data::energy::EnergyPlugin { tariff });
    match app.run() {
        bevy::app::AppExit::Success => ExitCode::SUCCESS,
        bevy::app::AppExit::Error(code) => ExitCode::from(code.get()),
    }
}
