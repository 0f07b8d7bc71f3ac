//! The node behind the window: a tokio runtime on its own thread runs the
//! `kovan-node` node; the UI thread never waits on it. The UI sends
//! [`Cmd`]s (a bounded queue; a full queue is an error shown to the user,
//! never a block) and drains [`Update`]s once a frame; the backend wakes
//! the UI with `request_repaint` whenever it has news.

use std::path::PathBuf;
use std::thread::JoinHandle;

use eframe::egui;
use kovan_node::home::Home;
use kovan_node::identity::Identity;
use kovan_node::node::{
    ContactView, ConversationView, FileView, GroupChange, GroupView, InvitationView, InviteView,
    MessageView, ReceiptView, ScheduledContent, ScheduledView,
};
use kovan_node::node::{NodeError, NodeOptions, SearchResult};
use kovan_node::{Event, Node, NodeHandle};
use tokio::sync::mpsc;

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
}

/// What the UI asks of the node.
#[derive(Debug, Clone)]
pub enum Cmd {
    /// Make a new identity and start.
    Create {
        /// The device's name.
        name: String,
        /// Seals the keystore.
        passphrase: String,
    },
    /// Open the keystore and start.
    Unlock {
        /// The passphrase.
        passphrase: String,
    },
    /// Stop the node and forget the keys in memory.
    Lock,
    /// Create an account on the relay.
    Register {
        /// Username.
        username: String,
        /// Password.
        password: String,
    },
    /// Log in to the relay.
    Login {
        /// Username.
        username: String,
        /// Password.
        password: String,
    },
    /// Search the relay directory and the LAN.
    Search(String),
    /// Ask someone to be friends.
    Request {
        /// A username, account or search target.
        who: String,
        /// A note for them.
        note: String,
    },
    /// Answer a friend request.
    Answer {
        /// Their account.
        account: String,
        /// Accept (else decline).
        accept: bool,
    },
    /// Re-read contacts and conversations.
    Refresh,
    /// Read a page of a conversation: the newest, or older than `before`.
    History {
        /// The conversation.
        conversation: String,
        /// A `seq` cursor: older than it.
        before: Option<i64>,
    },
    /// Mark a conversation read.
    MarkRead(String),
    /// Send a text.
    Send {
        /// The conversation.
        conversation: String,
        /// The text (`:shortcodes:` expand).
        text: String,
        /// The message it replies to.
        reply_to: Option<String>,
    },
    /// Create a group.
    GroupCreate {
        /// Its name.
        name: String,
    },
    /// Invite a friend into a group.
    GroupInvite {
        /// The group.
        group: String,
        /// The friend.
        who: String,
    },
    /// Answer an invitation.
    GroupAnswer {
        /// The invitation.
        invitation: String,
        /// Join (else decline).
        accept: bool,
    },
    /// Send a file, an image or a voice note from a path.
    SendFile {
        /// The conversation.
        conversation: String,
        /// The file.
        path: PathBuf,
        /// As an image (metadata stripped, thumbnail).
        image: bool,
    },
    /// Send a recorded voice note.
    SendVoice {
        /// The conversation.
        conversation: String,
        /// Mono samples at 48 kHz.
        samples: Vec<f32>,
    },
    /// Share a location: a point, or live for a while.
    ShareLocation {
        /// The conversation.
        conversation: String,
        /// Degrees.
        lat: f64,
        /// Degrees.
        lon: f64,
        /// A place name.
        label: String,
        /// Live for this long (updates every 30 s), else a fixed point.
        live: Option<std::time::Duration>,
    },
    /// Move one of this device's live shares.
    LocationUpdate {
        /// The conversation.
        conversation: String,
        /// The share (its message).
        id: String,
        /// Degrees.
        lat: f64,
        /// Degrees.
        lon: f64,
    },
    /// End one of this device's live shares for everyone.
    LocationStop {
        /// The conversation.
        conversation: String,
        /// The share (its message).
        id: String,
    },
    /// Fetch a received file (above the automatic size, or again).
    FetchFile(String),
    /// Stop a transfer.
    CancelFile(String),
    /// Start a poll.
    PollCreate {
        /// The conversation.
        conversation: String,
        /// The question.
        question: String,
        /// Two to twelve options.
        options: Vec<String>,
        /// Several choices allowed.
        multiple: bool,
    },
    /// Vote (an empty list withdraws).
    PollVote {
        /// The conversation.
        conversation: String,
        /// The poll message.
        poll: String,
        /// Option indexes.
        choices: Vec<u32>,
    },
    /// Close a poll (its creator).
    PollClose {
        /// The conversation.
        conversation: String,
        /// The poll message.
        poll: String,
    },
    /// Send a text later.
    Schedule {
        /// The conversation.
        conversation: String,
        /// The text.
        text: String,
        /// When, ms since the Unix epoch.
        due_at: i64,
    },
    /// Cancel a scheduled message.
    ScheduleCancel(String),
    /// Change a scheduled text (and its time, if given).
    ScheduleEdit {
        /// The scheduled message.
        id: String,
        /// The new text.
        text: String,
        /// A new time, ms since the Unix epoch.
        due_at: Option<i64>,
    },
    /// Decode a received image for the full view.
    LoadImage {
        /// Its file id.
        file: String,
        /// Where it was saved.
        path: PathBuf,
    },
    /// One of the smaller actions; the state is re-read after it.
    Act(Action),
    /// Read the relay account's settings and sessions.
    LoadSettings,
    /// Fetch a user's avatar from the relay directory.
    Avatar(String),
    /// Use another relay (saved in `kovan.toml`): the node locks, and
    /// connects to it when unlocked again.
    SetRelay(Option<String>),
    /// Ask for a contact's safety number.
    SafetyNumber(String),
    /// Add or take back a reaction.
    React {
        /// The conversation.
        conversation: String,
        /// The message.
        message: String,
        /// One emoji.
        emoji: String,
        /// Take it back.
        remove: bool,
    },
    /// Who has one of this account's messages and who read it.
    Receipts {
        /// The conversation.
        conversation: String,
        /// The message.
        message: String,
    },
    /// Read this account's invite links.
    Invites,
    /// Make an invite link.
    InviteCreate {
        /// What to call it.
        label: String,
        /// It stops working after this long (ms).
        expires_in_ms: Option<i64>,
        /// It admits this many requests in all.
        max_uses: Option<u32>,
    },
    /// Revoke an invite link.
    InviteRevoke(String),
    /// Start a chat with a friend in a private mode (X2, X3).
    ChatNew {
        /// The friend's account.
        friend: String,
        /// Leave no trace (else direct only).
        no_trace: bool,
    },
    /// Create a direct-only group (X2).
    GroupCreateDirect {
        /// Its name.
        name: String,
    },
    /// Answer a leave-no-trace chat a friend offered.
    NoTraceAnswer {
        /// The chat.
        chat: String,
        /// Accept (else decline).
        accept: bool,
    },
    /// End a leave-no-trace chat.
    NoTraceEnd(String),
    /// Seal a chat with a password, or change it (X6).
    SealChat {
        /// The conversation.
        conversation: String,
        /// The password.
        password: zeroize::Zeroizing<String>,
    },
    /// Unlock a sealed chat on this device.
    UnlockChat {
        /// The conversation.
        conversation: String,
        /// The password.
        password: zeroize::Zeroizing<String>,
    },
    /// Lock a sealed chat now.
    LockChat(String),
}

/// Actions whose result is the new state (re-read afterwards).
#[derive(Debug, Clone)]
pub enum Action {
    /// Change relay account settings (a JSON object of the changed keys).
    SaveSettings(serde_json::Value),
    /// End another session of this account.
    RevokeSession(String),
    /// Change the relay password.
    ChangePassword {
        /// The current one.
        old: String,
        /// The new one.
        new: String,
    },
    /// Log out of the relay.
    Logout,
    /// Delete the relay account.
    DeleteAccount {
        /// Confirms it.
        password: String,
    },
    /// End a friendship.
    Unfriend(String),
    /// Block (true) or unblock an account.
    Block(String, bool),
    /// Set this account's avatar from an image file, or remove it.
    SetAvatar(Option<PathBuf>),
    /// Mark a contact's safety number as compared.
    Verify(String),
    /// Change a group (admins).
    Group(String, GroupChange),
    /// Leave a group.
    Leave(String),
    /// Hide (true) or show a member's messages in a group, on this device.
    Mute(String, String, bool),
    /// Edit one of this account's messages.
    Edit {
        /// The conversation.
        conversation: String,
        /// The message.
        message: String,
        /// The new text.
        text: String,
    },
    /// Delete one of this account's messages for everyone.
    Delete {
        /// The conversation.
        conversation: String,
        /// The message.
        message: String,
    },
}

impl Action {
    fn what(&self) -> &'static str {
        match self {
            Self::SaveSettings(_) => "saving settings",
            Self::RevokeSession(_) => "ending the session",
            Self::ChangePassword { .. } => "changing the password",
            Self::Logout => "logging out",
            Self::DeleteAccount { .. } => "deleting the account",
            Self::Unfriend(_) => "unfriending",
            Self::Block(_, true) => "blocking",
            Self::Block(_, false) => "unblocking",
            Self::Verify(_) => "marking verified",
            Self::SetAvatar(_) => "setting the avatar",
            Self::Group(..) => "changing the group",
            Self::Leave(_) => "leaving the group",
            Self::Mute(..) => "muting",
            Self::Edit { .. } => "editing",
            Self::Delete { .. } => "deleting the message",
        }
    }
}

/// What the node tells the UI.
#[derive(Debug, Clone)]
pub enum Update {
    /// Whether this home has an identity yet.
    HasIdentity(bool),
    /// The node runs.
    Started {
        /// This account, hex.
        account: String,
    },
    /// The node stopped (locked).
    Locked,
    /// Logged in or registered on the relay.
    SignedIn {
        /// The username.
        username: String,
    },
    /// Friends, requests, blocked accounts.
    Contacts(Vec<ContactView>),
    /// Chats and groups, most recent first.
    Conversations(Vec<ConversationView>),
    /// A page of history, newest first.
    History {
        /// The conversation.
        conversation: String,
        /// The messages.
        messages: Vec<MessageView>,
        /// Older than a cursor (else the newest page).
        older: bool,
    },
    /// Transfers as they stand (a loaded page's files).
    Files(Vec<FileView>),
    /// Search results.
    Found(Vec<SearchResult>),
    /// Groups this account is in.
    Groups(Vec<GroupView>),
    /// Group invitations, both ways.
    Invitations(Vec<InvitationView>),
    /// Scheduled messages.
    Scheduled(Vec<ScheduledView>),
    /// The relay account's settings and sessions.
    Settings {
        /// Display name, about, discoverable, friend policy, read receipts.
        settings: serde_json::Value,
        /// Sessions (id, device, created, last used, current).
        sessions: serde_json::Value,
    },
    /// Logged out of the relay (or the account was deleted).
    SignedOut,
    /// A contact's safety number.
    SafetyNumber {
        /// Their account.
        account: String,
        /// The digits to compare.
        digits: String,
    },
    /// A user's avatar, decoded and scaled for display (`None`: none).
    Avatar {
        /// The username.
        username: String,
        /// Width, height and RGBA pixels.
        image: Option<(u32, u32, Vec<u8>)>,
    },
    /// An image decoded for the full view (`None`: it could not be).
    FullImage {
        /// Its file id.
        file: String,
        /// Width, height and RGBA pixels (at most [`FULL_SIDE`] a side).
        image: Option<(u32, u32, Vec<u8>)>,
    },
    /// Who has one of this account's messages and who read it.
    Receipts {
        /// The message.
        message: String,
        /// One entry per recipient.
        receipts: Vec<ReceiptView>,
    },
    /// This account's invite links, newest first.
    Invites(Vec<InviteView>),
    /// Leave-no-trace chats this device holds now.
    NoTrace(Vec<kovan_node::NoTraceView>),
    /// A sealed chat was unlocked: its history is read afresh.
    ChatUnlocked(String),
    /// The relay changed; unlocking connects to it.
    RelayChanged(Option<String>),
    /// A message this device sent.
    Sent(Box<MessageView>),
    /// Something happened in the node.
    Event(Box<Event>),
    /// The database was damaged and its last backup restored at start.
    Restored(kovan_node::backup::Restored),
    /// A command failed; in words for the user.
    Error {
        /// What was being done.
        action: &'static str,
        /// What went wrong.
        message: String,
    },
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
            let out = Out { tx: up_tx, ctx };
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
        self.send(Update::Error { action, message: message.to_string() }).await;
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
    refresh(&node, out).await;
    Some(node)
}

async fn refresh(n: &NodeHandle, out: &Out) {
    match n.contacts().await {
        Ok(c) => out.send(Update::Contacts(c)).await,
        Err(e) => out.error("reading contacts", e).await,
    }
    match n.conversations().await {
        Ok(c) => out.send(Update::Conversations(c)).await,
        Err(e) => out.error("reading chats", e).await,
    }
    match n.groups().await {
        Ok(g) => out.send(Update::Groups(g)).await,
        Err(e) => out.error("reading groups", e).await,
    }
    match n.group_invitations().await {
        Ok(i) => out.send(Update::Invitations(i)).await,
        Err(e) => out.error("reading invitations", e).await,
    }
    match n.scheduled(None).await {
        Ok(s) => out.send(Update::Scheduled(s)).await,
        Err(e) => out.error("reading scheduled messages", e).await,
    }
    match n.no_trace_chats().await {
        Ok(v) => out.send(Update::NoTrace(v)).await,
        Err(e) => out.error("reading no-trace chats", e).await,
    }
}

async fn invites(n: &NodeHandle, out: &Out) {
    match n.invites().await {
        Ok(v) => out.send(Update::Invites(v)).await,
        Err(e) => out.error("reading the invite links", e).await,
    }
}

async fn load_settings(n: &NodeHandle, out: &Out) {
    let settings = match n.settings().await {
        Ok(s) => s,
        Err(e) => return out.error("reading settings", e).await,
    };
    let sessions = match n.sessions().await {
        Ok(s) => s,
        Err(e) => return out.error("reading sessions", e).await,
    };
    out.send(Update::Settings { settings, sessions }).await;
}

async fn command(n: &NodeHandle, cmd: Cmd, out: &Out) {
    match cmd {
        Cmd::Register { username, password } => match n.register(&username, &password).await {
            Ok(()) => out.send(Update::SignedIn { username }).await,
            Err(e) => out.error("signing up", e).await,
        },
        Cmd::Login { username, password } => match n.login(&username, &password).await {
            Ok(()) => out.send(Update::SignedIn { username }).await,
            Err(e) => out.error("logging in", e).await,
        },
        Cmd::Search(q) => match n.search(&q).await {
            Ok(r) => out.send(Update::Found(r)).await,
            Err(e) => out.error("searching", e).await,
        },
        Cmd::Request { who, note } => match n.friend_request(&who, &note).await {
            Ok(_) => refresh(n, out).await,
            Err(e) => out.error("sending the friend request", e).await,
        },
        Cmd::Answer { account, accept } => {
            let r = if accept {
                n.friend_accept(&account).await
            } else {
                n.friend_decline(&account).await
            };
            match r {
                Ok(_) => refresh(n, out).await,
                Err(e) => out.error("answering the request", e).await,
            }
        }
        Cmd::Refresh => refresh(n, out).await,
        Cmd::History { conversation, before } => {
            match n.history(&conversation, before, PAGE).await {
                Ok(messages) => {
                    // The page's files as they stand (saved, offered…):
                    // their events came while the chat was not loaded.
                    let mut files = Vec::new();
                    for meta in messages.iter().filter_map(|m| m.file.as_ref()) {
                        if let Ok(f) = n.file(&meta.id).await {
                            files.push(f);
                        }
                    }
                    if !files.is_empty() {
                        out.send(Update::Files(files)).await;
                    }
                    out.send(Update::History { conversation, messages, older: before.is_some() })
                        .await;
                }
                Err(e) => out.error("reading the chat", e).await,
            }
        }
        Cmd::MarkRead(c) => {
            if let Err(e) = n.mark_read(&c).await {
                out.error("marking the chat read", e).await;
            }
        }
        Cmd::Send { conversation, text, reply_to } => {
            match n.send_text(&conversation, &text, reply_to.as_deref()).await {
                Ok(m) => out.send(Update::Sent(Box::new(m))).await,
                Err(e) => out.error("sending", e).await,
            }
        }
        Cmd::ChatNew { friend, no_trace } => {
            let started = if no_trace {
                n.chat_new_no_trace(&friend).await.map(|_| ())
            } else {
                n.chat_new(&friend, kovan_spec::ConversationMode::DirectOnly).await.map(|_| ())
            };
            match started {
                Ok(()) => refresh(n, out).await,
                Err(e) => out.error("starting the chat", e).await,
            }
        }
        Cmd::GroupCreateDirect { name } => {
            let mode = kovan_spec::ConversationMode::DirectOnly;
            match n.group_create_in_mode(&name, "", false, mode).await {
                Ok(_) => refresh(n, out).await,
                Err(e) => out.error("creating the group", e).await,
            }
        }
        Cmd::NoTraceAnswer { chat, accept } => match n.no_trace_answer(&chat, accept).await {
            Ok(_) => refresh(n, out).await,
            Err(e) => out.error("answering the no-trace chat", e).await,
        },
        Cmd::NoTraceEnd(chat) => match n.no_trace_end(&chat).await {
            Ok(()) => refresh(n, out).await,
            Err(e) => out.error("ending the chat", e).await,
        },
        Cmd::SealChat { conversation, password } => match n.seal(&conversation, &password).await {
            Ok(_) => refresh(n, out).await,
            Err(e) => out.error("sealing the chat", e).await,
        },
        Cmd::UnlockChat { conversation, password } => {
            match n.unlock_chat(&conversation, &password).await {
                Ok(_) => {
                    refresh(n, out).await;
                    out.send(Update::ChatUnlocked(conversation)).await;
                }
                Err(e) => out.error("unlocking the chat", e).await,
            }
        }
        Cmd::LockChat(conversation) => match n.lock_chat(&conversation).await {
            Ok(_) => refresh(n, out).await,
            Err(e) => out.error("locking the chat", e).await,
        },
        Cmd::GroupCreate { name } => match n.group_create(&name, "", false).await {
            Ok(_) => refresh(n, out).await,
            Err(e) => out.error("creating the group", e).await,
        },
        Cmd::GroupInvite { group, who } => match n.group_invite(&group, &who).await {
            Ok(_) => refresh(n, out).await,
            Err(e) => out.error("inviting", e).await,
        },
        Cmd::GroupAnswer { invitation, accept } => {
            match n.group_answer(&invitation, accept).await {
                Ok(_) => refresh(n, out).await,
                Err(e) => out.error("answering the invitation", e).await,
            }
        }
        Cmd::SendFile { conversation, path, image } => {
            let sent = if image {
                n.send_image(&conversation, &path, "", None).await
            } else {
                n.send_file(&conversation, &path, "", None).await
            };
            match sent {
                Ok(m) => out.send(Update::Sent(Box::new(m))).await,
                Err(e) => out.error("sending the file", e).await,
            }
        }
        Cmd::SendVoice { conversation, samples } => {
            let source = kovan_node::node::VoiceSource::Samples(samples);
            match n.send_voice(&conversation, source, "", None).await {
                Ok(m) => out.send(Update::Sent(Box::new(m))).await,
                Err(e) => out.error("sending the voice note", e).await,
            }
        }
        Cmd::ShareLocation { conversation, lat, lon, label, live } => {
            let shared = match kovan_spec::Point::from_degrees(lat, lon, 0) {
                Ok(point) => {
                    let live = live.map(|duration| kovan_node::node::LiveShare {
                        duration,
                        every: LIVE_EVERY,
                        track: Vec::new(),
                    });
                    n.share_location(&conversation, point, &label, live).await
                }
                Err(e) => return out.error("sharing the location", e).await,
            };
            match shared {
                Ok(m) => out.send(Update::Sent(Box::new(m))).await,
                Err(e) => out.error("sharing the location", e).await,
            }
        }
        Cmd::LocationUpdate { conversation, id, lat, lon } => {
            let moved = match kovan_spec::Point::from_degrees(lat, lon, 0) {
                Ok(point) => n.location_update(&conversation, &id, point).await,
                Err(e) => return out.error("moving the shared location", e).await,
            };
            match moved {
                Ok(m) => out.send(Update::Sent(Box::new(m))).await,
                Err(e) => out.error("moving the shared location", e).await,
            }
        }
        Cmd::LocationStop { conversation, id } => match n.location_stop(&conversation, &id).await {
            Ok(m) => out.send(Update::Sent(Box::new(m))).await,
            Err(e) => out.error("stopping the shared location", e).await,
        },
        Cmd::FetchFile(id) => {
            if let Err(e) = n.fetch_file(&id).await {
                out.error("fetching the file", e).await;
            }
        }
        Cmd::CancelFile(id) => {
            if let Err(e) = n.cancel_file(&id).await {
                out.error("cancelling the transfer", e).await;
            }
        }
        Cmd::PollCreate { conversation, question, options, multiple } => {
            match n.poll_create(&conversation, &question, options, multiple).await {
                Ok(m) => out.send(Update::Sent(Box::new(m))).await,
                Err(e) => out.error("starting the poll", e).await,
            }
        }
        Cmd::PollVote { conversation, poll, choices } => {
            match n.poll_vote(&conversation, &poll, choices).await {
                Ok(m) => out.send(Update::Sent(Box::new(m))).await,
                Err(e) => out.error("voting", e).await,
            }
        }
        Cmd::PollClose { conversation, poll } => match n.poll_close(&conversation, &poll).await {
            Ok(m) => out.send(Update::Sent(Box::new(m))).await,
            Err(e) => out.error("closing the poll", e).await,
        },
        Cmd::Schedule { conversation, text, due_at } => {
            let content = ScheduledContent::Text { text, reply_to: None };
            match n.schedule(&conversation, content, due_at).await {
                Ok(_) => refresh(n, out).await,
                Err(e) => out.error("scheduling", e).await,
            }
        }
        Cmd::ScheduleEdit { id, text, due_at } => {
            let content = ScheduledContent::Text { text, reply_to: None };
            match n.schedule_edit(&id, Some(content), due_at).await {
                Ok(_) => refresh(n, out).await,
                Err(e) => out.error("changing the scheduled message", e).await,
            }
        }
        Cmd::LoadImage { file, path } => {
            let image = tokio::task::spawn_blocking(move || {
                let bytes = std::fs::read(path).ok()?;
                let img = kovan_node::media::decode_for_display(&bytes).ok()?;
                let img = if img.width().max(img.height()) > FULL_SIDE {
                    img.resize(FULL_SIDE, FULL_SIDE, image::imageops::FilterType::Triangle)
                } else {
                    img
                };
                let rgba = img.to_rgba8();
                Some((rgba.width(), rgba.height(), rgba.into_raw()))
            })
            .await
            .ok()
            .flatten();
            out.send(Update::FullImage { file, image }).await;
        }
        Cmd::ScheduleCancel(id) => match n.schedule_cancel(&id).await {
            Ok(_) => refresh(n, out).await,
            Err(e) => out.error("cancelling the scheduled message", e).await,
        },
        Cmd::Act(action) => {
            let what = action.what();
            let signs_out = matches!(action, Action::Logout | Action::DeleteAccount { .. });
            let done = match action {
                Action::SaveSettings(patch) => n.update_settings(&patch).await.map(drop),
                Action::RevokeSession(id) => n.revoke_session(&id).await,
                Action::ChangePassword { old, new } => n.change_password(&old, &new).await,
                Action::Logout => n.logout().await,
                Action::DeleteAccount { password } => n.delete_account(&password).await,
                Action::Unfriend(a) => n.friend_remove(&a).await.map(drop),
                Action::Block(a, true) => n.block(&a).await.map(drop),
                Action::Block(a, false) => n.unblock(&a).await.map(drop),
                Action::Verify(a) => {
                    n.verify(&a, kovan_node::node::Verification::Compared).await.map(drop)
                }
                Action::SetAvatar(path) => {
                    let set = set_avatar(n, path).await;
                    if set.is_ok()
                        && let Ok(kovan_node::node::Status { username: Some(u), .. }) =
                            n.status().await
                    {
                        fetch_avatar(n, u, out).await;
                    }
                    set
                }
                Action::Group(g, change) => n.group_change(&g, change).await.map(drop),
                Action::Leave(g) => n.group_leave(&g).await.map(drop),
                Action::Mute(g, who, on) => n.group_mute(&g, &who, on).await.map(drop),
                Action::Edit { conversation, message, text } => {
                    n.edit(&conversation, &message, &text).await.map(drop)
                }
                Action::Delete { conversation, message } => n.delete(&conversation, &message).await,
            };
            match done {
                Ok(()) if signs_out => out.send(Update::SignedOut).await,
                Ok(()) => {
                    refresh(n, out).await;
                    if what.contains("session") || what.contains("settings") {
                        load_settings(n, out).await;
                    }
                }
                Err(e) => out.error(what, e).await,
            }
        }
        Cmd::LoadSettings => {
            load_settings(n, out).await;
            invites(n, out).await;
        }
        Cmd::Avatar(username) => fetch_avatar(n, username, out).await,
        Cmd::SafetyNumber(account) => match n.safety_number(&account).await {
            Ok(digits) => out.send(Update::SafetyNumber { account, digits }).await,
            Err(e) => out.error("reading the safety number", e).await,
        },
        Cmd::React { conversation, message, emoji, remove } => {
            if let Err(e) = n.react(&conversation, &message, &emoji, remove).await {
                out.error("reacting", e).await;
            }
        }
        Cmd::Receipts { conversation, message } => {
            match n.receipts(&conversation, &message).await {
                Ok(receipts) => out.send(Update::Receipts { message, receipts }).await,
                Err(e) => out.error("reading the message info", e).await,
            }
        }
        Cmd::Invites => invites(n, out).await,
        Cmd::InviteCreate { label, expires_in_ms, max_uses } => {
            match n.invite_create(&label, expires_in_ms, max_uses).await {
                Ok(_) => invites(n, out).await,
                Err(e) => out.error("making the invite link", e).await,
            }
        }
        Cmd::InviteRevoke(id) => match n.invite_revoke(&id).await {
            Ok(_) => invites(n, out).await,
            Err(e) => out.error("revoking the invite link", e).await,
        },
        Cmd::Create { .. } | Cmd::Unlock { .. } | Cmd::Lock | Cmd::SetRelay(_) => {}
    }
}

/// The longest side of an image in the full view, in pixels.
pub const FULL_SIDE: u32 = 2048;

/// Side of an avatar as shown, in pixels.
pub const AVATAR_SIDE: u32 = 64;

/// An avatar (from the relay: decoded under limits) scaled to a square.
fn avatar_pixels(bytes: &[u8]) -> Option<(u32, u32, Vec<u8>)> {
    let img = kovan_node::media::decode_for_display(bytes).ok()?;
    let img = img.resize_to_fill(AVATAR_SIDE, AVATAR_SIDE, image::imageops::FilterType::Triangle);
    let rgba = img.to_rgba8();
    Some((rgba.width(), rgba.height(), rgba.into_raw()))
}

async fn fetch_avatar(n: &NodeHandle, username: String, out: &Out) {
    match n.avatar(&username).await {
        Ok(bytes) => {
            let image = match bytes {
                Some(b) => {
                    tokio::task::spawn_blocking(move || avatar_pixels(&b)).await.ok().flatten()
                }
                None => None,
            };
            out.send(Update::Avatar { username, image }).await;
        }
        Err(e) => tracing::debug!(error = %e, "no avatar"),
    }
}

async fn set_avatar(n: &NodeHandle, path: Option<PathBuf>) -> kovan_node::NodeResult<()> {
    let image = match path {
        Some(p) => {
            let bytes = tokio::fs::read(&p)
                .await
                .map_err(|e| kovan_node::NodeError::Invalid(format!("{}: {e}", p.display())))?;
            if bytes.len() > kovan_spec::limits::MAX_AVATAR_BYTES {
                return Err(kovan_node::NodeError::Invalid(
                    "an avatar is at most 256 KiB; pick a smaller image".into(),
                ));
            }
            Some(bytes)
        }
        None => None,
    };
    n.set_avatar(image).await
}
