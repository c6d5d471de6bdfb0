//! Entry point: parses the command line and hands it to `commands::run`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    plant_twin::commands::run(plant_twin::cli::Cli::parse())
}
