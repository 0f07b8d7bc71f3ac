//! Message info (I1): for one of this account's messages, who has it and
//! who read it, with the times, in a small window.

use eframe::egui::{self, RichText};
use kovan_node::node::ReceiptView;

use crate::widgets::{civil_day, clock, format_day};

/// The message whose info is open, and its receipts once read.
#[derive(Debug, Default)]
pub struct MessageInfo {
    open: Option<(String, Option<Vec<ReceiptView>>)>,
}

impl MessageInfo {
    /// Opens the window for `message` (its receipts are being read).
    pub fn open(&mut self, message: String) {
        self.open = Some((message, None));
    }

    /// The receipts came.
    pub fn loaded(&mut self, message: &str, receipts: Vec<ReceiptView>) {
        if let Some((id, r)) = &mut self.open
            && id == message
        {
            *r = Some(receipts);
        }
    }

    /// Whether the window is open.
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Closes the window (another chat was opened, or Esc); whether it
    /// was open.
    pub fn close(&mut self) -> bool {
        self.open.take().is_some()
    }

    /// The window, while open: one line per recipient.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let Some((_, receipts)) = &self.open else { return };
        let mut open = true;
        let mut close = false;
        egui::Window::new(tr!("chat-message-info"))
            .id(egui::Id::new("message-info"))
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .show(ui.ctx(), |ui| {
                match receipts {
                    None => {
                        ui.spinner();
                    }
                    Some(r) if r.is_empty() => {
                        ui.label(tr!("chat-nobody-else"));
                    }
                    Some(r) => {
                        for who in r {
                            ui.label(RichText::new(&who.name).strong());
                            ui.label(line(who));
                        }
                    }
                }
                if ui.button(tr!("chat-close-info")).clicked() {
                    close = true;
                }
            });
        if !open || close {
            self.open = None;
        }
    }
}

/// "Read 2026-12-01 14:06 · delivered 14:05", or how far it got.
fn line(r: &ReceiptView) -> String {
    let at = |ms: i64| format!("{} {}", format_day(civil_day(ms)), clock(ms));
    match (r.delivered_at, r.seen_at) {
        (_, Some(s)) => match r.delivered_at {
            Some(d) => tr!("chat-read-delivered", read = at(s), delivered = at(d)),
            None => tr!("chat-read", read = at(s)),
        },
        (Some(d), None) => tr!("chat-delivered-not-read", delivered = at(d)),
        (None, None) => tr!("chat-not-delivered"),
    }
}
