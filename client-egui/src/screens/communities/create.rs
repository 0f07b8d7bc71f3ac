//! "New community": its name, topic, description, rules, whether only
//! members read it, who may post and its moderators. The same form edits
//! a community's settings (its owner, from Moderation).

use eframe::egui;
use kovan_node::{CommunitySettingsDraft, CommunityView};
use kovan_spec::limits::{MAX_COMMUNITY_DESCRIPTION, MAX_COMMUNITY_TOPIC};
use kovan_spec::validate::is_community_name;

use super::compose::multiline;
use crate::backend::CommunityCmd;
use crate::widgets::field;

/// Who may post, in the relay's words.
const POLICIES: [&str; 3] = ["members", "approved", "moderators"];

/// The form's state.
#[derive(Debug)]
pub(super) struct NewCommunity {
    open: bool,
    name: String,
    topic: String,
    description: String,
    rules: String,
    private: bool,
    policy: &'static str,
    /// Moderators besides the owner: usernames, comma-separated.
    moderators: String,
    /// The community whose settings are edited (else a new one).
    editing: Option<String>,
    /// Sent, waiting for the relay.
    sent: Option<String>,
}

impl Default for NewCommunity {
    fn default() -> Self {
        Self {
            open: false,
            name: String::new(),
            topic: String::new(),
            description: String::new(),
            rules: String::new(),
            private: false,
            policy: POLICIES[0],
            moderators: String::new(),
            editing: None,
            sent: None,
        }
    }
}

/// Who may post, in words.
pub(super) fn policy_name(policy: &str) -> String {
    match policy {
        "approved" => tr!("communities-policy-approved"),
        "moderators" => tr!("communities-policy-moderators"),
        _ => tr!("communities-policy-members"),
    }
}

impl NewCommunity {
    /// The form filled with `c`'s settings, open, to edit them.
    pub(super) fn edit(c: &CommunityView) -> Self {
        Self {
            open: true,
            name: c.name.clone(),
            topic: c.topic.clone(),
            description: c.description.clone(),
            rules: c.rules.clone(),
            private: c.private,
            policy: POLICIES.into_iter().find(|p| *p == c.post_policy).unwrap_or(POLICIES[0]),
            moderators: c.moderators.join(", "),
            editing: Some(c.name.clone()),
            sent: None,
        }
    }

    /// The community was made: the form empties and closes.
    pub(super) fn created(&mut self, name: &str) {
        if self.sent.as_deref() == Some(name) {
            *self = Self::default();
        }
    }

    /// Making it failed (the error is in the bar): the form stays.
    pub(super) fn failed(&mut self) {
        self.sent = None;
    }

    /// Draws "New community" (a button that opens the form), or the
    /// settings being edited; returns the command once "Create community"
    /// or "Save settings" is clicked.
    pub(super) fn show(&mut self, ui: &mut egui::Ui) -> Option<CommunityCmd> {
        if !self.open {
            if ui.button(tr!("communities-new-community")).clicked() {
                self.open = true;
            }
            return None;
        }
        let mut cmd = None;
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            if self.editing.is_some() {
                ui.strong(tr!("communities-settings"));
            } else {
                ui.strong(tr!("communities-new-community"));
                ui.horizontal_wrapped(|ui| {
                    field(ui, &tr!("communities-name"), &mut self.name, "", 150.0);
                });
            }
            let name = self.name.trim().to_owned();
            if !name.is_empty() && !is_community_name(&name) {
                ui.weak(tr!("communities-name-rule"));
            }
            ui.horizontal_wrapped(|ui| {
                field(ui, &tr!("communities-topic"), &mut self.topic, "", 170.0);
            });
            multiline(ui, &tr!("communities-description"), &mut self.description, 2);
            multiline(ui, &tr!("communities-rules"), &mut self.rules, 2);
            ui.checkbox(&mut self.private, tr!("communities-private-option"));
            ui.label(tr!("communities-who-may-post"));
            ui.horizontal_wrapped(|ui| {
                for p in POLICIES {
                    ui.selectable_value(&mut self.policy, p, policy_name(p));
                }
            });
            ui.horizontal_wrapped(|ui| {
                let hint = tr!("communities-moderators-hint");
                field(ui, &tr!("communities-moderators"), &mut self.moderators, &hint, 220.0);
            });
            let fits = self.topic.len() <= MAX_COMMUNITY_TOPIC
                && self.description.len() <= MAX_COMMUNITY_DESCRIPTION
                && self.rules.len() <= MAX_COMMUNITY_DESCRIPTION;
            let ok = is_community_name(&name) && fits && self.sent.is_none();
            ui.horizontal(|ui| {
                let label = if self.editing.is_some() {
                    tr!("communities-save-settings")
                } else {
                    tr!("communities-create")
                };
                if ui.add_enabled(ok, egui::Button::new(label)).clicked() {
                    self.sent = Some(name.clone());
                    let settings = self.draft();
                    cmd = Some(if self.editing.is_some() {
                        CommunityCmd::Settings { name: name.clone(), settings }
                    } else {
                        CommunityCmd::Create { name: name.clone(), settings }
                    });
                }
                if ui.button(tr!("communities-cancel")).clicked() {
                    self.open = false;
                }
            });
            if !fits {
                ui.weak(tr!("communities-too-long"));
            }
        });
        cmd
    }

    /// The settings as the node takes them.
    fn draft(&self) -> CommunitySettingsDraft {
        CommunitySettingsDraft {
            topic: self.topic.trim().to_owned(),
            description: self.description.trim().to_owned(),
            rules: self.rules.trim().to_owned(),
            private: self.private,
            post_policy: self.policy.to_owned(),
            moderators: self
                .moderators
                .split([',', ' '])
                .map(|m| m.trim().trim_start_matches('@'))
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }

    /// Whether the form is open.
    pub(super) fn is_open(&self) -> bool {
        self.open
    }
}
