//! When the window draws. A twin mostly sits still: live data changes once a second, and a
//! workstation running CAD beside it should not pay for 60 identical frames a second (drawing
//! continuously kept 1.76 of this machine's 2 cores busy with the demo plant at rest).
//!
//! So the window draws on input (winit wakes it), at least once per `idle` interval (new data
//! is drained and shown then), and at the animation rate while something moves: an
//! unacknowledged alarm pulsing, a replay playing. A camera in motion (easing to a framed
//! asset, the wall's tour), a recording's first pass, a burst of data still being applied
//! (`IngestPacing`) and a pending screenshot draw every frame. `--redraw continuous` restores drawing as fast as possible.
//!
//! A frame that redraws only for the panels (new data once a second, a tooltip) need not
//! draw the 3D scene again when nothing in it changed: a scaled view (`camera::SceneTarget`)
//! draws into an image the panels camera shows (`scene_image`), and the image keeps the last
//! scene. The scene camera is switched off for such frames, at rest only, and on again at the
//! start of every frame so picking always sees it; at least every [`SCENE_REFRESH`] it draws
//! anyway.
//!
//! A frame at rest in which the panels did not change either (egui painted the same shapes,
//! with no new texture) draws nothing at all: every camera is switched off, so the window is
//! not presented and keeps the image it shows. Under a software renderer the once-a-second
//! frame was most of the idle cost (clearing, painting the panels, blitting and presenting a
//! 1080p window: about 14 % of a core); a plant at rest with nothing selected changes nothing
//! on screen for seconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bevy::platform::collections::HashMap;
use bevy::prelude::*;
use bevy::render::render_resource::PipelineCache;
use bevy::render::{Render, RenderApp, RenderSystems};
use bevy::winit::{UpdateMode, WinitSettings};
use bevy_egui::{EguiInput, EguiPreUpdateSet, EguiRenderOutput, PrimaryEguiContext, egui};

use bevy::camera::visibility::InheritedVisibility;
use bevy::input::keyboard::KeyboardInput;
use bevy::input::mouse::{MouseButtonInput, MouseWheel};
use bevy::window::{CursorMoved, WindowFocused, WindowOccluded, WindowResized};

use crate::camera::{OrbitCamera, SceneTarget};
use crate::capture::CaptureState;
use crate::data::replay::ReplayState;
use crate::frame_cost::SceneDraws;
use crate::quality::{RenderQuality, Tier};
use crate::score_colour::Tinted;

/// How often the window draws when nothing asks for more.
#[derive(Resource, Debug, Clone, Copy, PartialEq)]
pub struct RedrawPolicy {
    /// Draw as fast as possible, always.
    pub continuous: bool,
    /// Longest time between two frames at rest: new data waits at most this long to be shown.
    pub idle: Duration,
    /// Time between frames while something animates (alarm pulse, replay).
    pub animation: Duration,
    /// The same in the low render tier: a software renderer spends ~200 ms on a frame, so 10
    /// pulse frames a second would keep it drawing without rest; 4 still show the pulse (one
    /// beat a second).
    pub animation_low_tier: Duration,
}

impl Default for RedrawPolicy {
    fn default() -> Self {
        RedrawPolicy {
            continuous: false,
            idle: Duration::from_secs(1),
            animation: Duration::from_millis(100),
            animation_low_tier: Duration::from_millis(250),
        }
    }
}

/// What the window is doing: for the status bar and the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pace {
    Continuous,
    Moving,
    Animating,
    #[default]
    Idle,
}

impl Pace {
    pub fn name(self) -> &'static str {
        match self {
            Pace::Continuous => "continuous",
            Pace::Moving => "moving",
            Pace::Animating => "animating",
            Pace::Idle => "idle",
        }
    }
}

/// Chooses the next frame's pace from what this frame presented (ordered after
/// `AppSystems::Presentation` in `app::configure_frame_order`).
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct RedrawSystems;

/// The pace chosen for the next frame.
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RedrawPace(pub Pace);

pub struct RedrawPlugin {
    pub policy: RedrawPolicy,
    /// Shared with the renderer (see [`PipelinesWaiting`]).
    pub pipelines: PipelinesWaiting,
}

impl Plugin for RedrawPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(self.policy)
            .init_resource::<RedrawPace>()
            .insert_resource(settings(&self.policy, Pace::Idle, Tier::High))
            .init_resource::<SceneDraws>()
            .insert_resource(self.pipelines.clone())
            .add_systems(Update, choose_pace.in_set(RedrawSystems))
            // On in First, so input and picking always see the camera; off in Last (after
            // transforms and gizmos are final) when the scene did not change.
            .add_systems(First, scene_camera_on)
            .add_systems(Last, skip_unchanged_frame)
            .add_systems(
                PreUpdate,
                drop_unchanged_modifiers
                    .after(EguiPreUpdateSet::ProcessInput)
                    .before(EguiPreUpdateSet::BeginPass),
            );
        // Headless apps have no renderer: nothing compiles there.
        if let Some(render_app) = app.get_sub_app_mut(RenderApp) {
            render_app
                .insert_resource(self.pipelines.clone())
                .add_systems(
                    Render,
                    count_waiting_pipelines.in_set(RenderSystems::Cleanup),
                );
        }
    }
}

/// Winit's update modes for a pace. Unfocused, raw mouse motion elsewhere on the desktop does
/// not wake the twin (low power); focused, it does (a drag that leaves the window).
fn settings(policy: &RedrawPolicy, pace: Pace, tier: Tier) -> WinitSettings {
    let wait = match pace {
        Pace::Continuous => {
            return WinitSettings {
                focused_mode: UpdateMode::Continuous,
                unfocused_mode: UpdateMode::Continuous,
            };
        }
        Pace::Moving => Duration::ZERO,
        Pace::Animating if tier == Tier::Low => policy.animation_low_tier,
        Pace::Animating => policy.animation,
        Pace::Idle => policy.idle,
    };
    WinitSettings {
        focused_mode: UpdateMode::reactive(wait),
        unfocused_mode: UpdateMode::reactive_low_power(wait),
    }
}

#[allow(clippy::too_many_arguments)]
fn choose_pace(
    policy: Res<RedrawPolicy>,
    mut pace: ResMut<RedrawPace>,
    mut winit: ResMut<WinitSettings>,
    moved_cameras: Query<(), (With<Camera3d>, Changed<Transform>)>,
    tinted: Query<&Tinted>,
    replay: Option<Res<ReplayState>>,
    capture: Option<Res<CaptureState>>,
    quality: Option<Res<RenderQuality>>,
    flows: Option<Res<crate::flows::MaterialFlows>>,
    ingest: Option<Res<crate::data::telemetry::IngestStatus>>,
    pacing: Option<ResMut<crate::data::telemetry::IngestPacing>>,
) {
    let tier = quality.map_or(Tier::High, |q| q.tier);
    let session = replay.as_ref().and_then(|r| r.session.as_ref());
    let playing =
        session.is_some_and(|s| s.playing) || replay.as_ref().is_some_and(|r| r.loading.is_some());
    // The first pass through a recording (alarm markers, checkpoints) runs a budget per frame:
    // every frame, as fast as it can.
    let indexing = session.is_some_and(|s| s.indexing);
    // A burst of data left for the next frames (`IngestPacing`) is applied at once, not at
    // the idle pace.
    let backlog = ingest.is_some_and(|status| status.backlog_events > 0);
    let next = if policy.continuous || capture.is_some() {
        Pace::Continuous
    } else if indexing || backlog || !moved_cameras.is_empty() {
        Pace::Moving
    } else if playing
        || tinted.iter().any(Tinted::pulses)
        // The optimiser's progress and ghosts.
        || flows.is_some_and(|f| f.job.is_some())
    {
        Pace::Animating
    } else {
        Pace::Idle
    };
    // At rest, the next burst of data is applied in the one frame drawn for it.
    if let Some(mut pacing) = pacing {
        let at_rest = next == Pace::Idle;
        if pacing.at_rest != at_rest {
            pacing.at_rest = at_rest;
        }
    }
    // Winit redraws at once whenever its update mode changes: write only a real change.
    let wanted = settings(&policy, next, tier);
    let mode_differs =
        winit.focused_mode != wanted.focused_mode || winit.unfocused_mode != wanted.unfocused_mode;
    if pace.0 != next || mode_differs {
        debug!("redraw pace: {}", next.name());
        pace.0 = next;
        *winit = wanted;
    }
}

/// bevy_egui reports the keyboard modifiers as an input event every frame, changed or not, and
/// egui answers any input event by asking for another frame at once: the window never rested.
/// Only a real change of the modifiers reaches egui (egui keeps the last state it was told).
fn drop_unchanged_modifiers(
    mut inputs: Query<(Entity, &mut EguiInput)>,
    mut told: Local<HashMap<Entity, egui::Modifiers>>,
) {
    for (entity, mut input) in &mut inputs {
        let last = told.get(&entity).copied();
        let mut newest = last;
        input.0.events.retain(|event| match event {
            egui::Event::ModifiersChanged(modifiers) => {
                let changed = newest != Some(*modifiers);
                newest = Some(*modifiers);
                changed
            }
            _ => true,
        });
        if let Some(modifiers) = newest {
            told.insert(entity, modifiers);
        }
    }
}

/// Pipelines the renderer is still compiling (a software renderer takes seconds): a scene
/// drawn now may lack what they draw, so it is drawn again until none waits.
#[derive(Resource, Debug, Default, Clone)]
pub struct PipelinesWaiting(pub Arc<AtomicUsize>);

fn count_waiting_pipelines(cache: Res<PipelineCache>, waiting: Res<PipelinesWaiting>) {
    waiting
        .0
        .store(cache.waiting_pipelines().count(), Ordering::Relaxed);
}

/// At rest the scene is drawn at least this often, even when nothing seemed to change.
pub const SCENE_REFRESH: Duration = Duration::from_secs(10);

/// The cameras [`skip_unchanged_frame`] may switch off: the scene's and the panels'.
type SwitchedAtRest = Or<(With<OrbitCamera>, With<PrimaryEguiContext>)>;

/// The panels' camera and what egui painted for it.
type PanelCameras<'w, 's> = Query<
    'w,
    's,
    (&'static mut Camera, Option<&'static EguiRenderOutput>),
    (With<PrimaryEguiContext>, Without<OrbitCamera>),
>;

/// Every camera [`skip_unchanged_frame`] may switch off is on again at the start of a frame:
/// picking and egui's input see the scene and the panels as they are.
fn scene_camera_on(mut cameras: Query<&mut Camera, SwitchedAtRest>) {
    for mut camera in &mut cameras {
        if !camera.is_active {
            camera.is_active = true;
        }
    }
}

/// Everything that changes what the 3D scene shows: its meshes, materials and transforms,
/// the camera, the gizmos' sources (selection, sandbox violations, the optimiser's ghosts),
/// the render settings, pipelines still compiling, and any input (a hover may start on the
/// next frame).
#[derive(bevy::ecs::system::SystemParam)]
struct SceneChanges<'w, 's> {
    target: Res<'w, SceneTarget>,
    materials: Option<Res<'w, Assets<StandardMaterial>>>,
    meshes: Option<Res<'w, Assets<Mesh>>>,
    selection: Option<Res<'w, crate::selection::Selection>>,
    sandbox: Option<Res<'w, crate::sandbox::Sandbox>>,
    flows: Option<Res<'w, crate::flows::MaterialFlows>>,
    quality: Option<Res<'w, RenderQuality>>,
    pipelines: Option<Res<'w, PipelinesWaiting>>,
    #[allow(clippy::type_complexity)]
    drawn: Query<
        'w,
        's,
        (),
        (
            With<Mesh3d>,
            Or<(
                Changed<GlobalTransform>,
                Changed<Visibility>,
                Changed<InheritedVisibility>,
                Changed<MeshMaterial3d<StandardMaterial>>,
                Changed<Mesh3d>,
            )>,
        ),
    >,
    #[allow(clippy::type_complexity)]
    cameras_moved: Query<
        'w,
        's,
        (),
        (
            With<OrbitCamera>,
            Or<(Changed<GlobalTransform>, Changed<Projection>)>,
        ),
    >,
    lights: Query<'w, 's, (), Changed<DirectionalLight>>,
    removed: RemovedComponents<'w, 's, Mesh3d>,
    keys: MessageReader<'w, 's, KeyboardInput>,
    buttons: MessageReader<'w, 's, MouseButtonInput>,
    cursor: MessageReader<'w, 's, CursorMoved>,
    wheel: MessageReader<'w, 's, MouseWheel>,
    resized: MessageReader<'w, 's, WindowResized>,
    // A window uncovered or refocused may need its image again (without a compositor the X
    // server does not keep it).
    focused: MessageReader<'w, 's, WindowFocused>,
    occluded: MessageReader<'w, 's, WindowOccluded>,
}

impl SceneChanges<'_, '_> {
    fn any(&mut self) -> bool {
        let changed = |r: Option<bool>| r.unwrap_or(false);
        // Every reader is drained, so a change is seen once.
        let input = self.keys.read().count()
            + self.buttons.read().count()
            + self.cursor.read().count()
            + self.wheel.read().count()
            + self.resized.read().count()
            + self.focused.read().count()
            + self.occluded.read().count()
            + self.removed.read().count()
            > 0;
        let compiling = self
            .pipelines
            .as_ref()
            .is_some_and(|p| p.0.load(Ordering::Relaxed) > 0);
        input
            || compiling
            || self.target.is_changed()
            || changed(self.materials.as_ref().map(Res::is_changed))
            || changed(self.meshes.as_ref().map(Res::is_changed))
            || changed(self.selection.as_ref().map(Res::is_changed))
            || changed(self.sandbox.as_ref().map(Res::is_changed))
            || changed(self.flows.as_ref().map(Res::is_changed))
            || changed(self.quality.as_ref().map(Res::is_changed))
            || !self.drawn.is_empty()
            || !self.cameras_moved.is_empty()
            || !self.lights.is_empty()
    }
}

/// A fingerprint of what egui painted: its meshes (positions, texture coordinates, colours,
/// textures) and their clip rectangles. None when it painted something a fingerprint cannot
/// follow (a paint callback) or changed a texture: such a frame is always drawn.
fn panels_fingerprint(output: &EguiRenderOutput) -> Option<u64> {
    use std::hash::{BuildHasher, Hash, Hasher};
    if !output.textures_delta.is_empty() {
        return None;
    }
    let mut hasher = bevy::platform::hash::FixedHasher.build_hasher();
    for job in &output.paint_jobs {
        let rect = job.clip_rect;
        for v in [rect.min.x, rect.min.y, rect.max.x, rect.max.y] {
            hasher.write_u32(v.to_bits());
        }
        let egui::epaint::Primitive::Mesh(mesh) = &job.primitive else {
            return None;
        };
        mesh.texture_id.hash(&mut hasher);
        hasher.write_usize(mesh.vertices.len());
        for vertex in &mesh.vertices {
            hasher.write_u32(vertex.pos.x.to_bits());
            hasher.write_u32(vertex.pos.y.to_bits());
            hasher.write_u32(vertex.uv.x.to_bits());
            hasher.write_u32(vertex.uv.y.to_bits());
            vertex.color.hash(&mut hasher);
        }
        hasher.write_usize(mesh.indices.len());
        for &index in &mesh.indices {
            hasher.write_u32(index);
        }
    }
    Some(hasher.finish())
}

/// At rest, switches off for this frame what need not draw: the scene camera when it draws
/// into an image and nothing in the scene changed, and every camera when the panels painted
/// the same as the frame before too (the window then keeps its image).
#[allow(clippy::too_many_arguments)]
fn skip_unchanged_frame(
    pace: Res<RedrawPace>,
    policy: Res<RedrawPolicy>,
    time: Res<Time<Real>>,
    mut changes: SceneChanges,
    mut scene_cameras: Query<&mut Camera, With<OrbitCamera>>,
    mut panel_cameras: PanelCameras,
    mut draws: ResMut<SceneDraws>,
    mut last_drawn: Local<Option<Duration>>,
    mut last_panels: Local<Option<u64>>,
) {
    let changed = changes.any();
    let now = time.elapsed();
    let due = last_drawn.is_none_or(|at| now.saturating_sub(at) >= SCENE_REFRESH);
    let scene_unchanged = !policy.continuous && pace.0 == Pace::Idle && !changed && !due;
    // The panels' fingerprint, for the one egui context that paints the window.
    let panels = panel_cameras
        .iter()
        .next()
        .and_then(|(_, output)| output.and_then(panels_fingerprint));
    let panels_unchanged = panels.is_some() && panels == *last_panels;
    *last_panels = panels;
    let keep_window = scene_unchanged && panels_unchanged;
    // Only an image keeps the last scene under new panels; a camera drawing into the window
    // must draw unless the whole window is kept.
    let into_image = changes.target.image.is_some();
    let skip_scene = scene_unchanged && (into_image || keep_window);
    for mut camera in &mut scene_cameras {
        if camera.is_active == skip_scene {
            camera.is_active = !skip_scene;
        }
    }
    for (mut camera, _) in &mut panel_cameras {
        if camera.is_active == keep_window {
            camera.is_active = !keep_window;
        }
    }
    if skip_scene {
        draws.skipped += 1;
    } else {
        draws.drawn += 1;
        *last_drawn = Some(now);
    }
    if keep_window {
        draws.window_kept += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real systems on a minimal world: a scene camera drawing into an image.
    fn app() -> App {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins)
            .insert_resource(Assets::<StandardMaterial>::default())
            .insert_resource(RedrawPolicy::default())
            .insert_resource(RedrawPace(Pace::Idle))
            .insert_resource(SceneTarget {
                rect: Rect::new(0.0, 0.0, 100.0, 100.0),
                image: Some((Handle::default(), UVec2::new(50, 50))),
            })
            .init_resource::<SceneDraws>()
            .add_message::<KeyboardInput>()
            .add_message::<MouseButtonInput>()
            .add_message::<CursorMoved>()
            .add_message::<MouseWheel>()
            .add_message::<WindowResized>()
            .add_message::<WindowFocused>()
            .add_message::<WindowOccluded>()
            .add_systems(First, scene_camera_on)
            .add_systems(Last, skip_unchanged_frame);
        app.world_mut()
            .spawn((Camera::default(), OrbitCamera::default()));
        app
    }

    fn drawn(app: &mut App) -> bool {
        app.update();
        let mut cameras = app.world_mut().query::<&Camera>();
        cameras.single(app.world()).expect("one camera").is_active
    }

    #[test]
    fn the_scene_is_kept_at_rest_and_drawn_on_any_change() {
        let mut app = app();
        assert!(drawn(&mut app), "the first frame draws");
        assert!(!drawn(&mut app), "nothing changed: the image is kept");
        assert!(!drawn(&mut app));
        // A colour changes (an alarm, a score, greying): drawn once.
        app.world_mut()
            .resource_mut::<Assets<StandardMaterial>>()
            .add(StandardMaterial::default());
        assert!(drawn(&mut app), "a material changed");
        assert!(!drawn(&mut app));
        // A mesh moves (a sandbox drag, an asset added).
        let part = app
            .world_mut()
            .spawn((
                Mesh3d::default(),
                Transform::default(),
                Visibility::default(),
            ))
            .id();
        assert!(drawn(&mut app), "a mesh appeared");
        assert!(!drawn(&mut app));
        app.world_mut().entity_mut(part).despawn();
        assert!(drawn(&mut app), "a mesh went");
        // Input may start a hover outline.
        app.world_mut().write_message(CursorMoved {
            window: Entity::PLACEHOLDER,
            position: Vec2::ONE,
            delta: None,
        });
        assert!(drawn(&mut app), "the pointer moved");
        assert!(!drawn(&mut app));
        // Something animates: every frame draws.
        app.world_mut().resource_mut::<RedrawPace>().0 = Pace::Animating;
        assert!(drawn(&mut app));
        assert!(drawn(&mut app));
        app.world_mut().resource_mut::<RedrawPace>().0 = Pace::Idle;
        assert!(!drawn(&mut app));
        // A camera drawing into the window must draw: nothing would keep the scene.
        app.world_mut().resource_mut::<SceneTarget>().image = None;
        assert!(drawn(&mut app));
        assert!(drawn(&mut app));
        let draws = *app.world().resource::<SceneDraws>();
        assert_eq!(draws.skipped, 6, "{draws:?}");
    }

    /// What egui painted: one quad whose colour stands for the panels' content.
    fn panels(red: u8) -> EguiRenderOutput {
        let mut mesh = egui::Mesh::default();
        mesh.add_colored_rect(
            egui::Rect::from_min_size(egui::pos2(0.0, 0.0), egui::vec2(10.0, 10.0)),
            egui::Color32::from_rgb(red, 0, 0),
        );
        EguiRenderOutput {
            paint_jobs: vec![egui::ClippedPrimitive {
                clip_rect: egui::Rect::EVERYTHING,
                primitive: egui::epaint::Primitive::Mesh(mesh),
            }],
            textures_delta: Default::default(),
        }
    }

    /// (scene camera drawn, panel camera drawn) after one frame.
    fn frame(app: &mut App) -> (bool, bool) {
        app.update();
        let scene = app
            .world_mut()
            .query_filtered::<&Camera, With<OrbitCamera>>()
            .single(app.world())
            .expect("one scene camera")
            .is_active;
        let panels = app
            .world_mut()
            .query_filtered::<&Camera, With<PrimaryEguiContext>>()
            .single(app.world())
            .expect("one panel camera")
            .is_active;
        (scene, panels)
    }

    #[test]
    fn a_frame_that_changes_nothing_on_screen_draws_nothing() {
        let mut app = app();
        let ui = app
            .world_mut()
            .spawn((Camera::default(), PrimaryEguiContext, panels(10)))
            .id();
        assert_eq!(frame(&mut app), (true, true), "the first frame draws");
        assert_eq!(
            frame(&mut app),
            (false, false),
            "nothing changed: the window is kept"
        );
        // A value in a panel changes (new data): the panels draw over the kept scene.
        app.world_mut().entity_mut(ui).insert(panels(11));
        assert_eq!(frame(&mut app), (false, true));
        assert_eq!(frame(&mut app), (false, false));
        // A new glyph or image for egui: drawn, even with the same shapes.
        let mut with_texture = panels(11);
        with_texture
            .textures_delta
            .free
            .insert(egui::TextureId::Managed(7));
        app.world_mut().entity_mut(ui).insert(with_texture);
        assert_eq!(frame(&mut app), (false, true));
        // (bevy_egui applies and clears a delta; an unapplied one must not be dropped.)
        app.world_mut()
            .get_mut::<EguiRenderOutput>(ui)
            .expect("the panel camera's output")
            .textures_delta
            .clear();
        app.world_mut().entity_mut(ui).insert(panels(11));
        // The scene changes under the same panels: both draw (the panels camera shows the new
        // image).
        app.world_mut()
            .resource_mut::<Assets<StandardMaterial>>()
            .add(StandardMaterial::default());
        assert_eq!(frame(&mut app), (true, true));
        assert_eq!(frame(&mut app), (false, false));
        // Something animates, or the window was uncovered: everything draws.
        app.world_mut().resource_mut::<RedrawPace>().0 = Pace::Animating;
        assert_eq!(frame(&mut app), (true, true));
        app.world_mut().resource_mut::<RedrawPace>().0 = Pace::Idle;
        assert_eq!(frame(&mut app), (false, false));
        app.world_mut().write_message(WindowOccluded {
            window: Entity::PLACEHOLDER,
            occluded: false,
        });
        assert_eq!(frame(&mut app), (true, true));
        // A scene drawn into the window is kept with it when nothing changed, and drawn
        // whenever the panels draw (nothing else would keep it under them).
        app.world_mut().resource_mut::<SceneTarget>().image = None;
        assert_eq!(frame(&mut app), (true, true), "the target changed");
        assert_eq!(frame(&mut app), (false, false));
        app.world_mut().entity_mut(ui).insert(panels(12));
        assert_eq!(frame(&mut app), (true, true));
        let draws = *app.world().resource::<SceneDraws>();
        assert_eq!(draws.window_kept, 5, "{draws:?}");
    }
}
