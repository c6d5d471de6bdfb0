//! What a frame costs the CPU, apart from the GPU: the time the main world's systems take (input,
//! data path, prediction, panels) and the number of draw calls the renderer issues. Under a
//! software renderer the frame time is mostly the rasteriser; these two figures say whether the
//! twin itself keeps up with a large plant (`--screenshot` logs them; the status bar shows them on
//! hover).

use std::any::TypeId;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use bevy::app::MainScheduleOrder;
use bevy::camera::visibility::VisibleEntities;
use bevy::core_pipeline::core_3d::{AlphaMask3d, Opaque3d, Transparent3d};
use bevy::diagnostic::DiagnosticsStore;
use bevy::ecs::schedule::ScheduleLabel;
use bevy::pbr::Shadow;
use bevy::prelude::*;
use bevy::render::render_phase::{
    BinnedPhaseItem, BinnedRenderPhase, ViewBinnedRenderPhases, ViewSortedRenderPhases,
};
use bevy::render::{Render, RenderApp, RenderSystems};

use crate::frame::AppSystems;
use crate::thread_cpu::ThreadClocks;

pub struct FrameCostPlugin {
    /// Log a summary this often (`--frame-stats`).
    pub log_every_s: Option<f32>,
    /// Time each render pass with timestamp queries (`--pass-times`).
    pub pass_times: bool,
    /// The threads the main world's systems run on, to count their CPU time (the window's
    /// main thread and compute pool; none headless).
    pub cpu_clocks: Option<ThreadClocks>,
}

impl Plugin for FrameCostPlugin {
    fn build(&self, app: &mut App) {
        let draws = DrawCounter::default();
        if self.pass_times {
            // Bevy's render passes time themselves on the GPU (or a software renderer's queue)
            // when this plugin is present; the figures arrive in the `DiagnosticsStore`.
            app.add_plugins(bevy::render::diagnostic::RenderDiagnosticsPlugin);
        }
        if let Some(clocks) = &self.cpu_clocks {
            app.insert_resource(clocks.clone());
        }
        app.insert_resource(draws.clone())
            .init_resource::<FrameCost>()
            .add_systems(First, start_frame)
            .add_systems(Last, end_frame)
            .add_systems(PreUpdateDone, mark::<{ Phase::Input as usize }>)
            .add_systems(
                Update,
                mark::<{ Phase::Data as usize }>
                    .after(AppSystems::Data)
                    .before(AppSystems::ApplyIntents),
            )
            .add_systems(UpdateDone, mark::<{ Phase::Update as usize }>)
            .add_systems(PostUpdateDone, mark::<{ Phase::AfterPanels as usize }>)
            .add_systems(
                bevy_egui::EguiPrimaryContextPass,
                (
                    mark::<{ Phase::BeforePanels as usize }>.in_set(PanelMarks::Before),
                    mark::<{ Phase::Panels as usize }>.in_set(PanelMarks::After),
                ),
            );
        // Marks between the main schedules, so a phase is a schedule's whole run.
        let mut order = app.world_mut().resource_mut::<MainScheduleOrder>();
        order.insert_after(PreUpdate, PreUpdateDone);
        order.insert_after(Update, UpdateDone);
        order.insert_after(PostUpdate, PostUpdateDone);
        if let Some(every_s) = self.log_every_s {
            app.insert_resource(FrameCostLog {
                every_s,
                ..default()
            })
            .add_systems(Last, log_frame_cost.after(end_frame));
        }
        // Headless apps have no renderer: the CPU time is still measured.
        if let Some(render_app) = app.get_sub_app_mut(RenderApp) {
            render_app.insert_resource(draws).add_systems(
                Render,
                count_draws
                    .after(RenderSystems::Prepare)
                    .before(RenderSystems::Render),
            );
        }
    }
}

/// Runs right after [`PreUpdate`] to mark the end of the input phase.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
struct PreUpdateDone;

/// Runs right after [`Update`].
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
struct UpdateDone;

/// The marks either side of the panels in bevy_egui's pass (ordered around the UI's set
/// where the frame order is declared).
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PanelMarks {
    Before,
    After,
}

/// Runs right after [`PostUpdate`].
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
struct PostUpdateDone;

/// Where a frame's main-world time goes, in frame order; each phase ends at its mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// First and PreUpdate: window and input events, picking, asset events.
    Input,
    /// Update up to the end of [`AppSystems::Data`]: the telemetry drained, scored and alarmed.
    Data,
    /// The rest of Update: intents, selection, the sandbox, camera, scene colours.
    Update,
    /// PostUpdate up to the panels: Bevy's transforms, bounds and visibility run here or after
    /// the panels, as its executor schedules them.
    BeforePanels,
    /// The egui panels and labels.
    Panels,
    /// The rest of PostUpdate.
    AfterPanels,
    /// Last: the frame's figures, captures, what decides the next redraw.
    Last,
}

impl Phase {
    pub const ALL: [Phase; 7] = [
        Phase::Input,
        Phase::Data,
        Phase::Update,
        Phase::BeforePanels,
        Phase::Panels,
        Phase::AfterPanels,
        Phase::Last,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Input => "input",
            Phase::Data => "data",
            Phase::Update => "update",
            Phase::BeforePanels => "post-update",
            Phase::Panels => "panels",
            Phase::AfterPanels => "post-update after panels",
            Phase::Last => "last",
        }
    }
}

/// The cost of recent frames.
#[derive(Resource, Debug, Default, Clone, PartialEq)]
pub struct FrameCost {
    /// The main world's systems, First to Last, smoothed over about 20 frames.
    pub main_world_ms: f32,
    /// The last frame's main-world time by [`Phase`], ms.
    pub last_phase_ms: [f32; Phase::ALL.len()],
    /// When each phase's mark ran this frame, ms after the frame started (0: not reached).
    marks_ms: [f32; Phase::ALL.len()],
    /// The last frame's, unsmoothed.
    pub last_main_world_ms: f32,
    /// The CPU time the main world's threads used in the last frame, ms (see `thread_cpu`):
    /// the wall time above less the time they waited for a core. `None` when not counted.
    pub last_main_world_cpu_ms: Option<f32>,
    /// Draw calls of the last rendered frame (every view: the scene, shadow maps).
    pub draw_calls: u32,
    /// Meshes the 3D cameras see after frustum culling: what those draws draw (a multi-draw
    /// call draws many).
    pub instances: u32,
    started: Option<Instant>,
    cpu_started_ns: Option<u64>,
}

/// How often the 3D scene was drawn and kept from the frame before (`redraw` decides).
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq)]
pub struct SceneDraws {
    pub drawn: u64,
    pub skipped: u64,
    /// Frames in which nothing at all was drawn: the window kept its image.
    pub window_kept: u64,
}

/// `--frame-stats`: what the frames since the last line cost.
#[derive(Resource, Debug, Default)]
struct FrameCostLog {
    every_s: f32,
    since: Option<Instant>,
    frames: u32,
    main_world_ms: Vec<f32>,
    /// The CPU time of the main world's threads, ms a frame (frames where it was counted).
    cpu_ms: Vec<f32>,
    phase_ms_sum: [f32; Phase::ALL.len()],
    /// The phases of the slowest frame since the last line: a mean hides what a spike was.
    slowest_phase_ms: [f32; Phase::ALL.len()],
}

fn log_frame_cost(
    cost: Res<FrameCost>,
    scene: Option<Res<SceneDraws>>,
    diagnostics: Option<Res<DiagnosticsStore>>,
    clocks: Option<Res<ThreadClocks>>,
    mut log: ResMut<FrameCostLog>,
) {
    let since = *log.since.get_or_insert_with(Instant::now);
    log.frames += 1;
    let ms = cost.last_main_world_ms;
    if log.main_world_ms.iter().all(|&earlier| earlier < ms) {
        log.slowest_phase_ms = cost.last_phase_ms;
    }
    log.main_world_ms.push(ms);
    if let Some(cpu_ms) = cost.last_main_world_cpu_ms {
        log.cpu_ms.push(cpu_ms);
    }
    for (sum, phase_ms) in log.phase_ms_sum.iter_mut().zip(cost.last_phase_ms) {
        *sum += phase_ms;
    }
    let elapsed_s = since.elapsed().as_secs_f32();
    if elapsed_s < log.every_s {
        return;
    }
    let frames = log.frames;
    let mut times = std::mem::take(&mut log.main_world_ms);
    times.sort_by(f32::total_cmp);
    let mean = times.iter().sum::<f32>() / times.len().max(1) as f32;
    let median = times.get(times.len() / 2).copied().unwrap_or(0.0);
    let max = times.last().copied().unwrap_or(0.0);
    let phases = phase_summary(&std::mem::take(&mut log.phase_ms_sum), frames);
    let slowest = phase_summary(&std::mem::take(&mut log.slowest_phase_ms), 1);
    let cpu = cpu_summary(&std::mem::take(&mut log.cpu_ms), clocks.as_deref());
    info!(
        "frame cost: {frames} frames in {elapsed_s:.1} s; the twin's own systems (main world) \
         mean {mean:.1} ms ({phases}), median {median:.1} ms, max {max:.1} ms ({slowest}){cpu}; \
         {} draw calls, {} mesh instances in view; 3D scene drawn in {} frames so far, kept from the frame before in {} \
         (the whole window in {}){}",
        cost.draw_calls,
        cost.instances,
        scene.as_ref().map_or(0, |s| s.drawn),
        scene.as_ref().map_or(0, |s| s.skipped),
        scene.as_ref().map_or(0, |s| s.window_kept),
        diagnostics
            .as_deref()
            .map(render_pass_times)
            .unwrap_or_default(),
    );
    log.frames = 0;
    log.since = Some(Instant::now());
}

/// "; CPU time of its 2 threads mean 12.0 ms, max 30.1 ms": what the main world's threads ran
/// (not waited) a frame, or nothing where it was not counted.
pub fn cpu_summary(cpu_ms: &[f32], clocks: Option<&ThreadClocks>) -> String {
    let (Some(clocks), false) = (clocks, cpu_ms.is_empty()) else {
        return String::new();
    };
    let mean = cpu_ms.iter().sum::<f32>() / cpu_ms.len() as f32;
    let max = cpu_ms.iter().copied().fold(0.0, f32::max);
    format!(
        "; CPU time of its {} threads (main and compute pool; the render world's tasks on the \
         pool count too) mean {mean:.1} ms, max {max:.1} ms",
        clocks.threads()
    )
}

/// "; render passes (GPU time): main_opaque_pass_3d 5.5 ms, ...", from what Bevy's render
/// diagnostics measured (`--pass-times`), or nothing without them.
pub fn render_pass_times(diagnostics: &DiagnosticsStore) -> String {
    let passes = diagnostics.iter().filter_map(|diagnostic| {
        let path = diagnostic.path().as_str();
        let pass = path.strip_prefix("render/")?.strip_suffix("/elapsed_gpu")?;
        Some((pass.to_string(), diagnostic.smoothed()?))
    });
    pass_summary(passes)
}

/// The passes, slowest first, with their sum. A pass that runs for two cameras (the copy to
/// the target, say) is one diagnostic: its figure is the mean of the two.
fn pass_summary(passes: impl Iterator<Item = (String, f64)>) -> String {
    let mut passes: Vec<(String, f64)> = passes.collect();
    if passes.is_empty() {
        return String::new();
    }
    passes.sort_by(|a, b| b.1.total_cmp(&a.1));
    let total_ms: f64 = passes.iter().map(|(_, ms)| ms).sum();
    let each = passes
        .iter()
        .map(|(pass, ms)| format!("{pass} {ms:.1} ms"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("; render passes (GPU time, {total_ms:.1} ms in all): {each}")
}

/// "input 1.2 ms, data 3.4 ms, ...": the mean of each phase over `frames`.
pub fn phase_summary(phase_ms_sum: &[f32; Phase::ALL.len()], frames: u32) -> String {
    Phase::ALL
        .iter()
        .zip(phase_ms_sum)
        .map(|(phase, sum)| format!("{} {:.1} ms", phase.name(), sum / frames.max(1) as f32))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each phase's time from the marks (ms after the frame started; the last phase ends at
/// `total_ms`). A phase whose mark did not run (no panels headless, say) takes 0 and its time
/// goes to the next phase that ran, so the phases always add up to the frame.
fn phases_from_marks(
    mut marks_ms: [f32; Phase::ALL.len()],
    total_ms: f32,
) -> [f32; Phase::ALL.len()] {
    if let Some(last) = marks_ms.last_mut() {
        *last = total_ms;
    }
    let mut phases = [0.0; Phase::ALL.len()];
    let mut previous_ms = 0.0;
    for (phase_ms, mark_ms) in phases.iter_mut().zip(marks_ms) {
        if mark_ms > 0.0 {
            *phase_ms = mark_ms - previous_ms;
            previous_ms = mark_ms;
        }
    }
    phases
}

/// The render world's counts, read by the main world a frame later.
#[derive(Resource, Default, Clone)]
struct DrawCounter {
    draws: Arc<AtomicU32>,
}

fn start_frame(mut cost: ResMut<FrameCost>, clocks: Option<Res<ThreadClocks>>) {
    cost.started = Some(Instant::now());
    cost.cpu_started_ns = clocks.and_then(|clocks| clocks.cpu_ns());
    cost.marks_ms = [0.0; Phase::ALL.len()];
}

fn mark<const PHASE: usize>(mut cost: ResMut<FrameCost>) {
    if let (Some(started), Some(mark)) = (cost.started, cost.marks_ms.get_mut(PHASE)) {
        *mark = started.elapsed().as_secs_f32() * 1000.0;
    }
}

fn end_frame(
    mut cost: ResMut<FrameCost>,
    counter: Res<DrawCounter>,
    cameras: Query<&VisibleEntities, With<Camera3d>>,
    clocks: Option<Res<ThreadClocks>>,
) {
    let Some(started) = cost.started.take() else {
        return;
    };
    let ms = started.elapsed().as_secs_f32() * 1000.0;
    cost.last_main_world_ms = ms;
    cost.last_main_world_cpu_ms = match (cost.cpu_started_ns, clocks.and_then(|c| c.cpu_ns())) {
        (Some(start), Some(end)) => Some(end.saturating_sub(start) as f32 / 1e6),
        _ => None,
    };
    cost.last_phase_ms = phases_from_marks(cost.marks_ms, ms);
    cost.main_world_ms = if cost.main_world_ms == 0.0 {
        ms
    } else {
        cost.main_world_ms * 0.95 + ms * 0.05
    };
    cost.draw_calls = counter.draws.load(Ordering::Relaxed);
    cost.instances = cameras
        .iter()
        .map(|visible| visible.get(TypeId::of::<Mesh3d>()).len() as u32)
        .sum();
}

/// Draw calls of one binned phase: a multi-draw batch set is one call; each bin of batchable
/// meshes (one mesh and material) is one instanced call; unbatchable meshes are one call each.
fn binned<I: BinnedPhaseItem>(phase: &BinnedRenderPhase<I>) -> u32 {
    let single: u32 = phase
        .unbatchable_meshes
        .values()
        .map(|u| u.entities.len() as u32)
        .sum();
    phase.multidrawable_meshes.len() as u32 + phase.batchable_meshes.len() as u32 + single
}

fn count_draws(
    counter: Res<DrawCounter>,
    opaque: Option<Res<ViewBinnedRenderPhases<Opaque3d>>>,
    alpha_mask: Option<Res<ViewBinnedRenderPhases<AlphaMask3d>>>,
    shadow: Option<Res<ViewBinnedRenderPhases<Shadow>>>,
    transparent: Option<Res<ViewSortedRenderPhases<Transparent3d>>>,
) {
    let mut total = 0u32;
    let mut add = |draws: u32| total += draws;
    for phases in opaque.iter() {
        phases.values().map(binned).for_each(&mut add);
    }
    for phases in alpha_mask.iter() {
        phases.values().map(binned).for_each(&mut add);
    }
    for phases in shadow.iter() {
        phases.values().map(binned).for_each(&mut add);
    }
    for phases in transparent.iter() {
        for phase in phases.values() {
            // As the renderer walks a sorted phase: a batch's first item draws it and the
            // items merged into it are skipped.
            let items: Vec<_> = phase.items.values().collect();
            let mut index = 0;
            while let Some(item) = items.get(index) {
                let range = bevy::render::render_phase::PhaseItem::batch_range(*item);
                if range.is_empty() {
                    index += 1;
                } else {
                    add(1);
                    index += range.len();
                }
            }
        }
    }
    counter.draws.store(total, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_passes_are_listed_slowest_first_with_their_sum() {
        assert_eq!(pass_summary(std::iter::empty()), "");
        let passes = [
            ("upscaling".to_string(), 2.0),
            ("main_opaque_pass_3d".to_string(), 5.5),
            ("main_transparent_pass_3d".to_string(), 3.5),
        ];
        assert_eq!(
            pass_summary(passes.into_iter()),
            "; render passes (GPU time, 11.0 ms in all): main_opaque_pass_3d 5.5 ms, \
             main_transparent_pass_3d 3.5 ms, upscaling 2.0 ms"
        );
    }

    #[test]
    fn phases_add_up_to_the_frame_and_a_missing_mark_passes_its_time_on() {
        // Input ends at 1, data at 3, update at 4, post-update at 6, the panels at 9, the rest
        // of post-update at 10; the frame ends at 12.
        let phases = phases_from_marks([1.0, 3.0, 4.0, 6.0, 9.0, 10.0, 0.0], 12.0);
        assert_eq!(phases, [1.0, 2.0, 1.0, 2.0, 3.0, 1.0, 2.0]);
        // Headless: no panels, so neither panel mark ran; their time is the next phase's.
        let phases = phases_from_marks([1.0, 3.0, 4.0, 0.0, 0.0, 10.0, 0.0], 12.0);
        assert_eq!(phases, [1.0, 2.0, 1.0, 0.0, 0.0, 6.0, 2.0]);
        assert_eq!(phases.iter().sum::<f32>(), 12.0);
    }
}
