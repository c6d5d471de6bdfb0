//! The prediction system in the ECS: every asset gets an [`AssetHealth`] (its detectors, alarms
//! and trends), fed with every sample the live plugin applied this frame, in arrival order.
//! Alarm changes go to the [`AlarmLog`] and to the `DataEvent` stream; the UI acknowledges,
//! shelves and re-learns through [`AlarmIntent`]s.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;

use bevy::prelude::*;

use crate::data::events::{DataEvent, DataEventKind};
use crate::data::telemetry::FrameSamples;
use crate::frame::DataSystems;
use crate::plant::{AssetIndex, AssetSpec, LayoutReloaded, LayoutSource, PlantDocument};
use plant_twin_core::layout::{self, Asset};
use plant_twin_core::predict::baseline::{
    BaselineFile, DEMO_BASELINE_TEXT, baseline_path_for, collect_baseline, load_baseline,
    parse_baseline, save_baseline,
};
use plant_twin_core::predict::degradation::{
    DegradationTracker, ModelInForce, models_from_attachments, models_named_by,
};
use plant_twin_core::predict::{
    AlarmChange, AssetModel, Part, PartChange, PredictConfig, Severity, models_fit,
};

/// Alarm history entries kept.
const ALARM_LOG_CAPACITY: usize = 5_000;

pub struct PredictionPlugin {
    pub config: PredictConfig,
    /// Baseline file; default: `<layout>.baseline.ron` next to the layout when it exists.
    pub baseline: Option<PathBuf>,
    /// Who acknowledges and shelves (shown in the alarm history).
    pub operator: String,
}

impl Default for PredictionPlugin {
    fn default() -> Self {
        PredictionPlugin {
            config: PredictConfig::default(),
            baseline: None,
            operator: default_operator(),
        }
    }
}

/// The login name, as the default operator.
pub fn default_operator() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "operator".into())
}

impl Plugin for PredictionPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(Prediction {
            config: self.config,
            operator: self.operator.clone(),
            baseline_path: self.baseline.clone(),
            baseline: None,
            baseline_note: String::new(),
            clock_s: f64::NEG_INFINITY,
            message: None,
            baseline_override: None,
            degradation: vec![],
            degradation_note: String::new(),
            degradation_override: None,
        })
        .init_resource::<AlarmLog>()
        .init_resource::<DespawnedModels>()
        .add_observer(keep_despawned_model)
        .add_message::<AlarmIntent>()
        .add_message::<TimedAlarmIntent>()
        .add_systems(
            Update,
            (
                load_baseline_for_layout.run_if(resource_changed::<PlantDocument>),
                attach_models,
                run_detectors,
                apply_alarm_intents,
            )
                .chain()
                .in_set(DataSystems::Predict),
        );
    }
}

/// Settings and shared state of prediction.
#[derive(Resource, Debug)]
pub struct Prediction {
    pub config: PredictConfig,
    pub operator: String,
    baseline_path: Option<PathBuf>,
    baseline: Option<BaselineFile>,
    /// Where the baseline came from, for the UI ("plant.baseline.ron, 45 assets").
    pub baseline_note: String,
    /// Latest source time of any sample, seconds: the clock of alarms (deterministic on replay).
    pub clock_s: f64,
    /// The outcome of the last user action (saving a baseline...).
    pub message: Option<String>,
    /// A baseline given in memory (a replay's, from the recording), used instead of files.
    pub baseline_override: Option<(BaselineFile, String)>,
    /// The learned degradation models in force (one per asset kind).
    pub degradation: Vec<ModelInForce>,
    /// What they are, or why one is not used, for the UI.
    pub degradation_note: String,
    /// Models given in memory (a replay's attachments: name, text), used instead of the
    /// files the layout names.
    pub degradation_override: Option<Vec<(String, String)>>,
}

impl Prediction {
    /// The baseline the models started from, if any.
    pub fn baseline(&self) -> Option<&BaselineFile> {
        self.baseline.as_ref()
    }
}

/// The prediction state of an asset entity.
#[derive(Component, Debug, Clone)]
pub struct AssetHealth(pub AssetModel);

/// The models of the plant that was just despawned, by asset id: a reload whose assets still
/// fit them gives them to the new entities instead of starting to learn again.
#[derive(Resource, Debug, Default)]
struct DespawnedModels(HashMap<String, AssetModel>);

fn keep_despawned_model(
    despawned: On<Despawn, AssetHealth>,
    models: Query<(&AssetSpec, &AssetHealth)>,
    mut kept: ResMut<DespawnedModels>,
) {
    if let Ok((spec, health)) = models.get(despawned.entity) {
        kept.0.insert(spec.0.id.clone(), health.0.clone());
    }
}

/// One line of the alarm history.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmRecord {
    /// Source time, ms since the epoch.
    pub time_ms: i64,
    pub entity: Entity,
    pub asset: String,
    pub part: Part,
    pub component: Option<String>,
    pub change: AlarmChange,
    pub severity: Severity,
    pub reason: String,
    pub score: f64,
}

/// Every alarm change, newest last (bounded).
#[derive(Resource, Debug, Default, Clone, PartialEq)]
pub struct AlarmLog {
    pub records: VecDeque<AlarmRecord>,
}

/// What a user asks of the alarms.
#[derive(Message, Debug, Clone, PartialEq)]
pub enum AlarmIntent {
    Acknowledge {
        asset: Entity,
        part: Part,
    },
    /// Every unacknowledged alarm.
    AcknowledgeAll,
    Shelve {
        asset: Entity,
        part: Part,
        duration_s: f64,
    },
    Unshelve {
        asset: Entity,
        part: Part,
    },
    /// Forget what was learned and learn normal behaviour again (one asset, or all).
    Relearn {
        asset: Option<Entity>,
    },
    /// Save what every asset learned as the layout's baseline file.
    SaveBaseline,
}

/// An alarm action at a given time by a given operator: a replay re-applying what an operator
/// did in the recorded run.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct TimedAlarmIntent {
    pub intent: AlarmIntent,
    pub time_s: f64,
    pub operator: String,
}

/// The part of an asset with this component id (None: the asset itself).
pub fn part_of(asset: &Asset, component: Option<&str>) -> Option<Part> {
    match component {
        None => Some(Part::Asset),
        Some(id) => asset
            .components
            .iter()
            .position(|c| c.id == id)
            .map(|i| Part::Component(i as u16)),
    }
}

/// The id of a part's component (None for the asset itself).
pub fn component_id(asset: &Asset, part: Part) -> Option<String> {
    match part {
        Part::Asset => None,
        Part::Component(i) => asset.components.get(i as usize).map(|c| c.id.clone()),
    }
}

/// The human name of a part: the component's name, or the asset's.
pub fn part_name(asset: &Asset, part: Part) -> String {
    match part {
        Part::Asset => asset.name.clone(),
        Part::Component(i) => asset
            .components
            .get(i as usize)
            .map_or_else(|| asset.name.clone(), |c| c.name.clone()),
    }
}

/// "bearing_temp +6.2 sigma, vibration_rms +4.1 sigma": the signals behind a part's score.
pub fn reason(
    asset: &Asset,
    model: &AssetModel,
    config: &PredictConfig,
    part: Option<Part>,
) -> String {
    let score = model.score(config, part);
    let words: Vec<String> = score
        .contributions
        .iter()
        .filter(|c| c.sigma.abs() >= 2.0)
        .take(3)
        .filter_map(|c| signal_reason(asset, model, c))
        .collect();
    if words.is_empty() {
        "within normal".into()
    } else {
        words.join("; ")
    }
}

/// One signal's part of a reason, in engineering units: "bearing_temp 52.2 degC, rising
/// 3.0 degC/min, usually 40.1" (sigma is in the inspector, for those who ask).
fn signal_reason(
    asset: &Asset,
    model: &AssetModel,
    contribution: &plant_twin_core::predict::Contribution,
) -> Option<String> {
    use plant_twin_core::predict::Finding;
    let index = contribution.signal as usize;
    let signal = asset.signals.get(index)?;
    // The detector that scored it: the current mode's or the one over every mode.
    let detector = model.detector(index)?;
    let (id, unit) = (&signal.id, &signal.unit);
    let baseline = detector.baseline();
    if contribution.finding == Finding::Frozen {
        return Some(format!(
            "{id} frozen at {}",
            with_unit(detector.smoothed(), unit)
        ));
    }
    if baseline.is_some_and(|b| b.counter) {
        let usual = baseline.map_or(String::new(), |b| {
            format!(", usually {}/s", engineering(b.level))
        });
        return Some(format!(
            "{id} counting {}/s{usual}",
            with_unit(detector.smoothed(), unit)
        ));
    }
    let mut words = format!("{id} {}", with_unit(detector.smoothed(), unit));
    if let Some(rate) = model.trend_rate_per_s(index) {
        let direction = if rate > 0.0 { "rising" } else { "falling" };
        words += &format!(", {direction} {}/min", with_unit(rate.abs() * 60.0, unit));
    }
    if let Some(baseline) = baseline {
        words += &format!(", usually {}", engineering(baseline.level));
    }
    // A signal that follows its machine's load: what that load makes normal now.
    if let Some(expected) = model.load.expected(index) {
        words += &format!(", {} at this load", engineering(expected));
    }
    Some(words)
}

/// "52.2 degC", or "52.2" for a signal without a unit.
fn with_unit(value: f64, unit: &str) -> String {
    if unit.is_empty() {
        engineering(value)
    } else {
        format!("{} {unit}", engineering(value))
    }
}

/// A value with the digits a reader needs: 1234, 52.2, 7.13, 0.042.
pub fn engineering(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 || magnitude == 0.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// The baseline the models start from for a layout: the in-memory one (a replay's), the
/// explicit file, the file beside the layout, or the built-in demo's.
pub fn baseline_in_force(
    prediction: &Prediction,
    source: &LayoutSource,
) -> Result<Option<(BaselineFile, String)>, String> {
    if let Some((file, from)) = &prediction.baseline_override {
        return Ok(Some((file.clone(), from.clone())));
    }
    let explicit = prediction.baseline_path.clone();
    let path = match (&explicit, source) {
        (Some(path), _) => Some(path.clone()),
        (None, LayoutSource::File(layout)) => Some(baseline_path_for(layout)),
        (None, LayoutSource::BuiltInDemo) => None,
    };
    if let Some(path) = path {
        if explicit.is_none() && !path.exists() {
            return Ok(None);
        }
        let file = load_baseline(&path).map_err(|e| e.to_string())?;
        return Ok(Some((file, path.display().to_string())));
    }
    let file = parse_baseline(DEMO_BASELINE_TEXT)
        .map_err(|issue| format!("built-in demo baseline: {}", issue.message))?;
    Ok(Some((file, "built-in demo baseline".into())))
}

#[allow(clippy::too_many_arguments)]
fn load_baseline_for_layout(
    mut commands: Commands,
    document: Res<PlantDocument>,
    mut prediction: ResMut<Prediction>,
    models: Query<Entity, With<AssetHealth>>,
    mut log: ResMut<AlarmLog>,
    mut reloads: MessageReader<LayoutReloaded>,
    mut despawned: ResMut<DespawnedModels>,
    index: Res<AssetIndex>,
) {
    // Reloading a layout whose assets only moved (or were renamed) keeps what was learned,
    // the standing alarms and the history; anything else (another plant, a replay) starts
    // its own source clock and alarm history.
    let kept = reloads
        .read()
        .last()
        .is_some_and(|reload| models_fit(&reload.previous, &document.layout));
    if kept {
        for record in &mut log.records {
            if let Some(entity) = index.by_id.get(&record.asset) {
                record.entity = *entity;
            }
        }
        info!("layout reloaded with the same assets: learned state and alarm history kept");
        return;
    }
    despawned.0.clear();
    prediction.clock_s = f64::NEG_INFINITY;
    log.records.clear();
    match baseline_in_force(&prediction, &document.source) {
        Ok(Some((file, from))) => {
            let known = document
                .layout
                .assets
                .iter()
                .filter(|a| file.assets.contains_key(&a.id))
                .count();
            prediction.baseline_note = format!(
                "baseline: {from} ({known} of {} assets)",
                document.layout.assets.len()
            );
            prediction.baseline = Some(file);
        }
        Ok(None) => {
            prediction.baseline_note = format!(
                "no baseline: learning normal behaviour for {}",
                plant_twin_core::predict::horizon::human_duration(
                    prediction.config.detector.warm_up_s
                )
            );
            prediction.baseline = None;
        }
        Err(error) => {
            // A broken baseline must not stop the twin: it learns instead, and says why.
            warn!("{error}");
            prediction.baseline_note = format!("baseline not used: {error}");
            prediction.baseline = None;
        }
    }
    load_degradation_models(&mut prediction, &document);
    // A new layout: every asset starts again.
    for entity in &models {
        commands.entity(entity).remove::<AssetHealth>();
    }
}

/// The learned degradation models for a plant: a replay's own, else the files the layout names
/// (the built-in demo's are compiled in); with every file that could not be used.
pub fn degradation_in_force(
    prediction: &Prediction,
    document: &PlantDocument,
) -> (Vec<ModelInForce>, Vec<plant_twin_core::files::FileError>) {
    match (&prediction.degradation_override, &document.source) {
        (Some(attachments), _) => models_from_attachments(attachments),
        (None, LayoutSource::File(path)) => models_named_by(&document.layout, Some(path)),
        (None, LayoutSource::BuiltInDemo) => models_named_by(&document.layout, None),
    }
}

/// Loads the learned degradation models for this plant: a replay's own, else the files the layout
/// names. A model that cannot be read is reported and its kind keeps the trend to the limit.
fn load_degradation_models(prediction: &mut Prediction, document: &PlantDocument) {
    let (models, errors) = degradation_in_force(prediction, document);
    let mut notes: Vec<String> = models
        .iter()
        .map(|m| format!("{}: {}", m.model.kind.label(), m.model.provenance()))
        .collect();
    for error in &errors {
        warn!("degradation model not used: {error}");
        notes.push(format!("not used: {error}"));
    }
    prediction.degradation_note = if notes.is_empty() {
        String::new()
    } else {
        format!("degradation models: {}", notes.join("; "))
    };
    prediction.degradation = models;
}

fn attach_models(
    mut commands: Commands,
    prediction: Res<Prediction>,
    new_assets: Query<(Entity, &AssetSpec), Without<AssetHealth>>,
    mut despawned: ResMut<DespawnedModels>,
) {
    for (entity, spec) in &new_assets {
        if let Some(model) = despawned.0.remove(&spec.0.id) {
            commands.entity(entity).insert(AssetHealth(model));
            continue;
        }
        let saved = prediction
            .baseline
            .as_ref()
            .and_then(|file| file.assets.get(&spec.0.id));
        let mut model = AssetModel::new(&spec.0, &prediction.config, saved);
        if let Some(learned) = prediction
            .degradation
            .iter()
            .find(|m| m.model.kind == spec.0.kind)
        {
            match DegradationTracker::new(learned.model.clone(), &spec.0) {
                Ok(tracker) => model.set_degradation(tracker),
                Err(missing) => warn!(
                    "{}: the {} degradation model needs signals it does not have ({}); its horizons come from trends",
                    spec.0.id,
                    learned.model.kind.label(),
                    missing.join(", ")
                ),
            }
        }
        commands.entity(entity).insert(AssetHealth(model));
    }
}

fn record(
    log: &mut AlarmLog,
    events: &mut MessageWriter<DataEvent>,
    prediction: &Prediction,
    entity: Entity,
    asset: &Asset,
    model: &AssetModel,
    change: PartChange,
) {
    let index = model.parts.iter().position(|p| *p == change.part);
    let severity = index.map_or(Severity::Normal, |i| model.alarms[i].severity);
    let reason = reason(asset, model, &prediction.config, Some(change.part));
    let score = model.score(&prediction.config, Some(change.part)).value;
    let time_ms = (change.time_s * 1000.0) as i64;
    let component = component_id(asset, change.part);
    events.write(DataEvent {
        time_ms,
        kind: DataEventKind::Alarm {
            asset: asset.id.clone(),
            component: component.clone(),
            change: change.change.clone(),
            state: severity,
            reason: reason.clone(),
            score,
        },
    });
    if log.records.len() >= ALARM_LOG_CAPACITY {
        log.records.pop_front();
    }
    log.records.push_back(AlarmRecord {
        time_ms,
        entity,
        asset: asset.id.clone(),
        part: change.part,
        component,
        change: change.change,
        severity,
        reason,
        score,
    });
}

fn run_detectors(
    samples: Res<FrameSamples>,
    index: Res<AssetIndex>,
    mut prediction: ResMut<Prediction>,
    mut assets: Query<(Entity, &AssetSpec, &mut AssetHealth)>,
    mut log: ResMut<AlarmLog>,
    mut events: MessageWriter<DataEvent>,
    mut changes: Local<Vec<PartChange>>,
) {
    let config = prediction.config;
    let mut clock = prediction.clock_s;
    for sample in &samples.0 {
        let time_s = sample.time_ms as f64 / 1000.0;
        if time_s > clock {
            // Time passes for assets that sent nothing: delays run out, shelves expire. They
            // tick at each whole source second, whatever the frames were, so that a replay
            // fed in other batches (after a seek) ends in exactly the same state.
            let second = time_s.floor();
            if clock.is_finite() && second > clock.floor() {
                for (entity, spec, mut health) in &mut assets {
                    if health.0.now_s >= second {
                        continue;
                    }
                    // Most seconds change nothing that is shown: only a changed alarm marks
                    // the asset changed, or every asset of the plant would be recoloured and
                    // rescanned each second (10-19 ms at 10,000 assets).
                    health
                        .bypass_change_detection()
                        .0
                        .tick(&config, second, &mut changes);
                    if !changes.is_empty() {
                        health.set_changed();
                    }
                    for change in changes.drain(..) {
                        record(
                            &mut log,
                            &mut events,
                            &prediction,
                            entity,
                            &spec.0,
                            &health.0,
                            change,
                        );
                    }
                }
            }
            clock = time_s;
        }
        let Some(entity) = index.at(sample.signal.asset) else {
            continue;
        };
        let Ok((entity, spec, mut health)) = assets.get_mut(entity) else {
            continue;
        };
        health.0.update(
            &config,
            sample.signal.signal as usize,
            time_s,
            sample.value,
            &mut changes,
        );
        for change in changes.drain(..) {
            record(
                &mut log,
                &mut events,
                &prediction,
                entity,
                &spec.0,
                &health.0,
                change,
            );
        }
    }
    if clock > prediction.clock_s {
        prediction.clock_s = clock;
    }
}

/// What an operator does to one alarm.
#[derive(Debug, Clone, Copy)]
enum AlarmAction {
    Acknowledge,
    Shelve(f64),
    Unshelve,
}

impl AlarmAction {
    fn apply(
        self,
        alarm: &mut plant_twin_core::predict::AlarmMachine,
        now_s: f64,
        operator: &str,
    ) -> Option<AlarmChange> {
        match self {
            AlarmAction::Acknowledge => alarm.acknowledge(now_s, operator),
            AlarmAction::Shelve(duration_s) => Some(alarm.shelve(now_s, duration_s, operator)),
            AlarmAction::Unshelve => alarm.unshelve(now_s),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn apply_alarm_intents(
    mut intents: MessageReader<AlarmIntent>,
    mut timed: MessageReader<TimedAlarmIntent>,
    document: Res<PlantDocument>,
    mut prediction: ResMut<Prediction>,
    mut assets: Query<(Entity, &AssetSpec, &mut AssetHealth)>,
    mut log: ResMut<AlarmLog>,
    mut events: MessageWriter<DataEvent>,
) {
    // Alarms run on source time; before any sample, on the wall clock.
    let now = if prediction.clock_s.is_finite() {
        prediction.clock_s
    } else {
        plant_twin_core::telemetry::now_ms() as f64 / 1000.0
    };
    let local = prediction.operator.clone();
    let all: Vec<(AlarmIntent, f64, String)> = intents
        .read()
        .map(|intent| (intent.clone(), now, local.clone()))
        .chain(
            timed
                .read()
                .map(|t| (t.intent.clone(), t.time_s, t.operator.clone())),
        )
        .collect();
    for (intent, now, operator) in &all {
        let (now, operator) = (*now, operator.as_str());
        // The alarm it changes (None: every alarm) and how.
        let (target, action) = match intent {
            AlarmIntent::Acknowledge { asset, part } => {
                (Some((*asset, *part)), AlarmAction::Acknowledge)
            }
            AlarmIntent::AcknowledgeAll => (None, AlarmAction::Acknowledge),
            AlarmIntent::Shelve {
                asset,
                part,
                duration_s,
            } => (Some((*asset, *part)), AlarmAction::Shelve(*duration_s)),
            AlarmIntent::Unshelve { asset, part } => (Some((*asset, *part)), AlarmAction::Unshelve),
            AlarmIntent::Relearn { asset } => {
                for (entity, _, mut health) in &mut assets {
                    if asset.is_none_or(|a| a == entity) {
                        health.0.relearn();
                    }
                }
                prediction.message = Some("learning normal behaviour again".into());
                continue;
            }
            AlarmIntent::SaveBaseline => {
                let message = save_current_baseline(&document, &prediction, &assets);
                prediction.message = Some(message);
                continue;
            }
        };
        let mut apply = |entity, spec: &AssetSpec, health: &mut AssetHealth, part| {
            let Some(i) = health.0.parts.iter().position(|p| *p == part) else {
                return;
            };
            if let Some(change) = action.apply(&mut health.0.alarms[i], now, operator) {
                let change = PartChange {
                    part,
                    change,
                    time_s: now,
                };
                record(
                    &mut log,
                    &mut events,
                    &prediction,
                    entity,
                    &spec.0,
                    &health.0,
                    change,
                );
            }
        };
        match target {
            Some((asset, part)) => {
                if let Ok((entity, spec, mut health)) = assets.get_mut(asset) {
                    apply(entity, spec, &mut health, part);
                }
            }
            None => {
                for (entity, spec, mut health) in &mut assets {
                    for part in health.0.parts.clone() {
                        apply(entity, spec, &mut health, part);
                    }
                }
            }
        }
    }
}

/// Where "save baseline" writes: the explicit file, else next to the layout file, else (the
/// built-in demo) next to the demo's path in the working directory.
pub fn baseline_target(prediction_path: Option<&PathBuf>, source: &LayoutSource) -> PathBuf {
    match (prediction_path, source) {
        (Some(path), _) => path.clone(),
        (None, LayoutSource::File(layout)) => baseline_path_for(layout),
        (None, LayoutSource::BuiltInDemo) => {
            let demo = std::path::Path::new(layout::DEMO_LAYOUT_PATH);
            let path = baseline_path_for(demo);
            if demo.parent().is_some_and(|dir| dir.is_dir()) {
                path
            } else {
                PathBuf::from(path.file_name().unwrap_or_default())
            }
        }
    }
}

fn save_current_baseline(
    document: &PlantDocument,
    prediction: &Prediction,
    assets: &Query<(Entity, &AssetSpec, &mut AssetHealth)>,
) -> String {
    let target = baseline_target(prediction.baseline_path.as_ref(), &document.source);
    let file = collect_baseline(
        assets.iter().map(|(_, spec, health)| (&spec.0, &health.0)),
        format!("live data of {}", document.layout.name),
    );
    if file.assets.is_empty() {
        return "nothing learned yet: no baseline saved".into();
    }
    match save_baseline(&target, &file) {
        Ok(()) => format!(
            "baseline of {} assets saved to {}",
            file.assets.len(),
            target.display()
        ),
        Err(error) => format!("cannot save the baseline to {}: {error}", target.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::engineering;

    #[test]
    fn values_keep_the_digits_a_reader_needs() {
        assert_eq!(engineering(1234.4), "1234");
        assert_eq!(engineering(52.24), "52.2");
        assert_eq!(engineering(-7.126), "-7.13");
        assert_eq!(engineering(0.04213), "0.042");
        assert_eq!(engineering(0.0), "0.00");
    }
}
