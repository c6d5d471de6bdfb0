//! Asset labels drawn over the 3D view: always facing the viewer, never overlapping, so they
//! stay readable at any zoom. An asset in warning or alarm is always labelled, in its alarm
//! colour, even where other labels would hide it or when labels are turned off: the operator
//! must be able to tell which pump is red from the overview. It also gets a ring around it, and
//! an arrow at the edge of the view when it is outside it.

use bevy_egui::egui;
use plant_twin_core::predict::Severity;

use super::PanelWorld;
use super::status::{AMBER, RED};

/// Beyond this many labels the view is clutter, whatever the layout size.
const MAX_LABELS: usize = 250;

/// One label to place.
struct Candidate<'a> {
    selected: bool,
    severity: Severity,
    distance_m: f32,
    pos: egui::Pos2,
    /// Where the asset's centre is on screen (for the ring and the edge arrow).
    centre: egui::Pos2,
    text: &'a str,
    stale: bool,
}

/// `all`: every asset's label; otherwise only those in warning or alarm.
pub(super) fn labels_ui(painter: &egui::Painter, world: &PanelWorld, all: bool) {
    let Ok((camera, camera_transform)) = world.cameras.single() else {
        return;
    };
    let eye = camera_transform.translation();
    let mut candidates: Vec<Candidate> = world
        .assets
        .iter()
        .filter_map(|(spec, transform, _, freshness, health)| {
            let severity = health.map_or(Severity::Normal, |h| h.0.severity());
            if !all && severity == Severity::Normal {
                return None;
            }
            let (_, _, height) = spec.0.extents();
            let centre = transform.translation() + bevy::math::Vec3::Y * (height * 0.5);
            let anchor = transform.translation() + bevy::math::Vec3::Y * (height + 0.4);
            let to_window = |p| {
                camera
                    .world_to_viewport(camera_transform, p)
                    .ok()
                    .map(|p| world.scene_target.window_from_camera(p))
            };
            let screen = to_window(anchor)?;
            let centre = to_window(centre)?;
            let selected = world
                .selection
                .selected
                .is_some_and(|entity| world.index.get(&spec.0.id) == Some(entity));
            Some(Candidate {
                selected,
                severity,
                distance_m: anchor.distance(eye),
                pos: egui::pos2(screen.x, screen.y),
                centre: egui::pos2(centre.x, centre.y),
                text: spec.0.id.as_str(),
                stale: freshness.is_some_and(|f| f.stale),
            })
        })
        .filter(|c| c.severity != Severity::Normal || painter.clip_rect().contains(c.pos))
        .collect();
    // Alarms, then warnings, then the selection, then nearest first: those win when labels
    // would overlap.
    candidates.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.selected.cmp(&a.selected))
            .then(a.distance_m.total_cmp(&b.distance_m))
    });

    let font = egui::FontId::proportional(13.0);
    let mut taken: Vec<egui::Rect> = vec![];
    for mut candidate in candidates {
        let abnormal = candidate.severity != Severity::Normal;
        if abnormal {
            let colour = if candidate.severity == Severity::Alarm {
                RED
            } else {
                AMBER
            };
            match mark_abnormal(painter, &candidate, colour) {
                // Above the ring, so the label does not cover the asset it names.
                Some(label_at) => candidate.pos = label_at,
                None => continue,
            }
        }
        if taken.len() >= MAX_LABELS && !abnormal {
            break;
        }
        let color = if candidate.selected {
            egui::Color32::from_rgb(20, 230, 255)
        } else if candidate.stale {
            egui::Color32::from_gray(150)
        } else {
            egui::Color32::from_gray(240)
        };
        let galley = painter.layout_no_wrap(candidate.text.to_string(), font.clone(), color);
        let rect =
            egui::Rect::from_center_size(candidate.pos, galley.size() + egui::vec2(10.0, 4.0));
        if !abnormal && taken.iter().any(|other| other.intersects(rect)) {
            continue;
        }
        let background = match candidate.severity {
            Severity::Alarm => RED.linear_multiply(0.8),
            Severity::Warning => AMBER.linear_multiply(0.6),
            Severity::Normal => egui::Color32::from_black_alpha(170),
        };
        painter.rect_filled(rect, 3.0, background);
        painter.galley(rect.min + egui::vec2(5.0, 2.0), galley, color);
        taken.push(rect);
    }
}

/// Rings an abnormal asset in view, or points at it from the edge of the view. Returns where its
/// label goes, or None when the arrow carries the name itself.
fn mark_abnormal(
    painter: &egui::Painter,
    candidate: &Candidate,
    colour: egui::Color32,
) -> Option<egui::Pos2> {
    const RING_PX: f32 = 16.0;
    let view = painter.clip_rect();
    if view.contains(candidate.centre) {
        // Zoomed in, the asset's own red or amber is plain to see; the ring is for the
        // overview, where an asset is a few pixels.
        if candidate.centre.distance(candidate.pos) > 2.0 * RING_PX {
            return Some(candidate.pos);
        }
        painter.circle_stroke(candidate.centre, RING_PX, egui::Stroke::new(3.0, colour));
        let above_ring = candidate.centre.y - RING_PX - 12.0;
        return Some(egui::pos2(
            candidate.centre.x,
            candidate.pos.y.min(above_ring),
        ));
    }
    // Off screen: a triangle on the edge, on the line from the view's centre to the asset.
    let inner = view.shrink(18.0);
    let direction = (candidate.centre - view.center()).normalized();
    let scale = [
        (inner.max.x - view.center().x) / direction.x.max(1e-6),
        (inner.min.x - view.center().x) / direction.x.min(-1e-6),
        (inner.max.y - view.center().y) / direction.y.max(1e-6),
        (inner.min.y - view.center().y) / direction.y.min(-1e-6),
    ]
    .into_iter()
    .filter(|s| *s > 0.0)
    .fold(f32::INFINITY, f32::min);
    let tip = view.center() + direction * scale;
    let side = egui::vec2(-direction.y, direction.x) * 9.0;
    let base = tip - direction * 16.0;
    painter.add(egui::Shape::convex_polygon(
        vec![tip, base + side, base - side],
        colour,
        egui::Stroke::NONE,
    ));
    let text_at = base - direction * 10.0;
    let align = match (direction.x >= 0.0, direction.y >= 0.0) {
        (true, true) => egui::Align2::RIGHT_BOTTOM,
        (true, false) => egui::Align2::RIGHT_TOP,
        (false, true) => egui::Align2::LEFT_BOTTOM,
        (false, false) => egui::Align2::LEFT_TOP,
    };
    painter.text(
        text_at,
        align,
        candidate.text,
        egui::FontId::proportional(14.0),
        colour,
    );
    None
}
