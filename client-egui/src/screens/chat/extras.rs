//! The first part of the composer's "Attach, location, poll, send later"
//! section: the location form, a file or image by path, the poll form, the
//! locked-message form (the schedule form follows them). "Choose…" opens the system's file
//! dialog; what it picks fills the path.

use eframe::egui;

use super::conditional::LockForm;
use super::location::LocationForm;
use super::poll::PollForm;
use crate::app::Ctx;
use crate::backend::Cmd;
use crate::desktop::Pick;
use crate::widgets::field;

/// The section's forms.
#[derive(Debug, Default)]
pub struct Extras {
    /// Share a place.
    pub location: LocationForm,
    attach_path: String,
    poll: PollForm,
    locked: LockForm,
}

impl Extras {
    /// Share a place, attach a file or image, start a poll.
    pub fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx, conv: &str, cmds: &mut Vec<Cmd>) {
        self.location.show(ui, conv, cmds);
        let why = Pick::Attach(conv.to_owned());
        if let Some(p) = ctx.desktop.picked(&why) {
            self.attach_path = p.display().to_string();
        }
        ui.horizontal_wrapped(|ui| {
            let width = (ui.available_width() - 330.0).clamp(120.0, 260.0);
            field(ui, &tr!("chat-file-path"), &mut self.attach_path, "", width);
            if ui.button(tr!("chat-choose-file")).clicked() {
                ctx.desktop.pick_file(why);
            }
            let path = self.attach_path.trim().to_owned();
            let ok = !path.is_empty();
            if ui.add_enabled(ok, egui::Button::new(tr!("chat-attach-file"))).clicked() {
                let path = path.clone().into();
                cmds.push(Cmd::SendFile { conversation: conv.to_owned(), path, image: false });
                self.attach_path.clear();
            }
            if ui.add_enabled(ok, egui::Button::new(tr!("chat-attach-image"))).clicked() {
                let path = path.into();
                cmds.push(Cmd::SendFile { conversation: conv.to_owned(), path, image: true });
                self.attach_path.clear();
            }
        });
        self.poll.show(ui, conv, cmds);
        self.locked.show(ui, ctx, conv, cmds);
    }
}
