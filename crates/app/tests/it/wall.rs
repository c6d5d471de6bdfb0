//! The wall display's camera tour in a headless App: it frames the tour's stops and jumps to an
//! asset that enters alarm.

use bevy::prelude::*;
use plant_twin::TwinCorePlugin;
use plant_twin::camera::CameraCommand;
use plant_twin::data::events::{DataEvent, DataEventKind};
use plant_twin::plant::PlantDocument;
use plant_twin::wall::{WallMode, WallPlugin, tour_stops};
use plant_twin_core::predict::{AlarmChange, Severity};
use plant_twin_core::wall::config::WallConfig;

fn camera_commands(app: &mut App) -> Vec<CameraCommand> {
    app.world_mut()
        .resource_mut::<Messages<CameraCommand>>()
        .drain()
        .collect()
}

#[test]
fn the_tour_frames_its_stops_and_jumps_to_an_alarm() {
    let document = PlantDocument::demo().expect("demo");
    let config = WallConfig {
        tour: vec!["line-1".into(), "ko-crane".into(), "no-such-line".into()],
        ..WallConfig::default()
    };
    let stops = tour_stops(&document.layout, &config);
    assert_eq!(stops.len(), 2, "the unknown id is skipped");
    assert_eq!(stops[0].0, "Line 1 - Machining");

    let mut app = crate::bare_app();
    app.add_message::<DataEvent>().add_plugins((
        TwinCorePlugin { document },
        WallPlugin {
            config,
            fill_monitor: None,
        },
    ));
    app.update();
    app.update();
    assert_eq!(
        app.world().resource::<WallMode>().showing,
        "Line 1 - Machining"
    );

    app.world_mut().write_message(DataEvent {
        time_ms: 0,
        kind: DataEventKind::Alarm {
            asset: "pump-02".into(),
            component: Some("bearing".into()),
            change: AlarmChange::Raised {
                severity: Severity::Alarm,
            },
            state: Severity::Alarm,
            reason: "bearing_temp +6.2 sigma".into(),
            score: 0.8,
        },
    });
    camera_commands(&mut app);
    app.update();
    let commands = camera_commands(&mut app);
    assert!(
        matches!(commands.as_slice(), [CameraCommand::FrameBounds { .. }]),
        "{commands:?}"
    );
    let showing = app.world().resource::<WallMode>().showing.clone();
    assert!(showing.contains("pump-02"), "{showing}");
    // A warning is not worth leaving the tour for.
    app.world_mut().write_message(DataEvent {
        time_ms: 0,
        kind: DataEventKind::Alarm {
            asset: "cnc-101".into(),
            component: None,
            change: AlarmChange::Raised {
                severity: Severity::Warning,
            },
            state: Severity::Warning,
            reason: String::new(),
            score: 0.5,
        },
    });
    app.update();
    assert!(
        app.world()
            .resource::<WallMode>()
            .showing
            .contains("pump-02")
    );
}
