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

fn app(home: &Path) -> Harness<'static, App> {
    let config = BackendConfig { home: home.to_owned(), relay: None, loopback: true };
    Harness::builder()
        .with_size(egui::vec2(900.0, 600.0))
        .wgpu()
        .build_ui_state(|ui, app: &mut App| app.ui(ui), App::new(config))
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
    h.snapshot("first_run");

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
    h.snapshot("people_signed_out");

    h.get_by_label("Lock").click();
    until(&mut h, "the lock screen", |h| h.state().screen == Screen::Unlock);
    h.snapshot("unlock");
}
