//! kovan's look, over egui's defaults: a little larger type, room between
//! controls, rounded corners, and one accent colour (a honey amber: a
//! *kovan* is a beehive) for selection and links, tuned per theme so text
//! on it stays readable.

use eframe::egui::{self, Color32, CornerRadius, FontId, TextStyle, Theme};

/// The accent in the light theme (dark enough for white text).
const ACCENT_LIGHT: Color32 = Color32::from_rgb(0xb3, 0x6b, 0x00);
/// The accent in the dark theme.
const ACCENT_DARK: Color32 = Color32::from_rgb(0xf0, 0xa5, 0x1c);

/// Installs the look into both themes.
pub fn install(ctx: &egui::Context) {
    ctx.all_styles_mut(|s| {
        use egui::FontFamily::{Monospace, Proportional};
        s.text_styles = [
            (TextStyle::Small, FontId::new(11.5, Proportional)),
            (TextStyle::Body, FontId::new(14.5, Proportional)),
            (TextStyle::Button, FontId::new(14.5, Proportional)),
            (TextStyle::Heading, FontId::new(20.0, Proportional)),
            (TextStyle::Monospace, FontId::new(13.0, Monospace)),
        ]
        .into();
        s.spacing.item_spacing = egui::vec2(8.0, 6.0);
        s.spacing.button_padding = egui::vec2(10.0, 4.0);
        s.spacing.interact_size.y = 24.0;
        s.spacing.window_margin = egui::Margin::same(12);
        s.spacing.menu_margin = egui::Margin::same(8);
        let r = CornerRadius::same(6);
        let w = &mut s.visuals.widgets;
        for state in
            [&mut w.noninteractive, &mut w.inactive, &mut w.hovered, &mut w.active, &mut w.open]
        {
            state.corner_radius = r;
        }
        s.visuals.window_corner_radius = CornerRadius::same(10);
        s.visuals.menu_corner_radius = CornerRadius::same(8);
    });
    ctx.style_mut_of(Theme::Light, |s| accent(s, ACCENT_LIGHT, Color32::WHITE));
    ctx.style_mut_of(Theme::Dark, |s| accent(s, ACCENT_DARK, Color32::BLACK));
}

fn accent(s: &mut egui::Style, accent: Color32, on_accent: Color32) {
    s.visuals.selection.bg_fill = accent;
    s.visuals.selection.stroke.color = on_accent;
    s.visuals.hyperlink_color = accent;
}
