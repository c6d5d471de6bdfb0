//! Recognisable shapes per asset kind, built from primitives sized to the asset's footprint.
//!
//! Each shape is a list of parts. A part may stand for a component slot (the second joint of a
//! robot, a pump's bearing housing), so that the scene can give each layout component its own
//! entity and colour it alone later.

use glam::{Quat, Vec3};

use crate::layout::{AssetKind, ComponentKind};

/// The primitive a part is drawn with, in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PartPrimitive {
    Box(Vec3),
    /// Upright cylinder: radius, height.
    Cylinder(f32, f32),
    Sphere(f32),
}

impl PartPrimitive {
    /// Key for sharing one mesh among parts of the same size; millimetre resolution.
    pub fn mesh_key(self) -> (u8, [i32; 3]) {
        let mm = |v: f32| (v * 1000.0).round() as i32;
        match self {
            PartPrimitive::Box(size) => (0, [mm(size.x), mm(size.y), mm(size.z)]),
            PartPrimitive::Cylinder(radius, height) => (1, [mm(radius), mm(height), 0]),
            PartPrimitive::Sphere(radius) => (2, [mm(radius), 0, 0]),
        }
    }
}

/// The paint a part gets before any colouring by data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Paint {
    /// The kind's main colour.
    Body,
    /// Dark frames, bases, legs.
    Frame,
    /// Motors, housings, moving parts.
    Mechanism,
    /// Belts, rubber, cable.
    Rubber,
    /// Safety yellow (guards, beams).
    Safety,
    /// Glass / windows.
    Glass,
}

/// One primitive of an asset's shape, placed in the asset's frame (origin on the floor at the
/// footprint centre, `+X` along the length, `-Z` along the width, `+Y` up).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Part {
    pub primitive: PartPrimitive,
    pub translation: Vec3,
    pub rotation: Quat,
    pub paint: Paint,
    /// The component slot this part draws: the `n`-th component of this kind on the asset.
    pub slot: Option<(ComponentKind, u8)>,
}

impl Part {
    fn new(primitive: PartPrimitive, translation: Vec3, paint: Paint) -> Part {
        Part {
            primitive,
            translation,
            rotation: Quat::IDENTITY,
            paint,
            slot: None,
        }
    }

    fn slot(mut self, kind: ComponentKind, occurrence: u8) -> Part {
        self.slot = Some((kind, occurrence));
        self
    }

    fn rotated(mut self, rotation: Quat) -> Part {
        self.rotation = rotation;
        self
    }
}

fn cuboid(x: f32, y: f32, z: f32) -> PartPrimitive {
    PartPrimitive::Box(Vec3::new(x, y, z))
}

/// The parts of an asset of `kind` whose footprint box is `length x width x height`.
pub fn kind_parts(kind: AssetKind, length: f32, width: f32, height: f32) -> Vec<Part> {
    let shape = match kind {
        AssetKind::CncMachine => cnc_machine_parts,
        AssetKind::Conveyor => conveyor_parts,
        AssetKind::RobotArm => robot_arm_parts,
        AssetKind::HydraulicPress => hydraulic_press_parts,
        AssetKind::Pump => pump_parts,
        AssetKind::Compressor => compressor_parts,
        AssetKind::StorageRack => storage_rack_parts,
        AssetKind::AgvStation => agv_station_parts,
        AssetKind::Tank => tank_parts,
    };
    shape(length, width, height)
}

/// The parts of a CNC machine whose footprint box is `l x w x h` metres.
fn cnc_machine_parts(l: f32, w: f32, h: f32) -> Vec<Part> {
    use ComponentKind as C;
    use Paint::*;
    vec![
        // Machine bed, enclosure with a window, spindle head, control cabinet, chip conveyor.
        Part::new(
            cuboid(l, h * 0.25, w),
            Vec3::new(0.0, h * 0.125, 0.0),
            Frame,
        ),
        Part::new(
            cuboid(l * 0.72, h * 0.7, w * 0.9),
            Vec3::new(-l * 0.12, h * 0.6, 0.0),
            Body,
        ),
        Part::new(
            cuboid(l * 0.45, h * 0.35, 0.02),
            Vec3::new(-l * 0.12, h * 0.6, w * 0.455),
            Glass,
        ),
        Part::new(
            PartPrimitive::Cylinder(w * 0.12, h * 0.3),
            Vec3::new(-l * 0.12, h * 1.0 - h * 0.1, 0.0),
            Mechanism,
        )
        .slot(C::Spindle, 0),
        Part::new(
            PartPrimitive::Cylinder(w * 0.16, h * 0.1),
            Vec3::new(-l * 0.12, h * 0.8, 0.0),
            Mechanism,
        )
        .slot(C::Bearing, 0),
        Part::new(
            cuboid(l * 0.2, h * 0.85, w * 0.5),
            Vec3::new(l * 0.38, h * 0.425, -w * 0.2),
            Frame,
        )
        .slot(C::Controller, 0),
        Part::new(
            cuboid(l * 0.18, h * 0.18, w * 0.22),
            Vec3::new(l * 0.38, h * 0.95, w * 0.2),
            Mechanism,
        )
        .slot(C::Motor, 0),
        Part::new(
            PartPrimitive::Cylinder(w * 0.09, h * 0.2),
            Vec3::new(l * 0.38, h * 0.1, w * 0.3),
            Mechanism,
        )
        .slot(C::PumpHead, 0),
    ]
}

/// The parts of a conveyor whose footprint box is `l x w x h` metres.
fn conveyor_parts(l: f32, w: f32, h: f32) -> Vec<Part> {
    use ComponentKind as C;
    use Paint::*;
    let leg = |x: f32, z: f32| {
        Part::new(
            cuboid(0.08, h * 0.85, 0.08),
            Vec3::new(x, h * 0.425, z),
            Frame,
        )
    };
    let mut parts = vec![
        Part::new(cuboid(l, 0.08, w), Vec3::new(0.0, h - 0.08, 0.0), Rubber).slot(C::Belt, 0),
        Part::new(
            cuboid(l, 0.12, 0.05),
            Vec3::new(0.0, h - 0.06, w * 0.5),
            Body,
        ),
        Part::new(
            cuboid(l, 0.12, 0.05),
            Vec3::new(0.0, h - 0.06, -w * 0.5),
            Body,
        ),
    ];
    // Rollers at both ends make it read as a belt from any angle.
    for x in [-l * 0.5 + 0.06, l * 0.5 - 0.06] {
        parts.push(
            Part::new(
                PartPrimitive::Cylinder(0.07, w * 0.98),
                Vec3::new(x, h - 0.08, 0.0),
                Mechanism,
            )
            .rotated(Quat::from_rotation_x(std::f32::consts::FRAC_PI_2)),
        );
    }
    let legs = ((l / 2.0).ceil() as usize).max(2);
    for i in 0..legs {
        let x = -l * 0.45 + l * 0.9 * i as f32 / (legs - 1) as f32;
        parts.push(leg(x, w * 0.4));
        parts.push(leg(x, -w * 0.4));
    }
    parts.push(
        Part::new(
            cuboid(0.3, 0.3, 0.3),
            Vec3::new(l * 0.5 - 0.25, h * 0.45, w * 0.5 + 0.1),
            Mechanism,
        )
        .slot(C::Motor, 0),
    );
    parts.push(
        Part::new(
            cuboid(0.25, 0.25, 0.2),
            Vec3::new(l * 0.5 - 0.25, h * 0.45, w * 0.5 - 0.12),
            Mechanism,
        )
        .slot(C::Gearbox, 0),
    );
    parts
}

/// The parts of a robot arm whose footprint box is `l x w x h` metres.
fn robot_arm_parts(l: f32, w: f32, h: f32) -> Vec<Part> {
    use ComponentKind as C;
    use Paint::*;
    // Pedestal, turning base (J1), upper arm (J2), forearm (J3), wrist and gripper; posed
    // reaching forward so the silhouette is unmistakably an arm.
    let reach = l.max(w) * 0.5;
    let base_h = h * 0.15;
    let upper = h * 0.45;
    let fore = reach * 1.4;
    let shoulder = Vec3::new(0.0, base_h + h * 0.12, 0.0);
    let upper_tilt = Quat::from_rotation_z(-0.35);
    let elbow = shoulder + upper_tilt * Vec3::new(0.0, upper, 0.0);
    let fore_dir = Quat::from_rotation_z(-1.75);
    let wrist = elbow + fore_dir * Vec3::new(0.0, fore, 0.0);
    vec![
        Part::new(
            PartPrimitive::Cylinder(reach * 0.6, base_h),
            Vec3::new(0.0, base_h * 0.5, 0.0),
            Frame,
        ),
        Part::new(
            PartPrimitive::Cylinder(reach * 0.42, h * 0.12),
            Vec3::new(0.0, base_h + h * 0.06, 0.0),
            Body,
        )
        .slot(C::Joint, 0),
        Part::new(
            cuboid(reach * 0.3, upper, reach * 0.3),
            shoulder + upper_tilt * Vec3::new(0.0, upper * 0.5, 0.0),
            Body,
        )
        .rotated(upper_tilt)
        .slot(C::Joint, 1),
        Part::new(PartPrimitive::Sphere(reach * 0.22), elbow, Mechanism),
        Part::new(
            cuboid(reach * 0.22, fore, reach * 0.22),
            elbow + fore_dir * Vec3::new(0.0, fore * 0.5, 0.0),
            Body,
        )
        .rotated(fore_dir),
        Part::new(PartPrimitive::Sphere(reach * 0.15), wrist, Mechanism).slot(C::Joint, 2),
        Part::new(
            cuboid(reach * 0.12, reach * 0.3, reach * 0.3),
            wrist + Vec3::new(0.0, -reach * 0.2, 0.0),
            Safety,
        )
        .slot(C::Gripper, 0),
    ]
}

/// The parts of a hydraulic press whose footprint box is `l x w x h` metres.
fn hydraulic_press_parts(l: f32, w: f32, h: f32) -> Vec<Part> {
    use ComponentKind as C;
    use Paint::*;
    vec![
        // Two columns, a crown, the ram and the bolster: a classic H-frame press.
        Part::new(cuboid(l, h * 0.2, w), Vec3::new(0.0, h * 0.1, 0.0), Frame),
        Part::new(
            cuboid(l * 0.18, h * 0.65, w * 0.8),
            Vec3::new(-l * 0.41, h * 0.525, 0.0),
            Body,
        ),
        Part::new(
            cuboid(l * 0.18, h * 0.65, w * 0.8),
            Vec3::new(l * 0.41, h * 0.525, 0.0),
            Body,
        ),
        Part::new(
            cuboid(l, h * 0.17, w * 0.85),
            Vec3::new(0.0, h * 0.915, 0.0),
            Body,
        )
        .slot(C::Hydraulics, 0),
        Part::new(
            cuboid(l * 0.6, h * 0.15, w * 0.6),
            Vec3::new(0.0, h * 0.62, 0.0),
            Safety,
        )
        .slot(C::Bearing, 0),
        Part::new(
            PartPrimitive::Cylinder(w * 0.12, h * 0.12),
            Vec3::new(0.0, h * 0.77, 0.0),
            Mechanism,
        ),
        Part::new(
            cuboid(l * 0.25, h * 0.12, w * 0.3),
            Vec3::new(l * 0.2, h * 1.0 - 0.01 + h * 0.0, -w * 0.25),
            Mechanism,
        )
        .slot(C::Motor, 0),
    ]
}

/// The parts of a pump whose footprint box is `l x w x h` metres.
fn pump_parts(l: f32, w: f32, h: f32) -> Vec<Part> {
    use ComponentKind as C;
    use Paint::*;
    let axis = Quat::from_rotation_z(std::f32::consts::FRAC_PI_2);
    vec![
        Part::new(
            cuboid(l, h * 0.15, w),
            Vec3::new(0.0, h * 0.075, 0.0),
            Frame,
        ),
        Part::new(
            PartPrimitive::Cylinder(h * 0.28, l * 0.42),
            Vec3::new(-l * 0.27, h * 0.45, 0.0),
            Mechanism,
        )
        .rotated(axis)
        .slot(C::Motor, 0),
        Part::new(
            PartPrimitive::Cylinder(h * 0.2, l * 0.1),
            Vec3::new(l * 0.0, h * 0.45, 0.0),
            Frame,
        )
        .rotated(axis)
        .slot(C::Bearing, 0),
        Part::new(
            PartPrimitive::Sphere(h * 0.33),
            Vec3::new(l * 0.28, h * 0.45, 0.0),
            Body,
        )
        .slot(C::PumpHead, 0),
        Part::new(
            PartPrimitive::Cylinder(h * 0.1, h * 0.4),
            Vec3::new(l * 0.28, h * 0.8, 0.0),
            Body,
        ),
    ]
}

/// The parts of a compressor whose footprint box is `l x w x h` metres.
fn compressor_parts(l: f32, w: f32, h: f32) -> Vec<Part> {
    use ComponentKind as C;
    use Paint::*;
    vec![
        Part::new(cuboid(l, h * 0.1, w), Vec3::new(0.0, h * 0.05, 0.0), Frame),
        Part::new(
            cuboid(l * 0.55, h * 0.85, w * 0.95),
            Vec3::new(-l * 0.2, h * 0.525, 0.0),
            Body,
        )
        .slot(C::CompressorStage, 0),
        Part::new(
            PartPrimitive::Cylinder(w * 0.3, l * 0.35),
            Vec3::new(l * 0.3, h * 0.4, 0.0),
            Mechanism,
        )
        .rotated(Quat::from_rotation_z(std::f32::consts::FRAC_PI_2))
        .slot(C::Motor, 0),
        Part::new(
            PartPrimitive::Cylinder(w * 0.08, h * 0.25),
            Vec3::new(-l * 0.2, h * 1.0 - h * 0.125 + 0.1, 0.0),
            Safety,
        )
        .slot(C::Valve, 0),
    ]
}

/// The parts of a storage rack whose footprint box is `l x w x h` metres.
fn storage_rack_parts(l: f32, w: f32, h: f32) -> Vec<Part> {
    use ComponentKind as C;
    use Paint::*;
    // Uprights and beams, with a few pallets on the shelves.
    let mut parts = vec![];
    let bays = ((l / 2.7).round() as usize).max(1);
    for i in 0..=bays {
        let x = -l * 0.5 + l * i as f32 / bays as f32;
        for z in [-w * 0.5 + 0.05, w * 0.5 - 0.05] {
            parts.push(Part::new(
                cuboid(0.1, h, 0.1),
                Vec3::new(x.clamp(-l * 0.5 + 0.05, l * 0.5 - 0.05), h * 0.5, z),
                Body,
            ));
        }
    }
    let levels = ((h / 1.6).floor() as usize).max(1);
    for level in 1..=levels {
        let y = h * level as f32 / (levels as f32 + 0.15);
        for z in [-w * 0.5 + 0.05, w * 0.5 - 0.05] {
            parts.push(Part::new(
                cuboid(l, 0.12, 0.08),
                Vec3::new(0.0, y, z),
                Safety,
            ));
        }
        for bay in 0..bays {
            if (bay + level) % 3 == 0 {
                continue;
            }
            let x = -l * 0.5 + l * (bay as f32 + 0.5) / bays as f32;
            parts.push(Part::new(
                cuboid(l / bays as f32 * 0.8, 1.0_f32.min(h * 0.2), w * 0.85),
                Vec3::new(x, y + 0.06 + 0.5_f32.min(h * 0.1), 0.0),
                Frame,
            ));
        }
    }
    parts.push(
        Part::new(cuboid(l, 0.05, w), Vec3::new(0.0, 0.025, 0.0), Frame).slot(C::Structure, 0),
    );
    parts
}

/// The parts of an AGV station whose footprint box is `l x w x h` metres.
fn agv_station_parts(l: f32, w: f32, h: f32) -> Vec<Part> {
    use ComponentKind as C;
    use Paint::*;
    vec![
        Part::new(cuboid(l, 0.04, w), Vec3::new(0.0, 0.02, 0.0), Safety),
        Part::new(
            cuboid(l * 0.25, h, w * 0.8),
            Vec3::new(-l * 0.37, h * 0.5, 0.0),
            Body,
        )
        .slot(C::Controller, 0),
        // A parked AGV on the pad.
        Part::new(
            cuboid(l * 0.6, h * 0.25, w * 0.7),
            Vec3::new(l * 0.15, h * 0.125 + 0.04, 0.0),
            Mechanism,
        ),
    ]
}

/// The parts of a tank whose footprint box is `l x w x h` metres.
fn tank_parts(l: f32, w: f32, h: f32) -> Vec<Part> {
    use ComponentKind as C;
    use Paint::*;
    let radius = l.min(w) * 0.5;
    vec![
        Part::new(
            PartPrimitive::Cylinder(radius, h * 0.9),
            Vec3::new(0.0, h * 0.45 + h * 0.05, 0.0),
            Body,
        )
        .slot(C::Structure, 0),
        Part::new(
            PartPrimitive::Cylinder(radius * 0.9, h * 0.05),
            Vec3::new(0.0, h * 0.025, 0.0),
            Frame,
        ),
        Part::new(
            PartPrimitive::Cylinder(radius * 0.12, radius * 0.5),
            Vec3::new(radius * 1.05, h * 0.15, 0.0),
            Safety,
        )
        .rotated(Quat::from_rotation_z(std::f32::consts::FRAC_PI_2))
        .slot(C::Valve, 0),
    ]
}

/// The parts of an asset: its kind's shape sized to its footprint, or, for a compound
/// footprint, the kind's shape once per box, placed and turned like the box.
pub fn asset_parts(asset: &crate::layout::Asset) -> Vec<Part> {
    match &asset.footprint {
        crate::layout::Footprint::Compound(boxes) => boxes
            .iter()
            .flat_map(|part| {
                let turn = Quat::from_rotation_y(part.rotation_deg.to_radians());
                let offset = Vec3::new(part.offset.0, 0.0, -part.offset.1);
                kind_parts(asset.kind, part.length, part.width, part.height)
                    .into_iter()
                    .map(move |mut shape_part| {
                        shape_part.translation = offset + turn * shape_part.translation;
                        shape_part.rotation = turn * shape_part.rotation;
                        shape_part
                    })
            })
            .collect(),
        _ => {
            let (length, width, height) = asset.extents();
            kind_parts(asset.kind, length, width, height)
        }
    }
}

/// Marker pod for a component whose kind has no part of its own in the asset's shape: small
/// boxes lined up on the asset's top so that every component can still be seen and coloured.
pub fn marker_part(index: usize, length: f32, height: f32) -> Part {
    let size = 0.28;
    let x = -length * 0.5 + size + index as f32 * (size * 1.4);
    Part::new(
        cuboid(size, size, size),
        Vec3::new(x.min(length * 0.5), height + size * 0.5, 0.0),
        Paint::Mechanism,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_parts_inside_a_loose_footprint() {
        for kind in AssetKind::ALL {
            let parts = kind_parts(kind, 3.0, 2.0, 2.5);
            assert!(
                parts.len() >= 3,
                "{kind:?} has too few parts to read as itself"
            );
            for part in &parts {
                let p = part.translation;
                assert!(
                    p.x.abs() <= 2.5 && p.z.abs() <= 2.0 && p.y >= 0.0 && p.y <= 3.2,
                    "{kind:?} part at {p:?} strays far outside its footprint"
                );
            }
        }
    }
}
