//! The quick switcher (Ctrl+K): a small window over everything with a
//! field; the chats whose names contain what is typed (case and Turkish
//! dotted/dotless i ignored), most recent first. ↑/↓ move, Enter opens,
//! Esc or a click outside closes.

use eframe::egui;
use kovan_node::node::fold_for_search;

use crate::app::{Ctx, Nav};

/// The most chats listed.
const SHOWN: usize = 8;

/// The switcher's state.
#[derive(Debug, Default)]
pub struct Switcher {
    open: bool,
    query: String,
    selected: usize,
    focus: bool,
}

impl Switcher {
    /// Ctrl+K opens it.
    pub fn keys(&mut self, ui: &egui::Ui) {
        if ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::K)) {
            *self = Self { open: true, focus: true, ..Self::default() };
        }
    }

    /// Whether it is up (it takes the keyboard).
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Draws it while open; a pick opens the chat.
    pub fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx) {
        if !self.open {
            return;
        }
        let needle = fold_for_search(self.query.trim());
        let matches: Vec<(String, String)> = ctx
            .conversations
            .iter()
            .filter(|c| fold_for_search(&c.title).contains(&needle))
            .take(SHOWN)
            .map(|c| (c.id.clone(), crate::screens::chats::row_label(c)))
            .collect();
        let (up, down, enter) = ui.input_mut(|i| {
            (
                i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowUp),
                i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowDown),
                i.consume_key(egui::Modifiers::NONE, egui::Key::Enter),
            )
        });
        if down {
            self.selected = (self.selected + 1).min(matches.len().saturating_sub(1));
        }
        if up {
            self.selected = self.selected.saturating_sub(1);
        }
        self.selected = self.selected.min(matches.len().saturating_sub(1));
        let mut pick = enter.then(|| matches.get(self.selected).map(|m| m.0.clone())).flatten();
        let modal = egui::Modal::new(egui::Id::new("switcher")).show(ui.ctx(), |ui| {
            ui.set_width(360.0);
            ui.heading(tr!("shell-switcher-title"));
            let label = ui.label(tr!("shell-switcher-field"));
            let field = ui
                .add(
                    egui::TextEdit::singleline(&mut self.query)
                        .hint_text(tr!("shell-switcher-hint"))
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(label.id);
            if std::mem::take(&mut self.focus) {
                field.request_focus();
            }
            if field.changed() {
                self.selected = 0;
            }
            if matches.is_empty() {
                ui.weak(tr!("shell-switcher-none"));
            }
            for (i, (id, name)) in matches.iter().enumerate() {
                if ui.selectable_label(i == self.selected, name).clicked() {
                    pick = Some(id.clone());
                }
            }
        });
        if let Some(id) = pick {
            self.open = false;
            ctx.go(Nav::OpenChat(id));
        } else if modal.should_close() {
            self.open = false;
        }
    }
}
