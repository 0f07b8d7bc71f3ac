//! Conditional messages (X4, SPEC.md §6.10): the form that seals a text
//! with a password, an area and/or members who must agree, and the sealed
//! bubble that says what it waits for, opens it, and lets a holder agree.

use std::path::PathBuf;

use eframe::egui::{self, Color32, RichText};
use kovan_node::node::{
    Agree, Area, ConditionalFileView, ConditionalView, Locks, MessageView, RelaysView, Trustees,
};

use super::bubble::Bubble;
use crate::app::Ctx;
use crate::backend::Cmd;
use crate::desktop::Pick;
use crate::widgets::{
    FileAction, civil_day, clock, field, format_day, human_size, labelled, opened_file,
};

/// A moment as the user reads it: its day and time.
fn moment(ms: i64) -> String {
    format!("{} {}", format_day(civil_day(ms)), clock(ms))
}

/// "LAT, LON" or "LAT, LON, RADIUS" as numbers.
fn numbers(s: &str) -> Vec<f64> {
    s.split(',').filter_map(|x| x.trim().parse::<f64>().ok()).collect()
}

/// The locked-message form's fields.
#[derive(Debug, Default)]
pub struct LockForm {
    text: String,
    password: String,
    area: String,
    members: String,
    needed: u8,
    /// Relays that keep the key (base URLs or "mine", by commas).
    relays: String,
    relays_needed: u8,
    /// Holders' apps release by themselves in this many hours (0: off).
    in_hours: u32,
    /// ... once the sender has been silent this many days (0: off).
    silent_days: u32,
    hint: String,
    /// A file sealed with it.
    file: Option<PathBuf>,
}

impl LockForm {
    /// The text, its password, its area ("lat, lon, radius m"), a hint and
    /// "Send locked".
    pub fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx, conv: &str, cmds: &mut Vec<Cmd>) {
        let why = Pick::Locked(conv.to_owned());
        if let Some(p) = ctx.desktop.picked(&why) {
            self.file = Some(p);
        }
        ui.horizontal_wrapped(|ui| {
            field(ui, &tr!("chat-locked-text"), &mut self.text, "", 220.0);
            let l = ui.label(tr!("chat-locked-password"));
            ui.add(
                egui::TextEdit::singleline(&mut self.password).password(true).desired_width(120.0),
            )
            .labelled_by(l.id);
        });
        ui.horizontal_wrapped(|ui| {
            field(
                ui,
                &tr!("chat-locked-area"),
                &mut self.area,
                &tr!("chat-locked-area-hint"),
                200.0,
            );
            field(ui, &tr!("chat-locked-hint"), &mut self.hint, "", 160.0);
        });
        ui.horizontal_wrapped(|ui| match &self.file {
            Some(p) => {
                let name = p.file_name().unwrap_or_default().to_string_lossy().into_owned();
                ui.label(tr!("chat-locked-file", name = name));
                if ui.small_button(tr!("chat-locked-file-remove")).clicked() {
                    self.file = None;
                }
            }
            None => {
                if ui.button(tr!("chat-locked-file-choose")).clicked() {
                    ctx.desktop.pick_file(why);
                }
            }
        });
        let relays: Vec<String> =
            self.relays.split(',').map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()).collect();
        let rn = u8::try_from(relays.len()).unwrap_or(u8::MAX);
        ui.horizontal_wrapped(|ui| {
            field(
                ui,
                &tr!("chat-locked-relays"),
                &mut self.relays,
                &tr!("chat-locked-relays-hint"),
                220.0,
            );
            if rn >= 1 {
                // A majority unless the user says otherwise.
                if self.relays_needed == 0 {
                    self.relays_needed = rn / 2 + 1;
                }
                self.relays_needed = self.relays_needed.clamp(1, rn);
                let l = ui.label(tr!("chat-locked-relays-needed"));
                ui.add(egui::DragValue::new(&mut self.relays_needed).range(1..=rn))
                    .labelled_by(l.id);
            }
        });
        ui.horizontal_wrapped(|ui| {
            field(
                ui,
                &tr!("chat-locked-members"),
                &mut self.members,
                &tr!("chat-locked-members-hint"),
                200.0,
            );
            let holders: Vec<String> = self
                .members
                .split(',')
                .map(|m| m.trim().to_owned())
                .filter(|m| !m.is_empty())
                .collect();
            let n = u8::try_from(holders.len()).unwrap_or(u8::MAX);
            if n >= 2 {
                self.needed = self.needed.clamp(2, n);
                let l = ui.label(tr!("chat-locked-members-needed"));
                ui.add(egui::DragValue::new(&mut self.needed).range(2..=n)).labelled_by(l.id);
            }
            if n >= 2 || rn >= 1 {
                let l = ui.label(tr!("chat-locked-in-hours"));
                ui.add(egui::DragValue::new(&mut self.in_hours).range(0..=24 * 366))
                    .labelled_by(l.id);
                let l = ui.label(tr!("chat-locked-silent-days"));
                ui.add(egui::DragValue::new(&mut self.silent_days).range(0..=366))
                    .labelled_by(l.id);
            }
            let now = jiff::Timestamp::now().as_millisecond();
            let release_at_ms =
                (self.in_hours > 0).then(|| now + i64::from(self.in_hours) * 3_600_000);
            let silence_ms =
                (self.silent_days > 0).then(|| u64::from(self.silent_days) * 86_400_000);
            let agree = (n >= 2).then_some(Agree {
                holders,
                threshold: self.needed,
                release_at_ms,
                silence_ms,
            });
            // Relays release only by time or silence: one of them is asked.
            let timed = release_at_ms.is_some() || silence_ms.is_some();
            let trustees = (rn >= 1).then_some(Trustees {
                relays,
                threshold: self.relays_needed,
                release_at_ms,
                silence_ms,
            });
            let area = match numbers(&self.area).as_slice() {
                [lat, lon, r] if *r >= 0.0 => {
                    Some(Area { lat: *lat, lon: *lon, radius_m: *r as u32 })
                }
                _ => None,
            };
            let password = (!self.password.is_empty()).then(|| self.password.clone());
            // Names that are not 2 to 16 would send it without them.
            let members_ok = n == 0 || (2..=16).contains(&n);
            let relays_ok = rn == 0 || ((1..=8).contains(&rn) && timed);
            let ok = (!self.text.trim().is_empty() || self.file.is_some())
                && members_ok
                && relays_ok
                && (password.is_some() || area.is_some() || agree.is_some() || trustees.is_some());
            if ui.add_enabled(ok, egui::Button::new(tr!("chat-send-locked"))).clicked() {
                cmds.push(Cmd::SendConditional {
                    conversation: conv.to_owned(),
                    text: std::mem::take(&mut self.text),
                    locks: Locks {
                        password,
                        area,
                        agree,
                        relays: trustees,
                        hint: std::mem::take(&mut self.hint),
                    },
                    file: self.file.take(),
                });
                self.password.clear();
                self.members.clear();
                self.relays.clear();
            }
        });
        ui.label(RichText::new(tr!("chat-locked-area-note")).small().weak());
        if rn >= 1 {
            ui.label(RichText::new(tr!("chat-locked-relays-note")).small().weak());
        }
    }
}

/// What a message's relays said, for its sealed bubble; a check-in button
/// for its sender while a dead man's switch runs.
fn relays_part(ui: &mut egui::Ui, r: &RelaysView, outgoing: bool) -> Option<Bubble> {
    // The sender's device asks nobody: what its recipients' got is theirs.
    if !outgoing {
        ui.label(tr!(
            "chat-locked-relays-shown",
            count = r.released,
            needed = r.threshold,
            relays = r.relays.len()
        ));
    }
    if let Some(at) = r.release_at_ms {
        ui.label(tr!("chat-locked-relays-not-before", when = moment(at)));
    }
    match r.state.as_str() {
        "cancelled" => {
            ui.label(tr!("chat-locked-relays-cancelled"));
        }
        "failed" => {
            ui.label(tr!("chat-locked-relays-failed"));
        }
        _ => {
            if let Some(at) = r.next_ask_at {
                ui.label(RichText::new(tr!("chat-locked-relays-next", when = moment(at))).small());
            }
        }
    }
    (outgoing && r.silence_ms.is_some() && ui.button(tr!("chat-check-in")).clicked())
        .then_some(Bubble::CheckIn)
}

/// A conditional message: opened, a small mark; sealed, what it waits for
/// and the fields that open it.
pub fn card(ui: &mut egui::Ui, m: &MessageView, c: &ConditionalView) -> Option<Bubble> {
    let waits: Vec<String> = c
        .waits_for
        .iter()
        .map(|w| match (*w, &c.members) {
            ("password", _) => tr!("chat-waits-password"),
            ("members", Some(m)) => {
                tr!("chat-waits-members", needed = m.threshold, holders = m.holders.len())
            }
            ("relays", _) => match &c.relays {
                Some(r) => tr!("chat-waits-relays", needed = r.threshold, relays = r.relays.len()),
                None => tr!("chat-waits-area"),
            },
            _ => tr!("chat-waits-area"),
        })
        .collect();
    let mut action = c.file.as_ref().and_then(|f| file_part(ui, f, m.outgoing));
    if c.opened {
        ui.label(RichText::new(tr!("chat-locked-opened", what = waits.join(" + "))).small().weak());
        // The sender of a dead man's switch checks in while it runs.
        let switch = c
            .members
            .as_ref()
            .filter(|x| x.silence_ms.is_some() && x.released < usize::from(x.threshold));
        if let Some(due) = switch.and_then(|x| x.due_at).filter(|_| m.outgoing) {
            ui.label(tr!("chat-locked-check-in-by", when = moment(due)));
            if ui.button(tr!("chat-check-in")).clicked() {
                return Some(Bubble::CheckIn);
            }
        } else if let Some(r) = c.relays.as_ref().filter(|_| m.outgoing) {
            return relays_part(ui, r, true).or(action);
        }
        return action;
    }
    ui.label(RichText::new(tr!("chat-locked-waits", what = waits.join(" + "))).strong());
    if !c.hint.is_empty() {
        ui.label(RichText::new(tr!("chat-locked-hint-shown", hint = c.hint.clone())).italics());
    }
    if let Some(a) = c.area {
        ui.label(tr!(
            "chat-locked-area-shown",
            lat = format!("{:.5}", a.lat),
            lon = format!("{:.5}", a.lon),
            radius = a.radius_m
        ));
        ui.label(RichText::new(tr!("chat-locked-area-note")).small().weak());
    }
    if let Some(members) = &c.members {
        let agreed: Vec<&str> =
            members.holders.iter().filter(|h| h.released).map(|h| h.name.as_str()).collect();
        ui.label(tr!(
            "chat-locked-members-shown",
            agreed = if agreed.is_empty() { "—".to_owned() } else { agreed.join(", ") },
            count = members.released,
            needed = members.threshold
        ));
        let by_themselves = members.release_at_ms.is_some() || members.silence_ms.is_some();
        if let Some(due) = members.due_at {
            ui.label(tr!("chat-locked-opens-by-itself", when = moment(due)));
        }
        if members.agreed {
            ui.label(RichText::new(tr!("chat-you-agreed")).small());
        } else if members.mine && !by_themselves && ui.button(tr!("chat-agree-to-open")).clicked() {
            action = Some(Bubble::ReleaseShare);
        }
    }
    if let Some(r) = &c.relays {
        action = relays_part(ui, r, m.outgoing).or(action);
    }
    let id = ui.id().with(("conditional-open", &m.id));
    let (mut password, mut here): (String, String) =
        ui.data(|d| d.get_temp(id)).unwrap_or_default();
    if c.waits_for.contains(&"password") {
        labelled(ui, &tr!("chat-locked-password"), &mut password, true);
    }
    if c.area.is_some() {
        labelled(ui, &tr!("chat-locked-here"), &mut here, false);
    }
    // A message that waits only for its members and relays opens by itself.
    let askable = c.waits_for.iter().any(|w| *w != "members" && *w != "relays");
    if askable && ui.button(tr!("chat-open-locked")).clicked() {
        let here_at = match numbers(&here).as_slice() {
            [lat, lon] => Some((*lat, *lon)),
            _ => None,
        };
        let typed = (!password.is_empty()).then(|| std::mem::take(&mut password));
        action = Some(Bubble::OpenConditional(typed, here_at));
    }
    ui.data_mut(|d| d.insert_temp(id, (password, here)));
    action
}

/// A conditional file: sealed with its size (and a download of its sealed
/// bytes if they were not fetched), waiting for its bytes, or opened with
/// Open, Show in folder and Save a copy.
fn file_part(ui: &mut egui::Ui, f: &ConditionalFileView, outgoing: bool) -> Option<Bubble> {
    let name = f.name.clone().unwrap_or_default();
    let size = human_size(f.size.unwrap_or(f.sealed_size));
    let mut action = None;
    ui.horizontal_wrapped(|ui| match f.state.as_str() {
        "open" => {
            ui.label(tr!("chat-locked-file-open", name = name.as_str(), size = size.as_str()));
            if let Some(path) = f.path.as_deref() {
                action = opened_file(ui, PathBuf::from(path), &name).map(Bubble::File);
            }
        }
        "failed" => {
            let why = crate::errors::node_text(f.error.as_deref().unwrap_or_default());
            ui.label(
                RichText::new(tr!("chat-locked-file-failed", name = name.as_str(), why = why))
                    .color(Color32::from_rgb(200, 60, 60)),
            );
        }
        state => {
            ui.label(match state {
                "sealed" => tr!("chat-locked-file-sealed", size = size.as_str()),
                "opening" => tr!("chat-locked-file-opening", name = name.as_str()),
                _ => tr!("chat-locked-file-waiting", name = name.as_str(), size = size.as_str()),
            });
            let fetchable = matches!(f.transfer_state.as_str(), "offered" | "failed" | "cancelled");
            if !outgoing && fetchable && ui.small_button(tr!("chat-locked-file-fetch")).clicked() {
                action = Some(Bubble::File(FileAction::Fetch(f.transfer.clone())));
            }
        }
    });
    action
}
