//! The plant layout file schema (version 1): plant, floor, lines, zones, assets, components, signals.
//!
//! Plan coordinates: `x` runs east and `y` runs north on the floor, in metres, with the origin at
//! the floor's south-west corner, so every point of the floor lies in `[0, width] x [0, depth]`.
//! Rotations are in degrees about the vertical axis, counter-clockwise seen from above.

use serde::{Deserialize, Serialize};

/// The schema version this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole plant: what a layout file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlantLayout {
    /// Must equal [`SCHEMA_VERSION`]; a file from a newer build is refused rather than misread.
    pub schema_version: u32,
    pub name: String,
    #[serde(default)]
    pub units: Units,
    pub floor: Floor,
    /// Production lines or areas that assets belong to (used to group the asset list).
    #[serde(default)]
    pub lines: Vec<ProductionLine>,
    #[serde(default)]
    pub zones: Vec<Zone>,
    pub assets: Vec<Asset>,
    /// Learned degradation models (`plant-twin learn-degradation`), one per asset kind, as
    /// paths relative to this file: the assets of that kind get their failure horizons from
    /// run-to-failure histories instead of a trend to a limit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub degradation_models: Vec<String>,
    /// Material moved between assets: what transport effort and layout optimisation weigh.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<MaterialFlow>,
}

/// Material moved from one asset to another: `amount_per_hour` of `unit`, taken from the source
/// asset's pick-up point to the destination's drop-off point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaterialFlow {
    /// Asset id the material leaves.
    pub from: String,
    /// Asset id the material arrives at.
    pub to: String,
    pub amount_per_hour: f32,
    #[serde(default)]
    pub unit: FlowUnit,
    /// How it travels (shown in the flow table; optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handling: Option<Handling>,
}

/// What a flow's amount counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum FlowUnit {
    #[default]
    Parts,
    Pallets,
    Kg,
}

impl FlowUnit {
    pub fn label(self) -> &'static str {
        match self {
            FlowUnit::Parts => "parts",
            FlowUnit::Pallets => "pallets",
            FlowUnit::Kg => "kg",
        }
    }
}

/// How material is carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Handling {
    Conveyor,
    Forklift,
    Agv,
    Manual,
}

/// Length units of the file. Only metres today; the field exists so that a file says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Units {
    #[default]
    Metres,
}

/// The rectangular floor, from `(0, 0)` to `(width, depth)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Floor {
    /// Extent along `x` (east), metres.
    pub width: f32,
    /// Extent along `y` (north), metres.
    pub depth: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductionLine {
    pub id: String,
    pub name: String,
}

/// An area of the floor with a rule attached to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    pub id: String,
    pub name: String,
    pub kind: ZoneKind,
    pub area: Area,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum ZoneKind {
    /// No equipment may stand here (robot cells, electrical cabinets, emergency exits).
    KeepOut,
    /// A walkway or forklift aisle that must keep at least `min_width` metres free.
    Walkway { min_width: f32 },
}

/// A region of the floor plane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Area {
    /// An axis-aligned rectangle between two corners.
    Rect { min: (f32, f32), max: (f32, f32) },
    /// A simple polygon, corners in order (either winding).
    Polygon(Vec<(f32, f32)>),
}

impl Area {
    /// Corners of the area in plan coordinates, in order.
    pub fn corners(&self) -> Vec<(f32, f32)> {
        match self {
            Area::Rect { min, max } => vec![*min, (max.0, min.1), *max, (min.0, max.1)],
            Area::Polygon(points) => points.clone(),
        }
    }

    /// The axis-aligned bounds `(min, max)` of the area.
    pub fn bounds(&self) -> ((f32, f32), (f32, f32)) {
        let corners = self.corners();
        let mut min = (f32::INFINITY, f32::INFINITY);
        let mut max = (f32::NEG_INFINITY, f32::NEG_INFINITY);
        for (x, y) in corners {
            min = (min.0.min(x), min.1.min(y));
            max = (max.0.max(x), max.1.max(y));
        }
        (min, max)
    }
}

/// One physical piece of equipment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asset {
    /// Stable identifier, unique in the plant; telemetry and recordings refer to it.
    pub id: String,
    pub name: String,
    pub kind: AssetKind,
    /// The production line this asset belongs to, by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    /// Centre of the footprint in plan coordinates `(x, y)`, metres.
    pub position: (f32, f32),
    /// Rotation about the vertical axis, degrees, counter-clockwise seen from above.
    #[serde(default)]
    pub rotation_deg: f32,
    pub footprint: Footprint,
    /// Free distance this asset needs around its footprint (service access, safety), metres.
    #[serde(default)]
    pub clearance: f32,
    #[serde(default)]
    pub components: Vec<AssetComponent>,
    #[serde(default)]
    pub signals: Vec<Signal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telemetry: Option<TelemetryBinding>,
    /// Fixed in place for layout optimisation (pits, cranes, utilities, or pinned by hand).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pinned: bool,
    /// Where material is picked up from this asset, relative to its centre in its own frame
    /// (metres, turns with the asset); the centre if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup: Option<(f32, f32)>,
    /// Where material is dropped off at this asset, like `pickup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dropoff: Option<(f32, f32)>,
    /// The signal that says the asset is producing (idle energy, kWh per part).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub producing: Option<Producing>,
    /// Its consumption can be moved in time (a batch furnace, a compressor charging a receiver,
    /// AGV batteries): the energy window and `energy what-if` offer to shift it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shiftable: bool,
}

impl Asset {
    /// A point given in the asset's own frame (metres from its centre), in plan coordinates.
    pub fn plan_point(&self, local: (f32, f32)) -> (f32, f32) {
        let (sin, cos) = self.rotation_deg.to_radians().sin_cos();
        (
            self.position.0 + local.0 * cos - local.1 * sin,
            self.position.1 + local.0 * sin + local.1 * cos,
        )
    }

    /// Where material leaves this asset, plan coordinates.
    pub fn pickup_point(&self) -> (f32, f32) {
        self.plan_point(self.pickup.unwrap_or((0.0, 0.0)))
    }

    /// Where material arrives at this asset, plan coordinates.
    pub fn dropoff_point(&self) -> (f32, f32) {
        self.plan_point(self.dropoff.unwrap_or((0.0, 0.0)))
    }

    /// Size of the footprint's bounding box `(length along local x, width along local y, height)`.
    pub fn extents(&self) -> (f32, f32, f32) {
        self.footprint.extents()
    }

    pub fn component(&self, id: &str) -> Option<&AssetComponent> {
        self.components.iter().find(|component| component.id == id)
    }

    /// Plan-space bounds `((min_x, min_y), (max_x, max_y))` of the rotated footprint, metres.
    /// Exact for every footprint (the corners of its boxes, or the circle), so validation needs
    /// no collision library; `geometry`'s tests check it against parry3d's bounding box.
    pub fn plan_bounds(&self) -> ((f32, f32), (f32, f32)) {
        let (x, y) = self.position;
        let corners: Vec<(f32, f32)> = match &self.footprint {
            Footprint::Cylinder { radius, .. } => {
                return ((x - radius, y - radius), (x + radius, y + radius));
            }
            Footprint::Box {
                length,
                width,
                height,
            } => FootprintPart {
                offset: (0.0, 0.0),
                length: *length,
                width: *width,
                height: *height,
                rotation_deg: 0.0,
            }
            .corners()
            .to_vec(),
            Footprint::Compound(parts) => parts.iter().flat_map(FootprintPart::corners).collect(),
        };
        let (sin, cos) = self.rotation_deg.to_radians().sin_cos();
        let mut min = (f32::INFINITY, f32::INFINITY);
        let mut max = (f32::NEG_INFINITY, f32::NEG_INFINITY);
        for (cx, cy) in corners {
            let (px, py) = (x + cx * cos - cy * sin, y + cx * sin + cy * cos);
            min = (min.0.min(px), min.1.min(py));
            max = (max.0.max(px), max.1.max(py));
        }
        (min, max)
    }
}

/// What kind of machine an asset is; decides its default shape in the scene.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AssetKind {
    CncMachine,
    Conveyor,
    RobotArm,
    HydraulicPress,
    Pump,
    Compressor,
    StorageRack,
    AgvStation,
    Tank,
}

impl AssetKind {
    pub const ALL: [AssetKind; 9] = [
        AssetKind::CncMachine,
        AssetKind::Conveyor,
        AssetKind::RobotArm,
        AssetKind::HydraulicPress,
        AssetKind::Pump,
        AssetKind::Compressor,
        AssetKind::StorageRack,
        AssetKind::AgvStation,
        AssetKind::Tank,
    ];

    /// Human-readable name, e.g. "CNC machine".
    pub fn label(self) -> &'static str {
        match self {
            AssetKind::CncMachine => "CNC machine",
            AssetKind::Conveyor => "Conveyor",
            AssetKind::RobotArm => "Robot arm",
            AssetKind::HydraulicPress => "Hydraulic press",
            AssetKind::Pump => "Pump",
            AssetKind::Compressor => "Compressor",
            AssetKind::StorageRack => "Storage rack",
            AssetKind::AgvStation => "AGV station",
            AssetKind::Tank => "Tank",
        }
    }

    /// File-name stem used for optional per-kind models, e.g. `cnc_machine`.
    pub fn file_stem(self) -> &'static str {
        match self {
            AssetKind::CncMachine => "cnc_machine",
            AssetKind::Conveyor => "conveyor",
            AssetKind::RobotArm => "robot_arm",
            AssetKind::HydraulicPress => "hydraulic_press",
            AssetKind::Pump => "pump",
            AssetKind::Compressor => "compressor",
            AssetKind::StorageRack => "storage_rack",
            AssetKind::AgvStation => "agv_station",
            AssetKind::Tank => "tank",
        }
    }
}

/// The outline an asset occupies, centred on its position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Footprint {
    /// A box: `length` along the asset's local x, `width` along its local y, `height` up.
    Box {
        length: f32,
        width: f32,
        height: f32,
    },
    /// An upright cylinder (tanks, vessels).
    Cylinder { radius: f32, height: f32 },
    /// Several boxes in the asset's frame, where one box would be too crude (an L-shaped
    /// conveyor, a machine with a side cabinet). Clearances are measured to the boxes.
    Compound(Vec<FootprintPart>),
}

/// One box of a compound footprint, placed in the asset's frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FootprintPart {
    /// Centre of the box in the asset's frame `(x, y)`, metres.
    pub offset: (f32, f32),
    pub length: f32,
    pub width: f32,
    pub height: f32,
    /// Turn of the box within the asset, degrees counter-clockwise.
    #[serde(default)]
    pub rotation_deg: f32,
}

impl FootprintPart {
    /// The part's corners in the asset's frame (plan).
    pub fn corners(&self) -> [(f32, f32); 4] {
        let (sin, cos) = self.rotation_deg.to_radians().sin_cos();
        let (hl, hw) = (self.length * 0.5, self.width * 0.5);
        [(-hl, -hw), (hl, -hw), (hl, hw), (-hl, hw)].map(|(x, y)| {
            (
                self.offset.0 + x * cos - y * sin,
                self.offset.1 + x * sin + y * cos,
            )
        })
    }
}

impl Footprint {
    /// Bounding box `(length, width, height)` in the asset's own frame, centred on the asset's
    /// position (a compound's box reaches as far as its furthest part on each axis).
    pub fn extents(&self) -> (f32, f32, f32) {
        match self {
            Footprint::Box {
                length,
                width,
                height,
            } => (*length, *width, *height),
            Footprint::Cylinder { radius, height } => (2.0 * radius, 2.0 * radius, *height),
            Footprint::Compound(parts) => {
                let (mut x, mut y, mut h) = (0.0f32, 0.0f32, 0.0f32);
                for part in parts {
                    for (cx, cy) in part.corners() {
                        x = x.max(cx.abs());
                        y = y.max(cy.abs());
                    }
                    h = h.max(part.height);
                }
                (2.0 * x, 2.0 * y, h)
            }
        }
    }
}

/// A part of an asset that can wear out on its own and is scored on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetComponent {
    /// Unique within the asset.
    pub id: String,
    pub name: String,
    pub kind: ComponentKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ComponentKind {
    Motor,
    Bearing,
    Spindle,
    Gearbox,
    PumpHead,
    Hydraulics,
    Belt,
    Joint,
    Gripper,
    CompressorStage,
    Valve,
    Controller,
    Structure,
}

impl ComponentKind {
    pub fn label(self) -> &'static str {
        match self {
            ComponentKind::Motor => "motor",
            ComponentKind::Bearing => "bearing",
            ComponentKind::Spindle => "spindle",
            ComponentKind::Gearbox => "gearbox",
            ComponentKind::PumpHead => "pump head",
            ComponentKind::Hydraulics => "hydraulics",
            ComponentKind::Belt => "belt",
            ComponentKind::Joint => "joint",
            ComponentKind::Gripper => "gripper",
            ComponentKind::CompressorStage => "compressor stage",
            ComponentKind::Valve => "valve",
            ComponentKind::Controller => "controller",
            ComponentKind::Structure => "structure",
        }
    }
}

/// A measured quantity of an asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signal {
    /// Unique within the asset, e.g. `spindle_vibration_rms`.
    pub id: String,
    /// The component this signal measures, by id; `None` for asset-level signals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// Engineering unit as shown to users, e.g. `mm/s`, `degC`, `bar`.
    pub unit: String,
    /// Range `(low, high)` the signal stays in during normal operation.
    pub normal: (f64, f64),
    /// Range `(low, high)` outside which the equipment trips or fails; the failure limit used
    /// for failure-horizon estimates. Must contain `normal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<(f64, f64)>,
    /// This signal measures power or counts energy: the energy accounting integrates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy: Option<EnergyMeasure>,
    /// An energy signal that meters a group of other assets (a line's sub-meter, the
    /// compressor house's feeder), by id: the plant's and the lines' totals count the meter
    /// instead of its members, and the report sets the members' own energy against it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub meters_for: Vec<String>,
}

/// What an energy signal is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EnergyMeasure {
    /// Active power now, in W, kW or MW (the signal's unit): integrated over time.
    Power,
    /// An energy meter's counter in Wh, kWh or MWh: monotonic; the difference is the energy.
    /// A counter that wraps at `rollover` (in its unit) is followed across the wrap; any other
    /// step back is a reset, counted and not taken as consumption.
    Meter {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rollover: Option<f64>,
    },
}

/// Which signal says that an asset is producing (energy drawn otherwise is idle energy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Producing {
    /// A running state: producing while the value is above 0.5.
    Running(String),
    /// A part or cycle counter: producing while it counts up; kWh per part comes from it.
    Counter(String),
    /// Producing while the signal is above the threshold (e.g. spindle power above 2 kW).
    Above(String, f64),
}

impl Producing {
    pub fn signal(&self) -> &str {
        match self {
            Producing::Running(id) | Producing::Counter(id) | Producing::Above(id, _) => id,
        }
    }
}

/// Where an asset's telemetry comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryBinding {
    /// Unified Namespace topic prefix of the asset, e.g. `acme/plant1/line2/press-3`; signals
    /// arrive below it.
    pub topic: String,
    /// Data older than this is shown as stale, seconds.
    #[serde(default = "default_stale_after_s")]
    pub stale_after_s: f32,
}

fn default_stale_after_s() -> f32 {
    DEFAULT_STALE_AFTER_S
}

/// How old data may get before it is shown as stale, seconds, for an asset whose binding does
/// not say (or that has no `telemetry:` line and is fed by Sparkplug B alone).
pub const DEFAULT_STALE_AFTER_S: f32 = 10.0;
