//! One alarm's state machine, after ISA-18.2: a condition becomes active only after it has held
//! for the on-delay, clears only after it has stayed below the threshold minus the deadband for
//! the off-delay (so a score hovering at a threshold does not chatter), must be acknowledged,
//! and can be shelved for a while. Times are seconds of source time, so replays behave the same.

use serde::{Deserialize, Serialize};

/// How bad an active alarm is; ISA-18.2 calls this its priority.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Not active.
    #[default]
    Normal,
    /// Amber: off normal, look soon.
    Warning,
    /// Red: act now.
    Alarm,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Normal => "normal",
            Severity::Warning => "warning",
            Severity::Alarm => "alarm",
        }
    }
}

/// Thresholds and delays of every alarm (scores are in [0, 1]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AlarmConfig {
    pub warning: f64,
    pub alarm: f64,
    /// A condition clears below its threshold minus this.
    pub deadband: f64,
    /// A condition must hold this long before it is annunciated.
    pub on_delay_s: f64,
    /// A cleared condition must stay clear this long before the alarm returns to normal.
    pub off_delay_s: f64,
}

impl Default for AlarmConfig {
    fn default() -> Self {
        AlarmConfig {
            warning: 0.5,
            alarm: 0.75,
            deadband: 0.05,
            on_delay_s: 5.0,
            off_delay_s: 10.0,
        }
    }
}

/// What changed, for the alarm history and the event stream.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum AlarmChange {
    /// Became active (or more severe) and needs acknowledging.
    Raised {
        severity: Severity,
    },
    /// Less severe but still active.
    Eased {
        severity: Severity,
    },
    /// The condition is gone.
    Cleared,
    Acknowledged {
        by: String,
    },
    Shelved {
        until_s: f64,
        by: String,
    },
    /// The shelf time ran out or a user took it off the shelf.
    Unshelved,
}

/// The state the alarm list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Annunciation {
    Normal,
    /// Active and not acknowledged: stands out (pulses in the scene).
    Unacknowledged,
    Acknowledged,
    /// The condition cleared before anyone acknowledged it; stays listed until acknowledged.
    ReturnedUnacknowledged,
    Shelved,
}

/// One alarm (an asset or one of its components).
#[derive(Debug, Clone, Default)]
pub struct AlarmMachine {
    /// The debounced condition.
    pub severity: Severity,
    /// A different condition waiting out its delay: (severity, since).
    pending: Option<(Severity, f64)>,
    /// The severity that was last acknowledged, while the alarm has not returned to normal.
    acknowledged: Option<Severity>,
    /// An alarm that cleared unacknowledged stays listed (ISA-18.2 state D).
    returned_unacknowledged: bool,
    pub acknowledged_by: Option<(String, f64)>,
    pub shelved_until_s: Option<f64>,
    /// When the current episode was raised.
    pub raised_at_s: Option<f64>,
    /// When the current severity was reached: an escalation from warning to alarm moves it,
    /// while `raised_at_s` keeps the start of the episode. `None` when normal.
    pub severity_since_s: Option<f64>,
    /// When the state last changed.
    pub changed_at_s: f64,
}

impl AlarmMachine {
    pub fn annunciation(&self) -> Annunciation {
        if self.shelved_until_s.is_some() {
            Annunciation::Shelved
        } else if self.severity == Severity::Normal {
            if self.returned_unacknowledged {
                Annunciation::ReturnedUnacknowledged
            } else {
                Annunciation::Normal
            }
        } else if self.acknowledged >= Some(self.severity) {
            Annunciation::Acknowledged
        } else {
            Annunciation::Unacknowledged
        }
    }

    /// Needs a person: active or returned, and not acknowledged, and not shelved.
    pub fn unacknowledged(&self) -> bool {
        matches!(
            self.annunciation(),
            Annunciation::Unacknowledged | Annunciation::ReturnedUnacknowledged
        )
    }

    /// Feeds the latest score at `now_s`; returns what changed, if anything.
    pub fn update(&mut self, config: &AlarmConfig, now_s: f64, score: f64) -> Option<AlarmChange> {
        if let Some(until) = self.shelved_until_s
            && now_s >= until
        {
            self.shelved_until_s = None;
            self.changed_at_s = now_s;
            return Some(AlarmChange::Unshelved);
        }
        let target = self.target(config, score);
        if target == self.severity {
            self.pending = None;
            return None;
        }
        let since = match self.pending {
            Some((pending, since)) if pending == target => since,
            _ => {
                self.pending = Some((target, now_s));
                now_s
            }
        };
        let delay = if target > self.severity {
            config.on_delay_s
        } else {
            config.off_delay_s
        };
        if now_s - since < delay {
            return None;
        }
        self.pending = None;
        let previous = self.severity;
        self.severity = target;
        self.changed_at_s = now_s;
        self.severity_since_s = (target != Severity::Normal).then_some(now_s);
        if target > previous {
            if previous == Severity::Normal {
                self.raised_at_s = Some(now_s);
                self.returned_unacknowledged = false;
                self.acknowledged = None;
                self.acknowledged_by = None;
            }
            Some(AlarmChange::Raised { severity: target })
        } else if target == Severity::Normal {
            self.returned_unacknowledged = self.acknowledged < Some(previous);
            self.acknowledged = None;
            if !self.returned_unacknowledged {
                self.raised_at_s = None;
            }
            Some(AlarmChange::Cleared)
        } else {
            Some(AlarmChange::Eased { severity: target })
        }
    }

    /// The severity the score asks for, with the deadband around the current one.
    fn target(&self, config: &AlarmConfig, score: f64) -> Severity {
        let keep = |threshold: f64, level: Severity| {
            if self.severity >= level {
                threshold - config.deadband
            } else {
                threshold
            }
        };
        if score >= keep(config.alarm, Severity::Alarm) {
            Severity::Alarm
        } else if score >= keep(config.warning, Severity::Warning) {
            Severity::Warning
        } else {
            Severity::Normal
        }
    }

    /// A person acknowledged the alarm. Returns None when there was nothing to acknowledge.
    pub fn acknowledge(&mut self, now_s: f64, by: &str) -> Option<AlarmChange> {
        if !self.unacknowledged() {
            return None;
        }
        self.acknowledged_by = Some((by.to_string(), now_s));
        self.changed_at_s = now_s;
        if self.severity == Severity::Normal {
            self.returned_unacknowledged = false;
            self.raised_at_s = None;
        } else {
            self.acknowledged = Some(self.severity);
        }
        Some(AlarmChange::Acknowledged { by: by.to_string() })
    }

    /// Hides the alarm from the list until `now_s + duration_s`; the condition keeps being
    /// tracked and is annunciated again when the shelf time runs out, if still active.
    pub fn shelve(&mut self, now_s: f64, duration_s: f64, by: &str) -> AlarmChange {
        let until_s = now_s + duration_s.max(0.0);
        self.shelved_until_s = Some(until_s);
        self.changed_at_s = now_s;
        AlarmChange::Shelved {
            until_s,
            by: by.to_string(),
        }
    }

    pub fn unshelve(&mut self, now_s: f64) -> Option<AlarmChange> {
        self.shelved_until_s.take()?;
        self.changed_at_s = now_s;
        Some(AlarmChange::Unshelved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(machine: &mut AlarmMachine, scores: &[(f64, f64)]) -> Vec<(f64, AlarmChange)> {
        let config = AlarmConfig::default();
        scores
            .iter()
            .filter_map(|&(t, score)| machine.update(&config, t, score).map(|c| (t, c)))
            .collect()
    }

    #[test]
    fn raises_after_the_on_delay_and_clears_after_the_off_delay() {
        let mut alarm = AlarmMachine::default();
        let scores: Vec<_> = (0..40)
            .map(|t| (t as f64, if (5..20).contains(&t) { 0.9 } else { 0.1 }))
            .collect();
        let changes = run(&mut alarm, &scores);
        assert_eq!(
            changes,
            vec![
                (
                    10.0,
                    AlarmChange::Raised {
                        severity: Severity::Alarm
                    }
                ),
                (30.0, AlarmChange::Cleared),
            ]
        );
        // Nobody acknowledged: it stays listed.
        assert_eq!(alarm.annunciation(), Annunciation::ReturnedUnacknowledged);
        assert!(alarm.acknowledge(31.0, "ana").is_some());
        assert_eq!(alarm.annunciation(), Annunciation::Normal);
    }

    #[test]
    fn a_score_hovering_at_the_threshold_does_not_chatter() {
        let mut alarm = AlarmMachine::default();
        // Up to 0.77 and down to 0.72 every second, for ten minutes: inside the deadband.
        let mut scores: Vec<_> = (0..10).map(|t| (t as f64, 0.8)).collect();
        scores.extend((10..600).map(|t| (t as f64, if t % 2 == 0 { 0.77 } else { 0.72 })));
        let changes = run(&mut alarm, &scores);
        assert_eq!(
            changes,
            vec![(
                5.0,
                AlarmChange::Raised {
                    severity: Severity::Alarm
                }
            )]
        );
        // Short excursions above the threshold never raise anything.
        let mut quiet = AlarmMachine::default();
        let spikes: Vec<_> = (0..600)
            .map(|t| (t as f64, if t % 4 == 0 { 0.95 } else { 0.3 }))
            .collect();
        assert!(run(&mut quiet, &spikes).is_empty());
    }

    #[test]
    fn escalation_needs_a_new_acknowledgement() {
        let mut alarm = AlarmMachine::default();
        let mut scores: Vec<_> = (0..10).map(|t| (t as f64, 0.6)).collect();
        run(&mut alarm, &scores);
        assert_eq!(alarm.severity, Severity::Warning);
        alarm.acknowledge(10.0, "ana");
        assert_eq!(alarm.annunciation(), Annunciation::Acknowledged);
        assert_eq!(alarm.acknowledged_by, Some(("ana".to_string(), 10.0)));
        scores = (10..20).map(|t| (t as f64, 0.9)).collect();
        let changes = run(&mut alarm, &scores);
        assert_eq!(
            changes,
            vec![(
                15.0,
                AlarmChange::Raised {
                    severity: Severity::Alarm
                }
            )]
        );
        assert_eq!(alarm.annunciation(), Annunciation::Unacknowledged);
        // The alarm has its own time; the episode keeps the warning's.
        assert_eq!(
            (alarm.raised_at_s, alarm.severity_since_s),
            (Some(5.0), Some(15.0))
        );
        // Easing back to a warning keeps the acknowledgement of the worse state.
        alarm.acknowledge(20.0, "bo");
        let changes = run(
            &mut alarm,
            &(20..40).map(|t| (t as f64, 0.6)).collect::<Vec<_>>(),
        );
        assert_eq!(
            changes,
            vec![(
                30.0,
                AlarmChange::Eased {
                    severity: Severity::Warning
                }
            )]
        );
        assert_eq!(alarm.annunciation(), Annunciation::Acknowledged);
    }

    #[test]
    fn shelving_hides_until_it_expires() {
        let mut alarm = AlarmMachine::default();
        run(
            &mut alarm,
            &(0..10).map(|t| (t as f64, 0.9)).collect::<Vec<_>>(),
        );
        assert!(alarm.unacknowledged());
        alarm.shelve(10.0, 60.0, "ana");
        assert_eq!(alarm.annunciation(), Annunciation::Shelved);
        assert!(!alarm.unacknowledged());
        let changes = run(
            &mut alarm,
            &(10..80).map(|t| (t as f64, 0.9)).collect::<Vec<_>>(),
        );
        assert_eq!(changes, vec![(70.0, AlarmChange::Unshelved)]);
        // Still active and never acknowledged: it is back on the list.
        assert_eq!(alarm.annunciation(), Annunciation::Unacknowledged);
    }

    #[test]
    fn acknowledging_an_acknowledged_alarm_does_nothing() {
        let mut alarm = AlarmMachine::default();
        assert!(alarm.acknowledge(0.0, "ana").is_none());
        run(
            &mut alarm,
            &(0..10).map(|t| (t as f64, 0.9)).collect::<Vec<_>>(),
        );
        assert!(alarm.acknowledge(10.0, "ana").is_some());
        assert!(alarm.acknowledge(11.0, "bo").is_none());
        assert_eq!(alarm.acknowledged_by, Some(("ana".to_string(), 10.0)));
    }
}
