//! Scripted faults with known start times, so detectors and alarms can be checked against a
//! ground truth.

use crate::layout::{AssetKind, PlantLayout};

/// A fault the simulator injects into one asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// Bearing vibration and temperature creep up over the ramp.
    BearingWear,
    /// Temperatures climb (cooling lost).
    Overheating,
    /// Flow drops, pressure and vibration turn erratic.
    Cavitation,
    /// One sensor keeps repeating its last value.
    SensorFreeze,
    /// One sensor stops sending.
    SensorDropout,
    /// The asset's whole edge node goes silent (a Sparkplug NDEATH in that format).
    NodeDeath,
    /// Not a machine fault: someone else talks to the plant's broker. From the start, an
    /// unknown publisher sends every second; one second later a command is written to the
    /// target's edge node (Sparkplug B); a second later the target's last data message is
    /// replayed; from the third second its data floods at 50 times its rate for ten seconds.
    RoguePublisher,
    /// Not a fault: the asset's line changes product and every running machine on it holds a
    /// steady, higher load (within what it does every day). Nothing should be raised: the
    /// warmer motors are normal for that load (`predict::load`).
    ProductChangeover,
    /// Not a machine fault: the asset is left idling (spindle and coolant on, nothing made):
    /// it draws its idle power the whole time and never runs a cycle. Energy waste.
    IdlingOvernight,
    /// Not a fault: the asset's coolant circuit is flushed every day at the same time for
    /// `ramp_s` seconds (a nightly clean): its coolant pressure drops. An alarm the first
    /// day; from the second day on it is what is usual then (`predict::recurrence`).
    NightlyClean,
    /// A compressed-air leak: the compressor works harder to hold pressure (a duty-cycled one
    /// runs up to 45 % of its cycle more, an always-on one carries up to 36 % more load).
    /// Energy waste.
    AirLeak,
}

/// A named scenario: which fault, on which asset, from when, developing over how long.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: &'static str,
    pub description: &'static str,
    pub fault: Option<FaultKind>,
    /// Preferred asset id; if the layout has none, the first asset of `kind` is used.
    pub asset: &'static str,
    pub kind: AssetKind,
    /// For sensor faults: the signal (a substring of its id).
    pub signal: &'static str,
    pub start_s: f64,
    /// Time from the start until the fault is fully developed.
    pub ramp_s: f64,
}

/// Every scenario `plant-twin sim --list-scenarios` shows.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "healthy",
        description: "normal operation, no faults",
        fault: None,
        asset: "",
        kind: AssetKind::Pump,
        signal: "",
        start_s: 0.0,
        ramp_s: 1.0,
    },
    Scenario {
        name: "bearing-wear",
        description: "pump-02's drive-end bearing wears: vibration and temperature creep up from 20 s, past their limits after about 5 minutes",
        fault: Some(FaultKind::BearingWear),
        asset: "pump-02",
        kind: AssetKind::Pump,
        signal: "bearing",
        start_s: 20.0,
        ramp_s: 300.0,
    },
    Scenario {
        name: "overheating",
        description: "press-202 loses oil cooling at 30 s: oil temperature climbs past its limit in about 3 minutes",
        fault: Some(FaultKind::Overheating),
        asset: "press-202",
        kind: AssetKind::HydraulicPress,
        signal: "temp",
        start_s: 30.0,
        ramp_s: 300.0,
    },
    Scenario {
        name: "cavitation",
        description: "pump-03 starts cavitating at 30 s: flow drops, discharge pressure and vibration turn erratic",
        fault: Some(FaultKind::Cavitation),
        asset: "pump-03",
        kind: AssetKind::Pump,
        signal: "",
        start_s: 30.0,
        ramp_s: 60.0,
    },
    Scenario {
        name: "sensor-freeze",
        description: "cnc-104's spindle bearing temperature sensor freezes at 30 s",
        fault: Some(FaultKind::SensorFreeze),
        asset: "cnc-104",
        kind: AssetKind::CncMachine,
        signal: "bearing_temp",
        start_s: 30.0,
        ramp_s: 1.0,
    },
    Scenario {
        name: "sensor-dropout",
        description: "conv-202's motor current sensor stops sending at 30 s",
        fault: Some(FaultKind::SensorDropout),
        asset: "conv-202",
        kind: AssetKind::Conveyor,
        signal: "current",
        start_s: 30.0,
        ramp_s: 1.0,
    },
    Scenario {
        name: "node-death",
        description: "the edge node of line 3 (robot-301's line) dies at 30 s: its assets go silent",
        fault: Some(FaultKind::NodeDeath),
        asset: "robot-301",
        kind: AssetKind::RobotArm,
        signal: "",
        start_s: 30.0,
        ramp_s: 1.0,
    },
    Scenario {
        name: "rogue",
        description: "a rogue publisher on the broker from 90 s (after the traffic baseline's first minute): an unknown edge node (or UNS topic), a command written to pump-02's node, a replayed pump-02 message (Sparkplug B only), then pump-02's data at 50x its rate for 10 s; the traffic baseline flags each",
        fault: Some(FaultKind::RoguePublisher),
        asset: "pump-02",
        kind: AssetKind::Pump,
        signal: "",
        start_s: 90.0,
        ramp_s: 1.0,
    },
    Scenario {
        name: "changeover",
        description: "no fault: line 2 (press-202's line) changes product at 60 s and runs at a steady 80 % load instead of a wandering 40-90 %; its motors run warmer than anything seen while learning, as that load says they should: no alarm or warning",
        fault: Some(FaultKind::ProductChangeover),
        asset: "press-202",
        kind: AssetKind::HydraulicPress,
        signal: "",
        start_s: 60.0,
        ramp_s: 1.0,
    },
    Scenario {
        name: "idling",
        description: "energy waste: cnc-103 is left idling from 30 s (spindle and coolant on, nothing made): its power stays at the idle level and all of it counts as idle energy",
        fault: Some(FaultKind::IdlingOvernight),
        asset: "cnc-103",
        kind: AssetKind::CncMachine,
        signal: "",
        start_s: 30.0,
        ramp_s: 1.0,
    },
    Scenario {
        name: "air-leak",
        description: "energy waste: a compressed-air leak from 60 s makes comp-02 work harder to hold pressure, fully developed after 5 minutes",
        fault: Some(FaultKind::AirLeak),
        asset: "comp-02",
        kind: AssetKind::Compressor,
        signal: "",
        start_s: 60.0,
        ramp_s: 300.0,
    },
    Scenario {
        name: "nightly-clean",
        description: "not a fault: cnc-105's coolant circuit is flushed for 10 minutes every day, first at 60 s: its coolant pressure drops; an alarm the first time, none the next days at the same time (what is usual then)",
        fault: Some(FaultKind::NightlyClean),
        asset: "cnc-105",
        kind: AssetKind::CncMachine,
        signal: "coolant",
        start_s: 60.0,
        ramp_s: 600.0,
    },
];

/// A calendar day, seconds (`predict` learns from the simulator, so the simulator does not
/// borrow its constants).
const DAY_S: f64 = 86_400.0;

/// The scenario the app runs by default: a fault visibly developing within the first minute.
pub const DEFAULT_SCENARIO: &str = "bearing-wear";

pub fn scenario(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|scenario| scenario.name == name)
}

impl Scenario {
    /// The asset this scenario affects in `layout`, by index.
    pub fn target(&self, layout: &PlantLayout) -> Option<usize> {
        self.fault?;
        layout
            .assets
            .iter()
            .position(|asset| asset.id == self.asset)
            .or_else(|| {
                layout
                    .assets
                    .iter()
                    .position(|asset| asset.kind == self.kind)
            })
    }

    /// How developed the fault is at `t` seconds: 0 before the start, rising to 1 over the ramp.
    pub fn severity(&self, t: f64) -> f64 {
        if self.fault.is_none() || t < self.start_s {
            0.0
        } else if self.fault == Some(FaultKind::NightlyClean) {
            // The same time every day, for the ramp's length.
            let into_day = (t - self.start_s).rem_euclid(DAY_S);
            if into_day < self.ramp_s { 1.0 } else { 0.0 }
        } else {
            ((t - self.start_s) / self.ramp_s.max(1e-3)).min(1.0)
        }
    }
}
