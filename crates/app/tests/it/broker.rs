//! A real MQTT broker for the tests, on a free loopback port: rumqttd inside the test process
//! (so `cargo test` needs only Rust), or Debian's mosquitto when
//! `PLANT_TWIN_TEST_BROKER=mosquitto` (CI), where a missing mosquitto fails the test.
//! Plus a TCP proxy that can cut the line, to take the broker away and bring it back.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "broker did not listen on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Debian's mosquitto with a config file; a missing binary fails the test (CI installs it).
fn spawn_mosquitto(config: &std::path::Path) -> std::process::Child {
    std::process::Command::new("mosquitto")
        .arg("-c")
        .arg(config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("mosquitto cannot be started (Debian package mosquitto; /usr/sbin on the PATH)")
}

pub struct TestBroker {
    pub port: u16,
    mosquitto: Option<std::process::Child>,
    _config_dir: Option<tempfile::TempDir>,
}

impl TestBroker {
    pub fn start() -> TestBroker {
        TestBroker::start_with(None)
    }

    /// A broker that accepts only `user` with `password`.
    pub fn start_with_login(user: &str, password: &str) -> TestBroker {
        TestBroker::start_with(Some((user, password)))
    }

    fn start_with(login: Option<(&str, &str)>) -> TestBroker {
        let port = free_port();
        let broker = match std::env::var("PLANT_TWIN_TEST_BROKER").as_deref() {
            Ok("mosquitto") => {
                let dir = tempfile::tempdir().expect("temp dir");
                let config = dir.path().join("mosquitto.conf");
                let mut text = format!("listener {port} 127.0.0.1\npersistence false\n");
                match login {
                    None => text.push_str("allow_anonymous true\n"),
                    Some((user, password)) => {
                        let passwords = dir.path().join("passwords");
                        let made = std::process::Command::new("mosquitto_passwd")
                            .arg("-c")
                            .arg("-b")
                            .arg(&passwords)
                            .args([user, password])
                            .status()
                            .expect("mosquitto_passwd (package mosquitto) runs");
                        assert!(made.success(), "mosquitto_passwd failed");
                        text.push_str(&format!(
                            "allow_anonymous false\npassword_file {}\n",
                            passwords.display()
                        ));
                    }
                }
                std::fs::write(&config, text).expect("config written");
                let child = spawn_mosquitto(&config);
                TestBroker {
                    port,
                    mosquitto: Some(child),
                    _config_dir: Some(dir),
                }
            }
            _ => {
                let auth = login.map(|(user, password)| serde_json::json!({ user: password }));
                let config: rumqttd::Config = serde_json::from_value(serde_json::json!({
                    "id": 0,
                    "router": {
                        "max_connections": 100,
                        "max_outgoing_packet_count": 10000,
                        "max_segment_size": 104857600,
                        "max_segment_count": 10
                    },
                    "v4": {"1": {
                        "name": "v4-1",
                        "listen": format!("127.0.0.1:{port}"),
                        "next_connection_delay_ms": 1,
                        "connections": {
                            "connection_timeout_ms": 60000,
                            "max_payload_size": 2097152,
                            "max_inflight_count": 1000,
                            "auth": auth,
                            "dynamic_filters": true
                        }
                    }}
                }))
                .expect("rumqttd config");
                std::thread::Builder::new()
                    .name(format!("test-broker-{port}"))
                    .spawn(move || {
                        let mut broker = rumqttd::Broker::new(config);
                        let _ = broker.start();
                    })
                    .expect("broker thread");
                TestBroker {
                    port,
                    mosquitto: None,
                    _config_dir: None,
                }
            }
        };
        wait_for_port(port);
        broker
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        if let Some(child) = self.mosquitto.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A TCP forwarder in front of the broker whose line can be cut (connections dropped, new
/// ones refused) and restored on the same port.
pub struct CuttableLine {
    pub port: u16,
    up: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
}

impl CuttableLine {
    pub fn start(target_port: u16) -> CuttableLine {
        let port = free_port();
        let up = Arc::new(AtomicBool::new(true));
        let streams: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (thread_up, thread_streams) = (up.clone(), streams.clone());
        std::thread::Builder::new()
            .name(format!("test-line-{port}"))
            .spawn(move || {
                loop {
                    if !thread_up.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    }
                    let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) else {
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    };
                    let _ = listener.set_nonblocking(true);
                    while thread_up.load(Ordering::SeqCst) {
                        match listener.accept() {
                            Ok((client, _)) => {
                                let _ = client.set_nonblocking(false);
                                let Ok(server) = TcpStream::connect(("127.0.0.1", target_port))
                                else {
                                    continue;
                                };
                                let mut list = thread_streams.lock().expect("lock");
                                for stream in [&client, &server] {
                                    if let Ok(clone) = stream.try_clone() {
                                        list.push(clone);
                                    }
                                }
                                pipe(
                                    client.try_clone().expect("clone"),
                                    server.try_clone().expect("clone"),
                                );
                                pipe(server, client);
                            }
                            Err(_) => std::thread::sleep(Duration::from_millis(10)),
                        }
                    }
                    // Dropping the listener refuses new connections until restored.
                }
            })
            .expect("line thread");
        wait_for_port(port);
        CuttableLine { port, up, streams }
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// The broker "goes away": every connection through the line drops, new ones are refused.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for stream in self.streams.lock().expect("lock").drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        // Let the accept loop notice and close its listener.
        std::thread::sleep(Duration::from_millis(100));
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
        wait_for_port(self.port);
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::thread::Builder::new()
        .name("test-line-pipe".into())
        .spawn(move || {
            let mut buffer = [0u8; 16 * 1024];
            loop {
                match from.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if to.write_all(&buffer[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = to.shutdown(Shutdown::Both);
        });
}

/// A plain publishing client for the tests.
pub struct Publisher {
    client: rumqttc::Client,
}

impl Publisher {
    pub fn connect(port: u16) -> Publisher {
        let mut options =
            rumqttc::MqttOptions::new(format!("test-publisher-{}", free_port()), "127.0.0.1", port);
        options.set_max_packet_size(4 << 20, 4 << 20);
        let (client, mut connection) = rumqttc::Client::new(options, 1000);
        let (ready_tx, ready_rx) = crossbeam_channel::bounded(1);
        std::thread::Builder::new()
            .name("test-publisher".into())
            .spawn(move || {
                for event in connection.iter() {
                    match event {
                        Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) => {
                            let _ = ready_tx.try_send(());
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(50)),
                        _ => {}
                    }
                }
            })
            .expect("publisher thread");
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("publisher connected");
        Publisher { client }
    }

    pub fn publish(&self, topic: &str, payload: impl Into<Vec<u8>>) {
        self.client
            .publish(topic, rumqttc::QoS::AtLeastOnce, false, payload.into())
            .expect("queued");
    }

    /// Publishes a retained message: the broker hands it to every later subscriber.
    pub fn publish_retained(&self, topic: &str, payload: impl Into<Vec<u8>>) {
        self.client
            .publish(topic, rumqttc::QoS::AtLeastOnce, true, payload.into())
            .expect("queued");
    }
}

/// Certificates for a TLS test: a private CA, a server certificate for 127.0.0.1 and a client
/// certificate, made with the openssl command line.
pub struct TestPki {
    pub dir: tempfile::TempDir,
}

impl TestPki {
    pub fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    pub fn create() -> TestPki {
        let dir = tempfile::tempdir().expect("temp dir");
        let run = |args: &[&str]| {
            let status = std::process::Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .expect("openssl runs");
            assert!(status.success(), "openssl {args:?} failed");
        };
        run(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=plant-twin test CA",
        ]);
        for (name, usage) in [("server", "serverAuth"), ("client", "clientAuth")] {
            std::fs::write(
                dir.path().join(format!("{name}.ext")),
                format!(
                    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
                     keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage={usage}\n"
                ),
            )
            .expect("extensions written");
            run(&[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN={name}"),
            ]);
            run(&[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &format!("{name}.pem"),
                "-days",
                "2",
                "-extfile",
                &format!("{name}.ext"),
            ]);
        }
        TestPki { dir }
    }
}

/// mosquitto with a TLS listener that requires a client certificate signed by `pki`'s CA.
pub struct TlsBroker {
    pub port: u16,
    child: std::process::Child,
}

impl TlsBroker {
    pub fn start(pki: &TestPki) -> TlsBroker {
        let port = free_port();
        let config = pki.path("mosquitto-tls.conf");
        std::fs::write(
            &config,
            format!(
                // `user root`: run as whoever started it; as root mosquitto would otherwise switch
                // to its own user, who cannot read the keys in this private temp dir.
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n\
                 cafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true\n",
                pki.path("ca.pem").display(),
                pki.path("server.pem").display(),
                pki.path("server.key").display()
            ),
        )
        .expect("config written");
        let child = spawn_mosquitto(&config);
        wait_for_port(port);
        TlsBroker { port, child }
    }
}

impl Drop for TlsBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
