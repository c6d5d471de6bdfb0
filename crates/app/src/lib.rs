//! plant-twin: an interactive 3D digital twin of a factory floor, in Bevy.
//!
//! The domain (layouts, geometry, telemetry, prediction, recordings...) is `plant_twin_core`,
//! which has no Bevy. This crate puts it into the ECS and on screen: a module here that shares a
//! name with a core module is that concern's ECS side (`data::predict` runs
//! `plant_twin_core::predict` on the world), and `ui::<name>` draws it. See ARCHITECTURE.md.

pub mod app;
pub mod camera;
pub mod capture;
pub mod cli;
pub mod commands;
pub mod data;
pub mod detail;
pub mod flows;
pub mod frame;
pub mod frame_cost;
pub mod headless;
pub mod layout_commands;
pub mod picking;
pub mod plant;
pub mod quality;
pub mod redraw;
pub mod sandbox;
pub mod scene;
pub mod scene_image;
pub mod score_colour;
pub mod selection;
pub mod shaders;
pub mod thread_cpu;
pub mod ui;
pub mod wall;

pub use app::TwinCorePlugin;
pub use frame::{AppSystems, DataSystems};
