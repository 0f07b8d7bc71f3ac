//! The relay account's sessions (one per logged-in device): when each was
//! last used, and "Revoke" for the others.

use eframe::egui;

use crate::backend::{Action, Cmd};
use crate::widgets::{civil_day, clock, format_day, short};

/// "Sessions" and one line per session.
pub fn show(ui: &mut egui::Ui, sessions: &[serde_json::Value], cmds: &mut Vec<Cmd>) {
    ui.strong("Sessions");
    for sess in sessions {
        let id = sess["id"].as_str().unwrap_or_default().to_owned();
        let current = sess["current"].as_bool() == Some(true);
        ui.horizontal_wrapped(|ui| {
            let device = short(sess["device_peer_id"].as_str().unwrap_or_default(), 16);
            let last = sess["last_used_at"].as_i64().unwrap_or(0);
            ui.label(format!(
                "{device} · last used {} {}{}",
                format_day(civil_day(last)),
                clock(last),
                if current { " (this one)" } else { "" }
            ));
            if !current && ui.small_button(format!("Revoke {}", short(&id, 8))).clicked() {
                cmds.push(Cmd::Act(Action::RevokeSession(id.clone())));
            }
        });
    }
}
