//! Searching people (the relay's directory and the LAN) and asking them
//! to be friends.

use eframe::egui;
use kovan_node::contacts::FriendState;
use kovan_node::invites::LINK_PREFIX;
use kovan_node::node::SearchResult;

use crate::app::Ctx;
use crate::backend::Cmd;
use crate::widgets::labelled;

/// The query and its results.
#[derive(Debug, Default)]
pub struct Search {
    query: String,
    /// The last search's results.
    found: Vec<SearchResult>,
    /// What the search on its way was for.
    asked: Option<String>,
    /// What the results shown are for.
    answered: Option<String>,
    /// Put the cursor in the field on the next frame (Ctrl+N).
    focus: bool,
}

impl Search {
    /// The results of the search asked for came.
    pub fn found(&mut self, results: Vec<SearchResult>) {
        self.found = results;
        self.answered = self.asked.take();
    }

    /// The search failed (its error is in the bar).
    pub fn failed(&mut self) {
        self.asked = None;
    }

    /// Puts the cursor in the search field (Ctrl+N: a new chat starts
    /// with finding the person).
    pub fn focus(&mut self) {
        self.focus = true;
    }

    /// Forgets the results (kovan locks).
    pub fn forget(&mut self) {
        self.found.clear();
        self.asked = None;
        self.answered = None;
    }

    /// "Search people" (a pasted invite link sends a request instead), and each result with "Add NAME" unless already a
    /// friend or asked.
    pub fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx, cmds: &mut Vec<Cmd>) {
        let r = labelled(ui, &tr!("people-search-people"), &mut self.query, false);
        if std::mem::take(&mut self.focus) {
            r.request_focus();
        }
        let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let q = self.query.trim().to_owned();
        // A pasted invite link asks its owner directly.
        if q.starts_with(LINK_PREFIX) {
            if ui.button(tr!("people-send-friend-request")).clicked() || enter {
                cmds.push(Cmd::Request { who: q, note: String::new() });
                self.query.clear();
            }
        } else if (ui.button(tr!("people-search")).clicked() || enter) && !q.is_empty() {
            self.asked = Some(q.clone());
            ctx.send(Cmd::Search(q));
        }
        if let Some(q) = &self.asked {
            ui.label(tr!("people-searching", query = q.as_str()));
        } else if let Some(q) = self.answered.as_ref().filter(|_| self.found.is_empty()) {
            ui.label(tr!("people-no-one-found", query = q.as_str()));
        }
        for f in &self.found {
            ui.horizontal(|ui| {
                let name = f.username.clone().unwrap_or_else(|| f.display_name.clone());
                ui.label(match f.source {
                    "relay" => tr!("people-found-on-relay", name = name.as_str()),
                    "lan" => tr!("people-found-on-lan", name = name.as_str()),
                    other => format!("{name} ({other})"),
                });
                let known = ctx.contacts.iter().any(|c| {
                    c.account == f.account
                        && matches!(c.state, FriendState::Friend | FriendState::Outgoing)
                });
                if !known && ui.button(tr!("people-add", name = name.as_str())).clicked() {
                    cmds.push(Cmd::Request { who: f.target.clone(), note: String::new() });
                }
            });
        }
    }
}
