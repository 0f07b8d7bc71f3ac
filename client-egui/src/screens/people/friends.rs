//! Friend requests (accept, decline; those sent), friends (avatar,
//! presence, safety number, unfriend, block) and blocked accounts
//! (unblock).

use std::collections::HashMap;

use eframe::egui::{self, Color32, RichText};
use kovan_node::contacts::FriendState;

use crate::app::Ctx;
use crate::backend::{Action, Cmd};
use crate::widgets::{Confirm, avatar, contact_name, presence};

/// Draws requests, friends and blocked accounts; returns the chat to open
/// (a friend's name was clicked). Unfriending and blocking are asked about
/// first (`ask`).
pub fn show(
    ui: &mut egui::Ui,
    ctx: &Ctx,
    safety: &HashMap<String, String>,
    window: &mut super::safety::SafetyWindow,
    cmds: &mut Vec<Cmd>,
    ask: &mut Option<Confirm>,
) -> Option<String> {
    requests(ui, ctx, cmds);
    ui.strong(tr!("people-friends"));
    let mut open = None;
    for c in ctx.contacts.iter().filter(|c| c.state == FriendState::Friend && !c.blocked) {
        let name = contact_name(c);
        ui.horizontal_wrapped(|ui| {
            avatar(
                ui,
                c.username.as_ref().and_then(|u| ctx.avatars.get(u)).and_then(Option::as_ref),
                &tr!("people-avatar-of", name = name.as_str()),
            );
            presence(ui, c, &name);
            let shown = if c.verified {
                tr!("people-name-verified", name = name.as_str())
            } else {
                name.clone()
            };
            if ui.link(shown).clicked() {
                open = c.conversation.clone();
            }
            if c.identity_changed {
                let changed = RichText::new(tr!("people-identity-changed"));
                ui.label(changed.color(Color32::from_rgb(200, 60, 60)));
            }
            if ui.small_button(tr!("people-safety-number", name = name.as_str())).clicked() {
                cmds.push(Cmd::SafetyNumber(c.account.clone()));
                window.show_for(c.account.clone());
            }
            if ui.small_button(tr!("people-direct-only-chat", name = name.as_str())).clicked() {
                cmds.push(Cmd::ChatNew { friend: c.account.clone(), no_trace: false });
            }
            if ui.small_button(tr!("people-no-trace-chat", name = name.as_str())).clicked() {
                cmds.push(Cmd::ChatNew { friend: c.account.clone(), no_trace: true });
            }
            if ui.small_button(tr!("people-unfriend", name = name.as_str())).clicked() {
                *ask = Some(Confirm::new(
                    tr!("people-unfriend-question", name = name.as_str()),
                    tr!("people-unfriend-detail"),
                    Cmd::Act(Action::Unfriend(c.account.clone())),
                ));
            }
            if ui.small_button(tr!("people-block", name = name.as_str())).clicked() {
                *ask = Some(Confirm::new(
                    tr!("people-block-question", name = name.as_str()),
                    tr!("people-block-detail"),
                    Cmd::Act(Action::Block(c.account.clone(), true)),
                ));
            }
        });
        if window.open.as_deref() == Some(c.account.as_str())
            && let Some(digits) = safety.get(&c.account)
        {
            window.show(ui, &name, digits, c.verified, cmds);
        }
    }
    blocked(ui, ctx, cmds);
    open
}

/// Requests to answer, and those sent.
fn requests(ui: &mut egui::Ui, ctx: &Ctx, cmds: &mut Vec<Cmd>) {
    let incoming: Vec<_> =
        ctx.contacts.iter().filter(|c| c.state == FriendState::Incoming).collect();
    if !incoming.is_empty() {
        ui.strong(tr!("people-friend-requests"));
    }
    for c in incoming {
        let name = contact_name(c);
        ui.horizontal(|ui| {
            ui.label(&name);
            if ui.button(tr!("people-accept", name = name.as_str())).clicked() {
                cmds.push(Cmd::Answer { account: c.account.clone(), accept: true });
            }
            if ui.button(tr!("people-decline", name = name.as_str())).clicked() {
                cmds.push(Cmd::Answer { account: c.account.clone(), accept: false });
            }
        });
        if !c.note.is_empty() {
            ui.label(RichText::new(&c.note).italics());
        }
    }
    for c in ctx.contacts.iter().filter(|c| c.state == FriendState::Outgoing) {
        ui.label(tr!("people-request-sent", name = contact_name(c)));
    }
}

/// Blocked accounts, each with "Unblock NAME".
fn blocked(ui: &mut egui::Ui, ctx: &Ctx, cmds: &mut Vec<Cmd>) {
    let blocked: Vec<_> = ctx.contacts.iter().filter(|c| c.blocked).collect();
    if !blocked.is_empty() {
        ui.strong(tr!("people-blocked"));
    }
    for c in blocked {
        let name = contact_name(c);
        ui.horizontal(|ui| {
            ui.label(&name);
            if ui.small_button(tr!("people-unblock", name = name.as_str())).clicked() {
                cmds.push(Cmd::Act(Action::Block(c.account.clone(), false)));
            }
        });
    }
}
