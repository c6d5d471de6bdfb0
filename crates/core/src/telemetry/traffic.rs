//! Who talks to the plant: a traffic baseline per publisher and the security events that
//! break it. Runs inside the [`Decoder`](super::decoder::Decoder), so live data, the simulator
//! and a replay of a recording raise the same events at the same (receive) times.
//!
//! A publisher is a Sparkplug B edge node (`group/node`) or, for UNS JSON, the asset a topic
//! maps to. Flagged:
//! - an edge node whose first messages feed nothing the layout knows, and a UNS topic that
//!   maps to no asset (a new publisher, or a known one writing where it should not);
//! - any command (NCMD, DCMD) written by anyone but this twin's own rebirth request;
//! - a Sparkplug sequence number that repeats or goes back (a replayed message; a forward
//!   jump is data loss, counted as a data problem, not an attack);
//! - two sessions claiming one edge node: births whose bdSeq goes back and forth;
//! - a message rate far above the publisher's learned normal (a flood), or a message far
//!   larger than any it sent while learning;
//! - a value no sensor of that signal can read (beyond its failure limits by their whole span
//!   again): forged data, not a failing machine.
//!
//! Work per message: one small map lookup (the topic's signal, or the edge node).

use std::collections::{HashMap, HashSet};

use serde::Serialize;

/// Seconds of a publisher's traffic learned before its rate is judged.
pub const RATE_LEARN_S: i64 = 60;
/// A one-second count this many times the learned busiest second is a flood...
pub const FLOOD_FACTOR: u32 = 10;
/// ...and at least this many messages more (a publisher learned at 1 message a second is
/// not flooding at 10).
const FLOOD_MARGIN: u32 = 20;
/// Messages without a single sample for the layout before an edge node counts as unknown (a
/// known node's NBIRTH feeds nothing; its DBIRTHs do).
const UNKNOWN_AFTER_MESSAGES: u32 = 3;
/// A flooding publisher is reported again only after this long.
const REPEAT_MS: i64 = 60_000;

/// What was unusual.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityKind {
    UnknownPublisher,
    CommandWritten,
    SequenceReplayed,
    SessionConflict,
    RateFlood,
    OversizedForPublisher,
    ImplausibleValue,
}

impl SecurityKind {
    pub fn label(self) -> &'static str {
        match self {
            SecurityKind::UnknownPublisher => "unknown publisher",
            SecurityKind::CommandWritten => "command written",
            SecurityKind::SequenceReplayed => "sequence replayed",
            SecurityKind::SessionConflict => "two sessions for one node",
            SecurityKind::RateFlood => "message flood",
            SecurityKind::OversizedForPublisher => "unusual message size",
            SecurityKind::ImplausibleValue => "implausible value",
        }
    }
}

/// One security event: when, who, what, and what normal is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecurityEvent {
    pub time_ms: i64,
    pub kind: SecurityKind,
    /// The publisher: `spBv1.0 plant1/edge-7` or a topic.
    pub source: String,
    /// What was seen, against what is normal.
    pub detail: String,
}

/// One publisher's message rate: the current one-second window and what was learned.
#[derive(Debug, Clone, Default)]
struct Rate {
    first_ms: Option<i64>,
    window_start_ms: i64,
    count: u32,
    /// Busiest second while learning.
    learned_max: u32,
    learned: bool,
    last_reported_ms: Option<i64>,
    /// Largest payload while learning, bytes.
    largest: u32,
    size_reported_ms: Option<i64>,
}

impl Rate {
    /// Counts a message; Some((count, learned max)) when this second is a flood.
    fn count(&mut self, received_ms: i64) -> Option<(u32, u32)> {
        let first = *self.first_ms.get_or_insert(received_ms);
        if received_ms - self.window_start_ms >= 1000 || received_ms < self.window_start_ms {
            if !self.learned {
                self.learned_max = self.learned_max.max(self.count);
            }
            self.window_start_ms = received_ms;
            self.count = 0;
            if received_ms - first >= RATE_LEARN_S * 1000 {
                self.learned = true;
            }
        }
        self.count += 1;
        let limit = (self.learned_max * FLOOD_FACTOR).max(self.learned_max + FLOOD_MARGIN);
        let flooding = self.learned && self.count > limit;
        let quiet = self
            .last_reported_ms
            .is_none_or(|last| received_ms - last >= REPEAT_MS);
        (flooding && quiet).then(|| {
            self.last_reported_ms = Some(received_ms);
            (self.count, self.learned_max)
        })
    }

    /// Notes a payload's size; Some((bytes, learned largest)) when it is far beyond it.
    fn size(&mut self, received_ms: i64, bytes: usize) -> Option<(u32, u32)> {
        let bytes = u32::try_from(bytes).unwrap_or(u32::MAX);
        if !self.learned {
            self.largest = self.largest.max(bytes);
            return None;
        }
        let limit = self
            .largest
            .saturating_mul(FLOOD_FACTOR)
            .max(self.largest.saturating_add(4096));
        let quiet = self
            .size_reported_ms
            .is_none_or(|last| received_ms - last >= REPEAT_MS);
        (bytes > limit && quiet).then(|| {
            self.size_reported_ms = Some(received_ms);
            (bytes, self.largest)
        })
    }
}

/// An edge node as the monitor sees it.
#[derive(Debug, Clone, Default)]
struct Node {
    /// Some message of the node fed the layout.
    mapped: bool,
    unmapped_messages: u32,
    reported_unknown: bool,
    rate: Rate,
    /// The bdSeq of the last two births (newest first): a birth going back to the one before
    /// last is a second session claiming the node.
    births: [Option<u64>; 2],
}

/// The traffic baseline of one plant.
#[derive(Debug, Clone, Default)]
pub struct TrafficMonitor {
    /// Per publisher topic, by what it maps to: (asset, signal); (asset, u16::MAX) for a UNS
    /// topic carrying an object of the asset's signals; (asset, u16::MAX - 1) for a
    /// Sparkplug device.
    topics: HashMap<(u32, u16), Rate>,
    nodes: HashMap<String, Node>,
    /// Unmapped UNS topic prefixes already reported.
    unknown_topics: HashSet<String>,
    /// When each signal last had an implausible value reported.
    implausible: HashMap<(u32, u16), i64>,
    /// The command topic of this twin's own last rebirth request: its echo is not an attack.
    own_command: Option<(String, i64)>,
}

impl TrafficMonitor {
    /// Notes a rebirth request this twin may send on `topic` (its echo is then expected).
    pub fn expect_own_command(&mut self, topic: &str, received_ms: i64) {
        self.own_command = Some((topic.to_string(), received_ms));
    }

    /// A UNS message: `key` what its topic maps to, (asset, signal) or (asset, u16::MAX) for
    /// an object of signals; None: unmapped.
    pub fn uns(
        &mut self,
        topic: &str,
        key: Option<(u32, u16)>,
        (received_ms, bytes): (i64, usize),
        out: &mut Vec<SecurityEvent>,
    ) {
        let Some(key) = key else {
            // The publisher: the topic up to its fourth level (enterprise/site/area/asset).
            let prefix: String = topic.split('/').take(4).collect::<Vec<_>>().join("/");
            if self.unknown_topics.len() < 10_000 && self.unknown_topics.insert(prefix.clone()) {
                out.push(SecurityEvent {
                    time_ms: received_ms,
                    kind: SecurityKind::UnknownPublisher,
                    source: prefix,
                    detail: format!("{topic}: no asset of the layout publishes here"),
                });
            }
            return;
        };
        // Bounded by the layout's signals: keys come from the resolver, not from the topic.
        let rate = self.topics.entry(key).or_default();
        if let Some((count, normal)) = rate.count(received_ms) {
            out.push(flood(received_ms, topic.to_string(), count, normal));
        }
        if let Some((bytes, largest)) = rate.size(received_ms, bytes) {
            out.push(oversized(received_ms, topic.to_string(), bytes, largest));
        }
    }

    /// A decoded value of `signal` outside `plausible` (what any sensor of it can read).
    pub fn value(
        &mut self,
        topic: &str,
        signal: (u32, u16),
        value: f64,
        plausible: (f64, f64),
        received_ms: i64,
        out: &mut Vec<SecurityEvent>,
    ) {
        if (plausible.0..=plausible.1).contains(&value) {
            return;
        }
        let last = self.implausible.entry(signal).or_insert(i64::MIN);
        if received_ms.saturating_sub(*last) >= REPEAT_MS {
            *last = received_ms;
            out.push(SecurityEvent {
                time_ms: received_ms,
                kind: SecurityKind::ImplausibleValue,
                source: topic.to_string(),
                detail: format!(
                    "{value} where no sensor of the signal reads outside {} to {}",
                    plausible.0, plausible.1
                ),
            });
        }
    }

    /// A Sparkplug B message of edge node `node` in `group`. `fed`: the asset it fed (its
    /// rate key), None if it produced no samples;
    /// `command` that it was an NCMD or DCMD; `seq_back` a sequence number that repeated or
    /// went back, as (seq, expected); `birth_bd_seq` an NBIRTH's bdSeq.
    #[allow(clippy::too_many_arguments)]
    pub fn sparkplug(
        &mut self,
        topic: &str,
        group: &str,
        node: &str,
        fed: Option<(u32, u16)>,
        command: bool,
        (seq_back, birth_bd_seq): (Option<(u64, u64)>, Option<u64>),
        (received_ms, bytes): (i64, usize),
        out: &mut Vec<SecurityEvent>,
    ) {
        if command {
            let own = self.own_command.as_ref().is_some_and(|(own, at)| {
                own == topic && received_ms - at <= 5_000 && received_ms >= *at
            });
            if own {
                self.own_command = None;
            } else {
                out.push(SecurityEvent {
                    time_ms: received_ms,
                    kind: SecurityKind::CommandWritten,
                    source: topic.to_string(),
                    detail: "a command to the plant, not sent by this twin (the twin only listens unless --enable-commands)".into(),
                });
            }
            return;
        }
        // Keyed by node name (unique across a plant's groups in practice): no allocation per
        // message. Bounded: made-up node names cannot grow the map without end.
        if !self.nodes.contains_key(node) {
            if self.nodes.len() >= 10_000 {
                return;
            }
            self.nodes.insert(node.to_string(), Node::default());
        }
        let Some(entry) = self.nodes.get_mut(node) else {
            return;
        };
        if fed.is_some() {
            entry.mapped = true;
        } else if !entry.mapped {
            entry.unmapped_messages += 1;
            if entry.unmapped_messages >= UNKNOWN_AFTER_MESSAGES && !entry.reported_unknown {
                entry.reported_unknown = true;
                out.push(SecurityEvent {
                    time_ms: received_ms,
                    kind: SecurityKind::UnknownPublisher,
                    source: format!("spBv1.0 {group}/{node}"),
                    detail: format!(
                        "edge node sent {} messages, none for an asset of the layout",
                        entry.unmapped_messages
                    ),
                });
            }
        }
        if let Some(bd_seq) = birth_bd_seq {
            let [latest, before] = entry.births;
            if before == Some(bd_seq) && latest != Some(bd_seq) {
                out.push(SecurityEvent {
                    time_ms: received_ms,
                    kind: SecurityKind::SessionConflict,
                    source: format!("spBv1.0 {group}/{node}"),
                    detail: format!(
                        "birth with bdSeq {bd_seq} after {}: two sessions claim the node",
                        latest.unwrap_or_default()
                    ),
                });
            }
            if latest != Some(bd_seq) {
                entry.births = [Some(bd_seq), latest];
            }
        }
        if let Some((seq, expected)) = seq_back {
            out.push(SecurityEvent {
                time_ms: received_ms,
                kind: SecurityKind::SequenceReplayed,
                source: topic.to_string(),
                detail: format!("seq {seq} again or back, {expected} was due: a replayed message?"),
            });
        }
        // A device's data is rated per device (a flood of one device hides in its node's
        // total); the node's own messages per node.
        let (rate, source) = match fed {
            Some(key) => (self.topics.entry(key).or_default(), None),
            None => (&mut entry.rate, Some(format!("spBv1.0 {group}/{node}"))),
        };
        let source = || source.clone().unwrap_or_else(|| topic.to_string());
        if let Some((count, normal)) = rate.count(received_ms) {
            out.push(flood(received_ms, source(), count, normal));
        }
        if let Some((bytes, largest)) = rate.size(received_ms, bytes) {
            out.push(oversized(received_ms, source(), bytes, largest));
        }
    }
}

fn oversized(time_ms: i64, source: String, bytes: u32, largest: u32) -> SecurityEvent {
    SecurityEvent {
        time_ms,
        kind: SecurityKind::OversizedForPublisher,
        source,
        detail: format!("a {bytes}-byte message, at most {largest} bytes while learning"),
    }
}

fn flood(time_ms: i64, source: String, count: u32, normal: u32) -> SecurityEvent {
    SecurityEvent {
        time_ms,
        kind: SecurityKind::RateFlood,
        source,
        detail: format!("{count} messages in a second, at most {normal} while learning"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_publisher_is_quiet_and_a_flood_is_flagged_once() {
        let mut monitor = TrafficMonitor::default();
        let mut out = vec![];
        // Two messages a second for two minutes: nothing.
        for i in 0..240 {
            monitor.uns("a/b/c/pump/flow", Some((3, 0)), (i * 500, 20), &mut out);
        }
        assert!(out.is_empty(), "{out:?}");
        // Then 100 in one second.
        for i in 0..100 {
            monitor.uns(
                "a/b/c/pump/flow",
                Some((3, 0)),
                (121_000 + i * 10, 20),
                &mut out,
            );
        }
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].kind, SecurityKind::RateFlood);
        assert!(out[0].detail.contains("at most 2"), "{out:?}");
        // A 100 kB message where 20 bytes were usual.
        monitor.uns(
            "a/b/c/pump/flow",
            Some((3, 0)),
            (200_000, 100_000),
            &mut out,
        );
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[1].kind, SecurityKind::OversizedForPublisher);
        // A value no sensor reads, reported once a minute at most.
        for t in [0, 1_000, 61_000] {
            monitor.value(
                "a/b/c/pump/temp",
                (3, 1),
                -400.0,
                (-85.0, 170.0),
                t,
                &mut out,
            );
        }
        assert_eq!(out.len(), 4, "{out:?}");
        assert_eq!(out[3].kind, SecurityKind::ImplausibleValue);
    }

    #[test]
    fn unknown_nodes_commands_and_replays_are_flagged_and_the_own_echo_is_not() {
        let mut monitor = TrafficMonitor::default();
        let mut out = vec![];
        // A known node: NBIRTH feeds nothing, its DBIRTH does.
        monitor.sparkplug(
            "t",
            "g",
            "known",
            None,
            false,
            (None, None),
            (0, 20),
            &mut out,
        );
        for t in 1..10 {
            monitor.sparkplug(
                "t",
                "g",
                "known",
                Some((1, u16::MAX - 1)),
                false,
                (None, None),
                (t * 1000, 20),
                &mut out,
            );
        }
        assert!(out.is_empty(), "{out:?}");
        for t in 0..3 {
            monitor.sparkplug(
                "t",
                "g",
                "rogue",
                None,
                false,
                (None, None),
                (t * 1000, 20),
                &mut out,
            );
        }
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, SecurityKind::UnknownPublisher);
        monitor.expect_own_command("spBv1.0/g/NCMD/known", 5_000);
        monitor.sparkplug(
            "spBv1.0/g/NCMD/known",
            "g",
            "known",
            None,
            true,
            (None, None),
            (5_100, 20),
            &mut out,
        );
        assert_eq!(out.len(), 1, "the twin's own rebirth request: {out:?}");
        monitor.sparkplug(
            "spBv1.0/g/NCMD/known",
            "g",
            "known",
            None,
            true,
            (None, None),
            (6_000, 20),
            &mut out,
        );
        monitor.sparkplug(
            "t",
            "g",
            "known",
            Some((1, u16::MAX - 1)),
            false,
            (Some((7, 9)), None),
            (7_000, 20),
            &mut out,
        );
        let kinds: Vec<SecurityKind> = out.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                SecurityKind::UnknownPublisher,
                SecurityKind::CommandWritten,
                SecurityKind::SequenceReplayed
            ]
        );
    }

    #[test]
    fn births_whose_bd_seq_goes_back_and_forth_are_two_sessions() {
        let mut monitor = TrafficMonitor::default();
        let mut out = vec![];
        let birth = |monitor: &mut TrafficMonitor, bd_seq, t, out: &mut Vec<SecurityEvent>| {
            monitor.sparkplug(
                "t",
                "g",
                "n",
                None,
                false,
                (None, Some(bd_seq)),
                (t, 20),
                out,
            );
        };
        // A known node (its devices feed the layout) restarting in order: 0, 1, 2; then a
        // second session goes back to 1.
        let key = Some((1, u16::MAX - 1));
        monitor.sparkplug("t", "g", "n", key, false, (None, None), (0, 20), &mut out);
        for (t, bd_seq) in [0u64, 1, 2].into_iter().enumerate() {
            birth(&mut monitor, bd_seq, t as i64, &mut out);
        }
        assert!(out.is_empty(), "{out:?}");
        birth(&mut monitor, 1, 10, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].kind, SecurityKind::SessionConflict);
    }

    #[test]
    fn an_unmapped_uns_topic_is_reported_once_per_publisher() {
        let mut monitor = TrafficMonitor::default();
        let mut out = vec![];
        monitor.uns("acme/plant1/line2/nobody/x", None, (0, 10), &mut out);
        monitor.uns("acme/plant1/line2/nobody/y", None, (10, 10), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].source, "acme/plant1/line2/nobody");
    }
}
