//! Moving to another relay: the address is saved in `kovan.toml` and
//! kovan locks; unlocking connects to it.

use eframe::egui;

use crate::app::{Ctx, Nav};
use crate::backend::Cmd;
use crate::widgets::field;

/// The new relay's address as typed.
#[derive(Debug, Default)]
pub struct RelayForm {
    address: String,
}

impl RelayForm {
    /// "Relay address" and "Use this relay".
    pub fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx) {
        ui.horizontal_wrapped(|ui| {
            let label = tr!("settings-relay-address");
            field(ui, &label, &mut self.address, "https://relay.example", 200.0);
            let url = self.address.trim().to_owned();
            let ok = url.starts_with("http://") || url.starts_with("https://");
            if ui.add_enabled(ok, egui::Button::new(tr!("settings-use-this-relay"))).clicked() {
                ctx.send(Cmd::SetRelay(Some(url.clone())));
                self.address.clear();
                ctx.chats.clear();
                ctx.go(Nav::Opening);
            }
            if !url.is_empty() && !ok {
                ui.label(tr!("settings-relay-address-scheme"));
            }
        });
    }
}
