//! The sandbox's logic: the undo/redo stack of layout edits (`history`). Clearance checks are in
//! `clearance`, what an edited layout changed in `diff`; the app's `sandbox` plugin turns
//! pointer drags into edits.

pub mod history;
