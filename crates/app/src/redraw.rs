//! When the window draws. A twin mostly sits still: live data changes once a second, and a
//! workstation running CAD beside it should not pay for 60 identical frames a second (drawing
//! continuously kept 1.76 of this machine's 2 cores busy with the demo plant at rest).
//!
//! So the window draws on input (winit wakes it), at least once per `idle` interval (new data
//! is drained and shown then), and at the animation rate while something moves: an
//! unacknowledged alarm pulsing, a replay playing. A camera in motion (easing to a framed
//! asset, the wall's tour), a recording's first pass and a pending screenshot draw every
//! frame. `--redraw continuous` restores drawing as fast as possible.

use std::time::Duration;

use bevy::platform::collections::HashMap;
use bevy::prelude::*;
use bevy::winit::{UpdateMode, WinitSettings};
use bevy_egui::{EguiInput, EguiPreUpdateSet, egui};

use crate::capture::CaptureState;
use crate::data::replay::ReplayState;
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
}

impl Plugin for RedrawPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(self.policy)
            .init_resource::<RedrawPace>()
            .insert_resource(settings(&self.policy, Pace::Idle, Tier::High))
            .add_systems(Update, choose_pace.in_set(RedrawSystems))
            .add_systems(
                PreUpdate,
                drop_unchanged_modifiers
                    .after(EguiPreUpdateSet::ProcessInput)
                    .before(EguiPreUpdateSet::BeginPass),
            );
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
