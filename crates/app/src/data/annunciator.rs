//! What the alarm panels annunciate, kept up to date as assets' alarms change instead of read
//! from every asset each frame: the counts in the status bar, the assets with a standing alarm
//! (the alarm list, the labels' colours) and their worst severity. A 10,000-asset plant with
//! a few alarms then costs the panels the few, not three scans of 10,000 assets a frame.

use std::collections::BTreeMap;

use bevy::prelude::*;

use crate::data::predict::AssetHealth;
use crate::frame::DataSystems;
use plant_twin_core::predict::{Annunciation, AssetModel, Severity};

/// Keeps the [`Annunciator`] after prediction has run (its alarms, time, operator actions).
pub struct AnnunciatorPlugin;

impl Plugin for AnnunciatorPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Annunciator>()
            .add_systems(Update, update_annunciator.in_set(DataSystems::Observe));
    }
}

/// The alarm state of the plant, from the assets whose [`AssetHealth`] changed.
#[derive(Resource, Debug, Default, Clone, PartialEq)]
pub struct Annunciator {
    /// Assets with an alarm that is not normal (standing, returned unacknowledged or shelved),
    /// in entity order so that lists built from it do not depend on a hash.
    standing: BTreeMap<Entity, Standing>,
    totals: Standing,
}

/// The alarms of one asset (or the plant's, summed) by what the operator is shown.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// The worst severity of its alarms that are not shelved (for the plant: unused).
    pub severity: Severity,
    /// Alarms in alarm, not shelved.
    pub alarms: usize,
    /// Alarms in warning, not shelved.
    pub warnings: usize,
    /// Needing a person: active or returned, not acknowledged, not shelved.
    pub unacknowledged: usize,
    pub shelved: usize,
}

impl Standing {
    /// What an asset annunciates; None when every alarm is normal and none shelved.
    fn of(model: &AssetModel) -> Option<Standing> {
        let mut standing = Standing::default();
        let mut quiet = true;
        for alarm in &model.alarms {
            let annunciation = alarm.annunciation();
            quiet &= annunciation == Annunciation::Normal;
            if annunciation == Annunciation::Shelved {
                standing.shelved += 1;
                continue;
            }
            standing.severity = standing.severity.max(alarm.severity);
            match alarm.severity {
                Severity::Alarm => standing.alarms += 1,
                Severity::Warning => standing.warnings += 1,
                Severity::Normal => {}
            }
            if alarm.unacknowledged() {
                standing.unacknowledged += 1;
            }
        }
        (!quiet).then_some(standing)
    }

    fn add(&mut self, other: &Standing) {
        self.alarms += other.alarms;
        self.warnings += other.warnings;
        self.unacknowledged += other.unacknowledged;
        self.shelved += other.shelved;
    }

    fn subtract(&mut self, other: &Standing) {
        self.alarms -= other.alarms;
        self.warnings -= other.warnings;
        self.unacknowledged -= other.unacknowledged;
        self.shelved -= other.shelved;
    }
}

impl Annunciator {
    /// The plant's alarms, warnings, unacknowledged and shelved alarms.
    pub fn totals(&self) -> Standing {
        self.totals
    }

    /// The assets with anything to annunciate, in entity order.
    pub fn standing(&self) -> impl Iterator<Item = (Entity, &Standing)> {
        self.standing
            .iter()
            .map(|(entity, standing)| (*entity, standing))
    }

    /// The worst severity of an asset's alarms that are not shelved.
    pub fn severity(&self, entity: Entity) -> Severity {
        if self.standing.is_empty() {
            return Severity::Normal;
        }
        self.standing
            .get(&entity)
            .map_or(Severity::Normal, |standing| standing.severity)
    }

    fn set(&mut self, entity: Entity, model: Option<&AssetModel>) {
        if let Some(old) = self.standing.remove(&entity) {
            self.totals.subtract(&old);
        }
        let Some(model) = model else {
            return;
        };
        if let Some(standing) = Standing::of(model) {
            self.totals.add(&standing);
            self.standing.insert(entity, standing);
        }
    }
}

/// Follows the assets whose alarms may have changed this frame (samples, time, operator
/// actions, a reload).
pub fn update_annunciator(
    mut annunciator: ResMut<Annunciator>,
    changed: Query<(Entity, &AssetHealth), Changed<AssetHealth>>,
    mut removed: RemovedComponents<AssetHealth>,
) {
    for entity in removed.read() {
        annunciator.set(entity, None);
    }
    for (entity, health) in &changed {
        annunciator.set(entity, Some(&health.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plant_twin_core::layout::{DEMO_LAYOUT_TEXT, parse_layout};
    use plant_twin_core::predict::PredictConfig;

    /// The counts a scan of every asset gives: what the annunciator must agree with.
    fn scanned(app: &mut App) -> Standing {
        let mut totals = Standing::default();
        let mut query = app.world_mut().query::<&AssetHealth>();
        for standing in query.iter(app.world()).filter_map(|h| Standing::of(&h.0)) {
            totals.add(&standing);
        }
        totals
    }

    #[test]
    fn it_follows_raised_shelved_and_despawned_alarms_like_a_full_scan() {
        let layout = parse_layout(DEMO_LAYOUT_TEXT, std::path::Path::new("demo.ron"))
            .expect("the demo layout parses");
        let config = PredictConfig::default();
        let mut app = App::new();
        app.init_resource::<Annunciator>()
            .add_systems(Update, update_annunciator);
        let entities: Vec<Entity> = layout
            .assets
            .iter()
            .take(5)
            .map(|asset| {
                app.world_mut()
                    .spawn(AssetHealth(AssetModel::new(asset, &config, None)))
                    .id()
            })
            .collect();
        app.update();
        let annunciator = app.world().resource::<Annunciator>().clone();
        assert_eq!(annunciator.totals(), Standing::default());
        assert_eq!(annunciator.standing().count(), 0);

        // Two assets' first alarms held at full score past the on-delay.
        for &entity in &entities[1..3] {
            let mut health = app
                .world_mut()
                .get_mut::<AssetHealth>(entity)
                .expect("spawned with health");
            for t in 0..30 {
                health.0.alarms[0].update(&config.alarm, t as f64, 1.0);
            }
        }
        app.update();
        let annunciator = app.world().resource::<Annunciator>().clone();
        assert_eq!(annunciator.totals().alarms, 2);
        assert_eq!(annunciator.totals().unacknowledged, 2);
        assert_eq!(annunciator.totals(), scanned(&mut app));
        assert_eq!(annunciator.severity(entities[1]), Severity::Alarm);
        assert_eq!(annunciator.severity(entities[0]), Severity::Normal);
        let mut standing: Vec<Entity> = annunciator.standing().map(|(e, _)| e).collect();
        standing.sort_by_key(|e| e.index());
        assert_eq!(standing, entities[1..3].to_vec());

        // Shelved: counted as shelved, no longer annunciated, still listed.
        app.world_mut()
            .get_mut::<AssetHealth>(entities[1])
            .expect("spawned with health")
            .0
            .alarms[0]
            .shelve(30.0, 900.0, "test");
        app.update();
        let annunciator = app.world().resource::<Annunciator>().clone();
        assert_eq!(annunciator.totals().alarms, 1);
        assert_eq!(annunciator.totals().shelved, 1);
        assert_eq!(annunciator.severity(entities[1]), Severity::Normal);
        assert_eq!(annunciator.standing().count(), 2);
        assert_eq!(annunciator.totals(), scanned(&mut app));

        // A despawned asset takes its alarms with it.
        app.world_mut().despawn(entities[2]);
        app.update();
        let annunciator = app.world().resource::<Annunciator>().clone();
        assert_eq!(annunciator.totals().alarms, 0);
        assert_eq!(annunciator.totals().unacknowledged, 0);
        assert_eq!(annunciator.standing().count(), 1);
        assert_eq!(annunciator.totals(), scanned(&mut app));
    }
}
