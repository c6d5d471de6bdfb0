//! Control-room wall display: `--wall`. Borderless fullscreen, read-only, large type, an alarm
//! banner and KPI tiles (drawn by `ui::wall`), and a camera tour through the plant's lines and
//! zones that jumps to an asset when it enters alarm. This plugin drives the tour; the tour
//! logic itself (`tour`) and the settings (`config`) need no Bevy.

use bevy::prelude::*;

use crate::camera::CameraCommand;
use crate::data::events::{DataEvent, DataEventKind};
use crate::plant::{AssetIndex, PlantDocument};
use plant_twin_core::layout::PlantLayout;
use plant_twin_core::predict::{AlarmChange, Severity};
use plant_twin_core::wall::config::WallConfig;
use plant_twin_core::wall::tour::{Tour, TourTarget};

pub struct WallPlugin {
    pub config: WallConfig,
    /// Fill this monitor (by index, left to right) with the window; None when the window has
    /// an explicit size.
    pub fill_monitor: Option<usize>,
}

impl Plugin for WallPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(WallMode {
            config: self.config.clone(),
            stops: vec![],
            tour: Tour::new(0, self.config.dwell_s, self.config.alarm_dwell_s),
            showing: String::new(),
            now_s: 0.0,
        })
        .add_systems(
            Update,
            (
                plan_tour.run_if(resource_changed::<PlantDocument>),
                run_tour,
            )
                .chain()
                .in_set(WallSystems),
        );
        if let Some(index) = self.fill_monitor {
            app.insert_resource(FillMonitor { index, done: false })
                .add_systems(Update, fill_monitor.in_set(WallSystems));
        }
    }
}

/// The monitor the wall's window is to cover, until it does.
#[derive(Resource, Debug)]
struct FillMonitor {
    index: usize,
    done: bool,
}

/// Sizes and places the window over the whole monitor itself. Borderless fullscreen is a
/// request to the window manager: a kiosk that starts X with the app alone has none, and the
/// window stayed at its default size in a corner. A borderless window with the monitor's
/// position and size covers it with or without a window manager.
fn fill_monitor(
    mut fill: ResMut<FillMonitor>,
    monitors: Query<&bevy::window::Monitor>,
    mut windows: Query<&mut Window, With<bevy::window::PrimaryWindow>>,
) {
    if fill.done {
        return;
    }
    let mut all: Vec<&bevy::window::Monitor> = monitors.iter().collect();
    if all.is_empty() {
        return;
    }
    // Left to right, then top to bottom: the order people count screens on a wall.
    all.sort_by_key(|m| (m.physical_position.x, m.physical_position.y));
    let Ok(mut window) = windows.single_mut() else {
        return;
    };
    fill.done = true;
    let Some(monitor) = all.get(fill.index) else {
        warn!(
            "--monitor {}: only {} monitor(s); the wall stays on the first",
            fill.index,
            all.len()
        );
        return;
    };
    info!(
        "wall: filling monitor {} ({}x{} at {},{})",
        fill.index,
        monitor.physical_width,
        monitor.physical_height,
        monitor.physical_position.x,
        monitor.physical_position.y
    );
    window.decorations = false;
    window.position = WindowPosition::At(monitor.physical_position);
    window
        .resolution
        .set_physical_resolution(monitor.physical_width, monitor.physical_height);
}

/// Moves the wall's camera; in [`AppSystems::Input`] (it writes camera intents).
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct WallSystems;

/// A tour stop: its name and plan bounds ((min x, min y), (max x, max y)).
pub type TourStop = (String, (f32, f32), (f32, f32));

/// Present when the app runs as a wall display.
#[derive(Resource, Debug)]
pub struct WallMode {
    pub config: WallConfig,
    pub stops: Vec<TourStop>,
    pub tour: Tour,
    /// What the camera shows, for the screen.
    pub showing: String,
    /// The tour's clock at its last update, seconds.
    pub now_s: f64,
}

/// The tour's stops for a layout: the configured line and zone ids, or every line, then the
/// whole floor. Unknown ids are skipped with a warning.
pub fn tour_stops(layout: &PlantLayout, config: &WallConfig) -> Vec<TourStop> {
    let line_bounds = |id: &str| {
        layout
            .assets
            .iter()
            .filter(|a| a.line.as_deref() == Some(id))
            .map(plant_twin_core::layout::Asset::plan_bounds)
            .reduce(|a, b| {
                (
                    (a.0.0.min(b.0.0), a.0.1.min(b.0.1)),
                    (a.1.0.max(b.1.0), a.1.1.max(b.1.1)),
                )
            })
    };
    let mut stops = vec![];
    if config.tour.is_empty() {
        for line in &layout.lines {
            if let Some((min, max)) = line_bounds(&line.id) {
                stops.push((line.name.clone(), min, max));
            }
        }
        stops.push((
            layout.name.clone(),
            (0.0, 0.0),
            (layout.floor.width, layout.floor.depth),
        ));
        return stops;
    }
    for id in &config.tour {
        if let Some(line) = layout.lines.iter().find(|l| &l.id == id) {
            if let Some((min, max)) = line_bounds(id) {
                stops.push((line.name.clone(), min, max));
            }
        } else if let Some(zone) = layout.zones.iter().find(|z| &z.id == id) {
            let (min, max) = zone.area.bounds();
            stops.push((zone.name.clone(), min, max));
        } else {
            warn!("wall tour: no line or zone {id:?} in the layout; skipped");
        }
    }
    stops
}

fn frame_plan(min: (f32, f32), max: (f32, f32), height: f32) -> CameraCommand {
    // Plan y is world -Z.
    CameraCommand::FrameBounds {
        min: Vec3::new(min.0, 0.0, -max.1),
        max: Vec3::new(max.0, height, -min.1),
    }
}

fn plan_tour(document: Res<PlantDocument>, mut wall: ResMut<WallMode>) {
    let stops = tour_stops(&document.layout, &wall.config);
    wall.tour = Tour::new(stops.len(), wall.config.dwell_s, wall.config.alarm_dwell_s);
    wall.stops = stops;
}

fn run_tour(
    time: Res<Time<Real>>,
    document: Res<PlantDocument>,
    index: Res<AssetIndex>,
    mut wall: ResMut<WallMode>,
    mut events: MessageReader<DataEvent>,
    mut camera: MessageWriter<CameraCommand>,
) {
    let now = time.elapsed_secs_f64();
    wall.now_s = now;
    for event in events.read() {
        if let DataEventKind::Alarm {
            asset,
            change: AlarmChange::Raised {
                severity: Severity::Alarm,
            },
            ..
        } = &event.kind
            && let Some(position) = document.layout.assets.iter().position(|a| &a.id == asset)
        {
            wall.tour.alarm(now, position as u32);
        }
    }
    let Some(target) = wall.tour.update(now) else {
        return;
    };
    match target {
        TourTarget::Stop(i) => {
            if let Some((name, min, max)) = wall.stops.get(i).cloned() {
                camera.write(frame_plan(min, max, 3.0));
                wall.showing = name;
            }
        }
        TourTarget::Asset(position) => {
            let Some(asset) = document.layout.assets.get(position as usize) else {
                return;
            };
            if index.at(position).is_none() {
                return;
            }
            let (min, max) = asset.plan_bounds();
            // Some room around the asset, so its neighbours give it context.
            let margin = 4.0;
            camera.write(frame_plan(
                (min.0 - margin, min.1 - margin),
                (max.0 + margin, max.1 + margin),
                asset.extents().2,
            ));
            wall.showing = format!("ALARM: {} ({})", asset.name, asset.id);
        }
    }
}
