//! Material flows on the live plant: the transport effort of the layout as edited (against the
//! loaded one, live while dragging), the flows drawn on the floor as a spaghetti diagram whose
//! ribbon width is the amount, and the layout optimiser as a background job whose best-so-far
//! arrangement shows as ghost outlines; its result is accepted as one undo step or discarded.
//! Nothing here writes to the plant: a proposal only moves assets in the sandbox.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bevy::asset::RenderAssetUsages;
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::prelude::*;
use crossbeam_channel::{Receiver, TryRecvError};

use crate::frame::AppSystems;
use crate::plant::{AssetIndex, AssetSpec, PlantDocument};
use crate::sandbox::{EditIntent, Sandbox, edited_layout};
use plant_twin_core::geometry::world_from_plan;
use plant_twin_core::layout::{Handling, PlantLayout};
use plant_twin_core::optimise::flow::{DistanceMetric, TransportEffort, transport_effort};
use plant_twin_core::optimise::layout::{LayoutOptions, LayoutProposal, optimise_layout};
use plant_twin_core::sandbox::history::Placement;

/// Effort, flows and the optimiser job (no drawing: runs headless too).
pub struct FlowsPlugin;

impl Plugin for FlowsPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<MaterialFlows>()
            .add_message::<FlowIntent>()
            .add_systems(
                Update,
                (apply_flow_intents, follow_job)
                    .chain()
                    .in_set(AppSystems::ApplyIntents)
                    .after(crate::sandbox::SandboxSystems),
            )
            .add_systems(Update, measure_effort.in_set(AppSystems::Presentation));
    }
}

/// While dragging, the effort is measured at most this often (aisle routes cost a search each).
const DRAG_MEASURE_INTERVAL_S: f64 = 0.2;

/// The flows of the layout as edited, and the optimiser's state.
#[derive(Resource, Default)]
pub struct MaterialFlows {
    /// The spaghetti diagram is drawn (View > Material flows).
    pub show: bool,
    pub metric: DistanceMetric,
    /// The layout as loaded: what "against the loaded layout" compares with.
    pub loaded: TransportEffort,
    /// The layout as edited now.
    pub current: TransportEffort,
    /// Bumps whenever `current` is measured again (the drawing rebuilds then).
    pub generation: u64,
    pub job: Option<OptimiseJob>,
    /// The optimiser's last answer, until accepted or discarded.
    pub outcome: Option<Result<LayoutProposal, String>>,
    stale: bool,
    measured_at_s: f64,
}

impl MaterialFlows {
    /// Change of effort against the loaded layout, percent.
    pub fn change_percent(&self) -> f64 {
        if self.loaded.total > 0.0 {
            100.0 * (self.current.total - self.loaded.total) / self.loaded.total
        } else {
            0.0
        }
    }
}

/// A running optimisation.
pub struct OptimiseJob {
    cancel: Arc<AtomicBool>,
    receiver: Receiver<JobMessage>,
    pub started_s: f64,
    pub seconds: f64,
    /// Best arrangement so far: every asset's plan position (ghosts), and its search effort.
    pub best: Option<(Vec<(f32, f32)>, f64)>,
    pub improvements: u32,
}

enum JobMessage {
    Better(Vec<(f32, f32)>, f64),
    Done(Result<LayoutProposal, String>),
}

/// What the flow window and the View menu ask for.
#[derive(Message, Debug, Clone, PartialEq)]
pub enum FlowIntent {
    Show(bool),
    Metric(DistanceMetric),
    /// Optimise the layout as edited for this many seconds.
    Optimise {
        seconds: f64,
    },
    Cancel,
    /// Move the assets to the proposal's places (one undo step).
    Accept,
    Discard,
}

fn apply_flow_intents(
    mut intents: MessageReader<FlowIntent>,
    mut flows: ResMut<MaterialFlows>,
    mut edits: MessageWriter<EditIntent>,
    document: Res<PlantDocument>,
    specs: Query<&AssetSpec>,
    index: Res<AssetIndex>,
    time: Res<Time<Real>>,
) {
    for intent in intents.read() {
        match intent {
            FlowIntent::Show(show) => flows.show = *show,
            FlowIntent::Metric(metric) => {
                flows.metric = *metric;
                flows.loaded = transport_effort(&document.layout, *metric);
                flows.stale = true;
            }
            FlowIntent::Optimise { seconds } => {
                if flows.job.is_some() {
                    continue;
                }
                let layout = edited_layout(&document, &specs, &index);
                let options = LayoutOptions {
                    seconds: *seconds,
                    metric: flows.metric,
                    ..LayoutOptions::default()
                };
                flows.outcome = None;
                match start_job(layout, options, time.elapsed_secs_f64()) {
                    Ok(job) => flows.job = Some(job),
                    Err(error) => flows.outcome = Some(Err(error)),
                }
            }
            FlowIntent::Cancel => {
                if let Some(job) = &flows.job {
                    job.cancel.store(true, Ordering::Relaxed);
                }
            }
            FlowIntent::Accept => {
                let Some(Ok(proposal)) = flows.outcome.take() else {
                    continue;
                };
                let placements = proposal
                    .moves
                    .iter()
                    .filter_map(|m| {
                        let asset = proposal.layout.assets.iter().position(|a| a.id == m.id)?;
                        Some((
                            asset,
                            Placement {
                                position: m.to,
                                rotation_deg: proposal.layout.assets[asset].rotation_deg,
                            },
                        ))
                    })
                    .collect();
                edits.write(EditIntent::PlaceMany {
                    placements,
                    what: format!("layout optimisation ({} assets)", proposal.moves.len()),
                });
            }
            FlowIntent::Discard => flows.outcome = None,
        }
    }
}

fn start_job(
    layout: PlantLayout,
    options: LayoutOptions,
    now_s: f64,
) -> Result<OptimiseJob, String> {
    let cancel = Arc::new(AtomicBool::new(false));
    let (sender, receiver) = crossbeam_channel::unbounded();
    let seconds = options.seconds;
    let stop = cancel.clone();
    std::thread::Builder::new()
        .name("layout-optimiser".into())
        .spawn(move || {
            let progress = sender.clone();
            let result = optimise_layout(&layout, &options, &stop, &mut |positions, effort| {
                // The app may have closed the job; nothing is lost then.
                let _ = progress.send(JobMessage::Better(positions.to_vec(), effort));
            });
            let _ = sender.send(JobMessage::Done(result.map_err(|e| e.to_string())));
        })
        .map_err(|error| format!("cannot start the optimiser: {error}"))?;
    Ok(OptimiseJob {
        cancel,
        receiver,
        started_s: now_s,
        seconds,
        best: None,
        improvements: 0,
    })
}

fn follow_job(mut flows: ResMut<MaterialFlows>) {
    // Read first: a mutable borrow marks the flows changed, and the scene is drawn again on
    // every change (`redraw::skip_unchanged_scene`).
    if flows.job.is_none() {
        return;
    }
    let Some(job) = flows.job.as_mut() else {
        return;
    };
    let mut finished = None;
    loop {
        match job.receiver.try_recv() {
            Ok(JobMessage::Better(positions, effort)) => {
                job.best = Some((positions, effort));
                job.improvements += 1;
            }
            Ok(JobMessage::Done(result)) => finished = Some(result),
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Disconnected) => {
                finished.get_or_insert(Err("the optimiser stopped unexpectedly".into()));
                break;
            }
        }
    }
    if let Some(result) = finished {
        flows.job = None;
        flows.outcome = Some(result);
    }
}

/// Measures the effort again when the layout or a placement changed; while dragging, at most
/// every [`DRAG_MEASURE_INTERVAL_S`].
fn measure_effort(
    mut flows: ResMut<MaterialFlows>,
    document: Res<PlantDocument>,
    moved: Query<(), Changed<AssetSpec>>,
    specs: Query<&AssetSpec>,
    index: Res<AssetIndex>,
    sandbox: Option<Res<Sandbox>>,
    time: Res<Time<Real>>,
) {
    if document.is_changed() {
        flows.loaded = transport_effort(&document.layout, flows.metric);
        flows.outcome = None;
        flows.stale = true;
    }
    if !moved.is_empty() {
        flows.stale = true;
    }
    let now = time.elapsed_secs_f64();
    let dragging = sandbox.is_some_and(|s| s.dragging());
    if !flows.stale || (dragging && now - flows.measured_at_s < DRAG_MEASURE_INTERVAL_S) {
        return;
    }
    if document.layout.flows.is_empty() {
        flows.current = TransportEffort::default();
    } else {
        let layout = edited_layout(&document, &specs, &index);
        flows.current = transport_effort(&layout, flows.metric);
    }
    flows.stale = false;
    flows.measured_at_s = now;
    flows.generation += 1;
}

/// Draws the flows as ribbons on the floor and the optimiser's ghosts (windowed app only: it
/// needs meshes, materials and gizmos).
pub struct FlowDrawingPlugin;

impl Plugin for FlowDrawingPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(
            Update,
            (draw_ribbons, draw_ghosts).in_set(AppSystems::Presentation),
        );
    }
}

/// The ribbons' entity.
#[derive(Component)]
struct FlowRibbons;

/// Just above the zone markings.
const RIBBON_Y: f32 = 0.06;
/// Ribbon width of the largest flow of a unit, and of the smallest, metres.
const WIDEST_M: f32 = 2.0;
const NARROWEST_M: f32 = 0.12;

#[allow(clippy::too_many_arguments)]
fn draw_ribbons(
    mut commands: Commands,
    flows: Res<MaterialFlows>,
    document: Res<PlantDocument>,
    mut drawn: Local<Option<(u64, bool)>>,
    existing: Query<Entity, With<FlowRibbons>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<crate::scene::FlatMaterial>>,
) {
    let wanted = (flows.generation, flows.show);
    if *drawn == Some(wanted) {
        return;
    }
    *drawn = Some(wanted);
    for entity in &existing {
        commands.entity(entity).despawn();
    }
    if !flows.show || flows.current.legs.is_empty() {
        return;
    }
    commands.spawn((
        Name::new("Material flows"),
        FlowRibbons,
        Mesh3d(meshes.add(ribbon_mesh(&document.layout, &flows.current))),
        MeshMaterial3d(materials.add(crate::scene::FlatMaterial {
            base: StandardMaterial {
                base_color: Color::WHITE,
                unlit: true,
                alpha_mode: AlphaMode::Blend,
                double_sided: true,
                cull_mode: None,
                ..default()
            },
            extension: crate::scene::Flat {},
        })),
        Transform::default(),
        Pickable::IGNORE,
    ));
}

/// Colour of a flow by how it travels: none of them red or amber, which mean alarm and
/// warning in this scene.
pub fn handling_colour(handling: Option<Handling>) -> [f32; 3] {
    match handling {
        Some(Handling::Conveyor) => [0.25, 0.5, 0.95],
        Some(Handling::Forklift) => [0.72, 0.42, 0.92],
        Some(Handling::Agv) => [0.2, 0.78, 0.62],
        Some(Handling::Manual) | None => [0.85, 0.87, 0.9],
    }
}

/// Flat quads along each leg's route, as wide as its amount (relative to the largest flow of
/// the same unit), with an arrowhead at the drop-off.
fn ribbon_mesh(layout: &PlantLayout, effort: &TransportEffort) -> Mesh {
    let mut largest = std::collections::HashMap::new();
    for flow in &layout.flows {
        let entry = largest.entry(flow.unit.label()).or_insert(0.0f32);
        *entry = entry.max(flow.amount_per_hour);
    }
    let mut positions: Vec<[f32; 3]> = Vec::new();
    let mut colours: Vec<[f32; 4]> = Vec::new();
    let mut indices: Vec<u32> = Vec::new();
    let mut quad = |corners: [(f32, f32); 4], colour: [f32; 4]| {
        let base = positions.len() as u32;
        for (x, y) in corners {
            positions.push(world_from_plan(x, y, RIBBON_Y).to_array());
            colours.push(colour);
        }
        indices.extend([base, base + 1, base + 2, base, base + 2, base + 3]);
    };
    for leg in &effort.legs {
        let Some(flow) = layout.flows.get(leg.flow) else {
            continue;
        };
        let top = largest.get(flow.unit.label()).copied().unwrap_or(1.0);
        let share = if top > 0.0 {
            flow.amount_per_hour / top
        } else {
            0.0
        };
        let half = 0.5 * (NARROWEST_M + (WIDEST_M - NARROWEST_M) * share.clamp(0.0, 1.0));
        let [r, g, b] = handling_colour(flow.handling);
        let colour = [r, g, b, 0.8];
        for pair in leg.route.windows(2) {
            let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
            let length = ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt();
            if length < 1e-4 {
                continue;
            }
            let (nx, ny) = (-(y1 - y0) / length * half, (x1 - x0) / length * half);
            quad(
                [
                    (x0 + nx, y0 + ny),
                    (x1 + nx, y1 + ny),
                    (x1 - nx, y1 - ny),
                    (x0 - nx, y0 - ny),
                ],
                colour,
            );
        }
        // An arrowhead ending at the drop-off point, along the last segment.
        if let [.., before, end] = leg.route[..] {
            let length = ((end.0 - before.0).powi(2) + (end.1 - before.1).powi(2)).sqrt();
            if length > 1e-4 {
                let (dx, dy) = ((end.0 - before.0) / length, (end.1 - before.1) / length);
                let head = (half * 3.0).max(0.6).min(length);
                let (bx, by) = (end.0 - dx * head, end.1 - dy * head);
                let (nx, ny) = (-dy * half * 2.2, dx * half * 2.2);
                // A degenerate quad (two corners at the tip) keeps one index pattern.
                quad([(bx + nx, by + ny), end, end, (bx - nx, by - ny)], colour);
            }
        }
    }
    let normals = vec![[0.0, 1.0, 0.0]; positions.len()];
    Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::RENDER_WORLD,
    )
    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, positions)
    .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, normals)
    .with_inserted_attribute(Mesh::ATTRIBUTE_COLOR, colours)
    .with_inserted_indices(Indices::U32(indices))
}

/// Outlines where the optimiser's best arrangement (running) or its proposal would put each
/// asset that moves.
fn draw_ghosts(
    flows: Res<MaterialFlows>,
    index: Res<AssetIndex>,
    assets: Query<&AssetSpec>,
    mut gizmos: Gizmos,
) {
    let ghost = Color::srgb(0.55, 0.9, 1.0);
    let positions: Vec<(usize, (f32, f32))> = match (&flows.job, &flows.outcome) {
        (Some(job), _) => job
            .best
            .iter()
            .flat_map(|(positions, _)| positions.iter().copied().enumerate())
            .collect(),
        (None, Some(Ok(proposal))) => proposal
            .layout
            .assets
            .iter()
            .map(|a| a.position)
            .enumerate()
            .collect(),
        _ => return,
    };
    for (asset, to) in positions {
        let Some(spec) = index.at(asset as u32).and_then(|e| assets.get(e).ok()) else {
            continue;
        };
        if spec.0.position == to {
            continue;
        }
        let (length, width, height) = spec.0.extents();
        gizmos.cube(
            Transform {
                translation: world_from_plan(to.0, to.1, height * 0.5),
                rotation: Quat::from_rotation_y(spec.0.rotation_deg.to_radians()),
                scale: Vec3::new(length, height, width),
            },
            ghost,
        );
        gizmos.line(
            world_from_plan(spec.0.position.0, spec.0.position.1, 0.1),
            world_from_plan(to.0, to.1, 0.1),
            ghost.with_alpha(0.5),
        );
    }
}
