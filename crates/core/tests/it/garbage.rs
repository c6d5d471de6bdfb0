//! Property test: the decoders take any bytes on any topic without panicking, and every message
//! is accounted for (samples or a counted problem). Inputs are random bytes and random
//! mutations of valid JSON and Sparkplug payloads, from a fixed seed.

use plant_twin_core::layout::{DEMO_LAYOUT_PATH, DEMO_LAYOUT_TEXT, parse_layout};
use plant_twin_core::sim::{SimConfig, SimFormat, Simulator};
use plant_twin_core::telemetry::bindings::TopicResolver;
use plant_twin_core::telemetry::decoder::{Decoded, Decoder};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    for _ in 0..=rng.below(4) {
        match rng.below(5) {
            0 if !bytes.is_empty() => {
                let at = rng.below(bytes.len());
                bytes[at] ^= 1 << rng.below(8);
            }
            1 if !bytes.is_empty() => bytes.truncate(rng.below(bytes.len())),
            2 => {
                let at = rng.below(bytes.len() + 1);
                bytes.insert(at, rng.next() as u8);
            }
            3 if !bytes.is_empty() => {
                let at = rng.below(bytes.len());
                bytes.remove(at);
            }
            _ => {
                let at = rng.below(bytes.len() + 1);
                let junk: Vec<u8> = (0..rng.below(16)).map(|_| rng.next() as u8).collect();
                bytes.splice(at..at, junk);
            }
        }
    }
    bytes
}

#[test]
fn decoders_survive_garbage_and_count_it() {
    let layout = parse_layout(DEMO_LAYOUT_TEXT, std::path::Path::new(DEMO_LAYOUT_PATH))
        .expect("demo layout");
    let mut corpus: Vec<(String, Vec<u8>)> = vec![];
    for format in [SimFormat::Json, SimFormat::Sparkplug] {
        let mut sim = Simulator::new(
            &layout,
            SimConfig {
                format,
                ..SimConfig::default()
            },
        );
        let mut messages = vec![];
        for t in 0..3 {
            sim.messages(t as f64, 1_000 * t, &mut messages);
            corpus.append(&mut messages);
        }
    }
    corpus.push((
        "acme/plant1/line1/cnc-101".into(),
        br#"{"spindle_power": 1}"#.to_vec(),
    ));

    let mut decoder = Decoder::new(TopicResolver::from_layout(&layout));
    let mut decoded = Decoded::default();
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let (mut with_samples, mut with_problems) = (0, 0);
    for round in 0..20_000 {
        let (topic, payload) = &corpus[rng.below(corpus.len())];
        let payload = match round % 3 {
            0 => mutate(&mut rng, payload.clone()),
            1 => (0..rng.below(64)).map(|_| rng.next() as u8).collect(),
            _ => payload.clone(),
        };
        // Sometimes the topic is garbage too.
        let topic = if round % 7 == 0 {
            String::from_utf8_lossy(&mutate(&mut rng, topic.clone().into_bytes())).into_owned()
        } else {
            topic.clone()
        };
        decoder.decode(&topic, &payload, 0, &mut decoded);
        for sample in &decoded.samples {
            assert!(sample.value.is_finite(), "{topic}: {sample:?}");
        }
        let accounted = !decoded.samples.is_empty()
            || !decoded.problems.is_empty()
            || !decoded.liveness.is_empty()
            // Births and deaths with nothing for the layout, and empty-but-valid payloads.
            || topic.starts_with("spBv1.0/");
        assert!(accounted, "message on {topic} vanished: {payload:?}");
        with_samples += usize::from(!decoded.samples.is_empty());
        with_problems += usize::from(!decoded.problems.is_empty());
    }
    assert!(
        with_samples > 1_000 && with_problems > 1_000,
        "{with_samples} / {with_problems}"
    );
}
