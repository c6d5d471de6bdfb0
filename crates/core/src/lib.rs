//! plant-twin's domain, without Bevy: everything the twin knows about a plant that does not need
//! a window or an ECS. The `plant-twin` crate puts it into the world and on screen.
//!
//! The manifest has no Bevy, egui or windowing dependency, so nothing here can reach for them;
//! a test checks the resolved dependency tree, and another that the modules below import each
//! other without a circle (ARCHITECTURE.md, "Crates", has the order).

pub mod audit;
pub mod clearance;
pub mod diff;
pub mod energy;
pub mod eval;
pub mod files;
pub mod geometry;
pub mod layout;
pub mod optimise;
pub mod predict;
pub mod ray_index;
pub mod record;
mod rng;
pub mod sandbox;
pub mod shapes;
pub mod sim;
pub mod telemetry;
pub mod wall;
