//! Groups: creating one and answering invitations (on top of the chat
//! list), and the panel above a group's chat: members, muting, and for
//! admins removing, banning, renaming, deleting and inviting.

use eframe::egui;
use kovan_node::contacts::FriendState;
use kovan_node::node::{GroupChange, GroupView};

use crate::app::Ctx;
use crate::backend::{Action, Cmd};
use crate::widgets::{Confirm, contact_name, field, paint_avatar};

/// "New group" and the pending invitations.
#[derive(Debug, Default)]
pub struct NewGroup {
    name: String,
    direct_only: bool,
}

impl NewGroup {
    /// Draws the new-group form and the invitations to join or decline.
    pub fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx) {
        ui.horizontal_wrapped(|ui| {
            field(ui, &tr!("groups-new-group"), &mut self.name, "", 120.0);
        });
        ui.checkbox(&mut self.direct_only, tr!("groups-direct-only-option"));
        let named = !self.name.trim().is_empty();
        if ui.add_enabled(named, egui::Button::new(tr!("groups-create"))).clicked() {
            let name = std::mem::take(&mut self.name).trim().to_owned();
            if std::mem::take(&mut self.direct_only) {
                ctx.send(Cmd::GroupCreateDirect { name });
            } else {
                ctx.send(Cmd::GroupCreate { name });
            }
        }
        let mut answers = Vec::new();
        for i in ctx.invitations.iter().filter(|i| i.incoming && i.state == "pending") {
            ui.horizontal_wrapped(|ui| {
                let (name, group) = (i.name.as_str(), i.group_name.as_str());
                ui.label(match (i.mode, i.pair) {
                    ("direct_only", true) => {
                        tr!("groups-invites-you-pair", name = name, group = group)
                    }
                    ("direct_only", false) => {
                        tr!("groups-invites-you-direct", name = name, group = group)
                    }
                    _ => tr!("groups-invites-you", name = name, group = group),
                });
                if ui.button(tr!("groups-join", group = group)).clicked() {
                    answers.push(Cmd::GroupAnswer { invitation: i.id.clone(), accept: true });
                }
                if ui.button(tr!("groups-decline", group = group)).clicked() {
                    answers.push(Cmd::GroupAnswer { invitation: i.id.clone(), accept: false });
                }
            });
        }
        for c in answers {
            ctx.send(c);
        }
    }
}

/// The members panel's width, in points.
const MEMBERS_PANEL: f32 = 260.0;
/// The members panel shows by itself when the chat is at least this wide.
const ROOM_FOR_PANEL: f32 = 700.0;

/// A group's members and settings: the member list on one line above the
/// chat, and the members panel on its right (each member with what can be
/// done with them, invitations, renaming, deleting, leaving), shown when
/// the window is wide enough or when asked for.
#[derive(Debug, Default)]
pub struct GroupPanel {
    rename_to: String,
    /// The members panel shown or hidden by the user (`None`: shown when
    /// the chat has room for it).
    shown: Option<bool>,
    /// The window had room for the panel when last drawn.
    roomy: bool,
}

impl GroupPanel {
    /// The member line above a group's chat, with the switch that shows or
    /// hides the members panel ([`GroupPanel::side`]).
    pub fn show(&mut self, ui: &mut egui::Ui, ctx: &Ctx, conv: &str) {
        let Some(g) = ctx.groups.iter().find(|g| g.id == conv) else { return };
        let names: Vec<String> = g
            .members
            .iter()
            .map(|m| match (m.admin, m.muted) {
                (true, _) => tr!("groups-member-admin", name = m.name.as_str()),
                (false, true) => tr!("groups-member-muted", name = m.name.as_str()),
                (false, false) => m.name.clone(),
            })
            .collect();
        let shown = self.shown.unwrap_or(self.roomy);
        ui.horizontal(|ui| {
            ui.label(tr!("groups-members", names = names.join(", ")));
            let toggle = if shown { tr!("groups-hide-panel") } else { tr!("groups-show-panel") };
            if ui.small_button(toggle).clicked() {
                self.shown = Some(!shown);
            }
        });
    }

    /// The members panel on the chat's right, if `conv` is a group and the
    /// panel is shown (drawn before the chat, so the chat keeps the rest
    /// of the width).
    pub fn side(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx, conv: &str) {
        let Some(g) = ctx.groups.iter().find(|g| g.id == conv).cloned() else { return };
        self.roomy = ui.available_width() >= ROOM_FOR_PANEL;
        if !self.shown.unwrap_or(self.roomy) {
            return;
        }
        let (mut cmds, mut ask) = (Vec::new(), None);
        egui::Panel::right("members").resizable(false).exact_size(MEMBERS_PANEL).show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                self.panel(ui, ctx, &g, &mut cmds, &mut ask);
            });
        });
        for c in cmds {
            ctx.send(c);
        }
        if let Some(a) = ask {
            ctx.ask(a);
        }
    }

    fn panel(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &Ctx,
        g: &GroupView,
        cmds: &mut Vec<Cmd>,
        ask: &mut Option<Confirm>,
    ) {
        ui.heading(tr!("groups-panel-title", n = g.members.len()));
        for m in &g.members {
            ui.horizontal_wrapped(|ui| {
                let (rect, _) =
                    ui.allocate_exact_size(egui::vec2(22.0, 22.0), egui::Sense::hover());
                paint_avatar(ui.painter(), rect, None, &m.name, &m.name);
                let role = match (m.me, m.admin, m.muted) {
                    (true, true, _) => tr!("groups-role-you-admin"),
                    (true, false, _) => tr!("groups-role-you"),
                    (false, true, _) => tr!("groups-role-admin"),
                    (false, false, true) => tr!("groups-role-muted"),
                    (false, false, false) => String::new(),
                };
                ui.strong(&m.name);
                if !role.is_empty() {
                    ui.weak(role);
                }
            });
            if m.me {
                continue;
            }
            ui.horizontal_wrapped(|ui| {
                ui.add_space(28.0);
                let (label, on) = if m.muted {
                    (tr!("groups-unmute", name = m.name.as_str()), false)
                } else {
                    (tr!("groups-mute", name = m.name.as_str()), true)
                };
                if ui.small_button(label).on_hover_text(tr!("groups-mute-only-here")).clicked() {
                    cmds.push(Cmd::Act(Action::Mute(g.id.clone(), m.account.clone(), on)));
                }
                if !g.admin {
                    return;
                }
                if ui.small_button(tr!("groups-remove", name = m.name.as_str())).clicked() {
                    let change = GroupChange::Remove(m.account.clone());
                    *ask = Some(Confirm::new(
                        tr!(
                            "groups-remove-question",
                            name = m.name.as_str(),
                            group = g.name.as_str()
                        ),
                        tr!("groups-remove-detail"),
                        Cmd::Act(Action::Group(g.id.clone(), change)),
                    ));
                }
                if ui.small_button(tr!("groups-ban", name = m.name.as_str())).clicked() {
                    let change = GroupChange::Ban(m.account.clone());
                    *ask = Some(Confirm::new(
                        tr!("groups-ban-question", name = m.name.as_str(), group = g.name.as_str()),
                        tr!("groups-ban-detail"),
                        Cmd::Act(Action::Group(g.id.clone(), change)),
                    ));
                }
            });
        }
        if g.admin || g.members_invite {
            ui.separator();
            ui.strong(tr!("groups-invite-friends"));
            ui.horizontal_wrapped(|ui| {
                for c in ctx.contacts.iter().filter(|c| c.state == FriendState::Friend) {
                    if g.members.iter().any(|m| m.account == c.account) {
                        continue;
                    }
                    let invited = ctx.invitations.iter().any(|i| {
                        !i.incoming
                            && i.group == g.id
                            && i.account == c.account
                            && i.state == "pending"
                    });
                    let name = contact_name(c);
                    if invited {
                        ui.label(tr!("groups-invited", name = name.as_str()));
                    } else if ui.button(tr!("groups-invite", name = name.as_str())).clicked() {
                        cmds.push(Cmd::GroupInvite { group: g.id.clone(), who: c.account.clone() });
                    }
                }
            });
        }
        ui.separator();
        if g.admin {
            ui.horizontal_wrapped(|ui| {
                field(ui, &tr!("groups-rename-to"), &mut self.rename_to, "", 120.0);
                if ui.small_button(tr!("groups-rename")).clicked()
                    && !self.rename_to.trim().is_empty()
                {
                    let change = GroupChange::Rename(std::mem::take(&mut self.rename_to));
                    cmds.push(Cmd::Act(Action::Group(g.id.clone(), change)));
                }
            });
            if ui.small_button(tr!("groups-delete")).clicked() {
                *ask = Some(Confirm::new(
                    tr!("groups-delete-question", group = g.name.as_str()),
                    tr!("groups-delete-detail"),
                    Cmd::Act(Action::Group(g.id.clone(), GroupChange::Delete)),
                ));
            }
        }
        if ui.small_button(tr!("groups-leave")).clicked() {
            cmds.push(Cmd::Act(Action::Leave(g.id.clone())));
        }
    }
}
