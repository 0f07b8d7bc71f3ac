//! The scrolled list of a conversation's messages: the end-to-end note at
//! its start, day separators, each
//! message's bubble, and only what is near the visible part laid out (the
//! rest is skipped over by the height it had), so a long chat costs a
//! frame what a screenful costs.

use std::collections::HashMap;

use eframe::egui::{self, RichText};
use kovan_node::node::{FileMeta, FileView, MessageView};

use super::Pages;
use super::bubble::{Bubble, BubbleCtx, bubble};
use crate::widgets::{civil_day, day_label, rgba_texture};

/// What the list's scroll area reports: what was clicked, on which message.
pub type Clicked = egui::scroll_area::ScrollAreaOutput<Vec<(MessageView, Bubble)>>;

/// A message to bring into view (once) and one to outline (a search hit
/// jumped to).
#[derive(Debug, Clone, Copy, Default)]
pub struct Jump<'a> {
    /// Scroll so that this message is in the middle.
    pub scroll: Option<&'a str>,
    /// Draw a frame around this message.
    pub outline: Option<&'a str>,
}

/// Draws the loaded messages, newest at the bottom (it sticks there).
pub fn show(
    ui: &mut egui::Ui,
    pages: &mut Pages,
    files: &HashMap<String, FileView>,
    thumbs: &mut HashMap<String, Option<egui::TextureHandle>>,
    bx: &mut BubbleCtx<'_>,
    jump: Jump<'_>,
) -> Clicked {
    let Pages { messages, heights, loading_older, complete, .. } = pages;
    egui::ScrollArea::vertical().stick_to_bottom(true).show_viewport(ui, |ui, view| {
        let origin = ui.min_rect().top();
        // Only what is near the visible part is laid out: a long chat
        // costs a frame what a screenful costs.
        let (near_top, near_bottom) = (view.top() - view.height(), view.bottom() + view.height());
        if *loading_older {
            ui.spinner();
        }
        // The start of the chat: what protects it.
        if *complete || messages.is_empty() {
            ui.vertical_centered(|ui| {
                ui.label(RichText::new(tr!("chat-e2e-note")).weak().small());
            });
        }
        let mut day = None;
        let mut clicked = Vec::new();
        for m in messages.iter() {
            let d = civil_day(m.sent_at);
            let new_day = day != Some(d);
            day = Some(d);
            let top = ui.cursor().top() - origin;
            if let Some(&h) = heights.get(&m.id)
                && (top + h < near_top || top > near_bottom)
                && jump.scroll != Some(m.id.as_str())
            {
                ui.add_space(h);
                continue;
            }
            let before = ui.cursor().top();
            if new_day {
                ui.vertical_centered(|ui| {
                    ui.label(RichText::new(day_label(d, bx.today)).weak().small());
                });
            }
            let thumb = m.file.as_ref().and_then(|f| {
                thumbs.entry(f.id.clone()).or_insert_with(|| thumbnail_texture(ui.ctx(), f)).clone()
            });
            let file = m.file.as_ref().and_then(|f| files.get(&f.id));
            let action = bubble(ui, m, messages, file, thumb.as_ref(), bx);
            heights.insert(m.id.clone(), ui.cursor().top() - before);
            let drawn =
                egui::Rect::from_x_y_ranges(ui.max_rect().x_range(), before..=ui.cursor().top());
            if jump.scroll == Some(m.id.as_str()) {
                ui.scroll_to_rect(drawn, Some(egui::Align::Center));
            }
            if jump.outline == Some(m.id.as_str()) {
                let stroke = egui::Stroke::new(2.0, ui.visuals().selection.bg_fill);
                ui.painter().rect_stroke(drawn, 8.0, stroke, egui::StrokeKind::Inside);
            }
            if let Some(action) = action {
                clicked.push((m.clone(), action));
            }
        }
        clicked
    })
}

/// An image message's thumbnail as a texture (`None`: no thumbnail, or one
/// that does not decode: it came from a peer and is decoded under limits).
fn thumbnail_texture(ctx: &egui::Context, f: &FileMeta) -> Option<egui::TextureHandle> {
    use base64::Engine;
    let img = f.image.as_ref()?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(&img.thumbnail).ok()?;
    let decoded = kovan_node::media::decode_for_display(&bytes).ok()?.to_rgba8();
    Some(rgba_texture(
        ctx,
        format!("thumb-{}", f.id),
        decoded.width(),
        decoded.height(),
        decoded.as_raw(),
    ))
}
