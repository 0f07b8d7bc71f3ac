//! Search in the open chat (Ctrl+F): a field above the messages, the
//! messages that say it (newest first, each with its day and time), and a
//! click jumps to one: older pages load until it is there, the list
//! scrolls to it, and it is outlined for a moment. Esc closes the bar.

use std::time::{Duration, Instant};

use eframe::egui;
use kovan_node::node::MessageView;

use crate::app::Ctx;
use crate::backend::Cmd;
use crate::widgets::{civil_day, clock, day_label, short};

/// How long a message jumped to stays outlined.
const OUTLINE: Duration = Duration::from_secs(3);

/// The search bar's state.
#[derive(Default)]
pub struct ChatSearch {
    open: bool,
    focus: bool,
    query: String,
    /// The query the hits answer, and the hits.
    hits: Option<(String, Vec<MessageView>)>,
    /// The message to show: its id and `seq`, and when it was picked.
    target: Option<(String, i64, Instant)>,
    /// The list has been scrolled to the target.
    scrolled: bool,
}

impl ChatSearch {
    /// Ctrl+F: opens the bar (or puts the cursor back in its field).
    pub fn keys(&mut self, ui: &egui::Ui) {
        if ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::F)) {
            self.open = true;
            self.focus = true;
        }
    }

    /// Whether the bar is up (Esc closes it first).
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Closes the bar and forgets the search.
    pub fn close(&mut self) -> bool {
        let was = self.open;
        *self = Self::default();
        was
    }

    /// The hits came.
    pub fn found(&mut self, query: String, hits: Vec<MessageView>) {
        if self.open {
            self.hits = Some((query, hits));
        }
    }

    /// The bar and the hits, above the messages.
    pub fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx, conv: &str) {
        if !self.open {
            return;
        }
        let mut search = false;
        ui.horizontal(|ui| {
            let label = ui.label(tr!("chat-search-label"));
            let field = ui
                .add(
                    egui::TextEdit::singleline(&mut self.query)
                        .hint_text(tr!("chat-search-hint"))
                        .desired_width(ui.available_width() - 140.0),
                )
                .labelled_by(label.id);
            if std::mem::take(&mut self.focus) {
                field.request_focus();
            }
            search = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            search |= ui.button(tr!("chat-search-button")).clicked();
            if ui.button(tr!("chat-search-close")).clicked() {
                self.open = false;
            }
        });
        if !self.open {
            self.close();
            return;
        }
        if search && !self.query.trim().is_empty() {
            self.hits = None;
            ctx.send(Cmd::SearchChat { conversation: conv.to_owned(), query: self.query.clone() });
        }
        let Some((query, hits)) = &self.hits else { return };
        if hits.is_empty() {
            ui.label(tr!("chat-search-none", query = query.as_str()));
            return;
        }
        ui.label(tr!("chat-search-count", n = hits.len()));
        let today = civil_day(ctx.now_ms());
        let names = ctx.names(conv);
        let mut pick = None;
        egui::ScrollArea::vertical().id_salt("search-hits").max_height(160.0).show(ui, |ui| {
            for m in hits {
                let who = names.get(&m.sender).cloned().unwrap_or_default();
                let said = crate::screens::chats::preview_body(m);
                let when =
                    format!("{} {}", day_label(civil_day(m.sent_at), today), clock(m.sent_at));
                let line = tr!("chat-search-hit", who = who, text = short(&said, 60), when = when);
                if ui.selectable_label(false, line).clicked() {
                    pick = Some((m.id.clone(), m.seq));
                }
            }
        });
        if let Some((id, seq)) = pick {
            self.target = Some((id, seq, Instant::now()));
            self.scrolled = false;
        }
    }

    /// The message to scroll to now (until it has been) and the one to
    /// outline; asks for older pages while the target is not loaded.
    pub fn target(&mut self, ctx: &mut Ctx, conv: &str) -> (Option<String>, Option<String>) {
        let Some((id, seq, at)) = self.target.clone() else { return (None, None) };
        if at.elapsed() > OUTLINE && self.scrolled {
            self.target = None;
            return (None, None);
        }
        let pages = ctx.chats.entry(conv.to_owned()).or_default();
        let loaded = pages.messages.iter().any(|m| m.id == id);
        if !loaded {
            if !pages.loading_older
                && !pages.complete
                && let Some(oldest) = pages.messages.first()
                && oldest.seq > seq
            {
                pages.loading_older = true;
                let before = Some(oldest.seq);
                ctx.send(Cmd::History { conversation: conv.to_owned(), before });
            }
            return (None, None);
        }
        let scroll = (!self.scrolled).then(|| id.clone());
        self.scrolled = true;
        (scroll, Some(id))
    }
}
