//! Snapshot tests of the screens that look the same on every run, rendered
//! with wgpu (a software Vulkan adapter in CI) and egui's bundled fonts.
//! `UPDATE_SNAPSHOTS=1 cargo test -p kovan-desktop` rewrites them after an
//! intended change; the images live in `client-egui/tests/snapshots/`.

use std::path::Path;
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use kovan_desktop::app::{App, Screen};
use kovan_desktop::backend::BackendConfig;
use kovan_desktop::i18n::Lang;
use kovan_desktop::prefs::Theme;

/// Snapshots what is on screen as `name` (English, dark), then in the
/// other three looks: `name_light`, `name_tr`, `name_tr_light`; leaves
/// the window as it was.
fn looks(h: &mut Harness<'static, App>, name: &str) {
    for (suffix, theme, lang) in [
        ("", Theme::Dark, Lang::En),
        ("_light", Theme::Light, Lang::En),
        ("_tr", Theme::Dark, Lang::Tr),
        ("_tr_light", Theme::Light, Lang::Tr),
    ] {
        h.state_mut().show_in(theme, lang);
        for _ in 0..4 {
            h.step();
        }
        h.snapshot(format!("{name}{suffix}"));
    }
    h.state_mut().show_in(Theme::Dark, Lang::En);
    h.step();
}

fn app(home: &Path) -> Harness<'static, App> {
    let config = BackendConfig { home: home.to_owned(), loopback: true, ..Default::default() };
    Harness::builder().with_size(egui::vec2(900.0, 600.0)).wgpu().build_ui_state(
        |ui, app: &mut App| app.ui(ui),
        App::new(config).language(Lang::En).theme(Theme::Dark),
    )
}

fn until(
    h: &mut Harness<'static, App>,
    what: &str,
    check: impl Fn(&Harness<'static, App>) -> bool,
) {
    let start = Instant::now();
    while !check(h) {
        assert!(start.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let animations settle before the picture.
    for _ in 0..10 {
        h.step();
    }
}

#[test]
fn first_run_unlock_and_people_screens_look_as_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = app(&dir.path().join("ayse"));
    until(&mut h, "the first-run screen", |h| h.state().screen == Screen::FirstRun);
    h.get_by_label("Device name").focus();
    h.get_by_label("Device name").type_text("dizüstü");
    until(&mut h, "the name typed", |h| h.query_all_by_value("dizüstü").next().is_some());
    looks(&mut h, "first_run");

    let passphrase = "correct horse battery";
    h.get_by_label("Passphrase").focus();
    h.get_by_label("Passphrase").type_text(passphrase);
    h.step();
    h.get_by_label("Repeat passphrase").focus();
    h.get_by_label("Repeat passphrase").type_text(passphrase);
    h.step();
    h.get_by_label("Create identity").click();
    until(&mut h, "the main window", |h| h.state().screen == Screen::Main);
    h.get_by_label("People").click();
    until(&mut h, "the people tab", |h| h.query_by_label("Sign up").is_some());
    looks(&mut h, "people_signed_out");

    h.get_by_label("Lock").click();
    until(&mut h, "the lock screen", |h| h.state().screen == Screen::Unlock);
    looks(&mut h, "unlock");
}

/// A chat between two real clients with their clocks fixed, so the
/// times and day separators are the same on every run: colour emoji,
/// a reply, a reaction, delivery ticks.
#[test]
fn a_chat_with_colour_emoji_a_reply_and_a_reaction_looks_as_recorded() {
    use crate::ui::{
        self, TestRelay, befriend, click, client_with, first_menu, has, has_text, send,
    };
    use kovan_node::clock::{Clock, ManualClock};

    // Times in UTC wherever the test runs (no other test looks at them).
    kovan_desktop::widgets::set_time_zone(Some(jiff::tz::TimeZone::UTC));
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path());
    // 2026-12-01 09:41 UTC, which the node's clock makes today.
    let clock = Clock::Manual(ManualClock::new(1_796_118_060_000));
    let mut alice = client_with(dir.path(), "alice", &relay.url, clock.clone());
    let mut bob = client_with(dir.path(), "bob", &relay.url, clock);
    ui::sign_up(&mut alice, "alice");
    ui::sign_up(&mut bob, "bob");
    befriend(&mut alice, &mut bob);

    click(&mut alice, "Chats");
    click(&mut alice, "bob");
    send(&mut alice, "Günaydın ☀️ kahve? :coffee:");
    ui::until(&mut bob, "an unread chat", |h| has(h, "Chats (1)"));
    click(&mut bob, "Chats (1)");
    click(&mut bob, "alice (@alice) (1)");
    ui::until(&mut bob, "her message", |h| has(h, "Günaydın ☀️ kahve? ☕"));
    first_menu(&mut bob);
    click(&mut bob, "❤");
    send(&mut bob, "Olur 🎉🇹🇷");
    ui::until(&mut alice, "his answer", |h| has(h, "Olur 🎉🇹🇷"));
    ui::until(&mut alice, "the reaction", |h| has(h, "❤ 1"));
    ui::until(&mut alice, "her message seen", |h| has_text(h, "seen"));
    // His answer is read in the open chat: no unread count left (under
    // load the count can still show for a few frames).
    ui::until(&mut alice, "his answer read", |h| has(h, "Chats") && !has(h, "Chats (1)"));

    // No focus (a blinking cursor) and no pointer (hover colours).
    alice.key_press(egui::Key::Escape);
    alice.event(egui::Event::PointerGone);
    alice.set_size(egui::vec2(900.0, 600.0));
    until(&mut alice, "the window at its size", |_| true);
    looks(&mut alice, "chat");
    drop((alice, bob, relay));
}
