//! Structure-aware fuzzing of everything that reads outside input: UNS JSON and Sparkplug B
//! payloads through the real decoder, layout, bindings and wall-settings RON, and the MCAP
//! reader. Inputs start from valid ones (the simulator's messages in both formats, the shipped
//! layout and example files, a real recording) and are mutated the way broken gateways, torn
//! writes and hostile publishers do: bit flips, truncations, duplicated or spliced spans,
//! interesting bytes and numbers. Every input runs under `catch_unwind`; the count, the panics
//! and the time per decoder are printed, and the run exits 1 if anything panicked.
//!
//! `cargo bench --bench fuzz [-- --inputs N]` (default 1,000,000 per decoder; CI does not run
//! it: about ten minutes on two cores).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::Instant;

use plant_twin_core::layout::{DEMO_LAYOUT_PATH, DEMO_LAYOUT_TEXT, parse_layout};
use plant_twin_core::record::{Recording, RecordingContext, simulate_recording};
use plant_twin_core::sim::{SimConfig, SimFormat, Simulator, scenario};
use plant_twin_core::telemetry::bindings::{TopicResolver, parse_bindings};
use plant_twin_core::telemetry::decoder::{Decoded, Decoder};

/// SplitMix64: deterministic, so a failing input is found again with the same seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes and tokens that break parsers more often than random ones.
const INTERESTING: &[&[u8]] = &[
    b"\0",
    b"\xff",
    b"\"",
    b"\\",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"(",
    b")",
    b"-",
    b"NaN",
    b"inf",
    b"-inf",
    b"1e999",
    b"-0",
    b"18446744073709551616",
    b"9007199254740993",
    b"null",
    b"true",
    b"\xf0\x9f\x92\xa9",
    b"\xc3",
    b"\n",
    b"//",
    b"/*",
    b"r#\"",
    b"#",
];

/// One mutation of `input` (from `seeds` for splicing).
fn mutate(rng: &mut Rng, input: &[u8], seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = out.len();
        match rng.below(8) {
            0 if len > 0 => {
                let at = rng.below(len);
                out[at] ^= 1 << rng.below(8);
            }
            1 if len > 0 => out.truncate(rng.below(len)),
            2 if len > 0 => {
                let from = rng.below(len);
                let to = (from + 1 + rng.below(64)).min(len);
                let span = out[from..to].to_vec();
                let at = rng.below(len);
                out.splice(at..at, span);
            }
            3 => {
                let token = INTERESTING[rng.below(INTERESTING.len())];
                let at = rng.below(len + 1);
                out.splice(at..at, token.iter().copied());
            }
            4 if len > 0 => {
                let from = rng.below(len);
                let to = (from + 1 + rng.below(16)).min(len);
                out.drain(from..to);
            }
            5 if !seeds.is_empty() => {
                // Splice: the head of this input, the tail of another.
                let other = &seeds[rng.below(seeds.len())];
                let cut = rng.below(len + 1);
                let other_cut = rng.below(other.len() + 1);
                out.truncate(cut);
                out.extend_from_slice(&other[other_cut..]);
            }
            6 if len > 0 => {
                let at = rng.below(len);
                out[at] = (rng.next() & 0xff) as u8;
            }
            _ => {
                let at = rng.below(len + 1);
                let extra: Vec<u8> = (0..rng.below(8)).map(|_| rng.next() as u8).collect();
                out.splice(at..at, extra);
            }
        }
    }
    out
}

/// Runs `count` mutated inputs through `target`; returns (panics, seconds).
fn fuzz(
    name: &str,
    count: usize,
    seeds: &[Vec<u8>],
    seed: u64,
    mut target: impl FnMut(&[u8]),
) -> usize {
    let mut rng = Rng(seed);
    let started = Instant::now();
    let mut panics = 0;
    for _ in 0..count {
        let base = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, base, seeds);
        if catch_unwind(AssertUnwindSafe(|| target(&input))).is_err() {
            panics += 1;
            if panics <= 3 {
                eprintln!(
                    "{name}: panic on input {:?}",
                    String::from_utf8_lossy(&input[..input.len().min(300)])
                );
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{name:<22} {count:>9} inputs  {panics} panics  {seconds:>6.1} s  ({:.1} us per input)",
        seconds * 1e6 / count as f64
    );
    panics
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let count = args
        .iter()
        .position(|a| a == "--inputs")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000usize);
    // Panics are counted, not printed by the default hook a million times.
    std::panic::set_hook(Box::new(|_| {}));
    let layout = parse_layout(DEMO_LAYOUT_TEXT, Path::new(DEMO_LAYOUT_PATH)).expect("demo");
    let mut panics = 0;

    // Payloads: a few seconds of the simulator's messages in both formats, with bearing wear
    // (births, data, a death). Topics are kept; payloads are mutated.
    let mut messages: Vec<(String, Vec<u8>)> = vec![];
    for (format, scenario_name) in [
        (SimFormat::Json, "bearing-wear"),
        (SimFormat::Sparkplug, "node-death"),
    ] {
        let mut sim = Simulator::new(
            &layout,
            SimConfig {
                format,
                scenario: scenario::scenario(scenario_name).expect("scenario"),
                ..SimConfig::default()
            },
        );
        let mut out = vec![];
        for t in [0.0, 1.0, 31.0, 32.0] {
            sim.messages(t, 1_800_000_000_000 + (t * 1000.0) as i64, &mut out);
            messages.append(&mut out);
        }
    }
    for (name, sparkplug) in [("UNS JSON", false), ("Sparkplug B", true)] {
        let chosen: Vec<&(String, Vec<u8>)> = messages
            .iter()
            .filter(|(topic, _)| topic.starts_with("spBv1.0") == sparkplug)
            .collect();
        let seeds: Vec<Vec<u8>> = chosen.iter().map(|(_, p)| p.clone()).collect();
        let topics: Vec<String> = chosen.iter().map(|(t, _)| t.clone()).collect();
        let mut decoder = Decoder::new(TopicResolver::from_layout(&layout));
        let mut decoded = Decoded::default();
        let mut events = vec![];
        let mut n = 0usize;
        panics += fuzz(name, count, &seeds, 1, |input| {
            n += 1;
            let topic = &topics[n % topics.len()];
            decoder.decode(topic, input, n as i64, &mut decoded);
            decoded.drain_events(topic, n as i64, &mut events);
            events.clear();
        });
    }

    // RON files: the shipped layout, the example bindings and wall settings.
    let text_seed = |text: &str| vec![text.as_bytes().to_vec()];
    panics += fuzz(
        "layout RON",
        count,
        &text_seed(DEMO_LAYOUT_TEXT),
        2,
        |input| {
            let _ = parse_layout(&String::from_utf8_lossy(input), Path::new("fuzz.ron"));
        },
    );
    let read = |path: &str| {
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../..")
                .join(path),
        )
        .expect("example file")
    };
    let bindings = read("docs/examples/legacy-gateway.bindings.ron");
    panics += fuzz("bindings RON", count, &text_seed(&bindings), 3, |input| {
        let _ = parse_bindings(
            &String::from_utf8_lossy(input),
            Path::new("fuzz.bindings.ron"),
            &layout,
        );
    });
    let wall = read("docs/examples/control-room.wall.ron");
    panics += fuzz("wall settings RON", count, &text_seed(&wall), 4, |input| {
        let _ = ron::from_str::<plant_twin_core::wall::config::WallConfig>(
            &String::from_utf8_lossy(input),
        );
    });

    // Recordings: a short real one, mutated, opened and read to the end.
    let dir = std::env::temp_dir().join(format!("plant-twin-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let original = dir.join("seed.mcap");
    let context = RecordingContext {
        layout_ron: DEMO_LAYOUT_TEXT.into(),
        source: "fuzz".into(),
        ..RecordingContext::default()
    };
    simulate_recording(
        &original,
        &mut Simulator::new(&layout, SimConfig::default()),
        &context,
        3.0,
        1.0,
        1_800_000_000_000,
    )
    .expect("seed recording");
    let seeds = vec![std::fs::read(&original).expect("seed bytes")];
    let input_path = dir.join("input.mcap");
    panics += fuzz("MCAP reader", count, &seeds, 5, |input| {
        if std::fs::write(&input_path, input).is_ok()
            && let Ok(recording) = Recording::open(&input_path, None)
        {
            let _ = recording.time_range_ns();
            let _ = recording.describe(5);
            for chunk in 0..recording.chunk_count() {
                for message in recording.chunk_messages(chunk).unwrap_or_default() {
                    let _ = recording.topic(message.channel);
                }
            }
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
    if panics > 0 {
        eprintln!("{panics} inputs panicked");
        std::process::exit(1);
    }
}
