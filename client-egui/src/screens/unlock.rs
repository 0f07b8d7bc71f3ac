//! The lock screen: the passphrase opens the keystore.

use eframe::egui;

use crate::app::{Ctx, Nav};
use crate::backend::Cmd;
use crate::widgets::labelled;

/// The passphrase field and a notice (after the relay changed).
#[derive(Debug, Default)]
pub struct Unlock {
    passphrase: String,
    notice: Option<String>,
}

impl Unlock {
    /// Draws the lock screen; "Unlock" (or Enter) opens the keys.
    pub fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.vertical_centered(|ui| {
                ui.add_space(ui.available_height() / 4.0);
                ui.heading(tr!("start-locked"));
                if let Some(n) = &self.notice {
                    ui.label(n);
                }
                let r = labelled(ui, &tr!("start-passphrase"), &mut self.passphrase, true);
                let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if ui.button(tr!("start-unlock")).clicked() || enter {
                    self.notice = None;
                    let cmd = Cmd::Unlock { passphrase: self.passphrase.clone() };
                    self.passphrase.clear();
                    ctx.send(cmd);
                    ctx.go(Nav::Opening);
                }
            });
        });
    }

    /// Forgets the passphrase (the node has started).
    pub fn clear(&mut self) {
        self.passphrase.clear();
    }

    /// Says where unlocking will connect now that the relay changed.
    pub fn relay_changed(&mut self, url: Option<String>) {
        self.notice = Some(match url {
            Some(u) => tr!("start-unlock-to-connect", url = u),
            None => tr!("start-unlock-without-relay"),
        });
    }
}
