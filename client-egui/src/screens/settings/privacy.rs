//! Who can find and reach this account: discoverability, read receipts,
//! who may send friend requests.

use eframe::egui;

/// The friend-request policies and how they are put.
const POLICIES: [(&str, &str); 3] =
    [("everyone", "Everyone"), ("link", "Only people with my invite link"), ("nobody", "Nobody")];

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
    ui.label("Who can ask to be your friend");
    let cur = settings["friend_policy"].as_str().unwrap_or("everyone").to_owned();
    for (p, words) in POLICIES {
        if ui.radio(cur == p, words).clicked() && cur != p {
            patch.insert("friend_policy".into(), p.into());
            settings["friend_policy"] = p.into();
        }
    }
}
