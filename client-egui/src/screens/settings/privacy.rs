//! Who can find and reach this account: discoverability, read receipts,
//! who may send friend requests.

use eframe::egui;

/// The switches; a change saves at once.
pub fn show(
    ui: &mut egui::Ui,
    settings: &mut serde_json::Value,
    patch: &mut serde_json::Map<String, serde_json::Value>,
) {
    for (key, label) in
        [("discoverable", "Discoverable in search"), ("read_receipts", "Send read receipts")]
    {
        let mut on = settings[key].as_bool().unwrap_or(true);
        if ui.checkbox(&mut on, label).changed() {
            patch.insert(key.into(), on.into());
        }
        settings[key] = on.into();
    }
    ui.horizontal(|ui| {
        ui.label("Friend requests from");
        let cur = settings["friend_policy"].as_str().unwrap_or("everyone").to_owned();
        for p in ["everyone", "nobody"] {
            if ui.selectable_label(cur == p, p).clicked() && cur != p {
                patch.insert("friend_policy".into(), p.into());
                settings["friend_policy"] = p.into();
            }
        }
    });
}
