//! The plant in the ECS: the loaded layout document, and one entity per asset (with a child
//! entity per component) spawned from it. Reloading replaces the whole plant at once.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use bevy::camera::visibility::NoCpuCulling;
use bevy::prelude::*;
use bevy::world_serialization::{WorldAsset, WorldAssetRoot};

use plant_twin_core::geometry::{world_from_plan, yaw_from_rotation_deg};
use plant_twin_core::layout::{self, Asset, AssetKind, ComponentKind, PlantLayout};
use plant_twin_core::shapes::{Paint, Part, PartPrimitive, asset_parts, marker_part};

pub struct PlantPlugin {
    pub document: PlantDocument,
}

impl Plugin for PlantPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(self.document.clone())
            .init_resource::<AssetIndex>()
            .init_resource::<LayoutLoadStatus>()
            .init_resource::<PartCache>()
            .init_resource::<KindModels>()
            .add_systems(Startup, load_kind_models)
            .add_message::<LoadLayoutRequest>()
            .add_message::<LayoutReloaded>()
            .add_systems(
                Update,
                (
                    load_requested_layouts,
                    spawn_plant.run_if(resource_changed::<PlantDocument>),
                )
                    .chain()
                    .in_set(crate::frame::DataSystems::Spawn),
            );
    }
}

/// Where the current layout came from.
#[derive(Debug, Clone, PartialEq)]
pub enum LayoutSource {
    BuiltInDemo,
    File(PathBuf),
}

impl std::fmt::Display for LayoutSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LayoutSource::BuiltInDemo => write!(f, "{} (built in)", layout::DEMO_LAYOUT_PATH),
            LayoutSource::File(path) => write!(f, "{}", path.display()),
        }
    }
}

impl LayoutSource {
    /// The file name alone ("demo-plant.ron (built in)"), for the status bar: a full path
    /// pushed the alarm counts under the frame rate on a 720p screen.
    pub fn short(&self) -> String {
        let path = match self {
            LayoutSource::BuiltInDemo => std::path::Path::new(layout::DEMO_LAYOUT_PATH),
            LayoutSource::File(path) => path.as_path(),
        };
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        match self {
            LayoutSource::BuiltInDemo => format!("{name} (built in)"),
            LayoutSource::File(_) => name,
        }
    }
}

/// The layout the plant is built from. Replacing it respawns the plant.
#[derive(Resource, Debug, Clone)]
pub struct PlantDocument {
    pub layout: PlantLayout,
    pub source: LayoutSource,
    /// The text the layout was read from, so that a save changes only what was edited and
    /// keeps the file's comments and formatting; `None` when there is no such text.
    pub text: Option<Arc<str>>,
}

impl PlantDocument {
    /// The demo plant compiled into the binary.
    pub fn demo() -> Result<PlantDocument, plant_twin_core::files::FileError> {
        let layout = layout::parse_layout(
            layout::DEMO_LAYOUT_TEXT,
            std::path::Path::new(layout::DEMO_LAYOUT_PATH),
        )?;
        Ok(PlantDocument {
            layout,
            source: LayoutSource::BuiltInDemo,
            text: Some(Arc::from(layout::DEMO_LAYOUT_TEXT)),
        })
    }

    pub fn from_file(path: PathBuf) -> Result<PlantDocument, plant_twin_core::files::FileError> {
        let text = std::fs::read_to_string(&path)
            .map_err(|error| plant_twin_core::files::FileError::unreadable(&path, &error))?;
        let layout = layout::parse_layout(&text, &path)?;
        Ok(PlantDocument {
            layout,
            source: LayoutSource::File(path),
            text: Some(Arc::from(text)),
        })
    }
}

/// Intent: replace the plant with the layout in this file (kept as it is if the file is bad).
#[derive(Message, Debug, Clone)]
pub struct LoadLayoutRequest {
    pub path: PathBuf,
}

/// Fact: a [`LoadLayoutRequest`] replaced the plant this frame (not a replay opening): state
/// that still fits the new layout (learned detectors, alarm history) may be kept.
#[derive(Message, Debug, Clone)]
pub struct LayoutReloaded {
    /// The layout before the reload.
    pub previous: PlantLayout,
}

/// The outcome of the last load request, for the UI to show.
#[derive(Resource, Debug, Default)]
pub struct LayoutLoadStatus {
    pub last_error: Option<String>,
}

/// Root of everything spawned from the layout; despawning it removes the plant.
#[derive(Component)]
pub struct PlantRoot;

/// An asset entity, with the layout entry it was spawned from.
#[derive(Component, Debug, Clone)]
pub struct AssetSpec(pub Asset);

/// An asset's bounding box in its own frame (`Asset::extents`, metres), kept beside the spec:
/// labels and the level of detail read it for every asset every frame, and a compound
/// footprint's box costs trigonometry per part.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct AssetExtents {
    pub length_m: f32,
    pub width_m: f32,
    pub height_m: f32,
}

impl AssetExtents {
    pub fn of(asset: &Asset) -> AssetExtents {
        let (length_m, width_m, height_m) = asset.extents();
        AssetExtents {
            length_m,
            width_m,
            height_m,
        }
    }
}

/// The box standing for an asset seen from afar (a child of the asset, hidden until `detail`
/// shows it instead of the parts).
#[derive(Component, Debug, Clone, Copy)]
pub struct FarProxy;

/// A component of an asset: a child entity of the asset that groups the meshes drawing it.
#[derive(Component, Debug, Clone)]
pub struct AssetComponentPart {
    pub component_id: String,
    pub kind: ComponentKind,
}

/// Asset entities by asset id and by position in the layout (telemetry addresses assets by
/// position).
#[derive(Resource, Debug, Default)]
pub struct AssetIndex {
    pub by_id: HashMap<String, Entity>,
    pub by_position: Vec<Entity>,
}

impl AssetIndex {
    pub fn get(&self, id: &str) -> Option<Entity> {
        self.by_id.get(id).copied()
    }

    pub fn at(&self, position: u32) -> Option<Entity> {
        self.by_position.get(position as usize).copied()
    }
}

/// The mesh a shape primitive is drawn with (the shapes themselves are core's, without Bevy).
fn part_mesh(primitive: PartPrimitive) -> Mesh {
    match primitive {
        PartPrimitive::Box(size) => Cuboid::from_size(size).into(),
        PartPrimitive::Cylinder(radius, height) => Cylinder::new(radius, height).into(),
        PartPrimitive::Sphere(radius) => Sphere::new(radius).mesh().uv(16, 10),
    }
}

/// Meshes and materials shared by every asset: one mesh per distinct part size, one material
/// per paint and kind, so thousands of assets cost a handful of GPU resources.
#[derive(Resource, Default)]
struct PartCache {
    meshes: HashMap<(u8, [i32; 3]), Handle<Mesh>>,
    materials: HashMap<(AssetKind, Paint), Handle<StandardMaterial>>,
}

impl PartCache {
    fn mesh(&mut self, primitive: PartPrimitive, meshes: &mut Assets<Mesh>) -> Handle<Mesh> {
        self.meshes
            .entry(primitive.mesh_key())
            .or_insert_with(|| meshes.add(part_mesh(primitive)))
            .clone()
    }

    fn material(
        &mut self,
        kind: AssetKind,
        paint: Paint,
        materials: &mut Assets<StandardMaterial>,
    ) -> Handle<StandardMaterial> {
        self.materials
            .entry((kind, paint))
            .or_insert_with(|| materials.add(paint_material(kind, paint)))
            .clone()
    }
}

/// Optional glTF models per asset kind, from `assets/models/<kind>.glb` (or `.gltf`). A model
/// replaces the primitive body of its kind; components keep their own colourable parts.
///
/// Convention for model authors: metres, `+Y` up, origin on the floor at the footprint centre,
/// length along `+X`.
#[derive(Resource, Default)]
pub struct KindModels {
    by_kind: HashMap<AssetKind, Handle<WorldAsset>>,
}

/// The model files present for each kind in `models_dir`, as paths relative to its parent
/// (the asset root), e.g. `models/pump.glb`. `.glb` wins over `.gltf`.
pub fn discover_kind_models(models_dir: &std::path::Path) -> Vec<(AssetKind, String)> {
    AssetKind::ALL
        .iter()
        .filter_map(|kind| {
            ["glb", "gltf"].iter().find_map(|extension| {
                let file = format!("{}.{extension}", kind.file_stem());
                models_dir
                    .join(&file)
                    .is_file()
                    .then(|| (*kind, format!("models/{file}")))
            })
        })
        .collect()
}

fn load_kind_models(asset_server: Option<Res<AssetServer>>, mut models: ResMut<KindModels>) {
    let Some(asset_server) = asset_server else {
        return;
    };
    let models_dir = bevy::asset::io::file::FileAssetReader::get_base_path().join("assets/models");
    for (kind, path) in discover_kind_models(&models_dir) {
        info!("using model {path} for {}", kind.label());
        let handle = asset_server.load(GltfAssetLabel::Scene(0).from_asset(path));
        models.by_kind.insert(kind, handle);
    }
}

/// The main colour of each kind, picked to tell kinds apart at a glance.
pub fn kind_color(kind: AssetKind) -> Color {
    match kind {
        AssetKind::CncMachine => Color::srgb(0.30, 0.47, 0.66),
        AssetKind::Conveyor => Color::srgb(0.42, 0.45, 0.48),
        AssetKind::RobotArm => Color::srgb(0.93, 0.49, 0.13),
        AssetKind::HydraulicPress => Color::srgb(0.20, 0.55, 0.36),
        AssetKind::Pump => Color::srgb(0.16, 0.42, 0.70),
        AssetKind::Compressor => Color::srgb(0.55, 0.60, 0.64),
        AssetKind::StorageRack => Color::srgb(0.13, 0.33, 0.60),
        AssetKind::AgvStation => Color::srgb(0.47, 0.37, 0.62),
        AssetKind::Tank => Color::srgb(0.78, 0.79, 0.80),
    }
}

fn paint_material(kind: AssetKind, paint: Paint) -> StandardMaterial {
    let (base_color, roughness, metallic) = match paint {
        Paint::Body => (kind_color(kind), 0.55, 0.1),
        Paint::Frame => (Color::srgb(0.18, 0.19, 0.21), 0.7, 0.2),
        Paint::Mechanism => (Color::srgb(0.52, 0.54, 0.57), 0.4, 0.6),
        Paint::Rubber => (Color::srgb(0.08, 0.08, 0.09), 0.9, 0.0),
        Paint::Safety => (Color::srgb(0.96, 0.76, 0.05), 0.6, 0.0),
        Paint::Glass => (Color::srgba(0.55, 0.75, 0.85, 0.6), 0.1, 0.0),
    };
    StandardMaterial {
        base_color,
        perceptual_roughness: roughness,
        metallic,
        alpha_mode: if paint == Paint::Glass {
            AlphaMode::Blend
        } else {
            AlphaMode::Opaque
        },
        ..default()
    }
}

fn load_requested_layouts(
    mut requests: MessageReader<LoadLayoutRequest>,
    mut document: ResMut<PlantDocument>,
    mut status: ResMut<LayoutLoadStatus>,
    mut reloaded: MessageWriter<LayoutReloaded>,
) {
    // Only the newest request matters when several arrive in one frame.
    let Some(request) = requests.read().last() else {
        return;
    };
    match PlantDocument::from_file(request.path.clone()) {
        Ok(loaded) => {
            info!(
                "loaded layout {} ({} assets)",
                request.path.display(),
                loaded.layout.assets.len()
            );
            let previous = std::mem::replace(&mut *document, loaded).layout;
            reloaded.write(LayoutReloaded { previous });
            status.last_error = None;
        }
        Err(error) => {
            warn!("layout not loaded, keeping the current plant:\n{error}");
            status.last_error = Some(error.to_string());
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn spawn_plant(
    mut commands: Commands,
    document: Res<PlantDocument>,
    old_roots: Query<Entity, With<PlantRoot>>,
    mut index: ResMut<AssetIndex>,
    mut cache: ResMut<PartCache>,
    models: Res<KindModels>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    for root in &old_roots {
        commands.entity(root).despawn();
    }
    index.by_id.clear();
    index.by_position.clear();
    let layout = &document.layout;
    let root = commands
        .spawn((
            Name::new(format!("Plant: {}", layout.name)),
            PlantRoot,
            Transform::default(),
            Visibility::default(),
            NoCpuCulling,
        ))
        .id();
    for asset in &layout.assets {
        let entity = spawn_asset(
            &mut commands,
            asset,
            models.by_kind.get(&asset.kind),
            &mut cache,
            &mut meshes,
            &mut materials,
        );
        commands.entity(root).add_child(entity);
        index.by_id.insert(asset.id.clone(), entity);
        index.by_position.push(entity);
    }
}

/// The world transform of an asset's root: on the floor at its footprint centre, turned.
pub fn asset_transform(asset: &Asset) -> Transform {
    let (x, y) = asset.position;
    Transform::from_translation(world_from_plan(x, y, 0.0)).with_rotation(Quat::from_rotation_y(
        yaw_from_rotation_deg(asset.rotation_deg),
    ))
}

fn spawn_asset(
    commands: &mut Commands,
    asset: &Asset,
    model: Option<&Handle<WorldAsset>>,
    cache: &mut PartCache,
    meshes: &mut Assets<Mesh>,
    materials: &mut Assets<StandardMaterial>,
) -> Entity {
    let (length, _, height) = asset.extents();
    let parts = asset_parts(asset);
    let asset_entity = commands
        .spawn((
            Name::new(asset.id.clone()),
            AssetSpec(asset.clone()),
            AssetExtents::of(asset),
            asset_transform(asset),
            Visibility::default(),
            // Nothing to cull without a mesh: out of Bevy's per-frame CPU culling pass, which
            // tests every entity with a visibility (20,000 a frame more at 10,000 assets).
            NoCpuCulling,
        ))
        .id();

    // Give each layout component the parts of its slot; the n-th component of a kind takes the
    // n-th slot of that kind. Parts no component claims are drawn as the asset's body.
    let mut occurrences: HashMap<ComponentKind, u8> = HashMap::new();
    let mut claimed = vec![false; parts.len()];
    let mut markers = 0;
    for component in &asset.components {
        let occurrence = occurrences.entry(component.kind).or_insert(0);
        let slot = (component.kind, *occurrence);
        *occurrence += 1;
        let mut own_parts: Vec<Part> = vec![];
        for (i, part) in parts.iter().enumerate() {
            if part.slot == Some(slot) {
                claimed[i] = true;
                own_parts.push(*part);
            }
        }
        if own_parts.is_empty() {
            own_parts.push(marker_part(markers, length, height));
            markers += 1;
        }
        let component_entity = commands
            .spawn((
                Name::new(format!("{}/{}", asset.id, component.id)),
                AssetComponentPart {
                    component_id: component.id.clone(),
                    kind: component.kind,
                },
                Transform::default(),
                Visibility::default(),
                NoCpuCulling,
                ChildOf(asset_entity),
            ))
            .id();
        for part in own_parts {
            spawn_part(
                commands,
                component_entity,
                asset.kind,
                part,
                cache,
                meshes,
                materials,
            );
        }
    }
    spawn_far_proxy(commands, asset_entity, asset, cache, meshes, materials);
    match model {
        Some(model) => {
            commands.spawn((WorldAssetRoot(model.clone()), ChildOf(asset_entity)));
        }
        None => {
            for (part, _) in parts.iter().zip(&claimed).filter(|(_, claimed)| !**claimed) {
                spawn_part(
                    commands,
                    asset_entity,
                    asset.kind,
                    *part,
                    cache,
                    meshes,
                    materials,
                );
            }
        }
    }
    asset_entity
}

/// The box an asset is drawn as from afar (`detail`): its bounding box, or an upright cylinder
/// for a round footprint; hidden until the camera is far.
fn spawn_far_proxy(
    commands: &mut Commands,
    asset_entity: Entity,
    asset: &Asset,
    cache: &mut PartCache,
    meshes: &mut Assets<Mesh>,
    materials: &mut Assets<StandardMaterial>,
) {
    let (length, width, height) = asset.extents();
    // Unit shapes scaled per asset, so every proxy of a shape shares one mesh and batches.
    let primitive = match asset.footprint {
        layout::Footprint::Cylinder { .. } => PartPrimitive::Cylinder(0.5, 1.0),
        _ => PartPrimitive::Box(Vec3::ONE),
    };
    commands.spawn((
        Name::new(format!("{} (far)", asset.id)),
        FarProxy,
        Mesh3d(cache.mesh(primitive, meshes)),
        MeshMaterial3d(cache.material(asset.kind, Paint::Body, materials)),
        Transform::from_xyz(0.0, height * 0.5, 0.0).with_scale(Vec3::new(length, height, width)),
        Visibility::Hidden,
        // Hidden, so out of Bevy's per-frame culling passes until shown (`detail`).
        NoCpuCulling,
        ChildOf(asset_entity),
    ));
}

fn spawn_part(
    commands: &mut Commands,
    parent: Entity,
    kind: AssetKind,
    part: Part,
    cache: &mut PartCache,
    meshes: &mut Assets<Mesh>,
    materials: &mut Assets<StandardMaterial>,
) {
    commands.spawn((
        Mesh3d(cache.mesh(part.primitive, meshes)),
        MeshMaterial3d(cache.material(kind, part.paint, materials)),
        Transform::from_translation(part.translation).with_rotation(part.rotation),
        // Explicit, not only required by the renderer's plugins: the level of detail hides
        // parts, in headless apps too.
        Visibility::Inherited,
        ChildOf(parent),
    ));
}
