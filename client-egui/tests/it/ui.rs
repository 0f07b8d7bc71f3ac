//! What the UI tests share: a relay, clients, and steps by accessible label.

use std::path::Path;
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use kovan_desktop::app::{App, Screen};
use kovan_desktop::backend::BackendConfig;
use kovan_node::clock::Clock;
use kovan_relay::{Relay, RelayConfig};

/// Generous for a debug build on two cores (Argon2id, MLS, a relay).
pub(crate) const WAIT: Duration = Duration::from_secs(90);

pub(crate) fn relay(rt: &tokio::runtime::Runtime, dir: &Path) -> Relay {
    let config = RelayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: Some(dir.join("relay")),
        ..Default::default()
    };
    std::fs::create_dir_all(dir.join("relay")).unwrap();
    rt.block_on(Relay::start(config)).unwrap()
}

pub(crate) fn client(dir: &Path, name: &str, relay: &str) -> Harness<'static, App> {
    client_with(dir, name, relay, Clock::System)
}

/// A client whose node follows `clock` (message times, schedules).
pub(crate) fn client_with(
    dir: &Path,
    name: &str,
    relay: &str,
    clock: Clock,
) -> Harness<'static, App> {
    let config = BackendConfig {
        home: dir.join(name),
        relay: Some(relay.to_owned()),
        loopback: true,
        clock,
    };
    Harness::builder()
        // Tall enough that a whole test conversation is on screen (widgets
        // scrolled out of view are not in the accessibility tree).
        .with_size(egui::vec2(1100.0, 2400.0))
        .wgpu()
        .build_ui_state(|ui, app: &mut App| app.ui(ui), App::new(config))
}

/// Steps the UI until `check` holds; the node works in the background.
#[track_caller]
pub(crate) fn until(
    h: &mut Harness<'static, App>,
    what: &str,
    check: impl Fn(&Harness<'static, App>) -> bool,
) {
    let start = Instant::now();
    loop {
        h.step();
        if check(h) {
            return;
        }
        if start.elapsed() >= WAIT {
            // With KOVAN_FAILSHOT=FILE, the window as it was, for debugging.
            if let Some(path) = std::env::var_os("KOVAN_FAILSHOT")
                && let Ok(img) = h.render()
            {
                let _ = img.save(path);
            }
            panic!("timed out waiting for {what}; errors shown: {:?}", h.state().errors());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// With `KOVAN_SCREENSHOTS=DIR` (see `scripts/screenshots`), writes what
/// the window shows at a normal size as `DIR/NAME.png`.
pub(crate) fn shot(h: &mut Harness<'static, App>, name: &str) {
    let Ok(dir) = std::env::var("KOVAN_SCREENSHOTS") else { return };
    h.set_size(egui::vec2(1100.0, 720.0));
    for _ in 0..5 {
        h.step();
    }
    let img = h.render().expect("rendering needs a wgpu adapter");
    std::fs::create_dir_all(&dir).unwrap();
    img.save(Path::new(&dir).join(format!("{name}.png"))).unwrap();
    h.set_size(egui::vec2(1100.0, 2400.0));
    h.step();
}

pub(crate) fn has(h: &Harness<'static, App>, label: &str) -> bool {
    h.query_all_by_label(label).next().is_some()
}

pub(crate) fn has_text(h: &Harness<'static, App>, part: &str) -> bool {
    h.query_all_by_label_contains(part).next().is_some()
}

/// Clicks the first widget with this label (a message can show in the
/// chat and in the list's preview).
pub(crate) fn click(h: &mut Harness<'static, App>, label: &str) {
    until(h, label, |h| has(h, label));
    if let Some(n) = h.query_all_by_label(label).next() {
        n.click();
    }
    // Clicks land by position: let the layout settle (a click can open or
    // close something above the next widget).
    h.step();
    h.step();
}

/// Opens the first message's "…" menu (after letting the window catch up:
/// what arrived meanwhile may have moved it).
pub(crate) fn first_menu(h: &mut Harness<'static, App>) {
    for _ in 0..3 {
        h.step();
    }
    until(h, "a message menu", |h| has(h, "…"));
    h.query_all_by_label("…").next().unwrap().click();
    h.step();
    h.step();
}

pub(crate) fn type_into(h: &mut Harness<'static, App>, field: &str, text: &str) {
    until(h, field, |h| has(h, field));
    let node = h.get_by_label(field);
    node.focus();
    node.type_text(text);
    h.step();
}

/// First run: an identity, then a relay account.
pub(crate) fn sign_up(h: &mut Harness<'static, App>, name: &str) {
    until(h, "the first-run screen", |h| h.state().screen == Screen::FirstRun);
    type_into(h, "Device name", name);
    type_into(h, "Passphrase", "correct horse battery");
    assert!(has_text(h, "Strong"), "the strength hint shows");
    type_into(h, "Repeat passphrase", "correct horse battery");
    click(h, "Create identity");
    until(h, "the main window", |h| h.state().screen == Screen::Main);
    click(h, "People");
    type_into(h, "Username", name);
    type_into(h, "Password", "a long password");
    click(h, "Sign up");
    until(h, "signed in", |h| has_text(h, &format!("signed in as {name}")));
}
