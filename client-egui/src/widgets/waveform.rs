//! A voice note's loudness over time.

use eframe::egui::{self, Color32};

/// A voice note's peak levels as bars.
pub fn waveform(ui: &mut egui::Ui, levels: &[u8]) {
    let size = egui::vec2(levels.len() as f32 * 3.0, 24.0);
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    let painter = ui.painter_at(rect);
    for (i, l) in levels.iter().enumerate() {
        let h = 2.0 + f32::from(*l) / 255.0 * 22.0;
        let x = rect.left() + i as f32 * 3.0 + 1.0;
        painter.line_segment(
            [egui::pos2(x, rect.center().y - h / 2.0), egui::pos2(x, rect.center().y + h / 2.0)],
            egui::Stroke::new(2.0, Color32::from_rgb(90, 120, 200)),
        );
    }
}
