//! Entry point: parses the command line and runs the chosen mode.

use std::process::ExitCode;

use clap::Parser;
use plant_twin::app::{GuiOptions, gui_app};
use plant_twin::capture::CaptureRequest;
use plant_twin::cli::{Cli, Command};
use plant_twin::layout::{LayoutSummary, load_layout};
use plant_twin::plant::PlantDocument;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Validate { files }) => validate(&files),
        None => run_gui(cli),
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
                println!("{}: valid", file.display());
                println!("{}", LayoutSummary::of(&layout));
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

fn run_gui(cli: Cli) -> ExitCode {
    let document = match cli.layout {
        Some(path) => PlantDocument::from_file(path),
        None => PlantDocument::demo(),
    };
    let document = match document {
        Ok(document) => document,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let options = GuiOptions {
        select: cli.select,
        window_size: cli.window_size,
        capture: cli.screenshot.map(|path| CaptureRequest {
            path,
            after_frames: cli.screenshot_after,
        }),
    };
    match gui_app(document, options).run() {
        bevy::app::AppExit::Success => ExitCode::SUCCESS,
        bevy::app::AppExit::Error(code) => ExitCode::from(code.get()),
    }
}
