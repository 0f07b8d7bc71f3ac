//! Relay configuration: a TOML file (`--config`), overridden by flags.
//! Every field has a default (see [`RelayConfig::default`]); the annotated
//! example is `relay.example.toml` at the repository root.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The relay's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RelayConfig {
    /// HTTP listen address. Default: 127.0.0.1:8480 (loopback only).
    pub listen: SocketAddr,
    /// Database URL: `sqlite://PATH` or `postgres://…`. Default: SQLite
    /// `relay.sqlite3` in the data directory.
    pub database: Option<String>,
    /// Where the relay keeps its SQLite database and libp2p key.
    /// Default: `$XDG_DATA_HOME/kovan-relay`.
    pub data_dir: Option<PathBuf>,
    /// libp2p listen addresses for NAT help (circuit relay, Kademlia,
    /// AutoNAT). Default: TCP and QUIC on 127.0.0.1, ephemeral ports.
    pub p2p_listen: Vec<String>,
    /// The libp2p addresses peers can reach the relay at (behind NAT or a
    /// load balancer they differ from the listen addresses). Default: the
    /// listen addresses.
    pub p2p_external: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is believed. Default: none — the
    /// client IP is the socket's peer address.
    pub trusted_proxies: Vec<IpAddr>,
    /// UDP address of the STUN and TURN server for calls (SPEC.md §9.7.1).
    /// Default: none (off).
    pub turn_listen: Option<SocketAddr>,
    /// The address clients reach the TURN server at and its relayed
    /// addresses are given on (needed when `turn_listen` binds every
    /// address). Default: `turn_listen`'s.
    pub turn_external: Option<IpAddr>,
    /// Limits.
    pub limits: Limits,
}

/// Quotas, sizes and rates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Envelopes one mailbox may hold. Default: 10,000.
    pub mailbox_max_items: i64,
    /// Bytes one mailbox may hold. Default: 256 MiB.
    pub mailbox_max_bytes: i64,
    /// How long an envelope waits for its device, seconds. Default: 30 days.
    pub mailbox_ttl_secs: i64,
    /// Session lifetime since last use, seconds (sliding). Default: 30 days.
    pub session_ttl_secs: i64,
    /// Key packages one device may hold. Default: 200.
    pub max_key_packages: i64,
    /// Failed logins per account per minute. Default: 5.
    pub login_failures_per_account_per_minute: u32,
    /// Login attempts per IP per minute. Default: 60.
    pub logins_per_ip_per_minute: u32,
    /// Mailbox puts per IP per second. Default: 200.
    pub puts_per_ip_per_second: u32,
    /// Directory searches and key-package claims per IP per minute. Default: 120.
    pub lookups_per_ip_per_minute: u32,
    /// Community writes (posts, comments, likes, reports…) per account per
    /// minute. Default: 60.
    pub community_writes_per_account_per_minute: u32,
    /// Community reads (pages, threads, searches) per IP per minute.
    /// Default: 600.
    pub community_reads_per_ip_per_minute: u32,
    /// Trustee requests (deposits, check-ins, cancellations, share
    /// fetches, SPEC.md §6.10.6) per IP per minute. Default: 120.
    pub trustee_requests_per_ip_per_minute: u32,
    /// Simultaneous password hashes (19 MiB each). Default: 4.
    pub max_concurrent_hashes: usize,
    /// Seconds a WebSocket may take to accept a frame before it is cut off
    /// as too slow. Default: 10.
    pub ws_send_timeout_secs: u64,
    /// Seconds between WebSocket pings. Default: 30.
    pub ws_ping_secs: u64,
    /// Largest blob (a file's ciphertext), bytes. Default: 2 GiB + 1 MiB,
    /// which holds a 2 GiB file with its chunk tags.
    pub blob_max_bytes: i64,
    /// Bytes of blobs one account may hold. Default: 10 GiB.
    pub blob_quota_bytes: i64,
    /// How long a blob is kept after its creation, seconds. Default: 30 days.
    pub blob_ttl_secs: i64,
    /// Seconds a client has to send a request's headers; an idle kept-alive
    /// connection is closed after the same time. Default: 10.
    pub header_timeout_secs: u64,
    /// Seconds a request body may go without a byte; after these, its
    /// waiting time must also stay within `body_min_bytes_per_sec`.
    /// Default: 10.
    pub body_timeout_secs: u64,
    /// The least average rate of a request body, bytes per second: the
    /// relay waits for a body at most `body_timeout_secs` plus its length at
    /// this rate. Default: 4,096 (a 64 KiB request gets 26 s, a 100 MiB
    /// blob part 7 hours).
    pub body_min_bytes_per_sec: u64,
    /// Open connections from one IP address (the trusted proxies are
    /// exempt); more are answered 429 and closed. Default: 128.
    pub connections_per_ip: usize,
    /// Open connections in all; more are answered 503 and closed. 0 means
    /// three quarters of the open-file limit, which the relay raises to
    /// the hard limit at start. Default: 0.
    pub max_connections: usize,
    /// WebSockets one session may hold open; opening one more closes the
    /// oldest. Default: 4.
    pub ws_per_session: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            mailbox_max_items: 10_000,
            mailbox_max_bytes: 256 * 1024 * 1024,
            mailbox_ttl_secs: 30 * 24 * 3600,
            session_ttl_secs: 30 * 24 * 3600,
            max_key_packages: 200,
            login_failures_per_account_per_minute: 5,
            logins_per_ip_per_minute: 60,
            puts_per_ip_per_second: 200,
            lookups_per_ip_per_minute: 120,
            community_writes_per_account_per_minute: 60,
            community_reads_per_ip_per_minute: 600,
            trustee_requests_per_ip_per_minute: 120,
            max_concurrent_hashes: 4,
            ws_send_timeout_secs: 10,
            ws_ping_secs: 30,
            blob_max_bytes: 2 * 1024 * 1024 * 1024 + 1024 * 1024,
            blob_quota_bytes: 10 * 1024 * 1024 * 1024,
            blob_ttl_secs: 30 * 24 * 3600,
            header_timeout_secs: 10,
            body_timeout_secs: 10,
            body_min_bytes_per_sec: 4096,
            connections_per_ip: 128,
            max_connections: 0,
            ws_per_session: 4,
        }
    }
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8480)),
            database: None,
            data_dir: None,
            p2p_listen: vec!["/ip4/127.0.0.1/tcp/0".into(), "/ip4/127.0.0.1/udp/0/quic-v1".into()],
            p2p_external: Vec::new(),
            trusted_proxies: Vec::new(),
            turn_listen: None,
            turn_external: None,
            limits: Limits::default(),
        }
    }
}

impl RelayConfig {
    /// Loads a TOML file.
    pub fn from_file(path: &std::path::Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        let cfg: Self =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Cross-field checks.
    pub fn validate(&self) -> anyhow::Result<()> {
        let l = &self.limits;
        anyhow::ensure!(
            l.mailbox_max_items > 0 && l.mailbox_max_bytes > 0,
            "mailbox quotas must be positive"
        );
        anyhow::ensure!(l.mailbox_ttl_secs > 0 && l.session_ttl_secs > 0, "TTLs must be positive");
        anyhow::ensure!(
            l.blob_max_bytes > 0 && l.blob_quota_bytes > 0 && l.blob_ttl_secs > 0,
            "blob limits must be positive"
        );
        anyhow::ensure!(l.max_concurrent_hashes > 0, "max_concurrent_hashes must be positive");
        anyhow::ensure!(
            l.header_timeout_secs > 0 && l.body_timeout_secs > 0 && l.body_min_bytes_per_sec > 0,
            "timeouts and the body rate must be positive"
        );
        anyhow::ensure!(
            l.connections_per_ip > 0 && l.ws_per_session > 0,
            "connections_per_ip and ws_per_session must be positive"
        );
        for a in self.p2p_listen.iter().chain(&self.p2p_external) {
            a.parse::<libp2p::Multiaddr>()
                .map_err(|e| anyhow::anyhow!("p2p address {a:?}: {e}"))?;
        }
        if let Some(db) = &self.database {
            anyhow::ensure!(
                db.starts_with("sqlite:")
                    || db.starts_with("postgres:")
                    || db.starts_with("postgresql:"),
                "database must be a sqlite: or postgres: URL"
            );
        }
        Ok(())
    }

    /// The data directory.
    pub fn data_dir(&self) -> anyhow::Result<PathBuf> {
        match &self.data_dir {
            Some(d) => Ok(d.clone()),
            None => directories::ProjectDirs::from("", "", "kovan-relay")
                .map(|d| d.data_dir().to_path_buf())
                .ok_or_else(|| anyhow::anyhow!("no home directory; pass --data-dir")),
        }
    }

    /// The database URL.
    pub fn database_url(&self) -> anyhow::Result<String> {
        match &self.database {
            Some(u) => Ok(u.clone()),
            None => Ok(format!(
                "sqlite://{}?mode=rwc",
                self.data_dir()?.join("relay.sqlite3").display()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_is_the_default_and_parses() {
        let text = include_str!("../../relay.example.toml");
        let cfg: RelayConfig = toml::from_str(text).unwrap();
        cfg.validate().unwrap();
        assert_eq!(cfg, RelayConfig::default());
        assert!(toml::from_str::<RelayConfig>("lissen = \"x\"").is_err());
        let bad: RelayConfig = toml::from_str("database = \"mysql://x\"").unwrap();
        assert!(bad.validate().is_err());
    }
}
