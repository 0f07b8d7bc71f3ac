//! The relay account itself: changing the password, logging out, deleting
//! the account (with its password).

use eframe::egui;

use crate::backend::{Action, Cmd};
use crate::widgets::labelled;

/// The password fields. "Current password" and "Password to delete" are
/// one value.
#[derive(Debug, Default)]
pub struct AccountForm {
    old_password: String,
    new_password: String,
}

impl AccountForm {
    /// "Change password", "Log out" and the "Delete account" section.
    pub fn show(&mut self, ui: &mut egui::Ui, cmds: &mut Vec<Cmd>) {
        labelled(ui, "Current password", &mut self.old_password, true);
        labelled(ui, "New password", &mut self.new_password, true);
        let ok = !self.old_password.is_empty() && self.new_password.len() >= 8;
        if ui.add_enabled(ok, egui::Button::new("Change password")).clicked() {
            cmds.push(Cmd::Act(Action::ChangePassword {
                old: std::mem::take(&mut self.old_password),
                new: std::mem::take(&mut self.new_password),
            }));
        }
        ui.separator();
        if ui.button("Log out").clicked() {
            cmds.push(Cmd::Act(Action::Logout));
        }
        ui.collapsing("Delete account", |ui| {
            ui.label("This removes your relay account, its mailbox and files. Type your password:");
            labelled(ui, "Password to delete", &mut self.old_password, true);
            if ui.button("Delete my account").clicked() && !self.old_password.is_empty() {
                cmds.push(Cmd::Act(Action::DeleteAccount {
                    password: std::mem::take(&mut self.old_password),
                }));
            }
        });
    }
}
