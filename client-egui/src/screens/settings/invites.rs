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
        ui.strong(tr!("settings-invite-links"));
        ui.label(tr!("settings-invite-links-detail"));
        let (name, optional) = (tr!("settings-invite-name"), tr!("settings-invite-name-hint"));
        field(ui, &name, &mut self.label, &optional, 160.0);
        ui.horizontal_wrapped(|ui| {
            let (uses, any) = (tr!("settings-invite-uses"), tr!("settings-invite-uses-hint"));
            field(ui, &uses, &mut self.uses, &any, 40.0);
            let expires = tr!("settings-invite-expires");
            let never = tr!("settings-invite-expires-hint");
            field(ui, &expires, &mut self.expires, &never, 80.0);
        });
        let uses = parse_uses(&self.uses);
        let expires = parse_expiry(&self.expires);
        if uses.is_none() {
            ui.label(tr!("settings-invite-uses-invalid"));
        }
        if expires.is_none() {
            ui.label(tr!("settings-invite-expires-invalid"));
        }
        let ok = uses.is_some() && expires.is_some();
        if ui.add_enabled(ok, egui::Button::new(tr!("settings-create-invite-link"))).clicked()
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
                let name =
                    if l.label.is_empty() { tr!("settings-invite-link") } else { l.label.clone() };
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new(name.as_str()).strong());
                    ui.label(state_words(l));
                });
                ui.label(RichText::new(&l.link).monospace().small());
                ui.horizontal_wrapped(|ui| {
                    if l.state == "live" {
                        let copy = tr!("settings-copy-invite", name = name.as_str());
                        if ui.small_button(copy).clicked() {
                            ui.ctx().copy_text(l.link.clone());
                        }
                        let revoke = tr!("settings-revoke-invite", name = name.as_str());
                        if ui.small_button(revoke).clicked() {
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
        Some(m) => tr!("settings-invite-used-of", used = l.used, max = m),
        None => tr!("settings-invite-used-times", used = l.used),
    };
    match l.state {
        "revoked" => tr!("settings-invite-revoked", used = used),
        "expired" => tr!("settings-invite-expired", used = used),
        "used_up" => tr!("settings-invite-used-up", used = used),
        _ => match l.expires_at {
            Some(e) => {
                let (day, time) = (format_day(civil_day(e)), clock(e));
                tr!("settings-invite-active-until", used = used, day = day, time = time)
            }
            None => tr!("settings-invite-active", used = used),
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
