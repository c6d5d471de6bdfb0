//! The built-in data source: the plant simulator running on its own thread, its messages
//! decoded exactly like MQTT messages. The default when no broker is given.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use super::Simulator;
use crate::telemetry::decoder::{Decoded, Decoder};
use crate::telemetry::mqtt::IngestHandle;
use crate::telemetry::{ConnectionEvent, IngestEvent, SourceError, now_ms};

/// Name shown as the data source.
pub const SIMULATOR_SOURCE: &str = "built-in simulator";

/// Starts the named thread `plant-simulator`, producing a round of messages every
/// `1 / rate_hz` seconds.
pub fn spawn_simulator_source(
    mut simulator: Simulator,
    mut decoder: Decoder,
    rate_hz: f64,
    events: Sender<IngestEvent>,
    tap: crate::telemetry::tap::RecordTap,
) -> Result<IngestHandle, SourceError> {
    let stop = Arc::new(AtomicBool::new(false));
    let thread_stop = stop.clone();
    let period = Duration::from_secs_f64(1.0 / rate_hz.clamp(0.01, 1000.0));
    let thread = std::thread::Builder::new()
        .name("plant-simulator".into())
        .spawn(move || {
            let send = |event| events.send(event).is_ok();
            send(IngestEvent::Connection(ConnectionEvent::Connected {
                source: SIMULATOR_SOURCE.into(),
            }));
            let started = Instant::now();
            let mut next = started;
            let mut messages = vec![];
            let mut decoded = Decoded::default();
            let mut batch = vec![];
            while !thread_stop.load(Ordering::Relaxed) {
                let now = now_ms();
                simulator.messages(started.elapsed().as_secs_f64(), now, &mut messages);
                for (topic, payload) in &messages {
                    tap.offer(topic, now, payload);
                    decoder.decode(topic, payload, now, &mut decoded);
                    decoded.drain_events(topic, now, &mut batch);
                }
                for event in batch.drain(..) {
                    if !send(event) {
                        return;
                    }
                }
                next += period;
                match next.checked_duration_since(Instant::now()) {
                    Some(wait) => std::thread::sleep(wait),
                    // Fell behind (suspended machine): skip ahead instead of bursting.
                    None => next = Instant::now(),
                }
            }
            send(IngestEvent::Connection(ConnectionEvent::Stopped));
        })
        .map_err(|source| SourceError::Thread {
            thread: "plant-simulator",
            source,
        })?;
    Ok(IngestHandle::new(stop, thread))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{DEMO_LAYOUT_PATH, DEMO_LAYOUT_TEXT, parse_layout};
    use crate::sim::SimConfig;
    use crate::telemetry::bindings::TopicResolver;

    #[test]
    fn a_source_blocked_on_a_full_channel_still_stops() {
        let layout = parse_layout(DEMO_LAYOUT_TEXT, std::path::Path::new(DEMO_LAYOUT_PATH))
            .expect("demo layout");
        // Room for one event: the thread blocks on its second send.
        let (sender, receiver) = crossbeam_channel::bounded(1);
        let mut handle = spawn_simulator_source(
            Simulator::new(&layout, SimConfig::default()),
            Decoder::new(TopicResolver::from_layout(&layout)),
            50.0,
            sender,
            crate::telemetry::tap::RecordTap::default(),
        )
        .expect("started");
        std::thread::sleep(Duration::from_millis(100));
        // Returning at all is the point (before, this deadlocked); the bound only turns a hang
        // into a failure.
        let started = Instant::now();
        handle.stop(&receiver);
        assert!(started.elapsed() < Duration::from_secs(30), "stop hung");
    }
}
