//! Render tiers: the look the hardware can afford. Control-room PCs and virtual machines often
//! have no GPU; under a software renderer (llvmpipe, lavapipe, WARP) every pixel of shadows and
//! multisampling is CPU time. `--quality auto` (the default) reads the adapter Bevy chose and
//! picks the tier; low, medium and high can be asked for on the command line or in View.
//!
//! What the tiers change is only how the scene is lit and smoothed: colours, labels and the
//! alarm pulse are the same in every tier, so an alarm reads the same on every machine.
//!
//! The low tier also lights the project's own materials (the score colours and the floor)
//! simply: diffuse sun and ambient light without Bevy's specular, texture and cluster work
//! (`shaders/simple_lighting.wgsl`, chosen per material by [`ShadingKey`]).

use bevy::asset::uuid_handle;
use bevy::light::{CascadeShadowConfig, CascadeShadowConfigBuilder};
use bevy::prelude::*;
use bevy::render::render_resource::RenderPipelineDescriptor;
use bevy::render::renderer::RenderAdapterInfo;
use bevy::render::view::Msaa;

use crate::frame::AppSystems;

/// How the scene is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// No shadows, no multisampling, the 3D view drawn at half resolution: for software
    /// renderers.
    Low,
    /// Shadows from one cascade, no multisampling: integrated and virtual GPUs.
    Medium,
    /// Shadows from four cascades and 4x multisampling: discrete GPUs.
    High,
}

/// How a project material is lit: part of its pipeline key, so switching the tier recompiles
/// its pipeline with or without `SIMPLE_LIGHTING`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ShadingKey {
    /// The low tier's diffuse-only lighting instead of Bevy's full lighting.
    pub simple_lighting: bool,
}

impl ShadingKey {
    /// The shading of the tier in force; full lighting without a renderer (headless apps).
    pub fn of(quality: Option<&RenderQuality>) -> ShadingKey {
        ShadingKey {
            simple_lighting: quality.is_some_and(|q| q.tier == Tier::Low),
        }
    }

    /// Adds the shader def the project's material shaders read.
    pub fn specialize(self, descriptor: &mut RenderPipelineDescriptor) {
        if self.simple_lighting
            && let Some(fragment) = descriptor.fragment.as_mut()
        {
            fragment.shader_defs.push("SIMPLE_LIGHTING".into());
        }
    }
}

/// `plant_twin::simple_lighting`, imported by the material shaders under `SIMPLE_LIGHTING`.
const SIMPLE_LIGHTING_SHADER: Handle<Shader> = uuid_handle!("0d7c9a4e-2b61-4f83-a5e0-6c1b8f3d9e27");

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Low, Tier::Medium, Tier::High];

    pub fn name(self) -> &'static str {
        match self {
            Tier::Low => "low",
            Tier::Medium => "medium",
            Tier::High => "high",
        }
    }
}

/// What the user asked for: a tier, or the one the adapter suggests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quality {
    #[default]
    Auto,
    Fixed(Tier),
}

/// `--quality auto|low|medium|high`.
pub fn parse_quality(text: &str) -> Result<Quality, String> {
    match text {
        "auto" => Ok(Quality::Auto),
        _ => Tier::ALL
            .into_iter()
            .find(|tier| tier.name() == text)
            .map(Quality::Fixed)
            .ok_or_else(|| format!("{text:?}: expected auto, low, medium or high")),
    }
}

/// The tier for an adapter, from wgpu's device type (its `Debug` name: `Cpu`, `IntegratedGpu`,
/// `DiscreteGpu`, `VirtualGpu`, `Other`) and the adapter's name. Software renderers are
/// recognised by name too: some report themselves as `Other`.
pub fn tier_for(device_type: &str, adapter_name: &str) -> Tier {
    let name = adapter_name.to_ascii_lowercase();
    let software = [
        "llvmpipe",
        "lavapipe",
        "softpipe",
        "swiftshader",
        "warp",
        "basic render",
    ]
    .iter()
    .any(|s| name.contains(s));
    match device_type {
        _ if software => Tier::Low,
        "Cpu" => Tier::Low,
        "DiscreteGpu" => Tier::High,
        _ => Tier::Medium,
    }
}

/// `--render-scale SCALE` (0.25 to 1).
pub fn parse_render_scale(text: &str) -> Result<f32, String> {
    match text.parse::<f32>() {
        Ok(scale) if (MIN_RENDER_SCALE..=1.0).contains(&scale) => Ok(scale),
        _ => Err(format!("{text:?}: expected a scale from 0.25 to 1")),
    }
}

/// Below a quarter of the width the scene's small assets are a few pixels.
pub const MIN_RENDER_SCALE: f32 = 0.25;

/// The tier in force and why.
#[derive(Resource, Debug, Clone, PartialEq)]
pub struct RenderQuality {
    pub requested: Quality,
    /// A render scale asked for (`--render-scale`, View menu); None: the tier's.
    pub scale_override: Option<f32>,
    pub tier: Tier,
    /// The adapter's name and device type, once the renderer has chosen one.
    pub adapter: Option<(String, String)>,
}

impl RenderQuality {
    /// The tier and how it was chosen: "low (auto)", with the render scale when below 1:
    /// "low (auto) 50 %".
    pub fn tier_text(&self) -> String {
        let tier = match self.requested {
            Quality::Auto => format!("{} (auto)", self.tier.name()),
            Quality::Fixed(_) => self.tier.name().to_string(),
        };
        match self.render_scale() {
            scale if scale < 1.0 => format!("{tier} {:.0} %", 100.0 * scale),
            _ => tier,
        }
    }

    /// With the adapter: "low (auto) · llvmpipe (Cpu)".
    pub fn summary(&self) -> String {
        match &self.adapter {
            Some((name, kind)) => format!("{} · {name} ({kind})", self.tier_text()),
            None => self.tier_text(),
        }
    }

    /// The share of the 3D view's width and height that is drawn: half in the low tier (a
    /// quarter of the pixels, stretched to the view), all otherwise.
    pub fn render_scale(&self) -> f32 {
        self.scale_override
            .unwrap_or(if self.tier == Tier::Low { 0.5 } else { 1.0 })
            .clamp(MIN_RENDER_SCALE, 1.0)
    }

    fn choose(&mut self) {
        self.tier = match (self.requested, &self.adapter) {
            (Quality::Fixed(tier), _) => tier,
            (Quality::Auto, Some((name, kind))) => tier_for(kind, name),
            // Until the adapter is known: the cheapest, so a slow machine is not stalled by
            // its first frames.
            (Quality::Auto, None) => Tier::Low,
        };
    }
}

/// The user picked a quality (View menu).
#[derive(Message, Debug, Clone, Copy, PartialEq)]
pub struct SetQuality(pub Quality);

/// The user picked a render scale (View menu; None: the tier's).
#[derive(Message, Debug, Clone, Copy, PartialEq)]
pub struct SetRenderScale(pub Option<f32>);

pub struct QualityPlugin {
    pub requested: Quality,
    pub render_scale: Option<f32>,
}

impl Plugin for QualityPlugin {
    fn build(&self, app: &mut App) {
        let mut quality = RenderQuality {
            requested: self.requested,
            scale_override: self.render_scale,
            tier: Tier::Low,
            adapter: None,
        };
        quality.choose();
        crate::shaders::register(
            app,
            &SIMPLE_LIGHTING_SHADER,
            include_str!("../../../shaders/simple_lighting.wgsl"),
            "shaders/simple_lighting.wgsl",
        );
        app.insert_resource(quality)
            .add_message::<SetQuality>()
            .add_message::<SetRenderScale>()
            .add_observer(tier_for_new_camera)
            .add_observer(tier_for_new_light)
            .add_systems(
                Update,
                (
                    (read_adapter, set_quality, set_render_scale).in_set(AppSystems::Input),
                    apply_tier.in_set(AppSystems::Presentation),
                ),
            );
    }

    /// The renderer has chosen its adapter by now (it finishes before the plugins added after
    /// it): the first frame is drawn in the right tier. A camera switched to another
    /// multisampling later recompiles every pipeline, which on a software renderer shows a
    /// black scene for seconds.
    fn finish(&self, app: &mut App) {
        let adapter = app
            .world()
            .get_resource::<RenderAdapterInfo>()
            .map(adapter_of);
        if let (Some(adapter), Some(mut quality)) =
            (adapter, app.world_mut().get_resource_mut::<RenderQuality>())
        {
            quality.adapter = Some(adapter);
            quality.choose();
        }
    }
}

fn adapter_of(info: &RenderAdapterInfo) -> (String, String) {
    (info.name.clone(), format!("{:?}", info.device_type))
}

fn read_adapter(info: Option<Res<RenderAdapterInfo>>, mut quality: ResMut<RenderQuality>) {
    let Some(info) = info else { return };
    if quality.adapter.is_some() {
        return;
    }
    quality.adapter = Some(adapter_of(&info));
    quality.choose();
    info!("render quality: {}", quality.summary());
}

fn set_quality(mut asked: MessageReader<SetQuality>, mut quality: ResMut<RenderQuality>) {
    if let Some(SetQuality(requested)) = asked.read().last() {
        quality.requested = *requested;
        quality.choose();
        info!("render quality: {}", quality.summary());
    }
}

fn set_render_scale(mut asked: MessageReader<SetRenderScale>, mut quality: ResMut<RenderQuality>) {
    if let Some(SetRenderScale(scale)) = asked.read().last() {
        quality.scale_override = *scale;
        info!("render scale: {:.0} %", 100.0 * quality.render_scale());
    }
}

fn msaa(tier: Tier, is_3d: bool) -> Msaa {
    // egui antialiases its own shapes: the panels never need multisampling.
    if is_3d && tier == Tier::High {
        Msaa::Sample4
    } else {
        Msaa::Off
    }
}

fn shadows(tier: Tier) -> (bool, CascadeShadowConfig) {
    let config = CascadeShadowConfigBuilder {
        num_cascades: if tier == Tier::High { 4 } else { 1 },
        ..default()
    }
    .build();
    (tier >= Tier::Medium, config)
}

fn tier_for_new_camera(
    add: On<Add, Camera>,
    quality: Res<RenderQuality>,
    cameras: Query<Has<Camera3d>>,
    mut commands: Commands,
) {
    let is_3d = cameras.get(add.entity).unwrap_or(false);
    commands
        .entity(add.entity)
        .insert(msaa(quality.tier, is_3d));
}

fn tier_for_new_light(
    add: On<Add, DirectionalLight>,
    quality: Res<RenderQuality>,
    mut lights: Query<&mut DirectionalLight>,
    mut commands: Commands,
) {
    let (enabled, cascades) = shadows(quality.tier);
    if let Ok(mut light) = lights.get_mut(add.entity) {
        light.shadow_maps_enabled = enabled;
    }
    commands.entity(add.entity).insert(cascades);
}

/// Shadows and multisampling of every light and camera when the tier changes (View menu); at
/// start-up the observers gave each its tier as it was spawned.
fn apply_tier(
    mut commands: Commands,
    quality: Res<RenderQuality>,
    mut lights: Query<(Entity, &mut DirectionalLight)>,
    cameras: Query<(Entity, Has<Camera3d>), With<Camera>>,
) {
    if !quality.is_changed() || quality.is_added() {
        return;
    }
    let (enabled, cascades) = shadows(quality.tier);
    for (entity, mut light) in &mut lights {
        light.shadow_maps_enabled = enabled;
        commands.entity(entity).insert(cascades.clone());
    }
    for (entity, is_3d) in &cameras {
        commands.entity(entity).insert(msaa(quality.tier, is_3d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn software_renderers_get_the_low_tier() {
        assert_eq!(
            tier_for("Cpu", "llvmpipe (LLVM 19.1.7, 256 bits)"),
            Tier::Low
        );
        assert_eq!(
            tier_for("Other", "Microsoft Basic Render Driver"),
            Tier::Low
        );
        assert_eq!(
            tier_for("IntegratedGpu", "Intel(R) UHD Graphics 630"),
            Tier::Medium
        );
        assert_eq!(tier_for("VirtualGpu", "virgl"), Tier::Medium);
        assert_eq!(tier_for("DiscreteGpu", "NVIDIA RTX A2000"), Tier::High);
    }

    #[test]
    fn quality_parses_and_fixed_tiers_win_over_the_adapter() {
        assert_eq!(parse_quality("auto"), Ok(Quality::Auto));
        assert_eq!(parse_quality("medium"), Ok(Quality::Fixed(Tier::Medium)));
        assert!(parse_quality("ultra").is_err());
        let mut quality = RenderQuality {
            requested: Quality::Fixed(Tier::High),
            scale_override: None,
            tier: Tier::Low,
            adapter: Some(("llvmpipe".into(), "Cpu".into())),
        };
        quality.choose();
        assert_eq!(quality.tier, Tier::High);
        assert_eq!(quality.summary(), "high · llvmpipe (Cpu)");
        quality.requested = Quality::Auto;
        quality.choose();
        assert_eq!(quality.summary(), "low (auto) 50 % · llvmpipe (Cpu)");
    }

    #[test]
    fn the_render_scale_is_the_tiers_unless_asked_for() {
        assert_eq!(parse_render_scale("0.75"), Ok(0.75));
        assert!(parse_render_scale("auto").is_err());
        assert!(parse_render_scale("0.1").is_err());
        assert!(parse_render_scale("2").is_err());
        assert!(parse_render_scale("half").is_err());
        let mut quality = RenderQuality {
            requested: Quality::Fixed(Tier::High),
            scale_override: None,
            tier: Tier::High,
            adapter: None,
        };
        assert_eq!(quality.render_scale(), 1.0);
        assert_eq!(quality.tier_text(), "high");
        quality.scale_override = Some(0.75);
        assert_eq!(quality.render_scale(), 0.75);
        assert_eq!(quality.tier_text(), "high 75 %");
        quality.tier = Tier::Low;
        quality.scale_override = None;
        assert_eq!(quality.render_scale(), 0.5);
    }

    #[test]
    fn only_the_low_tier_lights_simply_and_a_headless_app_lights_fully() {
        assert!(!ShadingKey::of(None).simple_lighting);
        for tier in Tier::ALL {
            let quality = RenderQuality {
                requested: Quality::Fixed(tier),
                scale_override: None,
                tier,
                adapter: None,
            };
            assert_eq!(
                ShadingKey::of(Some(&quality)).simple_lighting,
                tier == Tier::Low,
                "{tier:?}"
            );
        }
    }
}
