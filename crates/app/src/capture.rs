//! `--screenshot`: save the window to a PNG after a number of frames and quit. Used to check the
//! GUI under Xvfb in CI and to make the pictures in the docs.

use std::path::PathBuf;

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured, save_to_disk};

#[derive(Debug, Clone, PartialEq)]
pub struct CaptureRequest {
    pub path: PathBuf,
    /// Frames to render first, so that meshes, fonts and panels have settled.
    pub after_frames: u32,
}

pub struct CapturePlugin {
    pub request: CaptureRequest,
}

impl Plugin for CapturePlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(CaptureState {
            request: self.request.clone(),
            frames: 0,
            saved_at: None,
        })
        .add_systems(Last, capture_then_exit);
    }
}

/// A screenshot still to take (the window draws continuously until it is saved).
#[derive(Resource)]
pub struct CaptureState {
    request: CaptureRequest,
    frames: u32,
    saved_at: Option<u32>,
}

/// The frames of the second half of a capture run, for the figures logged with the picture.
#[derive(Default)]
struct LastHalf {
    /// (frame time, main-world wall time), ms.
    frames: Vec<(f32, f32)>,
    /// The main world's CPU time, ms, in frames where it was counted.
    cpu_ms: Vec<f32>,
    phase_ms_sum: [f32; crate::frame_cost::Phase::ALL.len()],
}

#[allow(clippy::type_complexity)]
fn capture_then_exit(
    mut commands: Commands,
    mut state: ResMut<CaptureState>,
    mut exit: MessageWriter<AppExit>,
    time: Res<Time<Real>>,
    // What the frames cost: the main world, and the render passes with `--pass-times`.
    (cost, diagnostics, clocks): (
        Option<Res<crate::frame_cost::FrameCost>>,
        Option<Res<bevy::diagnostic::DiagnosticsStore>>,
        Option<Res<crate::thread_cpu::ThreadClocks>>,
    ),
    mut last_half: Local<LastHalf>,
) {
    state.frames += 1;
    if state.frames > state.request.after_frames / 2 && state.saved_at.is_none() {
        let main_world_ms = cost.as_ref().map_or(0.0, |c| c.last_main_world_ms);
        last_half
            .frames
            .push((time.delta_secs() * 1000.0, main_world_ms));
        if let Some(cost) = cost.as_ref() {
            if let Some(cpu) = cost.last_main_world_cpu_ms {
                last_half.cpu_ms.push(cpu);
            }
            for (sum, phase_ms) in last_half.phase_ms_sum.iter_mut().zip(cost.last_phase_ms) {
                *sum += phase_ms;
            }
        }
    }
    if state.frames == state.request.after_frames {
        let path = state.request.path.clone();
        let frames = last_half.frames.len().max(1) as f32;
        let mean = last_half.frames.iter().map(|(f, _)| f).sum::<f32>() / frames;
        let main_world = last_half.frames.iter().map(|(_, m)| m).sum::<f32>() / frames;
        let (draws, instances) = cost
            .as_ref()
            .map_or((0, 0), |c| (c.draw_calls, c.instances));
        info!(
            "capturing the window to {} (mean frame time over the last {} frames: {mean:.1} ms; \
             main-world systems {main_world:.1} ms ({}){}; {draws} draw calls, {instances} \
             instances{})",
            path.display(),
            last_half.frames.len(),
            crate::frame_cost::phase_summary(
                &last_half.phase_ms_sum,
                last_half.frames.len() as u32
            ),
            crate::frame_cost::cpu_summary(&last_half.cpu_ms, clocks.as_deref()),
            diagnostics
                .as_deref()
                .map(crate::frame_cost::render_pass_times)
                .unwrap_or_default(),
        );
        commands
            .spawn(Screenshot::primary_window())
            .observe(save_to_disk(path))
            .observe(
                |_: On<ScreenshotCaptured>, mut state: ResMut<CaptureState>| {
                    state.saved_at = Some(state.frames);
                },
            );
    }
    // The capture arrives a frame or two later; quit once it is on disk.
    if let Some(saved_at) = state.saved_at
        && state.frames > saved_at + 1
    {
        exit.write(AppExit::Success);
    }
}
