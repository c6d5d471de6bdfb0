//! The audit trail in the ECS: every operator action (acknowledge, shelve, learn again, save
//! the baseline, save the layout, enabling commands, each command sent) appended to the hash-chained audit file
//! of `plant_twin_core::audit` as it is asked for. Replays re-apply recorded actions; those
//! are not new actions and are not audited.

use std::path::PathBuf;

use bevy::prelude::*;
use serde_json::{Value, json};

use crate::data::predict::{AlarmIntent, Prediction, component_id};
use crate::plant::AssetSpec;
use crate::sandbox::EditIntent;
use plant_twin_core::audit::AuditLog;

pub struct AuditPlugin {
    /// The audit file; None: no audit trail (tests, embedded uses).
    pub path: Option<PathBuf>,
    /// Actions taken on the command line before the app started (enabling commands):
    /// (action, detail).
    pub startup: Vec<(String, Value)>,
}

/// The open audit file, if any.
#[derive(Resource, Debug, Default)]
pub struct Audit {
    log: Option<AuditLog>,
    /// The last append that failed, for the UI and the log.
    pub error: Option<String>,
}

impl Audit {
    fn append(&mut self, operator: &str, action: &str, detail: Value) {
        let Some(log) = self.log.as_mut() else {
            return;
        };
        if let Err(error) = log.append(
            plant_twin_core::telemetry::now_ms(),
            operator,
            action,
            detail,
        ) {
            error!("audit trail: {error}");
            self.error = Some(error.to_string());
        }
    }
}

/// What the command line did that the audit trail must show: enabling commands.
pub fn startup_actions(source: &crate::data::telemetry::SourceConfig) -> Vec<(String, Value)> {
    match source {
        crate::data::telemetry::SourceConfig::Mqtt(config) if config.commands_enabled => vec![(
            "enable_commands".into(),
            json!({"broker": config.url.to_string()}),
        )],
        _ => vec![],
    }
}

/// Who acts: the app's operator (`--operator`), else the login name.
fn operator(prediction: Option<Res<Prediction>>) -> String {
    prediction.map_or_else(crate::data::predict::default_operator, |p| {
        p.operator.clone()
    })
}

impl Plugin for AuditPlugin {
    fn build(&self, app: &mut App) {
        let mut audit = Audit::default();
        if let Some(path) = &self.path {
            match AuditLog::open(path) {
                Ok(log) => {
                    info!("audit trail: {}", path.display());
                    audit.log = Some(log);
                }
                Err(error) => {
                    // The twin still shows the plant; it says loudly that actions go unrecorded.
                    error!("audit trail not written: {error}");
                    audit.error = Some(error.to_string());
                }
            }
        }
        let operator = crate::data::predict::default_operator();
        for (action, detail) in &self.startup {
            audit.append(&operator, action, detail.clone());
        }
        // Registered here too: a headless app has no sandbox, and readers of a message no
        // plugin added would fail.
        app.add_message::<AlarmIntent>()
            .add_message::<EditIntent>()
            .insert_resource(audit)
            .add_message::<crate::data::events::DataEvent>()
            .add_systems(
                Update,
                (audit_alarm_intents, audit_edits, audit_commands_sent),
            );
    }
}

fn audit_alarm_intents(
    mut intents: MessageReader<AlarmIntent>,
    mut audit: ResMut<Audit>,
    prediction: Option<Res<Prediction>>,
    specs: Query<&AssetSpec>,
) {
    let operator = operator(prediction);
    for intent in intents.read() {
        let part = |asset: Entity, part| {
            specs
                .get(asset)
                .ok()
                .map(|spec| json!({"asset": spec.0.id, "component": component_id(&spec.0, part)}))
        };
        let (action, detail) = match intent {
            AlarmIntent::Acknowledge { asset, part: p } => ("acknowledge", part(*asset, *p)),
            AlarmIntent::AcknowledgeAll => ("acknowledge_all", None),
            AlarmIntent::Shelve {
                asset,
                part: p,
                duration_s,
            } => (
                "shelve",
                part(*asset, *p).map(|mut d| {
                    d["duration_s"] = json!(duration_s);
                    d
                }),
            ),
            AlarmIntent::Unshelve { asset, part: p } => ("unshelve", part(*asset, *p)),
            AlarmIntent::Relearn { asset } => (
                "relearn",
                Some(match asset.and_then(|a| specs.get(a).ok()) {
                    Some(spec) => json!({"asset": spec.0.id}),
                    None => json!({"asset": "all"}),
                }),
            ),
            AlarmIntent::SaveBaseline => ("save_baseline", None),
        };
        audit.append(&operator, action, detail.unwrap_or(Value::Null));
    }
}

/// Each command this twin sent to the plant (Sparkplug rebirth requests, with commands
/// enabled), as the ingest thread reports it.
fn audit_commands_sent(
    mut events: MessageReader<crate::data::events::DataEvent>,
    mut audit: ResMut<Audit>,
    prediction: Option<Res<Prediction>>,
) {
    use crate::data::events::DataEventKind;
    use plant_twin_core::telemetry::ConnectionEvent;
    let operator = operator(prediction);
    for event in events.read() {
        if let DataEventKind::Connection(ConnectionEvent::CommandSent { topic }) = &event.kind {
            audit.append(&operator, "command_sent", json!({"topic": topic}));
        }
    }
}

fn audit_edits(
    mut intents: MessageReader<EditIntent>,
    mut audit: ResMut<Audit>,
    prediction: Option<Res<Prediction>>,
) {
    let operator = operator(prediction);
    for intent in intents.read() {
        if let EditIntent::SaveAs { path } = intent {
            audit.append(
                &operator,
                "save_layout",
                json!({"file": path.display().to_string()}),
            );
        }
    }
}
