//! [`Ctx`]: what every screen shares. The shell owns it and lends it to
//! the screen it draws; a screen reads what the node has told the app,
//! queues commands, reports errors and asks for navigation through it, and
//! never sees another screen's state.

use std::collections::HashMap;

use eframe::egui;
use kovan_node::node::{
    ContactView, ConversationView, FileView, GroupView, InvitationView, ScheduledView,
};

use crate::backend::{Backend, BackendConfig, Cmd};
use crate::emoji::Emoji;
use crate::notify::{Notice, Notifier};
use crate::prefs::Prefs;
use crate::screens::chat::Pages;
use crate::widgets::{Confirm, contact_name};

/// How long "typing…" shows after someone's last signal.
pub const TYPING_SHOWN: std::time::Duration = std::time::Duration::from_secs(6);

/// Where a screen asks the shell to go (applied once the screen is drawn).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nav {
    /// The keys are being opened (or the node restarted): a spinner until
    /// the backend says where things stand.
    Opening,
    /// Show this conversation, on the Chats tab.
    OpenChat(String),
}

/// An error in the bar: its words and, for a command's error, what was
/// being done (a newer error about it, or its success, clears it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// In plain words.
    pub text: String,
    /// The action that failed (`"unlocking"`, `"searching"`…).
    pub about: Option<&'static str>,
}

/// What the screens share.
pub struct Ctx {
    pub(super) config: BackendConfig,
    pub(super) backend: Option<Backend>,
    pub(super) errors: Vec<Shown>,
    /// The conversation shown in the main panel.
    pub(super) open: Option<String>,
    pub(super) nav: Option<Nav>,
    /// A destructive command waiting for the user's yes.
    pub(super) confirm: Option<Confirm>,
    /// This account, hex.
    pub account: String,
    /// The relay username, while signed in.
    pub signed_in: Option<String>,
    /// The relay's push connection is up.
    pub relay_up: bool,
    /// Friends, requests, blocked accounts.
    pub contacts: Vec<ContactView>,
    /// Chats and groups, most recent first.
    pub conversations: Vec<ConversationView>,
    /// Groups this account is in.
    pub groups: Vec<GroupView>,
    /// Group invitations, both ways.
    pub invitations: Vec<InvitationView>,
    /// Scheduled messages.
    pub scheduled: Vec<ScheduledView>,
    /// Leave-no-trace chats (offered to this user, or running).
    pub no_trace: Vec<kovan_node::NoTraceView>,
    /// Transfers by file id.
    pub files: HashMap<String, FileView>,
    /// Each opened chat's loaded pages.
    pub chats: HashMap<String, Pages>,
    /// Avatars by username (`None`: asked for, or none).
    pub avatars: HashMap<String, Option<egui::TextureHandle>>,
    /// Colour emoji textures.
    pub emoji: Emoji,
    /// The window's preferences (theme, language, notifications).
    pub prefs: Prefs,
    pub(super) notifier: Notifier,
    /// Typing indicators are on (both ways).
    pub typing_indicators: bool,
    /// Who is typing where: conversation → account → since when.
    pub typing: HashMap<String, HashMap<String, std::time::Instant>>,
    /// Opening files, showing them in their folder, file dialogs.
    pub desktop: crate::desktop::Desktop,
}

impl Ctx {
    pub(super) fn new(config: BackendConfig) -> Self {
        Self {
            config,
            backend: None,
            errors: Vec::new(),
            open: None,
            nav: None,
            confirm: None,
            account: String::new(),
            signed_in: None,
            relay_up: false,
            contacts: Vec::new(),
            conversations: Vec::new(),
            groups: Vec::new(),
            invitations: Vec::new(),
            scheduled: Vec::new(),
            no_trace: Vec::new(),
            files: HashMap::new(),
            chats: HashMap::new(),
            avatars: HashMap::new(),
            emoji: Emoji::default(),
            prefs: Prefs::default(),
            notifier: Notifier::default(),
            desktop: crate::desktop::Desktop::default(),
            typing_indicators: true,
            typing: HashMap::new(),
        }
    }

    /// Now, by the node's clock (tests run a manual one).
    pub fn now_ms(&self) -> i64 {
        self.config.clock.now_ms()
    }

    /// Changes the preferences and writes them to `desktop.toml`.
    pub fn set_prefs(&mut self, prefs: Prefs) {
        if prefs == self.prefs {
            return;
        }
        self.prefs = prefs;
        crate::audio::choose(self.prefs.devices());
        if let Err(e) = self.prefs.save(&self.config.home) {
            self.error(tr!("shell-prefs-not-saved", error = e.to_string()));
        }
    }

    /// Shows a desktop notification, if the user wants them.
    pub fn notify(&mut self, notice: Notice) {
        if self.prefs.notifications {
            self.notifier.show(notice);
        }
    }

    /// Queues a command for the node; never waits (a full queue is an
    /// error shown to the user).
    pub fn send(&mut self, cmd: Cmd) {
        match &self.backend {
            Some(b) => {
                if let Err(e) = b.send(cmd) {
                    self.error(e);
                }
            }
            None => self.error(tr!("shell-not-started")),
        }
    }

    /// Shows an error, in plain words, in the bar (once: the same words
    /// again are not stacked).
    pub fn error(&mut self, message: String) {
        if !self.errors.iter().any(|e| e.text == message) {
            self.errors.push(Shown { text: message, about: None });
        }
    }

    /// Shows why `about` failed, in place of an earlier error about it.
    pub fn error_about(&mut self, about: &'static str, message: String) {
        self.errors.retain(|e| e.about != Some(about) && e.text != message);
        self.errors.push(Shown { text: message, about: Some(about) });
    }

    /// These actions worked: their errors are stale.
    pub fn succeeded(&mut self, actions: &[&str]) {
        self.errors.retain(|e| e.about.is_none_or(|a| !actions.contains(&a)));
    }

    /// Asks "Are you sure…?" before sending a destructive command (the
    /// shell draws the question over everything).
    pub fn ask(&mut self, confirm: Confirm) {
        self.confirm = Some(confirm);
    }

    /// Whether a question is up (its Esc is its own).
    pub fn asking(&self) -> bool {
        self.confirm.is_some()
    }

    /// Asks the shell to go somewhere once this frame's screen is drawn.
    pub fn go(&mut self, nav: Nav) {
        self.nav = Some(nav);
    }

    /// Shows no conversation (the one shown is gone).
    pub fn close_chat(&mut self) {
        self.open = None;
    }

    /// The conversation shown in the main panel.
    pub fn open(&self) -> Option<&str> {
        self.open.as_deref()
    }

    /// Where the node lives and which relay it was started with.
    pub fn config(&self) -> &BackendConfig {
        &self.config
    }

    /// Who is typing in `conv` now (each for at most 6 s after their last
    /// signal), by name.
    pub fn typing_in(&mut self, conv: &str) -> Vec<String> {
        let Some(who) = self.typing.get_mut(conv) else { return Vec::new() };
        who.retain(|_, since| since.elapsed() < TYPING_SHOWN);
        if who.is_empty() {
            return Vec::new();
        }
        let names = self.names(conv);
        let Some(who) = self.typing.get(conv) else { return Vec::new() };
        let mut list: Vec<String> = who
            .keys()
            .map(|a| names.get(a).cloned().unwrap_or_else(|| a.chars().take(8).collect()))
            .collect();
        list.sort();
        list
    }

    /// Names for the accounts seen in a conversation: this account, friends,
    /// the group's members.
    pub fn names(&self, conv: &str) -> HashMap<String, String> {
        let mut names = HashMap::new();
        for c in &self.contacts {
            names.insert(c.account.clone(), contact_name(c));
        }
        if let Some(g) = self.groups.iter().find(|g| g.id == conv) {
            for m in &g.members {
                names.entry(m.account.clone()).or_insert_with(|| m.name.clone());
            }
        }
        names.insert(self.account.clone(), tr!("shell-you"));
        names
    }
}
