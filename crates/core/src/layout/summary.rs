//! A short account of what a layout holds, printed by `plant-twin validate`.

use std::collections::BTreeMap;
use std::fmt;

use super::{AssetKind, PlantLayout, ZoneKind};

#[derive(Debug, Clone, PartialEq)]
pub struct LayoutSummary {
    pub name: String,
    pub floor: (f32, f32),
    pub lines: usize,
    pub assets_by_kind: BTreeMap<AssetKind, usize>,
    pub keep_out_zones: usize,
    pub walkways: usize,
    pub components: usize,
    pub signals: usize,
    pub bound_assets: usize,
}

impl LayoutSummary {
    pub fn of(layout: &PlantLayout) -> LayoutSummary {
        let mut assets_by_kind = BTreeMap::new();
        for asset in &layout.assets {
            *assets_by_kind.entry(asset.kind).or_insert(0) += 1;
        }
        let walkways = layout
            .zones
            .iter()
            .filter(|zone| matches!(zone.kind, ZoneKind::Walkway { .. }))
            .count();
        LayoutSummary {
            name: layout.name.clone(),
            floor: (layout.floor.width, layout.floor.depth),
            lines: layout.lines.len(),
            assets_by_kind,
            keep_out_zones: layout.zones.len() - walkways,
            walkways,
            components: layout.assets.iter().map(|a| a.components.len()).sum(),
            signals: layout.assets.iter().map(|a| a.signals.len()).sum(),
            bound_assets: layout
                .assets
                .iter()
                .filter(|a| a.telemetry.is_some())
                .count(),
        }
    }

    pub fn asset_count(&self) -> usize {
        self.assets_by_kind.values().sum()
    }
}

impl fmt::Display for LayoutSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "plant:      {}", self.name)?;
        writeln!(f, "floor:      {} x {} m", self.floor.0, self.floor.1)?;
        writeln!(f, "lines:      {}", self.lines)?;
        writeln!(
            f,
            "zones:      {} keep-out, {} walkways",
            self.keep_out_zones, self.walkways
        )?;
        writeln!(
            f,
            "assets:     {} ({} with a telemetry binding)",
            self.asset_count(),
            self.bound_assets
        )?;
        for (kind, count) in &self.assets_by_kind {
            writeln!(f, "  {:<16} {count}", kind.label())?;
        }
        writeln!(f, "components: {}", self.components)?;
        write!(f, "signals:    {}", self.signals)
    }
}
