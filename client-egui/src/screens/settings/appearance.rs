//! This window's own preferences, at the top of Settings and usable before
//! signing in: theme, language, and desktop notifications with how much
//! they say. A change applies at once and is written to `desktop.toml`.

use eframe::egui;

use crate::app::Ctx;
use crate::i18n::Lang;
use crate::prefs::{NotifyContent, Theme};

/// Draws the section.
pub fn show(ui: &mut egui::Ui, ctx: &mut Ctx) {
    let mut p = ctx.prefs.clone();
    ui.strong(tr!("settings-appearance"));
    ui.horizontal(|ui| {
        ui.label(tr!("settings-theme"));
        for t in Theme::ALL {
            let name = match t {
                Theme::System => tr!("settings-theme-system"),
                Theme::Light => tr!("settings-theme-light"),
                Theme::Dark => tr!("settings-theme-dark"),
            };
            ui.selectable_value(&mut p.theme, t, name);
        }
    });
    ui.horizontal(|ui| {
        ui.label(tr!("settings-language"));
        ui.selectable_value(&mut p.language, None, tr!("settings-language-system"));
        for l in Lang::ALL {
            ui.selectable_value(&mut p.language, Some(l), l.native_name());
        }
    });
    ui.checkbox(&mut p.notifications, tr!("settings-notifications"));
    ui.add_enabled_ui(p.notifications, |ui| {
        for c in NotifyContent::ALL {
            let words = match c {
                NotifyContent::NameAndMessage => tr!("settings-notify-name-and-message"),
                NotifyContent::NameOnly => tr!("settings-notify-name-only"),
                NotifyContent::Nothing => tr!("settings-notify-nothing"),
            };
            ui.radio_value(&mut p.notify_content, c, words);
        }
    });
    ctx.set_prefs(p);
}
