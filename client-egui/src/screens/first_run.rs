//! First run: a device name and a passphrase make the identity.

use eframe::egui::{self, Color32, RichText};

use crate::app::{Ctx, Nav};
use crate::backend::Cmd;
use crate::widgets::labelled;

/// The form's fields.
#[derive(Debug, Default)]
pub struct FirstRun {
    device_name: String,
    passphrase: String,
    passphrase2: String,
}

impl FirstRun {
    /// Draws the welcome form; "Create identity" makes the keys.
    pub fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.vertical_centered(|ui| {
                ui.add_space(40.0);
                ui.heading(tr!("start-welcome"));
                ui.label(tr!("start-keys-stay-here"));
                ui.add_space(16.0);
                labelled(ui, &tr!("start-device-name"), &mut self.device_name, false);
                labelled(ui, &tr!("start-passphrase"), &mut self.passphrase, true);
                let hint = strength(&self.passphrase);
                ui.label(RichText::new(hint.0).color(hint.1));
                labelled(ui, &tr!("start-repeat-passphrase"), &mut self.passphrase2, true);
                let ready = self.passphrase.len() >= 8
                    && self.passphrase == self.passphrase2
                    && !self.device_name.trim().is_empty();
                if !self.passphrase2.is_empty() && self.passphrase != self.passphrase2 {
                    ui.label(tr!("start-passphrases-differ"));
                }
                let create = egui::Button::new(tr!("start-create-identity"));
                if ui.add_enabled(ready, create).clicked() {
                    let cmd = Cmd::Create {
                        name: self.device_name.trim().to_owned(),
                        passphrase: self.passphrase.clone(),
                    };
                    ctx.send(cmd);
                    ctx.go(Nav::Opening);
                }
            });
        });
    }

    /// Forgets the passphrases (the node has started).
    pub fn clear(&mut self) {
        self.passphrase.clear();
        self.passphrase2.clear();
    }
}

/// A rough passphrase strength hint: length and character classes.
pub fn strength(p: &str) -> (String, Color32) {
    let classes = [
        p.chars().any(|c| c.is_lowercase()),
        p.chars().any(|c| c.is_uppercase()),
        p.chars().any(|c| c.is_ascii_digit()),
        p.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    let n = p.chars().count();
    match (n, classes) {
        (0, _) => (String::new(), Color32::GRAY),
        (1..=7, _) => (tr!("start-strength-too-short"), Color32::from_rgb(200, 60, 60)),
        (8..=11, 0..=2) => (tr!("start-strength-weak"), Color32::from_rgb(210, 140, 40)),
        (n, c) if n >= 16 || (n >= 12 && c >= 3) => {
            (tr!("start-strength-strong"), Color32::from_rgb(40, 150, 70))
        }
        _ => (tr!("start-strength-fair"), Color32::from_rgb(150, 150, 40)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_hints() {
        crate::i18n::set(crate::i18n::Lang::En);
        assert_eq!(strength("abc").0, "Too short: at least 8 characters");
        assert_eq!(strength("abcdefgh").0, "Weak: longer is better");
        assert_eq!(strength("Abcdefgh12!x").0, "Strong");
    }
}
