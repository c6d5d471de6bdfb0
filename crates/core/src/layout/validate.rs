//! Checks a parsed layout for what RON's types cannot express: unique ids, references that
//! resolve, sizes that are positive, everything inside the floor. Reports every problem at once.

use std::collections::HashSet;

use super::source_map::SourceMap;
use super::{Asset, FileIssue, PlantLayout, SCHEMA_VERSION, Zone, ZoneKind};

/// Slack for "inside the floor", so a footprint touching the wall is not refused for rounding.
const EDGE_TOLERANCE_M: f32 = 1e-3;

pub(super) fn validate(layout: &PlantLayout, map: &SourceMap) -> Vec<FileIssue> {
    let mut issues = Issues { map, list: vec![] };
    check_header(layout, &mut issues);
    let floor = FloorBounds::check(layout, &mut issues);
    let line_ids = check_lines(layout, &mut issues);
    let mut zone_ids = HashSet::new();
    for (i, zone) in layout.zones.iter().enumerate() {
        check_zone(
            &format!("zones[{i}]"),
            zone,
            &mut zone_ids,
            &floor,
            &mut issues,
        );
    }
    let mut asset_ids = HashSet::new();
    for (i, asset) in layout.assets.iter().enumerate() {
        let at = format!("assets[{i}]");
        check_id(&mut issues, &format!("{at}.id"), "asset", &asset.id);
        if !asset_ids.insert(asset.id.as_str()) {
            issues.push(
                &format!("{at}.id"),
                format!("duplicate asset id \"{}\"", asset.id),
            );
        }
        let who = &asset.id;
        if let Some(line) = &asset.line
            && !line_ids.contains(line.as_str())
        {
            issues.push(
                &format!("{at}.line"),
                format!("asset \"{who}\" refers to line \"{line}\", which is not in `lines`"),
            );
        }
        check_placement(&at, asset, &floor, &mut issues);
        check_components(&at, asset, &mut issues);
        check_signals(&at, asset, &mut issues);
        check_telemetry(&at, asset, &mut issues);
        check_handling_points(&at, asset, &mut issues);
        check_energy(&at, asset, &mut issues);
    }
    check_flows(layout, &asset_ids, &mut issues);
    check_group_meters(layout, &asset_ids, &mut issues);
    issues.list
}

/// Pick-up and drop-off points are finite and within reach of the footprint (its bounding box
/// plus the clearance around it: a point on the service side, not across the hall).
fn check_handling_points(at: &str, asset: &Asset, issues: &mut Issues) {
    let (length, width, _) = asset.extents();
    let reach = (
        length * 0.5 + asset.clearance.max(0.0) + 1.0,
        width * 0.5 + asset.clearance.max(0.0) + 1.0,
    );
    for (field, point) in [("pickup", asset.pickup), ("dropoff", asset.dropoff)] {
        let Some((x, y)) = point else { continue };
        if !(x.is_finite() && y.is_finite()) || x.abs() > reach.0 || y.abs() > reach.1 {
            issues.push(
                &format!("{at}.{field}"),
                format!(
                    "asset \"{}\": {field} point ({x}, {y}) is not within 1 m of the footprint and its clearance (offsets are metres from the centre, in the asset's own frame)",
                    asset.id
                ),
            );
        }
    }
}

/// Energy signals have an energy unit, meters a positive rollover, and the producing signal
/// exists.
fn check_energy(at: &str, asset: &Asset, issues: &mut Issues) {
    use super::EnergyMeasure;
    for (k, signal) in asset.signals.iter().enumerate() {
        let Some(measure) = &signal.energy else {
            continue;
        };
        let path = format!("{at}.signals[{k}].energy");
        let (units, what) = match measure {
            EnergyMeasure::Power => (["W", "kW", "MW"], "a power signal needs W, kW or MW"),
            EnergyMeasure::Meter { .. } => (["Wh", "kWh", "MWh"], "a meter needs Wh, kWh or MWh"),
        };
        if !units.contains(&signal.unit.as_str()) {
            issues.push(
                &path,
                format!(
                    "signal \"{}\" of \"{}\": {what}, its unit is \"{}\"",
                    signal.id, asset.id, signal.unit
                ),
            );
        }
        if let EnergyMeasure::Meter {
            rollover: Some(rollover),
        } = measure
            && !(rollover.is_finite() && *rollover > 0.0)
        {
            issues.push(
                &path,
                format!(
                    "meter \"{}\" of \"{}\": rollover must be positive, got {rollover}",
                    signal.id, asset.id
                ),
            );
        }
    }
    if let Some(producing) = &asset.producing
        && !asset.signals.iter().any(|s| s.id == producing.signal())
    {
        issues.push(
            &format!("{at}.producing"),
            format!(
                "asset \"{}\": producing names signal \"{}\", which it does not have",
                asset.id,
                producing.signal()
            ),
        );
    }
}

/// A group meter is an energy signal, names assets that exist other than its own, and no asset
/// is metered by two groups (its energy would leave the totals twice).
fn check_group_meters(layout: &PlantLayout, asset_ids: &HashSet<&str>, issues: &mut Issues) {
    let mut metered_by: std::collections::HashMap<&str, String> = Default::default();
    for (i, asset) in layout.assets.iter().enumerate() {
        for (k, signal) in asset.signals.iter().enumerate() {
            if signal.meters_for.is_empty() {
                continue;
            }
            let at = format!("assets[{i}].signals[{k}].meters_for");
            let meter = format!("{}/{}", asset.id, signal.id);
            if signal.energy.is_none() {
                issues.push(
                    &at,
                    format!("signal {meter}: meters_for needs an energy signal (`energy: Some(Power)` or `Some(Meter())`)"),
                );
            }
            for id in &signal.meters_for {
                if !asset_ids.contains(id.as_str()) {
                    issues.push(&at, format!("meter {meter}: no asset has the id \"{id}\""));
                } else if *id == asset.id {
                    issues.push(
                        &at,
                        format!("meter {meter}: an asset's own meter is not a group meter of it"),
                    );
                } else if let Some(other) = metered_by.insert(id.as_str(), meter.clone()) {
                    issues.push(
                        &at,
                        format!("asset \"{id}\" is metered by both {other} and {meter}: its energy would be counted twice"),
                    );
                }
            }
        }
    }
}

/// Flows name assets that exist, go somewhere else, and carry a finite amount that is not
/// negative.
fn check_flows(layout: &PlantLayout, asset_ids: &HashSet<&str>, issues: &mut Issues) {
    for (i, flow) in layout.flows.iter().enumerate() {
        let at = format!("flows[{i}]");
        for (field, id) in [("from", &flow.from), ("to", &flow.to)] {
            if !asset_ids.contains(id.as_str()) {
                issues.push(
                    &format!("{at}.{field}"),
                    format!("flow {field} \"{id}\": no asset has this id"),
                );
            }
        }
        if flow.from == flow.to {
            issues.push(
                &format!("{at}.to"),
                format!("flow from \"{}\" to itself", flow.from),
            );
        }
        if !(flow.amount_per_hour.is_finite() && flow.amount_per_hour >= 0.0) {
            issues.push(
                &format!("{at}.amount_per_hour"),
                format!(
                    "flow {} -> {}: amount_per_hour must be a number >= 0, got {}",
                    flow.from, flow.to, flow.amount_per_hour
                ),
            );
        }
    }
}

fn check_header(layout: &PlantLayout, issues: &mut Issues) {
    if layout.schema_version != SCHEMA_VERSION {
        issues.push(
            "schema_version",
            format!(
                "schema_version {} is not supported (this build reads version {SCHEMA_VERSION})",
                layout.schema_version
            ),
        );
    }
    if layout.name.trim().is_empty() {
        issues.push("name", "the plant name is empty".into());
    }
}

/// The floor's size, once checked: whether it is usable, and what lies inside it.
struct FloorBounds {
    width: f32,
    depth: f32,
    ok: bool,
}

impl FloorBounds {
    fn check(layout: &PlantLayout, issues: &mut Issues) -> FloorBounds {
        let floor = layout.floor;
        let ok = positive(floor.width) && positive(floor.depth);
        if !ok {
            issues.push(
                "floor",
                format!(
                    "the floor must have a positive width and depth, got {} x {} m",
                    floor.width, floor.depth
                ),
            );
        }
        FloorBounds {
            width: floor.width,
            depth: floor.depth,
            ok,
        }
    }

    /// Plan bounds `((min_x, min_y), (max_x, max_y))` lie on the floor, within rounding.
    fn contains(&self, (min, max): ((f32, f32), (f32, f32))) -> bool {
        min.0 >= -EDGE_TOLERANCE_M
            && min.1 >= -EDGE_TOLERANCE_M
            && max.0 <= self.width + EDGE_TOLERANCE_M
            && max.1 <= self.depth + EDGE_TOLERANCE_M
    }
}

/// Line ids, checked for shape and uniqueness; assets refer to them.
fn check_lines<'a>(layout: &'a PlantLayout, issues: &mut Issues) -> HashSet<&'a str> {
    let mut line_ids = HashSet::new();
    for (i, line) in layout.lines.iter().enumerate() {
        check_id(issues, &format!("lines[{i}].id"), "line", &line.id);
        if !line_ids.insert(line.id.as_str()) {
            issues.push(
                &format!("lines[{i}].id"),
                format!("duplicate line id \"{}\"", line.id),
            );
        }
    }
    line_ids
}

fn check_zone<'a>(
    at: &str,
    zone: &'a Zone,
    zone_ids: &mut HashSet<&'a str>,
    floor: &FloorBounds,
    issues: &mut Issues,
) {
    check_id(issues, &format!("{at}.id"), "zone", &zone.id);
    if !zone_ids.insert(zone.id.as_str()) {
        issues.push(
            &format!("{at}.id"),
            format!("duplicate zone id \"{}\"", zone.id),
        );
    }
    let corners = zone.area.corners();
    if corners.len() < 3 {
        issues.push(
            &format!("{at}.area"),
            format!(
                "zone \"{}\": a polygon needs at least 3 corners, got {}",
                zone.id,
                corners.len()
            ),
        );
        return;
    }
    if corners
        .iter()
        .any(|(x, y)| !x.is_finite() || !y.is_finite())
    {
        issues.push(
            &format!("{at}.area"),
            format!("zone \"{}\" has a corner that is not a number", zone.id),
        );
        return;
    }
    let (min, max) = zone.area.bounds();
    if !(max.0 - min.0 > 0.0 && max.1 - min.1 > 0.0) {
        issues.push(
            &format!("{at}.area"),
            format!("zone \"{}\" has no area", zone.id),
        );
    } else if floor.ok && !floor.contains((min, max)) {
        issues.push(
            &format!("{at}.area"),
            format!(
                "zone \"{}\" spans ({:.2}, {:.2})..({:.2}, {:.2}), outside the {} x {} m floor",
                zone.id, min.0, min.1, max.0, max.1, floor.width, floor.depth
            ),
        );
    }
    if let ZoneKind::Walkway { min_width } = zone.kind {
        let narrow_side = (max.0 - min.0).min(max.1 - min.1);
        if !positive(min_width) {
            issues.push(
                &format!("{at}.kind"),
                format!(
                    "walkway \"{}\" needs a positive min_width, got {min_width}",
                    zone.id
                ),
            );
        } else if narrow_side + EDGE_TOLERANCE_M < min_width {
            issues.push(
                &format!("{at}.kind"),
                format!(
                    "walkway \"{}\" is {narrow_side:.2} m wide, less than its min_width of {min_width} m",
                    zone.id
                ),
            );
        }
    }
}

/// Footprint sizes, clearance, position, and the footprint inside the floor.
fn check_placement(at: &str, asset: &Asset, floor: &FloorBounds, issues: &mut Issues) {
    let who = &asset.id;
    let (length, width, height) = asset.extents();
    let parts_ok = match &asset.footprint {
        crate::layout::Footprint::Compound(parts) => {
            !parts.is_empty()
                && parts.iter().all(|part| {
                    positive(part.length)
                        && positive(part.width)
                        && positive(part.height)
                        && part.offset.0.is_finite()
                        && part.offset.1.is_finite()
                        && part.rotation_deg.is_finite()
                })
        }
        _ => true,
    };
    if !parts_ok {
        issues.push(
            &format!("{at}.footprint"),
            format!(
                "asset \"{who}\": a compound footprint needs at least one box, each with positive sizes and numeric offsets"
            ),
        );
    }
    let size_ok = parts_ok && positive(length) && positive(width) && positive(height);
    if parts_ok && !size_ok {
        issues.push(
            &format!("{at}.footprint"),
            format!(
                "asset \"{who}\": footprint sizes must be positive, got {length} x {width} x {height} m"
            ),
        );
    }
    if !(asset.clearance.is_finite() && asset.clearance >= 0.0) {
        issues.push(
            &format!("{at}.clearance"),
            format!(
                "asset \"{who}\": clearance must be zero or more, got {}",
                asset.clearance
            ),
        );
    }
    let position_ok = asset.position.0.is_finite()
        && asset.position.1.is_finite()
        && asset.rotation_deg.is_finite();
    if !position_ok {
        issues.push(
            &format!("{at}.position"),
            format!("asset \"{who}\": position and rotation must be numbers"),
        );
    }
    if size_ok && position_ok && floor.ok {
        let bounds = asset.plan_bounds();
        if !floor.contains(bounds) {
            let (min, max) = bounds;
            issues.push(
                &format!("{at}.position"),
                format!(
                    "asset \"{who}\" occupies ({:.2}, {:.2})..({:.2}, {:.2}), outside the {} x {} m floor",
                    min.0, min.1, max.0, max.1, floor.width, floor.depth
                ),
            );
        }
    }
}

fn check_components(at: &str, asset: &Asset, issues: &mut Issues) {
    let who = &asset.id;
    let mut component_ids = HashSet::new();
    for (c, component) in asset.components.iter().enumerate() {
        let path = format!("{at}.components[{c}].id");
        check_id(issues, &path, "component", &component.id);
        if !component_ids.insert(component.id.as_str()) {
            issues.push(
                &path,
                format!(
                    "asset \"{who}\": duplicate component id \"{}\"",
                    component.id
                ),
            );
        }
    }
}

fn check_signals(at: &str, asset: &Asset, issues: &mut Issues) {
    let who = &asset.id;
    let mut signal_ids = HashSet::new();
    for (s, signal) in asset.signals.iter().enumerate() {
        let sat = format!("{at}.signals[{s}]");
        check_id(issues, &format!("{sat}.id"), "signal", &signal.id);
        if !signal_ids.insert(signal.id.as_str()) {
            issues.push(
                &format!("{sat}.id"),
                format!("asset \"{who}\": duplicate signal id \"{}\"", signal.id),
            );
        }
        if let Some(component) = &signal.component
            && asset.component(component).is_none()
        {
            issues.push(
                &format!("{sat}.component"),
                format!(
                    "asset \"{who}\": signal \"{}\" refers to component \"{component}\", which the asset does not have",
                    signal.id
                ),
            );
        }
        let (low, high) = signal.normal;
        if !(low.is_finite() && high.is_finite() && low <= high) {
            issues.push(
                &format!("{sat}.normal"),
                format!(
                    "asset \"{who}\": signal \"{}\" normal range ({low}, {high}) must be two numbers, low <= high",
                    signal.id
                ),
            );
        } else if let Some((limit_low, limit_high)) = signal.limits
            && !(limit_low <= low && high <= limit_high)
        {
            issues.push(
                &format!("{sat}.limits"),
                format!(
                    "asset \"{who}\": signal \"{}\" limits ({limit_low}, {limit_high}) must contain its normal range ({low}, {high})",
                    signal.id
                ),
            );
        }
    }
}

fn check_telemetry(at: &str, asset: &Asset, issues: &mut Issues) {
    let who = &asset.id;
    if let Some(telemetry) = &asset.telemetry {
        let path = format!("{at}.telemetry");
        if telemetry.topic.is_empty()
            || telemetry.topic.contains(['+', '#'])
            || telemetry.topic.starts_with('/')
            || telemetry.topic.ends_with('/')
        {
            issues.push(
                &path,
                format!(
                    "asset \"{who}\": telemetry topic \"{}\" must be a non-empty topic prefix without wildcards or leading/trailing '/'",
                    telemetry.topic
                ),
            );
        }
        if !positive(telemetry.stale_after_s) {
            issues.push(
                &path,
                format!(
                    "asset \"{who}\": stale_after_s must be positive, got {}",
                    telemetry.stale_after_s
                ),
            );
        }
    }
}

fn positive(value: f32) -> bool {
    value.is_finite() && value > 0.0
}

/// Ids end up in MQTT topics, file names and command lines: keep them to a safe alphabet.
fn check_id(issues: &mut Issues, path: &str, what: &str, id: &str) {
    let valid = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid {
        issues.push(
            path,
            format!("{what} id \"{id}\" must be non-empty and use only letters, digits, '-', '_' and '.'"),
        );
    }
}

struct Issues<'a> {
    map: &'a SourceMap,
    list: Vec<FileIssue>,
}

impl Issues<'_> {
    fn push(&mut self, path: &str, message: String) {
        self.list.push(FileIssue {
            position: Some(self.map.locate(path)),
            message,
        });
    }
}
