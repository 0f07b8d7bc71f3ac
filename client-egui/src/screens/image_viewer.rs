//! An image full size, in its own window: decoded (under limits) by the
//! backend once the image is here; until then its thumbnail, larger.

use std::collections::HashMap;

use eframe::egui;

use crate::app::Ctx;
use crate::backend::Cmd;
use crate::widgets::rgba_texture;

/// The image shown: its file id and picture once decoded.
#[derive(Default)]
pub struct ImageViewer {
    viewing: Option<(String, Option<egui::TextureHandle>)>,
}

impl ImageViewer {
    /// Opens an image full size: the backend decodes the saved file; an
    /// image not yet downloaded shows its thumbnail.
    pub fn open(
        &mut self,
        id: String,
        ctx: &mut Ctx,
        thumbnails: &HashMap<String, Option<egui::TextureHandle>>,
    ) {
        match ctx.files.get(&id).and_then(|f| f.path.clone()) {
            Some(path) => {
                ctx.send(Cmd::LoadImage { file: id.clone(), path: path.into() });
                self.viewing = Some((id, None));
            }
            None => {
                let thumb = thumbnails.get(&id).cloned().flatten();
                self.viewing = Some((id, thumb));
            }
        }
    }

    /// The backend decoded `file` (`None`: it could not).
    pub fn loaded(
        &mut self,
        egui_ctx: &egui::Context,
        ctx: &mut Ctx,
        file: &str,
        image: Option<(u32, u32, Vec<u8>)>,
    ) {
        if let Some((id, tex)) = &mut self.viewing
            && *id == file
        {
            match image {
                Some((w, h, rgba)) => {
                    *tex = Some(rgba_texture(egui_ctx, format!("full-{file}"), w, h, &rgba));
                }
                None => {
                    ctx.error(tr!("chat-image-failed"));
                    self.viewing = None;
                }
            }
        }
    }

    /// Whether an image is shown.
    pub fn is_open(&self) -> bool {
        self.viewing.is_some()
    }

    /// Closes the window; whether it was open (Esc).
    pub fn close(&mut self) -> bool {
        self.viewing.take().is_some()
    }

    /// The window, while an image is open.
    pub fn show(&mut self, ui: &mut egui::Ui, ctx: &Ctx) {
        let Some((id, tex)) = self.viewing.clone() else { return };
        let id = &id;
        let name = ctx.files.get(id).map_or_else(|| tr!("chat-image"), |f| f.name.clone());
        let mut open = true;
        let complete = ctx.files.get(id).is_some_and(|f| f.path.is_some());
        let mut close = false;
        egui::Window::new(name).id(egui::Id::new("image-view")).open(&mut open).show(
            ui.ctx(),
            |ui| {
                match &tex {
                    Some(t) => {
                        let max = ui.ctx().content_rect().size() * 0.8;
                        let size = t.size_vec2();
                        let scale = (max.x / size.x).min(max.y / size.y).min(1.0);
                        ui.add(
                            egui::Image::new((t.id(), size * scale))
                                .alt_text(tr!("chat-image-alt")),
                        );
                    }
                    None => {
                        ui.spinner();
                    }
                }
                if !complete {
                    ui.label(tr!("chat-image-preview"));
                }
                if ui.button(tr!("chat-close-image")).clicked() {
                    close = true;
                }
            },
        );
        if !open || close {
            self.viewing = None;
        }
    }
}
