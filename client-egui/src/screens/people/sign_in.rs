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
        ui.label("Relay account");
        labelled(ui, "Username", &mut self.username, false);
        labelled(ui, "Password", &mut self.password, true);
        // A greyed-out button says why (one line either way, so nothing
        // below moves while typing).
        let why_not = if self.username.trim().is_empty() {
            Some("Choose a username and a password of at least 8 characters.")
        } else if self.password.len() < 8 {
            Some("The password needs at least 8 characters.")
        } else {
            None
        };
        let ok = why_not.is_none();
        ui.horizontal(|ui| {
            if ui.add_enabled(ok, egui::Button::new("Sign up")).clicked() {
                let cmd = Cmd::Register {
                    username: self.username.trim().to_owned(),
                    password: self.password.clone(),
                };
                ctx.send(cmd);
            }
            if ui.add_enabled(ok, egui::Button::new("Log in")).clicked() {
                let cmd = Cmd::Login {
                    username: self.username.trim().to_owned(),
                    password: self.password.clone(),
                };
                ctx.send(cmd);
            }
        });
        ui.label(why_not.unwrap_or("Sign up makes a new account; Log in uses one you have."));
    }

    /// Signed in: the password is forgotten (the username stays).
    pub fn signed_in(&mut self) {
        self.password.clear();
    }
}
