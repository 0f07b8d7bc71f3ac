//! Who can find and reach this account: discoverability, read receipts,
//! who may send friend requests.

use eframe::egui;

/// The friend-request policies and how they are put.
fn policies() -> [(&'static str, String); 3] {
    [
        ("everyone", tr!("settings-policy-everyone")),
        ("link", tr!("settings-policy-link")),
        ("nobody", tr!("settings-policy-nobody")),
    ]
}

/// The switches; a change saves at once.
pub fn show(
    ui: &mut egui::Ui,
    settings: &mut serde_json::Value,
    patch: &mut serde_json::Map<String, serde_json::Value>,
) {
    for (key, label) in [
        ("discoverable", tr!("settings-discoverable")),
        ("read_receipts", tr!("settings-read-receipts")),
    ] {
        let mut on = settings[key].as_bool().unwrap_or(true);
        if ui.checkbox(&mut on, label).changed() {
            patch.insert(key.into(), on.into());
        }
        settings[key] = on.into();
    }
    ui.label(tr!("settings-friend-policy"));
    let cur = settings["friend_policy"].as_str().unwrap_or("everyone").to_owned();
    for (p, words) in policies() {
        if ui.radio(cur == p, words).clicked() && cur != p {
            patch.insert("friend_policy".into(), p.into());
            settings["friend_policy"] = p.into();
        }
    }
}
