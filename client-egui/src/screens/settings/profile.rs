//! What others see of this account: the avatar, display name and about.

use eframe::egui;

use crate::app::Ctx;
use crate::backend::{Action, Cmd};
use crate::desktop::Pick;
use crate::widgets::{avatar, field, labelled};

/// The avatar's path as typed.
#[derive(Debug, Default)]
pub struct Profile {
    avatar_path: String,
}

impl Profile {
    /// This account's avatar, "Set avatar" from a path (typed, or from
    /// the system's file dialog), "Remove avatar".
    pub fn avatar(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx) {
        let mine = ctx.signed_in.clone().unwrap_or_default();
        if let Some(p) = ctx.desktop.picked(&Pick::Avatar) {
            self.avatar_path = p.display().to_string();
        }
        ui.horizontal_wrapped(|ui| {
            let yours = tr!("settings-your-avatar");
            avatar(ui, ctx.avatars.get(&mine).and_then(Option::as_ref), &yours);
            field(ui, &tr!("settings-avatar-image"), &mut self.avatar_path, "", 160.0);
            if ui.button(tr!("settings-choose-image")).clicked() {
                ctx.desktop.pick_file(Pick::Avatar);
            }
            let path = self.avatar_path.trim().to_owned();
            let set = egui::Button::new(tr!("settings-set-avatar"));
            if ui.add_enabled(!path.is_empty(), set).clicked() {
                self.avatar_path.clear();
                ctx.avatars.remove(&mine);
                ctx.send(Cmd::Act(Action::SetAvatar(Some(path.into()))));
            }
            if ui.small_button(tr!("settings-remove-avatar")).clicked() {
                ctx.avatars.remove(&mine);
                ctx.send(Cmd::Act(Action::SetAvatar(None)));
            }
        });
    }
}

/// "Display name" and "About"; a field saves when it loses focus.
pub fn names(
    ui: &mut egui::Ui,
    settings: &mut serde_json::Value,
    patch: &mut serde_json::Map<String, serde_json::Value>,
) {
    for (key, label) in
        [("display_name", tr!("settings-display-name")), ("about", tr!("settings-about"))]
    {
        let mut v = settings[key].as_str().unwrap_or_default().to_owned();
        let r = labelled(ui, &label, &mut v, false);
        settings[key] = v.clone().into();
        if r.lost_focus() {
            patch.insert(key.into(), v.into());
        }
    }
}
