//! One entry point for every incoming message, whatever carried it (MQTT, the built-in
//! simulator, a replay): topic → binding → payload decoder → samples and problems.

use super::bindings::{Route, TopicResolver};
use super::json::{PayloadProblem, decode_json};
use super::market::{MarketFeed, MarketValue};
use super::sparkplug::{SparkplugState, SparkplugTopic};
use super::{DataProblem, IngestEvent, Liveness, ProblemKind, Sample, Topic};

/// Payloads above this are refused unread (the MQTT client accepts packets up to 1 MiB too).
pub const DEFAULT_MAX_PAYLOAD: usize = 1 << 20;

/// What one message produced.
#[derive(Debug, Default)]
pub struct Decoded {
    pub samples: Vec<Sample>,
    pub problems: Vec<PayloadProblem>,
    pub liveness: Vec<Liveness>,
    /// A Sparkplug rebirth request worth publishing, if commands are enabled.
    pub rebirth_request: Option<(String, Vec<u8>)>,
    /// What the traffic baseline found unusual in this message.
    pub security: Vec<super::traffic::SecurityEvent>,
    /// A price or carbon value from a feed the tariff names.
    pub market: Option<MarketValue>,
    /// The topics of the messages decoded so far, each kept once.
    topics: TopicNames,
}

/// Interned topic names: the events of a topic share one string, instead of a copy per message
/// allocated on the ingest thread and freed on the main one.
#[derive(Debug, Default)]
struct TopicNames(std::collections::HashSet<Topic>);

impl TopicNames {
    /// Beyond this many distinct topics (a misbehaving publisher inventing names), a topic
    /// gets its own copy per message instead of growing the set without bound.
    const MAX_TOPICS: usize = 1 << 17;

    fn get(&mut self, topic: &str) -> Topic {
        if let Some(name) = self.0.get(topic) {
            return name.clone();
        }
        let name = Topic::from(topic);
        if self.0.len() < Self::MAX_TOPICS {
            self.0.insert(name.clone());
        }
        name
    }
}

impl Decoded {
    pub fn clear(&mut self) {
        self.samples.clear();
        self.problems.clear();
        self.liveness.clear();
        self.rebirth_request = None;
        self.security.clear();
        self.market = None;
    }

    /// Turns the result into events for the world (samples first, then problems).
    pub fn drain_events(&mut self, topic: &str, received_ms: i64, events: &mut Vec<IngestEvent>) {
        let mut unused_message = self.samples.is_empty() && self.market.is_none();
        if let Some(value) = self.market.take() {
            events.push(IngestEvent::Market(value));
        }
        if !self.samples.is_empty() {
            events.push(IngestEvent::Samples {
                topic: self.topics.get(topic),
                received_ms,
                samples: self.samples.drain(..).collect(),
            });
        }
        for (kind, detail) in self.problems.drain(..) {
            events.push(IngestEvent::Problem(DataProblem {
                topic: topic.to_string(),
                kind,
                detail,
                unused_message,
            }));
            unused_message = false;
        }
        for liveness in self.liveness.drain(..) {
            events.push(IngestEvent::Liveness(liveness));
        }
        for event in self.security.drain(..) {
            events.push(IngestEvent::Security(event));
        }
    }
}

/// Decodes messages for one layout; keeps the Sparkplug session state between messages. Cloned
/// into replay checkpoints.
#[derive(Clone)]
pub struct Decoder {
    /// Shared between clones: it never changes after the layout is loaded.
    resolver: std::sync::Arc<TopicResolver>,
    sparkplug: SparkplugState,
    traffic: super::traffic::TrafficMonitor,
    max_payload: usize,
    /// Price and carbon topics (from the tariff), matched before the bindings.
    market: std::sync::Arc<Vec<MarketFeed>>,
}

impl Decoder {
    pub fn new(resolver: TopicResolver) -> Decoder {
        Decoder {
            resolver: std::sync::Arc::new(resolver),
            sparkplug: SparkplugState::default(),
            traffic: super::traffic::TrafficMonitor::default(),
            max_payload: DEFAULT_MAX_PAYLOAD,
            market: std::sync::Arc::default(),
        }
    }

    /// Also listens to these price and carbon feeds (the tariff's `live_price`/`live_co2`).
    pub fn with_market_feeds(mut self, feeds: Vec<MarketFeed>) -> Decoder {
        self.market = std::sync::Arc::new(feeds);
        self
    }

    /// Flags decoded values no sensor of their signal can read.
    fn check_plausible(&mut self, topic: &str, received_ms: i64, out: &mut Decoded) {
        for sample in &out.samples {
            if let Some(range) = self.resolver.plausible(sample.signal) {
                self.traffic.value(
                    topic,
                    (sample.signal.asset, sample.signal.signal),
                    sample.value,
                    range,
                    received_ms,
                    &mut out.security,
                );
            }
        }
    }

    pub fn resolver(&self) -> &TopicResolver {
        &self.resolver
    }

    /// MQTT filters to subscribe to: the bound topics and, with `sparkplug_group`, that group's
    /// Sparkplug B namespace (`+` for every group).
    pub fn subscriptions(&self, sparkplug_group: Option<&str>) -> Vec<String> {
        let mut filters = self.resolver.subscriptions();
        filters.extend(self.market.iter().map(|feed| feed.topic.clone()));
        if let Some(group) = sparkplug_group {
            filters.push(format!("{}/{group}/#", super::sparkplug::NAMESPACE));
        }
        filters
    }

    /// Decodes one message into `out` (cleared first). Never panics on any input.
    pub fn decode(&mut self, topic: &str, payload: &[u8], received_ms: i64, out: &mut Decoded) {
        out.clear();
        if payload.len() > self.max_payload {
            out.problems.push((
                ProblemKind::Oversized,
                format!("{} bytes, limit {}", payload.len(), self.max_payload),
            ));
            return;
        }
        if let Some(sparkplug_topic) = SparkplugTopic::parse(topic) {
            let effects = self.sparkplug.decode(
                &sparkplug_topic,
                payload,
                &self.resolver,
                received_ms,
                &mut out.samples,
                &mut out.problems,
            );
            out.liveness = effects.liveness;
            if let Some((command_topic, _)) = &effects.rebirth_request {
                self.traffic.expect_own_command(command_topic, received_ms);
            }
            out.rebirth_request = effects.rebirth_request;
            self.traffic.sparkplug(
                topic,
                sparkplug_topic.group,
                sparkplug_topic.node,
                out.samples
                    .first()
                    .map(|sample| (sample.signal.asset, u16::MAX - 1)),
                matches!(
                    sparkplug_topic.kind,
                    super::sparkplug::MessageType::NodeCommand
                        | super::sparkplug::MessageType::DeviceCommand
                ),
                (effects.seq_back, effects.birth_bd_seq),
                (received_ms, payload.len()),
                &mut out.security,
            );
            self.check_plausible(topic, received_ms, out);
            return;
        }
        if let Some(feed) = self.market.iter().find(|feed| feed.topic == topic) {
            match feed.decode(payload, received_ms) {
                Ok(value) => out.market = Some(value),
                Err(problem) => out.problems.push(problem),
            }
            return;
        }
        let route = self.resolver.resolve(topic);
        let key = match &route {
            Route::Value { signal, .. } => Some((signal.asset, signal.signal)),
            Route::Object { asset, .. } | Route::UnknownSignal { asset, .. } => {
                Some((*asset, u16::MAX))
            }
            Route::Unmapped => None,
        };
        self.traffic
            .uns(topic, key, (received_ms, payload.len()), &mut out.security);
        match &route {
            Route::Unmapped => out
                .problems
                .push((ProblemKind::Unmapped, "no binding matches".into())),
            Route::UnknownSignal { name, .. } => out
                .problems
                .push((ProblemKind::UnknownSignal, format!("no signal \"{name}\""))),
            _ => decode_json(
                payload,
                &route,
                &self.resolver,
                received_ms,
                &mut out.samples,
                &mut out.problems,
            ),
        }
        self.check_plausible(topic, received_ms, out);
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::layout::{DEMO_LAYOUT_PATH, DEMO_LAYOUT_TEXT, PlantLayout, parse_layout};
    use crate::telemetry::sparkplug::{
        MessageType, Payload, bd_seq_metric, double_metric, topic as sp_topic,
    };

    fn layout() -> PlantLayout {
        parse_layout(DEMO_LAYOUT_TEXT, std::path::Path::new(DEMO_LAYOUT_PATH)).expect("demo")
    }

    fn decoder() -> Decoder {
        Decoder::new(TopicResolver::from_layout(&layout()))
    }

    fn kinds(out: &Decoded) -> Vec<ProblemKind> {
        out.problems.iter().map(|p| p.0).collect()
    }

    #[test]
    fn oversized_and_unmapped_are_counted() {
        let mut decoder = decoder();
        let mut out = Decoded::default();
        decoder.decode("x/y", &vec![b'1'; DEFAULT_MAX_PAYLOAD + 1], 0, &mut out);
        assert_eq!(kinds(&out), [ProblemKind::Oversized]);
        decoder.decode("x/y", b"1", 0, &mut out);
        assert_eq!(kinds(&out), [ProblemKind::Unmapped]);
    }

    #[test]
    fn the_messages_of_a_topic_share_its_name_and_keep_their_own_samples() {
        let mut decoder = decoder();
        let mut out = Decoded::default();
        let mut events = vec![];
        let topic = "acme/plant1/utilities/pump-01/flow";
        for (value, received_ms) in [(b"41.5", 1_000), (b"42.5", 2_000)] {
            decoder.decode(topic, value, received_ms, &mut out);
            out.drain_events(topic, received_ms, &mut events);
        }
        match events.as_slice() {
            [
                IngestEvent::Samples {
                    topic: first,
                    samples: a,
                    ..
                },
                IngestEvent::Samples {
                    topic: second,
                    samples: b,
                    ..
                },
            ] => {
                assert_eq!(&**first, topic);
                assert!(std::sync::Arc::ptr_eq(first, second), "one string, shared");
                assert_eq!((a.len(), b.len()), (1, 1));
                assert_eq!((a[0].value, b[0].value), (41.5, 42.5));
                // One value fits the event itself: nothing to free on the main thread.
                assert!(!a.spilled() && !b.spilled());
            }
            other => panic!("expected two sample events, got {other:?}"),
        }
    }

    fn payload(seq: Option<u64>, metrics: Vec<crate::telemetry::sparkplug::Metric>) -> Vec<u8> {
        Payload {
            timestamp: Some(1_000),
            metrics,
            seq,
            ..Payload::default()
        }
        .encode_to_vec()
    }

    #[test]
    fn sparkplug_session_births_aliases_gaps_and_deaths() {
        let mut decoder = decoder();
        let mut out = Decoded::default();
        let layout = layout();
        let pump = layout
            .assets
            .iter()
            .position(|a| a.id == "pump-02")
            .expect("pump") as u32;
        let group = "plant1";

        // Data before any birth: applied as uncertain and flagged.
        let ddata = sp_topic(group, MessageType::DeviceData, "edge-1", Some("pump-02"));
        decoder.decode(
            &ddata,
            &payload(Some(5), vec![double_metric(Some("flow"), None, 20.0, 900)]),
            0,
            &mut out,
        );
        assert_eq!(out.samples.len(), 1);
        assert_eq!(out.samples[0].quality, crate::telemetry::Quality::Uncertain);
        assert!(kinds(&out).contains(&ProblemKind::Unborn));
        assert!(
            out.rebirth_request.is_some(),
            "a rebirth is worth asking for"
        );

        // Births: bdSeq 7, aliases 1 = flow, 2 = bearing/bearing_temp.
        let nbirth = sp_topic(group, MessageType::NodeBirth, "edge-1", None);
        decoder.decode(
            &nbirth,
            &payload(Some(0), vec![bd_seq_metric(7)]),
            0,
            &mut out,
        );
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let dbirth = sp_topic(group, MessageType::DeviceBirth, "edge-1", Some("pump-02"));
        decoder.decode(
            &dbirth,
            &payload(
                Some(1),
                vec![
                    double_metric(Some("flow"), Some(1), 21.0, 1_000),
                    double_metric(Some("bearing/bearing_temp"), Some(2), 40.0, 1_000),
                ],
            ),
            0,
            &mut out,
        );
        assert_eq!(out.samples.len(), 2);
        assert_eq!(out.liveness[0].assets, vec![pump]);
        assert!(out.liveness[0].alive);

        // DDATA by alias only, in sequence.
        decoder.decode(
            &ddata,
            &payload(Some(2), vec![double_metric(None, Some(2), 41.5, 1_100)]),
            0,
            &mut out,
        );
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(out.samples[0].value, 41.5);
        assert_eq!(out.samples[0].time_ms, 1_100);

        // A skipped seq is reported, the data still used; an unknown alias is reported.
        decoder.decode(
            &ddata,
            &payload(Some(4), vec![double_metric(None, Some(9), 1.0, 1_200)]),
            0,
            &mut out,
        );
        assert_eq!(
            kinds(&out),
            [ProblemKind::SeqGap, ProblemKind::UnknownAlias]
        );

        // A stale NDEATH (old bdSeq) is ignored; the matching one kills the node's assets.
        let ndeath = sp_topic(group, MessageType::NodeDeath, "edge-1", None);
        decoder.decode(&ndeath, &payload(None, vec![bd_seq_metric(6)]), 0, &mut out);
        assert!(out.liveness.is_empty());
        decoder.decode(&ndeath, &payload(None, vec![bd_seq_metric(7)]), 0, &mut out);
        assert_eq!(out.liveness.len(), 1);
        assert!(!out.liveness[0].alive);
        assert_eq!(out.liveness[0].assets, vec![pump]);
    }

    #[test]
    fn garbage_protobuf_is_malformed() {
        let mut decoder = decoder();
        let mut out = Decoded::default();
        let topic = sp_topic("g", MessageType::DeviceData, "n", Some("pump-02"));
        decoder.decode(
            &topic,
            b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
            0,
            &mut out,
        );
        assert_eq!(kinds(&out), [ProblemKind::Malformed]);
    }

    #[test]
    fn a_price_feed_is_subscribed_and_decoded_apart_from_the_assets() {
        let feed = MarketFeed {
            topic: "site/energy/spot".into(),
            kind: crate::telemetry::market::MarketKind::Price,
            to_per_kwh: 1e-3,
        };
        let mut decoder = decoder().with_market_feeds(vec![feed]);
        assert!(
            decoder
                .subscriptions(None)
                .contains(&"site/energy/spot".to_string())
        );
        let mut out = Decoded::default();
        decoder.decode("site/energy/spot", b"120", 5_000, &mut out);
        let mut events = vec![];
        out.drain_events("site/energy/spot", 5_000, &mut events);
        match events.as_slice() {
            [IngestEvent::Market(value)] => {
                assert_eq!(value.time_ms, 5_000);
                assert!((value.per_kwh - 0.12).abs() < 1e-12);
            }
            other => panic!("expected one market value, got {other:?}"),
        }
        decoder.decode("site/energy/spot", b"{\"price\": 1}", 5_000, &mut out);
        assert_eq!(kinds(&out), [ProblemKind::WrongType]);
        // Without the feed, the same topic is one no binding matches.
        decoder = self::decoder();
        decoder.decode("site/energy/spot", b"120", 5_000, &mut out);
        assert_eq!(kinds(&out), [ProblemKind::Unmapped]);
    }
}
