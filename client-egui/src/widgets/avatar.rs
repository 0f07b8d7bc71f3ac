//! A small round avatar.

use eframe::egui;

/// A small avatar (or a blank disc), with `label` as its accessible text.
pub fn avatar(ui: &mut egui::Ui, tex: Option<&egui::TextureHandle>, label: &str) {
    let side = 24.0;
    match tex {
        Some(t) => {
            let img = egui::Image::new((t.id(), egui::vec2(side, side)))
                .corner_radius(side / 2.0)
                .alt_text(label);
            ui.add(img);
        }
        None => {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(side, side), egui::Sense::hover());
            ui.painter().circle_filled(rect.center(), side / 2.0, ui.visuals().faint_bg_color);
        }
    }
}
