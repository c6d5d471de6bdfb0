//! The floor under every frame figure: a Bevy window that draws nothing but its clear colour,
//! with one 2D camera, as the twin's panels camera is. Every Bevy camera draws into its own
//! texture and copies it to the window, so even an empty window costs a full-window copy and a
//! present; under a software renderer (llvmpipe) that is most of a frame.
//!
//! Run it beside the twin's own frame figures (same machine, same minute), under Xvfb without a
//! GPU, one size per run (winit allows one event loop per process):
//!
//! ```text
//! cargo bench -p plant-twin --bench empty_window -- 1920x1080
//! ```

use std::process::ExitCode;

use bevy::prelude::*;
use bevy::window::WindowResolution;

/// Frames before measuring: pipelines compile and the window settles.
const WARM_UP_FRAMES: u32 = 50;
const MEASURED_FRAMES: u32 = 200;

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; the size is the other argument.
    let size = std::env::args()
        .skip(1)
        .find(|arg| !arg.starts_with("--"))
        .unwrap_or_else(|| "1920x1080".to_string());
    let Some((width, height)) = size
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)))
    else {
        eprintln!("{size:?}: expected WIDTHxHEIGHT, e.g. 1920x1080");
        return ExitCode::FAILURE;
    };
    let exit = App::new()
        .add_plugins(DefaultPlugins.set(WindowPlugin {
            primary_window: Some(Window {
                title: "empty window (frame floor)".into(),
                resolution: WindowResolution::new(width, height),
                ..default()
            }),
            ..default()
        }))
        .add_systems(Startup, |mut commands: Commands| {
            // As the twin's panels camera: egui antialiases its shapes, so no multisampling
            // (Bevy's default camera has 4x, which alone costs a software renderer more than
            // the rest of this window).
            commands.spawn((Camera2d, Msaa::Off));
        })
        .add_systems(Update, measure)
        .run();
    match exit {
        AppExit::Success => ExitCode::SUCCESS,
        AppExit::Error(_) => ExitCode::FAILURE,
    }
}

#[derive(Default)]
struct Measured {
    frames: u32,
    total_ms: f64,
}

fn measure(
    time: Res<Time<Real>>,
    windows: Query<&Window>,
    mut measured: Local<Measured>,
    mut exit: MessageWriter<AppExit>,
) {
    measured.frames += 1;
    if measured.frames <= WARM_UP_FRAMES {
        return;
    }
    measured.total_ms += time.delta_secs_f64() * 1000.0;
    if measured.frames == WARM_UP_FRAMES + MEASURED_FRAMES {
        let size = windows
            .iter()
            .next()
            .map(|w| format!("{}x{}", w.physical_width(), w.physical_height()))
            .unwrap_or_default();
        println!(
            "empty window {size}: mean frame time over {MEASURED_FRAMES} frames: {:.1} ms",
            measured.total_ms / MEASURED_FRAMES as f64
        );
        exit.write(AppExit::Success);
    }
}
