//! What several targets set up once: a runtime, a real relay with one
//! registered account.
#![allow(dead_code)]

use kovan_node::home::Home;
use kovan_node::identity::Identity;
use kovan_node::relay_client::RelayClient;
use kovan_relay::{Relay, RelayConfig};

type SetupResult<T> = Result<T, Box<dyn std::error::Error>>;

/// A one-worker runtime (the fuzzer drives one input at a time).
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()
}

/// A relay on loopback (SQLite in a temporary directory) and one account
/// on it, "fuzzer", logged in.
pub struct RelayWorld {
    pub rt: tokio::runtime::Runtime,
    pub relay: Relay,
    pub client: RelayClient,
    /// The account's session token.
    pub token: String,
    /// Its device's PeerId.
    pub peer: String,
    _dir: tempfile::TempDir,
}

impl RelayWorld {
    /// Starts it, or stops the fuzzer: without it no input can run.
    /// `unlimited`: no rate limits (a fuzzer is one client sending
    /// thousands of requests; limits would answer most with 429 before any
    /// handler runs).
    pub fn start(unlimited: bool) -> Self {
        Self::try_start(unlimited).unwrap_or_else(|e| panic!("fuzz setup failed: {e}"))
    }

    fn try_start(unlimited: bool) -> SetupResult<Self> {
        let rt = runtime()?;
        let dir = tempfile::tempdir()?;
        let mut config = RelayConfig {
            listen: ([127, 0, 0, 1], 0).into(),
            data_dir: Some(dir.path().join("relay")),
            p2p_listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
            ..Default::default()
        };
        if unlimited {
            config.limits.logins_per_ip_per_minute = u32::MAX;
            config.limits.puts_per_ip_per_second = u32::MAX;
            config.limits.lookups_per_ip_per_minute = u32::MAX;
            config.limits.login_failures_per_account_per_minute = u32::MAX;
        }
        let relay = rt.block_on(Relay::start(config))?;
        let home = Home::at(dir.path().join("node"));
        let id = Identity::create(&home, b"fuzz", "fuzz")?;
        let client = RelayClient::new(&relay.url())?;
        let session = rt.block_on(client.register(&id, "fuzzer", "a long password"))?;
        Ok(Self {
            rt,
            relay,
            client,
            token: session.token,
            peer: session.device_peer_id,
            _dir: dir,
        })
    }
}
