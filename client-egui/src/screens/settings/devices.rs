//! Sound devices: which microphone and speaker voice notes, calls and the
//! ringer use (the system's default unless one is chosen). The list is
//! read from the sound system on a thread of its own, so the UI never
//! waits on it; "Look again" reads it anew (a headset plugged in).

use std::sync::{Arc, Mutex};

use eframe::egui;

use crate::app::Ctx;

/// The devices found, once read.
type Found = Arc<Mutex<Option<(Vec<String>, Vec<String>)>>>;

/// The section's state.
#[derive(Debug, Default)]
pub struct Devices {
    found: Found,
    asked: bool,
}

impl Devices {
    fn look(&mut self, ui: &egui::Ui) {
        self.asked = true;
        if let Ok(mut f) = self.found.lock() {
            *f = None;
        }
        let (found, repaint) = (self.found.clone(), ui.ctx().clone());
        let spawned = std::thread::Builder::new().name("kovan-devices".into()).spawn(move || {
            let names = crate::audio::device_names();
            if let Ok(mut f) = found.lock() {
                *f = Some(names);
            }
            repaint.request_repaint();
        });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "could not list the sound devices");
        }
    }

    /// Draws the section.
    pub fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx) {
        if !self.asked {
            self.look(ui);
        }
        ui.strong(tr!("settings-sound"));
        let found = self.found.lock().ok().and_then(|f| f.clone());
        // While the devices are being listed, the same rows show, greyed:
        // what is below does not move when the list comes.
        let listed = found.is_some();
        let (inputs, outputs) = found.unzip();
        let mut p = ctx.prefs.clone();
        let again = ui
            .add_enabled_ui(listed, |ui| {
                let (mic, speaker) = (tr!("settings-microphone"), tr!("settings-speaker"));
                pick(ui, "settings-microphone", mic, inputs.as_deref(), &mut p.microphone);
                pick(ui, "settings-speaker", speaker, outputs.as_deref(), &mut p.speaker);
                ui.button(tr!("settings-sound-look-again")).clicked()
            })
            .inner;
        if again {
            self.look(ui);
        }
        if listed {
            ctx.set_prefs(p);
        }
    }
}

/// One device's choice: the default, each device found, and a chosen one
/// that is not there now (kept, and marked). `names` is None while the
/// devices are being listed: the choice shows as it is.
fn pick(
    ui: &mut egui::Ui,
    id: &str,
    label: String,
    names: Option<&[String]>,
    choice: &mut Option<String>,
) {
    let default = tr!("settings-sound-default");
    let shown = match choice {
        None => default.clone(),
        Some(n) if names.is_none_or(|names| names.contains(n)) => n.clone(),
        Some(n) => tr!("settings-sound-missing", device = n.clone()),
    };
    let names = names.unwrap_or_default();
    ui.horizontal(|ui| {
        let label = ui.label(label);
        let list = egui::ComboBox::from_id_salt(id).selected_text(shown).show_ui(ui, |ui| {
            ui.selectable_value(choice, None, default);
            for n in names {
                ui.selectable_value(choice, Some(n.clone()), n);
            }
        });
        // Screen readers (and the tests) name the list by its label.
        list.response.labelled_by(label.id);
    });
}
