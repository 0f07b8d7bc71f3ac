//! The relay account's sessions (one per logged-in device): when each was
//! last used, and "Revoke" for the others.

use eframe::egui;

use crate::backend::{Action, Cmd};
use crate::widgets::{civil_day, clock, format_day, short};

/// "Sessions" and one line per session.
pub fn show(ui: &mut egui::Ui, sessions: &[serde_json::Value], cmds: &mut Vec<Cmd>) {
    ui.strong(tr!("settings-sessions"));
    for sess in sessions {
        let id = sess["id"].as_str().unwrap_or_default().to_owned();
        let current = sess["current"].as_bool() == Some(true);
        ui.horizontal_wrapped(|ui| {
            let device = short(sess["device_peer_id"].as_str().unwrap_or_default(), 16);
            let last = sess["last_used_at"].as_i64().unwrap_or(0);
            let (day, time) = (format_day(civil_day(last)), clock(last));
            ui.label(if current {
                tr!("settings-session-this-one", device = device, day = day, time = time)
            } else {
                tr!("settings-session", device = device, day = day, time = time)
            });
            if !current
                && ui.small_button(tr!("settings-revoke-session", id = short(&id, 8))).clicked()
            {
                cmds.push(Cmd::Act(Action::RevokeSession(id.clone())));
            }
        });
    }
}
