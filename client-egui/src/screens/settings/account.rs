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
        labelled(ui, &tr!("settings-current-password"), &mut self.old_password, true);
        labelled(ui, &tr!("settings-new-password"), &mut self.new_password, true);
        let ok = !self.old_password.is_empty() && self.new_password.len() >= 8;
        if ui.add_enabled(ok, egui::Button::new(tr!("settings-change-password"))).clicked() {
            cmds.push(Cmd::Act(Action::ChangePassword {
                old: std::mem::take(&mut self.old_password),
                new: std::mem::take(&mut self.new_password),
            }));
        }
        ui.separator();
        if ui.button(tr!("settings-log-out")).clicked() {
            cmds.push(Cmd::Act(Action::Logout));
        }
        ui.collapsing(tr!("settings-delete-account"), |ui| {
            ui.label(tr!("settings-delete-account-detail"));
            labelled(ui, &tr!("settings-password-to-delete"), &mut self.old_password, true);
            if ui.button(tr!("settings-delete-my-account")).clicked()
                && !self.old_password.is_empty()
            {
                cmds.push(Cmd::Act(Action::DeleteAccount {
                    password: std::mem::take(&mut self.old_password),
                }));
            }
        });
    }
}
