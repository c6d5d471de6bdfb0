//! The environment around the assets: the floor with its metre grid, zones drawn on the floor,
//! and the lighting. Rebuilt whenever the layout changes.

use bevy::asset::{RenderAssetUsages, uuid_handle};
use bevy::mesh::{Indices, MeshVertexBufferLayoutRef, PrimitiveTopology};
use bevy::pbr::{
    ExtendedMaterial, MaterialExtension, MaterialExtensionKey, MaterialExtensionPipeline,
    MaterialPlugin,
};
use bevy::prelude::*;
use bevy::render::render_resource::{
    AsBindGroup, RenderPipelineDescriptor, SpecializedMeshPipelineError,
};
use bevy::shader::ShaderRef;

use crate::plant::PlantDocument;
use crate::quality::{RenderQuality, ShadingKey};
use plant_twin_core::geometry::{hatch_segments, triangulate_polygon, world_from_plan};
use plant_twin_core::layout::{PlantLayout, ZoneKind};

pub struct ScenePlugin;

impl Plugin for ScenePlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(ClearColor(Color::srgb(0.11, 0.12, 0.14)))
            .insert_resource(GlobalAmbientLight {
                color: Color::WHITE,
                brightness: 450.0,
                ..default()
            })
            .add_systems(Startup, spawn_lights)
            .add_systems(
                Update,
                spawn_floor
                    .run_if(resource_changed::<PlantDocument>)
                    .in_set(crate::frame::AppSystems::ApplyIntents),
            );
    }
}

/// The floor's material: its paint, lit as any other, with the grid drawn by
/// `shaders/floor.wgsl`. Headless apps register only the asset type; the window's app adds
/// [`FloorGridPlugin`] to draw it.
pub type FloorMaterial = ExtendedMaterial<StandardMaterial, FloorGrid>;

const FLOOR_SHADER: Handle<Shader> = uuid_handle!("b3c2e0f4-5d7a-4c1e-8f2b-9a6d3e1c7b50");

/// The grid drawn on the floor (see shaders/floor.wgsl).
#[derive(Asset, AsBindGroup, Reflect, Debug, Clone)]
#[bind_group_data(ShadingKey)]
pub struct FloorGrid {
    #[uniform(100)]
    pub minor_spacing_m: f32,
    #[uniform(100)]
    pub major_spacing_m: f32,
    /// The share of the floor's light a line takes away.
    #[uniform(100)]
    pub minor_opacity: f32,
    #[uniform(100)]
    pub major_opacity: f32,
    /// How the tier lights it (a pipeline key, not a uniform).
    #[reflect(ignore)]
    pub shading: ShadingKey,
}

impl From<&FloorGrid> for ShadingKey {
    fn from(grid: &FloorGrid) -> ShadingKey {
        grid.shading
    }
}

impl Default for FloorGrid {
    /// A line every metre, a darker one every 10 m: the plan's scale at a glance.
    fn default() -> Self {
        FloorGrid {
            minor_spacing_m: 1.0,
            major_spacing_m: 10.0,
            minor_opacity: 0.18,
            major_opacity: 0.45,
            shading: ShadingKey::default(),
        }
    }
}

impl MaterialExtension for FloorGrid {
    fn fragment_shader() -> ShaderRef {
        FLOOR_SHADER.into()
    }

    fn specialize(
        _pipeline: &MaterialExtensionPipeline,
        descriptor: &mut RenderPipelineDescriptor,
        _layout: &MeshVertexBufferLayoutRef,
        key: MaterialExtensionKey<Self>,
    ) -> Result<(), SpecializedMeshPipelineError> {
        key.bind_group_data.specialize(descriptor);
        Ok(())
    }

    fn deferred_fragment_shader() -> ShaderRef {
        FLOOR_SHADER.into()
    }
}

/// The floor's and the markings' material types, for apps without [`FloorGridPlugin`] (headless
/// apps and tests), which still lay the floor out.
pub fn init_material_assets(app: &mut App) -> &mut App {
    app.init_asset::<FloorMaterial>()
        .init_asset::<FlatMaterial>()
}

/// Markings on the floor (zones, their edges and hatching, material-flow ribbons): a standard
/// material's colour, alpha mode and vertex colours, drawn without light by `shaders/flat.wgsl`
/// in every tier. Bevy's standard material picks "unlit" at run time, and a software renderer
/// runs both sides of that branch, so each zone pixel paid for the full lighting.
pub type FlatMaterial = ExtendedMaterial<StandardMaterial, Flat>;

const FLAT_SHADER: Handle<Shader> = uuid_handle!("5f0e7a21-8c3d-4b9e-a6f1-2d7c4e8b9a13");

/// Nothing beyond the standard material; the shader is the difference.
#[derive(Asset, AsBindGroup, Reflect, Debug, Clone, Default)]
pub struct Flat {}

impl MaterialExtension for Flat {
    fn fragment_shader() -> ShaderRef {
        FLAT_SHADER.into()
    }
}

/// A flat colour, blended when it is translucent.
pub fn flat(color: Color) -> FlatMaterial {
    FlatMaterial {
        base: StandardMaterial {
            base_color: color,
            unlit: true,
            alpha_mode: if color.alpha() < 1.0 {
                AlphaMode::Blend
            } else {
                AlphaMode::Opaque
            },
            ..default()
        },
        extension: Flat {},
    }
}

/// Draws the floor's material in a window (the renderer's side of [`FloorMaterial`]).
pub struct FloorGridPlugin;

impl Plugin for FloorGridPlugin {
    fn build(&self, app: &mut App) {
        crate::shaders::register(
            app,
            &FLOOR_SHADER,
            include_str!("../../../shaders/floor.wgsl"),
            "shaders/floor.wgsl",
        );
        crate::shaders::register(
            app,
            &FLAT_SHADER,
            include_str!("../../../shaders/flat.wgsl"),
            "shaders/flat.wgsl",
        );
        app.add_plugins((
            MaterialPlugin::<FloorMaterial>::default(),
            MaterialPlugin::<FlatMaterial>::default(),
        ))
        .add_systems(Update, floor_follows_tier_shading);
    }
}

/// The floor lit as the render tier asks.
fn floor_follows_tier_shading(
    quality: Option<Res<RenderQuality>>,
    mut materials: ResMut<Assets<FloorMaterial>>,
) {
    let shading = ShadingKey::of(quality.as_deref());
    let stale: Vec<AssetId<FloorMaterial>> = materials
        .iter()
        .filter(|(_, material)| material.extension.shading != shading)
        .map(|(id, _)| id)
        .collect();
    for id in stale {
        if let Some(mut material) = materials.get_mut(id) {
            material.extension.shading = shading;
        }
    }
}

/// Everything drawn on the floor; replaced with the layout.
#[derive(Component)]
pub struct FloorRoot;

/// Height above the floor of zone fills and markings, to keep them from z-fighting the floor.
const ZONE_FILL_Y: f32 = 0.004;
const MARKING_Y: f32 = 0.008;

fn spawn_lights(mut commands: Commands) {
    commands.spawn((
        Name::new("Sun"),
        DirectionalLight {
            illuminance: 9_000.0,
            shadow_maps_enabled: true,
            ..default()
        },
        Transform::from_xyz(30.0, 60.0, 20.0).looking_at(Vec3::ZERO, Vec3::Y),
    ));
}

fn spawn_floor(
    mut commands: Commands,
    document: Res<PlantDocument>,
    old: Query<Entity, With<FloorRoot>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<FlatMaterial>>,
    mut floor_materials: ResMut<Assets<FloorMaterial>>,
    quality: Option<Res<RenderQuality>>,
) {
    for entity in &old {
        commands.entity(entity).despawn();
    }
    let layout = &document.layout;
    let (width, depth) = (layout.floor.width, layout.floor.depth);

    let root = commands
        .spawn((
            Name::new("Floor"),
            FloorRoot,
            Transform::default(),
            Visibility::default(),
        ))
        .id();
    commands.spawn((
        Name::new("Floor slab"),
        Mesh3d(meshes.add(Plane3d::new(Vec3::Y, Vec2::new(width * 0.5, depth * 0.5)))),
        MeshMaterial3d(floor_materials.add(FloorMaterial {
            base: StandardMaterial {
                base_color: Color::srgb(0.42, 0.44, 0.45),
                perceptual_roughness: 0.9,
                ..default()
            },
            // Lit as the tier asks from the first frame: a later switch compiles it again.
            extension: FloorGrid {
                shading: ShadingKey::of(quality.as_deref()),
                ..default()
            },
        })),
        Transform::from_translation(world_from_plan(width * 0.5, depth * 0.5, 0.0)),
        Pickable::IGNORE,
        ChildOf(root),
    ));
    for zone in &layout.zones {
        let corners = zone.area.corners();
        let (fill, edge) = match zone.kind {
            // Red and amber mean alarm and warning in this scene and nothing else (ISA-101), so
            // the floor's markings are drawn as a plan would: a dark hatch for keep-out areas,
            // white edges and a muted green for walkways.
            ZoneKind::KeepOut => (
                Color::srgba(0.10, 0.11, 0.16, 0.28),
                Color::srgb(0.16, 0.17, 0.24),
            ),
            ZoneKind::Walkway { .. } => (
                Color::srgba(0.30, 0.62, 0.35, 0.22),
                Color::srgb(0.95, 0.95, 0.95),
            ),
        };
        commands.spawn((
            Name::new(format!("Zone {}", zone.id)),
            Mesh3d(meshes.add(polygon_mesh(&corners, ZONE_FILL_Y))),
            MeshMaterial3d(materials.add(flat(fill))),
            Pickable::IGNORE,
            ChildOf(root),
        ));
        let mut markings: Vec<((f32, f32), (f32, f32))> = (0..corners.len())
            .map(|i| (corners[i], corners[(i + 1) % corners.len()]))
            .collect();
        if zone.kind == ZoneKind::KeepOut {
            markings.extend(hatch_segments(&corners, 0.8));
        }
        commands.spawn((
            Name::new(format!("Zone {} markings", zone.id)),
            Mesh3d(meshes.add(line_mesh(&markings, MARKING_Y))),
            MeshMaterial3d(materials.add(flat(edge))),
            Pickable::IGNORE,
            ChildOf(root),
        ));
    }
}

type PlanSegment = ((f32, f32), (f32, f32));

/// A line-list mesh of plan segments at height `up`.
fn line_mesh(segments: &[PlanSegment], up: f32) -> Mesh {
    let positions: Vec<[f32; 3]> = segments
        .iter()
        .flat_map(|&((x0, y0), (x1, y1))| {
            [
                world_from_plan(x0, y0, up).to_array(),
                world_from_plan(x1, y1, up).to_array(),
            ]
        })
        .collect();
    Mesh::new(PrimitiveTopology::LineList, RenderAssetUsages::RENDER_WORLD)
        .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, positions)
}

/// A flat, upward-facing mesh filling a plan polygon at height `up`.
fn polygon_mesh(corners: &[(f32, f32)], up: f32) -> Mesh {
    let positions: Vec<[f32; 3]> = corners
        .iter()
        .map(|&(x, y)| world_from_plan(x, y, up).to_array())
        .collect();
    let normals = vec![[0.0, 1.0, 0.0]; positions.len()];
    // Counter-clockwise in plan is counter-clockwise seen from above in the world too.
    let indices: Vec<u32> = triangulate_polygon(corners)
        .into_iter()
        .flat_map(|t| t.map(|i| i as u32))
        .collect();
    Mesh::new(
        PrimitiveTopology::TriangleList,
        RenderAssetUsages::RENDER_WORLD,
    )
    .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, positions)
    .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, normals)
    .with_inserted_indices(Indices::U32(indices))
}

/// Plan-space bounds of everything in the layout: the floor.
pub fn layout_world_bounds(layout: &PlantLayout) -> (Vec3, Vec3) {
    let (width, depth) = (layout.floor.width, layout.floor.depth);
    let tallest = layout
        .assets
        .iter()
        .map(|asset| asset.extents().2)
        .fold(0.0f32, f32::max);
    (
        world_from_plan(0.0, depth, 0.0),
        world_from_plan(width, 0.0, tallest),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::{Quality, Tier};

    fn floor_app() -> App {
        let mut app = App::new();
        app.add_plugins((MinimalPlugins, AssetPlugin::default()))
            .init_asset::<Mesh>()
            .init_asset::<StandardMaterial>();
        init_material_assets(&mut app)
            .insert_resource(PlantDocument::demo().expect("the built-in demo layout loads"))
            .add_plugins(ScenePlugin)
            .add_systems(Update, floor_follows_tier_shading);
        app.update();
        app
    }

    #[test]
    fn the_grid_is_in_the_floors_material_not_line_meshes_over_it() {
        let mut app = floor_app();
        let materials = app.world().resource::<Assets<FloorMaterial>>();
        let grids: Vec<&FloorGrid> = materials.iter().map(|(_, m)| &m.extension).collect();
        assert_eq!(grids.len(), 1, "one floor, one material");
        assert_eq!(grids[0].minor_spacing_m, 1.0);
        assert_eq!(grids[0].major_spacing_m, 10.0);
        assert!(grids[0].major_opacity > grids[0].minor_opacity);
        let mut names = app.world_mut().query::<&Name>();
        let grid_meshes = names
            .iter(app.world())
            .filter(|name| name.as_str().starts_with("Grid"))
            .count();
        assert_eq!(grid_meshes, 0);
    }

    #[test]
    fn zones_and_their_markings_are_drawn_flat_not_by_the_lit_standard_shader() {
        let mut app = floor_app();
        let zones = PlantDocument::demo()
            .expect("the built-in demo layout loads")
            .layout
            .zones
            .len();
        assert!(zones > 0, "the demo has zones");
        let flat: Vec<&FlatMaterial> = app
            .world()
            .resource::<Assets<FlatMaterial>>()
            .iter()
            .map(|(_, m)| m)
            .collect();
        // A fill and a set of markings per zone; the translucent fills blend.
        assert_eq!(flat.len(), 2 * zones);
        let blended = flat
            .iter()
            .filter(|m| m.base.alpha_mode == AlphaMode::Blend)
            .count();
        assert_eq!(blended, zones);
        let mut query = app.world_mut().query::<&MeshMaterial3d<StandardMaterial>>();
        assert_eq!(
            query.iter(app.world()).count(),
            0,
            "nothing on the floor is lit"
        );
    }

    #[test]
    fn the_floor_is_lit_as_the_render_tier_asks() {
        let mut app = floor_app();
        let simple = |app: &App| {
            app.world()
                .resource::<Assets<FloorMaterial>>()
                .iter()
                .map(|(_, m)| m.extension.shading.simple_lighting)
                .collect::<Vec<bool>>()
        };
        assert_eq!(simple(&app), vec![false], "no renderer: full lighting");
        for (tier, expected) in [(Tier::Low, true), (Tier::High, false)] {
            app.insert_resource(RenderQuality {
                requested: Quality::Fixed(tier),
                scale_override: None,
                tier,
                adapter: None,
            });
            app.update();
            assert_eq!(simple(&app), vec![expected], "{tier:?}");
        }
    }
}
