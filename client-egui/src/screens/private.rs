//! Private chat modes (X2, X3, X6): the mark a chat carries in the list and
//! its header, leave-no-trace offers to answer, and a sealed chat's
//! password prompt (unlock), lock button and seal form.

use eframe::egui::{self, Color32, RichText};
use kovan_node::node::ConversationView;
use zeroize::Zeroizing;

use crate::app::Ctx;
use crate::backend::Cmd;
use crate::widgets::labelled;

/// The short mark after a chat's title in the list.
pub fn mark(c: &ConversationView) -> &'static str {
    match (c.mode, c.sealed, c.locked) {
        ("no_trace", ..) => " · no trace",
        (_, true, true) => " · sealed, locked",
        (_, true, false) => " · sealed",
        ("direct_only", ..) => " · direct only",
        _ => "",
    }
}

/// Leave-no-trace chats friends offer, each with Accept and Decline.
pub fn offers(ui: &mut egui::Ui, ctx: &mut Ctx) {
    let mut answers = Vec::new();
    for o in ctx.no_trace.iter().filter(|o| o.state == kovan_node::NoTraceState::Invited) {
        let name = o.contact.name();
        ui.horizontal_wrapped(|ui| {
            ui.label(format!(
                "{name} offers a no-trace chat: nothing of it is written to disk, and it \
                 ends when either of you leaves."
            ));
            if ui.button(format!("Accept no-trace chat with {name}")).clicked() {
                answers.push(Cmd::NoTraceAnswer { chat: o.id.clone(), accept: true });
            }
            if ui.button(format!("Decline no-trace chat with {name}")).clicked() {
                answers.push(Cmd::NoTraceAnswer { chat: o.id.clone(), accept: false });
            }
        });
    }
    for c in answers {
        ctx.send(c);
    }
}

/// A sealed chat's password field and the seal form, kept between frames.
#[derive(Default)]
pub struct PrivateBar {
    password: Zeroizing<String>,
    sealing: bool,
}

impl PrivateBar {
    /// The line under a chat's title saying its mode, with what can be done
    /// about it. Returns true when the chat is locked: then its prompt is
    /// shown instead of the messages.
    pub fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx, conv: &str) -> bool {
        let Some(c) = ctx.conversations.iter().find(|c| c.id == conv).cloned() else {
            return false;
        };
        let note = |ui: &mut egui::Ui, text: &str| {
            ui.label(RichText::new(text).color(Color32::from_rgb(90, 110, 170)));
        };
        let mut cmds = Vec::new();
        match c.mode {
            "no_trace" => {
                note(
                    ui,
                    "No trace: this chat lives only in memory on your two devices and ends \
                     when either of you leaves.",
                );
                if c.waiting_direct {
                    ui.label("Waiting for them to accept…");
                }
                if ui.button("End this chat").clicked() {
                    cmds.push(Cmd::NoTraceEnd(conv.to_owned()));
                }
            }
            "direct_only" => {
                note(ui, "Direct only: its messages never pass through a relay.");
                if c.waiting_direct {
                    ui.label("Waiting for a direct connection…");
                }
            }
            _ => {}
        }
        let locked = c.sealed && c.locked;
        if c.mode != "no_trace" {
            if locked {
                note(ui, "This chat is sealed with a password. Type it to read and write.");
                let typed = labelled(ui, "Chat password", &mut self.password, true);
                let enter = typed.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if (ui.button("Unlock chat").clicked() || enter) && !self.password.is_empty() {
                    let password = std::mem::take(&mut self.password);
                    cmds.push(Cmd::UnlockChat { conversation: conv.to_owned(), password });
                }
            } else if c.sealed {
                ui.horizontal(|ui| {
                    note(ui, "Sealed with a password.");
                    if ui.small_button("Lock chat").clicked() {
                        cmds.push(Cmd::LockChat(conv.to_owned()));
                    }
                    if ui.small_button("Change chat password").clicked() {
                        self.sealing = true;
                    }
                });
            } else if ui.small_button("Seal with a password").clicked() {
                self.sealing = true;
            }
            if self.sealing && !locked {
                ui.horizontal(|ui| {
                    labelled(ui, "New chat password", &mut self.password, true);
                    let long_enough = self.password.chars().count() >= 8;
                    if ui.add_enabled(long_enough, egui::Button::new("Seal chat")).clicked() {
                        let password = std::mem::take(&mut self.password);
                        cmds.push(Cmd::SealChat { conversation: conv.to_owned(), password });
                        self.sealing = false;
                    }
                    if ui.small_button("Cancel").clicked() {
                        self.password = Zeroizing::default();
                        self.sealing = false;
                    }
                });
                ui.label(
                    "8 characters or more. Share it with the chat's members in person, not here.",
                );
            }
        }
        for cmd in cmds {
            ctx.send(cmd);
        }
        locked
    }
}
