//! The MQTT ingest thread: connects with rumqttc, subscribes on every ConnAck, decodes each
//! message and hands the results to the world over a bounded crossbeam channel. Reconnects with
//! exponential backoff and jitter (rumqttc alone would retry in a tight loop).
//!
//! Read-only by default: the only thing it ever publishes is a Sparkplug rebirth request, and
//! only when the user enabled commands.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::Sender;
use rumqttc::{
    Client, ConnectReturnCode, Event, MqttOptions, Packet, QoS, RecvTimeoutError,
    SubscribeReasonCode, TlsConfiguration, Transport,
};

use super::decoder::{Decoded, Decoder};
use super::{ConnectionEvent, IngestEvent, SourceError, now_ms};

/// Environment variable holding the broker password (never a command-line argument: those are
/// visible to every user of the machine in the process list).
pub const PASSWORD_ENV: &str = "PLANT_TWIN_MQTT_PASSWORD";

/// Where and how to connect.
#[derive(Debug, Clone, PartialEq)]
pub struct MqttConfig {
    pub url: BrokerUrl,
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// PEM CA certificate(s) to trust; setting it (or an `mqtts://` URL) turns TLS on.
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate and key for mutual TLS.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    pub keep_alive: Duration,
    /// Subscribe to this Sparkplug B group (`+` for all); `None` for no Sparkplug.
    pub sparkplug_group: Option<String>,
    /// Allow publishing commands (Sparkplug rebirth requests). Off unless the user enables it.
    pub commands_enabled: bool,
}

impl MqttConfig {
    pub fn new(url: BrokerUrl) -> MqttConfig {
        MqttConfig {
            url,
            client_id: default_client_id(),
            username: None,
            password: None,
            ca_file: None,
            client_cert: None,
            keep_alive: Duration::from_secs(5),
            sparkplug_group: Some("+".into()),
            commands_enabled: false,
        }
    }
}

/// A unique client id per process, so several walls and workstations can watch one broker.
pub fn default_client_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("plant-twin-{host}-{}-{nanos:x}", std::process::id())
}

/// `mqtt://host[:port]` (TCP, default port 1883) or `mqtts://host[:port]` (TLS, 8883).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

impl BrokerUrl {
    /// The broker is on this machine (localhost, 127.0.0.0/8, ::1): its traffic never
    /// crosses a network.
    pub fn is_loopback(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost")
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// Traffic to this broker crosses a network in the clear: no TLS, not loopback.
    pub fn plaintext_over_network(&self) -> bool {
        !self.tls && !self.is_loopback()
    }
}

impl std::fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        write!(f, "{scheme}://{}:{}", self.host, self.port)
    }
}

impl std::str::FromStr for BrokerUrl {
    type Err = SourceError;

    fn from_str(text: &str) -> Result<BrokerUrl, SourceError> {
        let (tls, rest) = if let Some(rest) = text.strip_prefix("mqtt://") {
            (false, rest)
        } else if let Some(rest) = text
            .strip_prefix("mqtts://")
            .or_else(|| text.strip_prefix("ssl://"))
        {
            (true, rest)
        } else if let Some(rest) = text.strip_prefix("tcp://") {
            (false, rest)
        } else {
            return Err(SourceError::BrokerUrl(format!(
                "\"{text}\": expected mqtt://host[:port] or mqtts://host[:port]"
            )));
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains('@') {
            return Err(SourceError::BrokerUrl(
                "put credentials in --mqtt-user and PLANT_TWIN_MQTT_PASSWORD, not in the URL"
                    .into(),
            ));
        }
        let (host, port) = match rest.rsplit_once(':') {
            // A port without a host ("mqtt://:1883") is refused below, not read as host ":1883".
            Some(("", _)) => {
                return Err(SourceError::BrokerUrl(format!("\"{text}\" has no host")));
            }
            // An IPv6 literal without a port, e.g. [::1].
            Some((host, port)) if !port.contains(']') => {
                let port = port.parse::<u16>().map_err(|_| {
                    SourceError::BrokerUrl(format!("\"{port}\" is not a port number"))
                })?;
                (host, port)
            }
            _ => (rest, if tls { 8883 } else { 1883 }),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(SourceError::BrokerUrl(format!("\"{text}\" has no host")));
        }
        Ok(BrokerUrl {
            tls,
            host: host.to_string(),
            port,
        })
    }
}

/// Reconnect delays: short and steady while an outage is short, growing when it is not. A broker
/// restart takes seconds, and operators expect data back as soon as it listens (at most
/// [`Backoff::SHORT_CAP_MS`] after it accepts connections, for outages up to
/// [`Backoff::SHORT_OUTAGE_MS`]); a broker that stays down for longer is not hammered: the
/// delay then doubles up to [`Backoff::MAX_MS`]. Each delay is drawn uniformly from the upper
/// half of its ceiling, so many clients do not reconnect in step.
#[derive(Debug, Clone)]
pub struct Backoff {
    attempt: u32,
    /// Attempts since the outage stopped being short.
    long_attempts: u32,
    state: u64,
}

impl Backoff {
    /// The first retry's ceiling.
    pub const BASE_MS: u64 = 250;
    /// The ceiling while the outage is short.
    pub const SHORT_CAP_MS: u64 = 1_000;
    /// How long an outage counts as short.
    pub const SHORT_OUTAGE_MS: u64 = 60_000;
    pub const MAX_MS: u64 = 30_000;

    pub fn new(seed: u64) -> Backoff {
        Backoff {
            attempt: 0,
            long_attempts: 0,
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
        }
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
        self.long_attempts = 0;
    }

    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The next delay, in milliseconds, `outage_ms` into an outage.
    pub fn next_delay_ms(&mut self, outage_ms: u64) -> u64 {
        let ceiling = if outage_ms < Self::SHORT_OUTAGE_MS {
            (Self::BASE_MS << self.attempt.min(16)).min(Self::SHORT_CAP_MS)
        } else {
            self.long_attempts = self.long_attempts.saturating_add(1);
            (Self::SHORT_CAP_MS << self.long_attempts.min(16)).min(Self::MAX_MS)
        };
        self.attempt = self.attempt.saturating_add(1);
        // xorshift64: plenty for jitter.
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        ceiling / 2 + self.state % (ceiling / 2 + 1)
    }
}

/// The largest packet MQTT can carry (a 268,435,455-byte remaining length and its 5-byte fixed
/// header). The client must accept anything a broker may send: a packet over its limit makes
/// rumqttc drop the connection, a retained one comes back on every resubscribe, and the twin
/// would reconnect in a loop with no data at all. Payloads over the decoder's limit
/// ([`super::decoder::DEFAULT_MAX_PAYLOAD`]) are then counted as oversized and skipped, costing only their
/// transient memory.
pub const MAX_INCOMING_PACKET: usize = 268_435_455 + 5;

/// Builds the rumqttc options: keep-alive, packet limits, credentials, TLS.
pub fn mqtt_options(config: &MqttConfig) -> Result<MqttOptions, SourceError> {
    let mut options = MqttOptions::new(&config.client_id, &config.url.host, config.url.port);
    options
        .set_keep_alive(config.keep_alive)
        .set_clean_session(true)
        .set_max_packet_size(MAX_INCOMING_PACKET, 64 * 1024);
    if let Some(username) = &config.username {
        options.set_credentials(username, config.password.clone().unwrap_or_default());
    }
    if config.url.tls || config.ca_file.is_some() {
        let read = |path: &PathBuf, what: &'static str| {
            std::fs::read(path).map_err(|source| SourceError::Unreadable {
                what,
                path: path.clone(),
                source,
            })
        };
        let ca = match &config.ca_file {
            Some(path) => read(path, "CA file")?,
            None => return Err(SourceError::Tls("TLS needs --mqtt-ca FILE (PEM)")),
        };
        let client_auth = match &config.client_cert {
            Some((cert, key)) => {
                Some((read(cert, "client certificate")?, read(key, "client key")?))
            }
            None => None,
        };
        options.set_transport(Transport::Tls(TlsConfiguration::Simple {
            ca,
            alpn: None,
            client_auth,
        }));
    }
    Ok(options)
}

/// Installs rustls' crypto provider (ring) once per process; harmless to call again.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A running ingest thread; dropping the handle does not stop it, [`IngestHandle::stop`] does.
pub struct IngestHandle {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl IngestHandle {
    pub fn new(stop: Arc<AtomicBool>, thread: JoinHandle<()>) -> IngestHandle {
        IngestHandle {
            stop,
            thread: Some(thread),
        }
    }

    /// Asks the thread to finish and waits for it. While waiting it keeps emptying
    /// `events`, so a thread blocked on a full channel can see the request and end.
    pub fn stop(&mut self, events: &crossbeam_channel::Receiver<IngestEvent>) {
        self.stop.store(true, Ordering::Relaxed);
        let Some(thread) = self.thread.take() else {
            return;
        };
        while !thread.is_finished() {
            while events.try_recv().is_ok() {}
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = thread.join();
    }
}

impl Drop for IngestHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Starts the named ingest thread `mqtt-ingest`.
pub fn spawn_mqtt_ingest(
    config: MqttConfig,
    decoder: Decoder,
    events: Sender<IngestEvent>,
    tap: crate::telemetry::tap::RecordTap,
) -> Result<IngestHandle, SourceError> {
    install_crypto_provider();
    let options = mqtt_options(&config)?;
    let stop = Arc::new(AtomicBool::new(false));
    let thread_stop = stop.clone();
    let thread = std::thread::Builder::new()
        .name("mqtt-ingest".into())
        .spawn(move || run_ingest(config, options, decoder, events, thread_stop, tap))
        .map_err(|source| SourceError::Thread {
            thread: "mqtt-ingest",
            source,
        })?;
    Ok(IngestHandle::new(stop, thread))
}

fn run_ingest(
    config: MqttConfig,
    options: MqttOptions,
    mut decoder: Decoder,
    events: Sender<IngestEvent>,
    stop: Arc<AtomicBool>,
    tap: crate::telemetry::tap::RecordTap,
) {
    let source = config.url.to_string();
    let filters = decoder.subscriptions(config.sparkplug_group.as_deref());
    let (client, mut connection) = Client::new(options, 64);
    let mut backoff = Backoff::new(now_ms() as u64 ^ u64::from(std::process::id()));
    // When the current outage began (None while connected).
    let mut outage_since: Option<std::time::Instant> = None;
    let mut decoded = Decoded::default();
    let mut batch: Vec<IngestEvent> = Vec::with_capacity(16);
    let send = |event: IngestEvent| events.send(event).is_ok();
    if !send(IngestEvent::Connection(ConnectionEvent::Connecting {
        source: source.clone(),
    })) {
        return;
    }
    while !stop.load(Ordering::Relaxed) {
        let event = match connection.recv_timeout(Duration::from_millis(200)) {
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
            Ok(event) => event,
        };
        match event {
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                let received_ms = now_ms();
                tap.offer(&publish.topic, received_ms, &publish.payload);
                decoder.decode(&publish.topic, &publish.payload, received_ms, &mut decoded);
                if let Some((topic, payload)) = decoded.rebirth_request.take()
                    && config.commands_enabled
                    && client
                        .try_publish(topic.clone(), QoS::AtMostOnce, false, payload)
                        .is_ok()
                {
                    send(IngestEvent::Connection(ConnectionEvent::CommandSent {
                        topic,
                    }));
                }
                decoded.drain_events(&publish.topic, received_ms, &mut batch);
                // Blocking send: if the world falls behind, the broker's buffer absorbs it
                // rather than this thread dropping data.
                for event in batch.drain(..) {
                    if !send(event) {
                        return;
                    }
                }
            }
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                if ack.code == ConnectReturnCode::Success {
                    backoff.reset();
                    outage_since = None;
                    send(IngestEvent::Connection(ConnectionEvent::Connected {
                        source: source.clone(),
                    }));
                    // Clean sessions forget subscriptions: subscribe again on every ConnAck.
                    let subscriptions = filters
                        .iter()
                        .map(|f| rumqttc::SubscribeFilter::new(f.clone(), QoS::AtMostOnce));
                    if let Err(error) = client.try_subscribe_many(subscriptions) {
                        send(IngestEvent::Connection(ConnectionEvent::Lost {
                            reason: format!("cannot subscribe: {error}"),
                        }));
                    }
                }
            }
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                let refused: Vec<&String> = filters
                    .iter()
                    .zip(&ack.return_codes)
                    .filter(|(_, code)| matches!(code, SubscribeReasonCode::Failure))
                    .map(|(filter, _)| filter)
                    .collect();
                if refused.is_empty() {
                    send(IngestEvent::Connection(ConnectionEvent::Subscribed {
                        filters: filters.clone(),
                    }));
                } else {
                    send(IngestEvent::Connection(ConnectionEvent::Lost {
                        reason: format!("the broker refused subscriptions: {refused:?}"),
                    }));
                }
            }
            Ok(_) => {}
            Err(error) => {
                if !send(IngestEvent::Connection(ConnectionEvent::Lost {
                    reason: error.to_string(),
                })) {
                    return;
                }
                let outage_ms = outage_since
                    .get_or_insert_with(std::time::Instant::now)
                    .elapsed()
                    .as_millis() as u64;
                let delay_ms = backoff.next_delay_ms(outage_ms);
                send(IngestEvent::Connection(ConnectionEvent::Reconnecting {
                    attempt: backoff.attempt(),
                    delay_ms,
                }));
                // Sleep in slices so a stop request is honoured promptly.
                let until = std::time::Instant::now() + Duration::from_millis(delay_ms);
                while std::time::Instant::now() < until && !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }
    let _ = client.disconnect();
    send(IngestEvent::Connection(ConnectionEvent::Stopped));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_is_told_apart_from_loopback_and_tls() {
        let url = |text: &str| text.parse::<BrokerUrl>().expect("parses");
        for local in [
            "mqtt://localhost",
            "mqtt://127.0.0.1:1883",
            "mqtt://[::1]:1883",
        ] {
            assert!(!url(local).plaintext_over_network(), "{local}");
        }
        assert!(url("mqtt://broker.plant:1883").plaintext_over_network());
        assert!(url("mqtt://10.0.0.7").plaintext_over_network());
        assert!(!url("mqtts://broker.plant").plaintext_over_network());
    }

    #[test]
    fn broker_urls() {
        let url: BrokerUrl = "mqtt://localhost".parse().expect("parses");
        assert_eq!(
            (url.tls, url.host.as_str(), url.port),
            (false, "localhost", 1883)
        );
        let url: BrokerUrl = "mqtts://broker.example:9883/".parse().expect("parses");
        assert_eq!(
            (url.tls, url.host.as_str(), url.port),
            (true, "broker.example", 9883)
        );
        let url: BrokerUrl = "mqtt://[::1]:1884".parse().expect("parses");
        assert_eq!(url.host, "::1");
        assert!("http://x".parse::<BrokerUrl>().is_err());
        assert!("mqtt://user:pw@host".parse::<BrokerUrl>().is_err());
        assert!("mqtt://host:99999".parse::<BrokerUrl>().is_err());
        // A port without a host is refused, not read as the host ":1883".
        assert!("mqtt://:1883".parse::<BrokerUrl>().is_err());
        assert!("mqtt://".parse::<BrokerUrl>().is_err());
    }

    #[test]
    fn backoff_stays_short_for_a_short_outage_then_grows_and_caps() {
        let mut backoff = Backoff::new(42);
        // The first minute: every delay at most a second, the first at most a quarter.
        let short: Vec<u64> = (0..60).map(|i| backoff.next_delay_ms(i * 1000)).collect();
        assert!(short[0] <= Backoff::BASE_MS, "{short:?}");
        assert!(
            short.iter().all(|d| *d <= Backoff::SHORT_CAP_MS),
            "{short:?}"
        );
        assert!(
            short[10..].iter().all(|d| *d >= Backoff::SHORT_CAP_MS / 2),
            "{short:?}"
        );
        // Past it: doubling to the cap, with jitter in the upper half.
        let long: Vec<u64> = (0..12)
            .map(|i| backoff.next_delay_ms(60_000 + i * 30_000))
            .collect();
        assert!(long[0] <= 2 * Backoff::SHORT_CAP_MS, "{long:?}");
        assert!(long.windows(2).take(3).all(|w| w[1] >= w[0]), "{long:?}");
        assert!(long.iter().all(|d| *d <= Backoff::MAX_MS), "{long:?}");
        assert!(
            long[8..].iter().all(|d| *d >= Backoff::MAX_MS / 2),
            "{long:?}"
        );
        backoff.reset();
        assert!(backoff.next_delay_ms(0) <= Backoff::BASE_MS);
    }

    #[test]
    fn client_ids_are_unique_per_process_start() {
        let a = default_client_id();
        std::thread::sleep(Duration::from_millis(2));
        let b = default_client_id();
        assert!(a.starts_with("plant-twin-"));
        assert_ne!(a, b);
    }
}
