//! The window's own preferences (Settings → This window): the language
//! and theme switch at once and survive a restart; desktop notifications
//! come for what the user is not looking at (another chat, or the window
//! in the background), say as much as the user allows, and stop when
//! turned off.

use egui_kittest::Harness;
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

#[test]
fn turkish_and_the_dark_theme_are_chosen_in_settings_and_kept_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut h = window_as_saved(dir.path());
        // English to start with (the machine's locale may be anything).
        until(&mut h, "the first-run screen", |h| h.state().screen == Screen::FirstRun);
        h.state_mut().show_in(kovan_desktop::prefs::Theme::Light, kovan_desktop::i18n::Lang::En);
        create_identity(&mut h, "ayse");
        click(&mut h, "Settings");
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
