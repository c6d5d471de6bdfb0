//! The real plugins in a headless App (no window, no GPU): spawning, selection, camera intents,
//! loading layouts.

use bevy::input::ButtonState;
use bevy::input::keyboard::{Key, KeyboardInput};
use bevy::prelude::*;
use plant_twin::TwinCorePlugin;
use plant_twin::camera::{CameraCommand, OrbitCamera};
use plant_twin::plant::{
    AssetComponentPart, AssetIndex, AssetSpec, LayoutLoadStatus, LoadLayoutRequest, PlantDocument,
    discover_kind_models,
};
use plant_twin::selection::{SelectAsset, SelectTarget, Selection};
use plant_twin_core::layout::AssetKind;

use crate::fixture;

fn headless_app(document: PlantDocument) -> App {
    let mut app = crate::bare_app();
    app.add_plugins(TwinCorePlugin { document });
    app.update();
    app
}

fn demo_app() -> App {
    headless_app(PlantDocument::demo().expect("demo plant is valid"))
}

fn asset_count(app: &mut App) -> usize {
    app.world_mut()
        .query::<&AssetSpec>()
        .iter(app.world())
        .count()
}

fn press_key(app: &mut App, key_code: KeyCode, logical_key: Key) {
    for state in [ButtonState::Pressed, ButtonState::Released] {
        app.world_mut().write_message(KeyboardInput {
            key_code,
            logical_key: logical_key.clone(),
            state,
            text: None,
            repeat: false,
            window: Entity::PLACEHOLDER,
        });
        app.update();
    }
}

#[test]
fn every_asset_and_component_becomes_an_entity() {
    let mut app = demo_app();
    let layout = app.world().resource::<PlantDocument>().layout.clone();
    assert_eq!(asset_count(&mut app), layout.assets.len());

    let index = app.world().resource::<AssetIndex>();
    assert_eq!(index.by_id.len(), layout.assets.len());
    let world = app.world();
    for asset in &layout.assets {
        let entity = index.get(&asset.id).expect("indexed");
        let spec = world.get::<AssetSpec>(entity).expect("spawned");
        assert_eq!(spec.0.id, asset.id);
        let children = world.get::<Children>(entity).expect("has parts");
        let components: Vec<_> = children
            .iter()
            .filter_map(|child| world.get::<AssetComponentPart>(child).map(|c| (child, c)))
            .collect();
        assert_eq!(
            components.len(),
            asset.components.len(),
            "{}: one child entity per component",
            asset.id
        );
        for (entity, component) in components {
            assert!(asset.component(&component.component_id).is_some());
            let meshes = world.get::<Children>(entity).map_or(0, |c| {
                c.iter()
                    .filter(|e| world.get::<Mesh3d>(*e).is_some())
                    .count()
            });
            assert!(
                meshes > 0,
                "{}/{} is drawn",
                asset.id,
                component.component_id
            );
        }
        // Placed where the layout says: plan (x, y) is world (x, -z).
        let transform = world.get::<GlobalTransform>(entity).expect("placed");
        let at = transform.translation();
        assert!((at.x - asset.position.0).abs() < 1e-4 && (at.z + asset.position.1).abs() < 1e-4);
    }
}

#[test]
fn selecting_by_id_selects_and_frames_the_asset() {
    let mut app = demo_app();
    let target = app
        .world()
        .resource::<AssetIndex>()
        .get("press-202")
        .expect("exists");
    app.world_mut().write_message(SelectAsset {
        target: SelectTarget::Id("press-202".into()),
        frame: true,
        additive: false,
    });
    app.update();
    assert_eq!(app.world().resource::<Selection>().selected, Some(target));
    let orbit = *app
        .world_mut()
        .query::<&OrbitCamera>()
        .single(app.world())
        .expect("one camera");
    // Framing eases toward a goal over the asset (press-202 stands at plan (34, 31)).
    let goal = orbit.goal.map_or(orbit.focus, |goal| goal.focus);
    assert!(
        (goal.x - 34.0).abs() < 0.01 && (goal.z + 31.0).abs() < 0.01,
        "{goal}"
    );
    assert!(orbit.goal.map_or(orbit.distance, |g| g.distance) < 30.0);

    press_key(&mut app, KeyCode::Escape, Key::Escape);
    assert_eq!(app.world().resource::<Selection>().selected, None);
}

#[test]
fn unknown_ids_select_nothing() {
    let mut app = demo_app();
    app.world_mut().write_message(SelectAsset {
        target: SelectTarget::Id("no-such-asset".into()),
        frame: true,
        additive: false,
    });
    app.update();
    assert_eq!(app.world().resource::<Selection>().selected, None);
}

#[test]
fn keyboard_turns_the_camera_and_frame_all_shows_the_floor() {
    let mut app = demo_app();
    let camera = |app: &mut App| {
        *app.world_mut()
            .query::<&OrbitCamera>()
            .single(app.world())
            .expect("one camera")
    };
    let before = camera(&mut app);
    // Hold Q over a few frames: the view turns.
    app.world_mut().write_message(KeyboardInput {
        key_code: KeyCode::KeyQ,
        logical_key: Key::Character("q".into()),
        state: ButtonState::Pressed,
        text: None,
        repeat: false,
        window: Entity::PLACEHOLDER,
    });
    for _ in 0..5 {
        std::thread::sleep(std::time::Duration::from_millis(5));
        app.update();
    }
    let turned = camera(&mut app);
    assert_ne!(turned.yaw, before.yaw);

    app.world_mut().write_message(CameraCommand::FrameAll);
    app.update();
    let goal = camera(&mut app).goal.expect("frame all sets a goal");
    // The demo floor is 100 x 60 m: frame all looks at its middle.
    assert!((goal.focus.x - 50.0).abs() < 0.01 && (goal.focus.z + 30.0).abs() < 0.01);
}

#[test]
fn a_bad_layout_leaves_the_plant_as_it_was() {
    let mut app = demo_app();
    let name = app.world().resource::<PlantDocument>().layout.name.clone();
    let bad = fixture("invalid/duplicate-id.ron");
    app.world_mut()
        .write_message(LoadLayoutRequest { path: bad.clone() });
    app.update();
    app.update();
    assert_eq!(app.world().resource::<PlantDocument>().layout.name, name);
    assert_eq!(asset_count(&mut app), 45);
    let error = app
        .world()
        .resource::<LayoutLoadStatus>()
        .last_error
        .clone()
        .expect("the error is kept for the UI");
    assert!(
        error.contains(&format!("{}:40:13: ", bad.display())),
        "{error}"
    );
}

#[test]
fn loading_a_layout_replaces_the_whole_plant() {
    let mut app = demo_app();
    app.world_mut().write_message(SelectAsset {
        target: SelectTarget::Id("cnc-101".into()),
        frame: false,
        additive: false,
    });
    app.update();
    assert!(app.world().resource::<Selection>().selected.is_some());

    app.world_mut().write_message(LoadLayoutRequest {
        path: fixture("small-plant.ron"),
    });
    app.update();
    app.update();
    assert_eq!(
        app.world().resource::<PlantDocument>().layout.name,
        "Test cell"
    );
    assert_eq!(asset_count(&mut app), 3);
    let index = app.world().resource::<AssetIndex>();
    assert!(index.get("cnc-101").is_none());
    let robot = index.get("robot-1").expect("new asset indexed");
    assert_eq!(app.world().resource::<Selection>().selected, None);
    // The robot is turned 90 degrees counter-clockwise from above.
    let rotation = app
        .world()
        .get::<Transform>(robot)
        .expect("placed")
        .rotation;
    let local_x = rotation * Vec3::X;
    assert!(local_x.distance(Vec3::NEG_Z) < 1e-4, "{local_x}");
    // The press's controller has no part of its own and is drawn as a marker, still its own entity.
    let press = index.get("press-1").expect("indexed");
    let world = app.world();
    let plc = world
        .get::<Children>(press)
        .expect("parts")
        .iter()
        .find(|child| {
            world
                .get::<AssetComponentPart>(*child)
                .is_some_and(|c| c.component_id == "plc")
        });
    assert!(plc.is_some());
}

#[test]
fn kind_models_are_found_by_file_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("pump.glb"), b"glb").expect("write");
    std::fs::write(dir.path().join("tank.gltf"), b"{}").expect("write");
    std::fs::write(dir.path().join("tank.glb"), b"glb").expect("write");
    std::fs::write(dir.path().join("notes.txt"), b"").expect("write");
    let mut found = discover_kind_models(dir.path());
    found.sort();
    assert_eq!(
        found,
        vec![
            (AssetKind::Pump, "models/pump.glb".to_string()),
            (AssetKind::Tank, "models/tank.glb".to_string()),
        ]
    );
}

/// The camera takes the mouse only while the pointer is over the 3D view, not over a panel.
#[test]
fn mouse_drags_orbit_only_over_the_scene() {
    use bevy::input::mouse::{MouseButtonInput, MouseMotion};
    use plant_twin::camera::SceneViewport;

    let mut app = demo_app();
    let yaw = |app: &mut App| {
        app.world_mut()
            .query::<&OrbitCamera>()
            .single(app.world())
            .expect("one camera")
            .yaw
    };
    let drag = |app: &mut App| {
        let button = |state| MouseButtonInput {
            button: MouseButton::Left,
            state,
            window: Entity::PLACEHOLDER,
        };
        app.world_mut().write_message(button(ButtonState::Pressed));
        app.update();
        app.world_mut().write_message(MouseMotion {
            delta: Vec2::new(120.0, 0.0),
        });
        app.update();
        app.world_mut().write_message(button(ButtonState::Released));
        app.update();
    };

    let before = yaw(&mut app);
    app.world_mut()
        .resource_mut::<SceneViewport>()
        .pointer_over_scene = false;
    drag(&mut app);
    assert_eq!(
        yaw(&mut app),
        before,
        "a drag over a panel leaves the camera alone"
    );

    app.world_mut()
        .resource_mut::<SceneViewport>()
        .pointer_over_scene = true;
    drag(&mut app);
    assert_ne!(yaw(&mut app), before, "a drag over the scene orbits");
}

/// A stale asset is drawn grey (one shared material swapped in) and gets its paint back with
/// fresh data; fed through the live plugin's manual source, as a replay would.
#[test]
fn stale_assets_turn_grey_and_back() {
    use plant_twin::data::telemetry::GreyedAsStale;
    use plant_twin_core::telemetry::now_ms;

    let mut document = PlantDocument::demo().expect("demo");
    for asset in &mut document.layout.assets {
        if let Some(telemetry) = asset.telemetry.as_mut() {
            telemetry.stale_after_s = 1.0;
        }
    }
    let mut app = crate::live_app(document, 10);
    app.update();
    app.update();
    let (feed, pump, position) = crate::feed_to_pump_01(&app);
    let send = |value: f64| {
        feed.0
            .send(crate::pump_01_flow(position, value, now_ms()))
            .expect("sent");
    };
    let materials = |app: &mut App| -> Vec<AssetId<StandardMaterial>> {
        let world = app.world();
        let mut found = vec![];
        let mut stack = vec![pump];
        while let Some(entity) = stack.pop() {
            if let Some(material) = world.get::<MeshMaterial3d<StandardMaterial>>(entity) {
                found.push(material.0.id());
            }
            if let Some(children) = world.get::<Children>(entity) {
                stack.extend(children.iter());
            }
        }
        found
    };

    send(20.0);
    app.update();
    let painted = materials(&mut app);
    assert!(painted.len() > 2);
    assert!(app.world().get::<GreyedAsStale>(pump).is_none());

    std::thread::sleep(std::time::Duration::from_millis(1200));
    app.update();
    app.update();
    assert!(
        app.world().get::<GreyedAsStale>(pump).is_some(),
        "stale after 1 s"
    );
    let greyed = materials(&mut app);
    assert!(
        greyed.iter().all(|m| *m == greyed[0]),
        "one grey for every part"
    );
    assert!(!painted.contains(&greyed[0]));

    // One update drains the sample, clears the stale flag and restores the paint; a second
    // could find the data stale again on a very slow machine.
    send(21.0);
    app.update();
    assert!(app.world().get::<GreyedAsStale>(pump).is_none());
    assert_eq!(materials(&mut app), painted, "the original paint is back");
}

/// A window spreads a burst of data over its frames instead of stalling one frame on all of
/// it, applies every event in order, and clears the backlog within its bound; a headless run
/// applies everything queued in one frame.
#[test]
fn a_burst_of_data_is_spread_over_frames_and_cleared_in_time() {
    use plant_twin::data::telemetry::{IngestPacing, IngestStatus, LiveSignals};
    use plant_twin_core::telemetry::now_ms;
    use std::time::{Duration, Instant};

    let mut app = crate::live_app(PlantDocument::demo().expect("demo"), 10);
    app.update();
    app.update();
    let max_backlog = Duration::from_millis(300);
    // No time at all for the channel: only the backlog's share is applied.
    app.insert_resource(IngestPacing {
        frame_budget: Some(Duration::ZERO),
        max_backlog,
        at_rest: false,
    });
    let (feed, pump, position) = crate::feed_to_pump_01(&app);
    let send = |count: usize| {
        for value in 0..count {
            feed.0
                .send(crate::pump_01_flow(position, value as f64, now_ms()))
                .expect("sent");
        }
    };
    let applied = |app: &App| app.world().resource::<IngestStatus>().messages;
    let value = |app: &App| app.world().get::<LiveSignals>(pump).expect("live").0[0].value;

    let burst = 2_000;
    send(burst);
    app.update();
    let began = Instant::now();
    assert_eq!(
        applied(&app),
        0,
        "nothing beyond the budget without a backlog"
    );
    assert_eq!(app.world().resource::<IngestStatus>().backlog_events, burst);
    let mut frames_applying = 0;
    let mut cleared_in_time = false;
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let late = began.elapsed() >= max_backlog;
        let before = applied(&app);
        app.update();
        if applied(&app) > before {
            frames_applying += 1;
        }
        if app.world().resource::<IngestStatus>().backlog_events == 0 {
            cleared_in_time = true;
            break;
        }
        // The first frame to start after the bound takes all that is left.
        if late {
            break;
        }
    }
    assert!(cleared_in_time, "the backlog outlived its bound");
    assert_eq!(applied(&app), burst as u64, "every event applied");
    assert_eq!(
        value(&app),
        Some((burst - 1) as f64),
        "in order: the last is shown"
    );
    assert!(
        frames_applying >= 3,
        "spread over frames, not one: {frames_applying}"
    );

    // A window at rest draws one frame for the burst, not several.
    app.world_mut().resource_mut::<IngestPacing>().at_rest = true;
    send(500);
    app.update();
    assert_eq!(applied(&app), burst as u64 + 500);
    assert_eq!(app.world().resource::<IngestStatus>().backlog_events, 0);

    // Unpaced (headless), everything queued is applied in the next frame.
    app.insert_resource(IngestPacing::UNPACED);
    send(500);
    app.update();
    assert_eq!(applied(&app), burst as u64 + 1000);
    assert_eq!(app.world().resource::<IngestStatus>().backlog_events, 0);
}

/// Operator actions reach the audit file as they are asked for, chained; the file verifies,
/// and `plant-twin audit verify` names the line an edit broke.
#[test]
fn operator_actions_are_audited_in_a_chain_that_verifies() {
    use plant_twin::data::audit::AuditPlugin;
    use plant_twin::data::predict::{AlarmIntent, PredictionPlugin, part_of};
    use plant_twin::data::telemetry::{LivePlugin, SourceConfig};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.jsonl");
    let mut app = crate::bare_app();
    app.add_plugins((
        TwinCorePlugin {
            document: PlantDocument::demo().expect("demo"),
        },
        LivePlugin {
            source: SourceConfig::Manual,
            bindings: None,
            history: 10,
        },
        PredictionPlugin {
            operator: "ana".into(),
            ..PredictionPlugin::default()
        },
        AuditPlugin {
            path: Some(path.clone()),
            startup: vec![(
                "enable_commands".into(),
                serde_json::json!({"broker": "mqtts://b"}),
            )],
        },
    ));
    app.update();
    let pump = app
        .world()
        .resource::<AssetIndex>()
        .get("pump-02")
        .expect("pump");
    let spec = app.world().get::<AssetSpec>(pump).expect("spec").0.clone();
    let bearing = part_of(&spec, Some("bearing")).expect("bearing");
    for intent in [
        AlarmIntent::Acknowledge {
            asset: pump,
            part: bearing,
        },
        AlarmIntent::Shelve {
            asset: pump,
            part: bearing,
            duration_s: 900.0,
        },
        AlarmIntent::Relearn { asset: None },
    ] {
        app.world_mut().write_message(intent);
        app.update();
    }
    let text = std::fs::read_to_string(&path).expect("audit file");
    let actions: Vec<String> = text
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).expect("json line");
            format!(
                "{} {} {}",
                value["operator"], value["action"], value["detail"]
            )
        })
        .collect();
    assert_eq!(actions.len(), 4, "{actions:?}");
    assert!(actions[0].contains("enable_commands"), "{actions:?}");
    assert!(
        actions[1].contains("\"ana\" \"acknowledge\"")
            && actions[1].contains("pump-02")
            && actions[1].contains("bearing"),
        "{actions:?}"
    );
    assert!(
        actions[2].contains("shelve") && actions[2].contains("900"),
        "{actions:?}"
    );
    assert!(
        actions[3].contains("relearn") && actions[3].contains("all"),
        "{actions:?}"
    );

    let verify = |file: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_plant-twin"))
            .args(["audit", "verify"])
            .arg(file)
            .output()
            .expect("runs")
    };
    let output = verify(&path);
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("4 entries, chain intact"));
    // Someone makes the shelving look shorter.
    let tampered = dir.path().join("tampered.jsonl");
    let shortened = text.replace("\"duration_s\":900.0", "\"duration_s\":90.0");
    assert_ne!(shortened, text);
    std::fs::write(&tampered, shortened).expect("written");
    let output = verify(&tampered);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{}:3: altered", tampered.display())),
        "{stderr}"
    );
}

/// Far from the camera an asset is one box; near, its parts. The whole asset switches at once.
#[test]
fn far_assets_are_drawn_as_boxes_and_near_ones_with_their_parts() {
    use plant_twin::detail::{DrawnFar, Stowed};
    use plant_twin::plant::FarProxy;
    let mut app = demo_app();
    let asset = app
        .world()
        .resource::<AssetIndex>()
        .get("cnc-101")
        .expect("exists");
    let place_camera = |app: &mut App, distance: f32| {
        let focus = app
            .world()
            .get::<GlobalTransform>(asset)
            .expect("placed")
            .translation();
        let mut orbit = app
            .world_mut()
            .query::<&mut OrbitCamera>()
            .single_mut(app.world_mut())
            .expect("one camera");
        orbit.focus = focus;
        orbit.distance = distance;
        orbit.goal = None;
        // The camera moves this frame; the switch reads where it ended up.
        app.update();
        app.update();
    };
    // Which entities are out of Bevy's per-frame CPU culling: (the asset itself, the proxy,
    // each part mesh below the asset, each component group without a mesh).
    let out_of_culling = |app: &App| {
        let world = app.world();
        let out = |e: Entity| {
            world
                .get::<bevy::camera::visibility::NoCpuCulling>(e)
                .is_some()
        };
        let mut proxy = false;
        let mut meshes = vec![];
        let mut groups = vec![];
        for child in world.get::<Children>(asset).expect("has parts").iter() {
            if world.get::<FarProxy>(child).is_some() {
                proxy = out(child);
                continue;
            }
            let below = world
                .get::<Children>(child)
                .into_iter()
                .flat_map(|c| c.iter());
            for entity in std::iter::once(child).chain(below) {
                if world.get::<Mesh3d>(entity).is_some() {
                    meshes.push(out(entity));
                } else {
                    groups.push(out(entity));
                }
            }
        }
        (out(asset), proxy, meshes, groups)
    };
    // What is shown of the asset: (proxy shown, parts shown).
    let shown = |app: &App| {
        let world = app.world();
        let children = world.get::<Children>(asset).expect("has parts");
        let mut proxy = None;
        let mut parts = vec![];
        for child in children.iter() {
            let visible = world.get::<Visibility>(child) != Some(&Visibility::Hidden);
            if world.get::<FarProxy>(child).is_some() {
                proxy = Some(visible);
            } else {
                parts.push(visible);
            }
        }
        (proxy.expect("a far proxy"), parts)
    };

    place_camera(&mut app, 10.0);
    let (proxy, parts) = shown(&app);
    assert!(!proxy, "near: no box");
    assert!(
        !parts.is_empty() && parts.iter().all(|p| *p),
        "near: every part"
    );
    assert!(app.world().get::<DrawnFar>(asset).is_none());
    let (root, proxy, meshes, groups) = out_of_culling(&app);
    assert!(proxy, "near: the hidden box is out of the culling passes");
    assert!(
        !meshes.is_empty() && meshes.iter().all(|p| !*p),
        "near: part meshes are culled: {meshes:?}"
    );
    // Nothing to cull without a mesh, near or far.
    assert!(root && groups.iter().all(|g| *g), "{groups:?}");

    place_camera(&mut app, 1_500.0);
    let (proxy, parts) = shown(&app);
    assert!(proxy, "far: the box");
    assert!(parts.iter().all(|p| !*p), "far: no part: {parts:?}");
    // Every part is drawn by a mesh that says so: nothing stays shown because it has no
    // visibility of its own.
    let children = app.world().get::<Children>(asset).expect("has parts");
    assert!(
        children
            .iter()
            .all(|c| app.world().get::<Visibility>(c).is_some())
    );
    assert!(app.world().get::<DrawnFar>(asset).is_some());
    let (root, proxy_out, meshes_out, groups) = out_of_culling(&app);
    assert!(!proxy_out, "far: the box is culled");
    assert!(
        meshes_out.iter().all(|p| *p),
        "far: every hidden part is out of the culling passes: {meshes_out:?}"
    );
    assert!(root && groups.iter().all(|g| *g), "{groups:?}");

    // A frame later the hidden parts are stowed: out of every query that does not ask for
    // them, while the box stays.
    let stowed = |app: &App| {
        let world = app.world();
        let mut proxy = None;
        let mut parts = vec![];
        for child in world.get::<Children>(asset).expect("has parts").iter() {
            let below = world
                .get::<Children>(child)
                .into_iter()
                .flat_map(|c| c.iter());
            for entity in std::iter::once(child).chain(below) {
                let away = world.get::<Stowed>(entity).is_some();
                if world.get::<FarProxy>(entity).is_some() {
                    proxy = Some(away);
                } else {
                    parts.push(away);
                }
            }
        }
        (proxy.expect("a far proxy"), parts)
    };
    // The asset's meshes a plain query finds.
    let drawable = |app: &mut App| {
        let found: Vec<Entity> = app
            .world_mut()
            .query_filtered::<Entity, With<Mesh3d>>()
            .iter(app.world())
            .collect();
        let world = app.world();
        let of_asset = |e: Entity| {
            let mut next = e;
            while let Some(parent) = world.get::<ChildOf>(next).map(ChildOf::parent) {
                if parent == asset {
                    return true;
                }
                next = parent;
            }
            false
        };
        found.into_iter().filter(|e| of_asset(*e)).count()
    };
    assert_eq!(
        drawable(&mut app),
        meshes_out.len() + 1,
        "hidden, not yet stowed"
    );
    app.update();
    let (proxy_away, parts_away) = stowed(&app);
    assert!(!proxy_away, "the box is never stowed");
    assert!(
        !parts_away.is_empty() && parts_away.iter().all(|p| *p),
        "far: every part stowed: {parts_away:?}"
    );
    assert_eq!(
        drawable(&mut app),
        1,
        "stowed meshes leave plain queries: the box is left"
    );

    // Moved while stowed (as a drag moves it), the asset comes back with its parts where it
    // went.
    let moved_by = Vec3::new(7.0, 0.0, -3.0);
    app.world_mut()
        .get_mut::<Transform>(asset)
        .expect("placed")
        .translation += moved_by;
    app.update();
    place_camera(&mut app, 10.0);
    assert_eq!(shown(&app), (false, parts.iter().map(|_| true).collect()));
    let (root, proxy, meshes, groups) = out_of_culling(&app);
    assert!(
        root && proxy && meshes.iter().all(|p| !*p) && groups.iter().all(|g| *g),
        "near again: {meshes:?} {groups:?}"
    );
    let (_, parts_away) = stowed(&app);
    assert!(parts_away.iter().all(|p| !*p), "near: none stowed");
    let world = app.world();
    let asset_at = *world.get::<GlobalTransform>(asset).expect("placed");
    for child in world.get::<Children>(asset).expect("has parts").iter() {
        for part in world
            .get::<Children>(child)
            .into_iter()
            .flat_map(|c| c.iter())
        {
            let expected = asset_at
                .mul_transform(*world.get::<Transform>(child).expect("placed"))
                .mul_transform(*world.get::<Transform>(part).expect("placed"));
            let at = world.get::<GlobalTransform>(part).expect("placed");
            assert!(
                at.translation().distance(expected.translation()) < 1e-3,
                "{part}: at {} not {}",
                at.translation(),
                expected.translation()
            );
        }
    }

    // Stowed parts go with their asset (a new layout despawns the plant).
    place_camera(&mut app, 1_500.0);
    app.update();
    let mut below = vec![];
    let mut stack = vec![asset];
    while let Some(entity) = stack.pop() {
        below.push(entity);
        if let Some(children) = app.world().get::<Children>(entity) {
            stack.extend(children.iter());
        }
    }
    assert!(stowed(&app).1.iter().all(|p| *p), "far again: stowed");
    app.world_mut().despawn(asset);
    app.update();
    assert!(
        below.iter().all(|e| app.world().get_entity(*e).is_err()),
        "nothing of the asset is left"
    );
}

/// The picking backend reports the asset under a ray: on its far box, then on its parts when
/// near, and nothing over bare floor.
#[test]
fn a_ray_picks_the_asset_under_it_far_and_near() {
    use bevy::ecs::message::Messages;
    use bevy::picking::backend::PointerHits;
    use bevy::picking::backend::ray::{RayId, RayMap};
    use bevy::picking::pointer::PointerId;
    use plant_twin::detail::DrawnFar;

    let mut app = crate::bare_app();
    app.add_plugins((
        TwinCorePlugin {
            document: PlantDocument::demo().expect("demo plant is valid"),
        },
        plant_twin::picking::AssetPickingPlugin,
        // What the window has: hidden parts are not hit.
        bevy::camera::visibility::VisibilityPlugin,
    ))
    .init_asset::<bevy::mesh::skinning::SkinnedMeshInverseBindposes>()
    .init_resource::<RayMap>()
    .add_message::<PointerHits>();
    app.update();
    let asset = app
        .world()
        .resource::<AssetIndex>()
        .get("cnc-101")
        .expect("exists");
    let camera = app
        .world_mut()
        .query_filtered::<Entity, With<OrbitCamera>>()
        .single(app.world())
        .expect("one camera");
    let pick = |app: &mut App, from: Vec3| {
        let mut rays = app.world_mut().resource_mut::<RayMap>();
        rays.map.clear();
        rays.map.insert(
            RayId::new(camera, PointerId::Mouse),
            Ray3d::new(from, Dir3::NEG_Y),
        );
        app.update();
        app.world_mut().resource_mut::<RayMap>().map.clear();
        let hits: Vec<PointerHits> = app
            .world_mut()
            .resource_mut::<Messages<PointerHits>>()
            .drain()
            .collect();
        assert_eq!(hits.len(), 1, "one report per ray");
        hits[0]
            .picks
            .first()
            .map(|(entity, hit)| (*entity, hit.depth))
    };
    let centre = app
        .world()
        .get::<GlobalTransform>(asset)
        .expect("placed")
        .translation();
    let above = centre + Vec3::Y * 30.0;

    // The default camera frames the whole plant: the mill is drawn as its box.
    app.update();
    assert!(app.world().get::<DrawnFar>(asset).is_some());
    let (hit, far_depth) = pick(&mut app, above).expect("hits the box");
    assert_eq!(hit, asset);

    // Near, the ray meets the machine's own top, no higher than its box.
    let mut orbit = app
        .world_mut()
        .query::<&mut OrbitCamera>()
        .single_mut(app.world_mut())
        .expect("one camera");
    orbit.focus = centre;
    orbit.distance = 10.0;
    orbit.goal = None;
    app.update();
    app.update();
    assert!(app.world().get::<DrawnFar>(asset).is_none());
    let (hit, near_depth) = pick(&mut app, above).expect("hits a part");
    assert_eq!(hit, asset);
    // The box stands 10 % above the machine: a hit below it is on the parts themselves.
    assert!(near_depth > far_depth + 0.1, "{near_depth} vs {far_depth}");
    assert!(near_depth < 30.0, "above the floor: {near_depth}");

    // Bare floor well away from every asset (the demo's floor corner).
    let corner = Vec3::new(-500.0, 30.0, 500.0);
    assert_eq!(pick(&mut app, corner), None);

    // Moved there (as a drag moves it), the mill is found where it went, and no longer where
    // it stood.
    app.world_mut()
        .get_mut::<Transform>(asset)
        .expect("placed")
        .translation = Vec3::new(corner.x, centre.y, corner.z);
    app.update();
    assert_eq!(pick(&mut app, corner).map(|(hit, _)| hit), Some(asset));
    assert_ne!(pick(&mut app, above).map(|(hit, _)| hit), Some(asset));
}
