//! The data path in the ECS, one module per core concern of the same name: `telemetry` starts
//! the source and drains its channel into the world, `predict` runs the detectors and alarms on
//! what arrived, `record` taps it into a file, `replay` feeds a file back through the same path.
//! Their order within a frame is [`DataSystems`](crate::frame::DataSystems), declared once in `app`.

pub mod annunciator;
pub mod audit;
pub mod energy;
pub mod events;
pub mod predict;
pub mod record;
pub mod replay;
pub mod telemetry;
