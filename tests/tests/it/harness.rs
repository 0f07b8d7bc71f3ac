//! The multi-node harness: a relay and N nodes in this process, on
//! 127.0.0.1 ports, each with its own home directory; every wait is bounded.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kovan_crypto::keystore::KdfParams;
use kovan_node::clock::Clock;
use kovan_node::home::Home;
use kovan_node::identity::Identity;
use kovan_node::node::FileOptions;
use kovan_node::relay_client::Keepalive;
use kovan_node::{Event, Node, NodeHandle, NodeOptions};
use kovan_relay::{Relay, RelayConfig};
use tokio::sync::broadcast;

/// The longest any single wait may take.
pub const WAIT: Duration = Duration::from_secs(30);

pub const PASSPHRASE: &[u8] = b"correct horse battery staple";

/// A relay on a loopback port with SQLite in a temporary directory.
pub struct TestRelay {
    #[allow(dead_code)] // kept alive for the test
    pub relay: Relay,
    pub url: String,
    pub dir: PathBuf,
}

impl TestRelay {
    pub async fn start(dir: &Path) -> Self {
        Self::start_with(dir, |_| {}).await
    }

    /// A relay whose configuration `tweak` adjusts first.
    pub async fn start_with(dir: &Path, tweak: impl FnOnce(&mut RelayConfig)) -> Self {
        let dir = dir.join("relay");
        std::fs::create_dir_all(&dir).unwrap();
        let mut config = RelayConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: Some(dir.clone()),
            ..Default::default()
        };
        tweak(&mut config);
        let relay = Relay::start(config).await.unwrap();
        let url = relay.url();
        Self { relay, url, dir }
    }

    /// Stops the relay (gracefully) and starts it again on the same port
    /// and data; `tweak` adjusts the configuration as at the start.
    pub async fn restart_with(self, tweak: impl FnOnce(&mut RelayConfig)) -> Self {
        let addr = self.relay.addr;
        self.relay.shutdown(Duration::from_secs(5)).await;
        let mut config =
            RelayConfig { listen: addr, data_dir: Some(self.dir.clone()), ..Default::default() };
        tweak(&mut config);
        let relay = Relay::start(config).await.unwrap();
        Self { url: relay.url(), relay, dir: self.dir }
    }

    /// Every byte the relay has on disk (database, WAL, keys).
    pub fn disk_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                out.extend(std::fs::read(path).unwrap());
            }
        }
        out
    }
}

/// A node under test with its event stream.
pub struct TestNode {
    pub h: NodeHandle,
    pub events: broadcast::Receiver<Event>,
    pub home: Home,
    pub name: String,
    relay: Option<String>,
    mdns: bool,
    files: FileOptions,
    direct: bool,
    extra: Extra,
}

/// Node options most tests leave as they are.
#[derive(Clone, Default)]
pub struct Extra {
    pub keepalive: Keepalive,
    pub clock: Clock,
    /// How long calls ring (ms), if not the default 45 s.
    pub ring_ms: Option<u64>,
    /// No data links for files (SPEC.md §6.9.4; `file_links = false`).
    pub no_links: bool,
    /// How long an idle data link stays (ms), if not the default 60 s.
    pub link_idle_ms: Option<u64>,
}

/// A relay address nothing listens on (a node started with it is cut off).
pub const DEAD_RELAY: &str = "http://127.0.0.1:9";

impl TestNode {
    /// Creates an identity in `dir/name` and starts a node on loopback.
    pub async fn new(dir: &Path, name: &str, relay: Option<&str>) -> Self {
        Self::new_with(dir, name, relay, false).await
    }

    pub async fn new_with(dir: &Path, name: &str, relay: Option<&str>, mdns: bool) -> Self {
        logs();
        let home = Home::at(dir.join(name));
        Identity::create_with_params(&home, PASSPHRASE, name, KdfParams::default()).unwrap();
        Self::boot(home, name, relay.map(str::to_owned), mdns, FileOptions::default()).await
    }

    /// A node whose scheduler follows `clock` (kept across restarts).
    pub async fn with_clock(dir: &Path, name: &str, relay: Option<&str>, clock: Clock) -> Self {
        logs();
        let home = Home::at(dir.join(name));
        Identity::create_with_params(&home, PASSPHRASE, name, KdfParams::default()).unwrap();
        let extra = Extra { clock, ..Extra::default() };
        let relay = relay.map(str::to_owned);
        Self::boot_as(home, name, relay, false, FileOptions::default(), true, extra).await
    }

    /// A node with `extra`'s options (kept across restarts).
    pub async fn with_extra(dir: &Path, name: &str, relay: Option<&str>, extra: Extra) -> Self {
        logs();
        let home = Home::at(dir.join(name));
        Identity::create_with_params(&home, PASSPHRASE, name, KdfParams::default()).unwrap();
        let relay = relay.map(str::to_owned);
        Self::boot_as(home, name, relay, false, FileOptions::default(), true, extra).await
    }

    /// Starts a node again on an existing home (after `h.shutdown()`).
    pub async fn reopen(home: PathBuf, name: &str, relay: Option<&str>) -> Self {
        Self::reopen_with(home, name, relay, FileOptions::default()).await
    }

    /// [`Self::reopen`] with its own file limits.
    pub async fn reopen_with(
        home: PathBuf,
        name: &str,
        relay: Option<&str>,
        files: FileOptions,
    ) -> Self {
        Self::boot(Home::at(home), name, relay.map(str::to_owned), false, files).await
    }

    /// A node whose device was set up by a clock reading `now` (Unix
    /// seconds): its certificate starts then.
    pub async fn new_at(dir: &Path, name: &str, relay: Option<&str>, now: u64) -> Self {
        logs();
        let home = Home::at(dir.join(name));
        Identity::create_at(&home, PASSPHRASE, name, KdfParams::default(), now).unwrap();
        Self::boot(home, name, relay.map(str::to_owned), false, FileOptions::default()).await
    }

    /// A node with its own file limits (kept across restarts).
    pub async fn with_files(
        dir: &Path,
        name: &str,
        relay: Option<&str>,
        files: FileOptions,
    ) -> Self {
        logs();
        let home = Home::at(dir.join(name));
        Identity::create_with_params(&home, PASSPHRASE, name, KdfParams::default()).unwrap();
        Self::boot(home, name, relay.map(str::to_owned), false, files).await
    }

    async fn boot(
        home: Home,
        name: &str,
        relay: Option<String>,
        mdns: bool,
        files: FileOptions,
    ) -> Self {
        Self::boot_as(home, name, relay, mdns, files, true, Extra::default()).await
    }

    async fn boot_as(
        home: Home,
        name: &str,
        relay: Option<String>,
        mdns: bool,
        files: FileOptions,
        direct: bool,
        extra: Extra,
    ) -> Self {
        let id = Identity::unlock(&home, PASSPHRASE).unwrap();
        let mut opts = NodeOptions::loopback(home.clone(), name);
        opts.relay_url = relay.clone();
        opts.mdns = mdns;
        opts.files = files;
        opts.direct = direct;
        opts.relay_keepalive = extra.keepalive;
        opts.clock = extra.clock.clone();
        if let Some(ms) = extra.ring_ms {
            opts.calls.ring_ms = ms;
        }
        opts.calls.links = !extra.no_links;
        if let Some(ms) = extra.link_idle_ms {
            opts.calls.link_idle_ms = ms;
        }
        // As a configured node: one that keeps its addresses from peers
        // calls only through the relay's TURN server.
        opts.calls.media.relay_only = !direct;
        if mdns {
            // mDNS announces only addresses of the interface it runs on:
            // LAN nodes listen on this machine's LAN address (not loopback).
            opts.listen = vec![format!("/ip4/{}/tcp/0", lan_ip()).parse().unwrap()];
        }
        let h = Node::start(id, opts).await.unwrap();
        let events = h.subscribe();
        Self { h, events, home, name: name.to_owned(), relay, mdns, files, direct, extra }
    }

    /// A node that delivers only through the relay's mailboxes (kept
    /// across restarts).
    pub async fn relay_only(dir: &Path, name: &str, relay: &str) -> Self {
        Self::relay_only_with(dir, name, relay, Extra::default()).await
    }

    /// [`Self::relay_only`] with its own options.
    pub async fn relay_only_with(dir: &Path, name: &str, relay: &str, extra: Extra) -> Self {
        logs();
        let home = Home::at(dir.join(name));
        Identity::create_with_params(&home, PASSPHRASE, name, KdfParams::default()).unwrap();
        let files = FileOptions::default();
        Self::boot_as(home, name, Some(relay.to_owned()), false, files, false, extra).await
    }

    /// Stops the node and starts it again on the same home.
    pub async fn restart(self) -> Self {
        self.h.shutdown().await;
        let Self { home, name, relay, mdns, files, direct, extra, .. } = self;
        Self::boot_as(home, &name, relay, mdns, files, direct, extra).await
    }

    /// Restarts the node with `edit` run on its stopped home in between
    /// (a test playing a user who changed their node's files).
    pub async fn restart_after(self, edit: impl FnOnce(&Home)) -> Self {
        self.h.shutdown().await;
        let Self { home, name, relay, mdns, files, direct, extra, .. } = self;
        edit(&home);
        Self::boot_as(home, &name, relay, mdns, files, direct, extra).await
    }

    /// Restarts the node cut off from everyone: no reachable relay, no
    /// direct delivery, new ports nobody knows. What it sends waits in its
    /// outbox; [`Self::reconnect`] brings it back.
    pub async fn restart_isolated(self) -> Self {
        self.h.shutdown().await;
        let Self { home, name, relay, mdns, files, direct, extra, .. } = self;
        let id = Identity::unlock(&home, PASSPHRASE).unwrap();
        let mut opts = NodeOptions::loopback(home.clone(), &name);
        opts.relay_url = Some(DEAD_RELAY.into());
        opts.direct = false;
        let h = Node::start(id, opts).await.unwrap();
        let events = h.subscribe();
        Self { h, events, home, name, relay, mdns, files, direct, extra }
    }

    /// Restarts the node as it was configured before [`Self::restart_isolated`].
    pub async fn reconnect(self) -> Self {
        self.restart().await
    }

    /// Waits for the first event matching `want`.
    pub async fn wait(&mut self, what: &str, want: impl Fn(&Event) -> bool) -> Event {
        self.wait_for(WAIT, what, want).await
    }

    /// [`Self::wait`] with its own bound (large transfers).
    pub async fn wait_for(
        &mut self,
        limit: Duration,
        what: &str,
        want: impl Fn(&Event) -> bool,
    ) -> Event {
        let name = self.name.clone();
        tokio::time::timeout(limit, async {
            loop {
                match self.events.recv().await {
                    Ok(ev) if want(&ev) => return ev,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        panic!("{name}: test fell {n} events behind")
                    }
                    Err(broadcast::error::RecvError::Closed) => panic!("{name}: node stopped"),
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{name}: timed out waiting for {what}"))
    }

    /// Polls `check` until it holds.
    pub async fn until<F, Fut>(&self, what: &str, check: F)
    where
        F: Fn(NodeHandle) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        self.until_within(WAIT, what, check).await
    }

    /// Polls `check` until it holds, for at most `limit`.
    pub async fn until_within<F, Fut>(&self, limit: Duration, what: &str, check: F)
    where
        F: Fn(NodeHandle) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = tokio::time::Instant::now() + limit;
        while !check(self.h.clone()).await {
            assert!(tokio::time::Instant::now() < deadline, "{}: timed out: {what}", self.name);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A relay, and Alice and Bob registered on it as "alice" and "bob" (not
/// yet friends).
pub async fn relay_alice_bob(dir: &std::path::Path) -> (TestRelay, TestNode, TestNode) {
    let relay = TestRelay::start(dir).await;
    let alice = TestNode::new(dir, "alice", Some(&relay.url)).await;
    let bob = TestNode::new(dir, "bob", Some(&relay.url)).await;
    alice.h.register("alice", "a long password").await.unwrap();
    bob.h.register("bob", "a long password").await.unwrap();
    (relay, alice, bob)
}

/// Makes two nodes already registered on the relay friends (`a` asks, `b`
/// accepts).
pub async fn befriend_registered(a: &mut TestNode, b: &mut TestNode) {
    a.h.friend_request(&b.name, "").await.unwrap();
    let ev = b.wait("friend request", |e| matches!(e, Event::FriendRequest { .. })).await;
    let Event::FriendRequest { contact } = ev else { unreachable!() };
    b.h.friend_accept(&contact.account).await.unwrap();
    a.wait("acceptance", |e| matches!(e, Event::FriendAccepted { .. })).await;
}

/// Registers both on the relay and makes them friends (`a` asks, `b`
/// accepts). Returns `b`'s account as `a` knows it and `a`'s as `b` does.
pub async fn befriend(a: &mut TestNode, b: &mut TestNode) -> (String, String) {
    a.h.register(&a.name, "a long password").await.unwrap();
    b.h.register(&b.name, "a long password").await.unwrap();
    let req = a.h.friend_request(&b.name, "hi, it's me").await.unwrap();
    let b_account = req.account.clone();
    let ev = b.wait("friend request", |e| matches!(e, Event::FriendRequest { .. })).await;
    let Event::FriendRequest { contact } = ev else { unreachable!() };
    assert_eq!(contact.note, "hi, it's me");
    let a_account = contact.account.clone();
    b.h.friend_accept(&a_account).await.unwrap();
    a.wait("acceptance", |e| matches!(e, Event::FriendAccepted { .. })).await;
    (b_account, a_account)
}

/// Waits for an incoming message and returns its text.
pub async fn next_text(n: &mut TestNode) -> (String, String) {
    let ev =
        n.wait("a message", |e| matches!(e, Event::Message { message } if !message.outgoing)).await;
    let Event::Message { message } = ev else { unreachable!() };
    (message.id, message.text.unwrap_or_default())
}

/// Logs to the test's output when `RUST_LOG` is set.
pub fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// This machine's address on the interface multicast goes out of (found
/// without sending anything: a UDP "connect" only picks a route).
pub fn lan_ip() -> std::net::Ipv4Addr {
    let sock = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    sock.connect("224.0.0.251:5353").expect("the LAN test needs a multicast route");
    match sock.local_addr().unwrap().ip() {
        std::net::IpAddr::V4(ip) if !ip.is_loopback() && !ip.is_unspecified() => ip,
        other => panic!("the LAN test needs a non-loopback IPv4 interface, found {other}"),
    }
}

/// Every text in a node's first conversation, oldest first.
pub async fn history_all(h: &NodeHandle) -> Vec<String> {
    let conv = h.conversations().await.unwrap()[0].id.clone();
    let mut out = Vec::new();
    let mut before = None;
    loop {
        let page = h.history(&conv, before, 500).await.unwrap();
        if page.is_empty() {
            break;
        }
        before = page.last().map(|m| m.seq);
        out.extend(page.into_iter().filter_map(|m| m.text));
    }
    out.reverse();
    out
}
