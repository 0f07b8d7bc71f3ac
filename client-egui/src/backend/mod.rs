//! The node behind the window: a tokio runtime on its own thread runs the
//! `kovan-node` node; the UI thread never waits on it. The UI sends
//! [`Cmd`]s (a bounded queue; a full queue is an error shown to the user,
//! never a block) and drains [`Update`]s once a frame; the backend wakes
//! the UI with `request_repaint` whenever it has news.
//!
//! | part | file |
//! |---|---|
//! | what the UI asks and what it is told ([`Cmd`], [`Action`], [`Update`]) | `messages.rs` |
//! | the runtime thread, starting and stopping the node | `mod.rs` |
//! | running each command | `commands.rs` |
//! | the Communities tab's commands and answers | `communities.rs` |
//! | the Spreads tab's commands | `spreads.rs` |

mod calls;
mod commands;
mod communities;
mod messages;
mod spreads;

use std::path::PathBuf;
use std::thread::JoinHandle;

use eframe::egui;
use kovan_node::home::Home;
use kovan_node::identity::Identity;
use kovan_node::node::{NodeError, NodeOptions};
use kovan_node::{Event, Node, NodeHandle};
use tokio::sync::mpsc;

pub use self::calls::CallCmd;
pub use self::commands::{AVATAR_SIDE, FULL_SIDE};
use self::commands::{command, refresh};
pub use self::communities::{
    Closing, CommunityCmd, CommunityUpdate, JoinRequest, ModAction, POST_PAGE, Sort,
};
pub use self::messages::{Action, Cmd, Update};
pub use self::spreads::SpreadCmd;

/// Commands queued from the UI.
pub const CMD_QUEUE: usize = 256;
/// Updates queued for the UI (drained every frame).
pub const UPDATE_QUEUE: usize = 4096;
/// Messages per history page.
pub const PAGE: usize = 50;
/// How often a live location share sends the position.
pub const LIVE_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Where the node lives and how it talks.
#[derive(Debug, Clone, Default)]
pub struct BackendConfig {
    /// The node's home (keystore, database, `kovan.toml`).
    pub home: PathBuf,
    /// A relay to use (else the one in `kovan.toml`, if any).
    pub relay: Option<String>,
    /// Listen on 127.0.0.1 only, without LAN discovery (tests).
    pub loopback: bool,
    /// The node's clock (tests set a manual one for stable pictures).
    pub clock: kovan_node::clock::Clock,
    /// Calls send the test pattern instead of opening the system's
    /// camera (tests, and machines without one).
    pub test_camera: bool,
}

/// The handle the UI keeps.
pub struct Backend {
    cmds: mpsc::Sender<Cmd>,
    updates: mpsc::Receiver<Update>,
    thread: Option<JoinHandle<()>>,
}

impl Backend {
    /// Starts the backend thread; `ctx` is woken on every update.
    pub fn start(config: BackendConfig, ctx: egui::Context) -> std::io::Result<Self> {
        let (cmds, cmd_rx) = mpsc::channel(CMD_QUEUE);
        let (up_tx, updates) = mpsc::channel(UPDATE_QUEUE);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kovan-node")
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new().name("kovan-backend".into()).spawn(move || {
            let out = Out { tx: up_tx, ctx, test_camera: config.test_camera };
            rt.block_on(run(config, cmd_rx, out));
            rt.shutdown_timeout(std::time::Duration::from_secs(5));
        })?;
        Ok(Self { cmds, updates, thread: Some(thread) })
    }

    /// Queues a command; never blocks (a full queue is an error).
    pub fn send(&self, cmd: Cmd) -> Result<(), String> {
        self.cmds.try_send(cmd).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => "kovan is busy; try again in a moment".into(),
            mpsc::error::TrySendError::Closed(_) => "the node has stopped".into(),
        })
    }

    /// Everything that arrived since the last call.
    pub fn drain(&mut self) -> Vec<Update> {
        let mut out = Vec::new();
        while let Ok(u) = self.updates.try_recv() {
            out.push(u);
        }
        out
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        // Closing the command queue ends the backend loop, which shuts the
        // node down cleanly.
        let (closed, _) = mpsc::channel(1);
        self.cmds = closed;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[derive(Clone)]
struct Out {
    tx: mpsc::Sender<Update>,
    ctx: egui::Context,
    /// The call window's camera button sends the test pattern (see
    /// [`BackendConfig::test_camera`]).
    test_camera: bool,
}

impl Out {
    async fn send(&self, u: Update) {
        if self.tx.send(u).await.is_ok() {
            self.ctx.request_repaint();
        }
    }

    async fn error<E: std::fmt::Display + 'static>(&self, action: &'static str, message: E) {
        // A command the lock overtook: the node stopped under it, and
        // nothing the user asked for failed.
        let any: &dyn std::any::Any = &message;
        if matches!(any.downcast_ref::<NodeError>(), Some(NodeError::Stopped)) {
            tracing::debug!(action, "dropped: the node stopped");
            return;
        }
        let problem = crate::errors::Problem::of(&message);
        self.send(Update::Error { action, problem }).await;
    }
}

async fn run(mut config: BackendConfig, mut cmds: mpsc::Receiver<Cmd>, out: Out) {
    let home = Home::at(&config.home);
    out.send(Update::HasIdentity(home.keystore().exists())).await;
    let mut node: Option<NodeHandle> = None;
    while let Some(cmd) = cmds.recv().await {
        match cmd {
            Cmd::Create { name, passphrase } => {
                let h = home.clone();
                let made = tokio::task::spawn_blocking(move || {
                    h.ensure()?;
                    Identity::create(&h, passphrase.as_bytes(), &name)
                })
                .await;
                match made {
                    Ok(Ok(id)) => node = start(&config, &home, id, &out).await,
                    Ok(Err(e)) => out.error("creating your identity", e).await,
                    Err(e) => out.error("creating your identity", e).await,
                }
            }
            Cmd::Unlock { passphrase } => {
                let h = home.clone();
                let opened = tokio::task::spawn_blocking(move || {
                    Identity::unlock(&h, passphrase.as_bytes())
                })
                .await;
                match opened {
                    Ok(Ok(id)) => node = start(&config, &home, id, &out).await,
                    Ok(Err(e)) => out.error("unlocking", e).await,
                    Err(e) => out.error("unlocking", e).await,
                }
            }
            Cmd::Lock => {
                if let Some(n) = node.take() {
                    n.shutdown().await;
                }
                out.send(Update::Locked).await;
            }
            Cmd::SetRelay(url) => {
                let h = home.clone();
                let u = url.clone();
                let saved = tokio::task::spawn_blocking(move || {
                    kovan_node::config::NodeConfig::save_relay_url(&h, u.as_deref())
                })
                .await;
                match saved {
                    Ok(Ok(_)) => {
                        config.relay = url.clone();
                        if let Some(n) = node.take() {
                            n.shutdown().await;
                        }
                        out.send(Update::RelayChanged(url)).await;
                        out.send(Update::Locked).await;
                    }
                    Ok(Err(e)) => out.error("changing the relay", e).await,
                    Err(e) => out.error("changing the relay", e).await,
                }
            }
            other => match &node {
                Some(n) => {
                    // Each command on its own task: a slow relay call never
                    // holds up a message being sent.
                    let (n, out) = (n.clone(), out.clone());
                    tokio::spawn(async move { command(&n, other, &out).await });
                }
                None => out.error("that", "kovan is locked").await,
            },
        }
    }
    if let Some(n) = node {
        n.shutdown().await;
    }
}

async fn start(config: &BackendConfig, home: &Home, id: Identity, out: &Out) -> Option<NodeHandle> {
    let name = id.certificate().device_name().to_owned();
    let options = if config.loopback {
        let mut o = NodeOptions::loopback(home.clone(), &name);
        o.relay_url = config.relay.clone();
        o
    } else {
        let file = match kovan_node::config::NodeConfig::load(home) {
            Ok(c) => c,
            Err(e) => {
                out.error("reading kovan.toml", e).await;
                return None;
            }
        };
        match NodeOptions::from_config(home.clone(), &file, config.relay.clone(), &name) {
            Ok(o) => o,
            Err(e) => {
                out.error("reading kovan.toml", e).await;
                return None;
            }
        }
    };
    let mut options = options;
    options.clock = config.clock.clone();
    let node = match Node::start(id, options).await {
        Ok(n) => n,
        Err(e) => {
            out.error("starting kovan", e).await;
            return None;
        }
    };
    // Events flow to the UI for as long as the node runs.
    let mut events = node.subscribe();
    let fwd = out.clone();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(e) => fwd.send(Update::Event(Box::new(e))).await,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    // Fell behind: re-read the state instead.
                    fwd.send(Update::Event(Box::new(Event::RelayConnected))).await;
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    out.send(Update::Started { account: node.account_hex() }).await;
    // Where things stand: a relay session kept from the last run, a push
    // stream already up (its event may have come before the forwarder
    // subscribed), a restored database.
    match node.status().await {
        Ok(status) => {
            if let (true, Some(r)) = (status.restored_at_start, status.restored) {
                out.send(Update::Restored(r)).await;
            }
            if let Some(username) = status.username {
                out.send(Update::SignedIn { username }).await;
            }
            if status.relay_connected {
                out.send(Update::Event(Box::new(Event::RelayConnected))).await;
            }
        }
        Err(e) => out.error("reading the node's status", e).await,
    }
    if let Ok(on) = node.typing_indicators().await {
        out.send(Update::TypingIndicators(on)).await;
    }
    refresh(&node, out).await;
    Some(node)
}
