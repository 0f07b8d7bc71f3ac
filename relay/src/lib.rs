//! # kovan-relay
//!
//! The optional kovan relay. It never sees plaintext: it gives accounts and
//! lookup (A1–A5, S1), holds sealed envelopes for offline devices, pushes
//! them over a WebSocket (W1, W3), hands out MLS KeyPackages, and helps with
//! NAT through a libp2p host (circuit relay v2, AutoNAT, Kademlia).
//!
//! Layout: one module per service in [`services`] (accounts and sessions,
//! directory, key packages, mailbox and push, blobs, info), each with its
//! routes, its storage trait and its OpenAPI entries; below them what they
//! share ([`state`], [`error`], [`http`], [`sessions`], [`db`], [`auth`],
//! [`hub`], [`ratelimit`]); above them [`router`] and [`openapi`], which
//! assemble the services. NAT help is [`p2p`].
//!
//! Tasks: the HTTP server ([`server`]: an accept loop with connection
//! limits and timeouts, one task per connection, axum's router), one task owning the libp2p `Swarm`
//! ([`p2p::run`]), one WebSocket task per client
//! ([`services::mailbox::push`]), and a sweeper for expired envelopes,
//! sessions and blobs ([`services::sweep`]). A `watch` channel signals
//! shutdown to all of them; the HTTP server drains in-flight requests
//! before the store closes, so nothing acknowledged is lost.
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod http;
pub mod hub;
pub mod openapi;
pub mod p2p;
pub mod private;
pub mod ratelimit;
pub mod router;
pub mod server;
pub mod services;
pub mod sessions;
pub mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use config::RelayConfig;
pub use services::info::Info;
use tokio::net::TcpListener;

/// How often expired envelopes and sessions are swept.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(30);

/// A running relay.
pub struct Relay {
    /// The HTTP address it listens on.
    pub addr: SocketAddr,
    /// Its shared state (for tests and the load tool).
    pub state: Arc<state::AppState>,
    shutdown: tokio::sync::watch::Sender<bool>,
    tasks: tokio::task::JoinSet<()>,
}

impl Relay {
    /// Starts a relay: connects and migrates the database, binds HTTP and
    /// libp2p listeners, spawns the tasks.
    pub async fn start(config: RelayConfig) -> anyhow::Result<Self> {
        config.validate()?;
        let fds = server::raise_fd_limit();
        let data_dir = config.data_dir()?;
        private::dir(&data_dir)?;
        private::database_file(&config.database_url()?)?;
        let store = db::SqlStore::connect(&config.database_url()?).await?;
        let key = p2p::load_or_create_key(&data_dir)?;
        let peer_id = key.public().to_peer_id().to_string();
        let swarm = p2p::build(key, &config.p2p_listen)?;
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
        let blob_dir = data_dir.join("blobs");
        private::dir(&blob_dir)?;
        let loose = private::tighten(&data_dir)? + private::tighten(&blob_dir)?;
        if loose > 0 {
            tracing::warn!(
                files = loose,
                "data files were readable by other users; made them private"
            );
        }
        let state =
            Arc::new(state::AppState::new(store, config, peer_id, shutdown_rx.clone(), blob_dir)?);
        let mut tasks = tokio::task::JoinSet::new();
        if let Some(listen) = state.config.turn_listen {
            let turn = services::nat::Turn::start(listen, state.config.turn_external).await?;
            let _ = state.turn.set(turn);
            let (st, mut rx) = (state.clone(), shutdown_rx.clone());
            tasks.spawn(async move {
                let _ = rx.changed().await;
                if let Some(t) = st.turn.get() {
                    t.close().await;
                }
            });
        }
        tasks.spawn(p2p::run(swarm, state.clone()));
        let app = router::routes().with_state(state.clone());
        let server_config =
            server::ServerConfig::new(&state.config.limits, &state.config.trusted_proxies, fds);
        tracing::info!(
            open_files = fds,
            connections = server_config.connections.total,
            "connection limits"
        );
        tasks.spawn(server::serve(listener, app, server_config, shutdown_rx.clone()));
        let sweeper = state.clone();
        let mut rx = shutdown_rx;
        tasks.spawn(async move {
            let mut tick = tokio::time::interval(SWEEP_INTERVAL);
            loop {
                tokio::select! {
                    biased;
                    _ = rx.changed() => break,
                    _ = tick.tick() => services::sweep(&sweeper).await,
                }
            }
        });
        tracing::info!(%addr, peer_id = %state.peer_id, backend = ?state.store.backend(), "relay started");
        Ok(Self { addr, state, shutdown, tasks })
    }

    /// The base URL, e.g. `http://127.0.0.1:8480`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the relay: closes WebSockets, finishes in-flight requests
    /// (bounded by `grace`), stops the p2p host, then closes the store.
    pub async fn shutdown(mut self, grace: Duration) {
        let _ = self.shutdown.send(true);
        let drained =
            tokio::time::timeout(grace, async { while self.tasks.join_next().await.is_some() {} })
                .await;
        if drained.is_err() {
            tracing::warn!("shutdown grace period over; aborting remaining tasks");
            self.tasks.abort_all();
        }
        self.state.store.close().await;
    }
}
