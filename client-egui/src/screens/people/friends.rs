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
    cmds: &mut Vec<Cmd>,
    ask: &mut Option<Confirm>,
) -> Option<String> {
    requests(ui, ctx, cmds);
    ui.strong("Friends");
    let mut open = None;
    for c in ctx.contacts.iter().filter(|c| c.state == FriendState::Friend && !c.blocked) {
        let name = contact_name(c);
        let mark = if c.verified { " ✔ verified" } else { "" };
        ui.horizontal_wrapped(|ui| {
            avatar(
                ui,
                c.username.as_ref().and_then(|u| ctx.avatars.get(u)).and_then(Option::as_ref),
                &format!("{name}'s avatar"),
            );
            presence(ui, c, &name);
            if ui.link(format!("{name}{mark}")).clicked() {
                open = c.conversation.clone();
            }
            if c.identity_changed {
                ui.label(RichText::new("identity changed").color(Color32::from_rgb(200, 60, 60)));
            }
            if ui.small_button(format!("Safety number for {name}")).clicked() {
                cmds.push(Cmd::SafetyNumber(c.account.clone()));
            }
            if ui.small_button(format!("Direct-only chat with {name}")).clicked() {
                cmds.push(Cmd::ChatNew { friend: c.account.clone(), no_trace: false });
            }
            if ui.small_button(format!("No-trace chat with {name}")).clicked() {
                cmds.push(Cmd::ChatNew { friend: c.account.clone(), no_trace: true });
            }
            if ui.small_button(format!("Unfriend {name}")).clicked() {
                *ask = Some(Confirm::new(
                    format!("Unfriend {name}?"),
                    "Your chat with them ends; either of you can ask again later.",
                    Cmd::Act(Action::Unfriend(c.account.clone())),
                ));
            }
            if ui.small_button(format!("Block {name}")).clicked() {
                *ask = Some(Confirm::new(
                    format!("Block {name}?"),
                    "Nothing they send reaches you until you unblock them.",
                    Cmd::Act(Action::Block(c.account.clone(), true)),
                ));
            }
        });
        if let Some(digits) = safety.get(&c.account) {
            ui.label(RichText::new(digits).monospace());
            if !c.verified && ui.small_button(format!("Mark {name} verified")).clicked() {
                cmds.push(Cmd::Act(Action::Verify(c.account.clone())));
            }
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
        ui.strong("Friend requests");
    }
    for c in incoming {
        let name = contact_name(c);
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
    for c in ctx.contacts.iter().filter(|c| c.state == FriendState::Outgoing) {
        ui.label(format!("{}: request sent", contact_name(c)));
    }
}

/// Blocked accounts, each with "Unblock NAME".
fn blocked(ui: &mut egui::Ui, ctx: &Ctx, cmds: &mut Vec<Cmd>) {
    let blocked: Vec<_> = ctx.contacts.iter().filter(|c| c.blocked).collect();
    if !blocked.is_empty() {
        ui.strong("Blocked");
    }
    for c in blocked {
        let name = contact_name(c);
        ui.horizontal(|ui| {
            ui.label(&name);
            if ui.small_button(format!("Unblock {name}")).clicked() {
                cmds.push(Cmd::Act(Action::Block(c.account.clone(), false)));
            }
        });
    }
}
