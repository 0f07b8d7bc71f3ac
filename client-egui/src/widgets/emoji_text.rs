//! Secondary text with colour emoji (a chat's preview, a quoted reply).

use eframe::egui;

use crate::emoji;

/// `text` small and weak, its emoji in colour.
pub fn small_weak(ui: &mut egui::Ui, cache: &mut emoji::Emoji, text: &str) -> egui::Response {
    let style = emoji::Style {
        weak: true,
        ..emoji::Style::sized(ui, egui::TextStyle::Small.resolve(ui.style()).size)
    };
    emoji::label(ui, cache, text, style)
}
