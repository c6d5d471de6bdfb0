//! Asset labels drawn over the 3D view: always facing the viewer, near ones first, never
//! overlapping, so they stay readable at any zoom.

use bevy_egui::egui;

use super::PanelWorld;

/// Beyond this many labels the view is clutter, whatever the layout size.
const MAX_LABELS: usize = 250;

pub(super) fn labels_ui(painter: &egui::Painter, world: &PanelWorld) {
    let Ok((camera, camera_transform)) = world.cameras.single() else {
        return;
    };
    let eye = camera_transform.translation();
    let mut candidates: Vec<(bool, f32, egui::Pos2, &str, bool)> = world
        .assets
        .iter()
        .filter_map(|(spec, transform, _, freshness)| {
            let (_, _, height) = spec.0.extents();
            let anchor = transform.translation() + bevy::math::Vec3::Y * (height + 0.4);
            let screen = camera.world_to_viewport(camera_transform, anchor).ok()?;
            let selected = world
                .selection
                .selected
                .is_some_and(|entity| world.index.get(&spec.0.id) == Some(entity));
            Some((
                selected,
                anchor.distance(eye),
                egui::pos2(screen.x, screen.y),
                spec.0.id.as_str(),
                freshness.is_some_and(|f| f.stale),
            ))
        })
        .filter(|(_, _, pos, _, _)| painter.clip_rect().contains(*pos))
        .collect();
    // Selected first, then nearest first: those win when labels would overlap.
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.total_cmp(&b.1)));

    let font = egui::FontId::proportional(13.0);
    let mut taken: Vec<egui::Rect> = vec![];
    for (selected, _, pos, text, stale) in candidates {
        if taken.len() >= MAX_LABELS {
            break;
        }
        let color = if selected {
            egui::Color32::from_rgb(20, 230, 255)
        } else if stale {
            egui::Color32::from_gray(150)
        } else {
            egui::Color32::from_gray(240)
        };
        let galley = painter.layout_no_wrap(text.to_string(), font.clone(), color);
        let rect = egui::Rect::from_center_size(pos, galley.size() + egui::vec2(10.0, 4.0));
        if taken.iter().any(|other| other.intersects(rect)) {
            continue;
        }
        painter.rect_filled(rect, 3.0, egui::Color32::from_black_alpha(170));
        painter.galley(rect.min + egui::vec2(5.0, 2.0), galley, color);
        taken.push(rect);
    }
}
