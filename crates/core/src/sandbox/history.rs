//! Undo and redo for layout edits: a stack of commands, each holding where the assets were and
//! where they went, so undoing is setting the old placements back. No Bevy here.

/// Where an asset stands: plan position (metres) and rotation (degrees, counter-clockwise).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub position: (f32, f32),
    pub rotation_deg: f32,
}

/// One user action: a drag, a rotation, a nudge or a typed edit, of one or more assets.
#[derive(Debug, Clone, PartialEq)]
pub struct EditCommand {
    /// What the user did, for the Edit menu ("Undo move of press-201").
    pub label: String,
    /// (asset position in the layout, before, after).
    pub changes: Vec<(usize, Placement, Placement)>,
}

impl EditCommand {
    /// `None` when nothing actually moved.
    pub fn new(
        label: impl Into<String>,
        changes: Vec<(usize, Placement, Placement)>,
    ) -> Option<EditCommand> {
        let changes: Vec<_> = changes
            .into_iter()
            .filter(|(_, from, to)| from != to)
            .collect();
        (!changes.is_empty()).then(|| EditCommand {
            label: label.into(),
            changes,
        })
    }
}

#[derive(Debug, Default, Clone)]
pub struct History {
    undo: Vec<EditCommand>,
    redo: Vec<EditCommand>,
}

impl History {
    /// Records a command that has been applied; a new edit forgets what could be redone.
    pub fn push(&mut self, command: EditCommand) {
        self.undo.push(command);
        self.redo.clear();
    }

    /// The placements to apply to undo the last command.
    pub fn undo(&mut self) -> Option<Vec<(usize, Placement)>> {
        let command = self.undo.pop()?;
        let placements = command
            .changes
            .iter()
            .map(|(a, from, _)| (*a, *from))
            .collect();
        self.redo.push(command);
        Some(placements)
    }

    /// The placements to apply to redo the last undone command.
    pub fn redo(&mut self) -> Option<Vec<(usize, Placement)>> {
        let command = self.redo.pop()?;
        let placements = command.changes.iter().map(|(a, _, to)| (*a, *to)).collect();
        self.undo.push(command);
        Some(placements)
    }

    pub fn undo_label(&self) -> Option<&str> {
        self.undo.last().map(|c| c.label.as_str())
    }

    pub fn redo_label(&self) -> Option<&str> {
        self.redo.last().map(|c| c.label.as_str())
    }

    pub fn clear(&mut self) {
        self.undo.clear();
        self.redo.clear();
    }
}

/// Rounds a plan position to a grid of `step` metres (no snapping when `step` is 0).
pub fn snap(position: (f32, f32), step: f32) -> (f32, f32) {
    if step <= 0.0 {
        return position;
    }
    (
        (position.0 / step).round() * step,
        (position.1 / step).round() * step,
    )
}

/// An angle in degrees brought into `[0, 360)`.
pub fn normalise_deg(angle: f32) -> f32 {
    let wrapped = angle.rem_euclid(360.0);
    // rem_euclid can return 360.0 for tiny negative inputs.
    if wrapped >= 360.0 { 0.0 } else { wrapped }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(x: f32) -> Placement {
        Placement {
            position: (x, 0.0),
            rotation_deg: 0.0,
        }
    }

    #[test]
    fn undo_redo_sequences() {
        let mut history = History::default();
        assert!(history.undo().is_none());
        history.push(EditCommand::new("move a", vec![(0, at(1.0), at(2.0))]).expect("moved"));
        history.push(EditCommand::new("move a", vec![(0, at(2.0), at(3.0))]).expect("moved"));
        assert_eq!(history.undo(), Some(vec![(0, at(2.0))]));
        assert_eq!(history.undo(), Some(vec![(0, at(1.0))]));
        assert_eq!(history.undo(), None);
        assert_eq!(history.redo(), Some(vec![(0, at(2.0))]));
        // A new edit drops the redo branch.
        history.push(EditCommand::new("move b", vec![(1, at(0.0), at(5.0))]).expect("moved"));
        assert_eq!(history.redo(), None);
        assert_eq!(history.undo_label(), Some("move b"));
    }

    #[test]
    fn no_op_edits_are_not_commands() {
        assert!(EditCommand::new("nothing", vec![(0, at(1.0), at(1.0))]).is_none());
    }

    #[test]
    fn snapping_and_angles() {
        assert_eq!(snap((1.26, -0.74), 0.5), (1.5, -0.5));
        assert_eq!(snap((1.26, 2.0), 0.0), (1.26, 2.0));
        assert_eq!(normalise_deg(-15.0), 345.0);
        assert_eq!(normalise_deg(375.0), 15.0);
    }
}
