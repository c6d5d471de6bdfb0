//! Left panel: the plant's assets grouped by line and kind, with a search box.
//!
//! The list is virtualised: the grouping is computed when the layout or the search changes, and
//! each frame lays out only the rows in view. A 10,000-asset plant had cost a widget per asset
//! per frame, most of them scrolled out of sight.

use std::collections::{BTreeMap, HashSet};

use bevy::ecs::change_detection::Tick;
use bevy::prelude::*;
use bevy_egui::egui;

use super::PanelWorld;
use crate::selection::{SelectAsset, SelectTarget};
use plant_twin_core::layout::{Asset, AssetKind, PlantLayout};

/// Does `asset` match every word of `query` (in its id, name or kind, ignoring case)?
pub fn asset_matches(asset: &Asset, query: &str) -> bool {
    let haystack = format!("{} {} {}", asset.id, asset.name, asset.kind.label()).to_lowercase();
    query
        .split_whitespace()
        .all(|word| haystack.contains(&word.to_lowercase()))
}

/// A collapsible group: a line (None: assets on no line), or a kind within one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum GroupKey {
    Line(Option<String>),
    Kind(Option<String>, AssetKind),
}

/// The assets of one line, by kind (positions in the layout).
#[derive(Debug, Clone, PartialEq)]
struct LineGroup {
    id: Option<String>,
    name: String,
    kinds: Vec<(AssetKind, Vec<usize>)>,
}

impl LineGroup {
    fn count(&self) -> usize {
        self.kinds.iter().map(|(_, assets)| assets.len()).sum()
    }
}

/// Lines in file order, then assets on no line; within each, kinds in a fixed order; only the
/// assets matching `search`; empty groups left out.
fn group(layout: &PlantLayout, search: &str) -> Vec<LineGroup> {
    let searching = !search.trim().is_empty();
    let mut lines: Vec<LineGroup> = layout
        .lines
        .iter()
        .map(|line| LineGroup {
            id: Some(line.id.clone()),
            name: line.name.clone(),
            kinds: vec![],
        })
        .collect();
    lines.push(LineGroup {
        id: None,
        name: "Not on a line".to_string(),
        kinds: vec![],
    });
    let mut by_line: Vec<BTreeMap<AssetKind, Vec<usize>>> = vec![BTreeMap::new(); lines.len()];
    let no_line = lines.len() - 1;
    for (position, asset) in layout.assets.iter().enumerate() {
        if searching && !asset_matches(asset, search) {
            continue;
        }
        let line = asset
            .line
            .as_deref()
            .and_then(|id| layout.lines.iter().position(|l| l.id == id))
            .unwrap_or(no_line);
        by_line[line].entry(asset.kind).or_default().push(position);
    }
    for (line, kinds) in lines.iter_mut().zip(by_line) {
        line.kinds = kinds.into_iter().collect();
    }
    lines.retain(|line| line.count() > 0);
    lines
}

/// One row of the flattened list.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Row {
    Line(usize),
    Kind(usize, usize),
    /// A layout position.
    Asset(usize),
}

/// The list's own state: collapsed groups, the grouping of the last layout and search, and the
/// selection it last scrolled to.
#[derive(Debug, Default)]
pub struct AssetListState {
    collapsed: HashSet<GroupKey>,
    grouped: Option<(Tick, String, Vec<LineGroup>)>,
    scrolled_to: Option<Entity>,
}

/// The rows shown: a search opens every group it matches in.
fn rows(lines: &[LineGroup], collapsed: &HashSet<GroupKey>, searching: bool) -> Vec<Row> {
    let mut rows = vec![];
    for (l, line) in lines.iter().enumerate() {
        rows.push(Row::Line(l));
        if !searching && collapsed.contains(&GroupKey::Line(line.id.clone())) {
            continue;
        }
        for (k, (kind, assets)) in line.kinds.iter().enumerate() {
            rows.push(Row::Kind(l, k));
            if !searching && collapsed.contains(&GroupKey::Kind(line.id.clone(), *kind)) {
                continue;
            }
            rows.extend(assets.iter().map(|&p| Row::Asset(p)));
        }
    }
    rows
}

pub(super) fn asset_list_ui(
    ui: &mut egui::Ui,
    world: &PanelWorld,
    search: &mut String,
    state: &mut AssetListState,
    select: &mut MessageWriter<SelectAsset>,
) {
    ui.heading("Assets");
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::singleline(search)
                .hint_text("Search id, name or kind")
                .desired_width(f32::INFINITY),
        );
    });
    let layout = &world.document.layout;
    let searching = !search.trim().is_empty();
    let layout_tick = world.document.last_changed();
    let stale = state
        .grouped
        .as_ref()
        .is_none_or(|(tick, text, _)| *tick != layout_tick || text != search);
    if stale {
        state.grouped = Some((layout_tick, search.clone(), group(layout, search)));
    }
    let Some((_, _, lines)) = &state.grouped else {
        return;
    };
    if lines.is_empty() {
        ui.weak("No asset matches the search.");
        return;
    }
    let rows = rows(lines, &state.collapsed, searching);

    let row_height = ui
        .text_style_height(&egui::TextStyle::Body)
        .max(ui.spacing().interact_size.y);
    let spacing = ui.spacing().item_spacing.y;
    let mut scroll = egui::ScrollArea::vertical().auto_shrink([false, false]);
    // A selection made elsewhere (the scene, an alarm) brings its row into view once.
    let selected = world.selection.selected;
    if selected != state.scrolled_to {
        state.scrolled_to = selected;
        let row = selected
            .and_then(|entity| world.index.by_position.iter().position(|e| *e == entity))
            .and_then(|position| rows.iter().position(|r| *r == Row::Asset(position)));
        if let Some(row) = row {
            let centre = (row as f32 + 0.5) * (row_height + spacing);
            let offset = (centre - ui.available_height() * 0.5).max(0.0);
            scroll = scroll.vertical_scroll_offset(offset);
        }
    }
    let mut toggle: Option<GroupKey> = None;
    scroll.show_rows(ui, row_height, rows.len(), |ui, range| {
        for row in &rows[range] {
            match *row {
                Row::Line(l) => {
                    let line = &lines[l];
                    let key = GroupKey::Line(line.id.clone());
                    let open = searching || !state.collapsed.contains(&key);
                    let text = format!("{}  ({})", line.name, line.count());
                    if group_row(ui, &text, 0.0, open, row_height).clicked() {
                        toggle = Some(key);
                    }
                }
                Row::Kind(l, k) => {
                    let line = &lines[l];
                    let (kind, assets) = &line.kinds[k];
                    let key = GroupKey::Kind(line.id.clone(), *kind);
                    let open = searching || !state.collapsed.contains(&key);
                    let text = format!("{}  ({})", kind.label(), assets.len());
                    if group_row(ui, &text, 18.0, open, row_height).clicked() {
                        toggle = Some(key);
                    }
                }
                Row::Asset(position) => {
                    asset_row_ui(ui, world, position, row_height, select);
                }
            }
        }
    });
    if let Some(key) = toggle
        && !searching
        && !state.collapsed.remove(&key)
    {
        state.collapsed.insert(key);
    }
}

/// A row the size of a list row, clickable; text painted clipped to it (not laid out as a
/// widget tree). A group's row has a triangle: pointing down when `open`.
fn list_row(
    ui: &mut egui::Ui,
    text: &str,
    indent: f32,
    selected: bool,
    group_open: Option<bool>,
    height: f32,
) -> egui::Response {
    const TRIANGLE_PX: f32 = 12.0;
    let (rect, response) = ui.allocate_exact_size(
        egui::vec2(ui.available_width(), height),
        egui::Sense::click(),
    );
    if ui.is_rect_visible(rect) {
        let visuals = ui.style().interact_selectable(&response, selected);
        if selected || response.hovered() {
            ui.painter().rect_filled(rect, 2.0, visuals.weak_bg_fill);
        }
        let colour = visuals.text_color();
        let mut left = rect.left() + 4.0 + indent;
        if let Some(open) = group_open {
            let centre = egui::pos2(left + TRIANGLE_PX * 0.5, rect.center().y);
            let r = TRIANGLE_PX * 0.3;
            let points = if open {
                vec![
                    centre + egui::vec2(-r, -r * 0.6),
                    centre + egui::vec2(r, -r * 0.6),
                    centre + egui::vec2(0.0, r * 0.8),
                ]
            } else {
                vec![
                    centre + egui::vec2(-r * 0.6, -r),
                    centre + egui::vec2(r * 0.8, 0.0),
                    centre + egui::vec2(-r * 0.6, r),
                ]
            };
            ui.painter().add(egui::Shape::convex_polygon(
                points,
                colour,
                egui::Stroke::NONE,
            ));
            left += TRIANGLE_PX + 4.0;
        }
        let font = egui::TextStyle::Body.resolve(ui.style());
        let galley = ui.painter().layout_no_wrap(text.to_string(), font, colour);
        let at = egui::pos2(left, rect.center().y - galley.size().y * 0.5);
        ui.painter().with_clip_rect(rect).galley(at, galley, colour);
    }
    response
}

fn group_row(
    ui: &mut egui::Ui,
    text: &str,
    indent: f32,
    open: bool,
    height: f32,
) -> egui::Response {
    list_row(ui, text, indent, false, Some(open), height)
}

fn asset_row_ui(
    ui: &mut egui::Ui,
    world: &PanelWorld,
    position: usize,
    height: f32,
    select: &mut MessageWriter<SelectAsset>,
) {
    let Some(asset) = world.document.layout.assets.get(position) else {
        return;
    };
    let entity = world.index.at(position as u32);
    let selected = entity.is_some_and(|entity| world.selection.contains(entity));
    let response = list_row(
        ui,
        &format!("{}  {}", asset.id, asset.name),
        36.0,
        selected,
        None,
        height,
    )
    .on_hover_text(format!("{} - {}", asset.kind.label(), asset.name));
    if response.clicked()
        && let Some(entity) = entity
    {
        let additive = ui.input(|input| input.modifiers.command);
        select.write(SelectAsset {
            target: SelectTarget::Entity(entity),
            frame: !additive,
            additive,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> PlantLayout {
        plant_twin_core::layout::parse_layout(
            plant_twin_core::layout::DEMO_LAYOUT_TEXT,
            std::path::Path::new("demo-plant.ron"),
        )
        .expect("demo layout")
    }

    #[test]
    fn every_asset_is_in_one_group_lines_in_file_order() {
        let layout = demo();
        let lines = group(&layout, "");
        let mut seen: Vec<usize> = lines
            .iter()
            .flat_map(|l| l.kinds.iter().flat_map(|(_, a)| a.iter().copied()))
            .collect();
        seen.sort();
        assert_eq!(seen, (0..layout.assets.len()).collect::<Vec<_>>());
        let ids: Vec<_> = lines.iter().filter_map(|l| l.id.clone()).collect();
        let file: Vec<_> = layout.lines.iter().map(|l| l.id.clone()).collect();
        assert_eq!(ids, file[..ids.len()].to_vec());
        for line in &lines {
            for (kind, assets) in &line.kinds {
                for &p in assets {
                    assert_eq!(layout.assets[p].kind, *kind);
                    assert_eq!(layout.assets[p].line, line.id);
                }
            }
        }
    }

    #[test]
    fn collapsing_hides_rows_and_a_search_shows_only_its_matches_open() {
        let layout = demo();
        let lines = group(&layout, "");
        let all = rows(&lines, &HashSet::new(), false);
        let groups: usize = lines.iter().map(|l| 1 + l.kinds.len()).sum();
        assert_eq!(all.len(), layout.assets.len() + groups);

        let first = lines[0].id.clone();
        let collapsed = HashSet::from([GroupKey::Line(first)]);
        let fewer = rows(&lines, &collapsed, false);
        assert_eq!(
            fewer.len(),
            all.len() - lines[0].count() - lines[0].kinds.len()
        );

        let pumps = group(&layout, "pump");
        let found = rows(&pumps, &collapsed, true);
        let assets: Vec<_> = found
            .iter()
            .filter_map(|r| match r {
                Row::Asset(p) => Some(&layout.assets[*p]),
                _ => None,
            })
            .collect();
        assert!(assets.iter().any(|a| a.kind == AssetKind::Pump));
        assert!(assets.iter().all(|a| asset_matches(a, "pump")));
        assert!(found.len() < all.len());
        assert!(group(&layout, "no such asset anywhere").is_empty());
    }
}
