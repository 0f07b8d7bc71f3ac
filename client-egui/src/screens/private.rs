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
pub fn mark(c: &ConversationView) -> String {
    let mark = match (c.mode, c.sealed, c.locked) {
        ("no_trace", ..) => tr!("groups-mark-no-trace"),
        (_, true, true) => tr!("groups-mark-sealed-locked"),
        (_, true, false) => tr!("groups-mark-sealed"),
        ("direct_only", ..) => tr!("groups-mark-direct-only"),
        _ => return String::new(),
    };
    format!(" · {mark}")
}

/// Leave-no-trace chats friends offer, each with Accept and Decline.
pub fn offers(ui: &mut egui::Ui, ctx: &mut Ctx) {
    let mut answers = Vec::new();
    for o in ctx.no_trace.iter().filter(|o| o.state == kovan_node::NoTraceState::Invited) {
        let name = o.contact.name();
        ui.horizontal_wrapped(|ui| {
            ui.label(tr!("groups-no-trace-offer", name = name.as_str()));
            if ui.button(tr!("groups-no-trace-accept", name = name.as_str())).clicked() {
                answers.push(Cmd::NoTraceAnswer { chat: o.id.clone(), accept: true });
            }
            if ui.button(tr!("groups-no-trace-decline", name = name.as_str())).clicked() {
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
                note(ui, &tr!("groups-no-trace-note"));
                if c.waiting_direct {
                    ui.label(tr!("groups-no-trace-waiting"));
                }
                if ui.button(tr!("groups-no-trace-end")).clicked() {
                    cmds.push(Cmd::NoTraceEnd(conv.to_owned()));
                }
            }
            "direct_only" => {
                note(ui, &tr!("groups-direct-only-note"));
                if c.waiting_direct {
                    ui.label(tr!("groups-direct-only-waiting"));
                }
            }
            _ => {}
        }
        let locked = c.sealed && c.locked;
        if c.mode != "no_trace" {
            if locked {
                note(ui, &tr!("groups-sealed-locked-note"));
                let typed = labelled(ui, &tr!("groups-chat-password"), &mut self.password, true);
                let enter = typed.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if (ui.button(tr!("groups-unlock-chat")).clicked() || enter)
                    && !self.password.is_empty()
                {
                    let password = std::mem::take(&mut self.password);
                    cmds.push(Cmd::UnlockChat { conversation: conv.to_owned(), password });
                }
            } else if c.sealed {
                ui.horizontal(|ui| {
                    note(ui, &tr!("groups-sealed-note"));
                    if ui.small_button(tr!("groups-lock-chat")).clicked() {
                        cmds.push(Cmd::LockChat(conv.to_owned()));
                    }
                    if ui.small_button(tr!("groups-change-chat-password")).clicked() {
                        self.sealing = true;
                    }
                });
            } else if ui.small_button(tr!("groups-seal-with-password")).clicked() {
                self.sealing = true;
            }
            if self.sealing && !locked {
                ui.horizontal(|ui| {
                    labelled(ui, &tr!("groups-new-chat-password"), &mut self.password, true);
                    let long_enough = self.password.chars().count() >= 8;
                    let seal = egui::Button::new(tr!("groups-seal-chat"));
                    if ui.add_enabled(long_enough, seal).clicked() {
                        let password = std::mem::take(&mut self.password);
                        cmds.push(Cmd::SealChat { conversation: conv.to_owned(), password });
                        self.sealing = false;
                    }
                    if ui.small_button(tr!("groups-seal-cancel")).clicked() {
                        self.password = Zeroizing::default();
                        self.sealing = false;
                    }
                });
                ui.label(tr!("groups-seal-hint"));
            }
        }
        for cmd in cmds {
            ctx.send(cmd);
        }
        locked
    }
}
