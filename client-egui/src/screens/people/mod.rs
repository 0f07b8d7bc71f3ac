//! The People tab: the relay account form while signed out
//! ([`sign_in`]), searching the directory ([`search`]), then friend
//! requests, friends and blocked accounts ([`friends`]), and comparing a
//! friend's safety number ([`safety`]).

mod friends;
mod safety;
mod search;
mod sign_in;

use std::collections::HashMap;

use eframe::egui;
use kovan_node::node::SearchResult;

use crate::app::{Ctx, Nav};

/// The People tab's state.
#[derive(Debug, Default)]
pub struct People {
    sign_in: sign_in::SignIn,
    search: search::Search,
    /// Safety numbers asked for, by account.
    safety: HashMap<String, String>,
    /// The safety-number window.
    safety_window: safety::SafetyWindow,
}

impl People {
    /// Draws the tab; a friend's name opens their chat.
    pub fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx) {
        if ctx.signed_in.is_none() {
            self.sign_in.show(ui, ctx);
            ui.separator();
        }
        let mut cmds = Vec::new();
        self.search.show(ui, ctx, &mut cmds);
        ui.separator();
        let mut ask = None;
        let open =
            friends::show(ui, ctx, &self.safety, &mut self.safety_window, &mut cmds, &mut ask);
        for c in cmds {
            ctx.send(c);
        }
        if let Some(a) = ask {
            ctx.ask(a);
        }
        if let Some(id) = open {
            ctx.go(Nav::OpenChat(id));
        }
    }

    /// Signed in: the password field is cleared.
    pub fn signed_in(&mut self) {
        self.sign_in.signed_in();
    }

    /// Search results came.
    pub fn found(&mut self, results: Vec<SearchResult>) {
        self.search.found(results);
    }

    /// The search failed.
    pub fn search_failed(&mut self) {
        self.search.failed();
    }

    /// Puts the cursor in "Search people" (Ctrl+N).
    pub fn focus_search(&mut self) {
        self.search.focus();
    }

    /// Forgets the search results (kovan locks).
    pub fn forget_found(&mut self) {
        self.search.forget();
    }

    /// A contact's safety number came.
    pub fn safety_number(&mut self, account: String, digits: String) {
        self.safety.insert(account, digits);
    }
}
