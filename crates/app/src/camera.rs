//! The orbit camera: orbit, pan and zoom with mouse and keyboard, "frame all" and "frame
//! selected", animated. The mouse only drives it while the pointer is over the 3D view.

use bevy::camera::{ImageRenderTarget, RenderTarget, Viewport};
use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll, MouseScrollUnit};
use bevy::picking::PickingSystems;
use bevy::picking::backend::ray::{RayId, RayMap};
use bevy::picking::pointer::{PointerId, PointerLocation};
use bevy::prelude::*;
use bevy::render::render_resource::TextureFormat;
use bevy::window::PrimaryWindow;

use crate::frame::AppSystems;
use crate::plant::PlantDocument;
use crate::quality::RenderQuality;
use crate::scene::layout_world_bounds;

pub struct CameraPlugin;

impl Plugin for CameraPlugin {
    fn build(&self, app: &mut App) {
        app.add_message::<CameraCommand>()
            .init_resource::<SceneViewport>()
            .init_resource::<CameraInputCapture>()
            .init_resource::<SceneTarget>()
            .add_systems(Startup, spawn_camera)
            // bevy_picking casts rays only for cameras that draw into the pointer's window; a
            // scaled view draws into an image, so its ray is added between the two picking
            // steps (Bevy's own sets, in PreUpdate, before our frame order).
            .add_systems(
                PreUpdate,
                ray_through_scaled_view
                    .after(PickingSystems::ProcessInput)
                    .before(PickingSystems::Backend),
            )
            .add_systems(
                Update,
                (
                    (orbit_with_mouse, orbit_with_keys).in_set(AppSystems::Input),
                    frame_all_on_new_layout
                        .run_if(resource_changed::<PlantDocument>)
                        .in_set(AppSystems::ApplyIntents),
                    (apply_camera_commands, ease_toward_goal, apply_viewport)
                        .chain()
                        .in_set(CameraSystems),
                ),
            );
    }
}

/// Moves the camera; runs in [`AppSystems::Presentation`].
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct CameraSystems;

/// Intent: where the camera should look.
#[derive(Message, Debug, Clone, Copy, PartialEq)]
pub enum CameraCommand {
    /// Show the whole floor.
    FrameAll,
    /// Show this box (world space), e.g. the selected asset.
    FrameBounds { min: Vec3, max: Vec3 },
}

/// The part of the window the 3D view occupies (logical pixels), set by the UI around its
/// panels; `None` means the whole window.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq)]
pub struct SceneViewport {
    pub rect: Option<Rect>,
    /// The pointer is over the 3D view and not over any egui window or panel.
    pub pointer_over_scene: bool,
}

/// Where the 3D view is drawn: straight into the window, or, with a render scale below 1 (the
/// low tier), into an image with fewer pixels that the panels camera stretches over the same
/// rectangle (`scene_image`). A software renderer's time grows with the pixels it fills, so
/// half the width and height is about a quarter of the 3D view's cost. Positions move between
/// the window and the camera's viewport through [`SceneTarget::camera_from_window`] and
/// [`SceneTarget::window_from_camera`].
#[derive(Resource, Debug, Default, Clone, PartialEq)]
pub struct SceneTarget {
    /// The window rectangle the view covers (logical pixels).
    pub rect: Rect,
    /// The image the camera draws into and its size in pixels, when scaled.
    pub image: Option<(Handle<Image>, UVec2)>,
}

impl SceneTarget {
    /// The camera's viewport position (what `Camera::viewport_to_world` takes) of a window
    /// position.
    pub fn camera_from_window(&self, window: Vec2) -> Vec2 {
        match &self.image {
            Some((_, size)) if self.rect.width() > 0.0 && self.rect.height() > 0.0 => {
                (window - self.rect.min) * size.as_vec2() / self.rect.size()
            }
            _ => window,
        }
    }

    /// The window position of a camera viewport position (what `Camera::world_to_viewport`
    /// gives).
    pub fn window_from_camera(&self, camera: Vec2) -> Vec2 {
        match &self.image {
            Some((_, size)) if size.x > 0 && size.y > 0 => {
                self.rect.min + camera * self.rect.size() / size.as_vec2()
            }
            _ => camera,
        }
    }
}

/// Inputs another tool has taken for itself this frame (an asset drag in the sandbox takes the
/// pointer; nudging takes the arrow keys).
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq)]
pub struct CameraInputCapture {
    pub pointer: bool,
    pub arrow_keys: bool,
}

/// Orbit parameters: the camera sits `distance` from `focus`, turned `yaw` about `+Y` and tilted
/// `pitch` above the horizon.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct OrbitCamera {
    pub focus: Vec3,
    pub yaw: f32,
    pub pitch: f32,
    pub distance: f32,
    /// Where an animation is heading; `None` when the user is in control.
    pub goal: Option<OrbitGoal>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrbitGoal {
    pub focus: Vec3,
    pub distance: f32,
}

const MIN_PITCH: f32 = 0.05;
const MAX_PITCH: f32 = 1.53;
const MIN_DISTANCE: f32 = 1.5;
const MAX_DISTANCE: f32 = 2_000.0;
/// Vertical field of view of the camera (Bevy's default perspective).
pub const FOV_Y: f32 = std::f32::consts::FRAC_PI_4;

impl Default for OrbitCamera {
    fn default() -> Self {
        OrbitCamera {
            focus: Vec3::ZERO,
            yaw: -0.5,
            pitch: 0.75,
            distance: 60.0,
            goal: None,
        }
    }
}

impl OrbitCamera {
    /// The camera's world transform for these orbit parameters.
    pub fn transform(&self) -> Transform {
        let rotation = Quat::from_euler(EulerRot::YXZ, self.yaw, -self.pitch, 0.0);
        let eye = self.focus + rotation * Vec3::new(0.0, 0.0, self.distance);
        Transform::from_translation(eye).looking_at(self.focus, Vec3::Y)
    }

    /// Turns the view by `yaw` and `pitch` radians.
    pub fn orbit(&mut self, yaw: f32, pitch: f32) {
        self.goal = None;
        self.yaw = (self.yaw + yaw).rem_euclid(std::f32::consts::TAU);
        self.pitch = (self.pitch + pitch).clamp(MIN_PITCH, MAX_PITCH);
    }

    /// Slides the focus in the floor plane by a screen-relative amount: `right` and `forward`
    /// as fractions of the current distance.
    pub fn pan(&mut self, right: f32, forward: f32) {
        self.goal = None;
        let (sin, cos) = self.yaw.sin_cos();
        let right_dir = Vec3::new(cos, 0.0, -sin);
        let forward_dir = Vec3::new(-sin, 0.0, -cos);
        self.focus += (right_dir * right + forward_dir * forward) * self.distance;
    }

    /// Zooms by a factor (less than 1 moves closer).
    pub fn zoom(&mut self, factor: f32) {
        if let Some(goal) = &mut self.goal {
            goal.distance = (goal.distance * factor).clamp(MIN_DISTANCE, MAX_DISTANCE);
        }
        self.distance = (self.distance * factor).clamp(MIN_DISTANCE, MAX_DISTANCE);
    }

    /// Sets an animated goal that shows the box `min..max` whole at the current angles.
    pub fn frame(&mut self, min: Vec3, max: Vec3, aspect: f32) {
        let center = (min + max) * 0.5;
        let tan_y = (FOV_Y * 0.5).tan();
        let tan_x = tan_y * aspect.max(0.1);
        let rotation = Quat::from_euler(EulerRot::YXZ, self.yaw, -self.pitch, 0.0);
        let (right, up, back) = (rotation * Vec3::X, rotation * Vec3::Y, rotation * Vec3::Z);
        // Each corner must sit inside the view frustum: with the eye `d` behind the centre, a
        // corner at camera-space (x, y, z) is `d - z` in front of the eye and needs
        // |x| <= (d - z) tan_x and |y| <= (d - z) tan_y.
        let mut distance: f32 = MIN_DISTANCE;
        for corner in 0..8 {
            let pick = |bit: u32, lo: f32, hi: f32| if corner & bit == 0 { lo } else { hi };
            let offset = Vec3::new(
                pick(1, min.x, max.x),
                pick(2, min.y, max.y),
                pick(4, min.z, max.z),
            ) - center;
            let (x, y, z) = (offset.dot(right), offset.dot(up), offset.dot(back));
            distance = distance.max(z + x.abs() / tan_x).max(z + y.abs() / tan_y);
        }
        // A small margin so the edges do not touch the panels.
        let distance = (distance * 1.05).clamp(MIN_DISTANCE, MAX_DISTANCE);
        self.goal = Some(OrbitGoal {
            focus: center,
            distance,
        });
    }

    /// Moves a step toward the goal; `t` in `0..=1` is the fraction of the way to cover.
    pub fn ease(&mut self, t: f32) {
        let Some(goal) = self.goal else {
            return;
        };
        self.focus = self.focus.lerp(goal.focus, t);
        self.distance += (goal.distance - self.distance) * t;
        let arrived = self.focus.distance(goal.focus) < 0.01 * goal.distance
            && (self.distance - goal.distance).abs() < 0.01 * goal.distance;
        if arrived {
            self.focus = goal.focus;
            self.distance = goal.distance;
            self.goal = None;
        }
    }
}

fn spawn_camera(mut commands: Commands) {
    let orbit = OrbitCamera::default();
    commands.spawn((
        Name::new("Plant camera"),
        Camera3d::default(),
        // The plant is lit by the sun and the ambient light only: no point or spot lights to
        // sort into clusters. One cluster keeps Bevy's light binding and makes the clustering
        // pass trivial (2.3 ms of a 1080p low-tier frame under a software renderer).
        bevy::light::cluster::ClusterConfig::Single,
        Projection::Perspective(PerspectiveProjection {
            fov: FOV_Y,
            ..default()
        }),
        orbit.transform(),
        orbit,
    ));
}

fn frame_all_on_new_layout(
    document: Res<PlantDocument>,
    mut cameras: Query<(&mut OrbitCamera, &mut Transform)>,
    viewport: Res<SceneViewport>,
    window: Query<&Window, With<PrimaryWindow>>,
) {
    let aspect = view_aspect(&viewport, window.single().ok());
    let (min, max) = layout_world_bounds(&document.layout);
    for (mut orbit, mut transform) in &mut cameras {
        // Jump straight there: nobody wants to watch the camera fly in at start-up.
        orbit.frame(min, max, aspect);
        orbit.ease(1.0);
        *transform = orbit.transform();
    }
}

fn view_aspect(viewport: &SceneViewport, window: Option<&Window>) -> f32 {
    match (viewport.rect, window) {
        (Some(rect), _) if rect.height() > 0.0 => rect.width() / rect.height(),
        (_, Some(window)) if window.height() > 0.0 => window.width() / window.height(),
        _ => 16.0 / 9.0,
    }
}

fn apply_camera_commands(
    mut commands: MessageReader<CameraCommand>,
    document: Res<PlantDocument>,
    mut cameras: Query<&mut OrbitCamera>,
    viewport: Res<SceneViewport>,
    window: Query<&Window, With<PrimaryWindow>>,
) {
    let aspect = view_aspect(&viewport, window.single().ok());
    for command in commands.read() {
        let (min, max) = match *command {
            CameraCommand::FrameAll => layout_world_bounds(&document.layout),
            CameraCommand::FrameBounds { min, max } => (min, max),
        };
        for mut orbit in &mut cameras {
            orbit.frame(min, max, aspect);
        }
    }
}

fn ease_toward_goal(time: Res<Time>, mut cameras: Query<(&mut OrbitCamera, &mut Transform)>) {
    // Frame-rate independent exponential approach: ~95 % of the way in 0.3 s.
    let t = 1.0 - (-10.0 * time.delta_secs()).exp();
    for (mut orbit, mut transform) in &mut cameras {
        orbit.ease(t);
        let wanted = orbit.transform();
        if *transform != wanted {
            *transform = wanted;
        }
    }
}

/// Tracks a mouse drag that began over the 3D view, so it keeps orbiting when the pointer
/// crosses a panel, and so a drag is not mistaken for a click.
#[derive(Default)]
struct DragState {
    active: bool,
}

// A Bevy system takes what it reads as parameters; splitting it would only hide that.
#[allow(clippy::too_many_arguments)]
fn orbit_with_mouse(
    buttons: Res<ButtonInput<MouseButton>>,
    motion: Res<AccumulatedMouseMotion>,
    scroll: Res<AccumulatedMouseScroll>,
    keys: Res<ButtonInput<KeyCode>>,
    viewport: Res<SceneViewport>,
    capture: Res<CameraInputCapture>,
    mut cameras: Query<&mut OrbitCamera>,
    mut drag: Local<DragState>,
) {
    let any_button = [MouseButton::Left, MouseButton::Right, MouseButton::Middle];
    if buttons.any_just_pressed(any_button) && viewport.pointer_over_scene && !capture.pointer {
        drag.active = true;
    }
    if capture.pointer {
        drag.active = false;
    }
    if !buttons.any_pressed(any_button) {
        drag.active = false;
    }
    let Ok(mut orbit) = cameras.single_mut() else {
        return;
    };
    if drag.active && motion.delta != Vec2::ZERO {
        let pan = buttons.pressed(MouseButton::Right)
            || buttons.pressed(MouseButton::Middle)
            || keys.pressed(KeyCode::ShiftLeft)
            || keys.pressed(KeyCode::ShiftRight);
        if pan {
            let scale = 0.0015;
            orbit.pan(-motion.delta.x * scale, motion.delta.y * scale);
        } else {
            orbit.orbit(-motion.delta.x * 0.006, motion.delta.y * 0.006);
        }
    }
    if viewport.pointer_over_scene && scroll.delta.y != 0.0 {
        let notches = match scroll.unit {
            MouseScrollUnit::Line => scroll.delta.y,
            MouseScrollUnit::Pixel => scroll.delta.y / 40.0,
        };
        orbit.zoom(0.88f32.powf(notches));
    }
}

fn orbit_with_keys(
    keys: Res<ButtonInput<KeyCode>>,
    time: Res<Time>,
    egui_input: Option<Res<bevy_egui::input::EguiWantsInput>>,
    capture: Res<CameraInputCapture>,
    mut cameras: Query<&mut OrbitCamera>,
) {
    // Ctrl combinations are commands (Ctrl+E, Ctrl+S...), not camera moves.
    if egui_input.is_some_and(|input| input.wants_any_keyboard_input())
        || keys.any_pressed([KeyCode::ControlLeft, KeyCode::ControlRight])
    {
        return;
    }
    let Ok(mut orbit) = cameras.single_mut() else {
        return;
    };
    let dt = time.delta_secs();
    let axis = |neg: &[KeyCode], pos: &[KeyCode]| {
        let pressed = |codes: &[KeyCode]| codes.iter().any(|code| keys.pressed(*code));
        (pressed(pos) as i32 - pressed(neg) as i32) as f32
    };
    // While the sandbox nudges with the arrows, only W A S D pan.
    let (right, forward) = if capture.arrow_keys {
        (
            axis(&[KeyCode::KeyA], &[KeyCode::KeyD]),
            axis(&[KeyCode::KeyS], &[KeyCode::KeyW]),
        )
    } else {
        (
            axis(
                &[KeyCode::KeyA, KeyCode::ArrowLeft],
                &[KeyCode::KeyD, KeyCode::ArrowRight],
            ),
            axis(
                &[KeyCode::KeyS, KeyCode::ArrowDown],
                &[KeyCode::KeyW, KeyCode::ArrowUp],
            ),
        )
    };
    let turn = axis(&[KeyCode::KeyE], &[KeyCode::KeyQ]);
    let tilt = axis(&[KeyCode::PageDown], &[KeyCode::PageUp]);
    let zoom = axis(
        &[KeyCode::Equal, KeyCode::NumpadAdd],
        &[KeyCode::Minus, KeyCode::NumpadSubtract],
    );
    if right != 0.0 || forward != 0.0 {
        orbit.pan(right * 0.8 * dt, forward * 0.8 * dt);
    }
    if turn != 0.0 || tilt != 0.0 {
        orbit.orbit(turn * 1.5 * dt, tilt * 1.0 * dt);
    }
    if zoom != 0.0 {
        orbit.zoom((1.0 + zoom * 1.5 * dt).max(0.1));
    }
}

/// The window pixels a rectangle of logical pixels covers (its corners, rounded and kept inside
/// the window).
pub fn physical_rect(rect: Rect, window: &Window) -> (UVec2, UVec2) {
    let scale = window.scale_factor();
    let physical = UVec2::new(window.physical_width(), window.physical_height());
    let corner = |at: Vec2| {
        (at * scale)
            .round()
            .max(Vec2::ZERO)
            .as_uvec2()
            .min(physical)
    };
    (corner(rect.min), corner(rect.max))
}

/// Restricts the 3D camera to the area the panels leave free: a viewport of the window, or,
/// scaled, an image of that area's size times the render scale.
fn apply_viewport(
    viewport: Res<SceneViewport>,
    // Absent in a headless app (no renderer): no render scale there.
    quality: Option<Res<RenderQuality>>,
    window: Query<&Window, With<PrimaryWindow>>,
    images: Option<ResMut<Assets<Image>>>,
    mut target: ResMut<SceneTarget>,
    mut cameras: Query<(&mut Camera, &mut RenderTarget), With<OrbitCamera>>,
) {
    let Ok(window) = window.single() else {
        return;
    };
    let rect = viewport
        .rect
        .unwrap_or_else(|| Rect::new(0.0, 0.0, window.width(), window.height()));
    let (min, max) = physical_rect(rect, window);
    let size = max.saturating_sub(min);
    let render_scale = quality.map_or(1.0, |q| q.render_scale());
    if let Some(mut images) = images.filter(|_| render_scale < 1.0 && size.x > 0 && size.y > 0) {
        let image_size = (size.as_vec2() * render_scale)
            .round()
            .max(Vec2::ONE)
            .as_uvec2();
        if target.image.as_ref().is_none_or(|(_, s)| *s != image_size) {
            let image = Image::new_target_texture(
                image_size.x,
                image_size.y,
                TextureFormat::Rgba8UnormSrgb,
                None,
            );
            target.image = Some((images.add(image), image_size));
        }
        if target.rect != rect {
            target.rect = rect;
        }
        let Some((handle, _)) = &target.image else {
            return;
        };
        for (mut camera, mut render_target) in &mut cameras {
            let drawn_there =
                matches!(&*render_target, RenderTarget::Image(image) if image.handle == *handle);
            if !drawn_there {
                *render_target = RenderTarget::Image(ImageRenderTarget {
                    handle: handle.clone(),
                    scale_factor: 1.0,
                });
            }
            if camera.viewport.is_some() {
                camera.viewport = None;
            }
        }
        return;
    }
    if target.image.is_some() || target.rect != rect {
        *target = SceneTarget { rect, image: None };
    }
    let wanted = (viewport.rect.is_some() && size.x > 0 && size.y > 0).then_some(Viewport {
        physical_position: min,
        physical_size: size,
        ..default()
    });
    for (mut camera, mut render_target) in &mut cameras {
        if !matches!(*render_target, RenderTarget::Window(_)) {
            *render_target = RenderTarget::default();
        }
        let same = match (&camera.viewport, &wanted) {
            (Some(a), Some(b)) => {
                a.physical_position == b.physical_position && a.physical_size == b.physical_size
            }
            (None, None) => true,
            _ => false,
        };
        if !same {
            camera.viewport = wanted.clone();
        }
    }
}

/// The mouse's ray through a scaled view, for the picking backend (`picking`).
fn ray_through_scaled_view(
    target: Res<SceneTarget>,
    viewport: Res<SceneViewport>,
    pointers: Query<(&PointerId, &PointerLocation)>,
    cameras: Query<(Entity, &Camera, &GlobalTransform), With<OrbitCamera>>,
    // Absent without bevy_picking (a headless app).
    rays: Option<ResMut<RayMap>>,
) {
    let Some(mut rays) = rays else {
        return;
    };
    if target.image.is_none() || !viewport.pointer_over_scene {
        return;
    }
    let Ok((entity, camera, transform)) = cameras.single() else {
        return;
    };
    for (id, location) in &pointers {
        let Some(location) = location.location() else {
            continue;
        };
        if !target.rect.contains(location.position) {
            continue;
        }
        if let Ok(ray) =
            camera.viewport_to_world(transform, target.camera_from_window(location.position))
        {
            rays.map.insert(RayId::new(entity, *id), ray);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scaled_view_maps_window_and_camera_positions_both_ways() {
        let mut target = SceneTarget {
            rect: Rect::new(200.0, 30.0, 1400.0, 830.0),
            image: None,
        };
        // Drawn into the window: positions are the window's.
        let p = Vec2::new(640.0, 400.0);
        assert_eq!(target.camera_from_window(p), p);
        target.image = Some((Handle::default(), UVec2::new(600, 400)));
        // The rectangle's corners are the image's.
        assert_eq!(
            target.camera_from_window(Vec2::new(200.0, 30.0)),
            Vec2::ZERO
        );
        assert_eq!(
            target.camera_from_window(Vec2::new(1400.0, 830.0)),
            Vec2::new(600.0, 400.0)
        );
        let back = target.window_from_camera(target.camera_from_window(p));
        assert!((back - p).length() < 1e-3, "{back}");
    }

    #[test]
    fn camera_looks_at_its_focus_from_above() {
        let orbit = OrbitCamera {
            focus: Vec3::new(10.0, 0.0, -5.0),
            ..default()
        };
        let transform = orbit.transform();
        assert!(transform.translation.y > 0.0);
        assert!((transform.translation.distance(orbit.focus) - orbit.distance).abs() < 1e-3);
        let forward = transform.forward();
        let to_focus = (orbit.focus - transform.translation).normalize();
        assert!(forward.dot(to_focus) > 0.9999);
    }

    #[test]
    fn framing_fits_the_box_and_eases_there() {
        let mut orbit = OrbitCamera::default();
        orbit.frame(Vec3::new(0.0, 0.0, -10.0), Vec3::new(20.0, 2.0, 0.0), 1.6);
        let goal = orbit.goal.expect("framing sets a goal");
        assert_eq!(goal.focus, Vec3::new(10.0, 1.0, -5.0));
        orbit.focus = goal.focus;
        orbit.distance = goal.distance;
        let eye = orbit.transform();
        let forward = eye.forward();
        let half_fov_y = FOV_Y * 0.5;
        let half_fov_x = (half_fov_y.tan() * 1.6).atan();
        // Every corner is inside the frustum, and at least one is close to its edge.
        let mut tightest: f32 = 0.0;
        for i in 0..8 {
            let corner = Vec3::new(
                if i & 1 == 0 { 0.0 } else { 20.0 },
                if i & 2 == 0 { 0.0 } else { 2.0 },
                if i & 4 == 0 { -10.0 } else { 0.0 },
            );
            let to = corner - eye.translation;
            let depth = to.dot(*forward);
            assert!(depth > 0.0);
            let x = (to.dot(*eye.right()) / depth).atan().abs() / half_fov_x;
            let y = (to.dot(*eye.up()) / depth).atan().abs() / half_fov_y;
            assert!(x <= 1.0 && y <= 1.0, "corner {corner} outside the view");
            tightest = tightest.max(x).max(y);
        }
        assert!(tightest > 0.8, "the box fills the view ({tightest})");
        orbit.goal = Some(goal);
        orbit.focus = Vec3::ZERO;
        for _ in 0..200 {
            orbit.ease(0.2);
        }
        assert!(orbit.goal.is_none());
        assert_eq!(orbit.focus, goal.focus);
    }

    #[test]
    fn pitch_stays_above_the_floor_and_below_vertical() {
        let mut orbit = OrbitCamera::default();
        orbit.orbit(0.0, -10.0);
        assert_eq!(orbit.pitch, MIN_PITCH);
        orbit.orbit(0.0, 10.0);
        assert_eq!(orbit.pitch, MAX_PITCH);
    }

    #[test]
    fn panning_right_moves_focus_to_the_screen_right() {
        let mut orbit = OrbitCamera::default();
        let before = orbit.focus;
        let screen_right = orbit.transform().right();
        orbit.pan(0.1, 0.0);
        let moved = orbit.focus - before;
        assert!(moved.normalize().dot(*screen_right) > 0.999);
    }
}
