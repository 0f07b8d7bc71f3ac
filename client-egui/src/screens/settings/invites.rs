//! Invite links (A5): making one (an optional name, number of uses and
//! lifetime), copying it, the list with each link's state, revoking one.

use std::time::Duration;

use eframe::egui::{self, RichText};
use kovan_node::node::InviteView;

use crate::backend::Cmd;
use crate::widgets::{civil_day, clock, field, format_day};

/// The form and the links as last read.
#[derive(Debug, Default)]
pub struct Invites {
    label: String,
    uses: String,
    expires: String,
    /// This account's links (`None`: not read yet).
    pub links: Option<Vec<InviteView>>,
}

impl Invites {
    /// "Invite links": the form, then one line per link.
    pub fn show(&mut self, ui: &mut egui::Ui, cmds: &mut Vec<Cmd>) {
        ui.strong("Invite links");
        ui.label("Someone who has one of your links can ask to be your friend.");
        field(ui, "Link name", &mut self.label, "optional", 160.0);
        ui.horizontal_wrapped(|ui| {
            field(ui, "Uses", &mut self.uses, "any", 40.0);
            field(ui, "Expires after", &mut self.expires, "never, or 1d, 12h", 80.0);
        });
        let uses = parse_uses(&self.uses);
        let expires = parse_expiry(&self.expires);
        if uses.is_none() {
            ui.label("Uses is a whole number from 1, or empty for any.");
        }
        if expires.is_none() {
            ui.label("Expires after is a time like 30m, 12h or 7d, or empty for never.");
        }
        let ok = uses.is_some() && expires.is_some();
        if ui.add_enabled(ok, egui::Button::new("Create invite link")).clicked()
            && let (Some(max_uses), Some(expires_in_ms)) = (uses, expires)
        {
            cmds.push(Cmd::InviteCreate {
                label: std::mem::take(&mut self.label).trim().to_owned(),
                expires_in_ms,
                max_uses,
            });
            self.uses.clear();
            self.expires.clear();
        }
        let Some(links) = &self.links else {
            ui.spinner();
            return;
        };
        for l in links {
            ui.group(|ui| {
                let name = if l.label.is_empty() { "Invite link" } else { l.label.as_str() };
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new(name).strong());
                    ui.label(state_words(l));
                });
                ui.label(RichText::new(&l.link).monospace().small());
                ui.horizontal_wrapped(|ui| {
                    if l.state == "live" {
                        if ui.small_button(format!("Copy {name}")).clicked() {
                            ui.ctx().copy_text(l.link.clone());
                        }
                        if ui.small_button(format!("Revoke {name}")).clicked() {
                            cmds.push(Cmd::InviteRevoke(l.id.clone()));
                        }
                    }
                });
            });
        }
    }
}

/// "Used 1 of 5 · expires 2026-12-02 14:00", "Revoked"…
fn state_words(l: &InviteView) -> String {
    let used = match l.max_uses {
        Some(m) => format!("used {} of {m}", l.used),
        None => format!("used {} times", l.used),
    };
    match l.state {
        "revoked" => format!("Revoked · {used}"),
        "expired" => format!("Expired · {used}"),
        "used_up" => format!("Used up · {used}"),
        _ => match l.expires_at {
            Some(e) => format!("Active · {used} · until {} {}", format_day(civil_day(e)), clock(e)),
            None => format!("Active · {used}"),
        },
    }
}

/// Empty: any number (`Some(None)`); a whole number from 1; else `None`.
fn parse_uses(s: &str) -> Option<Option<u32>> {
    let s = s.trim();
    if s.is_empty() {
        return Some(None);
    }
    s.parse::<u32>().ok().filter(|n| *n >= 1).map(Some)
}

/// Empty: never (`Some(None)`); a duration of 1 minute to a year; else `None`.
fn parse_expiry(s: &str) -> Option<Option<i64>> {
    let s = s.trim();
    if s.is_empty() {
        return Some(None);
    }
    let d = humantime::parse_duration(s).ok()?;
    if d < Duration::from_secs(60) || d > Duration::from_secs(366 * 86_400) {
        return None;
    }
    i64::try_from(d.as_millis()).ok().map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_and_expiry_as_typed() {
        assert_eq!(parse_uses(""), Some(None));
        assert_eq!(parse_uses(" 3 "), Some(Some(3)));
        assert_eq!(parse_uses("0"), None);
        assert_eq!(parse_expiry(""), Some(None));
        assert_eq!(parse_expiry("1d"), Some(Some(86_400_000)));
        assert_eq!(parse_expiry("5s"), None);
    }
}
