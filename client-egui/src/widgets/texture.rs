//! Pictures the backend decoded, as textures.

use eframe::egui;

/// RGBA pixels (`width` × `height`) as a texture named `name`.
pub fn rgba_texture(
    ctx: &egui::Context,
    name: String,
    width: u32,
    height: u32,
    rgba: &[u8],
) -> egui::TextureHandle {
    let img = egui::ColorImage::from_rgba_unmultiplied([width as usize, height as usize], rgba);
    ctx.load_texture(name, img, egui::TextureOptions::LINEAR)
}
