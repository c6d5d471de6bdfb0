//! Assembles the app: the frame order shared by every plugin, the headless core, and the
//! windowed GUI on top of it.

use bevy::ecs::schedule::{ScheduleLabel, SingleThreadedExecutor};
use bevy::prelude::*;
use bevy::window::WindowResolution;

use crate::camera::CameraPlugin;
use crate::capture::{CapturePlugin, CaptureRequest};
use crate::data::telemetry::LivePlugin;
use crate::frame::{AppSystems, DataSystems};
use crate::plant::{PlantDocument, PlantPlugin};
use crate::sandbox::{EditMode, SandboxPlugin, ViolationGizmosPlugin};
use crate::scene::ScenePlugin;
use crate::selection::{HighlightPlugin, SelectAsset, SelectTarget, SelectionPlugin};
use crate::ui::UiPlugin;

/// How often Bevy's fixed-step schedules run: the twin puts nothing in them.
pub const FIXED_STEP_HZ: f64 = 1.0;

/// The one place that orders sets: [`AppSystems`], [`DataSystems`] inside it, and the plugins'
/// own sets inside those.
pub fn configure_frame_order(app: &mut App) {
    // Nothing of the twin runs at a fixed step: all of it follows the frame or the data's own
    // clock. Bevy's fixed loop still runs its bookkeeping (gizmo contexts, message buffers) at
    // 64 Hz, six times in each frame of a 10,000-asset plant drawn at 10 frames a second on a
    // software renderer: 0.7 ms a frame measured. Once a second it costs nothing.
    app.insert_resource(Time::<Fixed>::from_hz(FIXED_STEP_HZ));
    use crate::camera::CameraSystems;
    use crate::sandbox::SandboxSystems;
    use crate::score_colour::ScoreColourSystems;
    use crate::selection::SelectionSystems;
    use crate::wall::WallSystems;
    app.configure_sets(
        Update,
        (
            AppSystems::Input,
            AppSystems::Data,
            AppSystems::ApplyIntents,
            AppSystems::Presentation,
        )
            .chain(),
    )
    .configure_sets(
        Update,
        (
            DataSystems::Feed,
            DataSystems::Spawn,
            DataSystems::Ingest,
            DataSystems::Predict,
            DataSystems::Observe,
        )
            .chain()
            .in_set(AppSystems::Data),
    )
    .configure_sets(
        Update,
        (
            WallSystems.in_set(AppSystems::Input),
            // The sandbox sees this frame's selection.
            (SelectionSystems, SandboxSystems)
                .chain()
                .in_set(AppSystems::ApplyIntents),
            (CameraSystems, ScoreColourSystems).in_set(AppSystems::Presentation),
            // How soon the next frame is drawn depends on what this one showed.
            crate::redraw::RedrawSystems.after(AppSystems::Presentation),
        ),
    )
    // The frame's cost is marked either side of the panels.
    .configure_sets(
        bevy_egui::EguiPrimaryContextPass,
        (
            crate::frame_cost::PanelMarks::Before,
            crate::ui::UiSystems,
            crate::frame_cost::PanelMarks::After,
        )
            .chain(),
    );
}

/// The main world's schedules run their systems one after another on the main thread, not as
/// tasks on the compute pool. The twin's frame is mostly one chain (input, the data path,
/// intents, presentation, the panels), so Bevy's multi-threaded executor found little to run
/// side by side, and it paid for each system a task and a wake-up of a pool thread: at 10,000
/// assets on 2 cores, 18 % of the pool thread's samples were in futex wake-ups, and the input
/// phase (First and PreUpdate, a few cheap systems) cost 1.2-1.5 ms. One thread: 0.3-0.4 ms.
/// Systems that split their own work (`par_iter`) still use the pool. The render world keeps
/// Bevy's executor on its own thread: made single-threaded too it drew no more frames.
pub fn run_main_schedules_on_one_thread(app: &mut App) {
    for label in [
        First.intern(),
        PreUpdate.intern(),
        Update.intern(),
        PostUpdate.intern(),
        Last.intern(),
    ] {
        app.edit_schedule(label, |schedule| {
            schedule.set_executor(SingleThreadedExecutor::new());
        });
    }
}

/// Everything that works without a window: the plant, its scene, selection and the camera.
/// Tests run this on `MinimalPlugins`.
pub struct TwinCorePlugin {
    pub document: PlantDocument,
}

impl Plugin for TwinCorePlugin {
    fn build(&self, app: &mut App) {
        configure_frame_order(app);
        app.add_plugins((
            PlantPlugin {
                document: self.document.clone(),
            },
            ScenePlugin,
            SelectionPlugin,
            CameraPlugin,
            crate::detail::DetailPlugin,
        ));
    }
}

/// Options of the windowed app, from the command line.
#[derive(Debug, Clone, Default)]
pub struct GuiOptions {
    pub select: Option<String>,
    pub window_size: Option<(u32, u32)>,
    pub capture: Option<CaptureRequest>,
    /// Never allow editing the layout.
    pub read_only: bool,
    /// Start in edit mode.
    pub edit: bool,
    /// Where Save writes (instead of the loaded layout file).
    pub save_as: Option<std::path::PathBuf>,
    /// What the scene's colours show at start.
    pub colour_by: crate::score_colour::ColourBy,
    /// Run as a wall display with these settings, on this monitor.
    pub wall: Option<(plant_twin_core::wall::config::WallConfig, usize)>,
    /// Record the raw messages to this file from the start.
    pub record: Option<std::path::PathBuf>,
    /// Replay this recording instead of live data.
    pub replay: Option<std::path::PathBuf>,
    /// Replay speed (default 1x).
    pub speed: Option<f64>,
    /// The audit trail of operator actions (None: none).
    pub audit: Option<std::path::PathBuf>,
    /// The render tier asked for.
    pub quality: crate::quality::Quality,
    /// The render scale asked for (None: the tier's).
    pub render_scale: Option<f32>,
    /// Draw every frame instead of on change.
    pub continuous_redraw: bool,
    /// Log frame costs every 10 s.
    pub frame_stats: bool,
    /// Time each render pass (`--pass-times`).
    pub pass_times: bool,
}

/// The desktop app: a window, the 3D scene with picking, and the panels.
pub fn gui_app(
    document: PlantDocument,
    options: GuiOptions,
    live: LivePlugin,
    prediction: crate::data::predict::PredictionPlugin,
) -> App {
    let (width, height) = options.window_size.unwrap_or((1600, 900));
    let title = format!("plant-twin - {}", document.layout.name);
    let audit_startup = crate::data::audit::startup_actions(&live.source);
    let mut app = App::new();
    // The main world's systems run on this thread and the compute pool's: their CPU time is
    // what a frame costs the twin, apart from waiting for a core (`frame_cost`).
    let cpu_clocks = crate::thread_cpu::ThreadClocks::default();
    cpu_clocks.add_current_thread();
    let pool_clocks = cpu_clocks.clone();
    let task_pools = bevy::app::TaskPoolPlugin {
        task_pool_options: bevy::app::TaskPoolOptions {
            compute: bevy::app::TaskPoolThreadAssignmentPolicy {
                on_thread_spawn: Some(std::sync::Arc::new(move || {
                    pool_clocks.add_current_thread();
                })),
                ..bevy::app::TaskPoolOptions::default().compute
            },
            ..default()
        },
    };
    // A wall with an explicit size is a borderless window of exactly that size at the screen's
    // origin: fullscreen is a request to the window manager, and a kiosk X server without one
    // (or Xvfb) ignored it now and then, leaving winit's 800x600.
    let (mode, decorations, position) = match (&options.wall, options.window_size) {
        (Some(_), Some(_)) => (
            bevy::window::WindowMode::Windowed,
            false,
            WindowPosition::At(IVec2::ZERO),
        ),
        // Without a size, the wall's plugin gives the window its monitor's position and size as
        // soon as winit has listed the monitors (`wall::fill_monitor`).
        (Some(_), None) => (
            bevy::window::WindowMode::Windowed,
            false,
            WindowPosition::At(IVec2::ZERO),
        ),
        (None, _) => (
            bevy::window::WindowMode::Windowed,
            true,
            WindowPosition::Automatic,
        ),
    };
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: Some(Window {
                    title,
                    resolution: WindowResolution::new(width, height),
                    mode,
                    decorations,
                    position,
                    ..default()
                }),
                ..default()
            })
            .set(log_plugin())
            .set(task_pools),
    )
    .add_plugins((
        crate::picking::AssetPickingPlugin,
        TwinCorePlugin { document },
        live,
        prediction,
        crate::data::annunciator::AnnunciatorPlugin,
        crate::data::record::RecordPlugin {
            start: options.record.clone(),
        },
        crate::data::replay::ReplayPlugin {
            open: options.replay.clone(),
            speed: Some(options.speed.unwrap_or(1.0)),
            index_on_open: true,
            ..default()
        },
        SandboxPlugin {
            // A wall display never edits; the sandbox locks itself while a recording is open.
            read_only: options.read_only || options.wall.is_some(),
            save_as: options.save_as.clone(),
        },
        HighlightPlugin,
        ViolationGizmosPlugin,
        crate::flows::FlowsPlugin,
        crate::flows::FlowDrawingPlugin,
        crate::score_colour::ScoreColourPlugin,
        crate::scene::FloorGridPlugin,
        UiPlugin,
    ))
    .add_plugins((
        crate::scene_image::SceneImagePlugin,
        crate::frame_cost::FrameCostPlugin {
            log_every_s: options.frame_stats.then_some(10.0),
            pass_times: options.pass_times,
            cpu_clocks: Some(cpu_clocks),
        },
        crate::data::audit::AuditPlugin {
            path: options.audit.clone(),
            startup: audit_startup,
        },
        crate::quality::QualityPlugin {
            requested: options.quality,
            render_scale: options.render_scale,
        },
        crate::redraw::RedrawPlugin {
            pipelines: default(),
            policy: crate::redraw::RedrawPolicy {
                continuous: options.continuous_redraw,
                ..default()
            },
        },
    ));
    if let Some(id) = options.select {
        if options.replay.is_some() {
            // The recording's plant replaces this one first: select in it once it is there.
            app.insert_resource(SelectWhenReplayReady(Some(id)))
                .add_systems(Update, select_when_replay_ready.in_set(AppSystems::Input));
        } else {
            app.world_mut().write_message(SelectAsset {
                target: SelectTarget::Id(id),
                frame: true,
                additive: false,
            });
        }
    }
    if options.edit && !options.read_only {
        app.insert_state(EditMode::Editing);
    }
    app.insert_resource(options.colour_by.clone());
    // A window spreads a burst of data over its frames; a headless run takes all of it.
    app.insert_resource(crate::data::telemetry::IngestPacing::WINDOW);
    if let Some((config, monitor)) = options.wall {
        app.add_plugins(crate::wall::WallPlugin {
            config,
            fill_monitor: options.window_size.is_none().then_some(monitor),
        });
    }
    if let Some(capture) = options.capture {
        app.add_plugins(CapturePlugin { request: capture });
    }
    run_main_schedules_on_one_thread(&mut app);
    app.edit_schedule(bevy_egui::EguiPrimaryContextPass, |schedule| {
        schedule.set_executor(SingleThreadedExecutor::new());
    });
    app
}

/// `--select` with `--replay`: the asset to select once the recording's plant is spawned.
#[derive(Resource)]
struct SelectWhenReplayReady(Option<String>);

fn select_when_replay_ready(
    mut pending: ResMut<SelectWhenReplayReady>,
    replay: Res<crate::data::replay::ReplayState>,
    mut select: MessageWriter<SelectAsset>,
) {
    let ready = replay.session.as_ref().is_some_and(|s| s.ready());
    if ready && let Some(id) = pending.0.take() {
        select.write(SelectAsset {
            target: SelectTarget::Id(id),
            frame: true,
            additive: false,
        });
    }
}

/// Logging to standard error, coloured only on a terminal: a log file or a pipeline reading
/// the errors of a headless run gets plain text, not escape codes.
pub fn log_plugin() -> bevy::log::LogPlugin {
    bevy::log::LogPlugin {
        fmt_layer: plain_unless_terminal,
        ..default()
    }
}

fn plain_unless_terminal(_: &mut App) -> Option<bevy::log::BoxedFmtLayer> {
    use std::io::IsTerminal;
    Some(Box::new(
        bevy::log::tracing_subscriber::fmt::Layer::default()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal()),
    ))
}
