//! Layout files on disk: the demo plant, every kind of invalid file, and that loading never
//! writes.

use std::collections::HashSet;

use plant_twin_core::layout::{self, AssetKind, LayoutSummary, load_layout, parse_layout};

use crate::{fixture, repo_file};

#[test]
fn demo_plant_is_a_believable_factory() {
    let layout = load_layout(&repo_file(layout::DEMO_LAYOUT_PATH)).expect("demo plant loads");
    let summary = LayoutSummary::of(&layout);
    assert!(
        summary.asset_count() >= 40,
        "{} assets",
        summary.asset_count()
    );
    assert!(
        summary.assets_by_kind.len() >= 6,
        "{:?}",
        summary.assets_by_kind
    );
    assert!(summary.keep_out_zones >= 1 && summary.walkways >= 1);
    let lines: HashSet<_> = layout
        .assets
        .iter()
        .filter_map(|a| a.line.as_ref())
        .collect();
    assert!(lines.len() >= 3, "assets on {} lines", lines.len());
    for asset in &layout.assets {
        assert!(
            !asset.components.is_empty(),
            "{} has no components",
            asset.id
        );
        assert!(!asset.signals.is_empty(), "{} has no signals", asset.id);
        assert!(
            asset.telemetry.is_some(),
            "{} has no telemetry binding",
            asset.id
        );
    }
}

#[test]
fn built_in_demo_matches_the_file_on_disk() {
    let on_disk = std::fs::read_to_string(repo_file(layout::DEMO_LAYOUT_PATH)).expect("readable");
    assert_eq!(on_disk, layout::DEMO_LAYOUT_TEXT);
}

/// An expected problem: line, column, and a piece of the message.
type Expected = (usize, usize, &'static str);

/// Each broken fixture fails with file:line:column and a message saying what is wrong.
#[test]
fn invalid_files_say_where_and_what() {
    let cases: &[(&str, &[Expected])] = &[
        // The missing comma shows up where the next field starts.
        ("syntax-error.ron", &[(14, 13, "Expected")]),
        ("unknown-kind.ron", &[(32, 19, "`RoboArm`")]),
        ("unknown-field.ron", &[(37, 13, "clearence")]),
        (
            "duplicate-id.ron",
            &[(40, 13, "duplicate asset id \"press-1\"")],
        ),
        (
            "outside-floor.ron",
            &[(43, 13, "outside the 20 x 12 m floor")],
        ),
        (
            "negative-size.ron",
            &[(36, 13, "footprint sizes must be positive")],
        ),
        (
            "bad-references.ron",
            &[
                (25, 44, "refers to component \"hydraulic\""),
                (33, 13, "refers to line \"cell-2\""),
            ],
        ),
        (
            "bad-flows.ron",
            &[
                (21, 13, "dropoff point (0, 9) is not within 1 m"),
                (26, 27, "flow to \"rack-9\": no asset has this id"),
                (27, 41, "amount_per_hour must be a number >= 0, got -5"),
                (28, 26, "flow from \"rack-1\" to itself"),
            ],
        ),
        (
            "bad-energy.ron",
            &[
                (
                    15,
                    71,
                    "a power signal needs W, kW or MW, its unit is \"bar\"",
                ),
                (16, 65, "rollover must be positive, got -5"),
                (
                    19,
                    13,
                    "producing names signal \"strokes\", which it does not have",
                ),
                (
                    17,
                    85,
                    "meter press-1/power: no asset has the id \"press-9\"",
                ),
            ],
        ),
        (
            "newer-schema.ron",
            &[(3, 5, "schema_version 2 is not supported")],
        ),
    ];
    for (name, expected) in cases {
        let path = fixture(&format!("invalid/{name}"));
        let error = load_layout(&path).expect_err(name);
        let text = error.to_string();
        assert_eq!(
            error.issues.len(),
            expected.len(),
            "{name}: every problem, and only those, is reported:\n{text}"
        );
        for (line, col, message) in *expected {
            let prefix = format!("{}:{line}:{col}: ", path.display());
            assert!(
                text.lines()
                    .any(|l| l.starts_with(&prefix) && l.contains(message)),
                "{name}: expected a line starting {prefix:?} containing {message:?}, got:\n{text}"
            );
        }
    }
}

#[test]
fn a_missing_file_names_the_file() {
    let path = fixture("does-not-exist.ron");
    let error = load_layout(&path).expect_err("missing file");
    let text = error.to_string();
    assert!(text.starts_with(&path.display().to_string()), "{text}");
    assert!(text.contains("cannot read"), "{text}");
}

#[test]
fn loading_never_touches_the_file() {
    for path in [
        repo_file(layout::DEMO_LAYOUT_PATH),
        fixture("small-plant.ron"),
        fixture("invalid/duplicate-id.ron"),
    ] {
        let before = std::fs::read(&path).expect("readable");
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let _ = load_layout(&path);
        assert_eq!(std::fs::read(&path).expect("readable"), before);
        assert_eq!(
            std::fs::metadata(&path).and_then(|m| m.modified()).ok(),
            modified
        );
    }
}

#[test]
fn written_layouts_read_back_identical() {
    for path in [
        repo_file(layout::DEMO_LAYOUT_PATH),
        fixture("small-plant.ron"),
    ] {
        let original = load_layout(&path).expect("valid");
        let text = layout::layout_to_ron(&original).expect("serialises");
        let again = parse_layout(&text, &path).expect("what we write, we read");
        assert_eq!(again, original);
    }
}

#[test]
fn every_kind_is_known_by_name() {
    // The schema's kinds are what files may use; a kind without a label would show blank.
    for kind in AssetKind::ALL {
        assert!(!kind.label().is_empty());
        let text = std::fs::read_to_string(fixture("small-plant.ron"))
            .expect("readable")
            .replace("kind: Tank", &format!("kind: {kind:?}"));
        let layout = parse_layout(&text, &fixture("small-plant.ron"));
        assert!(layout.is_ok(), "{kind:?}: {:?}", layout.err());
    }
}

#[test]
fn compound_footprints_load_and_are_checked() {
    let base = std::fs::read_to_string(fixture("small-plant.ron")).expect("readable");
    let compound = base.replace(
        "footprint: Cylinder(radius: 1.5, height: 4.0),",
        "footprint: Compound([\n                (offset: (0.0, 0.0), length: 3.0, width: 1.0, height: 1.0),\n                (offset: (1.0, 1.0), length: 1.0, width: 2.0, height: 1.0, rotation_deg: 90.0),\n            ]),",
    );
    let layout = parse_layout(&compound, &fixture("compound.ron")).expect("valid");
    let tank = layout
        .assets
        .iter()
        .find(|a| a.id == "tank-1")
        .expect("asset");
    // Turned 90 degrees, the second box's 2 m width lies along x: it spans x 0..2, y 0.5..1.5.
    // The bounding extents are centred on the asset: 2 * 2 m long, 2 * 1.5 m wide.
    let (length, width, height) = tank.extents();
    assert!((length - 4.0).abs() < 1e-5 && (width - 3.0).abs() < 1e-5 && height == 1.0);

    let broken = compound.replace("length: 1.0, width: 2.0", "length: 1.0, width: -2.0");
    let error = parse_layout(&broken, &fixture("compound.ron")).expect_err("refused");
    assert_eq!(error.issues.len(), 1, "{error}");
    assert!(
        error.to_string().contains("a compound footprint needs"),
        "{error}"
    );
}
