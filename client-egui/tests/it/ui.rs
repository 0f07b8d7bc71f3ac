//! What the UI tests share: a relay, clients, people signed up and
//! befriended, and steps by accessible label.

use std::path::Path;
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use kovan_desktop::app::{App, Screen};
use kovan_desktop::backend::BackendConfig;
use kovan_desktop::i18n::Lang;
use kovan_node::clock::Clock;
use kovan_relay::{Relay, RelayConfig};

/// Generous for a debug build on two cores (Argon2id, MLS, a relay).
pub(crate) const WAIT: Duration = Duration::from_secs(90);

/// Every test identity's passphrase.
pub(crate) const PASSPHRASE: &str = "correct horse battery";

/// Every test relay account's password.
pub(crate) const PASSWORD: &str = "a long password";

/// A client's window.
pub(crate) type Client = Harness<'static, App>;

/// A relay on loopback with its own runtime, shut down when dropped.
pub(crate) struct TestRelay {
    relay: Option<Relay>,
    /// Its runtime (for calls the test makes itself).
    pub(crate) rt: tokio::runtime::Runtime,
    /// Its base URL.
    pub(crate) url: String,
}

impl TestRelay {
    pub(crate) fn start(dir: &Path) -> Self {
        Self::start_with(dir, |_| {})
    }

    /// A relay whose configuration `tweak` adjusts first.
    pub(crate) fn start_with(dir: &Path, tweak: impl FnOnce(&mut RelayConfig)) -> Self {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let mut config = RelayConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: Some(dir.join("relay")),
            ..Default::default()
        };
        tweak(&mut config);
        std::fs::create_dir_all(dir.join("relay")).unwrap();
        let relay = rt.block_on(Relay::start(config)).unwrap();
        let url = relay.url();
        Self { relay: Some(relay), rt, url }
    }
}

impl Drop for TestRelay {
    fn drop(&mut self) {
        if let Some(r) = self.relay.take() {
            self.rt.block_on(r.shutdown(Duration::from_secs(5)));
        }
    }
}

/// How a test client is configured: its home under `dir`, loopback only.
pub(crate) fn config(dir: &Path, name: &str, relay: Option<&str>) -> BackendConfig {
    BackendConfig {
        home: dir.join(name),
        relay: relay.map(str::to_owned),
        loopback: true,
        clock: Clock::System,
        test_camera: true,
    }
}

/// The window around an app.
pub(crate) fn window(app: App) -> Client {
    Harness::builder()
        // Tall enough that a whole test conversation is on screen (widgets
        // scrolled out of view are not in the accessibility tree).
        .with_size(egui::vec2(1100.0, 2400.0))
        .wgpu()
        .build_ui_state(
            |ui, app: &mut App| app.ui(ui),
            app.language(Lang::En).record_notifications().record_desktop(),
        )
}

pub(crate) fn client(dir: &Path, name: &str, relay: &str) -> Client {
    client_with(dir, name, relay, Clock::System)
}

/// A client whose node follows `clock` (message times, schedules).
pub(crate) fn client_with(dir: &Path, name: &str, relay: &str, clock: Clock) -> Client {
    window(App::new(BackendConfig { clock, ..config(dir, name, Some(relay)) }))
}

/// Alice and Bob, each with a window, on one relay.
pub(crate) struct Two {
    pub(crate) alice: Client,
    pub(crate) bob: Client,
    /// Shut down after the clients.
    pub(crate) relay: TestRelay,
    /// Their homes and the relay's data; removed last.
    pub(crate) dir: tempfile::TempDir,
}

/// Alice and Bob, signed up on a fresh relay.
pub(crate) fn two_signed_up() -> Two {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path());
    let mut alice = client(dir.path(), "alice", &relay.url);
    let mut bob = client(dir.path(), "bob", &relay.url);
    sign_up(&mut alice, "alice");
    sign_up(&mut bob, "bob");
    Two { alice, bob, relay, dir }
}

/// Alice alone, without a relay, with a group of her own open.
pub(crate) fn alone_in_a_group(dir: &Path) -> Client {
    let mut alice = window(App::new(config(dir, "alice", None)));
    create_identity(&mut alice, "alice");
    click(&mut alice, "Chats");
    type_into(&mut alice, "New group", "notes");
    click(&mut alice, "Create group");
    click(&mut alice, "notes");
    until(&mut alice, "the composer", |h| has(h, "Message"));
    alice
}

/// Alice and Bob, signed up and friends (both on their People tab).
pub(crate) fn two_friends() -> Two {
    let mut t = two_signed_up();
    befriend(&mut t.alice, &mut t.bob);
    t
}

/// Alice finds Bob in the relay's directory and asks; Bob sees it.
pub(crate) fn ask_bob(alice: &mut Client, bob: &mut Client) {
    type_into(alice, "Search people", "bob");
    click(alice, "Search");
    click(alice, "Add bob");
    until(alice, "the request shown as sent", |h| has(h, "bob: request sent"));
    until(bob, "a request", |h| has(h, "People (1)"));
}

/// Alice asks Bob to be friends; he accepts.
pub(crate) fn befriend(alice: &mut Client, bob: &mut Client) {
    ask_bob(alice, bob);
    click(bob, "Accept alice");
    until(alice, "the friendship", |h| !has(h, "bob: request sent") && has(h, "bob"));
}

/// Alice seals their open chat with `password`; both see it locked.
pub(crate) fn seal(alice: &mut Client, bob: &mut Client, password: &str) {
    click(alice, "Seal with a password");
    type_into(alice, "New chat password", password);
    click(alice, "Seal chat");
    until(alice, "sealed", |h| has(h, "Lock chat"));
    until(bob, "bob's side locked", |h| has(h, "Unlock chat"));
}

/// Both open their chat with each other (Bob's is titled by Alice's
/// name and username).
pub(crate) fn open_chats(t: &mut Two) {
    click(&mut t.alice, "Chats");
    click(&mut t.alice, "bob");
    click(&mut t.bob, "Chats");
    click(&mut t.bob, "alice (@alice)");
}

/// Alice makes a group, opens it and invites Bob.
pub(crate) fn invite_bob(t: &mut Two, name: &str) {
    click(&mut t.alice, "Chats");
    type_into(&mut t.alice, "New group", name);
    click(&mut t.alice, "Create group");
    click(&mut t.alice, name);
    click(&mut t.alice, "Invite bob");
    click(&mut t.bob, "Chats");
}

/// Alice makes a group, invites Bob, he joins; both have it open.
pub(crate) fn group_with_bob(t: &mut Two, name: &str) {
    invite_bob(t, name);
    click(&mut t.bob, &format!("Join {name}"));
    until(&mut t.alice, "bob in the group", |h| members_include(h, "bob"));
    click(&mut t.bob, name);
    until(&mut t.bob, "the group open", |h| members_include(h, "alice"));
}

/// Whether the open group's member line names `who`.
pub(crate) fn members_include(h: &Client, who: &str) -> bool {
    let by = egui_kittest::kittest::By::new()
        .label_contains("Members:")
        .predicate(move |n| n.value().is_some_and(|l| l.contains(who)));
    h.query_all(by).next().is_some()
}

/// Steps the UI until `check` holds; the node works in the background.
#[track_caller]
pub(crate) fn until(h: &mut Client, what: &str, check: impl Fn(&Client) -> bool) {
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

/// Keeps the window going for `how_long` (for a command whose effect
/// nothing on screen shows).
pub(crate) fn pause(h: &mut Client, how_long: Duration) {
    let start = Instant::now();
    while start.elapsed() < how_long {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// With `KOVAN_SCREENSHOTS=DIR` (see `scripts/screenshots`), writes what
/// the window shows at a normal size as `DIR/NAME.png`.
pub(crate) fn shot(h: &mut Client, name: &str) {
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

pub(crate) fn has(h: &Client, label: &str) -> bool {
    h.query_all_by_label(label).next().is_some()
}

pub(crate) fn has_text(h: &Client, part: &str) -> bool {
    h.query_all_by_label_contains(part).next().is_some()
}

/// Whether an error shown to the user says `part`.
pub(crate) fn error_says(h: &Client, part: &str) -> bool {
    h.state().errors().iter().any(|e| e.contains(part)) && has_text(h, part)
}

/// Clicks the first widget with this label (a message can show in the
/// chat and in the list's preview).
pub(crate) fn click(h: &mut Client, label: &str) {
    until(h, label, |h| has(h, label));
    // A panel that just grew or opened (the extras, the members, a
    // collapsing section still animating) moves what is below it: aim
    // once the widget stayed put for three frames.
    let at = |h: &Client| h.query_all_by_label(label).next().map(|n| n.rect());
    let (mut last, mut still) = (at(h), 0);
    for _ in 0..100 {
        h.step();
        let now = at(h);
        still = if now == last { still + 1 } else { 0 };
        if still == 3 {
            break;
        }
        last = now;
        std::thread::sleep(Duration::from_millis(10));
    }
    if let Some(n) = h.query_all_by_label(label).next() {
        n.click();
    }
    settle_click(h);
}

/// Whether the checkbox or radio button with this label shows as on.
fn is_on(h: &Client, label: &str) -> bool {
    h.query_all_by_label(label)
        .next()
        .is_some_and(|n| n.accesskit_node().toggled() == Some(egui::accesskit::Toggled::True))
}

/// Turns a checkbox or radio button on or off and waits until it shows
/// so: a switch whose state comes back from the node shows the change once
/// it is saved. A click that a late-loading row above moved off its
/// target is tried again.
pub(crate) fn switch(h: &mut Client, label: &str, on: bool) {
    for _ in 0..3 {
        until(h, label, |h| has(h, label));
        if is_on(h, label) == on {
            return;
        }
        click(h, label);
        let start = Instant::now();
        while start.elapsed() < WAIT / 3 {
            h.step();
            if is_on(h, label) == on {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    panic!(
        "{label} did not turn {}; errors shown: {:?}",
        if on { "on" } else { "off" },
        h.state().errors()
    );
}

/// Clicks a destructive action's button, then Confirm in the question
/// that follows.
pub(crate) fn click_confirmed(h: &mut Client, label: &str) {
    click(h, label);
    until(h, "the question", |h| has_text(h, "?") && has(h, "Confirm"));
    click(h, "Confirm");
    until(h, "the question gone", |h| !has(h, "Confirm"));
}

/// Clicks the first widget whose label contains `part`.
pub(crate) fn click_containing(h: &mut Client, part: &str) {
    until(h, part, |h| has_text(h, part));
    if let Some(n) = h.query_all_by_label_contains(part).next() {
        n.click();
    }
    settle_click(h);
}

/// Clicks land by position: let the layout settle (a click can open or
/// close something above the next widget).
fn settle_click(h: &mut Client) {
    h.step();
    h.step();
}

/// A small PNG photo at `path` (64×48, a gradient).
pub(crate) fn image_png(path: &Path) {
    let mut png = Vec::new();
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 128]));
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    std::fs::write(path, png).unwrap();
}

/// Opens the first message's "…" menu (after letting the window catch up:
/// what arrived meanwhile may have moved it).
pub(crate) fn first_menu(h: &mut Client) {
    open_menu(h, false);
}

/// Opens the newest message's "…" menu.
pub(crate) fn last_menu(h: &mut Client) {
    open_menu(h, true);
}

fn open_menu(h: &mut Client, last: bool) {
    for _ in 0..3 {
        h.step();
    }
    until(h, "a message menu", |h| has(h, "…"));
    let menus = h.query_all_by_label("…");
    let menu = if last { menus.last() } else { menus.into_iter().next() };
    menu.unwrap().click();
    h.step();
    h.step();
}

pub(crate) fn type_into(h: &mut Client, field: &str, text: &str) {
    until(h, field, |h| has(h, field));
    let node = h.get_by_label(field);
    node.focus();
    node.type_text(text);
    // A multi-line field lays its text out again over the next frames:
    // what follows it settles before the next click is aimed.
    for _ in 0..3 {
        h.step();
    }
}

/// Replaces what a field holds with `text` (select all, then type).
pub(crate) fn retype(h: &mut Client, field: &str, text: &str) {
    until(h, field, |h| has(h, field));
    h.get_by_label(field).focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    h.get_by_label(field).type_text(text);
    h.step();
}

/// Types a message in the open chat and sends it.
pub(crate) fn send(h: &mut Client, text: &str) {
    type_into(h, "Message", text);
    click(h, "Send");
}

/// First run: an identity, then the main window.
pub(crate) fn create_identity(h: &mut Client, name: &str) {
    until(h, "the first-run screen", |h| h.state().screen == Screen::FirstRun);
    type_into(h, "Device name", name);
    type_into(h, "Passphrase", PASSPHRASE);
    assert!(has_text(h, "Strong"), "the strength hint shows");
    type_into(h, "Repeat passphrase", PASSPHRASE);
    click(h, "Create identity");
    until(h, "the main window", |h| h.state().screen == Screen::Main);
}

/// First run: an identity, then a relay account.
pub(crate) fn sign_up(h: &mut Client, name: &str) {
    create_identity(h, name);
    click(h, "People");
    type_into(h, "Username", name);
    type_into(h, "Password", PASSWORD);
    click(h, "Sign up");
    until(h, "signed in", |h| has_text(h, &format!("signed in as {name}")));
}

/// A window on an existing home (after a restart), unlocked.
pub(crate) fn reopen(dir: &Path, name: &str, relay: &str) -> Client {
    let mut h = client(dir, name, relay);
    until(&mut h, "the lock screen", |h| h.state().screen == Screen::Unlock);
    unlock(&mut h);
    h
}

/// Unlocks from the lock screen and waits for the main window.
pub(crate) fn unlock(h: &mut Client) {
    type_into(h, "Passphrase", PASSPHRASE);
    click(h, "Unlock");
    until(h, "the main window", |h| h.state().screen == Screen::Main);
}
