//! Moderation (a community's moderators): the open reports (remove the
//! post or comment, or dismiss the report), join requests (admit,
//! refuse), a user banned, unbanned, invited or approved as a poster by
//! name, the moderation log; for the owner, the settings, archive, reopen
//! or delete.

use eframe::egui::{self, RichText};
use kovan_node::{CommunityView, ModEntryView};

use super::create::NewCommunity;
use super::item::FAILED;
use super::{Go, Page};
use crate::app::Ctx;
use crate::backend::{Closing, Cmd, CommunityCmd, JoinRequest, ModAction};
use crate::widgets::{Confirm, civil_day, clock, field, format_day, short};

/// The moderation page's state.
#[derive(Debug, Default)]
pub(super) struct ModerationPage {
    /// The community.
    name: String,
    /// Its header as last read with the queue.
    community: Option<CommunityView>,
    reports: Vec<ModEntryView>,
    requests: Vec<JoinRequest>,
    log: Vec<ModEntryView>,
    loading: bool,
    /// A username to ban, unban, invite or approve.
    user: String,
    /// The note that goes into the log with an action.
    note: String,
    /// The settings being edited (the owner).
    settings: Option<NewCommunity>,
}

/// "2026-05-01 14:05" of a time in ms (nothing when unknown).
fn when(ms: i64) -> String {
    if ms <= 0 {
        return String::new();
    }
    format!("{} {}", format_day(civil_day(ms)), clock(ms))
}

/// What a log entry's action is, in words.
fn action_name(action: &str) -> String {
    match action {
        "remove" => tr!("communities-log-remove"),
        "dismiss" => tr!("communities-log-dismiss"),
        "ban" => tr!("communities-log-ban"),
        "unban" => tr!("communities-log-unban"),
        "admit" => tr!("communities-log-admit"),
        "refuse" => tr!("communities-log-refuse"),
        "invite" => tr!("communities-log-invite"),
        "approve_poster" => tr!("communities-log-approve-poster"),
        other => other.to_owned(),
    }
}

impl ModerationPage {
    /// Shows `name`'s queue, read afresh.
    pub(super) fn open(&mut self, name: &str, ctx: &mut Ctx) {
        if self.name != name {
            *self = Self { name: name.to_owned(), ..Self::default() };
        }
        self.loading = true;
        ctx.send(Cmd::Community(CommunityCmd::Moderation(name.to_owned())));
    }

    /// The queue came.
    pub(super) fn loaded(
        &mut self,
        community: CommunityView,
        reports: Vec<ModEntryView>,
        requests: Vec<JoinRequest>,
        log: Vec<ModEntryView>,
    ) {
        if community.name != self.name {
            return;
        }
        self.community = Some(community);
        self.reports = reports;
        self.requests = requests;
        self.log = log;
        self.loading = false;
    }

    /// Something failed: nothing is on its way any more (settings being
    /// edited stay as typed).
    pub(super) fn failed(&mut self) {
        self.loading = false;
        if let Some(f) = &mut self.settings {
            f.failed();
        }
    }

    /// A write worked: saved settings close their form.
    pub(super) fn done(&mut self, what: &str) {
        if what == "saving the settings" {
            self.settings = None;
        }
    }

    /// Draws the page.
    pub(super) fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx, go: &mut Option<Go>) {
        let name = self.name.clone();
        ui.horizontal_wrapped(|ui| {
            ui.heading(tr!("communities-moderation-of", name = name.as_str()));
            if ui.button(tr!("communities-back-to", name = name.as_str())).clicked() {
                *go = Some(Go::To(Page::Community(name.clone())));
            }
            if ui.button(tr!("communities-refresh")).clicked() {
                self.open(&name, ctx);
            }
            if self.loading {
                ui.spinner();
            }
        });
        let Some(c) = self.community.clone() else { return };
        let mut cmds = Vec::new();
        let mut ask = None;
        ui.horizontal_wrapped(|ui| {
            field(
                ui,
                &tr!("communities-note"),
                &mut self.note,
                &tr!("communities-note-hint"),
                220.0,
            );
        });
        self.reports_ui(ui, &c, &mut cmds, go);
        self.requests_ui(ui, &c, &mut cmds);
        self.users_ui(ui, &c, &mut cmds);
        self.owner_ui(ui, ctx, &c, &mut cmds, &mut ask);
        self.log_ui(ui);
        for cmd in cmds {
            ctx.send(Cmd::Community(cmd));
        }
        if let Some(a) = ask {
            ctx.ask(a);
        }
    }

    fn moderate(&self, c: &CommunityView, action: ModAction, on: &str) -> CommunityCmd {
        CommunityCmd::Moderate {
            name: c.name.clone(),
            action,
            on: on.to_owned(),
            note: self.note.trim().to_owned(),
        }
    }

    fn reports_ui(
        &mut self,
        ui: &mut egui::Ui,
        c: &CommunityView,
        cmds: &mut Vec<CommunityCmd>,
        go: &mut Option<Go>,
    ) {
        ui.separator();
        ui.strong(tr!("communities-reports", n = self.reports.len()));
        if self.reports.is_empty() {
            ui.weak(tr!("communities-no-reports"));
        }
        for r in &self.reports {
            let Some(item) = r.item.clone() else { continue };
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.set_width(ui.available_width());
                let by = r.by.clone().unwrap_or_default();
                ui.label(tr!("communities-reported-by", by = by, reason = r.note.as_str()));
                ui.weak(tr!(
                    "communities-reported-item",
                    item = short(&item, 12),
                    when = when(r.created_ms as i64)
                ));
                ui.horizontal_wrapped(|ui| {
                    if ui.button(tr!("communities-open-reported")).clicked() {
                        *go = Some(Go::To(Page::Thread(item.clone())));
                    }
                    if ui.button(tr!("communities-remove")).clicked() {
                        let mut cmd = self.moderate(c, ModAction::Remove, &item);
                        if let CommunityCmd::Moderate { note, .. } = &mut cmd
                            && note.is_empty()
                        {
                            *note = r.note.clone();
                        }
                        cmds.push(cmd);
                    }
                    if ui.button(tr!("communities-dismiss")).clicked() {
                        cmds.push(self.moderate(c, ModAction::Dismiss, &item));
                    }
                });
            });
        }
    }

    fn requests_ui(&mut self, ui: &mut egui::Ui, c: &CommunityView, cmds: &mut Vec<CommunityCmd>) {
        if !c.private && self.requests.is_empty() {
            return;
        }
        ui.separator();
        ui.strong(tr!("communities-requests", n = self.requests.len()));
        if self.requests.is_empty() {
            ui.weak(tr!("communities-no-requests"));
        }
        for r in &self.requests {
            ui.horizontal_wrapped(|ui| {
                let who = r.username.as_str();
                if r.note.is_empty() {
                    ui.label(tr!("communities-asks", name = who, when = when(r.since)));
                } else {
                    ui.label(tr!("communities-asks-note", name = who, note = r.note.as_str()));
                }
                if ui.button(tr!("communities-admit", name = who)).clicked() {
                    cmds.push(self.moderate(c, ModAction::Admit, who));
                }
                if ui.button(tr!("communities-refuse", name = who)).clicked() {
                    cmds.push(self.moderate(c, ModAction::Refuse, who));
                }
            });
        }
    }

    fn users_ui(&mut self, ui: &mut egui::Ui, c: &CommunityView, cmds: &mut Vec<CommunityCmd>) {
        ui.separator();
        ui.strong(tr!("communities-users"));
        ui.horizontal_wrapped(|ui| {
            field(ui, &tr!("communities-username"), &mut self.user, "", 140.0);
        });
        let who = self.user.trim().trim_start_matches('@').to_owned();
        ui.horizontal_wrapped(|ui| {
            let ok = !who.is_empty();
            let mut act = |ui: &mut egui::Ui, label: String, action: ModAction| {
                if ui.add_enabled(ok, egui::Button::new(label)).clicked() {
                    cmds.push(self.moderate(c, action, &who));
                }
            };
            act(ui, tr!("communities-ban"), ModAction::Ban);
            act(ui, tr!("communities-unban"), ModAction::Unban);
            if c.private {
                act(ui, tr!("communities-invite"), ModAction::Invite);
            }
            if c.post_policy == "approved" {
                act(ui, tr!("communities-approve-poster"), ModAction::ApprovePoster);
            }
        });
    }

    fn owner_ui(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &Ctx,
        c: &CommunityView,
        cmds: &mut Vec<CommunityCmd>,
        ask: &mut Option<Confirm>,
    ) {
        if ctx.signed_in.is_none() || ctx.signed_in != c.owner {
            return;
        }
        ui.separator();
        ui.strong(tr!("communities-owner"));
        ui.horizontal_wrapped(|ui| {
            let name = c.name.clone();
            if c.archived {
                if ui.button(tr!("communities-reopen")).clicked() {
                    cmds.push(CommunityCmd::Close { name: name.clone(), how: Closing::Reopen });
                }
            } else if ui
                .button(tr!("communities-archive"))
                .on_hover_text(tr!("communities-archive-hint"))
                .clicked()
            {
                cmds.push(CommunityCmd::Close { name: name.clone(), how: Closing::Archive });
            }
            if self.settings.is_none() && ui.button(tr!("communities-edit-settings")).clicked() {
                self.settings = Some(NewCommunity::edit(c));
            }
            if ui.button(tr!("communities-delete-community")).clicked() {
                *ask = Some(Confirm::new(
                    tr!("communities-delete-community-question", name = name.as_str()),
                    tr!("communities-delete-community-detail"),
                    Cmd::Community(CommunityCmd::Close { name, how: Closing::Delete }),
                ));
            }
        });
        if let Some(form) = &mut self.settings {
            if let Some(cmd) = form.show(ui) {
                cmds.push(cmd);
            }
            if !form.is_open() {
                self.settings = None;
            }
        }
    }

    fn log_ui(&mut self, ui: &mut egui::Ui) {
        ui.separator();
        ui.strong(tr!("communities-log"));
        if self.log.is_empty() {
            ui.weak(tr!("communities-log-empty"));
        }
        for e in &self.log {
            ui.horizontal_wrapped(|ui| {
                ui.weak(when(e.created_ms as i64));
                let by = e.by.clone().unwrap_or_default();
                // A post or comment by its id; an account by the name the
                // relay gives its signed key (else the key).
                let on = match (&e.item, &e.account_name) {
                    (Some(item), _) => short(item, 12),
                    (None, Some(name)) if name.len() < 64 => name.clone(),
                    (None, name) => short(name.as_deref().unwrap_or_default(), 12),
                };
                ui.label(tr!(
                    "communities-log-entry",
                    by = by,
                    action = action_name(&e.action),
                    on = on
                ));
                if !e.note.is_empty() {
                    ui.weak(tr!("communities-log-note", note = e.note.as_str()));
                }
                if !e.verified {
                    ui.label(RichText::new(tr!("communities-log-unverified")).color(FAILED));
                }
            });
        }
    }
}
