//! The window: first run, unlock, chats and people. Immediate mode: every
//! frame drains the backend's updates into [`App`]'s state, then draws it.
//! Nothing here waits on the node.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use eframe::egui::{self, Color32, RichText};
use kovan_node::Event;
use kovan_node::contacts::FriendState;
use kovan_node::node::{
    ContactView, ConversationView, FileView, GroupView, InvitationView, MessageView,
    ScheduledContent, ScheduledView, SearchResult,
};

use crate::backend::{Action, Backend, BackendConfig, Cmd, PAGE, Update};
use crate::emoji;
use crate::widgets::{
    FileAction, avatar, civil_day, clock, field, file_line, format_day, labelled, presence,
    rgba_texture, short, small_weak, waveform,
};
use kovan_node::node::GroupChange;

/// Locks itself after this long without input.
pub const IDLE_LOCK: Duration = Duration::from_secs(10 * 60);

/// Which screen is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// Waiting for the backend to look at the home.
    Starting,
    /// No identity yet: make one.
    FirstRun,
    /// An identity exists: the passphrase opens it.
    Unlock,
    /// Opening the keystore (Argon2id takes a moment).
    Opening,
    /// The app proper.
    Main,
}

/// The left-hand tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Conversations.
    Chats,
    /// Search, requests, friends.
    People,
    /// Profile, privacy, sessions, account.
    Settings,
}

/// One open conversation's loaded history, oldest first.
#[derive(Debug, Default)]
struct Chat {
    messages: Vec<MessageView>,
    /// Each message's height (with its day separator) when last laid out:
    /// messages far from the visible part are skipped over by it.
    heights: HashMap<String, f32>,
    /// An older page was asked for and has not come yet.
    loading_older: bool,
    /// The oldest page came back short: nothing older.
    complete: bool,
}

impl Chat {
    fn upsert(&mut self, m: MessageView) {
        match self.messages.iter_mut().find(|x| x.id == m.id) {
            Some(x) => *x = m,
            None => {
                let at = self.messages.partition_point(|x| x.seq < m.seq);
                self.messages.insert(at, m);
            }
        }
    }
}

/// The application's state.
pub struct App {
    config: BackendConfig,
    backend: Option<Backend>,
    /// Which screen is up.
    pub screen: Screen,
    tab: Tab,
    account: String,
    signed_in: Option<String>,
    relay_up: bool,
    // Form fields.
    device_name: String,
    passphrase: String,
    passphrase2: String,
    username: String,
    password: String,
    search: String,
    found: Vec<SearchResult>,
    contacts: Vec<ContactView>,
    conversations: Vec<ConversationView>,
    open: Option<String>,
    chats: HashMap<String, Chat>,
    drafts: HashMap<String, String>,
    replying_to: Option<MessageView>,
    errors: Vec<String>,
    last_input: Instant,
    groups: Vec<GroupView>,
    invitations: Vec<InvitationView>,
    scheduled: Vec<ScheduledView>,
    files: HashMap<String, FileView>,
    thumbnails: HashMap<String, Option<egui::TextureHandle>>,
    new_group: String,
    attach_path: String,
    poll_question: String,
    poll_options: String,
    poll_multiple: bool,
    send_at: String,
    lat: String,
    lon: String,
    place: String,
    live_for: String,
    settings: Option<serde_json::Value>,
    sessions: Vec<serde_json::Value>,
    safety: HashMap<String, String>,
    old_password: String,
    new_password: String,
    rename_to: String,
    editing: Option<String>,
    emoji: crate::emoji::Emoji,
    picker: crate::emoji::Picker,
    picker_open: bool,
    /// The message whose reaction picker is open.
    reacting: Option<String>,
    /// A voice note being recorded, for this conversation; sent when it
    /// ends unless discarded.
    recording: Option<(String, crate::audio::Recorder, bool)>,
    /// The voice note playing (its file id).
    playing: Option<(String, crate::audio::Player)>,
    /// Avatars by username (`None`: asked for, or none).
    avatars: HashMap<String, Option<egui::TextureHandle>>,
    avatar_path: String,
    relay_field: String,
    /// Shown on the unlock screen after the relay changed.
    notice: Option<String>,
    /// The scheduled message whose text is in the composer.
    editing_scheduled: Option<String>,
    /// An image shown full size: its file id and picture once decoded.
    viewing: Option<(String, Option<egui::TextureHandle>)>,
}

impl App {
    /// An app for this home; the node starts with the first frame.
    pub fn new(config: BackendConfig) -> Self {
        Self {
            config,
            backend: None,
            screen: Screen::Starting,
            tab: Tab::Chats,
            account: String::new(),
            signed_in: None,
            relay_up: false,
            device_name: String::new(),
            passphrase: String::new(),
            passphrase2: String::new(),
            username: String::new(),
            password: String::new(),
            search: String::new(),
            found: Vec::new(),
            contacts: Vec::new(),
            conversations: Vec::new(),
            open: None,
            chats: HashMap::new(),
            drafts: HashMap::new(),
            replying_to: None,
            errors: Vec::new(),
            last_input: Instant::now(),
            groups: Vec::new(),
            invitations: Vec::new(),
            scheduled: Vec::new(),
            files: HashMap::new(),
            thumbnails: HashMap::new(),
            new_group: String::new(),
            attach_path: String::new(),
            poll_question: String::new(),
            poll_options: String::new(),
            poll_multiple: false,
            send_at: String::new(),
            lat: String::new(),
            lon: String::new(),
            place: String::new(),
            live_for: String::new(),
            settings: None,
            sessions: Vec::new(),
            safety: HashMap::new(),
            old_password: String::new(),
            new_password: String::new(),
            rename_to: String::new(),
            editing: None,
            emoji: Default::default(),
            picker: Default::default(),
            picker_open: false,
            reacting: None,
            recording: None,
            playing: None,
            avatars: HashMap::new(),
            avatar_path: String::new(),
            relay_field: String::new(),
            notice: None,
            editing_scheduled: None,
            viewing: None,
        }
    }

    /// Unlocks with this passphrase (as the unlock screen does).
    pub fn unlock_with(&mut self, passphrase: &str) {
        self.send(Cmd::Unlock { passphrase: passphrase.to_owned() });
        self.screen = Screen::Opening;
    }

    /// Chats and groups listed.
    pub fn conversation_count(&self) -> usize {
        self.conversations.len()
    }

    /// Opens the chat with this title (as a click in the list does).
    pub fn open_by_title(&mut self, title: &str) {
        if let Some(id) = self.conversations.iter().find(|c| c.title == title).map(|c| c.id.clone())
        {
            self.tab = Tab::Chats;
            self.open_chat(id);
        }
    }

    /// Errors shown to the user, oldest first.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    fn send(&mut self, cmd: Cmd) {
        match &self.backend {
            Some(b) => {
                if let Err(e) = b.send(cmd) {
                    self.errors.push(e);
                }
            }
            None => self.errors.push("kovan has not started".into()),
        }
    }

    /// Draws one frame.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        if self.backend.is_none() {
            match Backend::start(self.config.clone(), ui.ctx().clone()) {
                Ok(b) => self.backend = Some(b),
                Err(e) => self.errors.push(format!("kovan could not start: {e}")),
            }
        }
        self.emoji.trim();
        self.apply_updates(&ui.ctx().clone());
        self.poll_audio(ui.ctx());
        if ui.input(|i| !i.events.is_empty()) {
            self.last_input = Instant::now();
        }
        if self.screen == Screen::Main && self.last_input.elapsed() > IDLE_LOCK {
            self.lock();
        }
        self.error_bar(ui);
        match self.screen {
            Screen::Starting | Screen::Opening => {
                egui::CentralPanel::default().show(ui, |ui| {
                    ui.vertical_centered(|ui| {
                        ui.add_space(ui.available_height() / 3.0);
                        ui.spinner();
                        ui.label(if self.screen == Screen::Opening {
                            "Opening your keys…"
                        } else {
                            "Starting…"
                        });
                    });
                });
            }
            Screen::FirstRun => self.first_run(ui),
            Screen::Unlock => self.unlock(ui),
            Screen::Main => self.main(ui),
        }
    }

    /// Picks up a finished recording (to send) and a finished playback.
    fn poll_audio(&mut self, ctx: &egui::Context) {
        if let Some((conv, rec, send)) = &self.recording {
            match rec.poll() {
                Some(Ok(samples)) => {
                    let cmd = send.then(|| Cmd::SendVoice { conversation: conv.clone(), samples });
                    self.recording = None;
                    if let Some(cmd) = cmd {
                        self.send(cmd);
                    }
                }
                Some(Err(e)) => {
                    self.errors.push(format!("Recording failed: {e}"));
                    self.recording = None;
                }
                None => ctx.request_repaint_after(Duration::from_millis(50)),
            }
        }
        if let Some((_, player)) = &mut self.playing {
            match player.finished() {
                Some(Err(e)) => {
                    self.errors.push(format!("Playing failed: {e}"));
                    self.playing = None;
                }
                Some(Ok(())) => self.playing = None,
                None => ctx.request_repaint_after(Duration::from_millis(50)),
            }
        }
    }

    fn lock(&mut self) {
        self.recording = None;
        self.playing = None;
        self.send(Cmd::Lock);
        self.chats.clear();
        self.found.clear();
        self.screen = Screen::Opening;
    }

    fn apply_updates(&mut self, ctx: &egui::Context) {
        let updates = self.backend.as_mut().map(Backend::drain).unwrap_or_default();
        for u in updates {
            match u {
                Update::HasIdentity(has) => {
                    self.screen = if has { Screen::Unlock } else { Screen::FirstRun };
                }
                Update::Started { account } => {
                    self.account = account;
                    self.screen = Screen::Main;
                    self.passphrase.clear();
                    self.passphrase2.clear();
                    self.last_input = Instant::now();
                }
                Update::Locked => {
                    self.screen = Screen::Unlock;
                    self.open = None;
                }
                Update::SignedIn { username } => {
                    self.avatars.remove(&username);
                    self.send(Cmd::Avatar(username.clone()));
                    self.signed_in = Some(username);
                    self.password.clear();
                    self.send(Cmd::Refresh);
                }
                Update::Contacts(c) => {
                    let missing: Vec<String> = c
                        .iter()
                        .filter(|c| c.state == FriendState::Friend)
                        .filter_map(|c| c.username.clone())
                        .filter(|u| !self.avatars.contains_key(u))
                        .collect();
                    for u in missing {
                        self.avatars.insert(u.clone(), None);
                        self.send(Cmd::Avatar(u));
                    }
                    self.contacts = c;
                }
                Update::Avatar { username, image } => {
                    let tex = image.map(|(w, h, rgba)| {
                        rgba_texture(ctx, format!("avatar-{username}"), w, h, &rgba)
                    });
                    self.avatars.insert(username, tex);
                }
                Update::FullImage { file, image } => {
                    if let Some((id, tex)) = &mut self.viewing
                        && *id == file
                    {
                        match image {
                            Some((w, h, rgba)) => {
                                *tex = Some(rgba_texture(ctx, format!("full-{file}"), w, h, &rgba));
                            }
                            None => {
                                self.errors.push("That image could not be shown.".into());
                                self.viewing = None;
                            }
                        }
                    }
                }
                Update::RelayChanged(url) => {
                    self.config.relay = url.clone();
                    self.signed_in = None;
                    self.relay_up = false;
                    self.settings = None;
                    self.notice = Some(match url {
                        Some(u) => {
                            format!("Unlock to connect to {u}, then sign up or log in there.")
                        }
                        None => "Unlock to go on without a relay.".into(),
                    });
                }
                Update::Conversations(c) => self.conversations = c,
                Update::History { conversation, messages, older } => {
                    let chat = self.chats.entry(conversation).or_default();
                    if older {
                        chat.loading_older = false;
                    }
                    if messages.len() < PAGE {
                        chat.complete = true;
                    }
                    for m in messages {
                        chat.upsert(m);
                    }
                }
                Update::Found(r) => self.found = r,
                Update::Groups(g) => self.groups = g,
                Update::Invitations(i) => self.invitations = i,
                Update::Scheduled(v) => self.scheduled = v,
                Update::Settings { settings, sessions } => {
                    self.settings = Some(settings);
                    self.sessions = sessions.as_array().cloned().unwrap_or_default();
                }
                Update::SignedOut => {
                    self.signed_in = None;
                    self.settings = None;
                    self.sessions.clear();
                }
                Update::SafetyNumber { account, digits } => {
                    self.safety.insert(account, digits);
                }
                Update::Sent(m) => {
                    self.chats.entry(m.conversation.clone()).or_default().upsert(*m);
                    self.send(Cmd::Refresh);
                }
                Update::Event(e) => self.on_event(*e),
                Update::Restored(r) => self.errors.push(restored_notice(&r)),
                Update::Error { action, message } => {
                    if self.screen == Screen::Opening {
                        self.screen =
                            if action == "unlocking" { Screen::Unlock } else { Screen::FirstRun };
                    }
                    self.errors.push(format!("Error {action}: {message}"));
                }
            }
        }
    }

    fn on_event(&mut self, e: Event) {
        match e {
            Event::Message { message } => {
                let conv = message.conversation.clone();
                let is_open = self.open.as_deref() == Some(conv.as_str());
                self.chats.entry(conv.clone()).or_default().upsert(message);
                if is_open {
                    self.send(Cmd::MarkRead(conv));
                }
                self.send(Cmd::Refresh);
            }
            Event::MessageEdited { message }
            | Event::Reactions { message }
            | Event::PollUpdated { message }
            | Event::LocationUpdated { message } => {
                self.chats.entry(message.conversation.clone()).or_default().upsert(message);
            }
            Event::MessageState { conversation, id, state } => {
                let chat = self.chats.entry(conversation).or_default();
                if let Some(m) = chat.messages.iter_mut().find(|m| m.id == id) {
                    m.state = state;
                }
            }
            Event::MessageDeleted { conversation, id } => {
                let chat = self.chats.entry(conversation).or_default();
                if let Some(m) = chat.messages.iter_mut().find(|m| m.id == id) {
                    m.kind = "deleted";
                    m.text = None;
                    m.file = None;
                    m.reactions.clear();
                }
            }
            Event::Error { message, .. } => self.errors.push(message),
            Event::File { file } => {
                self.files.insert(file.id.clone(), file);
            }
            Event::GroupInvitation { .. }
            | Event::GroupChanged { .. }
            | Event::Scheduled { .. } => {
                self.send(Cmd::Refresh);
            }
            Event::RelayConnected => {
                self.relay_up = true;
                self.send(Cmd::Refresh);
            }
            Event::RelayDisconnected { .. } => self.relay_up = false,
            Event::RelaySessionEnded => {
                self.signed_in = None;
                self.errors.push("Your relay session ended; log in again.".into());
            }
            Event::Presence { account, online, last_seen } => {
                if let Some(c) = self.contacts.iter_mut().find(|c| c.account == account) {
                    c.online = online;
                    c.last_seen = last_seen;
                }
            }
            Event::FriendRequest { .. }
            | Event::FriendAccepted { .. }
            | Event::FriendDeclined { .. }
            | Event::FriendRemoved { .. }
            | Event::ContactChanged { .. } => self.send(Cmd::Refresh),
            _ => {}
        }
    }

    fn error_bar(&mut self, ui: &mut egui::Ui) {
        if self.errors.is_empty() {
            return;
        }
        egui::Panel::top("errors").show(ui, |ui| {
            let mut dismiss = None;
            for (i, e) in self.errors.iter().enumerate() {
                ui.horizontal(|ui| {
                    ui.label(RichText::new(e).color(Color32::from_rgb(200, 60, 60)));
                    if ui.small_button("Dismiss").clicked() {
                        dismiss = Some(i);
                    }
                });
            }
            if let Some(i) = dismiss {
                self.errors.remove(i);
            }
        });
    }

    fn first_run(&mut self, ui: &mut egui::Ui) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.vertical_centered(|ui| {
                ui.add_space(40.0);
                ui.heading("Welcome to kovan");
                ui.label("Your keys are made on this device and never leave it.");
                ui.add_space(16.0);
                labelled(ui, "Device name", &mut self.device_name, false);
                labelled(ui, "Passphrase", &mut self.passphrase, true);
                let hint = strength(&self.passphrase);
                ui.label(RichText::new(hint.0).color(hint.1));
                labelled(ui, "Repeat passphrase", &mut self.passphrase2, true);
                let ready = self.passphrase.len() >= 8
                    && self.passphrase == self.passphrase2
                    && !self.device_name.trim().is_empty();
                if !self.passphrase2.is_empty() && self.passphrase != self.passphrase2 {
                    ui.label("The passphrases differ.");
                }
                if ui.add_enabled(ready, egui::Button::new("Create identity")).clicked() {
                    let cmd = Cmd::Create {
                        name: self.device_name.trim().to_owned(),
                        passphrase: self.passphrase.clone(),
                    };
                    self.send(cmd);
                    self.screen = Screen::Opening;
                }
            });
        });
    }

    fn unlock(&mut self, ui: &mut egui::Ui) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.vertical_centered(|ui| {
                ui.add_space(ui.available_height() / 4.0);
                ui.heading("kovan is locked");
                if let Some(n) = &self.notice {
                    ui.label(n);
                }
                let r = labelled(ui, "Passphrase", &mut self.passphrase, true);
                let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if ui.button("Unlock").clicked() || enter {
                    self.notice = None;
                    let cmd = Cmd::Unlock { passphrase: self.passphrase.clone() };
                    self.passphrase.clear();
                    self.send(cmd);
                    self.screen = Screen::Opening;
                }
            });
        });
    }

    fn main(&mut self, ui: &mut egui::Ui) {
        egui::Panel::top("status").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.strong("kovan");
                let relay = match (&self.signed_in, self.relay_up) {
                    (Some(u), true) => format!("signed in as {u}"),
                    (Some(u), false) => format!("{u}: relay unreachable, retrying"),
                    (None, _) => "not signed in to a relay".into(),
                };
                ui.label(relay);
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui.button("Lock").clicked() {
                        self.lock();
                    }
                });
            });
        });
        egui::Panel::left("side").default_size(260.0).show(ui, |ui| {
            ui.horizontal(|ui| {
                let unread: i64 = self.conversations.iter().map(|c| c.unread).sum();
                let chats = if unread > 0 { format!("Chats ({unread})") } else { "Chats".into() };
                ui.selectable_value(&mut self.tab, Tab::Chats, chats);
                let incoming =
                    self.contacts.iter().filter(|c| c.state == FriendState::Incoming).count();
                let people =
                    if incoming > 0 { format!("People ({incoming})") } else { "People".into() };
                if ui.selectable_value(&mut self.tab, Tab::People, people).clicked() {
                    // Avatars may have changed since they were fetched.
                    self.avatars.clear();
                    self.send(Cmd::Refresh);
                }
                if ui.selectable_value(&mut self.tab, Tab::Settings, "Settings").clicked()
                    && self.signed_in.is_some()
                {
                    self.send(Cmd::LoadSettings);
                }
            });
            ui.separator();
            match self.tab {
                Tab::Chats => self.chat_list(ui),
                Tab::People => self.people(ui),
                Tab::Settings => self.settings_panel(ui),
            }
        });
        egui::CentralPanel::default().show(ui, |ui| match self.open.clone() {
            Some(conv) => self.chat_view(ui, &conv),
            None => {
                ui.vertical_centered(|ui| {
                    ui.add_space(ui.available_height() / 3.0);
                    ui.label("Pick a chat, or find people under People.");
                });
            }
        });
    }

    fn chat_list(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            field(ui, "New group", &mut self.new_group, "", 120.0);
        });
        let named = !self.new_group.trim().is_empty();
        if ui.add_enabled(named, egui::Button::new("Create group")).clicked() {
            let name = std::mem::take(&mut self.new_group).trim().to_owned();
            self.send(Cmd::GroupCreate { name });
        }
        let mut answers = Vec::new();
        for i in self.invitations.iter().filter(|i| i.incoming && i.state == "pending") {
            ui.horizontal(|ui| {
                ui.label(format!("{} invites you to {}", i.name, i.group_name));
                if ui.button(format!("Join {}", i.group_name)).clicked() {
                    answers.push(Cmd::GroupAnswer { invitation: i.id.clone(), accept: true });
                }
                if ui.button(format!("Decline {}", i.group_name)).clicked() {
                    answers.push(Cmd::GroupAnswer { invitation: i.id.clone(), accept: false });
                }
            });
        }
        for c in answers {
            self.send(c);
        }
        ui.separator();
        if self.conversations.is_empty() {
            ui.label("No chats yet.");
        }
        let mut pick = None;
        let (conversations, chats, cache) = (&self.conversations, &self.chats, &mut self.emoji);
        egui::ScrollArea::vertical().show(ui, |ui| {
            for c in conversations {
                let last = chats
                    .get(&c.id)
                    .and_then(|ch| ch.messages.last())
                    .and_then(|m| m.text.clone())
                    .unwrap_or_default();
                let title = if c.unread > 0 {
                    format!("{} ({})", c.title, c.unread)
                } else {
                    c.title.clone()
                };
                let selected = self.open.as_deref() == Some(c.id.as_str());
                let r = ui.selectable_label(selected, title);
                if !last.is_empty() {
                    small_weak(ui, cache, &short(&last, 40));
                }
                if r.clicked() {
                    pick = Some(c.id.clone());
                }
            }
        });
        if let Some(id) = pick {
            self.open_chat(id);
        }
    }

    fn settings_panel(&mut self, ui: &mut egui::Ui) {
        ui.label(format!("Data directory: {}", self.config.home.display()));
        ui.label(format!(
            "Relay: {}",
            self.config.relay.clone().unwrap_or_else(|| "from kovan.toml".into())
        ));
        ui.horizontal(|ui| {
            field(ui, "Relay address", &mut self.relay_field, "https://relay.example", 200.0);
            let url = self.relay_field.trim().to_owned();
            let ok = url.starts_with("http://") || url.starts_with("https://");
            if ui.add_enabled(ok, egui::Button::new("Use this relay")).clicked() {
                self.send(Cmd::SetRelay(Some(url.clone())));
                self.relay_field.clear();
                self.chats.clear();
                self.screen = Screen::Opening;
            }
            if !url.is_empty() && !ok {
                ui.label("A relay address starts with http:// or https://");
            }
        });
        ui.label(format!("Account key: {}…", short(&self.account, 16)));
        if self.signed_in.is_none() {
            ui.label("Sign up or log in under People to change relay settings.");
            return;
        }
        let Some(mut settings) = self.settings.clone() else {
            ui.spinner();
            return;
        };
        let mine = self.signed_in.clone().unwrap_or_default();
        ui.horizontal(|ui| {
            avatar(ui, self.avatars.get(&mine).and_then(Option::as_ref), "Your avatar");
            field(ui, "Avatar image", &mut self.avatar_path, "", 200.0);
            let path = self.avatar_path.trim().to_owned();
            if ui.add_enabled(!path.is_empty(), egui::Button::new("Set avatar")).clicked() {
                self.avatar_path.clear();
                self.avatars.remove(&mine);
                self.send(Cmd::Act(Action::SetAvatar(Some(path.into()))));
            }
            if ui.small_button("Remove avatar").clicked() {
                self.avatars.remove(&mine);
                self.send(Cmd::Act(Action::SetAvatar(None)));
            }
        });
        let mut patch = serde_json::Map::new();
        for (key, label) in [("display_name", "Display name"), ("about", "About")] {
            let mut v = settings[key].as_str().unwrap_or_default().to_owned();
            let r = labelled(ui, label, &mut v, false);
            settings[key] = v.clone().into();
            if r.lost_focus() {
                patch.insert(key.into(), v.into());
            }
        }
        for (key, label) in
            [("discoverable", "Discoverable in search"), ("read_receipts", "Send read receipts")]
        {
            let mut on = settings[key].as_bool().unwrap_or(true);
            if ui.checkbox(&mut on, label).changed() {
                patch.insert(key.into(), on.into());
            }
            settings[key] = on.into();
        }
        ui.horizontal(|ui| {
            ui.label("Friend requests from");
            let cur = settings["friend_policy"].as_str().unwrap_or("everyone").to_owned();
            for p in ["everyone", "nobody"] {
                if ui.selectable_label(cur == p, p).clicked() && cur != p {
                    patch.insert("friend_policy".into(), p.into());
                    settings["friend_policy"] = p.into();
                }
            }
        });
        self.settings = Some(settings);
        if !patch.is_empty() {
            self.send(Cmd::Act(Action::SaveSettings(patch.into())));
        }
        ui.separator();
        ui.strong("Sessions");
        let mut cmds = Vec::new();
        for sess in &self.sessions {
            let id = sess["id"].as_str().unwrap_or_default().to_owned();
            let current = sess["current"].as_bool() == Some(true);
            ui.horizontal(|ui| {
                let device = short(sess["device_peer_id"].as_str().unwrap_or_default(), 16);
                let last = sess["last_used_at"].as_i64().unwrap_or(0);
                ui.label(format!(
                    "{device} · last used {} {}{}",
                    format_day(civil_day(last)),
                    clock(last),
                    if current { " (this one)" } else { "" }
                ));
                if !current && ui.small_button(format!("Revoke {}", short(&id, 8))).clicked() {
                    cmds.push(Cmd::Act(Action::RevokeSession(id.clone())));
                }
            });
        }
        ui.separator();
        labelled(ui, "Current password", &mut self.old_password, true);
        labelled(ui, "New password", &mut self.new_password, true);
        let ok = !self.old_password.is_empty() && self.new_password.len() >= 8;
        if ui.add_enabled(ok, egui::Button::new("Change password")).clicked() {
            cmds.push(Cmd::Act(Action::ChangePassword {
                old: std::mem::take(&mut self.old_password),
                new: std::mem::take(&mut self.new_password),
            }));
        }
        ui.separator();
        if ui.button("Log out").clicked() {
            cmds.push(Cmd::Act(Action::Logout));
        }
        ui.collapsing("Delete account", |ui| {
            ui.label("This removes your relay account, its mailbox and files. Type your password:");
            labelled(ui, "Password to delete", &mut self.old_password, true);
            if ui.button("Delete my account").clicked() && !self.old_password.is_empty() {
                cmds.push(Cmd::Act(Action::DeleteAccount {
                    password: std::mem::take(&mut self.old_password),
                }));
            }
        });
        for c in cmds {
            self.send(c);
        }
    }

    /// Names for the accounts seen in a conversation: this account, friends,
    /// the group's members.
    fn names(&self, conv: &str) -> HashMap<String, String> {
        let mut names = HashMap::new();
        for c in &self.contacts {
            names.insert(
                c.account.clone(),
                c.username.clone().unwrap_or_else(|| c.display_name.clone()),
            );
        }
        if let Some(g) = self.groups.iter().find(|g| g.id == conv) {
            for m in &g.members {
                names.entry(m.account.clone()).or_insert_with(|| m.name.clone());
            }
        }
        names.insert(self.account.clone(), "You".into());
        names
    }

    /// Opens an image full size: decoded (under limits) by the backend once
    /// it is here; until then its thumbnail, larger.
    fn view_image(&mut self, id: String) {
        match self.files.get(&id).and_then(|f| f.path.clone()) {
            Some(path) => {
                self.send(Cmd::LoadImage { file: id.clone(), path: path.into() });
                self.viewing = Some((id, None));
            }
            None => {
                let thumb = self.thumbnails.get(&id).cloned().flatten();
                self.viewing = Some((id, thumb));
            }
        }
    }

    fn image_window(&mut self, ui: &mut egui::Ui) {
        let Some((id, tex)) = self.viewing.clone() else { return };
        let id = &id;
        let name = self.files.get(id).map_or_else(|| "Image".to_owned(), |f| f.name.clone());
        let mut open = true;
        let complete = self.files.get(id).is_some_and(|f| f.path.is_some());
        let mut close = false;
        egui::Window::new(name).id(egui::Id::new("image-view")).open(&mut open).show(
            ui.ctx(),
            |ui| {
                match &tex {
                    Some(t) => {
                        let max = ui.ctx().content_rect().size() * 0.8;
                        let size = t.size_vec2();
                        let scale = (max.x / size.x).min(max.y / size.y).min(1.0);
                        ui.add(
                            egui::Image::new((t.id(), size * scale))
                                .alt_text("The image, full size"),
                        );
                    }
                    None => {
                        ui.spinner();
                    }
                }
                if !complete {
                    ui.label("This is the preview; download the image to see it full size.");
                }
                if ui.button("Close image").clicked() {
                    close = true;
                }
            },
        );
        if !open || close {
            self.viewing = None;
        }
    }

    /// The full emoji picker for reacting to one message.
    fn reaction_picker(&mut self, ui: &mut egui::Ui, conv: &str, cmds: &mut Vec<Cmd>) {
        let Some(message) = self.reacting.clone() else { return };
        let mut open = true;
        let mut picked = None;
        egui::Window::new("React with")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .show(ui.ctx(), |ui| picked = self.picker.show(ui, &mut self.emoji));
        if let Some(e) = picked {
            cmds.push(Cmd::React {
                conversation: conv.to_owned(),
                message,
                emoji: e.to_owned(),
                remove: false,
            });
            open = false;
        }
        if !open {
            self.reacting = None;
        }
    }

    fn open_chat(&mut self, id: String) {
        self.open = Some(id.clone());
        self.replying_to = None;
        if !self.chats.contains_key(&id) || self.chats[&id].messages.is_empty() {
            self.send(Cmd::History { conversation: id.clone(), before: None });
        }
        self.send(Cmd::MarkRead(id));
        self.send(Cmd::Refresh);
    }

    fn people(&mut self, ui: &mut egui::Ui) {
        if self.signed_in.is_none() {
            ui.label("Relay account");
            labelled(ui, "Username", &mut self.username, false);
            labelled(ui, "Password", &mut self.password, true);
            ui.horizontal(|ui| {
                let ok = !self.username.trim().is_empty() && self.password.len() >= 8;
                if ui.add_enabled(ok, egui::Button::new("Sign up")).clicked() {
                    let cmd = Cmd::Register {
                        username: self.username.trim().to_owned(),
                        password: self.password.clone(),
                    };
                    self.send(cmd);
                }
                if ui.add_enabled(ok, egui::Button::new("Log in")).clicked() {
                    let cmd = Cmd::Login {
                        username: self.username.trim().to_owned(),
                        password: self.password.clone(),
                    };
                    self.send(cmd);
                }
            });
            ui.separator();
        }
        let r = labelled(ui, "Search people", &mut self.search, false);
        let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if (ui.button("Search").clicked() || enter) && !self.search.trim().is_empty() {
            let q = self.search.trim().to_owned();
            self.send(Cmd::Search(q));
        }
        let mut cmds = Vec::new();
        for f in &self.found {
            ui.horizontal(|ui| {
                let name = f.username.clone().unwrap_or_else(|| f.display_name.clone());
                ui.label(format!("{name} ({})", f.source));
                let known = self.contacts.iter().any(|c| {
                    c.account == f.account
                        && matches!(c.state, FriendState::Friend | FriendState::Outgoing)
                });
                if !known && ui.button(format!("Add {name}")).clicked() {
                    cmds.push(Cmd::Request { who: f.target.clone(), note: String::new() });
                }
            });
        }
        ui.separator();
        let incoming: Vec<_> =
            self.contacts.iter().filter(|c| c.state == FriendState::Incoming).collect();
        if !incoming.is_empty() {
            ui.strong("Friend requests");
        }
        for c in incoming {
            let name = c.username.clone().unwrap_or_else(|| c.display_name.clone());
            ui.horizontal(|ui| {
                ui.label(&name);
                if ui.button(format!("Accept {name}")).clicked() {
                    cmds.push(Cmd::Answer { account: c.account.clone(), accept: true });
                }
                if ui.button(format!("Decline {name}")).clicked() {
                    cmds.push(Cmd::Answer { account: c.account.clone(), accept: false });
                }
            });
            if !c.note.is_empty() {
                ui.label(RichText::new(&c.note).italics());
            }
        }
        for c in self.contacts.iter().filter(|c| c.state == FriendState::Outgoing) {
            let name = c.username.clone().unwrap_or_else(|| c.display_name.clone());
            ui.label(format!("{name}: request sent"));
        }
        ui.strong("Friends");
        let mut open = None;
        for c in self.contacts.iter().filter(|c| c.state == FriendState::Friend && !c.blocked) {
            let name = c.username.clone().unwrap_or_else(|| c.display_name.clone());
            let mark = if c.verified { " ✔ verified" } else { "" };
            ui.horizontal_wrapped(|ui| {
                avatar(
                    ui,
                    c.username.as_ref().and_then(|u| self.avatars.get(u)).and_then(Option::as_ref),
                    &format!("{name}'s avatar"),
                );
                presence(ui, c, &name);
                if ui.link(format!("{name}{mark}")).clicked() {
                    open = c.conversation.clone();
                }
                if c.identity_changed {
                    ui.label(
                        RichText::new("identity changed").color(Color32::from_rgb(200, 60, 60)),
                    );
                }
                if ui.small_button(format!("Safety number for {name}")).clicked() {
                    cmds.push(Cmd::SafetyNumber(c.account.clone()));
                }
                if ui.small_button(format!("Unfriend {name}")).clicked() {
                    cmds.push(Cmd::Act(Action::Unfriend(c.account.clone())));
                }
                if ui.small_button(format!("Block {name}")).clicked() {
                    cmds.push(Cmd::Act(Action::Block(c.account.clone(), true)));
                }
            });
            if let Some(digits) = self.safety.get(&c.account) {
                ui.label(RichText::new(digits).monospace());
                if !c.verified && ui.small_button(format!("Mark {name} verified")).clicked() {
                    cmds.push(Cmd::Act(Action::Verify(c.account.clone())));
                }
            }
        }
        let blocked: Vec<_> = self.contacts.iter().filter(|c| c.blocked).collect();
        if !blocked.is_empty() {
            ui.strong("Blocked");
        }
        for c in blocked {
            let name = c.username.clone().unwrap_or_else(|| c.display_name.clone());
            ui.horizontal(|ui| {
                ui.label(&name);
                if ui.small_button(format!("Unblock {name}")).clicked() {
                    cmds.push(Cmd::Act(Action::Block(c.account.clone(), false)));
                }
            });
        }
        for c in cmds {
            self.send(c);
        }
        if let Some(id) = open {
            self.tab = Tab::Chats;
            self.open_chat(id);
        }
    }

    /// The coordinates typed in, if they make a place.
    fn typed_point(&self) -> Option<(f64, f64)> {
        let lat: f64 = self.lat.trim().replace(',', ".").parse().ok()?;
        let lon: f64 = self.lon.trim().replace(',', ".").parse().ok()?;
        kovan_spec::Point::from_degrees(lat, lon, 0).ok().map(|_| (lat, lon))
    }

    /// Share a place (typed coordinates), once or live.
    fn location_form(&mut self, ui: &mut egui::Ui, conv: &str, cmds: &mut Vec<Cmd>) {
        ui.horizontal(|ui| {
            for (label, value) in [("Latitude", &mut self.lat), ("Longitude", &mut self.lon)] {
                field(ui, label, value, "", 90.0);
            }
            field(ui, "Place name", &mut self.place, "", 120.0);
        });
        let point = self.typed_point();
        if point.is_none() && !(self.lat.is_empty() && self.lon.is_empty()) {
            ui.label("Latitude is −90…90 and longitude −180…180, in degrees.");
        }
        let place = self.place.trim().to_owned();
        let share = |live| {
            point.map(|(lat, lon)| Cmd::ShareLocation {
                conversation: conv.to_owned(),
                lat,
                lon,
                label: place.clone(),
                live,
            })
        };
        ui.horizontal(|ui| {
            if ui.add_enabled(point.is_some(), egui::Button::new("Share location")).clicked() {
                cmds.extend(share(None));
            }
            field(ui, "Live for", &mut self.live_for, "15m, 1h, 8h", 60.0);
            let live = humantime::parse_duration(self.live_for.trim())
                .ok()
                .filter(|d| *d >= Duration::from_secs(60) && *d <= Duration::from_secs(24 * 3600));
            let ok = point.is_some() && live.is_some();
            if ui.add_enabled(ok, egui::Button::new("Share live location")).clicked() {
                cmds.extend(share(live));
            }
            if !self.live_for.is_empty() && live.is_none() {
                ui.label("A live share lasts 1 minute to 24 hours");
            }
        });
    }

    /// Attach a file or image, start a poll, schedule the draft.
    fn extras(&mut self, ui: &mut egui::Ui, conv: &str, cmds: &mut Vec<Cmd>) {
        self.location_form(ui, conv, cmds);
        ui.horizontal(|ui| {
            field(ui, "File path", &mut self.attach_path, "", 260.0);
            let path = self.attach_path.trim().to_owned();
            let ok = !path.is_empty();
            if ui.add_enabled(ok, egui::Button::new("Attach file")).clicked() {
                let path = path.clone().into();
                cmds.push(Cmd::SendFile { conversation: conv.to_owned(), path, image: false });
                self.attach_path.clear();
            }
            if ui.add_enabled(ok, egui::Button::new("Attach image")).clicked() {
                let path = path.into();
                cmds.push(Cmd::SendFile { conversation: conv.to_owned(), path, image: true });
                self.attach_path.clear();
            }
        });
        ui.horizontal(|ui| {
            field(ui, "Poll question", &mut self.poll_question, "", 260.0);
            ui.checkbox(&mut self.poll_multiple, "Multiple choice");
        });
        ui.horizontal(|ui| {
            let l = ui.label("Poll options");
            ui.add(
                egui::TextEdit::multiline(&mut self.poll_options)
                    .hint_text("one per line")
                    .desired_rows(3)
                    .desired_width(260.0),
            )
            .labelled_by(l.id);
            let options: Vec<String> = self
                .poll_options
                .lines()
                .map(|l| l.trim().to_owned())
                .filter(|l| !l.is_empty())
                .collect();
            let ok = !self.poll_question.trim().is_empty() && options.len() >= 2;
            if ui.add_enabled(ok, egui::Button::new("Start poll")).clicked() {
                cmds.push(Cmd::PollCreate {
                    conversation: conv.to_owned(),
                    question: std::mem::take(&mut self.poll_question).trim().to_owned(),
                    options,
                    multiple: self.poll_multiple,
                });
                self.poll_options.clear();
            }
        });
        ui.horizontal(|ui| {
            field(ui, "Send at", &mut self.send_at, "+10m, +2h, or 2026-12-31T23:59:00Z", 200.0);
            let draft = self.drafts.get(conv).cloned().unwrap_or_default();
            let when = due_at(&self.send_at);
            match self.editing_scheduled.clone() {
                // Editing: the text, and the time if a new one is typed.
                Some(id) => {
                    let ok =
                        !draft.trim().is_empty() && (self.send_at.is_empty() || when.is_some());
                    if ui.add_enabled(ok, egui::Button::new("Save scheduled")).clicked() {
                        cmds.push(Cmd::ScheduleEdit { id, text: draft, due_at: when });
                        self.drafts.remove(conv);
                        self.send_at.clear();
                        self.editing_scheduled = None;
                    }
                    if ui.button("Stop editing").clicked() {
                        self.drafts.remove(conv);
                        self.editing_scheduled = None;
                    }
                }
                None => {
                    let ok = when.is_some() && !draft.trim().is_empty();
                    if ui.add_enabled(ok, egui::Button::new("Schedule")).clicked()
                        && let Some(due_at) = when
                    {
                        cmds.push(Cmd::Schedule {
                            conversation: conv.to_owned(),
                            text: draft,
                            due_at,
                        });
                        self.drafts.remove(conv);
                        self.send_at.clear();
                    }
                }
            }
            if !self.send_at.is_empty() && when.is_none() {
                ui.label("Not a time kovan understands");
            }
        });
    }

    fn chat_view(&mut self, ui: &mut egui::Ui, conv: &str) {
        let title = self
            .conversations
            .iter()
            .find(|c| c.id == conv)
            .map_or_else(|| "chat".to_owned(), |c| c.title.clone());
        ui.heading(&title);
        let mut cmds = Vec::new();
        if let Some(g) = self.groups.iter().find(|g| g.id == conv) {
            let names: Vec<String> = g
                .members
                .iter()
                .map(|m| match (m.admin, m.muted) {
                    (true, _) => format!("{} (admin)", m.name),
                    (false, true) => format!("{} (muted)", m.name),
                    (false, false) => m.name.clone(),
                })
                .collect();
            ui.label(format!("Members: {}", names.join(", ")));
            ui.horizontal_wrapped(|ui| {
                for m in g.members.iter().filter(|m| !m.me) {
                    let (label, on) = if m.muted {
                        (format!("Unmute {}", m.name), false)
                    } else {
                        (format!("Mute {}", m.name), true)
                    };
                    if ui.small_button(label).on_hover_text("Only on this device").clicked() {
                        cmds.push(Cmd::Act(Action::Mute(g.id.clone(), m.account.clone(), on)));
                    }
                }
                if g.admin {
                    for m in g.members.iter().filter(|m| !m.me) {
                        if ui.small_button(format!("Remove {}", m.name)).clicked() {
                            let change = GroupChange::Remove(m.account.clone());
                            cmds.push(Cmd::Act(Action::Group(g.id.clone(), change)));
                        }
                        if ui.small_button(format!("Ban {}", m.name)).clicked() {
                            let change = GroupChange::Ban(m.account.clone());
                            cmds.push(Cmd::Act(Action::Group(g.id.clone(), change)));
                        }
                    }
                    field(ui, "Rename to", &mut self.rename_to, "", 120.0);
                    if ui.small_button("Rename group").clicked()
                        && !self.rename_to.trim().is_empty()
                    {
                        let change = GroupChange::Rename(std::mem::take(&mut self.rename_to));
                        cmds.push(Cmd::Act(Action::Group(g.id.clone(), change)));
                    }
                    if ui.small_button("Delete group").clicked() {
                        cmds.push(Cmd::Act(Action::Group(g.id.clone(), GroupChange::Delete)));
                    }
                }
                if ui.small_button("Leave group").clicked() {
                    cmds.push(Cmd::Act(Action::Leave(g.id.clone())));
                }
            });
            if g.admin || g.members_invite {
                ui.horizontal_wrapped(|ui| {
                    for c in self.contacts.iter().filter(|c| c.state == FriendState::Friend) {
                        if g.members.iter().any(|m| m.account == c.account) {
                            continue;
                        }
                        let invited = self.invitations.iter().any(|i| {
                            !i.incoming
                                && i.group == g.id
                                && i.account == c.account
                                && i.state == "pending"
                        });
                        let name = c.username.clone().unwrap_or_else(|| c.display_name.clone());
                        if invited {
                            ui.label(format!("{name}: invited"));
                        } else if ui.button(format!("Invite {name}")).clicked() {
                            cmds.push(Cmd::GroupInvite {
                                group: g.id.clone(),
                                who: c.account.clone(),
                            });
                        }
                    }
                });
            }
        }
        let due: Vec<&ScheduledView> = self
            .scheduled
            .iter()
            .filter(|s| s.conversation == conv && s.state == "scheduled")
            .collect();
        let mut edit = None;
        for sch in due {
            ui.horizontal(|ui| {
                let what = match &sch.content {
                    ScheduledContent::Text { text, .. } => short(text, 40),
                    ScheduledContent::Poll { question, .. } => {
                        format!("poll: {}", short(question, 30))
                    }
                };
                ui.label(format!("Scheduled for {}: {what}", clock(sch.due_at)));
                if let ScheduledContent::Text { text, .. } = &sch.content
                    && ui.small_button("Edit scheduled").clicked()
                {
                    edit = Some((sch.id.clone(), text.clone()));
                }
                if ui.small_button("Cancel scheduled").clicked() {
                    cmds.push(Cmd::ScheduleCancel(sch.id.clone()));
                }
            });
        }
        if let Some((id, text)) = edit {
            self.drafts.insert(conv.to_owned(), text);
            self.editing_scheduled = Some(id);
        }
        ui.separator();
        // The composer at the bottom.
        egui::Panel::bottom("composer").show(ui, |ui| {
            if let Some(quoted) =
                self.replying_to.as_ref().map(|r| r.text.clone().unwrap_or_default())
            {
                ui.horizontal(|ui| {
                    ui.label(format!("Replying to: {}", short(&quoted, 40)));
                    if ui.small_button("Cancel reply").clicked() {
                        self.replying_to = None;
                    }
                });
            }
            egui::CollapsingHeader::new("Attach, location, poll, send later").show(ui, |ui| {
                self.extras(ui, conv, &mut cmds);
            });
            if self.picker_open {
                ui.group(|ui| {
                    if let Some(e) = self.picker.show(ui, &mut self.emoji) {
                        self.drafts.entry(conv.to_owned()).or_default().push_str(e);
                    }
                });
            }
            let draft = self.drafts.entry(conv.to_owned()).or_default();
            let offered = emoji::completion_token(draft)
                .map(|(_, code)| emoji::completions(code))
                .unwrap_or_default();
            if !offered.is_empty() {
                let tab = ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Tab));
                let mut chosen = tab.then(|| offered[0].0);
                ui.horizontal_wrapped(|ui| {
                    for (e, code) in &offered {
                        let label = format!("Complete :{code}:");
                        if emoji::button(
                            ui,
                            &mut self.emoji,
                            e,
                            &format!(" :{code}:"),
                            false,
                            &label,
                        )
                        .clicked()
                        {
                            chosen = Some(e);
                        }
                    }
                });
                if let Some(e) = chosen {
                    emoji::complete(self.drafts.entry(conv.to_owned()).or_default(), e);
                }
            }
            // Its own id: the picker and completions above come and go,
            // and must not change the ids of the field and buttons.
            ui.push_id("composer", |ui| {
                ui.horizontal(|ui| {
                    let picker =
                        emoji::button(ui, &mut self.emoji, "😀", "", self.picker_open, "Emoji")
                            .on_hover_text("Emoji");
                    if picker.clicked() {
                        self.picker_open = !self.picker_open;
                    }
                    match &self.recording {
                        Some((c, rec, _)) if c == conv => {
                            let secs = rec.elapsed().as_secs();
                            ui.label(format!("Recording {}:{:02}", secs / 60, secs % 60));
                            ui.add(egui::ProgressBar::new(rec.level()).desired_width(60.0));
                            if ui.button("Stop and send").clicked() {
                                rec.stop();
                            }
                            if ui.button("Discard recording").clicked()
                                && let Some((_, rec, send)) = &mut self.recording
                            {
                                *send = false;
                                rec.stop();
                            }
                            return;
                        }
                        Some(_) => {}
                        None => {
                            let mic = emoji::button(
                                ui,
                                &mut self.emoji,
                                "🎤",
                                "",
                                false,
                                "Record voice note",
                            );
                            if mic.on_hover_text("Record a voice note").clicked() {
                                let rec = crate::audio::Recorder::start();
                                self.recording = Some((conv.to_owned(), rec, true));
                            }
                        }
                    }
                    let draft = self.drafts.entry(conv.to_owned()).or_default();
                    let label = ui.label("Message");
                    let r = ui.add(
                        egui::TextEdit::singleline(draft)
                            .hint_text("Write a message; :shortcodes: become emoji")
                            .desired_width(ui.available_width() - 80.0),
                    );
                    let r = r.labelled_by(label.id);
                    let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                    let label = if self.editing.is_some() { "Save edit" } else { "Send" };
                    if (ui.button(label).clicked() || enter) && !draft.trim().is_empty() {
                        let text = std::mem::take(draft);
                        cmds.push(match self.editing.take() {
                            Some(message) => Cmd::Act(Action::Edit {
                                conversation: conv.to_owned(),
                                message,
                                text,
                            }),
                            None => Cmd::Send {
                                conversation: conv.to_owned(),
                                text,
                                reply_to: self.replying_to.take().map(|m| m.id),
                            },
                        });
                        r.request_focus();
                    }
                })
            });
        });
        // Files dropped on the window go to this chat (images as images).
        let dropped: Vec<PathBuf> =
            ui.input(|i| i.raw.dropped_files.iter().filter_map(|f| f.path.clone()).collect());
        for path in dropped {
            let image = is_image(&path);
            cmds.push(Cmd::SendFile { conversation: conv.to_owned(), path, image });
        }
        let names = self.names(conv);
        let here = self.typed_point();
        let (files, thumbs) = (&self.files, &mut self.thumbnails);
        let group = self.groups.iter().any(|g| g.id == conv);
        let playing = self.playing.as_ref().map(|(id, p)| (id.clone(), p.seconds()));
        let mut bx = BubbleCtx { emoji: &mut self.emoji, names: &names, group, playing, here };
        let chat = self.chats.entry(conv.to_owned()).or_default();
        let Chat { messages, heights, loading_older, .. } = chat;
        let out =
            egui::ScrollArea::vertical().stick_to_bottom(true).show_viewport(ui, |ui, view| {
                let origin = ui.min_rect().top();
                // Only what is near the visible part is laid out: a long chat
                // costs a frame what a screenful costs.
                let (near_top, near_bottom) =
                    (view.top() - view.height(), view.bottom() + view.height());
                if *loading_older {
                    ui.spinner();
                }
                let mut day = None;
                let mut reply = None;
                let mut reacting = None;
                let mut play = None;
                let mut view = None;
                for m in messages.iter() {
                    let d = civil_day(m.sent_at);
                    let new_day = day != Some(d);
                    day = Some(d);
                    let top = ui.cursor().top() - origin;
                    if let Some(&h) = heights.get(&m.id)
                        && (top + h < near_top || top > near_bottom)
                    {
                        ui.add_space(h);
                        continue;
                    }
                    let before = ui.cursor().top();
                    if new_day {
                        ui.vertical_centered(|ui| {
                            ui.label(RichText::new(format_day(d)).weak().small());
                        });
                    }
                    let thumb = m.file.as_ref().and_then(|f| {
                        thumbs
                            .entry(f.id.clone())
                            .or_insert_with(|| thumbnail_texture(ui.ctx(), f))
                            .clone()
                    });
                    let file = m.file.as_ref().and_then(|f| files.get(&f.id));
                    let action = bubble(ui, m, messages, file, thumb.as_ref(), &mut bx);
                    heights.insert(m.id.clone(), ui.cursor().top() - before);
                    if let Some(action) = action {
                        match action {
                            Bubble::Reply => reply = Some((m.clone(), false)),
                            Bubble::Edit => reply = Some((m.clone(), true)),
                            Bubble::Delete => cmds.push(Cmd::Act(Action::Delete {
                                conversation: conv.to_owned(),
                                message: m.id.clone(),
                            })),
                            Bubble::React(emoji, remove) => cmds.push(Cmd::React {
                                conversation: conv.to_owned(),
                                message: m.id.clone(),
                                emoji,
                                remove,
                            }),
                            Bubble::Vote(choices) => cmds.push(Cmd::PollVote {
                                conversation: conv.to_owned(),
                                poll: m.id.clone(),
                                choices,
                            }),
                            Bubble::ClosePoll => cmds.push(Cmd::PollClose {
                                conversation: conv.to_owned(),
                                poll: m.id.clone(),
                            }),
                            Bubble::MoreReactions => reacting = Some(m.id.clone()),
                            Bubble::View(id) => view = Some(id),
                            Bubble::MoveLocation(lat, lon) => cmds.push(Cmd::LocationUpdate {
                                conversation: conv.to_owned(),
                                id: m.id.clone(),
                                lat,
                                lon,
                            }),
                            Bubble::StopLocation => cmds.push(Cmd::LocationStop {
                                conversation: conv.to_owned(),
                                id: m.id.clone(),
                            }),
                            Bubble::Play(id, path) => play = Some(Some((id, path))),
                            Bubble::StopPlaying => play = Some(None),
                            Bubble::Fetch(id) => cmds.push(Cmd::FetchFile(id)),
                            Bubble::Cancel(id) => cmds.push(Cmd::CancelFile(id)),
                        }
                    }
                }
                (reply, reacting, play, view)
            });
        let (reply, reacting, play, view) = out.inner;
        if let Some(id) = view {
            self.view_image(id);
        }
        self.image_window(ui);
        match play {
            Some(Some((id, path))) => {
                self.playing = Some((id, crate::audio::Player::start(path)));
            }
            Some(None) => self.playing = None,
            None => {}
        }
        if reacting.is_some() {
            self.reacting = reacting;
        }
        self.reaction_picker(ui, conv, &mut cmds);
        match reply {
            Some((m, true)) => {
                self.drafts.insert(conv.to_owned(), m.text.clone().unwrap_or_default());
                self.editing = Some(m.id);
            }
            Some((m, false)) => self.replying_to = Some(m),
            None => {}
        }
        // Scrolled to the top: the next older page.
        let chat = self.chats.entry(conv.to_owned()).or_default();
        if out.state.offset.y < 1.0
            && out.content_size.y > out.inner_rect.height()
            && !chat.loading_older
            && !chat.complete
            && let Some(oldest) = chat.messages.first()
        {
            chat.loading_older = true;
            cmds.push(Cmd::History { conversation: conv.to_owned(), before: Some(oldest.seq) });
        }
        for c in cmds {
            self.send(c);
        }
    }
}

/// What a bubble needs besides its message.
struct BubbleCtx<'a> {
    emoji: &'a mut emoji::Emoji,
    /// Account (hex) → the name to show.
    names: &'a HashMap<String, String>,
    /// In a group: incoming messages show who wrote them.
    group: bool,
    /// The voice note playing: its file id, seconds played and in all.
    playing: Option<(String, (f32, f32))>,
    /// The coordinates typed in the location form (to move a live share).
    here: Option<(f64, f64)>,
}

impl BubbleCtx<'_> {
    fn name(&self, account: &str) -> String {
        self.names.get(account).cloned().unwrap_or_else(|| short(account, 8))
    }

    /// "You, bob" for the accounts behind a reaction.
    fn who(&self, accounts: &[String]) -> String {
        accounts.iter().map(|a| self.name(a)).collect::<Vec<_>>().join(", ")
    }
}

enum Bubble {
    View(String),
    MoveLocation(f64, f64),
    StopLocation,
    MoreReactions,
    Play(String, PathBuf),
    StopPlaying,
    Reply,
    Edit,
    Delete,
    React(String, bool),
    Vote(Vec<u32>),
    ClosePoll,
    Fetch(String),
    Cancel(String),
}

fn is_image(p: &std::path::Path) -> bool {
    let ext = p.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
    matches!(ext.as_str(), "jpg" | "jpeg" | "png" | "webp" | "gif")
}

/// An image message's thumbnail as a texture (`None`: no thumbnail, or one
/// that does not decode: it came from a peer and is decoded under limits).
fn thumbnail_texture(
    ctx: &egui::Context,
    f: &kovan_node::node::FileMeta,
) -> Option<egui::TextureHandle> {
    use base64::Engine;
    let img = f.image.as_ref()?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(&img.thumbnail).ok()?;
    let decoded = kovan_node::media::decode_for_display(&bytes).ok()?.to_rgba8();
    Some(rgba_texture(
        ctx,
        format!("thumb-{}", f.id),
        decoded.width(),
        decoded.height(),
        decoded.as_raw(),
    ))
}

/// "+10m", "+1h 30m" from now, or an RFC 3339 time, as ms since the epoch.
pub fn due_at(s: &str) -> Option<i64> {
    let s = s.trim();
    let now = kovan_node::clock::system_now_ms();
    if let Some(rel) = s.strip_prefix('+') {
        let d = humantime::parse_duration(rel.trim()).ok()?;
        return i64::try_from(d.as_millis()).ok().map(|d| now + d);
    }
    let t = humantime::parse_rfc3339_weak(s).ok()?;
    let ms = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis();
    i64::try_from(ms).ok().filter(|&t| t > now)
}

/// Quick reactions offered on every message.
const QUICK: [&str; 4] = ["👍", "❤", "😂", "🎉"];

fn bubble(
    ui: &mut egui::Ui,
    m: &MessageView,
    all: &[MessageView],
    file: Option<&FileView>,
    thumb: Option<&egui::TextureHandle>,
    bx: &mut BubbleCtx<'_>,
) -> Option<Bubble> {
    let mut action = None;
    let layout = if m.outgoing {
        egui::Layout::right_to_left(egui::Align::TOP)
    } else {
        egui::Layout::left_to_right(egui::Align::TOP)
    };
    ui.with_layout(layout, |ui| {
        let fill = match (m.outgoing, ui.visuals().dark_mode) {
            (true, true) => Color32::from_rgb(38, 64, 100),
            (true, false) => Color32::from_rgb(220, 235, 255),
            (false, _) => ui.visuals().faint_bg_color,
        };
        egui::Frame::new().fill(fill).corner_radius(8.0).inner_margin(6.0).show(ui, |ui| {
            ui.set_max_width(ui.available_width() * 0.7);
            // Outgoing bubbles hug the right: their content is laid out
            // from the right too (else the bubble spans its whole width).
            let inner = egui::Layout::top_down(if m.outgoing {
                egui::Align::Max
            } else {
                egui::Align::Min
            });
            ui.with_layout(inner, |ui| {
                if let Some(r) = &m.reply_to {
                    let quoted = all
                        .iter()
                        .find(|x| &x.id == r)
                        .and_then(|x| x.text.clone())
                        .unwrap_or_else(|| "an earlier message".into());
                    small_weak(ui, bx.emoji, &format!("↪ {}", short(&quoted, 50)));
                }
                let body = match m.kind {
                    "text" => m.text.clone().unwrap_or_default(),
                    "deleted" => "(deleted)".into(),
                    "unsupported" => "(unsupported message — update kovan)".into(),
                    "file" | "image" | "voice" => m.file.as_ref().map_or_else(String::new, |f| {
                        format!("[{} {}] {}", m.kind, f.name, f.caption)
                    }),
                    "poll" => format!("[poll] {}", m.text.clone().unwrap_or_default()),
                    "location" => m.location.as_ref().map_or_else(String::new, |l| {
                        let name = if l.label.is_empty() { "Location" } else { l.label.as_str() };
                        format!("📍 {name}")
                    }),
                    other => format!("[{other}]"),
                };
                let style = if m.emoji_only {
                    emoji::Style::sized(ui, 28.0)
                } else {
                    emoji::Style::body(ui)
                };
                if bx.group && !m.outgoing {
                    ui.label(RichText::new(bx.name(&m.sender)).small().strong());
                }
                emoji::label(ui, bx.emoji, &body, style);
                if let Some(t) = thumb {
                    let img = egui::Image::new((t.id(), t.size_vec2()))
                        .sense(egui::Sense::click())
                        .alt_text(format!(
                            "Open {}",
                            m.file.as_ref().map_or("", |f| f.name.as_str())
                        ));
                    if ui.add(img).on_hover_text("Full size").clicked()
                        && let Some(f) = &m.file
                    {
                        action = Some(Bubble::View(f.id.clone()));
                    }
                }
                if let Some((meta, v)) = m.file.as_ref().and_then(|f| Some((f, f.voice.as_ref()?)))
                {
                    ui.horizontal(|ui| match &bx.playing {
                        Some((id, (at, all))) if *id == meta.id => {
                            if ui.button("Stop playing").clicked() {
                                action = Some(Bubble::StopPlaying);
                            }
                            ui.add(
                                egui::ProgressBar::new(at / all.max(0.001))
                                    .desired_width(120.0)
                                    .text(format!("Playing {at:.1} / {all:.1} s")),
                            );
                        }
                        _ => {
                            let path = file.and_then(|f| f.path.clone());
                            if let Some(path) = path
                                && ui.button(format!("Play {}", meta.name)).clicked()
                            {
                                action = Some(Bubble::Play(meta.id.clone(), path.into()));
                            }
                            ui.label(format!("{:.1} s", f64::from(v.duration_ms) / 1000.0));
                        }
                    });
                    waveform(ui, &v.waveform);
                }
                if let Some(a) = m.file.as_ref().and_then(|f| file_line(ui, f, file, m.outgoing)) {
                    action = Some(match a {
                        FileAction::Fetch(id) => Bubble::Fetch(id),
                        FileAction::Cancel(id) => Bubble::Cancel(id),
                    });
                }
                if let Some(l) = &m.location
                    && let Some(a) = location(ui, l, m.outgoing, bx.here)
                {
                    action = Some(a);
                }
                if let Some(p) = &m.poll
                    && let Some(a) = poll(ui, p, m.outgoing)
                {
                    action = Some(a);
                }
                ui.horizontal(|ui| {
                    let edited = if m.edited_at.is_some() { "edited · " } else { "" };
                    let tick = match m.state {
                        "pending" => "🕓",
                        "sent" => "✔",
                        "delivered" => "✔✔",
                        "seen" => "✔✔ seen",
                        _ => "",
                    };
                    ui.label(
                        RichText::new(format!("{edited}{} {tick}", clock(m.sent_at)))
                            .weak()
                            .small(),
                    );
                    for r in &m.reactions {
                        let label = format!("{} {}", r.emoji, r.count);
                        let who = bx.who(&r.by);
                        let chip = emoji::button(
                            ui,
                            bx.emoji,
                            &r.emoji,
                            &format!(" {}", r.count),
                            r.mine,
                            &label,
                        )
                        .on_hover_text(who);
                        if chip.clicked() {
                            action = Some(Bubble::React(r.emoji.clone(), r.mine));
                        }
                    }
                    ui.menu_button("…", |ui| {
                        if ui.button("Reply").clicked() {
                            action = Some(Bubble::Reply);
                            ui.close();
                        }
                        if m.outgoing && m.kind == "text" {
                            if ui.button("Edit").clicked() {
                                action = Some(Bubble::Edit);
                                ui.close();
                            }
                            if ui.button("Delete for everyone").clicked() {
                                action = Some(Bubble::Delete);
                                ui.close();
                            }
                        }
                        ui.horizontal(|ui| {
                            for e in QUICK {
                                let b = emoji::button(ui, bx.emoji, e, "", false, e)
                                    .on_hover_text(format!("React {e}"));
                                if b.clicked() {
                                    action = Some(Bubble::React(e.into(), false));
                                    ui.close();
                                }
                            }
                        });
                        if ui.button("More reactions…").clicked() {
                            action = Some(Bubble::MoreReactions);
                            ui.close();
                        }
                        if !m.reactions.is_empty() {
                            ui.separator();
                            ui.label(RichText::new("Reacted").weak().small());
                            for r in &m.reactions {
                                let line = format!("{} {}", r.emoji, bx.who(&r.by));
                                emoji::label(ui, bx.emoji, &line, emoji::Style::body(ui));
                            }
                        }
                    });
                });
            });
        });
    });
    action
}

/// A location: its coordinates, a link for the map app, and for a live
/// share how long it runs (the sharer can move or stop it).
fn location(
    ui: &mut egui::Ui,
    l: &kovan_node::node::LocationView,
    mine: bool,
    here: Option<(f64, f64)>,
) -> Option<Bubble> {
    let mut action = None;
    let accuracy = if l.accuracy_m > 0 { format!(" ±{} m", l.accuracy_m) } else { String::new() };
    ui.label(format!("{:.5}, {:.5}{accuracy}", l.lat, l.lon));
    ui.hyperlink_to("Open in map app", format!("geo:{:.6},{:.6}", l.lat, l.lon));
    if l.live {
        if l.active {
            let until = l.live_until.map(clock).unwrap_or_default();
            ui.label(format!("Live until {until} · updated {}", clock(l.updated_at)));
            if mine {
                ui.horizontal(|ui| {
                    if let Some((lat, lon)) = here
                        && ui.small_button("Move to the typed position").clicked()
                    {
                        action = Some(Bubble::MoveLocation(lat, lon));
                    }
                    if ui.small_button("Stop sharing").clicked() {
                        action = Some(Bubble::StopLocation);
                    }
                });
            }
        } else {
            let how = if l.stopped { "stopped" } else { "ended" };
            ui.label(RichText::new(format!("Live location {how}")).italics());
        }
    }
    action
}

/// A poll's options as buttons with their counts; a click votes.
fn poll(ui: &mut egui::Ui, p: &kovan_node::node::PollView, mine_poll: bool) -> Option<Bubble> {
    let mut action = None;
    for (i, o) in p.options.iter().enumerate() {
        let i = i as u32;
        let chosen = p.mine.contains(&i);
        let label = format!("{} ({})", o.text, o.votes);
        if ui.add_enabled(!p.closed, egui::Button::selectable(chosen, label)).clicked() {
            let mut mine = p.mine.clone();
            if p.multiple {
                if chosen {
                    mine.retain(|c| *c != i);
                } else {
                    mine.push(i);
                    mine.sort_unstable();
                }
            } else {
                mine = if chosen { vec![] } else { vec![i] };
            }
            action = Some(Bubble::Vote(mine));
        }
    }
    if p.closed {
        ui.label(RichText::new("Poll closed").italics());
    } else if mine_poll && ui.small_button("Close poll").clicked() {
        action = Some(Bubble::ClosePoll);
    }
    action
}

/// A rough passphrase strength hint: length and character classes.
pub fn strength(p: &str) -> (&'static str, Color32) {
    let classes = [
        p.chars().any(|c| c.is_lowercase()),
        p.chars().any(|c| c.is_uppercase()),
        p.chars().any(|c| c.is_ascii_digit()),
        p.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    let n = p.chars().count();
    match (n, classes) {
        (0, _) => ("", Color32::GRAY),
        (1..=7, _) => ("Too short: at least 8 characters", Color32::from_rgb(200, 60, 60)),
        (8..=11, 0..=2) => ("Weak: longer is better", Color32::from_rgb(210, 140, 40)),
        (n, c) if n >= 16 || (n >= 12 && c >= 3) => ("Strong", Color32::from_rgb(40, 150, 70)),
        _ => ("Fair", Color32::from_rgb(150, 150, 40)),
    }
}

/// What the user is told when the database was restored from its backup.
fn restored_notice(r: &kovan_node::backup::Restored) -> String {
    format!(
        "kovan found its database damaged and went back to its last backup, from {} {} UTC. \
         Messages that came after it may be missing on this device. The damaged file was kept \
         as {}.",
        format_day(civil_day(r.backup_taken_at)),
        clock(r.backup_taken_at),
        r.damaged_file.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_hints() {
        assert_eq!(strength("abc").0, "Too short: at least 8 characters");
        assert_eq!(strength("abcdefgh").0, "Weak: longer is better");
        assert_eq!(strength("Abcdefgh12!x").0, "Strong");
    }
}
