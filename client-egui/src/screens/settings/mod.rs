//! The Settings tab: this window's theme, language and notifications
//! ([`appearance`]) and sound devices ([`devices`]); where the data lives and which relay ([`relay`]);
//! then, signed in, the relay account's profile ([`profile`]), privacy
//! ([`privacy`]), invite links ([`invites`]), sessions ([`sessions`]), and password, log out and
//! account deletion ([`account`]).

mod account;
mod appearance;
mod devices;
mod invites;
mod privacy;
mod profile;
mod relay;
mod sessions;

use eframe::egui;

use crate::app::Ctx;
use crate::backend::{Action, Cmd};
use crate::widgets::short;

/// The Settings tab's state.
#[derive(Debug, Default)]
pub struct Settings {
    relay: relay::RelayForm,
    profile: profile::Profile,
    /// The relay account's settings as last read (`None`: being read).
    settings: Option<serde_json::Value>,
    sessions: Vec<serde_json::Value>,
    account: account::AccountForm,
    invites: invites::Invites,
    devices: devices::Devices,
}

impl Settings {
    /// Draws the tab.
    pub fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx) {
        appearance::show(ui, ctx);
        ui.separator();
        self.devices.show(ui, ctx);
        ui.separator();
        let mut typing = ctx.typing_indicators;
        if ui.checkbox(&mut typing, tr!("settings-typing-indicators")).changed() {
            ctx.send(Cmd::SetTypingIndicators(typing));
        }
        ui.separator();
        let home = ctx.config().home.display().to_string();
        ui.label(tr!("settings-data-directory", path = home));
        let relay = ctx.config().relay.clone().unwrap_or_else(|| tr!("settings-relay-from-config"));
        ui.label(tr!("settings-relay", relay = relay));
        self.relay.show(ui, ctx);
        ui.label(tr!("settings-account-key", key = short(&ctx.account, 16)));
        if ctx.signed_in.is_none() {
            ui.label(tr!("settings-sign-in-first"));
            return;
        }
        let Some(mut settings) = self.settings.clone() else {
            ui.spinner();
            return;
        };
        self.profile.avatar(ui, ctx);
        let mut patch = serde_json::Map::new();
        profile::names(ui, &mut settings, &mut patch);
        privacy::show(ui, &mut settings, &mut patch);
        self.settings = Some(settings);
        if !patch.is_empty() {
            ctx.send(Cmd::Act(Action::SaveSettings(patch.into())));
        }
        ui.separator();
        let mut cmds = Vec::new();
        ui.separator();
        self.invites.show(ui, &mut cmds);
        ui.separator();
        sessions::show(ui, &self.sessions, &mut cmds);
        ui.separator();
        self.account.show(ui, &mut cmds);
        for c in cmds {
            ctx.send(c);
        }
    }

    /// The relay account's settings and sessions came.
    pub fn loaded(&mut self, settings: serde_json::Value, sessions: serde_json::Value) {
        self.settings = Some(settings);
        self.sessions = sessions.as_array().cloned().unwrap_or_default();
    }

    /// This account's invite links came.
    pub fn invites_loaded(&mut self, links: Vec<kovan_node::node::InviteView>) {
        self.invites.links = Some(links);
    }

    /// The relay changed: its settings are read again once signed in.
    pub fn forget_profile(&mut self) {
        self.settings = None;
    }

    /// Logged out (or the account deleted).
    pub fn signed_out(&mut self) {
        self.settings = None;
        self.sessions.clear();
    }
}
