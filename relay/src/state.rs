//! The relay's shared state: what every service's handlers reach through
//! [`Shared`].

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::auth::Passwords;
use crate::config::RelayConfig;
use crate::db::SqlStore;
use crate::error::ApiResult;
use crate::hub::Hub;
use crate::ratelimit::Limiter;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// What handlers hold: the state, shared.
pub type Shared = Arc<AppState>;

/// The rate limiters.
#[derive(Debug)]
pub struct Limits {
    /// Login and registration attempts per IP.
    pub login_ip: Limiter<IpAddr>,
    /// Failed logins per username (also for names that do not exist).
    pub login_account: Limiter<String>,
    /// Mailbox puts per IP.
    pub put_ip: Limiter<IpAddr>,
    /// Directory searches, profile lookups and key-package claims per IP.
    pub lookup_ip: Limiter<IpAddr>,
    /// Community writes per account.
    pub community_write: Limiter<i64>,
    /// Community reads per IP.
    pub community_read_ip: Limiter<IpAddr>,
    /// Trustee requests and share fetches per IP.
    pub trustee_ip: Limiter<IpAddr>,
}

/// Everything handlers share.
pub struct AppState {
    /// Storage: one store implementing every service's store trait (a
    /// handler reaches only the methods of the traits it imports).
    pub store: SqlStore,
    /// Password hashing.
    pub passwords: Passwords,
    /// WebSocket fan-out.
    pub hub: Arc<Hub>,
    /// Configuration.
    pub config: RelayConfig,
    /// Rate limiters.
    pub limits: Limits,
    /// The relay's libp2p PeerId.
    pub peer_id: String,
    /// The relay's libp2p addresses, filled in as listeners come up.
    pub multiaddrs: RwLock<Vec<String>>,
    /// Flips to true at shutdown; WebSockets close.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Where blob bytes live (`<data_dir>/blobs`; the blobs service's).
    pub blob_dir: PathBuf,
    /// Blobs with an upload in progress (one at a time per blob; the blobs
    /// service's).
    pub uploading: Mutex<HashSet<String>>,
    /// The STUN and TURN server, when `turn_listen` is set (the nat
    /// service's).
    pub turn: std::sync::OnceLock<crate::services::nat::Turn>,
}

impl AppState {
    /// Builds the state.
    pub fn new(
        store: SqlStore,
        config: RelayConfig,
        peer_id: String,
        shutdown: tokio::sync::watch::Receiver<bool>,
        blob_dir: PathBuf,
    ) -> ApiResult<Self> {
        let l = &config.limits;
        let minute = Duration::from_secs(60);
        let limits = Limits {
            login_ip: Limiter::new(l.logins_per_ip_per_minute, minute),
            login_account: Limiter::new(l.login_failures_per_account_per_minute, minute),
            put_ip: Limiter::new(l.puts_per_ip_per_second, Duration::from_secs(1)),
            lookup_ip: Limiter::new(l.lookups_per_ip_per_minute, minute),
            community_write: Limiter::new(l.community_writes_per_account_per_minute, minute),
            community_read_ip: Limiter::new(l.community_reads_per_ip_per_minute, minute),
            trustee_ip: Limiter::new(l.trustee_requests_per_ip_per_minute, minute),
        };
        Ok(Self {
            passwords: Passwords::new(l.max_concurrent_hashes)?,
            store,
            hub: Arc::new(Hub::default()),
            config,
            limits,
            peer_id,
            multiaddrs: RwLock::new(Vec::new()),
            shutdown,
            blob_dir,
            uploading: Mutex::new(HashSet::new()),
            turn: std::sync::OnceLock::new(),
        })
    }
}
