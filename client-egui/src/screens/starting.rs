//! The wait while the backend looks at the home or Argon2id opens the keys.

use eframe::egui;

/// A spinner; `opening`: the keys are being opened (else kovan starts).
pub fn show(ui: &mut egui::Ui, opening: bool) {
    egui::CentralPanel::default().show(ui, |ui| {
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() / 3.0);
            ui.spinner();
            ui.label(if opening { tr!("start-opening-keys") } else { tr!("start-starting") });
        });
    });
}
