//! A round avatar painted into a rect: the person's picture when there is
//! one, else their initials on a colour of their own (the same colour for
//! the same person on every run, as chat apps do).

use eframe::egui::{self, Color32, FontId, Painter, Rect};

/// Up to two initials of a name: "Ayşe Yılmaz" → "AY", "bob" → "B",
/// "alice (@alice)" → "A".
pub fn initials(name: &str) -> String {
    let name = name.split(" (").next().unwrap_or(name);
    let mut out = String::new();
    for word in
        name.split_whitespace().filter(|w| w.chars().next().is_some_and(char::is_alphanumeric))
    {
        if let Some(c) = word.chars().next() {
            out.extend(c.to_uppercase());
        }
        if out.chars().count() == 2 {
            break;
        }
    }
    if out.is_empty() {
        out.push('?');
    }
    out
}

/// A colour picked from `seed` (a username or a name): mid-tone, readable
/// with white initials in light and dark themes.
pub fn seed_colour(seed: &str) -> Color32 {
    const PALETTE: [Color32; 8] = [
        Color32::from_rgb(0xc0, 0x39, 0x2b),
        Color32::from_rgb(0xd3, 0x54, 0x00),
        Color32::from_rgb(0xb7, 0x86, 0x0b),
        Color32::from_rgb(0x27, 0xae, 0x60),
        Color32::from_rgb(0x16, 0xa0, 0x85),
        Color32::from_rgb(0x29, 0x80, 0xb9),
        Color32::from_rgb(0x8e, 0x44, 0xad),
        Color32::from_rgb(0x6d, 0x4c, 0x41),
    ];
    // FNV-1a: stable across runs and platforms (std's hasher is not).
    let mut h: u32 = 0x811c_9dc5;
    for b in seed.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    PALETTE[(h as usize) % PALETTE.len()]
}

/// Paints the avatar into `rect` (a square).
pub fn paint_avatar(
    painter: &Painter,
    rect: Rect,
    picture: Option<&egui::TextureHandle>,
    name: &str,
    seed: &str,
) {
    let radius = rect.width() / 2.0;
    match picture {
        Some(t) => {
            let uv = Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
            painter.add(
                egui::epaint::RectShape::filled(rect, radius, Color32::WHITE)
                    .with_texture(t.id(), uv),
            );
        }
        None => {
            painter.circle_filled(rect.center(), radius, seed_colour(seed));
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                initials(name),
                FontId::proportional(radius * 0.8),
                Color32::WHITE,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_come_from_the_first_two_words() {
        assert_eq!(initials("Ayşe Yılmaz"), "AY");
        assert_eq!(initials("bob"), "B");
        assert_eq!(initials("alice (@alice)"), "A");
        assert_eq!(initials("ıtır çelik ak"), "IÇ");
        assert_eq!(initials("  "), "?");
        assert_eq!(initials("🎉 party"), "P");
    }

    #[test]
    fn the_same_seed_gets_the_same_colour_and_seeds_spread() {
        assert_eq!(seed_colour("abc"), seed_colour("abc"));
        let colours: std::collections::HashSet<_> =
            (0..64).map(|i| seed_colour(&format!("{i:x}"))).collect();
        assert!(colours.len() >= 6, "only {} colours for 64 seeds", colours.len());
    }
}
