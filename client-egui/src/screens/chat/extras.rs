//! The first part of the composer's "Attach, location, poll, send later"
//! section: the location form, a file or image by path, the poll form
//! (the schedule form follows them).

use eframe::egui;

use super::location::LocationForm;
use super::poll::PollForm;
use crate::backend::Cmd;
use crate::widgets::field;

/// The section's forms.
#[derive(Debug, Default)]
pub struct Extras {
    /// Share a place.
    pub location: LocationForm,
    attach_path: String,
    poll: PollForm,
}

impl Extras {
    /// Share a place, attach a file or image, start a poll.
    pub fn show(&mut self, ui: &mut egui::Ui, conv: &str, cmds: &mut Vec<Cmd>) {
        self.location.show(ui, conv, cmds);
        ui.horizontal(|ui| {
            field(ui, &tr!("chat-file-path"), &mut self.attach_path, "", 260.0);
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
    }
}
