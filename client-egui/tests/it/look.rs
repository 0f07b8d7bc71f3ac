//! The window's own preferences (Settings → This window): the language
//! and theme switch at once and survive a restart; the microphone chosen
//! is kept, and one no longer connected is said and replaced by the
//! default; desktop notifications
//! come for what the user is not looking at (another chat, or the window
//! in the background), say as much as the user allows, and stop when
//! turned off.

use egui_kittest::Harness;
use egui_kittest::kittest::{By, NodeT, Queryable};
use kovan_desktop::app::{App, Screen};
use kovan_desktop::notify::Notice;

use crate::ui::*;

/// A window that keeps the language and theme its home's `desktop.toml`
/// says (the other tests' windows are always English).
fn window_as_saved(dir: &std::path::Path) -> Client {
    Harness::builder()
        .with_size(eframe::egui::vec2(1100.0, 2400.0))
        .wgpu()
        .build_ui_state(|ui, app: &mut App| app.ui(ui), App::new(config(dir, "ayse", None)))
}

/// A first run's window in English (the machine's locale may be
/// anything) that has made Ayşe's identity and opened Settings.
fn new_in_settings(dir: &std::path::Path) -> Client {
    let mut h = window_as_saved(dir);
    until(&mut h, "the first-run screen", |h| h.state().screen == Screen::FirstRun);
    h.state_mut().show_in(kovan_desktop::prefs::Theme::Light, kovan_desktop::i18n::Lang::En);
    create_identity(&mut h, "ayse");
    click(&mut h, "Settings");
    h
}

#[test]
fn turkish_and_the_dark_theme_are_chosen_in_settings_and_kept_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut h = new_in_settings(dir.path());
        click(&mut h, "Dark");
        click(&mut h, "Türkçe");
        until(&mut h, "the tabs in Turkish", |h| has(h, "Sohbetler") && has(h, "Ayarlar"));
        assert!(h.ctx.theme() == eframe::egui::Theme::Dark, "the theme is dark");
        assert!(has(&h, "Kilitle"), "the Lock button is in Turkish");
    }
    let saved = std::fs::read_to_string(dir.path().join("ayse/desktop.toml")).unwrap();
    assert!(saved.contains("tr") && saved.contains("dark"), "desktop.toml: {saved}");

    let mut h = window_as_saved(dir.path());
    until(&mut h, "the lock screen", |h| h.state().screen == Screen::Unlock);
    assert!(has(&h, "Kilidi aç"), "the lock screen is in Turkish after the restart");
    type_into(&mut h, "Parola", PASSPHRASE);
    click(&mut h, "Kilidi aç");
    until(&mut h, "the main window", |h| h.state().screen == Screen::Main);
    assert!(has(&h, "Sohbetler") && h.ctx.theme() == eframe::egui::Theme::Dark);

    // Back to English, from the Turkish settings.
    click(&mut h, "Ayarlar");
    click(&mut h, "English");
    until(&mut h, "the tabs in English", |h| has(h, "Chats") && has(h, "Settings"));
}

/// The drop-down list labelled `label`.
fn list(label: &str) -> By<'_> {
    By::new().label(label).role(eframe::egui::accesskit::Role::ComboBox)
}

/// Whether the list labelled `label` shows `value`.
fn shows(h: &Client, label: &str, value: &str) -> bool {
    h.query_all(list(label)).any(|n| n.value().as_deref() == Some(value))
}

#[test]
fn a_microphone_chosen_in_settings_is_kept_and_one_unplugged_gives_way_to_the_default() {
    assert!(
        std::env::var_os("PULSE_SERVER").is_some(),
        "the devices come from the test sound server: PULSE_SERVER=$(bash scripts/audio.sh)"
    );
    let (inputs, _) = kovan_desktop::audio::device_names();
    let default = kovan_desktop::audio::default_input_name();
    let other = inputs.iter().find(|n| Some(*n) != default.as_ref()).cloned();
    let other = other.unwrap_or_else(|| panic!("a second input device among {inputs:?}"));
    let dir = tempfile::tempdir().unwrap();
    {
        let mut h = new_in_settings(dir.path());
        // Greyed until listed.
        until(&mut h, "the devices listed", |h| {
            h.query_all(list("Microphone")).any(|n| !n.accesskit_node().is_disabled())
                && has(h, "Speaker")
        });
        // The microphone's list, then a device in it.
        h.query_all(list("Microphone")).next().unwrap().click();
        h.step();
        click(&mut h, &other);
        until(&mut h, "the choice shown", |h| shows(h, "Microphone", &other));
    }
    let saved = std::fs::read_to_string(dir.path().join("ayse/desktop.toml")).unwrap();
    assert!(saved.contains(&format!("microphone = \"{other}\"")), "desktop.toml: {saved}");
    assert_eq!(kovan_desktop::audio::input_name().as_ref(), Some(&other), "what a recording opens");

    // The device is unplugged while the window is closed.
    let gone =
        saved.replace(&format!("microphone = \"{other}\""), "microphone = \"USB headset (gone)\"");
    std::fs::write(dir.path().join("ayse/desktop.toml"), gone).unwrap();
    let mut h = window_as_saved(dir.path());
    until(&mut h, "the lock screen", |h| h.state().screen == Screen::Unlock);
    type_into(&mut h, "Passphrase", PASSPHRASE);
    click(&mut h, "Unlock");
    until(&mut h, "the main window", |h| h.state().screen == Screen::Main);
    click(&mut h, "Settings");
    until(&mut h, "the missing device said", |h| {
        shows(h, "Microphone", "USB headset (gone) (not connected: the default is used)")
    });
    assert_eq!(kovan_desktop::audio::input_name(), default, "the default is opened instead");
}

fn notices(h: &Client) -> Vec<Notice> {
    h.state().notifications().to_vec()
}

#[test]
fn a_message_a_request_and_an_invitation_notify_unless_the_chat_is_open_or_they_are_off() {
    let mut t = two_signed_up();
    let Two { alice, bob, .. } = &mut t;
    ask_bob(alice, bob);
    until(bob, "the request notified", |h| {
        notices(h).iter().any(|n| n.title == "Friend request" && n.body.contains("alice"))
    });
    click(bob, "Accept alice");
    until(alice, "the friendship", |h| !has(h, "bob: request sent") && has(h, "bob"));

    // Bob is on the People tab: Alice's message is notified, with her
    // name and the text.
    click(alice, "Chats");
    click(alice, "bob");
    send(alice, "çay?");
    until(bob, "the message notified", |h| {
        notices(h).iter().any(|n| n.title.starts_with("alice") && n.body == "çay?")
    });

    // He opens the chat: what comes while he looks is not notified.
    click(bob, "Chats (1)");
    click(bob, "alice (@alice) (1)");
    until(bob, "the message", |h| has(h, "çay?"));
    let before = notices(bob).len();
    send(alice, "şimdi");
    until(bob, "the second message", |h| has(h, "şimdi"));
    pause(bob, std::time::Duration::from_millis(300));
    assert_eq!(notices(bob).len(), before, "a message in the open chat was notified");

    // Sender only, and the window in the background: notified, without
    // the words.
    click(bob, "Settings");
    click(bob, "Show the sender only");
    focus(bob, false);
    send(alice, "gizli");
    until(bob, "the third notified", |h| notices(h).len() == before + 1);
    let last = notices(bob).pop().unwrap();
    assert_eq!(last.body, "New message", "{last:?}");
    assert!(last.title.starts_with("alice"), "{last:?}");

    // Off: nothing more.
    focus(bob, true);
    click(bob, "Desktop notifications for messages, requests and invitations");
    focus(bob, false);
    send(alice, "dördüncü");
    until(bob, "the fourth message", |h| has(h, "dördüncü"));
    pause(bob, std::time::Duration::from_millis(300));
    assert_eq!(notices(bob).len(), before + 1, "notified while notifications were off");
}

/// Puts the window in the foreground or the background.
fn focus(h: &mut Client, focused: bool) {
    let root = eframe::egui::ViewportId::ROOT;
    h.input_mut().viewports.entry(root).or_default().focused = Some(focused);
    h.step();
}
