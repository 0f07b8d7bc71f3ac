//! Text fields whose visible label is also their accessible name (the UI
//! tests and screen readers find them by it).

use eframe::egui;

/// A one-line field after its label (also its accessible name), with a
/// hint shown while it is empty.
pub fn field(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut String,
    hint: &str,
    width: f32,
) -> egui::Response {
    let l = ui.label(label);
    ui.add(egui::TextEdit::singleline(value).hint_text(hint).desired_width(width)).labelled_by(l.id)
}

/// A text field with a visible label that is also its accessible name.
pub fn labelled(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut String,
    secret: bool,
) -> egui::Response {
    ui.horizontal(|ui| {
        let l = ui.label(label);
        ui.add(egui::TextEdit::singleline(value).password(secret)).labelled_by(l.id)
    })
    .inner
}
