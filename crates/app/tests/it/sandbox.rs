//! The layout sandbox in a headless App: drags (as the pointer observers send them), keys,
//! snapping, group moves, undo/redo, refused drops, read-only mode, and saving.

use bevy::input::ButtonState;
use bevy::input::keyboard::{Key, KeyboardInput};
use bevy::prelude::*;
use plant_twin::TwinCorePlugin;
use plant_twin::plant::{AssetIndex, AssetSpec, PlantDocument};
use plant_twin::sandbox::{DragIntent, DropPolicy, EditIntent, EditMode, Sandbox, SandboxPlugin};
use plant_twin::selection::{SelectAsset, SelectTarget};
use plant_twin_core::clearance::Neighbour;
use plant_twin_core::layout::load_layout;

fn sandbox_app(read_only: bool) -> App {
    let mut app = crate::bare_app();
    app.add_plugins((
        TwinCorePlugin {
            document: PlantDocument::demo().expect("demo"),
        },
        SandboxPlugin {
            read_only,
            save_as: None,
        },
    ));
    app.update();
    app.world_mut()
        .resource_mut::<NextState<EditMode>>()
        .set(EditMode::Editing);
    app.update();
    app
}

fn entity(app: &App, id: &str) -> Entity {
    app.world().resource::<AssetIndex>().get(id).expect("asset")
}

fn placement(app: &App, id: &str) -> ((f32, f32), f32) {
    let spec = app.world().get::<AssetSpec>(entity(app, id)).expect("spec");
    (spec.0.position, spec.0.rotation_deg)
}

fn select(app: &mut App, id: &str, additive: bool) {
    let target = entity(app, id);
    app.world_mut().write_message(SelectAsset {
        target: SelectTarget::Entity(target),
        frame: false,
        additive,
    });
    app.update();
}

fn drag(app: &mut App, id: &str, from: (f32, f32), path: &[(f32, f32)]) {
    let target = entity(app, id);
    app.world_mut().write_message(DragIntent::Start {
        entity: target,
        floor: from,
    });
    app.update();
    for point in path {
        app.world_mut()
            .write_message(DragIntent::Move { floor: *point });
        app.update();
    }
    app.world_mut().write_message(DragIntent::End);
    app.update();
}

fn key(app: &mut App, code: KeyCode, held: &[KeyCode]) {
    let event = |key_code, state| KeyboardInput {
        key_code,
        logical_key: Key::Unidentified(bevy::input::keyboard::NativeKey::Unidentified),
        state,
        text: None,
        repeat: false,
        window: Entity::PLACEHOLDER,
    };
    for modifier in held {
        app.world_mut()
            .write_message(event(*modifier, ButtonState::Pressed));
    }
    app.world_mut()
        .write_message(event(code, ButtonState::Pressed));
    app.update();
    app.world_mut()
        .write_message(event(code, ButtonState::Released));
    for modifier in held {
        app.world_mut()
            .write_message(event(*modifier, ButtonState::Released));
    }
    app.update();
}

fn close(a: (f32, f32), b: (f32, f32)) -> bool {
    (a.0 - b.0).abs() < 1e-4 && (a.1 - b.1).abs() < 1e-4
}

#[test]
fn a_drag_snaps_moves_the_scene_and_is_one_undo() {
    let mut app = sandbox_app(false);
    // press-202 stands at (34, 31); grab it there and drag by (1.13, 0.27) in small steps.
    drag(
        &mut app,
        "press-202",
        (34.0, 31.0),
        &[(34.4, 31.1), (34.8, 31.2), (35.13, 31.27)],
    );
    let (position, _) = placement(&app, "press-202");
    assert!(
        close(position, (35.0, 31.5)),
        "snapped to the 0.5 m grid: {position:?}"
    );
    let world_position = app
        .world()
        .get::<Transform>(entity(&app, "press-202"))
        .expect("moved")
        .translation;
    assert!((world_position.x - 35.0).abs() < 1e-4 && (world_position.z + 31.5).abs() < 1e-4);
    assert!(app.world().resource::<Sandbox>().dirty);

    key(&mut app, KeyCode::KeyZ, &[KeyCode::ControlLeft]);
    assert!(
        close(placement(&app, "press-202").0, (34.0, 31.0)),
        "one undo undoes the whole drag"
    );
    key(
        &mut app,
        KeyCode::KeyZ,
        &[KeyCode::ControlLeft, KeyCode::ShiftLeft],
    );
    assert!(close(placement(&app, "press-202").0, (35.0, 31.5)));
    key(&mut app, KeyCode::KeyZ, &[KeyCode::ControlLeft]);
    key(&mut app, KeyCode::KeyY, &[KeyCode::ControlLeft]);
    assert!(
        close(placement(&app, "press-202").0, (35.0, 31.5)),
        "Ctrl+Y redoes too"
    );
}

#[test]
fn keys_turn_and_nudge_the_selection() {
    let mut app = sandbox_app(false);
    select(&mut app, "comp-01", false);
    key(&mut app, KeyCode::KeyR, &[]);
    assert_eq!(placement(&app, "comp-01").1, 15.0);
    key(&mut app, KeyCode::KeyR, &[KeyCode::ShiftLeft]);
    key(&mut app, KeyCode::KeyR, &[KeyCode::ShiftLeft]);
    assert_eq!(placement(&app, "comp-01").1, 345.0);
    key(&mut app, KeyCode::KeyR, &[KeyCode::AltLeft]);
    assert_eq!(
        placement(&app, "comp-01").1,
        346.0,
        "Alt turns by one degree"
    );
    key(&mut app, KeyCode::ArrowLeft, &[]);
    assert!(
        close(placement(&app, "comp-01").0, (87.5, 10.0)),
        "nudged by the grid step"
    );
    // Five commands: four turns and a nudge.
    for _ in 0..5 {
        key(&mut app, KeyCode::KeyZ, &[KeyCode::ControlLeft]);
    }
    assert_eq!(placement(&app, "comp-01"), ((88.0, 10.0), 0.0));
}

#[test]
fn a_group_moves_together() {
    let mut app = sandbox_app(false);
    select(&mut app, "pump-01", false);
    select(&mut app, "pump-02", true);
    drag(&mut app, "pump-02", (95.0, 13.0), &[(94.0, 13.0)]);
    assert!(close(placement(&app, "pump-01").0, (94.0, 10.0)));
    assert!(close(placement(&app, "pump-02").0, (94.0, 13.0)));
    key(&mut app, KeyCode::KeyZ, &[KeyCode::ControlLeft]);
    assert!(close(placement(&app, "pump-01").0, (95.0, 10.0)));
    assert!(close(placement(&app, "pump-02").0, (95.0, 13.0)));
}

#[test]
fn violations_are_flagged_or_the_drop_is_refused() {
    let mut app = sandbox_app(false);
    let (press, robot) = {
        let index = app.world().resource::<AssetIndex>();
        let position = |id: &str| {
            index
                .by_position
                .iter()
                .position(|e| Some(*e) == index.get(id))
                .expect("asset")
        };
        (position("press-201"), position("robot-201"))
    };
    // robot-201 from (28, 31) to beside press-201 (x 20.5..23.5): 0.5 m away.
    app.world_mut().write_message(EditIntent::Settings {
        grid_step: 0.0,
        drop_policy: DropPolicy::RefuseDrop,
    });
    drag(
        &mut app,
        "robot-201",
        (28.0, 31.0),
        &[(26.0, 31.0), (24.6, 31.0)],
    );
    let sandbox = app.world().resource::<Sandbox>();
    assert!(sandbox.last_refusal.is_some());
    assert!(
        close(placement(&app, "robot-201").0, (28.0, 31.0)),
        "refused: back at the start"
    );
    assert!(
        app.world()
            .resource::<Sandbox>()
            .history
            .undo_label()
            .is_none()
    );

    app.world_mut().write_message(EditIntent::Settings {
        grid_step: 0.0,
        drop_policy: DropPolicy::AllowAndFlag,
    });
    drag(
        &mut app,
        "robot-201",
        (28.0, 31.0),
        &[(26.0, 31.0), (24.6, 31.0)],
    );
    assert!(close(placement(&app, "robot-201").0, (24.6, 31.0)));
    let sandbox = app.world().resource::<Sandbox>();
    let violation = sandbox
        .violations
        .iter()
        .find(|v| v.asset == press && v.neighbour == Neighbour::Asset(robot))
        .expect("flagged");
    assert!((violation.distance - 0.5).abs() < 1e-3 && (violation.required - 1.2).abs() < 1e-6);
}

#[test]
fn read_only_mode_ignores_edits() {
    let mut app = sandbox_app(true);
    select(&mut app, "comp-01", false);
    drag(&mut app, "comp-01", (88.0, 10.0), &[(80.0, 12.0)]);
    key(&mut app, KeyCode::KeyR, &[]);
    assert_eq!(placement(&app, "comp-01"), ((88.0, 10.0), 0.0));
    assert!(!app.world().resource::<Sandbox>().dirty);
}

#[test]
fn saved_layouts_load_back_to_the_same_scene() {
    let mut app = sandbox_app(false);
    select(&mut app, "tank-01", false);
    key(&mut app, KeyCode::KeyR, &[]);
    drag(&mut app, "tank-01", (89.0, 30.0), &[(88.0, 28.0)]);
    let roots_before = app.world().resource::<AssetIndex>().by_position.clone();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("edited.ron");
    app.world_mut()
        .write_message(EditIntent::SaveAs { path: path.clone() });
    app.update();
    app.update();
    let sandbox = app.world().resource::<Sandbox>();
    assert!(!sandbox.dirty);
    assert_eq!(sandbox.save_path.as_deref(), Some(path.as_path()));
    assert_eq!(
        app.world().resource::<AssetIndex>().by_position,
        roots_before,
        "saving does not respawn the plant"
    );

    let saved = load_layout(&path).expect("the saved file is a valid layout");
    // The save patches the demo layout's text: one line moved, one rotation line added, every
    // comment kept (layouts are reviewed in version control).
    let text = std::fs::read_to_string(&path).expect("saved text");
    let demo = plant_twin_core::layout::DEMO_LAYOUT_TEXT;
    assert_eq!(
        plant_twin_core::layout::changed_lines(demo, &text),
        2,
        "{text}"
    );
    let comments = |text: &str| text.lines().filter(|line| line.contains("//")).count();
    assert_eq!(comments(&text), comments(demo));
    let tank = saved
        .assets
        .iter()
        .find(|a| a.id == "tank-01")
        .expect("tank");
    assert!(close(tank.position, (88.0, 28.0)) && tank.rotation_deg == 15.0);

    // A fresh app on the saved file shows every asset exactly where the edited one had it.
    let mut fresh = crate::bare_app();
    fresh.add_plugins(TwinCorePlugin {
        document: PlantDocument::from_file(path).expect("loads"),
    });
    fresh.update();
    for asset in &saved.assets {
        let before = app
            .world()
            .get::<Transform>(entity(&app, &asset.id))
            .expect("edited");
        let after = fresh
            .world()
            .get::<Transform>(entity(&fresh, &asset.id))
            .expect("reloaded");
        assert!(
            before.translation.distance(after.translation) < 1e-4,
            "{}",
            asset.id
        );
        assert!(
            before.rotation.dot(after.rotation).abs() > 1.0 - 1e-6,
            "{}",
            asset.id
        );
    }
}

#[test]
fn save_targets_the_loaded_file_with_a_question_or_the_save_as_file_without() {
    let loaded = crate::fixture("small-plant.ron");
    let elsewhere = std::env::temp_dir().join("plant-twin-save-as-target.ron");
    for (save_as, expected, overwrites) in [
        (None, loaded.clone(), true),
        (Some(elsewhere.clone()), elsewhere.clone(), false),
    ] {
        let mut app = crate::bare_app();
        app.add_plugins((
            TwinCorePlugin {
                document: PlantDocument::from_file(loaded.clone()).expect("loads"),
            },
            SandboxPlugin {
                read_only: false,
                save_as,
            },
        ));
        app.update();
        let sandbox = app.world().resource::<Sandbox>();
        assert_eq!(sandbox.save_path.as_deref(), Some(expected.as_path()));
        let document = app.world().resource::<PlantDocument>();
        assert_eq!(sandbox.save_overwrites_baseline(document), overwrites);
    }
}
