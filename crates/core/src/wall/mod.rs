//! The wall display's logic: the tour over lines and zones with its alarm jumps (`tour`) and
//! the control room's settings file (`config`). The app's `wall` plugin drives the camera with
//! it and `ui::wall` draws the screen.

pub mod config;
pub mod tour;
