//! Whether a friend is online.

use eframe::egui::{self, Color32};
use kovan_node::node::ContactView;

use super::clock;

/// A green dot while a friend is online, else when they were last seen.
pub fn presence(ui: &mut egui::Ui, c: &ContactView, name: &str) {
    let (text, color) = if c.online {
        (tr!("widgets-online", name = name), Color32::from_rgb(40, 170, 80))
    } else {
        let when = c.last_seen.map_or_else(
            || tr!("widgets-offline", name = name),
            |t| tr!("widgets-last-seen", name = name, time = clock(t)),
        );
        (when, Color32::GRAY)
    };
    let (rect, r) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
    ui.painter().circle_filled(rect.center(), 4.0, color);
    let shown = text.clone();
    r.widget_info(|| egui::WidgetInfo::labeled(egui::WidgetType::Label, true, &shown));
    r.on_hover_text(text);
}
