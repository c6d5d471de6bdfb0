//! The command line: open the GUI, or check a layout without a window.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
    fn window_sizes_parse() {
        assert_eq!(parse_size("1920x1080"), Ok((1920, 1080)));
        assert!(parse_size("1920").is_err());
        assert!(parse_size("0x10").is_err());
    }
}
