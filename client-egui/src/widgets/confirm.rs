//! "Are you sure…?" before a destructive command: a small modal with
//! Confirm and Cancel (Esc or a click outside cancels).

use eframe::egui;

use crate::backend::Cmd;

/// A destructive command waiting for the user's yes.
#[derive(Debug, Clone)]
pub struct Confirm {
    /// The question, in plain words ("Unfriend bob?").
    pub question: String,
    /// What it does, below the question.
    pub detail: String,
    /// Sent once confirmed.
    pub cmd: Cmd,
}

impl Confirm {
    /// Asks `question` (with `detail` below it) before sending `cmd`.
    pub fn new(question: impl Into<String>, detail: impl Into<String>, cmd: Cmd) -> Self {
        Self { question: question.into(), detail: detail.into(), cmd }
    }
}

/// Draws the modal while something waits for confirmation; returns the
/// command once confirmed (and forgets it when confirmed or cancelled).
pub fn confirm(ui: &mut egui::Ui, pending: &mut Option<Confirm>) -> Option<Cmd> {
    let ask = pending.as_ref()?;
    let mut confirmed = false;
    let mut cancelled = false;
    let modal = egui::Modal::new(egui::Id::new("confirm")).show(ui.ctx(), |ui| {
        ui.set_max_width(320.0);
        ui.heading(&ask.question);
        if !ask.detail.is_empty() {
            ui.label(&ask.detail);
        }
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            confirmed = ui.button(tr!("widgets-confirm")).clicked();
            cancelled = ui.button(tr!("widgets-cancel")).clicked();
        });
    });
    if confirmed {
        return pending.take().map(|c| c.cmd);
    }
    if cancelled || modal.should_close() {
        *pending = None;
    }
    None
}
