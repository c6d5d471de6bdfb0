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

/// `all`: every asset's label; otherwise only those in warning or alarm. `keep_clear`: what is
/// drawn over the scene (the legend...), where only the labels of abnormal assets may go.
pub(super) fn labels_ui(
    painter: &egui::Painter,
    world: &PanelWorld,
    all: bool,
    keep_clear: &[egui::Rect],
) {
    let Ok((camera, camera_transform)) = world.cameras.single() else {
        return;
    };
    let eye = camera_transform.translation();
    let selected_id = world
        .selection
        .selected
        .and_then(|entity| world.specs.get(entity).ok())
        .map(|spec| spec.0.id.as_str());
    // One projection for every asset: the camera's, computed once (`world_to_viewport` inverts
    // the camera's transform at each call).
    let view_from_world = camera_transform.affine().inverse();
    let clip_from_view = camera.clip_from_view();
    let Some(viewport) = camera.logical_viewport_rect() else {
        return;
    };
    let to_window = |p: bevy::math::Vec3| {
        let ndc = clip_from_view.project_point3(view_from_world.transform_point3(p));
        // Behind the camera or beyond its far plane.
        if !ndc.is_finite() || ndc.z < 0.0 || ndc.z > 1.0 {
            return None;
        }
        let camera_px =
            (bevy::math::Vec2::new(ndc.x, -ndc.y) + 1.0) * 0.5 * viewport.size() + viewport.min;
        Some(world.scene_target.window_from_camera(camera_px))
    };
    let view = painter.clip_rect();
    let mut candidates: Vec<Candidate> = Vec::with_capacity(world.labelled.iter().len());
    for (entity, spec, transform, extents, freshness) in &world.labelled {
        let severity = world.annunciator.severity(entity);
        if !all && severity == Severity::Normal {
            continue;
        }
        let height = extents.height_m;
        let anchor = transform.translation() + bevy::math::Vec3::Y * (height + 0.4);
        let Some(screen) = to_window(anchor) else {
            continue;
        };
        let pos = egui::pos2(screen.x, screen.y);
        // Off the view, only an abnormal asset is marked (by an arrow at the edge).
        if severity == Severity::Normal && !view.contains(pos) {
            continue;
        }
        // The ring and the edge arrow of an abnormal asset need its centre; a normal
        // asset's is not projected (thousands a frame in a large plant).
        let centre = if severity == Severity::Normal {
            screen
        } else {
            match to_window(transform.translation() + bevy::math::Vec3::Y * (height * 0.5)) {
                Some(centre) => centre,
                None => continue,
            }
        };
        candidates.push(Candidate {
            selected: selected_id == Some(spec.0.id.as_str()),
            severity,
            distance_m: anchor.distance(eye),
            pos,
            centre: egui::pos2(centre.x, centre.y),
            text: spec.0.id.as_str(),
            stale: freshness.is_some_and(|f| f.stale),
        });
    }
    // Alarms, then warnings, then the selection, then nearest first: those win when labels
    // would overlap. A 10,000-asset overview sorts 8,000 candidates a frame: sorted as plain
    // integers (the order's key above the candidate's index), not as the candidates.
    let order = sorted_by_label_order(&candidates);

    let font = egui::FontId::proportional(13.0);
    let mut taken = Occupancy::new(painter.clip_rect());
    for overlay in keep_clear {
        taken.take(*overlay);
    }
    let mut placed = 0;
    for index in order {
        let candidate = &candidates[index];
        let mut pos = candidate.pos;
        let abnormal = candidate.severity != Severity::Normal;
        if abnormal {
            let colour = if candidate.severity == Severity::Alarm {
                RED
            } else {
                AMBER
            };
            match mark_abnormal(painter, candidate, colour) {
                // Above the ring, so the label does not cover the asset it names.
                Some(label_at) => pos = label_at,
                None => continue,
            }
        }
        if placed >= MAX_LABELS && !abnormal {
            break;
        }
        // Where labels are dense most candidates would overlap one already placed: skip those
        // before laying out their text (a 10,000-asset overview has thousands each frame). The
        // box is estimated from the id's length at 5.5 px a character, under the font's average:
        // the laid-out box is checked again below.
        let estimate = egui::Rect::from_center_size(
            pos,
            egui::vec2(candidate.text.len() as f32 * 5.5 + 10.0, 16.0),
        );
        if !abnormal && !taken.is_free(estimate) {
            continue;
        }
        let color = if candidate.selected {
            egui::Color32::from_rgb(20, 230, 255)
        } else if candidate.stale {
            egui::Color32::from_gray(150)
        } else {
            egui::Color32::from_gray(240)
        };
        let galley = painter.layout_no_wrap(candidate.text.to_string(), font.clone(), color);
        let rect = egui::Rect::from_center_size(pos, galley.size() + egui::vec2(10.0, 4.0));
        if !abnormal && !taken.is_free(rect) {
            continue;
        }
        let background = match candidate.severity {
            Severity::Alarm => RED.linear_multiply(0.8),
            Severity::Warning => AMBER.linear_multiply(0.6),
            Severity::Normal => egui::Color32::from_black_alpha(170),
        };
        painter.rect_filled(rect, 3.0, background);
        painter.galley(rect.min + egui::vec2(5.0, 2.0), galley, color);
        taken.take(rect);
        placed += 1;
    }
}

/// A candidate's place in the labelling order as one integer: severity (worst first), then
/// the selection, then the distance (nearest first; a non-negative float's bits order like
/// its value).
fn label_order(candidate: &Candidate) -> u64 {
    let severity_rank = Severity::Alarm as u64 - candidate.severity as u64;
    let unselected = u64::from(!candidate.selected);
    (severity_rank << 34) | (unselected << 32) | u64::from(candidate.distance_m.max(0.0).to_bits())
}

/// The candidates' indices in labelling order. Each is sorted as one integer, the order's
/// 36-bit key above the index, which is cheaper than moving the candidates themselves.
fn sorted_by_label_order(candidates: &[Candidate]) -> Vec<usize> {
    const INDEX_BITS: u32 = 64 - 36;
    let mut keys: Vec<u64> = candidates
        .iter()
        .take(1 << INDEX_BITS)
        .enumerate()
        .map(|(index, candidate)| (label_order(candidate) << INDEX_BITS) | index as u64)
        .collect();
    keys.sort_unstable();
    keys.into_iter()
        .map(|key| (key & ((1 << INDEX_BITS) - 1)) as usize)
        .collect()
}

/// Which parts of the view labels cover, on a grid of small cells, a bit each: testing a label
/// against those placed costs a few words per row it spans, not one test per placed label (a
/// dense overview tests thousands of candidates a frame).
struct Occupancy {
    view: egui::Rect,
    columns: usize,
    rows: usize,
    words_per_row: usize,
    bits: Vec<u64>,
}

impl Occupancy {
    /// Fine enough that two labels a few pixels apart both fit.
    const CELL_PX: f32 = 4.0;

    fn new(view: egui::Rect) -> Occupancy {
        let columns = (view.width() / Self::CELL_PX).ceil().max(1.0) as usize;
        let rows = (view.height() / Self::CELL_PX).ceil().max(1.0) as usize;
        let words_per_row = columns.div_ceil(64);
        Occupancy {
            view,
            columns,
            rows,
            words_per_row,
            bits: vec![0; words_per_row * rows],
        }
    }

    /// The cells a rectangle spans (clamped to the view), as column and row ranges.
    fn span(&self, rect: egui::Rect) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let cell = |v: f32, min: f32, count: usize| {
            (((v - min) / Self::CELL_PX).floor().max(0.0) as usize).min(count)
        };
        let c0 = cell(rect.min.x, self.view.min.x, self.columns);
        let c1 = cell(rect.max.x, self.view.min.x, self.columns - 1) + 1;
        let r0 = cell(rect.min.y, self.view.min.y, self.rows);
        let r1 = cell(rect.max.y, self.view.min.y, self.rows - 1) + 1;
        (c0..c1.max(c0), r0..r1.max(r0))
    }

    /// The words of a row that hold `columns`, each with the mask of those columns in it.
    fn words(columns: &std::ops::Range<usize>) -> impl Iterator<Item = (usize, u64)> + use<> {
        let (start, end) = (columns.start, columns.end);
        let words = if start < end {
            start / 64..(end - 1) / 64 + 1
        } else {
            0..0
        };
        words.map(move |word| {
            let low = start.max(word * 64) - word * 64;
            let high = end.min(word * 64 + 64) - word * 64;
            let mask = if high - low == 64 {
                u64::MAX
            } else {
                ((1u64 << (high - low)) - 1) << low
            };
            (word, mask)
        })
    }

    fn is_free(&self, rect: egui::Rect) -> bool {
        let (columns, rows) = self.span(rect);
        rows.into_iter().all(|row| {
            let row_bits = &self.bits[row * self.words_per_row..(row + 1) * self.words_per_row];
            Self::words(&columns).all(|(word, mask)| row_bits[word] & mask == 0)
        })
    }

    fn take(&mut self, rect: egui::Rect) {
        let (columns, rows) = self.span(rect);
        for row in rows {
            let row_bits = &mut self.bits[row * self.words_per_row..(row + 1) * self.words_per_row];
            for (word, mask) in Self::words(&columns) {
                row_bits[word] |= mask;
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_ordered_alarms_warnings_selection_then_nearest() {
        let candidate = |name, severity, selected, distance_m| Candidate {
            selected,
            severity,
            distance_m,
            pos: egui::Pos2::ZERO,
            centre: egui::Pos2::ZERO,
            text: name,
            stale: false,
        };
        let candidates = [
            candidate("far", Severity::Normal, false, 300.0),
            candidate("near", Severity::Normal, false, 0.5),
            candidate("selected", Severity::Normal, true, 900.0),
            candidate("warning", Severity::Warning, false, 2.0),
            candidate("far alarm", Severity::Alarm, false, 5_000.0),
            candidate("alarm", Severity::Alarm, false, 40.0),
            candidate("mid", Severity::Normal, false, 12.25),
        ];
        let order: Vec<_> = sorted_by_label_order(&candidates)
            .into_iter()
            .map(|index| candidates[index].text)
            .collect();
        assert_eq!(
            order,
            [
                "alarm",
                "far alarm",
                "warning",
                "selected",
                "near",
                "mid",
                "far"
            ]
        );
    }

    #[test]
    fn placed_labels_block_overlapping_ones_only() {
        let view = egui::Rect::from_min_size(egui::pos2(100.0, 50.0), egui::vec2(400.0, 300.0));
        let mut taken = Occupancy::new(view);
        let label = egui::Rect::from_min_size(egui::pos2(200.0, 100.0), egui::vec2(80.0, 18.0));
        assert!(taken.is_free(label));
        taken.take(label);
        assert!(!taken.is_free(label.translate(egui::vec2(40.0, 5.0))));
        assert!(!taken.is_free(egui::Rect::from_center_size(
            label.center(),
            egui::Vec2::ZERO
        )));
        // Clear of it by more than a cell, beside and below.
        assert!(taken.is_free(label.translate(egui::vec2(90.0, 0.0))));
        assert!(taken.is_free(label.translate(egui::vec2(0.0, 26.0))));
        // Partly outside the view: only the part inside counts.
        let edge = egui::Rect::from_min_size(egui::pos2(460.0, 330.0), egui::vec2(80.0, 40.0));
        assert!(taken.is_free(edge));
        taken.take(edge);
        assert!(!taken.is_free(edge));
        let outside = egui::Rect::from_min_size(egui::pos2(600.0, 400.0), egui::vec2(10.0, 10.0));
        assert!(taken.is_free(outside));
    }

    /// The bit grid answers as a grid of one flag per cell would, for labels crossing the
    /// 64-cell words of a row anywhere (a 1920-pixel view is 480 cells, eight words).
    #[test]
    fn occupancy_answers_like_a_cell_by_cell_grid() {
        let view = egui::Rect::from_min_size(egui::pos2(7.0, 30.0), egui::vec2(1913.0, 400.0));
        let mut taken = Occupancy::new(view);
        let mut reference = vec![false; taken.columns * taken.rows];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |range: f32| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 10_000) as f32 / 10_000.0 * range
        };
        let (mut free, mut blocked) = (0, 0);
        for _ in 0..2_000 {
            let rect = egui::Rect::from_min_size(
                egui::pos2(next(2000.0) - 40.0, next(460.0) - 30.0),
                egui::vec2(next(300.0), next(24.0)),
            );
            let (columns, rows) = taken.span(rect);
            let expected = rows.clone().all(|row| {
                columns
                    .clone()
                    .all(|column| !reference[row * taken.columns + column])
            });
            assert_eq!(taken.is_free(rect), expected, "{rect:?}");
            if expected {
                free += 1;
                taken.take(rect);
                for row in rows {
                    for column in columns.clone() {
                        reference[row * taken.columns + column] = true;
                    }
                }
            } else {
                blocked += 1;
            }
        }
        // Both answers were exercised.
        assert!(
            free > 20 && blocked > 1_000,
            "{free} free, {blocked} blocked"
        );
    }
}
