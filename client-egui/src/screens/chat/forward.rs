//! Forwarding a message: its text, or the file it carries once the file is
//! on this device, to another chat picked in a small window (a sealed
//! chat's words are not forwarded out of it: the menu offers Copy only
//! where the words are open on this screen anyway).

use std::path::PathBuf;

use eframe::egui;

use crate::app::{Ctx, Nav};
use crate::backend::Cmd;

/// What is being forwarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forwarding {
    /// A text.
    Text(String),
    /// A file on this device (an image is sent as one).
    File {
        /// Where it is.
        path: PathBuf,
        /// Sent as an image.
        image: bool,
    },
}

/// Draws the "Forward to" window while something waits to be forwarded;
/// a pick sends it there and opens that chat.
pub fn show(ui: &mut egui::Ui, ctx: &mut Ctx, pending: &mut Option<Forwarding>) {
    let Some(what) = pending.clone() else { return };
    let mut to = None;
    let modal = egui::Modal::new(egui::Id::new("forward")).show(ui.ctx(), |ui| {
        ui.set_width(320.0);
        ui.heading(tr!("chat-forward-title"));
        egui::ScrollArea::vertical().max_height(320.0).show(ui, |ui| {
            for c in ctx.conversations.iter().filter(|c| !c.closed && !c.locked) {
                let label = tr!("chat-forward-to", name = c.title.as_str());
                if ui.selectable_label(false, label).clicked() {
                    to = Some(c.id.clone());
                }
            }
        });
        if ui.button(tr!("chat-forward-cancel")).clicked() {
            *pending = None;
        }
    });
    if let Some(conversation) = to {
        *pending = None;
        ctx.send(match what {
            Forwarding::Text(text) => {
                Cmd::Send { conversation: conversation.clone(), text, reply_to: None }
            }
            Forwarding::File { path, image } => {
                Cmd::SendFile { conversation: conversation.clone(), path, image }
            }
        });
        ctx.go(Nav::OpenChat(conversation));
    } else if modal.should_close() {
        *pending = None;
    }
}
