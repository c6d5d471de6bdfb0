//! plant-twin: an interactive 3D digital twin of a factory floor.
//!
//! Modules without Bevy (`layout`, `geometry`) hold the domain; the plugins below put it on
//! screen. See ARCHITECTURE.md for the data flow.

pub mod app;
pub mod camera;
pub mod capture;
pub mod clearance;
pub mod cli;
pub mod eval;
pub mod fsutil;
pub mod geometry;
pub mod headless;
pub mod layout;
pub mod live;
pub mod plant;
pub mod predict;
pub mod prediction;
pub mod record;
pub mod recording;
pub mod replay;
pub mod sandbox;
pub mod scene;
pub mod score_colour;
pub mod selection;
pub mod shapes;
pub mod sim;
pub mod telemetry;
pub mod ui;
pub mod wall;

pub use app::{AppSystems, TwinCorePlugin};
