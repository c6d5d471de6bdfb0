//! Material flows in a headless App with the real plugins: the effort follows a drag, the
//! optimiser runs as a background job, and its proposal is accepted as one undo step.

use std::time::{Duration, Instant};

use bevy::prelude::*;
use plant_twin::TwinCorePlugin;
use plant_twin::flows::{FlowIntent, FlowsPlugin, MaterialFlows};
use plant_twin::plant::{AssetIndex, AssetSpec, PlantDocument};
use plant_twin::sandbox::{DragIntent, EditIntent, EditMode, Sandbox, SandboxPlugin};
use plant_twin_core::clearance::ClearanceModel;

fn flows_app(read_only: bool) -> App {
    let mut app = crate::bare_app();
    app.add_plugins((
        TwinCorePlugin {
            document: PlantDocument::demo().expect("demo"),
        },
        SandboxPlugin {
            read_only,
            save_as: None,
        },
        FlowsPlugin,
    ));
    app.update();
    app
}

fn effort(app: &App) -> (f64, f64) {
    let flows = app.world().resource::<MaterialFlows>();
    (flows.loaded.total, flows.current.total)
}

fn position(app: &App, id: &str) -> (f32, f32) {
    let entity = app.world().resource::<AssetIndex>().get(id).expect("asset");
    app.world()
        .get::<AssetSpec>(entity)
        .expect("spec")
        .0
        .position
}

#[test]
fn the_effort_follows_a_drag_against_the_loaded_layout() {
    let mut app = flows_app(false);
    let (loaded, current) = effort(&app);
    assert!(
        loaded > 0.0 && (current - loaded).abs() < 1e-6,
        "{loaded} {current}"
    );
    app.world_mut()
        .resource_mut::<NextState<EditMode>>()
        .set(EditMode::Editing);
    app.update();
    // conv-301 receives the heaviest flow (80 parts/h from conv-203 at (56, 26.5)): bring it
    // from (24, 12) to the free floor beside its source, across the south aisle.
    let entity = app
        .world()
        .resource::<AssetIndex>()
        .get("conv-301")
        .expect("asset");
    app.world_mut().write_message(DragIntent::Start {
        entity,
        floor: (24.0, 12.0),
    });
    app.update();
    app.world_mut().write_message(DragIntent::Move {
        floor: (50.0, 16.0),
    });
    app.update();
    app.world_mut().write_message(DragIntent::End);
    app.update();
    app.update();
    let (_, moved) = effort(&app);
    let flows = app.world().resource::<MaterialFlows>();
    assert!(moved < loaded, "{loaded} -> {moved}");
    assert!(flows.change_percent() < 0.0);
}

#[test]
fn an_accepted_proposal_is_one_undo_step_and_keeps_every_clearance() {
    let mut app = flows_app(false);
    let (loaded, _) = effort(&app);
    app.world_mut()
        .write_message(FlowIntent::Optimise { seconds: 2.0 });
    app.update();
    assert!(app.world().resource::<MaterialFlows>().job.is_some());
    let deadline = Instant::now() + Duration::from_secs(60);
    while app.world().resource::<MaterialFlows>().job.is_some() {
        assert!(Instant::now() < deadline, "the job ends");
        std::thread::sleep(Duration::from_millis(50));
        app.update();
    }
    let proposal = match &app.world().resource::<MaterialFlows>().outcome {
        Some(Ok(proposal)) => proposal.clone(),
        other => panic!("a proposal, got {:?}", other.as_ref().map(|_| ())),
    };
    assert!(!proposal.moves.is_empty());
    assert!(proposal.effort_after < proposal.effort_before);
    // Nothing moved yet: a proposal is only shown.
    let first = &proposal.moves[0];
    assert_eq!(position(&app, &first.id), first.from);

    app.world_mut().write_message(FlowIntent::Accept);
    app.update();
    app.update();
    for m in &proposal.moves {
        assert_eq!(position(&app, &m.id), m.to, "{}", m.id);
    }
    let (_, current) = effort(&app);
    assert!(current < loaded, "{loaded} -> {current}");
    assert!(app.world().resource::<Sandbox>().violations.is_empty());
    let mut edited = app.world().resource::<PlantDocument>().layout.clone();
    for asset in &mut edited.assets {
        asset.position = position(&app, &asset.id);
    }
    assert!(ClearanceModel::new(&edited).check_all().is_empty());

    // One undo puts every asset back (edit mode is where undo works).
    app.world_mut()
        .resource_mut::<NextState<EditMode>>()
        .set(EditMode::Editing);
    app.update();
    app.world_mut().write_message(EditIntent::Undo);
    app.update();
    for m in &proposal.moves {
        assert_eq!(position(&app, &m.id), m.from, "{}", m.id);
    }
}

#[test]
fn a_cancelled_job_ends_with_the_best_so_far_and_a_read_only_plant_cannot_accept() {
    let mut app = flows_app(true);
    app.world_mut()
        .write_message(FlowIntent::Optimise { seconds: 600.0 });
    app.update();
    std::thread::sleep(Duration::from_millis(300));
    app.world_mut().write_message(FlowIntent::Cancel);
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.world().resource::<MaterialFlows>().job.is_some() {
        assert!(Instant::now() < deadline, "a cancelled job ends at once");
        std::thread::sleep(Duration::from_millis(20));
        app.update();
    }
    let Some(Ok(proposal)) = app.world().resource::<MaterialFlows>().outcome.clone() else {
        panic!("the best so far is kept");
    };
    assert!(proposal.elapsed_s < 60.0);
    let before: Vec<_> = proposal
        .moves
        .iter()
        .map(|m| position(&app, &m.id))
        .collect();
    app.world_mut().write_message(FlowIntent::Accept);
    app.update();
    app.update();
    let after: Vec<_> = proposal
        .moves
        .iter()
        .map(|m| position(&app, &m.id))
        .collect();
    assert_eq!(before, after, "a read-only plant does not move");
}
