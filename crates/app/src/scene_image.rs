//! The scaled 3D view on the window. With a render scale below 1 (the low tier) the scene
//! camera draws into an image with fewer pixels (`camera::SceneTarget`); this render pass
//! stretches that image over its rectangle of the panels camera's target, before egui paints
//! the panels over it.
//!
//! egui painted the image before, as one more textured shape. Its shader converts every texel
//! to gamma and back (two `pow` per channel, for text) and blends with what is under it, which
//! under a software renderer cost 15-30 ms of a 1080p frame: the image covers most of the
//! window. Here each pixel is one filtered sample written without blending
//! (`shaders/scene_image.wgsl`).

use bevy::asset::uuid_handle;
use bevy::core_pipeline::core_2d::main_opaque_pass_2d;
use bevy::core_pipeline::{Core2d, Core2dSystems, FullscreenShader};
use bevy::prelude::*;
use bevy::render::diagnostic::RecordDiagnostics;
use bevy::render::extract_component::{ExtractComponent, ExtractComponentPlugin};
use bevy::render::render_asset::RenderAssets;
use bevy::render::render_resource::binding_types::{sampler, texture_2d};
use bevy::render::render_resource::{
    BindGroup, BindGroupEntries, BindGroupLayoutDescriptor, BindGroupLayoutEntries,
    CachedRenderPipelineId, ColorTargetState, ColorWrites, FilterMode, FragmentState,
    MultisampleState, PipelineCache, RenderPassDescriptor, RenderPipelineDescriptor, Sampler,
    SamplerBindingType, SamplerDescriptor, ShaderStages, SpecializedRenderPipeline,
    SpecializedRenderPipelines, TextureFormat, TextureSampleType, TextureViewId,
};
use bevy::render::renderer::{RenderContext, RenderDevice, ViewQuery};
use bevy::render::texture::GpuImage;
use bevy::render::view::{Msaa, ViewTarget};
use bevy::render::{
    Extract, ExtractSchedule, GpuResourceAppExt, Render, RenderApp, RenderStartup, RenderSystems,
};
use bevy::window::PrimaryWindow;

use crate::camera::{SceneTarget, physical_rect};

const SCENE_IMAGE_SHADER: Handle<Shader> = uuid_handle!("26609d9d-1c6f-4e91-abba-8959257ae599");

/// On the camera that draws the panels: the scaled view goes into its target first.
#[derive(Component, Debug, Clone, Copy, Default, ExtractComponent)]
pub struct ShowsSceneImage;

pub struct SceneImagePlugin;

impl Plugin for SceneImagePlugin {
    fn build(&self, app: &mut App) {
        crate::shaders::register(
            app,
            &SCENE_IMAGE_SHADER,
            include_str!("../../../shaders/scene_image.wgsl"),
            "shaders/scene_image.wgsl",
        );
        app.add_plugins(ExtractComponentPlugin::<ShowsSceneImage>::default());
        let Some(render_app) = app.get_sub_app_mut(RenderApp) else {
            return;
        };
        render_app
            .init_gpu_resource::<SpecializedRenderPipelines<SceneImagePipeline>>()
            .add_systems(RenderStartup, init_pipeline)
            .add_systems(ExtractSchedule, extract_scene_image)
            .add_systems(Render, prepare_pipelines.in_set(RenderSystems::Prepare))
            .add_systems(
                Core2d,
                // Under the panels (egui draws after the main pass) and before the 2D passes,
                // which have nothing of the twin's to draw.
                draw_scene_image
                    .in_set(Core2dSystems::MainPass)
                    .before(main_opaque_pass_2d),
            );
    }
}

/// The render world's copy of what to stretch where: the image and the window pixels it
/// covers. Absent when the view draws straight into the window.
#[derive(Resource, Debug, Clone, Copy, PartialEq)]
struct ShownImage {
    image: AssetId<Image>,
    min: UVec2,
    size: UVec2,
}

fn extract_scene_image(
    mut commands: Commands,
    target: Extract<Option<Res<SceneTarget>>>,
    windows: Extract<Query<&Window, With<PrimaryWindow>>>,
) {
    let shown = target
        .as_ref()
        .and_then(|target| Some((target.image.as_ref()?, target.rect)))
        .zip(windows.single().ok())
        .and_then(|(((handle, _), rect), window)| {
            let (min, max) = physical_rect(rect, window);
            let size = max.saturating_sub(min);
            (size.x > 0 && size.y > 0).then_some(ShownImage {
                image: handle.id(),
                min,
                size,
            })
        });
    match shown {
        Some(shown) => commands.insert_resource(shown),
        None => commands.remove_resource::<ShownImage>(),
    }
}

#[derive(Resource)]
struct SceneImagePipeline {
    layout: BindGroupLayoutDescriptor,
    /// Bilinear: a view drawn at half size is smoothed, not shown in 2x2 blocks.
    sampler: Sampler,
    fullscreen_shader: FullscreenShader,
}

fn init_pipeline(
    mut commands: Commands,
    render_device: Res<RenderDevice>,
    fullscreen_shader: Res<FullscreenShader>,
) {
    let layout = BindGroupLayoutDescriptor::new(
        "scene_image_bind_group_layout",
        &BindGroupLayoutEntries::sequential(
            ShaderStages::FRAGMENT,
            (
                texture_2d(TextureSampleType::Float { filterable: true }),
                sampler(SamplerBindingType::Filtering),
            ),
        ),
    );
    let sampler = render_device.create_sampler(&SamplerDescriptor {
        label: Some("scene_image_sampler"),
        mag_filter: FilterMode::Linear,
        min_filter: FilterMode::Linear,
        ..default()
    });
    commands.insert_resource(SceneImagePipeline {
        layout,
        sampler,
        fullscreen_shader: fullscreen_shader.clone(),
    });
}

#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
struct SceneImageKey {
    target_format: TextureFormat,
    samples: u32,
}

impl SpecializedRenderPipeline for SceneImagePipeline {
    type Key = SceneImageKey;

    fn specialize(&self, key: Self::Key) -> RenderPipelineDescriptor {
        RenderPipelineDescriptor {
            label: Some("scene_image_pipeline".into()),
            layout: vec![self.layout.clone()],
            vertex: self.fullscreen_shader.to_vertex_state(),
            fragment: Some(FragmentState {
                shader: SCENE_IMAGE_SHADER,
                entry_point: Some("fragment".into()),
                targets: vec![Some(ColorTargetState {
                    format: key.target_format,
                    // The view is opaque: nothing under it to blend with.
                    blend: None,
                    write_mask: ColorWrites::ALL,
                })],
                ..default()
            }),
            multisample: MultisampleState {
                count: key.samples,
                ..default()
            },
            ..default()
        }
    }
}

/// The pipeline for a panels camera's target format.
#[derive(Component)]
struct ViewSceneImagePipeline(CachedRenderPipelineId);

fn prepare_pipelines(
    mut commands: Commands,
    pipeline_cache: Res<PipelineCache>,
    mut pipelines: ResMut<SpecializedRenderPipelines<SceneImagePipeline>>,
    pipeline: Res<SceneImagePipeline>,
    views: Query<(Entity, &ViewTarget, Option<&Msaa>), With<ShowsSceneImage>>,
) {
    for (entity, target, msaa) in &views {
        let key = SceneImageKey {
            target_format: target.main_texture_format(),
            samples: msaa.map_or(1, Msaa::samples),
        };
        let id = pipelines.specialize(&pipeline_cache, &pipeline, key);
        commands.entity(entity).insert(ViewSceneImagePipeline(id));
    }
}

fn draw_scene_image(
    view: ViewQuery<(&ViewTarget, &ViewSceneImagePipeline)>,
    shown: Option<Res<ShownImage>>,
    images: Res<RenderAssets<GpuImage>>,
    pipeline: Res<SceneImagePipeline>,
    pipeline_cache: Res<PipelineCache>,
    mut bind_group: Local<Option<(TextureViewId, BindGroup)>>,
    mut ctx: RenderContext,
) {
    let (target, view_pipeline) = view.into_inner();
    let Some(shown) = shown else {
        return;
    };
    // A new image (the view was resized) is ready a frame later at most.
    let Some(image) = images.get(shown.image) else {
        return;
    };
    let Some(render_pipeline) = pipeline_cache.get_render_pipeline(view_pipeline.0) else {
        return;
    };
    let bind_group = match &*bind_group {
        Some((id, group)) if *id == image.texture_view.id() => group.clone(),
        _ => {
            let group = ctx.render_device().create_bind_group(
                "scene_image_bind_group",
                &pipeline_cache.get_bind_group_layout(&pipeline.layout),
                &BindGroupEntries::sequential((&image.texture_view, &pipeline.sampler)),
            );
            *bind_group = Some((image.texture_view.id(), group.clone()));
            group
        }
    };
    // Inside the target: a window resized since the rectangle was measured.
    let target_size = target.main_texture().size();
    let target_px = UVec2::new(target_size.width, target_size.height);
    let min = shown.min.min(target_px);
    let size = shown.size.min(target_px.saturating_sub(min));
    if size.x == 0 || size.y == 0 {
        return;
    }

    let diagnostics = ctx.diagnostic_recorder();
    let diagnostics = diagnostics.as_deref();
    let mut pass = ctx.begin_tracked_render_pass(RenderPassDescriptor {
        label: Some("scene_image"),
        // The first pass into the panels camera's target clears it.
        color_attachments: &[Some(target.get_color_attachment())],
        depth_stencil_attachment: None,
        timestamp_writes: None,
        occlusion_query_set: None,
        multiview_mask: None,
    });
    let pass_span = diagnostics.pass_span(&mut pass, "scene_image");
    pass.set_render_pipeline(render_pipeline);
    pass.set_bind_group(0, &bind_group, &[]);
    pass.set_viewport(
        min.x as f32,
        min.y as f32,
        size.x as f32,
        size.y as f32,
        0.0,
        1.0,
    );
    pass.draw(0..3, 0..1);
    pass_span.end(&mut pass);
}
