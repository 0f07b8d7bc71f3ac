//! Polls: the form that starts one, and a poll in its bubble (a click
//! votes; its creator can close it). A verifiable poll takes one signed
//! ballot, and its bubble says whether its tally holds and why; a sealed
//! one shows no choice before the close, and then who has not revealed;
//! an anonymous one says who has registered, lets its creator open voting,
//! and never shows who chose what.

use eframe::egui::{self, RichText};
use kovan_node::node::{PollCheckView, PollView};

use super::bubble::Bubble;
use crate::backend::Cmd;
use crate::widgets::field;

/// The poll form's fields.
#[derive(Debug, Default)]
pub struct PollForm {
    question: String,
    options: String,
    multiple: bool,
    verifiable: bool,
    sealed: bool,
    anonymous: bool,
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
        // The kinds of verifiable poll, on a line of their own.
        ui.horizontal_wrapped(|ui| {
            ui.checkbox(&mut self.verifiable, tr!("chat-verifiable-poll"))
                .on_hover_text(tr!("chat-verifiable-poll-hint"));
            if ui
                .checkbox(&mut self.sealed, tr!("chat-sealed-poll"))
                .on_hover_text(tr!("chat-sealed-poll-hint"))
                .changed()
            {
                self.anonymous &= !self.sealed;
            }
            if ui
                .checkbox(&mut self.anonymous, tr!("chat-anonymous-poll"))
                .on_hover_text(tr!("chat-anonymous-poll-hint"))
                .changed()
            {
                self.sealed &= !self.anonymous;
            }
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
                    verifiable: self.verifiable,
                    sealed: self.sealed,
                    anonymous: self.anonymous,
                });
                self.options.clear();
            }
        });
    }
}

/// A poll's options as buttons with their counts; a click votes.
pub fn card(ui: &mut egui::Ui, p: &PollView, mine_poll: bool) -> Option<Bubble> {
    if let Some(check) = &p.verifiable {
        return verifiable_card(ui, p, check, mine_poll);
    }
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
    closing(ui, p, mine_poll, &mut action);
    action
}

fn closing(ui: &mut egui::Ui, p: &PollView, mine_poll: bool, action: &mut Option<Bubble>) {
    if p.closed {
        ui.label(RichText::new(tr!("chat-poll-closed")).italics());
    } else if mine_poll && ui.small_button(tr!("chat-close-poll")).clicked() {
        *action = Some(Bubble::ClosePoll);
    }
}

/// A verifiable poll: one ballot, cast once (a multiple-choice one is
/// ticked first, then cast), with a badge that says whether the tally
/// holds and details of what was checked.
fn verifiable_card(
    ui: &mut egui::Ui,
    p: &PollView,
    check: &PollCheckView,
    mine_poll: bool,
) -> Option<Bubble> {
    let mut action = None;
    let voted = !p.mine.is_empty() || check.anonymous.as_ref().is_some_and(|a| a.voted);
    let open = !p.closed && !voted && check.can_vote;
    let picked_id = ui.id().with("verifiable-poll-pick");
    let mut picked: Vec<u32> = ui.data(|d| d.get_temp(picked_id)).unwrap_or_default();
    for (i, o) in p.options.iter().enumerate() {
        let i = i as u32;
        let chosen = p.mine.contains(&i) || picked.contains(&i);
        let label = format!("{} ({})", o.text, o.votes);
        if ui.add_enabled(open, egui::Button::selectable(chosen, label)).clicked() {
            if !p.multiple {
                action = Some(Bubble::Vote(vec![i]));
            } else if chosen {
                picked.retain(|c| *c != i);
            } else {
                picked.push(i);
                picked.sort_unstable();
            }
        }
    }
    if p.multiple
        && open
        && ui.add_enabled(!picked.is_empty(), egui::Button::new(tr!("chat-cast-ballot"))).clicked()
    {
        action = Some(Bubble::Vote(std::mem::take(&mut picked)));
    }
    ui.data_mut(|d| d.insert_temp(picked_id, picked));
    let fails = ["dropped", "altered", "bad_close", "bad_ring", "left_out", "not_received"];
    let holds = !check.findings.iter().any(|f| fails.contains(&f.finding));
    let (badge, color) = if check.verified {
        (tr!("chat-poll-verified"), ui.visuals().widgets.active.bg_fill)
    } else if holds && check.eligibility == "unchecked" {
        (tr!("chat-poll-not-checked"), ui.visuals().warn_fg_color)
    } else {
        (tr!("chat-poll-does-not-hold"), ui.visuals().error_fg_color)
    };
    ui.label(RichText::new(badge).color(color).strong());
    if let Some(a) = &check.anonymous {
        match a.ring {
            None => {
                ui.label(tr!(
                    "chat-poll-anonymous-registering",
                    registered = a.registered,
                    eligible = check.eligible
                ));
                if mine_poll
                    && !p.closed
                    && ui
                        .small_button(tr!("chat-poll-open-voting"))
                        .on_hover_text(tr!("chat-poll-open-voting-hint"))
                        .clicked()
                {
                    action = Some(Bubble::OpenVoting);
                }
            }
            Some(ring) => {
                ui.label(tr!("chat-poll-anonymous-ring", ring = ring));
                if a.unconfirmed > 0 && !p.closed {
                    ui.label(
                        RichText::new(tr!("chat-poll-ring-unconfirmed", count = a.unconfirmed))
                            .color(ui.visuals().warn_fg_color),
                    );
                }
            }
        }
    }
    if check.sealed {
        ui.label(if p.closed {
            tr!("chat-poll-sealed-revealed", hidden = check.not_revealed)
        } else {
            tr!("chat-poll-sealed-until-close", counted = p.voters)
        });
    }
    ui.collapsing(tr!("chat-poll-check-details"), |ui| {
        ui.label(tr!("chat-poll-eligible", counted = p.voters, eligible = check.eligible));
        ui.label(match check.eligibility {
            "checked" => tr!("chat-poll-eligibility-checked"),
            "failed" => tr!("chat-poll-eligibility-failed"),
            _ => tr!("chat-poll-eligibility-unchecked"),
        });
        match &check.anonymous {
            Some(a) if a.ring.is_some() && !a.in_ring => {
                ui.label(tr!("chat-poll-not-in-ring"));
            }
            Some(_) => {}
            None if !check.can_vote => {
                ui.label(tr!("chat-poll-not-eligible"));
            }
            None => {}
        }
        for f in &check.findings {
            let who = f.account.get(..12).unwrap_or(&f.account).to_owned();
            let text = match f.finding {
                "bad_signature" => tr!("chat-poll-finding-bad-signature", who = who),
                "not_eligible" => tr!("chat-poll-finding-not-eligible", who = who),
                "unfit" => tr!("chat-poll-finding-unfit", who = who),
                "double_vote" => tr!("chat-poll-finding-double-vote", who = who),
                "dropped" => tr!("chat-poll-finding-dropped", who = who),
                "altered" => tr!("chat-poll-finding-altered", who = who),
                "bad_ring" => tr!("chat-poll-finding-bad-ring", who = who),
                "left_out" => tr!("chat-poll-finding-left-out", who = who),
                "not_received" => tr!("chat-poll-finding-not-received", who = who),
                "registered_twice" => tr!("chat-poll-finding-registered-twice", who = who),
                _ => tr!("chat-poll-finding-bad-close", who = who),
            };
            ui.label(text);
        }
    });
    closing(ui, p, mine_poll, &mut action);
    action
}
