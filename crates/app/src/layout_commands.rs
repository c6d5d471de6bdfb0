//! `plant-twin layout ...`: scripted what-ifs on a layout file without a window: move an asset,
//! list the material flows and their effort, optimise the arrangement, generate a test plant.
//! Files are written atomically and only when the command succeeds.

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use crate::cli::LayoutCommand;
use crate::plant::PlantDocument;
use plant_twin_core::layout::{PlantLayout, WriteStyle, changed_lines, save_layout};
use plant_twin_core::optimise::flow::{DistanceMetric, transport_effort};
use plant_twin_core::optimise::layout::{LayoutOptions, optimise_layout};
use plant_twin_core::optimise::synthetic::{scrambled, synthetic_plant};

pub fn run(action: &LayoutCommand) -> ExitCode {
    match action {
        LayoutCommand::Move {
            file,
            id,
            to,
            rotate,
            output,
        } => move_asset(file, id, *to, *rotate, output),
        LayoutCommand::Flows { file, distance } => flows(file, distance.metric.into()),
        LayoutCommand::Optimise {
            file,
            output,
            seconds,
            iterations,
            seed,
            movable,
            distance,
        } => optimise(
            file,
            output,
            &LayoutOptions {
                seconds: *seconds,
                max_iterations: *iterations,
                seed: *seed,
                movable: movable.clone(),
                metric: distance.metric.into(),
            },
        ),
        LayoutCommand::Generate {
            output,
            assets,
            flows,
            seed,
            scrambled: scramble,
        } => generate(output, *assets, *flows, *seed, *scramble),
    }
}

fn open(file: &Path) -> Result<PlantDocument, ExitCode> {
    PlantDocument::from_file(file.to_path_buf()).map_err(|error| {
        eprintln!("{error}");
        ExitCode::FAILURE
    })
}

/// Writes `edited` over the text it came from (or whole) and says how; `changes` names what
/// changed (default: the span of lines that did).
fn write(
    output: &Path,
    original: Option<&str>,
    edited: &PlantLayout,
    changes: Option<String>,
) -> Result<(), ExitCode> {
    let (text, style) = save_layout(output, original, edited).map_err(|error| {
        eprintln!("{error}");
        ExitCode::FAILURE
    })?;
    match style {
        WriteStyle::Patched => println!(
            "{} written: {}, comments and formatting kept",
            output.display(),
            changes.unwrap_or_else(|| format!(
                "{} line(s) changed",
                changed_lines(original.unwrap_or_default(), &text)
            ))
        ),
        WriteStyle::Rewritten { reason } => {
            println!("{} written in full ({reason})", output.display())
        }
    }
    Ok(())
}

fn flows(file: &Path, metric: DistanceMetric) -> ExitCode {
    let document = match open(file) {
        Ok(document) => document,
        Err(code) => return code,
    };
    let layout = &document.layout;
    if layout.flows.is_empty() {
        println!("{}: no material flows", file.display());
        return ExitCode::SUCCESS;
    }
    let effort = transport_effort(layout, metric);
    let mut legs: Vec<_> = effort.legs.iter().collect();
    legs.sort_by(|a, b| b.effort.total_cmp(&a.effort));
    println!("distances {}", metric.label());
    println!(
        "{:<16} {:<16} {:>10} {:<8} {:<9} {:>10} {:>14}",
        "from", "to", "amount/h", "unit", "handling", "distance m", "effort"
    );
    for leg in legs {
        let flow = &layout.flows[leg.flow];
        println!(
            "{:<16} {:<16} {:>10.1} {:<8} {:<9} {:>10.1}{} {:>14.0}",
            flow.from,
            flow.to,
            flow.amount_per_hour,
            flow.unit.label(),
            flow.handling.map(|h| format!("{h:?}")).unwrap_or_default(),
            leg.distance_m,
            if leg.unrouted { "*" } else { " " },
            leg.effort
        );
    }
    for (unit, total) in &effort.by_unit {
        println!("total {:>14.0} {}", total, unit.label());
    }
    if effort.legs.iter().any(|l| l.unrouted) {
        println!("* no route on the free floor: rectilinear distance instead");
    }
    ExitCode::SUCCESS
}

fn optimise(file: &Path, output: &Path, options: &LayoutOptions) -> ExitCode {
    let document = match open(file) {
        Ok(document) => document,
        Err(code) => return code,
    };
    eprintln!(
        "optimising {} ({} assets, {} flows) for {}",
        file.display(),
        document.layout.assets.len(),
        document.layout.flows.len(),
        match options.max_iterations {
            Some(n) => format!("{n} swaps"),
            None => format!("{} s", options.seconds),
        }
    );
    let proposal = match optimise_layout(
        &document.layout,
        options,
        &AtomicBool::new(false),
        &mut |_, _| {},
    ) {
        Ok(proposal) => proposal,
        Err(error) => {
            eprintln!("{}: {error}", file.display());
            return ExitCode::FAILURE;
        }
    };
    println!(
        "transport effort ({}): {:.0} before, {:.0} after ({:+.1} %), {} asset(s) moved, {} swaps in {:.1} s",
        options.metric.label(),
        proposal.effort_before,
        proposal.effort_after,
        proposal.change_percent(),
        proposal.moves.len(),
        proposal.iterations,
        proposal.elapsed_s
    );
    if proposal.moves.is_empty() || proposal.effort_after >= proposal.effort_before {
        eprintln!("no feasible improvement found; nothing written");
        return ExitCode::FAILURE;
    }
    for m in &proposal.moves {
        println!(
            "  {:<16} ({:.2}, {:.2}) -> ({:.2}, {:.2})",
            m.id, m.from.0, m.from.1, m.to.0, m.to.1
        );
    }
    let moved = format!("{} asset position(s) changed", proposal.moves.len());
    match write(
        output,
        document.text.as_deref(),
        &proposal.layout,
        Some(moved),
    ) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

fn generate(output: &Path, assets: usize, flows: usize, seed: u64, scramble: bool) -> ExitCode {
    if assets < 2 {
        eprintln!("a generated plant needs at least 2 assets, got {assets}");
        return ExitCode::FAILURE;
    }
    let mut layout = synthetic_plant(assets, flows, seed);
    if scramble {
        layout = scrambled(&layout, seed);
        layout.name.push_str(", scrambled");
    }
    match write(output, None, &layout, None) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

fn move_asset(
    file: &Path,
    id: &str,
    to: (f32, f32),
    rotate: Option<f32>,
    output: &Path,
) -> ExitCode {
    let document = match open(file) {
        Ok(document) => document,
        Err(code) => return code,
    };
    let mut edited = document.layout.clone();
    let Some(asset) = edited.assets.iter_mut().find(|asset| asset.id == *id) else {
        eprintln!("{}: no asset with id \"{id}\"", file.display());
        return ExitCode::FAILURE;
    };
    asset.position = to;
    if let Some(rotation_deg) = rotate {
        asset.rotation_deg = rotation_deg;
    }
    let diff = plant_twin_core::diff::diff_layouts(&document.layout, &edited);
    println!("{}", diff.to_markdown(&file.display().to_string()));
    match write(output, document.text.as_deref(), &edited, None) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}
