//! When the window draws. A twin mostly sits still: live data changes once a second, and a
//! workstation running CAD beside it should not pay for 60 identical frames a second (drawing
//! continuously kept 1.76 of this machine's 2 cores busy with the demo plant at rest).
//!
//! So the window draws on input (winit wakes it), at least once per `idle` interval (new data
//! is drained and shown then), and at the animation rate while something moves: an
//! unacknowledged alarm pulsing, a replay playing. A camera in motion (easing to a framed
//! asset, the wall's tour), a recording's first pass and a pending screenshot draw every
//! frame. `--redraw continuous` restores drawing as fast as possible.
//!
//! A frame that redraws only for the panels (new data once a second, a tooltip) need not
//! draw the 3D scene again when nothing in it changed: a scaled view (`camera::SceneTarget`)
//! draws into an image that egui shows, and the image keeps the last scene. The scene camera
//! is switched off for such frames, at rest only, and on again at the start of every frame so
//! picking always sees it; at least every [`SCENE_REFRESH`] it draws anyway.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bevy::platform::collections::HashMap;
use bevy::prelude::*;
use bevy::render::render_resource::PipelineCache;
use bevy::render::{Render, RenderApp, RenderSystems};
use bevy::winit::{UpdateMode, WinitSettings};
use bevy_egui::{EguiInput, EguiPreUpdateSet, egui};

use bevy::camera::visibility::InheritedVisibility;
use bevy::input::keyboard::KeyboardInput;
use bevy::input::mouse::{MouseButtonInput, MouseWheel};
use bevy::window::{CursorMoved, WindowResized};

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
            .add_systems(Last, skip_unchanged_scene)
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
) {
    let tier = quality.map_or(Tier::High, |q| q.tier);
    let session = replay.as_ref().and_then(|r| r.session.as_ref());
    let playing =
        session.is_some_and(|s| s.playing) || replay.as_ref().is_some_and(|r| r.loading.is_some());
    // The first pass through a recording (alarm markers, checkpoints) runs a budget per frame:
    // every frame, as fast as it can.
    let indexing = session.is_some_and(|s| s.indexing);
    let next = if policy.continuous || capture.is_some() {
        Pace::Continuous
    } else if indexing || !moved_cameras.is_empty() {
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

fn scene_camera_on(mut cameras: Query<&mut Camera, With<OrbitCamera>>) {
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

/// Switches the scene camera off for this frame when it draws into an image, the window is
/// at rest and nothing in the scene changed.
fn skip_unchanged_scene(
    pace: Res<RedrawPace>,
    policy: Res<RedrawPolicy>,
    time: Res<Time<Real>>,
    mut changes: SceneChanges,
    mut cameras: Query<&mut Camera, With<OrbitCamera>>,
    mut draws: ResMut<SceneDraws>,
    mut last_drawn: Local<Option<Duration>>,
) {
    let changed = changes.any();
    let now = time.elapsed();
    let due = last_drawn.is_none_or(|at| now.saturating_sub(at) >= SCENE_REFRESH);
    // Only an image keeps the last scene; a camera drawing into the window must draw.
    let into_image = changes.target.image.is_some();
    let skip = into_image && !policy.continuous && pace.0 == Pace::Idle && !changed && !due;
    for mut camera in &mut cameras {
        if camera.is_active == skip {
            camera.is_active = !skip;
        }
    }
    if skip {
        draws.skipped += 1;
    } else {
        draws.drawn += 1;
        *last_drawn = Some(now);
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
            .add_systems(First, scene_camera_on)
            .add_systems(Last, skip_unchanged_scene);
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
}
