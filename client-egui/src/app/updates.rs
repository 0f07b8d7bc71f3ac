//! What the backend reports, applied to the state: each [`Update`] and
//! node [`Event`] lands in [`Ctx`] (what screens share) or in the one
//! screen that shows it.

use eframe::egui;
use kovan_node::Event;
use kovan_node::contacts::FriendState;

use super::{App, Screen};
use crate::backend::{Backend, Cmd, Update};
use crate::notify::Notice;
use crate::prefs::NotifyContent;
use crate::widgets::{civil_day, clock, format_day, rgba_texture};

impl App {
    pub(super) fn apply_updates(&mut self, ctx: &egui::Context) {
        let updates = self.ctx.backend.as_mut().map(Backend::drain).unwrap_or_default();
        for u in updates {
            match u {
                Update::HasIdentity(has) => {
                    self.screen = if has { Screen::Unlock } else { Screen::FirstRun };
                }
                Update::Started { account } => {
                    self.ctx.succeeded(&[
                        "unlocking",
                        "creating your identity",
                        "starting kovan",
                        "reading kovan.toml",
                        "that",
                    ]);
                    self.ctx.account = account;
                    self.screen = Screen::Main;
                    self.first_run.clear();
                    self.unlock.clear();
                    self.last_input = std::time::Instant::now();
                    // The Spreads tab counts what came while the window was shut.
                    self.spreads.load(&mut self.ctx);
                    if let Some(open) = self.ctx.open.clone() {
                        self.navigate(super::Nav::OpenChat(open));
                    }
                }
                Update::Locked => {
                    // The open chat stays: it opens again on unlocking.
                    self.screen = Screen::Unlock;
                }
                Update::SignedIn { username } => {
                    self.ctx.succeeded(&["signing up", "logging in", "relay session"]);
                    self.ctx.avatars.remove(&username);
                    self.ctx.send(Cmd::Avatar(username.clone()));
                    self.ctx.signed_in = Some(username);
                    self.people.signed_in();
                    self.ctx.send(Cmd::Refresh);
                }
                Update::Contacts(c) => {
                    let missing: Vec<String> = c
                        .iter()
                        .filter(|c| c.state == FriendState::Friend)
                        .filter_map(|c| c.username.clone())
                        .filter(|u| !self.ctx.avatars.contains_key(u))
                        .collect();
                    for u in missing {
                        self.ctx.avatars.insert(u.clone(), None);
                        self.ctx.send(Cmd::Avatar(u));
                    }
                    self.ctx.succeeded(&["reading contacts"]);
                    self.ctx.contacts = c;
                }
                Update::Avatar { username, image } => {
                    let tex = image.map(|(w, h, rgba)| {
                        rgba_texture(ctx, format!("avatar-{username}"), w, h, &rgba)
                    });
                    self.ctx.avatars.insert(username, tex);
                }
                Update::FullImage { file, image } => {
                    self.chat.viewer().loaded(ctx, &mut self.ctx, &file, image);
                }
                Update::TypingIndicators(on) => {
                    self.ctx.succeeded(&["saving settings"]);
                    self.ctx.typing_indicators = on;
                    if !on {
                        self.ctx.typing.clear();
                    }
                }
                Update::ChatSearch { conversation, query, hits } => {
                    self.ctx.succeeded(&["searching the chat"]);
                    self.chat.search_found(&conversation, self.ctx.open(), query, hits);
                }
                Update::Receipts { message, receipts } => self.chat.receipts(&message, receipts),
                Update::Invites(v) => self.settings.invites_loaded(v),
                Update::RelayChanged(url) => {
                    self.ctx.config.relay = url.clone();
                    self.ctx.signed_in = None;
                    self.ctx.relay_up = false;
                    self.settings.forget_profile();
                    self.unlock.relay_changed(url);
                }
                Update::Call(c) => self.call.set(c.map(|c| *c)),
                Update::CallVideo { seen, camera, seen_screen } => {
                    self.call.video(seen, camera, seen_screen)
                }
                Update::Conversations(c) => {
                    self.ctx.succeeded(&["reading chats"]);
                    self.chat.restore_drafts(&c);
                    let mut c = c;
                    // The open chat is read: every message that came into it
                    // asked the node to mark it so. Each command runs on its
                    // own task, so this list may have been read just before
                    // that mark landed; it must not bring the count back.
                    if let Some(open) = self.ctx.open() {
                        c.iter_mut().filter(|c| c.id == open).for_each(|c| c.unread = 0);
                    }
                    self.ctx.conversations = c;
                }
                Update::History { conversation, messages, older } => {
                    self.ctx.succeeded(&["reading the chat"]);
                    self.ctx.chats.entry(conversation).or_default().add_page(messages, older);
                }
                Update::Files(files) => {
                    for f in files {
                        self.ctx.files.insert(f.id.clone(), f);
                    }
                }
                Update::Found(r) => {
                    self.ctx.succeeded(&["searching"]);
                    self.people.found(r);
                }
                Update::Groups(g) => {
                    self.ctx.succeeded(&["reading groups"]);
                    self.ctx.groups = g;
                }
                Update::Invitations(i) => {
                    self.ctx.succeeded(&["reading invitations"]);
                    self.ctx.invitations = i;
                }
                Update::Scheduled(v) => {
                    self.ctx.succeeded(&["reading scheduled messages"]);
                    self.ctx.scheduled = v;
                }
                Update::NoTrace(v) => {
                    self.ctx.succeeded(&["reading no-trace chats"]);
                    self.ctx.no_trace = v;
                }
                Update::ChatUnlocked(conversation) => {
                    self.ctx.succeeded(&["unlocking the chat"]);
                    self.ctx.chats.remove(&conversation);
                    self.ctx.send(Cmd::History { conversation, before: None });
                }
                Update::Settings { settings, sessions } => {
                    self.ctx.succeeded(&["reading settings", "reading sessions"]);
                    self.settings.loaded(settings, sessions);
                }
                Update::SignedOut => {
                    self.ctx.signed_in = None;
                    self.settings.signed_out();
                    self.communities.forget();
                }
                Update::Community { what, update } => {
                    self.ctx.succeeded(&[what]);
                    self.communities.update(update, &mut self.ctx);
                }
                Update::Spreads { what, list, settings } => {
                    self.ctx.succeeded(&[what]);
                    self.spreads.loaded(list, settings);
                }
                Update::SafetyNumber { account, digits } => {
                    self.people.safety_number(account, digits);
                }
                Update::Sent(m) => {
                    self.ctx.succeeded(&["sending"]);
                    self.ctx.chats.entry(m.conversation.clone()).or_default().upsert(*m);
                    self.ctx.send(Cmd::Refresh);
                }
                Update::Event(e) => self.on_event(*e),
                Update::Restored(r) => self.ctx.error(restored_notice(&r)),
                Update::Error { action, problem } => {
                    if self.screen == Screen::Opening {
                        self.screen =
                            if action == "unlocking" { Screen::Unlock } else { Screen::FirstRun };
                    }
                    if action == "searching" {
                        self.people.search_failed();
                    }
                    self.communities.failed(action);
                    let text = tr!(
                        "shell-error",
                        action = super::actions::failed(action),
                        message = problem.text()
                    );
                    self.ctx.error_about(action, text);
                }
            }
        }
    }

    fn on_event(&mut self, e: Event) {
        self.notify(&e);
        if let Event::Call { call } = &e {
            self.call.event(call.clone());
        }
        match &e {
            Event::Spread { spread } => self.spreads.event(spread.clone()),
            Event::SpreadSettings { settings } => self.spreads.settings(settings.clone()),
            _ => {}
        }
        let ctx = &mut self.ctx;
        match e {
            Event::Message { message } => {
                let conv = message.conversation.clone();
                // Their message is what they were typing.
                if let Some(who) = ctx.typing.get_mut(&conv) {
                    who.remove(&message.sender);
                }
                let is_open = ctx.open() == Some(conv.as_str());
                ctx.chats.entry(conv.clone()).or_default().upsert(message);
                if is_open {
                    ctx.send(Cmd::MarkRead(conv));
                }
                ctx.send(Cmd::Refresh);
            }
            Event::MessageEdited { message }
            | Event::Reactions { message }
            | Event::PollUpdated { message }
            | Event::LocationUpdated { message } => {
                ctx.chats.entry(message.conversation.clone()).or_default().upsert(message);
            }
            Event::MessageState { conversation, id, state } => {
                ctx.chats.entry(conversation).or_default().set_state(&id, state);
            }
            Event::MessageDeleted { conversation, id } => {
                ctx.chats.entry(conversation).or_default().mark_deleted(&id);
            }
            Event::Error { message, .. } => ctx.error(crate::errors::node_text(&message)),
            Event::File { file } => {
                ctx.files.insert(file.id.clone(), file);
            }
            Event::GroupInvitation { .. }
            | Event::GroupChanged { .. }
            | Event::Scheduled { .. }
            | Event::NoTrace { .. } => {
                ctx.send(Cmd::Refresh);
            }
            // Locked, unlocked, or its password changed: what was shown of
            // it is dropped (read afresh once unlocked).
            Event::ChatSeal { conversation } => {
                ctx.chats.remove(&conversation);
                ctx.send(Cmd::Refresh);
            }
            // Nothing of it stays here either.
            Event::NoTraceEnded { id, reason } => {
                ctx.chats.remove(&id);
                if ctx.open() == Some(id.as_str()) {
                    ctx.close_chat();
                }
                if !reason.starts_with("you ended") {
                    let reason = crate::errors::node_text(&reason);
                    ctx.error(tr!("shell-no-trace-ended", reason = reason));
                }
                ctx.send(Cmd::Refresh);
            }
            Event::RelayConnected => {
                ctx.relay_up = true;
                ctx.send(Cmd::Refresh);
            }
            Event::RelayDisconnected { .. } => ctx.relay_up = false,
            Event::RelaySessionEnded => {
                ctx.signed_in = None;
                ctx.error_about("relay session", tr!("shell-relay-session-ended"));
            }
            Event::AccountLogin { device_peer_id, user_agent, .. } => {
                let device: String = device_peer_id.chars().take(16).collect();
                ctx.error(tr!("shell-new-login", agent = user_agent, device = device));
            }
            Event::AccountDeleted => {
                ctx.signed_in = None;
                ctx.error(tr!("shell-account-deleted"));
            }
            // Someone answered or mentioned this account, or it was
            // admitted or invited: the list and the page shown are read
            // again (the node checks what comes), once for a burst.
            Event::Community { .. } => self.communities.stale(),
            Event::Typing { conversation, account, active } => {
                let who = ctx.typing.entry(conversation).or_default();
                if active {
                    who.insert(account, std::time::Instant::now());
                } else {
                    who.remove(&account);
                }
            }
            Event::Presence { account, online, last_seen } => {
                if let Some(c) = ctx.contacts.iter_mut().find(|c| c.account == account) {
                    c.online = online;
                    c.last_seen = last_seen;
                }
            }
            Event::FriendRequest { .. }
            | Event::FriendAccepted { .. }
            | Event::FriendDeclined { .. }
            | Event::FriendRemoved { .. }
            | Event::ContactChanged { .. } => ctx.send(Cmd::Refresh),
            _ => {}
        }
    }
}

impl App {
    /// A desktop notification for a message in a chat the user is not
    /// looking at, a friend request, a group invitation, or an answer,
    /// mention, admission or invitation in a community.
    fn notify(&mut self, e: &Event) {
        let notice = match e {
            Event::Message { message: m } if !m.outgoing => {
                let looking = self.focused && self.ctx.open() == Some(m.conversation.as_str());
                if looking {
                    return;
                }
                let conv = self.ctx.conversations.iter().find(|c| c.id == m.conversation);
                let chat = conv.map(|c| c.title.clone()).unwrap_or_default();
                let sender = self.ctx.names(&m.conversation).get(&m.sender).cloned();
                let sender = sender.unwrap_or_else(|| chat.clone());
                let title = match conv {
                    Some(c) if c.kind == "group" => {
                        tr!("shell-notify-in-group", sender = sender, group = chat)
                    }
                    _ => sender,
                };
                // A sealed chat's words stay in it (X6).
                let sealed = conv.is_some_and(|c| c.sealed) || m.sealed;
                match (self.ctx.prefs.notify_content, sealed) {
                    (NotifyContent::NameAndMessage, false) => {
                        Notice { title, body: crate::screens::chats::preview(m) }
                    }
                    (NotifyContent::Nothing, _) => {
                        Notice { title: tr!("shell-title"), body: tr!("shell-notify-new-message") }
                    }
                    _ => Notice { title, body: tr!("shell-notify-new-message") },
                }
            }
            Event::Call { call } if call.state == kovan_node::CallState::Ringing => Notice {
                title: tr!("call-notify-title"),
                body: tr!("call-notify-body", name = call.peer_name.clone()),
            },
            Event::Spread { spread: s }
                if !s.mine && !s.seen && s.retracted_at.is_none() && !self.spreads.knows(s) =>
            {
                Notice {
                    title: tr!("spreads-notify-title"),
                    body: tr!("spreads-notify-body", name = s.author_name.clone()),
                }
            }
            Event::FriendRequest { contact } => Notice {
                title: tr!("shell-notify-friend-request"),
                body: tr!("shell-notify-friend-request-body", name = contact.name()),
            },
            Event::Community { kind, by, .. } => Notice {
                title: tr!("shell-notify-community"),
                body: match kind.as_str() {
                    "reply" => tr!("shell-notify-community-reply", name = by.clone()),
                    "mention" => tr!("shell-notify-community-mention", name = by.clone()),
                    "admitted" => tr!("shell-notify-community-admitted"),
                    _ => tr!("shell-notify-community-invited"),
                },
            },
            Event::GroupInvitation { invitation: i } if i.incoming && i.state == "pending" => {
                Notice {
                    title: tr!("shell-notify-invitation"),
                    body: tr!(
                        "shell-notify-invitation-body",
                        name = i.name.clone(),
                        group = i.group_name.clone()
                    ),
                }
            }
            _ => return,
        };
        self.ctx.notify(notice);
    }
}

/// What the user is told when the database was restored from its backup.
fn restored_notice(r: &kovan_node::backup::Restored) -> String {
    tr!(
        "shell-restored",
        day = format_day(civil_day(r.backup_taken_at)),
        time = clock(r.backup_taken_at),
        file = r.damaged_file.display().to_string()
    )
}
