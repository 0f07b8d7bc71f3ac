//! The composer at the bottom of a chat: the reply being written, the
//! extras section, the emoji picker and `:shortcode:` completions, the
//! recorder, the message field and Send (or Save edit). Drafts are kept
//! per chat.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use eframe::egui;
use kovan_node::node::{ConversationView, MessageView};

use super::extras::Extras;
use super::schedule::ScheduleForm;
use super::voice::Voice;
use crate::app::Ctx;
use crate::backend::{Action, Cmd};
use crate::emoji;
use crate::widgets::short;

/// The message field's id.
const FIELD: &str = "composer message";

/// Whether the draft ends in a `:shortcode` that completions are offered for.
fn offers_completions(draft: &str) -> bool {
    emoji::completion_token(draft).is_some_and(|(_, code)| !emoji::completions(code).is_empty())
}

/// `text` in the weak colour on one line inside an empty field's `rect`.
fn hint(ui: &egui::Ui, rect: egui::Rect, text: &str) {
    let margin = ui.spacing().button_padding;
    let font = egui::TextStyle::Body.resolve(ui.style());
    let colour = ui.visuals().weak_text_color();
    let mut job = egui::text::LayoutJob::simple_singleline(text.to_owned(), font, colour);
    job.wrap = egui::text::TextWrapping::truncate_at_width(rect.width() - 2.0 * margin.x);
    let galley = ui.painter().layout_job(job);
    ui.painter().galley(rect.min + egui::vec2(margin.x, 2.0), galley, colour);
}

/// The typing signals this composer sent (SPEC.md §6.8): "typing" when
/// the text changes, again every few seconds while it goes on, "stopped"
/// when the field empties or the message goes.
#[derive(Debug, Default)]
struct Typing {
    /// The conversation told "typing", and when.
    told: Option<(String, Instant)>,
}

/// How often "typing" is repeated while typing goes on.
const TYPING_AGAIN: Duration = Duration::from_secs(3);

impl Typing {
    /// The field in `conv` changed; `typing`: it holds text.
    fn changed(&mut self, conv: &str, typing: bool) -> Option<Cmd> {
        let told_here = self.told.as_ref().filter(|(c, _)| c == conv);
        match (typing, told_here) {
            (true, Some((_, at))) if at.elapsed() < TYPING_AGAIN => None,
            (true, _) => {
                self.told = Some((conv.to_owned(), Instant::now()));
                Some(Cmd::Typing { conversation: conv.to_owned(), active: true })
            }
            (false, Some(_)) => {
                self.told = None;
                Some(Cmd::Typing { conversation: conv.to_owned(), active: false })
            }
            (false, None) => None,
        }
    }
}

/// How often what is typed is compared with the kept drafts.
const DRAFT_EVERY: Duration = Duration::from_secs(1);

/// The composer's state.
#[derive(Debug, Default)]
pub struct Composer {
    drafts: HashMap<String, String>,
    /// The drafts as the node keeps them (what differs is saved).
    saved: HashMap<String, String>,
    /// When the drafts were last compared with the node's.
    compared: Option<Instant>,
    /// The typing signals sent.
    typing: Typing,
    replying_to: Option<MessageView>,
    /// The message whose edit is in the field.
    editing: Option<String>,
    picker_open: bool,
    /// Attach, location, poll and send later are shown.
    extras_open: bool,
    /// Attach, location, poll.
    pub extras: Extras,
    /// Send later.
    schedule: ScheduleForm,
}

impl Composer {
    /// A chat was opened: no reply pending.
    pub fn opened(&mut self) {
        self.replying_to = None;
    }

    /// Writes a reply to `m`.
    pub fn reply_to(&mut self, m: MessageView) {
        self.replying_to = Some(m);
    }

    /// The node's drafts came (with the conversation list): each fills
    /// its chat's field unless something was typed there since.
    pub fn restore_drafts(&mut self, conversations: &[ConversationView]) {
        for c in conversations {
            let Some(d) = &c.draft else { continue };
            self.saved.insert(c.id.clone(), d.clone());
            self.drafts.entry(c.id.clone()).or_insert_with(|| d.clone());
        }
    }

    /// Drafts that changed since the node last kept them (each second, or
    /// now when `now`): what to tell it.
    pub fn changed_drafts(&mut self, now: bool) -> Vec<Cmd> {
        if !now && self.compared.is_some_and(|t| t.elapsed() < DRAFT_EVERY) {
            return Vec::new();
        }
        self.compared = Some(Instant::now());
        let mut cmds = Vec::new();
        // Not while editing a sent message: that text is not a draft.
        if self.editing.is_some() {
            return cmds;
        }
        let convs: std::collections::BTreeSet<&String> =
            self.drafts.keys().chain(self.saved.keys()).collect();
        for conv in convs {
            let text = self.drafts.get(conv).map_or("", String::as_str);
            let kept = self.saved.get(conv).map_or("", String::as_str);
            if kept.trim() != text.trim() {
                cmds.push(Cmd::Draft { conversation: conv.clone(), text: text.to_owned() });
            }
        }
        for c in &cmds {
            if let Cmd::Draft { conversation, text } = c {
                self.saved.insert(conversation.clone(), text.clone());
            }
        }
        cmds
    }

    /// Puts `m`'s text in the field to edit it.
    pub fn edit(&mut self, conv: &str, m: MessageView) {
        self.drafts.insert(conv.to_owned(), m.text.clone().unwrap_or_default());
        self.editing = Some(m.id);
    }

    /// Puts a scheduled message's text in the field to edit it.
    pub fn edit_scheduled(&mut self, conv: &str, id: String, text: String) {
        self.drafts.insert(conv.to_owned(), text);
        self.schedule.edit(id);
    }

    /// Whether the emoji picker is open.
    pub fn picker_is_open(&self) -> bool {
        self.picker_open
    }

    /// Closes the emoji picker; whether it was open (Esc).
    pub fn close_picker(&mut self) -> bool {
        std::mem::take(&mut self.picker_open)
    }

    /// Draws the composer as the chat's bottom panel.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &mut Ctx,
        conv: &str,
        picker: &mut emoji::Picker,
        voice: &mut Voice,
        cmds: &mut Vec<Cmd>,
    ) {
        egui::Panel::bottom("composer").show(ui, |ui| {
            if let Some(quoted) =
                self.replying_to.as_ref().map(|r| r.text.clone().unwrap_or_default())
            {
                ui.horizontal(|ui| {
                    ui.label(tr!("chat-replying-to", text = short(&quoted, 40)));
                    if ui.small_button(tr!("chat-cancel-reply")).clicked() {
                        self.replying_to = None;
                    }
                });
            }
            // Opened from the row at the bottom, which stays put while
            // this grows upward above it.
            if self.extras_open {
                ui.group(|ui| {
                    self.extras.show(ui, ctx, conv, cmds);
                    let now = ctx.now_ms();
                    self.schedule.show(ui, now, conv, &mut self.drafts, cmds);
                });
            }
            if self.picker_open {
                ui.group(|ui| {
                    if let Some(e) = picker.show(ui, &mut ctx.emoji) {
                        self.drafts.entry(conv.to_owned()).or_default().push_str(e);
                    }
                });
            }
            self.completions(ui, ctx, conv);
            // The field's own id is fixed below: a child ui's id still
            // counts the widgets before it, which come and go.
            ui.push_id("composer", |ui| {
                ui.horizontal(|ui| {
                    // What the extras toggle says (and a screen reader reads).
                    let what = tr!("chat-extras");
                    let extras =
                        emoji::button(ui, &mut ctx.emoji, "📎", "", self.extras_open, &what)
                            .on_hover_text(what);
                    if extras.clicked() {
                        self.extras_open = !self.extras_open;
                    }
                    let what = tr!("chat-emoji");
                    let picker =
                        emoji::button(ui, &mut ctx.emoji, "😀", "", self.picker_open, &what)
                            .on_hover_text(what);
                    if picker.clicked() {
                        self.picker_open = !self.picker_open;
                    }
                    if voice.controls(ui, &mut ctx.emoji, conv) {
                        return;
                    }
                    let draft = self.drafts.entry(conv.to_owned()).or_default();
                    let label = ui.label(tr!("chat-message"));
                    let r = ui.add(
                        egui::TextEdit::multiline(draft)
                            // A fixed id: what comes and goes above the
                            // field (completions, the picker, a reply)
                            // must not make it another widget, which
                            // would lose the keyboard focus.
                            .id(egui::Id::new(FIELD))
                            // Shift+Enter makes a new line; Enter sends.
                            .return_key(egui::KeyboardShortcut::new(
                                egui::Modifiers::SHIFT,
                                egui::Key::Enter,
                            ))
                            .desired_rows(1)
                            .desired_width(ui.available_width() - 80.0),
                    );
                    let r = r.labelled_by(label.id);
                    // The hint on one line, cut to fit: a wrapped hint would
                    // make the empty field taller than a typed one, and the
                    // composer would jump at the first key.
                    if draft.is_empty() {
                        hint(ui, r.rect, &tr!("chat-message-hint"));
                    }
                    // While completions are offered, Tab completes and
                    // the focus stays (the filter is read when the next
                    // frame's keys come, so it follows the text as edited).
                    let tab_completes = offers_completions(draft);
                    ui.memory_mut(|m| {
                        m.set_focus_lock_filter(
                            r.id,
                            egui::EventFilter {
                                // The arrows move the cursor (a text
                                // field's default), never the focus.
                                horizontal_arrows: true,
                                vertical_arrows: true,
                                tab: tab_completes,
                                ..Default::default()
                            },
                        );
                    });
                    if r.changed() && ctx.typing_indicators && self.editing.is_none() {
                        cmds.extend(self.typing.changed(conv, !draft.trim().is_empty()));
                    }
                    let enter = r.has_focus()
                        && ui.input(|i| i.key_pressed(egui::Key::Enter) && !i.modifiers.shift);
                    let label = if self.editing.is_some() {
                        tr!("chat-save-edit")
                    } else {
                        tr!("chat-send")
                    };
                    if (ui.button(label).clicked() || enter) && !draft.trim().is_empty() {
                        let text = std::mem::take(draft);
                        cmds.extend(self.typing.changed(conv, false));
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
    }

    /// Emoji for the `:shortcode` being typed: a click or Tab completes.
    fn completions(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx, conv: &str) {
        let draft = self.drafts.entry(conv.to_owned()).or_default();
        let offered = emoji::completion_token(draft)
            .map(|(_, code)| emoji::completions(code))
            .unwrap_or_default();
        if !offered.is_empty() {
            // Only while the message field has the keyboard.
            let typing = ui.memory(|m| m.has_focus(egui::Id::new(FIELD)));
            let tab =
                typing && ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Tab));
            let mut chosen = tab.then(|| offered[0].0);
            // A strip floating over the messages, just above the field:
            // it comes and goes without moving anything.
            let at = ui.cursor().min;
            let width = ui.available_width();
            egui::Area::new(egui::Id::new("completions"))
                .order(egui::Order::Foreground)
                .pivot(egui::Align2::LEFT_BOTTOM)
                .fixed_pos(at)
                .show(ui.ctx(), |ui| {
                    egui::Frame::popup(ui.style()).show(ui, |ui| {
                        ui.set_max_width(width - 16.0);
                        ui.horizontal_wrapped(|ui| {
                            for (e, code) in &offered {
                                let label = tr!("chat-complete", code = *code);
                                let more = format!(" :{code}:");
                                let b = emoji::button(ui, &mut ctx.emoji, e, &more, false, &label);
                                if b.clicked() {
                                    chosen = Some(e);
                                }
                            }
                        });
                    });
                });
            if let Some(e) = chosen {
                emoji::complete(self.drafts.entry(conv.to_owned()).or_default(), e);
            }
        }
    }
}
