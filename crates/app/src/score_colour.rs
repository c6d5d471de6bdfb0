//! Colours the scene by what matters. By default only what is abnormal has a colour (ISA-101,
//! "high-performance HMI"): normal equipment is neutral grey, a warning amber, an alarm red, and
//! an unacknowledged alarm pulses, so the one real problem is what the eye finds. Asked for
//! explicitly: each component's continuous anomaly score, a chosen signal on a legend-labelled
//! scale, data freshness, or the kinds' own paint.
//!
//! The material is `StandardMaterial` extended by `shaders/score.wgsl`. Colours are quantised
//! into a small palette of shared materials (steps x ramp x flags), so a mesh changes colour by
//! swapping a handle when its step changes: no material is created or written per frame, and
//! meshes of one colour still batch. The alarm pulse is animated in the shader.

use std::collections::HashMap;

use bevy::asset::uuid_handle;
use bevy::mesh::MeshVertexBufferLayoutRef;
use bevy::pbr::{ExtendedMaterial, MaterialExtension, MaterialPlugin};
use bevy::pbr::{MaterialExtensionKey, MaterialExtensionPipeline};
use bevy::prelude::*;
use bevy::render::render_resource::{
    AsBindGroup, RenderPipelineDescriptor, SpecializedMeshPipelineError,
};
use bevy::shader::ShaderRef;

use crate::data::predict::{AssetHealth, Prediction};
use crate::data::telemetry::{Freshness, GreyedAsStale, LiveSignals, PaintBeforeStale};
use crate::detail::Stowed;
use crate::plant::{AssetComponentPart, AssetSpec};
use crate::quality::{RenderQuality, ShadingKey};
use plant_twin_core::predict::{Annunciation, Part, Severity};

pub type ScoreMaterial = ExtendedMaterial<StandardMaterial, ScoreTint>;

const SHADER: Handle<Shader> = uuid_handle!("6f1d3a52-8c1e-4b8e-9a57-3f0f2c9d41a7");

/// Colour steps along a ramp: enough that a slowly rising score looks continuous.
pub const STEPS: u8 = 32;

/// What the scene's colours mean.
#[derive(Resource, Debug, Clone, PartialEq, Default)]
pub enum ColourBy {
    /// Alarm state: neutral when normal (and shelved), amber for a warning, red for an alarm;
    /// unacknowledged alarms pulse.
    #[default]
    AlarmState,
    /// Anomaly score on a continuous scale: green, amber, red; unacknowledged alarms pulse.
    Anomaly,
    /// One signal (by id) between the bottom of its normal range and its upper limit.
    Signal(String),
    /// Age of the data against the asset's stale timeout.
    Freshness,
    /// The kinds' own colours.
    Paint,
    /// An energy figure of each asset against the largest in the plant (assets without energy
    /// signals are dark).
    Energy(EnergyView),
}

/// Which energy figure colours the scene.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnergyView {
    /// kW now.
    Power,
    /// kWh measured since the account started.
    Energy,
    /// The share of its energy an asset drew while not producing (assets that say when they
    /// produce).
    IdleShare,
}

impl EnergyView {
    pub const ALL: [EnergyView; 3] = [EnergyView::Power, EnergyView::Energy, EnergyView::IdleShare];

    pub fn label(self) -> &'static str {
        match self {
            EnergyView::Power => "power now",
            EnergyView::Energy => "energy so far",
            EnergyView::IdleShare => "idle share",
        }
    }

    /// The figure of one asset's energy, and the scale it is shown on (the plant's largest, or
    /// 1 for a share); None where it has no such figure.
    pub fn figure(self, energy: &plant_twin_core::energy::Energy) -> Option<f64> {
        match self {
            EnergyView::Power => Some(energy.power_kw),
            EnergyView::Energy => Some(energy.measured_kwh),
            EnergyView::IdleShare => {
                (energy.measured_kwh > 0.0).then(|| energy.idle_kwh / energy.measured_kwh)
            }
        }
    }
}

/// Per layout position, an asset's energy figure on the [0, 1] scale of the colouring, and the
/// figure that 1 stands for.
pub fn energy_shades(
    view: EnergyView,
    account: &plant_twin_core::energy::EnergyAccount,
    has_energy: &[bool],
) -> (Vec<Option<f64>>, f64) {
    let figures: Vec<Option<f64>> = account
        .assets
        .iter()
        .zip(has_energy)
        .map(|(energy, has)| has.then(|| view.figure(energy)).flatten())
        .collect();
    let top = match view {
        EnergyView::IdleShare => 1.0,
        _ => figures.iter().flatten().fold(0.0_f64, |a, b| a.max(*b)),
    };
    let shades = figures
        .into_iter()
        .map(|f| f.map(|f| f / top.max(1e-12)))
        .collect();
    (shades, top)
}

impl ColourBy {
    pub fn label(&self) -> String {
        match self {
            ColourBy::Energy(view) => format!("energy: {}", view.label()),
            ColourBy::AlarmState => "alarm state".into(),
            ColourBy::Anomaly => "anomaly score".into(),
            ColourBy::Signal(id) => format!("signal {id}"),
            ColourBy::Freshness => "data freshness".into(),
            ColourBy::Paint => "kind colours".into(),
        }
    }
}

/// The shader's uniform (see shaders/score.wgsl).
#[derive(Asset, AsBindGroup, Reflect, Debug, Clone, Default)]
#[bind_group_data(ShadingKey)]
pub struct ScoreTint {
    #[uniform(100)]
    pub value: f32,
    #[uniform(100)]
    pub ramp: u32,
    #[uniform(100)]
    pub flags: u32,
    #[uniform(100)]
    pub paint_mix: f32,
    /// How the tier lights it (a pipeline key, not a uniform).
    #[reflect(ignore)]
    pub shading: ShadingKey,
}

impl From<&ScoreTint> for ShadingKey {
    fn from(tint: &ScoreTint) -> ShadingKey {
        tint.shading
    }
}

impl MaterialExtension for ScoreTint {
    fn fragment_shader() -> ShaderRef {
        SHADER.into()
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
        SHADER.into()
    }
}

pub const FLAG_PULSE: u8 = 1;
pub const FLAG_STALE: u8 = 2;
pub const FLAG_NO_VALUE: u8 = 4;

/// Which ramp a value is shown on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ramp {
    Anomaly = 0,
    Value = 1,
    /// Alarm state in three steps: neutral (below 0.25), amber, red (from 0.75).
    State = 2,
}

/// Where each alarm state sits on [`Ramp::State`].
pub fn state_value(severity: Severity) -> f64 {
    match severity {
        Severity::Normal => 0.0,
        Severity::Warning => 0.5,
        Severity::Alarm => 1.0,
    }
}

/// One palette entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tint {
    pub step: u8,
    pub ramp: Ramp,
    pub flags: u8,
    /// Asset bodies show some of their paint; components show the pure colour.
    pub body: bool,
}

impl Tint {
    pub fn of(value: f64, ramp: Ramp, flags: u8, body: bool) -> Tint {
        let step = (value.clamp(0.0, 1.0) * STEPS as f64).round() as u8;
        Tint {
            step,
            ramp,
            flags,
            body,
        }
    }
}

/// The ramps, as the shader computes them (linear RGB), for legends.
pub fn ramp_colour(ramp: Ramp, value: f32) -> LinearRgba {
    let mix = |a: [f32; 3], b: [f32; 3], t: f32| {
        let t = t.clamp(0.0, 1.0);
        LinearRgba::rgb(
            a[0] + (b[0] - a[0]) * t,
            a[1] + (b[1] - a[1]) * t,
            a[2] + (b[2] - a[2]) * t,
        )
    };
    match ramp {
        Ramp::Anomaly => {
            let (green, amber, red) = ([0.05, 0.45, 0.10], [1.0, 0.45, 0.0], [0.80, 0.02, 0.02]);
            if value < 0.5 {
                mix(green, amber, value / 0.5)
            } else {
                mix(amber, red, (value - 0.5) / 0.25)
            }
        }
        Ramp::State => {
            if value < 0.25 {
                LinearRgba::rgb(0.30, 0.31, 0.33)
            } else if value < 0.75 {
                LinearRgba::rgb(1.0, 0.45, 0.0)
            } else {
                LinearRgba::rgb(0.80, 0.02, 0.02)
            }
        }
        Ramp::Value => {
            let stops = [
                [0.02, 0.10, 0.60],
                [0.0, 0.45, 0.40],
                [0.90, 0.75, 0.02],
                [0.80, 0.02, 0.02],
            ];
            let x = value.clamp(0.0, 1.0) * 3.0;
            let i = (x.floor() as usize).min(2);
            mix(stops[i], stops[i + 1], x - i as f32)
        }
    }
}

/// Shared materials by tint, lit as the render tier asks.
#[derive(Resource, Default)]
struct Palette {
    materials: HashMap<Tint, Handle<ScoreMaterial>>,
    shading: ShadingKey,
}

impl Palette {
    fn get(&mut self, tint: Tint, materials: &mut Assets<ScoreMaterial>) -> Handle<ScoreMaterial> {
        let shading = self.shading;
        self.materials
            .entry(tint)
            .or_insert_with(|| {
                materials.add(ExtendedMaterial {
                    base: StandardMaterial {
                        // What bodies mix in: a neutral machine grey.
                        base_color: Color::srgb(0.55, 0.57, 0.60),
                        perceptual_roughness: 0.6,
                        metallic: 0.1,
                        ..default()
                    },
                    extension: ScoreTint {
                        value: tint.step as f32 / STEPS as f32,
                        ramp: tint.ramp as u32,
                        flags: tint.flags as u32,
                        paint_mix: if tint.body { 0.6 } else { 0.0 },
                        shading,
                    },
                })
            })
            .clone()
    }
}

/// On a tinted asset: the tints its meshes were given (body, then components in layout order)
/// and how many children it had then. The same again changes nothing.
#[derive(Component, Debug, Clone, PartialEq)]
pub struct AppliedTints {
    tints: Vec<Option<Tint>>,
    children: usize,
}

impl AppliedTints {
    fn matches(&self, (tints, children): (&[Option<Tint>], usize)) -> bool {
        self.children == children && self.tints == tints
    }

    fn set(&mut self, (tints, children): (&[Option<Tint>], usize)) {
        self.tints.clear();
        self.tints.extend_from_slice(tints);
        self.children = children;
    }
}

/// On a tinted mesh: its tint now, and the paint to restore.
#[derive(Component)]
pub struct Tinted {
    tint: Tint,
    paint: Handle<StandardMaterial>,
}

impl Tinted {
    /// An unacknowledged alarm: the shader animates it, so the window must keep drawing.
    pub fn pulses(&self) -> bool {
        self.tint.flags & FLAG_PULSE != 0
    }
}

pub struct ScoreColourPlugin;

impl Plugin for ScoreColourPlugin {
    fn build(&self, app: &mut App) {
        crate::shaders::register(
            app,
            &SHADER,
            include_str!("../../../shaders/score.wgsl"),
            "shaders/score.wgsl",
        );
        app.add_plugins(MaterialPlugin::<ScoreMaterial>::default())
            .init_resource::<ColourBy>()
            .init_resource::<Palette>()
            .add_systems(
                Update,
                (
                    follow_tier_shading,
                    restore_paint.run_if(resource_changed::<ColourBy>),
                    tint_assets,
                )
                    .chain()
                    .in_set(ScoreColourSystems),
            );
    }
}

/// The palette lit as the render tier asks: its materials change only when the tier does.
fn follow_tier_shading(
    quality: Option<Res<RenderQuality>>,
    mut palette: ResMut<Palette>,
    mut materials: ResMut<Assets<ScoreMaterial>>,
) {
    let shading = ShadingKey::of(quality.as_deref());
    if palette.shading == shading {
        return;
    }
    palette.shading = shading;
    for handle in palette.materials.values() {
        if let Some(mut material) = materials.get_mut(handle) {
            material.extension.shading = shading;
        }
    }
}

/// Recolours the scene; in [`AppSystems::Presentation`].
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScoreColourSystems;

/// The tint of one part of an asset (`None`: its body) under the current colouring, or None
/// for paint.
pub fn tint_for(
    colour_by: &ColourBy,
    prediction: &Prediction,
    (spec, health, live, freshness): (&AssetSpec, &AssetHealth, &LiveSignals, &Freshness),
    part: Option<Part>,
    now_ms: i64,
    energy_shade: Option<f64>,
) -> Option<Tint> {
    let body = part.is_none();
    if freshness.stale {
        return Some(Tint::of(0.0, Ramp::Anomaly, FLAG_STALE, body));
    }
    match colour_by {
        ColourBy::Paint => None,
        ColourBy::Energy(_) => Some(match energy_shade {
            Some(shade) => Tint::of(shade, Ramp::Value, 0, false),
            None => Tint::of(0.0, Ramp::Value, FLAG_NO_VALUE, body),
        }),
        ColourBy::AlarmState => {
            let model = &health.0;
            // A component without signals of its own shows the asset's state; the body shows
            // the worst of the asset's alarms. Shelved alarms are not annunciated.
            let part = part.filter(|p| model.parts.contains(p));
            let alarms = model
                .parts
                .iter()
                .zip(&model.alarms)
                .filter(|(p, _)| part.is_none_or(|q| q == **p))
                .map(|(_, alarm)| alarm)
                .filter(|alarm| alarm.annunciation() != Annunciation::Shelved);
            let mut severity = Severity::Normal;
            let mut unacknowledged = false;
            for alarm in alarms {
                severity = severity.max(alarm.severity);
                unacknowledged |= alarm.annunciation() == Annunciation::Unacknowledged;
            }
            let flags = if unacknowledged { FLAG_PULSE } else { 0 };
            Some(Tint::of(state_value(severity), Ramp::State, flags, body))
        }
        ColourBy::Anomaly => {
            let model = &health.0;
            // A component without signals of its own shows the asset's state.
            let part = part.filter(|p| model.parts.contains(p));
            let Some(score) = model.score_value(&prediction.config, part) else {
                return Some(Tint::of(0.0, Ramp::Anomaly, FLAG_NO_VALUE, body));
            };
            let unacknowledged = model
                .parts
                .iter()
                .zip(&model.alarms)
                .filter(|(p, _)| part.is_none_or(|q| q == **p))
                .any(|(_, a)| a.annunciation() == Annunciation::Unacknowledged);
            let flags = if unacknowledged { FLAG_PULSE } else { 0 };
            Some(Tint::of(score, Ramp::Anomaly, flags, body))
        }
        ColourBy::Signal(id) => {
            let position = spec.0.signals.iter().position(|s| &s.id == id);
            let value = position.and_then(|i| Some((&spec.0.signals[i], live.0.get(i)?.value?)));
            match value {
                Some((signal, value)) => {
                    let (low, high) = signal_scale(signal);
                    let x = (value - low) / (high - low).max(1e-12);
                    Some(Tint::of(x, Ramp::Value, 0, false))
                }
                None => Some(Tint::of(0.0, Ramp::Value, FLAG_NO_VALUE, body)),
            }
        }
        ColourBy::Freshness => {
            let timeout_s = spec
                .0
                .telemetry
                .as_ref()
                .map_or(10.0, |t| t.stale_after_s as f64);
            match freshness.age_s(now_ms) {
                Some(age) => Some(Tint::of(age / timeout_s.max(1e-3), Ramp::Anomaly, 0, false)),
                None => Some(Tint::of(0.0, Ramp::Anomaly, FLAG_NO_VALUE, body)),
            }
        }
    }
}

/// The scale a signal is coloured on: the bottom of its normal range to its upper failure limit
/// (or the top of its normal range without limits).
pub fn signal_scale(signal: &plant_twin_core::layout::Signal) -> (f64, f64) {
    let high = signal.limits.map_or(signal.normal.1, |l| l.1);
    (signal.normal.0, high)
}

type AssetRow = (
    Entity,
    &'static AssetSpec,
    &'static AssetHealth,
    &'static LiveSignals,
    &'static Freshness,
    &'static Children,
    Has<GreyedAsStale>,
);

#[allow(clippy::type_complexity, clippy::too_many_arguments)]
fn tint_assets(
    mut commands: Commands,
    colour_by: Res<ColourBy>,
    prediction: Res<Prediction>,
    assets: Query<
        AssetRow,
        Or<(
            Changed<AssetHealth>,
            Changed<Freshness>,
            Changed<LiveSignals>,
        )>,
    >,
    all_assets: Query<AssetRow>,
    mut applied: Query<&mut AppliedTints>,
    mut tints: Local<Vec<Option<Tint>>>,
    // Stowed parts (`detail`) are coloured too, so they come back in the colour of now.
    component_parts: Query<(&AssetComponentPart, &Children), Allow<Stowed>>,
    proxies: Query<(), With<crate::plant::FarProxy>>,
    mut meshes: Query<
        (
            Option<&MeshMaterial3d<StandardMaterial>>,
            Option<&mut Tinted>,
            Option<&PaintBeforeStale>,
            Option<&mut MeshMaterial3d<ScoreMaterial>>,
        ),
        Allow<Stowed>,
    >,
    mut palette: ResMut<Palette>,
    mut materials: ResMut<Assets<ScoreMaterial>>,
    time: Res<Time<Real>>,
    mut last_refresh: Local<f64>,
    energy: Option<Res<crate::data::energy::PlantEnergy>>,
    index: Res<crate::plant::AssetIndex>,
) {
    if *colour_by == ColourBy::Paint {
        return;
    }
    let now_ms = plant_twin_core::telemetry::now_ms();
    // Ages grow without any change: recolour everything twice a second in that mode, as after
    // a change of mode.
    let now = time.elapsed_secs_f64();
    // Energy figures grow with every sample: once a second in that mode.
    let refresh_s = match *colour_by {
        ColourBy::Freshness => Some(0.5),
        ColourBy::Energy(_) => Some(1.0),
        _ => None,
    };
    let everything =
        colour_by.is_changed() || refresh_s.is_some_and(|every| now - *last_refresh > every);
    if everything {
        *last_refresh = now;
    }
    // Per asset entity, its energy shade (only in an energy colouring).
    let shades: std::collections::HashMap<Entity, f64> = match (&*colour_by, energy.as_deref()) {
        (
            ColourBy::Energy(view),
            Some(crate::data::energy::PlantEnergy {
                account: Some(account),
                ..
            }),
        ) => {
            let has_energy: Vec<bool> = index
                .by_position
                .iter()
                .map(|e| {
                    all_assets
                        .get(*e)
                        .is_ok_and(|row| row.1.0.signals.iter().any(|s| s.energy.is_some()))
                })
                .collect();
            let (values, _) = energy_shades(*view, account, &has_energy);
            index
                .by_position
                .iter()
                .zip(values)
                .filter_map(|(e, v)| Some((*e, v?)))
                .collect()
        }
        _ => Default::default(),
    };
    let rows: Box<dyn Iterator<Item = _>> = if everything {
        Box::new(all_assets.iter())
    } else {
        Box::new(assets.iter())
    };
    for (asset, spec, health, live, freshness, children, greyed) in rows {
        let tint = |part: Option<Part>| {
            tint_for(
                &colour_by,
                &prediction,
                (spec, health, live, freshness),
                part,
                now_ms,
                shades.get(&asset).copied(),
            )
        };
        // Body first, then the components in layout order.
        tints.clear();
        tints.push(tint(None));
        tints.extend((0..spec.0.components.len()).map(|i| tint(Some(Part::Component(i as u16)))));
        // Most samples move a score within its colour step: the meshes already show these
        // tints, and walking an asset's dozen meshes to find that out cost 0.7 ms a frame at
        // 10,000 assets. A new colouring is applied whatever was there.
        let shown = (tints.as_slice(), children.len());
        match applied.get_mut(asset) {
            Ok(applied) if !colour_by.is_changed() && applied.matches(shown) => continue,
            Ok(mut applied) => applied.set(shown),
            Err(_) => {
                commands.entity(asset).insert(AppliedTints {
                    tints: tints.clone(),
                    children: children.len(),
                });
            }
        }
        let body = tints[0];
        let mut apply = |mesh: Entity, tint: Option<Tint>| {
            let Some(tint) = tint else { return };
            let Ok((paint, tinted, before_stale, score_material)) = meshes.get_mut(mesh) else {
                return;
            };
            match (tinted, score_material) {
                (Some(mut tinted), Some(mut material)) => {
                    if tinted.tint != tint {
                        tinted.tint = tint;
                        material.0 = palette.get(tint, &mut materials);
                    }
                }
                _ => {
                    // First tint of a painted mesh: remember its paint (the real one, if the
                    // stale greying swapped it) and switch material type.
                    let Some(paint) = before_stale
                        .map(|b| b.0.clone())
                        .or(paint.map(|p| p.0.clone()))
                    else {
                        return;
                    };
                    commands
                        .entity(mesh)
                        .remove::<(MeshMaterial3d<StandardMaterial>, PaintBeforeStale)>()
                        .insert((
                            Tinted { tint, paint },
                            MeshMaterial3d(palette.get(tint, &mut materials)),
                        ));
                }
            }
        };
        for child in children.iter() {
            if let Ok((part, grandchildren)) = component_parts.get(child) {
                let index = spec
                    .0
                    .components
                    .iter()
                    .position(|c| c.id == part.component_id);
                let tint = index.map_or(body, |i| tints[1 + i]);
                for mesh in grandchildren.iter() {
                    apply(mesh, tint);
                }
            } else if proxies.contains(child) {
                // From afar the box is all there is to see: the body's colour at full strength.
                apply(
                    child,
                    body.map(|tint| Tint {
                        body: false,
                        ..tint
                    }),
                );
            } else {
                apply(child, body);
            }
        }
        if greyed {
            // The tint shows staleness itself; the marker would stop the grey coming back.
            commands.entity(asset).remove::<GreyedAsStale>();
        }
    }
}

/// Back to paint: every tinted mesh gets its paint back; stale assets are greyed again by the
/// live plugin.
fn restore_paint(
    mut commands: Commands,
    colour_by: Res<ColourBy>,
    tinted: Query<(Entity, &Tinted), Allow<Stowed>>,
    applied: Query<Entity, With<AppliedTints>>,
    mut freshness: Query<&mut Freshness>,
) {
    if *colour_by != ColourBy::Paint {
        return;
    }
    for asset in &applied {
        commands.entity(asset).remove::<AppliedTints>();
    }
    for (mesh, tinted) in &tinted {
        commands
            .entity(mesh)
            .remove::<(Tinted, MeshMaterial3d<ScoreMaterial>)>()
            .insert(MeshMaterial3d(tinted.paint.clone()));
    }
    for mut freshness in &mut freshness {
        freshness.set_changed();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plant_twin_core::energy::{AccountConfig, Energy, EnergyAccount};

    #[test]
    fn energy_shades_are_shares_of_the_largest_and_dark_without_energy_signals() {
        let layout = plant_twin_core::layout::parse_layout(
            plant_twin_core::layout::DEMO_LAYOUT_TEXT,
            std::path::Path::new("demo-plant.ron"),
        )
        .expect("demo layout");
        let mut account = EnergyAccount::new(&layout, AccountConfig::default());
        account.assets[0] = Energy {
            power_kw: 10.0,
            measured_kwh: 4.0,
            idle_kwh: 1.0,
            ..Energy::default()
        };
        account.assets[1] = Energy {
            power_kw: 40.0,
            measured_kwh: 2.0,
            ..Energy::default()
        };
        let has_energy = vec![true, true, false];
        let (power, top) = energy_shades(EnergyView::Power, &account, &has_energy);
        assert_eq!(top, 40.0);
        assert_eq!(&power[..3], &[Some(0.25), Some(1.0), None]);
        let (idle, top) = energy_shades(EnergyView::IdleShare, &account, &has_energy);
        assert_eq!(top, 1.0);
        assert_eq!(&idle[..2], &[Some(0.25), Some(0.0)]);
        let (kwh, _) = energy_shades(EnergyView::Energy, &account, &has_energy);
        assert_eq!(kwh[0], Some(1.0));
    }
}
