//! The shell: lock state, the backend queue, navigation, the error bar
//! and the router. Immediate mode: every frame drains the backend's
//! updates into the state ([`updates`]), then draws the screen that is up.
//! Each screen lives in [`crate::screens`] with its own state; what they
//! share is [`Ctx`]. Nothing here waits on the node.

mod actions;
mod ctx;
mod style;
mod updates;

use std::time::{Duration, Instant};

use eframe::egui::{self, Color32, RichText};
use kovan_node::contacts::FriendState;

use crate::backend::{Backend, BackendConfig, Cmd};
use crate::screens::call::CallWindow;
use crate::screens::chat::ChatView;
use crate::screens::chats::ChatList;
use crate::screens::communities::Communities;
use crate::screens::first_run::FirstRun;
use crate::screens::people::People;
use crate::screens::settings::Settings;
use crate::screens::spreads::Spreads;
use crate::screens::starting;
use crate::screens::switcher::Switcher;
use crate::screens::unlock::Unlock;
use crate::widgets;

pub use ctx::{Ctx, Nav};

/// Locks itself after this long without input (unless
/// [`App::idle_lock_after`] says otherwise).
pub const IDLE_LOCK: Duration = Duration::from_secs(10 * 60);

/// The sidebar's width (tabs, chat list, people, settings), in points.
pub const SIDEBAR: f32 = 320.0;

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
    /// Communities on the relay: joined, search, feed, posts.
    Communities,
    /// Spreading messages.
    Spreads,
    /// Profile, privacy, sessions, account.
    Settings,
}

/// The application: the shell's own state, what the screens share, and
/// each screen's state.
pub struct App {
    /// Which screen is up.
    pub screen: Screen,
    tab: Tab,
    last_input: Instant,
    idle_lock: Duration,
    ctx: Ctx,
    first_run: FirstRun,
    unlock: Unlock,
    chat_list: ChatList,
    chat: ChatView,
    call: CallWindow,
    people: People,
    communities: Communities,
    spreads: Spreads,
    settings: Settings,
    switcher: Switcher,
    /// The window's title as last sent to the window ("kovan (3)").
    title: String,
    /// The theme and language last applied to the window.
    applied: Option<(crate::prefs::Theme, crate::i18n::Lang)>,
    /// Whether the window has the keyboard focus (else a message in the
    /// open chat is notified too).
    focused: bool,
}

impl App {
    /// An app for this home; the node starts with the first frame.
    pub fn new(config: BackendConfig) -> Self {
        let (prefs, unreadable) = crate::prefs::Prefs::load(&config.home);
        crate::audio::choose(prefs.devices());
        let mut app = Self {
            screen: Screen::Starting,
            tab: Tab::Chats,
            last_input: Instant::now(),
            idle_lock: IDLE_LOCK,
            ctx: Ctx::new(config),
            first_run: FirstRun::default(),
            unlock: Unlock::default(),
            chat_list: ChatList::default(),
            chat: ChatView::default(),
            call: CallWindow::default(),
            people: People::default(),
            communities: Communities::default(),
            spreads: Spreads::default(),
            settings: Settings::default(),
            switcher: Switcher::default(),
            title: String::new(),
            applied: None,
            focused: true,
        };
        app.ctx.prefs = prefs;
        if let Some(e) = unreadable {
            app.ctx.error(tr!("shell-prefs-unreadable", error = e));
        }
        app
    }

    /// Shows the interface in `lang`, whatever the system's (tests).
    pub fn language(mut self, lang: crate::i18n::Lang) -> Self {
        self.ctx.prefs.language = Some(lang);
        self
    }

    /// Uses this theme, whatever the system's (tests).
    pub fn theme(mut self, theme: crate::prefs::Theme) -> Self {
        self.ctx.prefs.theme = theme;
        self
    }

    /// Shows the window in this theme and language from the next frame, as
    /// Settings does, without writing `desktop.toml` (tests).
    pub fn show_in(&mut self, theme: crate::prefs::Theme, lang: crate::i18n::Lang) {
        self.ctx.prefs.theme = theme;
        self.ctx.prefs.language = Some(lang);
    }

    /// Keeps notifications in a list instead of showing them (tests).
    pub fn record_notifications(mut self) -> Self {
        self.ctx.notifier = crate::notify::Notifier::Recorded(Vec::new());
        self
    }

    /// Records files opened and shown in their folder instead of asking
    /// the desktop; file dialogs answer with what [`App::answer_next_dialog`]
    /// gave (tests).
    pub fn record_desktop(mut self) -> Self {
        self.ctx.desktop.record();
        self
    }

    /// What was asked of the desktop (see [`App::record_desktop`]).
    pub fn desktop_asked(&self) -> &[crate::desktop::Asked] {
        self.ctx.desktop.asked()
    }

    /// The next file dialog picks `path` (see [`App::record_desktop`]).
    pub fn answer_next_dialog(&mut self, path: std::path::PathBuf) {
        self.ctx.desktop.answer_next_dialog(path);
    }

    /// The notifications recorded (see [`App::record_notifications`]).
    pub fn notifications(&self) -> &[crate::notify::Notice] {
        self.ctx.notifier.recorded()
    }

    /// Applies the theme and the language when they change (and the
    /// look, once).
    fn apply_prefs(&mut self, ctx: &egui::Context) {
        let want = (self.ctx.prefs.theme, self.ctx.prefs.lang());
        if self.applied == Some(want) {
            return;
        }
        if self.applied.is_none() {
            style::install(ctx);
        }
        ctx.set_theme(want.0.preference());
        crate::i18n::set(want.1);
        self.applied = Some(want);
    }

    /// Locks after `after` without input instead of [`IDLE_LOCK`].
    pub fn idle_lock_after(mut self, after: Duration) -> Self {
        self.idle_lock = after;
        self
    }

    /// Unlocks with this passphrase (as the unlock screen does).
    pub fn unlock_with(&mut self, passphrase: &str) {
        self.ctx.send(Cmd::Unlock { passphrase: passphrase.to_owned() });
        self.screen = Screen::Opening;
    }

    /// Chats and groups listed.
    pub fn conversation_count(&self) -> usize {
        self.ctx.conversations.len()
    }

    /// Opens the chat with this title (as a click in the list does).
    pub fn open_by_title(&mut self, title: &str) {
        if let Some(id) =
            self.ctx.conversations.iter().find(|c| c.title == title).map(|c| c.id.clone())
        {
            self.navigate(Nav::OpenChat(id));
        }
    }

    /// Errors shown to the user, oldest first.
    pub fn errors(&self) -> Vec<String> {
        self.ctx.errors.iter().map(|e| e.text.clone()).collect()
    }

    /// The window's title: "kovan", or with the unread count, "kovan (3)".
    pub fn window_title(&self) -> &str {
        &self.title
    }

    /// Puts the unread count in the window's title (told to the window
    /// only when it changes).
    fn update_title(&mut self, ui: &egui::Ui) {
        let unread: i64 = match self.screen {
            Screen::Main => self.ctx.conversations.iter().map(|c| c.unread).sum(),
            _ => 0,
        };
        let title =
            if unread > 0 { tr!("shell-title-unread", n = unread) } else { tr!("shell-title") };
        if title != self.title {
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
    }

    /// The window is closing: what was typed is kept as drafts.
    pub fn closing(&mut self) {
        for c in self.chat.unsaved_drafts() {
            self.ctx.send(c);
        }
    }

    /// Draws one frame.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        if self.ctx.backend.is_none() {
            match Backend::start(self.ctx.config.clone(), ui.ctx().clone()) {
                Ok(b) => self.ctx.backend = Some(b),
                Err(e) => self.ctx.error(tr!("shell-start-failed", error = e.to_string())),
            }
        }
        self.apply_prefs(ui.ctx());
        self.focused = ui.input(|i| i.viewport().focused.unwrap_or(true));
        self.ctx.emoji.trim();
        self.apply_updates(&ui.ctx().clone());
        for e in self.ctx.desktop.failures() {
            self.ctx.error(tr!("shell-save-failed", error = e));
        }
        self.chat.poll_audio(ui.ctx(), &mut self.ctx);
        if ui.input(|i| !i.events.is_empty()) {
            self.last_input = Instant::now();
        }
        if self.screen == Screen::Main && self.last_input.elapsed() > self.idle_lock {
            self.lock();
        }
        self.error_bar(ui);
        // The router: one line per screen.
        match self.screen {
            Screen::Starting | Screen::Opening => {
                starting::show(ui, self.screen == Screen::Opening);
            }
            Screen::FirstRun => self.first_run.show(ui, &mut self.ctx),
            Screen::Unlock => self.unlock.show(ui, &mut self.ctx),
            Screen::Main => self.main(ui),
        }
        self.follow_nav();
        self.update_title(ui);
    }

    /// Goes where the last screen drawn asked to.
    fn follow_nav(&mut self) {
        if let Some(nav) = self.ctx.nav.take() {
            self.navigate(nav);
        }
    }

    fn navigate(&mut self, nav: Nav) {
        match nav {
            Nav::Opening => self.screen = Screen::Opening,
            Nav::OpenChat(id) => {
                self.tab = Tab::Chats;
                self.ctx.open = Some(id.clone());
                self.chat.opened(&id, &mut self.ctx);
            }
        }
    }

    fn lock(&mut self) {
        self.chat.stop_audio();
        self.call.lock();
        for c in self.chat.unsaved_drafts() {
            self.ctx.send(c);
        }
        self.ctx.send(Cmd::Lock);
        self.ctx.chats.clear();
        self.people.forget_found();
        self.communities.forget();
        self.spreads.forget();
        self.screen = Screen::Opening;
    }

    /// Errors float over the bottom of the sidebar (the lock screens'
    /// bottom left): one coming or going never moves a control.
    fn error_bar(&mut self, ui: &mut egui::Ui) {
        if self.ctx.errors.is_empty() {
            return;
        }
        let width = SIDEBAR - 16.0;
        egui::Area::new(egui::Id::new("errors"))
            .anchor(egui::Align2::LEFT_BOTTOM, egui::vec2(8.0, -8.0))
            .order(egui::Order::Foreground)
            .show(ui.ctx(), |ui| {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.set_width(width);
                    let mut dismiss = None;
                    for (i, e) in self.ctx.errors.iter().enumerate() {
                        ui.label(RichText::new(&e.text).color(Color32::from_rgb(200, 60, 60)));
                        if ui.small_button(tr!("shell-dismiss")).clicked() {
                            dismiss = Some(i);
                        }
                    }
                    if self.ctx.errors.len() > 1
                        && ui.small_button(tr!("shell-dismiss-all")).clicked()
                    {
                        self.ctx.errors.clear();
                    }
                    if let Some(i) = dismiss {
                        self.ctx.errors.remove(i);
                    }
                });
            });
    }

    /// The chats' titles, in the list's order.
    pub fn conversation_titles(&self) -> Vec<String> {
        self.ctx.conversations.iter().map(|c| c.title.clone()).collect()
    }

    /// The title of the conversation shown, if any.
    pub fn open_title(&self) -> Option<&str> {
        let open = self.ctx.open.as_deref()?;
        self.ctx.conversations.iter().find(|c| c.id == open).map(|c| c.title.as_str())
    }

    /// Alt+Up and Alt+Down: the previous or next chat in the list (the
    /// first, when none is open).
    fn next_chat_keys(&mut self, ui: &egui::Ui) {
        let step = ui.input_mut(|i| {
            if i.consume_key(egui::Modifiers::ALT, egui::Key::ArrowUp) {
                Some(-1)
            } else if i.consume_key(egui::Modifiers::ALT, egui::Key::ArrowDown) {
                Some(1)
            } else {
                None
            }
        });
        let Some(step) = step else { return };
        let list = &self.ctx.conversations;
        let at = self.ctx.open.as_deref().and_then(|o| list.iter().position(|c| c.id == o));
        let to = match at {
            Some(i) => i.checked_add_signed(step).filter(|&j| j < list.len()),
            None => (!list.is_empty()).then_some(0),
        };
        if let Some(c) = to.and_then(|j| list.get(j)) {
            self.navigate(Nav::OpenChat(c.id.clone()));
        }
    }

    /// The app proper: the status bar, the tabs on the left, the open chat.
    fn main(&mut self, ui: &mut egui::Ui) {
        if !self.ctx.asking() && !self.switcher.is_open() {
            self.next_chat_keys(ui);
            self.switcher.keys(ui);
            // Ctrl+N: a new chat starts with finding the person.
            if ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::N)) {
                self.tab = Tab::People;
                self.people.focus_search();
            }
        }
        egui::Panel::top("status").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.strong(tr!("shell-brand"));
                let relay = match (&self.ctx.signed_in, self.ctx.relay_up) {
                    (Some(u), true) => tr!("shell-signed-in", user = u.as_str()),
                    (Some(u), false) => tr!("shell-relay-down", user = u.as_str()),
                    (None, _) => tr!("shell-not-signed-in"),
                };
                ui.label(relay);
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui.button(tr!("shell-lock")).clicked() {
                        self.lock();
                    }
                });
            });
        });
        // A fixed width: what a tab shows wraps inside it, and never
        // widens it at the message box's expense.
        egui::Panel::left("side").resizable(false).exact_size(SIDEBAR).show(ui, |ui| {
            self.tabs(ui);
            ui.separator();
            match self.tab {
                Tab::Chats => self.chat_list.show(ui, &mut self.ctx),
                Tab::People => self.people.show(ui, &mut self.ctx),
                Tab::Communities => self.communities.show(ui, &mut self.ctx),
                Tab::Spreads => self.spreads.show(ui, &mut self.ctx),
                Tab::Settings => self.settings.show(ui, &mut self.ctx),
            }
            self.follow_nav();
        });
        if self.tab == Tab::Communities {
            egui::CentralPanel::default().show(ui, |ui| self.communities.page(ui, &mut self.ctx));
        } else {
            if let Some(conv) = self.ctx.open.clone() {
                self.chat.side(ui, &mut self.ctx, &conv);
            }
            egui::CentralPanel::default().show(ui, |ui| match self.ctx.open.clone() {
                Some(conv) => self.chat.show(ui, &mut self.ctx, &conv),
                None => {
                    ui.vertical_centered(|ui| {
                        ui.add_space(ui.available_height() / 3.0);
                        ui.label(tr!("shell-pick-chat"));
                    });
                }
            });
        }
        if let Some(cmd) = widgets::confirm(ui, &mut self.ctx.confirm) {
            self.ctx.send(cmd);
        }
        self.switcher.show(ui, &mut self.ctx);
        self.call.show(ui, &mut self.ctx);
        self.follow_nav();
    }

    fn tabs(&mut self, ui: &mut egui::Ui) {
        // Five tabs in a narrow sidebar: tighter than other
        // buttons, and wrapped when counts make them longer than it.
        ui.horizontal_wrapped(|ui| {
            ui.spacing_mut().item_spacing.x = 2.0;
            ui.spacing_mut().button_padding.x = 7.0;
            let unread: i64 = self.ctx.conversations.iter().map(|c| c.unread).sum();
            let chats = if unread > 0 {
                tr!("shell-tab-chats-unread", n = unread)
            } else {
                tr!("shell-tab-chats")
            };
            ui.selectable_value(&mut self.tab, Tab::Chats, chats);
            let incoming =
                self.ctx.contacts.iter().filter(|c| c.state == FriendState::Incoming).count();
            let people = if incoming > 0 {
                tr!("shell-tab-people-requests", n = incoming)
            } else {
                tr!("shell-tab-people")
            };
            if ui.selectable_value(&mut self.tab, Tab::People, people).clicked() {
                // Avatars may have changed since they were fetched.
                self.ctx.avatars.clear();
                self.ctx.send(Cmd::Refresh);
            }
            let unread = self.communities.unread();
            let communities = if unread > 0 {
                tr!("shell-tab-communities-unread", n = unread)
            } else {
                tr!("shell-tab-communities")
            };
            if ui.selectable_value(&mut self.tab, Tab::Communities, communities).clicked() {
                self.communities.opened(&mut self.ctx);
            }
            let new = self.spreads.unseen();
            let spreads = if new > 0 {
                tr!("shell-tab-spreads-new", n = new)
            } else {
                tr!("shell-tab-spreads")
            };
            ui.selectable_value(&mut self.tab, Tab::Spreads, spreads);
            if ui
                .selectable_value(&mut self.tab, Tab::Settings, tr!("shell-tab-settings"))
                .clicked()
                && self.ctx.signed_in.is_some()
            {
                self.ctx.send(Cmd::LoadSettings);
            }
        });
    }
}
