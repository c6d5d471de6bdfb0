//! Left panel: the plant's assets grouped by line and kind, with a search box.

use std::collections::BTreeMap;

use bevy::prelude::*;
use bevy_egui::egui;

use super::PanelWorld;
use crate::selection::{SelectAsset, SelectTarget};
use plant_twin_core::layout::{Asset, AssetKind};

/// Does `asset` match every word of `query` (in its id, name or kind, ignoring case)?
pub fn asset_matches(asset: &Asset, query: &str) -> bool {
    let haystack = format!("{} {} {}", asset.id, asset.name, asset.kind.label()).to_lowercase();
    query
        .split_whitespace()
        .all(|word| haystack.contains(&word.to_lowercase()))
}

pub(super) fn asset_list_ui(
    ui: &mut egui::Ui,
    world: &PanelWorld,
    search: &mut String,
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

    // Lines in file order, then assets on no line; within each, kinds in a fixed order.
    let mut groups: Vec<(Option<&str>, String)> = layout
        .lines
        .iter()
        .map(|line| (Some(line.id.as_str()), line.name.clone()))
        .collect();
    groups.push((None, "Not on a line".to_string()));

    let mut shown = 0;
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
            for (line_id, line_name) in &groups {
                let mut by_kind: BTreeMap<AssetKind, Vec<&Asset>> = BTreeMap::new();
                for asset in layout
                    .assets
                    .iter()
                    .filter(|asset| asset.line.as_deref() == *line_id)
                    .filter(|asset| asset_matches(asset, search))
                {
                    by_kind.entry(asset.kind).or_default().push(asset);
                }
                let count: usize = by_kind.values().map(Vec::len).sum();
                if count == 0 {
                    continue;
                }
                shown += count;
                egui::CollapsingHeader::new(format!("{line_name}  ({count})"))
                    .id_salt(("line", line_id))
                    .default_open(true)
                    .open(searching.then_some(true))
                    .show(ui, |ui| {
                        for (kind, assets) in &by_kind {
                            egui::CollapsingHeader::new(format!(
                                "{}  ({})",
                                kind.label(),
                                assets.len()
                            ))
                            .id_salt(("kind", line_id, *kind))
                            .default_open(true)
                            .open(searching.then_some(true))
                            .show(ui, |ui| {
                                for asset in assets {
                                    asset_row_ui(ui, world, asset, select);
                                }
                            });
                        }
                    });
            }
            if shown == 0 {
                ui.weak("No asset matches the search.");
            }
        });
}

fn asset_row_ui(
    ui: &mut egui::Ui,
    world: &PanelWorld,
    asset: &Asset,
    select: &mut MessageWriter<SelectAsset>,
) {
    let entity = world.index.get(&asset.id);
    let selected = entity.is_some_and(|entity| world.selection.contains(entity));
    let response = ui
        .selectable_label(selected, format!("{}  {}", asset.id, asset.name))
        .on_hover_text(format!("{} - {}", asset.kind.label(), asset.name));
    if selected && response.changed() {
        response.scroll_to_me(Some(egui::Align::Center));
    }
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
