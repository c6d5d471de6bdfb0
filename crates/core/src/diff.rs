//! What an edited layout changed against its baseline: assets moved or turned, and clearance
//! violations added and removed; as Markdown or CSV for a review.

use crate::clearance::ClearanceModel;
use crate::layout::PlantLayout;

#[derive(Debug, Clone, PartialEq)]
pub struct AssetChange {
    pub id: String,
    pub from: (f32, f32),
    pub to: (f32, f32),
    pub moved_m: f32,
    /// Signed, in (-180, 180].
    pub turned_deg: f32,
}

impl AssetChange {
    /// Id, from x, from y, to x, to y (mm), distance moved (mm), turn (0.1 degree), as text.
    fn fields(&self) -> [String; 7] {
        [
            self.id.clone(),
            format!("{:.3}", self.from.0),
            format!("{:.3}", self.from.1),
            format!("{:.3}", self.to.0),
            format!("{:.3}", self.to.1),
            format!("{:.3}", self.moved_m),
            format!("{:.1}", self.turned_deg),
        ]
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct LayoutDiff {
    pub changes: Vec<AssetChange>,
    pub violations_added: Vec<String>,
    pub violations_removed: Vec<String>,
}

/// Compares assets by id; violations by their description.
pub fn diff_layouts(baseline: &PlantLayout, edited: &PlantLayout) -> LayoutDiff {
    let mut changes = vec![];
    for asset in &edited.assets {
        let Some(before) = baseline.assets.iter().find(|a| a.id == asset.id) else {
            continue;
        };
        let moved =
            (asset.position.0 - before.position.0).hypot(asset.position.1 - before.position.1);
        let mut turned = (asset.rotation_deg - before.rotation_deg).rem_euclid(360.0);
        if turned > 180.0 {
            turned -= 360.0;
        }
        if moved > 5e-4 || turned.abs() > 0.05 {
            changes.push(AssetChange {
                id: asset.id.clone(),
                from: before.position,
                to: asset.position,
                moved_m: moved,
                turned_deg: turned,
            });
        }
    }
    let describe = |layout: &PlantLayout| -> Vec<String> {
        ClearanceModel::new(layout)
            .check_all()
            .iter()
            .map(|v| v.describe(layout))
            .collect()
    };
    let (before, after) = (describe(baseline), describe(edited));
    LayoutDiff {
        violations_added: after
            .iter()
            .filter(|v| !before.contains(v))
            .cloned()
            .collect(),
        violations_removed: before
            .iter()
            .filter(|v| !after.contains(v))
            .cloned()
            .collect(),
        changes,
    }
}

impl LayoutDiff {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
            && self.violations_added.is_empty()
            && self.violations_removed.is_empty()
    }

    pub fn to_markdown(&self, baseline_name: &str) -> String {
        let mut text = format!("# Layout changes against {baseline_name}\n\n");
        if self.changes.is_empty() {
            text.push_str("No asset moved or turned.\n");
        } else {
            text.push_str("| asset | from (x, y) m | to (x, y) m | moved m | turned deg |\n|---|---|---|---|---|\n");
            for change in &self.changes {
                let [id, from_x, from_y, to_x, to_y, moved, turned] = change.fields();
                text.push_str(&format!(
                    "| {id} | {from_x}, {from_y} | {to_x}, {to_y} | {moved} | {turned} |\n"
                ));
            }
        }
        for (title, list) in [
            ("Clearance violations added", &self.violations_added),
            ("Clearance violations removed", &self.violations_removed),
        ] {
            text.push_str(&format!("\n## {title} ({})\n\n", list.len()));
            for line in list {
                text.push_str(&format!("- {line}\n"));
            }
        }
        text
    }

    pub fn to_csv(&self) -> String {
        let mut text =
            String::from("kind,asset,from_x_m,from_y_m,to_x_m,to_y_m,moved_m,turned_deg,detail\n");
        for change in &self.changes {
            text.push_str(&format!("moved,{},\n", change.fields().join(",")));
        }
        for (kind, list) in [
            ("violation_added", &self.violations_added),
            ("violation_removed", &self.violations_removed),
        ] {
            for line in list {
                let asset = line.split(' ').next().unwrap_or_default();
                text.push_str(&format!(
                    "{kind},{asset},,,,,,,\"{}\"\n",
                    line.replace('"', "\"\"")
                ));
            }
        }
        text
    }
}
