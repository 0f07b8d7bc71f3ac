//! The relay account form (while signed out): sign up or log in.

use eframe::egui;

use crate::app::Ctx;
use crate::backend::Cmd;
use crate::widgets::labelled;

/// Username and password.
#[derive(Debug, Default)]
pub struct SignIn {
    username: String,
    password: String,
}

impl SignIn {
    /// "Relay account", the fields, "Sign up" and "Log in".
    pub fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx) {
        ui.label(tr!("people-relay-account"));
        labelled(ui, &tr!("people-username"), &mut self.username, false);
        labelled(ui, &tr!("people-password"), &mut self.password, true);
        // A greyed-out button says why (one line either way, so nothing
        // below moves while typing).
        let why_not = if self.username.trim().is_empty() {
            Some(tr!("people-choose-username-password"))
        } else if self.password.len() < 8 {
            Some(tr!("people-password-too-short"))
        } else {
            None
        };
        let ok = why_not.is_none();
        ui.horizontal(|ui| {
            if ui.add_enabled(ok, egui::Button::new(tr!("people-sign-up"))).clicked() {
                let cmd = Cmd::Register {
                    username: self.username.trim().to_owned(),
                    password: self.password.clone(),
                };
                ctx.send(cmd);
            }
            if ui.add_enabled(ok, egui::Button::new(tr!("people-log-in"))).clicked() {
                let cmd = Cmd::Login {
                    username: self.username.trim().to_owned(),
                    password: self.password.clone(),
                };
                ctx.send(cmd);
            }
        });
        ui.label(why_not.unwrap_or_else(|| tr!("people-sign-up-or-log-in")));
    }

    /// Signed in: the password is forgotten (the username stays).
    pub fn signed_in(&mut self) {
        self.password.clear();
    }
}
