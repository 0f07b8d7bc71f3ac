//! Polls: the form that starts one, and a poll in its bubble (a click
//! votes; its creator can close it).

use eframe::egui::{self, RichText};
use kovan_node::node::PollView;

use super::bubble::Bubble;
use crate::backend::Cmd;
use crate::widgets::field;

/// The poll form's fields.
#[derive(Debug, Default)]
pub struct PollForm {
    question: String,
    options: String,
    multiple: bool,
}

impl PollForm {
    /// The question, "Multiple choice", the options (one a line) and
    /// "Start poll".
    pub fn show(&mut self, ui: &mut egui::Ui, conv: &str, cmds: &mut Vec<Cmd>) {
        ui.horizontal(|ui| {
            let width = (ui.available_width() - 230.0).clamp(120.0, 260.0);
            field(ui, &tr!("chat-poll-question"), &mut self.question, "", width);
            ui.checkbox(&mut self.multiple, tr!("chat-multiple-choice"));
        });
        ui.horizontal(|ui| {
            let l = ui.label(tr!("chat-poll-options"));
            ui.add(
                egui::TextEdit::multiline(&mut self.options)
                    .hint_text(tr!("chat-poll-options-hint"))
                    .desired_rows(3)
                    .desired_width(260.0),
            )
            .labelled_by(l.id);
            let options: Vec<String> = self
                .options
                .lines()
                .map(|l| l.trim().to_owned())
                .filter(|l| !l.is_empty())
                .collect();
            let ok = !self.question.trim().is_empty() && options.len() >= 2;
            if ui.add_enabled(ok, egui::Button::new(tr!("chat-start-poll"))).clicked() {
                cmds.push(Cmd::PollCreate {
                    conversation: conv.to_owned(),
                    question: std::mem::take(&mut self.question).trim().to_owned(),
                    options,
                    multiple: self.multiple,
                });
                self.options.clear();
            }
        });
    }
}

/// A poll's options as buttons with their counts; a click votes.
pub fn card(ui: &mut egui::Ui, p: &PollView, mine_poll: bool) -> Option<Bubble> {
    let mut action = None;
    for (i, o) in p.options.iter().enumerate() {
        let i = i as u32;
        let chosen = p.mine.contains(&i);
        let label = format!("{} ({})", o.text, o.votes);
        if ui.add_enabled(!p.closed, egui::Button::selectable(chosen, label)).clicked() {
            let mut mine = p.mine.clone();
            if p.multiple {
                if chosen {
                    mine.retain(|c| *c != i);
                } else {
                    mine.push(i);
                    mine.sort_unstable();
                }
            } else {
                mine = if chosen { vec![] } else { vec![i] };
            }
            action = Some(Bubble::Vote(mine));
        }
    }
    if p.closed {
        ui.label(RichText::new(tr!("chat-poll-closed")).italics());
    } else if mine_poll && ui.small_button(tr!("chat-close-poll")).clicked() {
        action = Some(Bubble::ClosePoll);
    }
    action
}
