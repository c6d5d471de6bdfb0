//! The project's own WGSL (`shaders/`), embedded at build time and registered under fixed
//! handles, so nothing needs installing beside the binary. Each plugin that draws with one
//! registers it.

use bevy::prelude::*;

/// Puts an embedded shader under its handle; a missing shader store (an app without a
/// renderer) is nothing to register into.
pub fn register(app: &mut App, handle: &Handle<Shader>, source: &'static str, path: &'static str) {
    let shader = Shader::from_wgsl(source, path);
    if let Some(mut shaders) = app.world_mut().get_resource_mut::<Assets<Shader>>()
        && let Err(error) = shaders.insert(handle, shader)
    {
        error!("{path} not registered: {error}");
    }
}
