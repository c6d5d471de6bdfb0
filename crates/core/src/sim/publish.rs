//! `plant-twin sim --mqtt URL`: publishes the simulator's messages to a real broker.

use std::time::{Duration, Instant};

use rumqttc::{Client, Event, Packet, QoS};

use super::Simulator;
use crate::telemetry::mqtt::{MqttConfig, mqtt_options};
use crate::telemetry::{SourceError, now_ms};

/// Publishes one round of messages every `1 / rate_hz` seconds for `duration` (forever if
/// `None`). Returns the number of messages published, or why it could not run.
pub fn publish_simulation(
    mut simulator: Simulator,
    config: &MqttConfig,
    rate_hz: f64,
    duration: Option<Duration>,
) -> Result<u64, SourceError> {
    crate::telemetry::mqtt::install_crypto_provider();
    let options = mqtt_options(config)?;
    let (client, mut connection) = Client::new(options, 1024);
    // The connection must be polled for anything to be sent; it runs on its own thread and
    // reports the first connection result back.
    let (connected_tx, connected_rx) =
        crossbeam_channel::bounded::<Result<(), rumqttc::ConnectionError>>(1);
    std::thread::Builder::new()
        .name("sim-mqtt-connection".into())
        .spawn(move || {
            let mut reported = false;
            for event in connection.iter() {
                match event {
                    Ok(Event::Incoming(Packet::ConnAck(_))) if !reported => {
                        reported = true;
                        let _ = connected_tx.send(Ok(()));
                    }
                    Err(error) if !reported => {
                        let _ = connected_tx.send(Err(error));
                        return;
                    }
                    Err(error) => {
                        eprintln!("plant-twin sim: connection lost: {error}; retrying");
                        std::thread::sleep(Duration::from_secs(1));
                    }
                    _ => {}
                }
            }
        })
        .map_err(|source| SourceError::Thread {
            thread: "sim-mqtt-connection",
            source,
        })?;
    connected_rx
        .recv_timeout(Duration::from_secs(10))
        .map_err(|_| SourceError::Connect(format!("no answer from {} within 10 s", config.url)))?
        .map_err(|error| SourceError::Connect(error.to_string()))?;

    let period = Duration::from_secs_f64(1.0 / rate_hz.clamp(0.01, 1000.0));
    let started = Instant::now();
    let mut messages = vec![];
    let mut published = 0u64;
    let mut next = started;
    while duration.is_none_or(|d| started.elapsed() < d) {
        let t = started.elapsed().as_secs_f64();
        simulator.messages(t, now_ms(), &mut messages);
        for (topic, payload) in messages.drain(..) {
            client.publish(topic, QoS::AtMostOnce, false, payload)?;
            published += 1;
        }
        next += period;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    // Give the connection thread a moment to flush what is queued.
    std::thread::sleep(Duration::from_millis(300));
    let _ = client.disconnect();
    Ok(published)
}
