//! Spreading messages (X7, the Spreads tab): whether this node takes part,
//! starting one, and the spreads this node holds — who wrote each, how
//! many hops it came and who passed it on. What the list shows counts as
//! seen: from then on the node passes it on to the friends who take part.

use std::collections::HashSet;

use eframe::egui::{self, RichText};
use kovan_node::{SpreadSettings, SpreadView};

use crate::app::Ctx;
use crate::backend::{Cmd, SpreadCmd};
use crate::widgets::{civil_day, clock, format_day};

/// The longest text a spread carries, in bytes (SPEC.md §6.11).
const MAX_TEXT: usize = 4096;

/// The tab's state.
pub struct Spreads {
    list: Vec<SpreadView>,
    settings: Option<SpreadSettings>,
    text: String,
    hops: u8,
    /// Spreads this window told the node the user saw.
    told: HashSet<String>,
    /// The list was asked for since the window was unlocked.
    asked: bool,
}

impl Default for Spreads {
    fn default() -> Self {
        Self {
            list: Vec::new(),
            settings: None,
            text: String::new(),
            hops: 3,
            told: HashSet::new(),
            asked: false,
        }
    }
}

/// How the node names a spread: `author:id`.
fn key(s: &SpreadView) -> String {
    format!("{}:{}", s.author, s.id)
}

impl Spreads {
    /// Asks the node for the list and settings.
    pub fn load(&mut self, ctx: &mut Ctx) {
        self.asked = true;
        ctx.send(Cmd::Spread(SpreadCmd::Load));
    }

    /// The list and settings as the node has them now.
    pub fn loaded(&mut self, list: Vec<SpreadView>, settings: SpreadSettings) {
        self.list = list;
        self.settings = Some(settings);
    }

    /// Whether this node takes part, and which friends do, changed.
    pub fn settings(&mut self, settings: SpreadSettings) {
        self.settings = Some(settings);
    }

    /// A spread arrived or changed.
    pub fn event(&mut self, s: SpreadView) {
        match self.list.iter().position(|x| key(x) == key(&s)) {
            Some(i) => self.list[i] = s,
            None => self.list.insert(0, s),
        }
    }

    /// Whether the tab already holds this spread (a new one is notified).
    pub fn knows(&self, s: &SpreadView) -> bool {
        self.list.iter().any(|x| key(x) == key(s))
    }

    /// Spreads the user has not seen yet (the tab's count).
    pub fn unseen(&self) -> usize {
        self.list.iter().filter(|s| !s.seen && !s.mine && s.retracted_at.is_none()).count()
    }

    /// Everything shown is dropped (the window locked).
    pub fn forget(&mut self) {
        *self = Self::default();
    }

    /// Draws the tab.
    pub fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx) {
        if !self.asked {
            self.load(ctx);
        }
        let mut cmds = Vec::new();
        let mut on = self.settings.as_ref().is_some_and(|s| s.enabled);
        if ui.checkbox(&mut on, tr!("spreads-take-part")).changed() {
            cmds.push(SpreadCmd::TakePart(on));
        }
        ui.label(RichText::new(tr!("spreads-explain")).small().weak());
        if let Some(s) = &self.settings {
            ui.label(tr!("spreads-friends", n = s.friends.len()));
        }
        ui.separator();
        let l = ui.label(tr!("spreads-compose"));
        ui.add(
            egui::TextEdit::multiline(&mut self.text)
                .hint_text(tr!("spreads-compose-hint"))
                .desired_rows(2)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(l.id);
        ui.horizontal(|ui| {
            ui.add(egui::Slider::new(&mut self.hops, 1..=8).text(tr!("spreads-hops")));
            let text = self.text.trim();
            let ready = !text.is_empty() && text.len() <= MAX_TEXT;
            if ui.add_enabled(ready, egui::Button::new(tr!("spreads-send"))).clicked() {
                cmds.push(SpreadCmd::Start { text: text.to_owned(), hops: self.hops });
                self.text.clear();
            }
        });
        ui.separator();
        if self.list.is_empty() {
            ui.label(tr!("spreads-none"));
        }
        let mut seen = Vec::new();
        egui::ScrollArea::vertical().auto_shrink(false).show(ui, |ui| {
            for s in &self.list {
                if let Some(c) = item(ui, s) {
                    cmds.push(c);
                }
                if !s.seen && !s.mine && self.told.insert(key(s)) {
                    seen.push(key(s));
                }
            }
        });
        if !seen.is_empty() {
            cmds.push(SpreadCmd::Seen(seen));
        }
        for c in cmds {
            ctx.send(Cmd::Spread(c));
        }
    }
}

/// One spread: who wrote it, how far it came and from whom, its text (or
/// that it was taken back), when; and for the author, taking it back.
fn item(ui: &mut egui::Ui, s: &SpreadView) -> Option<SpreadCmd> {
    let mut cmd = None;
    ui.group(|ui| {
        ui.set_width(ui.available_width());
        let head = if s.mine {
            tr!("spreads-by-you", limit = s.hop_limit, n = s.passed_to)
        } else {
            tr!("spreads-by", name = s.author_name.clone(), hop = s.hop, limit = s.hop_limit)
        };
        ui.label(RichText::new(head).strong());
        if let Some(from) = &s.from_name {
            ui.label(RichText::new(tr!("spreads-from", name = from.clone())).small());
        }
        if s.retracted_at.is_some() {
            ui.label(RichText::new(tr!("spreads-taken-back")).italics());
        } else {
            ui.label(&s.text);
        }
        ui.horizontal(|ui| {
            let when = format!("{} {}", format_day(civil_day(s.created_at)), clock(s.created_at));
            ui.label(RichText::new(when).small().weak());
            if s.mine
                && s.retracted_at.is_none()
                && ui.small_button(tr!("spreads-retract")).clicked()
            {
                cmd = Some(SpreadCmd::Retract(key(s)));
            }
        });
    });
    cmd
}
