//! An open conversation (the main panel): its title, the group panel
//! (groups), scheduled messages, the composer at the bottom, and the
//! messages; files dropped on the window are sent here.
//!
//! | part | file |
//! |---|---|
//! | loaded pages of history | [`pages`] |
//! | the scrolled message list | [`messages`] |
//! | one message, its menu, the reaction picker | [`bubble`] |
//! | who has a message and who read it | [`info`] |
//! | the composer (reply, emoji, completions, field, Send) | [`composer`] |
//! | attach, location, poll, send later | [`extras`], [`location`], [`poll`], [`schedule`] |
//! | forwarding a message to another chat | [`forward`] |
//! | recording and playing voice notes | [`voice`] |
//! | search in the chat (Ctrl+F) and jumping to a hit | [`search`] |

mod bubble;
mod composer;
mod conditional;
mod extras;
mod forward;
mod info;
mod location;
mod messages;
mod pages;
mod poll;
mod schedule;
mod search;
mod voice;

use std::collections::HashMap;
use std::path::PathBuf;

use eframe::egui;

use self::bubble::{Bubble, BubbleCtx};
use self::composer::Composer;
use self::info::MessageInfo;
use self::voice::Voice;
use crate::app::Ctx;
use crate::backend::{Action, Cmd};
use crate::emoji;
use crate::screens::groups::GroupPanel;
use crate::screens::image_viewer::ImageViewer;
use crate::screens::private::PrivateBar;
use crate::widgets::{Confirm, FileAction, civil_day};
use kovan_node::node::MessageView;

pub use self::pages::Pages;
pub use self::schedule::due_at;

/// The chat view's state (the conversation shown is the shell's).
#[derive(Default)]
pub struct ChatView {
    composer: Composer,
    group: GroupPanel,
    voice: Voice,
    /// The emoji picker, for the composer and for reactions.
    picker: emoji::Picker,
    /// The message whose reaction picker is open.
    reacting: Option<String>,
    thumbnails: HashMap<String, Option<egui::TextureHandle>>,
    viewer: ImageViewer,
    info: MessageInfo,
    private: PrivateBar,
    search: search::ChatSearch,
    forwarding: Option<forward::Forwarding>,
}

impl ChatView {
    /// `id` is now the conversation shown: its newest page unless it
    /// came already (messages that arrived meanwhile are not the page),
    /// and it is read.
    pub fn opened(&mut self, id: &str, ctx: &mut Ctx) {
        for c in self.composer.changed_drafts(true) {
            ctx.send(c);
        }
        self.composer.opened();
        self.info.close();
        self.search.close();
        let locked = ctx.conversations.iter().any(|c| c.id == id && c.locked);
        if !locked && !ctx.chats.get(id).is_some_and(|p| p.newest_loaded) {
            ctx.send(Cmd::History { conversation: id.to_owned(), before: None });
        }
        ctx.send(Cmd::MarkRead(id.to_owned()));
        ctx.send(Cmd::Refresh);
    }

    /// Picks up a finished recording (to send) and a finished playback.
    pub fn poll_audio(&mut self, egui_ctx: &egui::Context, ctx: &mut Ctx) {
        self.voice.poll(egui_ctx, ctx);
    }

    /// Drops a recording and stops playing (kovan locks).
    pub fn stop_audio(&mut self) {
        self.voice.stop();
    }

    /// The image viewer (the backend's decoded images go to it).
    pub fn viewer(&mut self) -> &mut ImageViewer {
        &mut self.viewer
    }

    /// The conversation list came, with the node's drafts.
    pub fn restore_drafts(&mut self, conversations: &[kovan_node::node::ConversationView]) {
        self.composer.restore_drafts(conversations);
    }

    /// What was typed and not yet kept as drafts (kovan locks or closes).
    pub fn unsaved_drafts(&mut self) -> Vec<Cmd> {
        self.composer.changed_drafts(true)
    }

    /// What the chat shows beside it (a group's members panel), drawn
    /// before the chat itself.
    pub fn side(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx, conv: &str) {
        self.group.side(ui, ctx, conv);
    }

    /// Search hits came for `conversation`.
    pub fn search_found(
        &mut self,
        conversation: &str,
        open: Option<&str>,
        query: String,
        hits: Vec<MessageView>,
    ) {
        if open == Some(conversation) {
            self.search.found(query, hits);
        }
    }

    /// A message's receipts came (for its info window).
    pub fn receipts(&mut self, message: &str, receipts: Vec<kovan_node::node::ReceiptView>) {
        self.info.loaded(message, receipts);
    }

    /// Draws the conversation `conv`.
    pub fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx, conv: &str) {
        let title = ctx
            .conversations
            .iter()
            .find(|c| c.id == conv)
            .map_or_else(|| tr!("chat-untitled"), |c| c.title.clone());
        let typing = ctx.typing_in(conv);
        let one_to_one = ctx
            .conversations
            .iter()
            .any(|c| c.id == conv && c.kind == "direct" && c.mode != "no_trace" && !c.closed);
        ui.horizontal(|ui| {
            ui.heading(&title);
            if one_to_one && ui.button(tr!("call-start")).clicked() {
                ctx.send(Cmd::Call(crate::backend::CallCmd::Start(conv.to_owned())));
            }
            // On the title's line: it comes and goes without moving anything.
            if !typing.is_empty() {
                let who = match typing.as_slice() {
                    [one] => tr!("chat-typing-one", name = one.as_str()),
                    [a, b] => tr!("chat-typing-two", a = a.as_str(), b = b.as_str()),
                    more => tr!("chat-typing-many", n = more.len()),
                };
                ui.weak(who);
                ui.ctx().request_repaint_after(std::time::Duration::from_millis(500));
            }
        });
        if self.private.show(ui, ctx, conv) {
            // Sealed and locked: nothing of it shows until it is unlocked.
            return;
        }
        if !ctx.asking() {
            self.escape(ui);
            self.search.keys(ui);
        }
        let mut cmds = Vec::new();
        let mut ask = None;
        self.group.show(ui, ctx, conv);
        if let Some((id, text)) = schedule::list(ui, ctx, conv, &mut cmds) {
            self.composer.edit_scheduled(conv, id, text);
        }
        self.search.show(ui, ctx, conv);
        let jump = self.search.target(ctx, conv);
        ui.separator();
        self.composer.show(ui, ctx, conv, &mut self.picker, &mut self.voice, &mut cmds);
        // Files dropped on the window go to this chat (images as images).
        let dropped: Vec<PathBuf> =
            ui.input(|i| i.raw.dropped_files.iter().filter_map(|f| f.path.clone()).collect());
        for path in dropped {
            let image = is_image(&path);
            cmds.push(Cmd::SendFile { conversation: conv.to_owned(), path, image });
        }
        let names = ctx.names(conv);
        let group = ctx.groups.iter().any(|g| g.id == conv);
        let today = civil_day(ctx.config().clock.now_ms());
        let mut bx = BubbleCtx {
            emoji: &mut ctx.emoji,
            names: &names,
            group,
            playing: self.voice.playing(),
            here: self.composer.extras.location.typed_point(),
            today,
        };
        let pages = ctx.chats.entry(conv.to_owned()).or_default();
        let jump = messages::Jump { scroll: jump.0.as_deref(), outline: jump.1.as_deref() };
        let out = messages::show(ui, pages, &ctx.files, &mut self.thumbnails, &mut bx, jump);
        let (mut reply, mut reacting, mut play, mut view) = (None, None, None, None);
        for (m, action) in out.inner {
            let (conversation, message) = (conv.to_owned(), m.id.clone());
            match action {
                Bubble::Reply => reply = Some((m, false)),
                Bubble::Edit => reply = Some((m, true)),
                Bubble::Delete => {
                    ask = Some(Confirm::new(
                        tr!("chat-delete-question"),
                        tr!("chat-delete-detail"),
                        Cmd::Act(Action::Delete { conversation, message }),
                    ));
                }
                Bubble::Info => {
                    self.info.open(message.clone());
                    cmds.push(Cmd::Receipts { conversation, message });
                }
                Bubble::React(emoji, remove) => {
                    cmds.push(Cmd::React { conversation, message, emoji, remove });
                }
                Bubble::Vote(choices) => {
                    cmds.push(Cmd::PollVote { conversation, poll: message, choices });
                }
                Bubble::ClosePoll => cmds.push(Cmd::PollClose { conversation, poll: message }),
                Bubble::OpenVoting => cmds.push(Cmd::PollRing { conversation, poll: message }),
                Bubble::OpenConditional(password, here) => {
                    cmds.push(Cmd::OpenConditional { conversation, message, password, here });
                }
                Bubble::ReleaseShare => cmds.push(Cmd::ReleaseShare { conversation, message }),
                Bubble::CheckIn => cmds.push(Cmd::CheckIn { conversation, message }),
                Bubble::MoreReactions => reacting = Some(message),
                Bubble::View(id) => view = Some(id),
                Bubble::MoveLocation(lat, lon) => {
                    cmds.push(Cmd::LocationUpdate { conversation, id: message, lat, lon });
                }
                Bubble::StopLocation => cmds.push(Cmd::LocationStop { conversation, id: message }),
                Bubble::Play(id, path) => play = Some(Some((id, path))),
                Bubble::StopPlaying => play = Some(None),
                Bubble::File(FileAction::Fetch(id)) => cmds.push(Cmd::FetchFile(id)),
                Bubble::File(FileAction::Cancel(id)) => cmds.push(Cmd::CancelFile(id)),
                Bubble::File(FileAction::Open(path)) => {
                    if let Err(e) = ctx.desktop.open(&path) {
                        ctx.error(tr!("chat-open-failed", error = e));
                    }
                }
                Bubble::File(FileAction::Reveal(path)) => {
                    if let Err(e) = ctx.desktop.reveal(&path) {
                        ctx.error(tr!("chat-open-failed", error = e));
                    }
                }
                Bubble::File(FileAction::SaveAs(path, name)) => ctx.desktop.save_copy(path, name),
                Bubble::Copy(text) => ctx.desktop.copy(ui, text),
                Bubble::Forward(what) => self.forwarding = Some(what),
            }
        }
        if let Some(id) = view {
            self.viewer.open(id, ctx, &self.thumbnails);
        }
        self.viewer.show(ui, ctx);
        self.info.show(ui);
        forward::show(ui, ctx, &mut self.forwarding);
        if let Some(what) = play {
            self.voice.play(what);
        }
        if reacting.is_some() {
            self.reacting = reacting;
        }
        bubble::reaction_window(
            ui,
            &mut self.reacting,
            &mut self.picker,
            &mut ctx.emoji,
            conv,
            &mut cmds,
        );
        match reply {
            Some((m, true)) => self.composer.edit(conv, m),
            Some((m, false)) => self.composer.reply_to(m),
            None => {}
        }
        // Scrolled to the top: the next older page.
        let pages = ctx.chats.entry(conv.to_owned()).or_default();
        if out.state.offset.y < 1.0
            && out.content_size.y > out.inner_rect.height()
            && !pages.loading_older
            && !pages.complete
            && let Some(oldest) = pages.messages.first()
        {
            pages.loading_older = true;
            cmds.push(Cmd::History { conversation: conv.to_owned(), before: Some(oldest.seq) });
        }
        cmds.extend(self.composer.changed_drafts(false));
        for c in cmds {
            ctx.send(c);
        }
        if let Some(a) = ask {
            ctx.ask(a);
        }
    }
}

impl ChatView {
    /// Esc closes what is on top: the image viewer, the reaction picker,
    /// the message-info window, the composer's emoji picker, then the
    /// search bar (one a press; a key nothing here takes is left for the
    /// rest).
    fn escape(&mut self, ui: &egui::Ui) {
        let open = self.viewer.is_open()
            || self.reacting.is_some()
            || self.info.is_open()
            || self.composer.picker_is_open()
            || self.search.is_open();
        if !open || !ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape)) {
            return;
        }
        let _ = self.viewer.close()
            || self.reacting.take().is_some()
            || self.info.close()
            || self.composer.close_picker()
            || self.search.close();
    }
}

fn is_image(p: &std::path::Path) -> bool {
    let ext = p.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
    matches!(ext.as_str(), "jpg" | "jpeg" | "png" | "webp" | "gif")
}
