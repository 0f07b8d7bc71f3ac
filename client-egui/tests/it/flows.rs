//! Two people sign up, find each other, become friends, chat both ways and
//! react — all through the window.

use std::path::Path;
use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::{By, Queryable};
use kovan_desktop::app::{App, Screen};
use kovan_desktop::backend::BackendConfig;
use kovan_relay::{Relay, RelayConfig};

/// Generous for a debug build on two cores (Argon2id, MLS, a relay).
const WAIT: Duration = Duration::from_secs(90);

fn relay(rt: &tokio::runtime::Runtime, dir: &Path) -> Relay {
    let config = RelayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: Some(dir.join("relay")),
        ..Default::default()
    };
    std::fs::create_dir_all(dir.join("relay")).unwrap();
    rt.block_on(Relay::start(config)).unwrap()
}

fn client(dir: &Path, name: &str, relay: &str) -> Harness<'static, App> {
    let config =
        BackendConfig { home: dir.join(name), relay: Some(relay.to_owned()), loopback: true };
    Harness::builder()
        // Tall enough that a whole test conversation is on screen (widgets
        // scrolled out of view are not in the accessibility tree).
        .with_size(egui::vec2(1100.0, 2400.0))
        .wgpu()
        .build_ui_state(|ui, app: &mut App| app.ui(ui), App::new(config))
}

/// Steps the UI until `check` holds; the node works in the background.
#[track_caller]
fn until(
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
        assert!(
            start.elapsed() < WAIT,
            "timed out waiting for {what}; errors shown: {:?}",
            h.state().errors()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// With `KOVAN_SCREENSHOTS=DIR` (see `scripts/screenshots`), writes what
/// the window shows at a normal size as `DIR/NAME.png`.
fn shot(h: &mut Harness<'static, App>, name: &str) {
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

fn has(h: &Harness<'static, App>, label: &str) -> bool {
    h.query_all_by_label(label).next().is_some()
}

fn has_text(h: &Harness<'static, App>, part: &str) -> bool {
    h.query_all_by_label_contains(part).next().is_some()
}

/// Clicks the first widget with this label (a message can show in the
/// chat and in the list's preview).
fn click(h: &mut Harness<'static, App>, label: &str) {
    until(h, label, |h| has(h, label));
    if let Some(n) = h.query_all_by_label(label).next() {
        n.click();
    }
    h.step();
}

fn type_into(h: &mut Harness<'static, App>, field: &str, text: &str) {
    until(h, field, |h| has(h, field));
    let node = h.get_by_label(field);
    node.focus();
    node.type_text(text);
    h.step();
}

/// First run: an identity, then a relay account.
fn sign_up(h: &mut Harness<'static, App>, name: &str) {
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

/// A small PNG photo.
fn image_png(path: &Path) {
    let mut png = Vec::new();
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 128]));
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    std::fs::write(path, png).unwrap();
}

/// Files Bob's node has saved.
fn bob_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let inbox = dir.join("bob").join("files").join("in");
    std::fs::read_dir(inbox)
        .map(|d| {
            d.flatten()
                .flat_map(|e| std::fs::read_dir(e.path()).into_iter().flatten().flatten())
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn two_people_sign_up_befriend_chat_both_ways_react_share_vote_schedule_and_group() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let relay = relay(&rt, dir.path());
    let url = relay.url();
    let mut alice = client(dir.path(), "alice", &url);
    let mut bob = client(dir.path(), "bob", &url);
    sign_up(&mut alice, "alice");
    sign_up(&mut bob, "bob");

    // Alice finds Bob in the relay's directory and asks.
    type_into(&mut alice, "Search people", "bob");
    click(&mut alice, "Search");
    click(&mut alice, "Add bob");
    until(&mut alice, "the request shown as sent", |h| has(h, "bob: request sent"));

    // Bob sees the request on his People tab and accepts.
    until(&mut bob, "a request", |h| has(h, "People (1)"));
    click(&mut bob, "Accept alice");
    until(&mut alice, "the friendship", |h| !has(h, "bob: request sent") && has(h, "bob"));

    // Alice writes; :shortcodes: become emoji.
    click(&mut alice, "Chats");
    click(&mut alice, "bob");
    type_into(&mut alice, "Message", "merhaba :wave:");
    click(&mut alice, "Send");
    until(&mut alice, "her own message", |h| has(h, "merhaba 👋"));

    // Bob sees it unread, opens it, answers.
    until(&mut bob, "an unread chat", |h| has(h, "Chats (1)"));
    click(&mut bob, "Chats (1)");
    click(&mut bob, "alice (1)");
    until(&mut bob, "alice's message", |h| has(h, "merhaba 👋"));
    type_into(&mut bob, "Message", "selam");
    click(&mut bob, "Send");
    until(&mut alice, "bob's answer", |h| has(h, "selam"));
    until(&mut alice, "her message delivered", |h| has_text(h, "✔✔"));

    // Bob reacts to Alice's message; she sees the count.
    until(&mut bob, "a menu per message", |h| h.query_all_by_label("…").count() >= 2);
    bob.query_all_by_label("…").next().unwrap().click();
    bob.step();
    click(&mut bob, "👍");
    until(&mut alice, "the reaction", |h| has(h, "👍 1"));

    // A file and an image from Alice's chat with Bob; he sees both arrive.
    let report = dir.path().join("rapor.txt");
    std::fs::write(&report, "kovan raporu\n".repeat(100)).unwrap();
    let photo = dir.path().join("deniz.png");
    image_png(&photo);
    click(&mut alice, "Attach, poll, send later");
    type_into(&mut alice, "File path", report.to_str().unwrap());
    click(&mut alice, "Attach file");
    type_into(&mut alice, "File path", photo.to_str().unwrap());
    click(&mut alice, "Attach image");
    until(&mut bob, "the file", |h| has_text(h, "[file rapor.txt]"));
    until(&mut bob, "the image", |h| has_text(h, "[image deniz.png]"));
    until(&mut bob, "both saved", |h| h.query_all_by_label_contains("saved").count() >= 2);
    let got = bob_files(dir.path());
    assert!(got.iter().any(|p| p.ends_with("rapor.txt")), "{got:?}");

    // A poll: Bob votes, Alice sees the count, then closes it.
    type_into(&mut alice, "Poll question", "Çay mı kahve mi?");
    type_into(&mut alice, "Poll options", "çay\nkahve");
    click(&mut alice, "Start poll");
    until(&mut bob, "the poll", |h| has(h, "çay (0)"));
    click(&mut bob, "çay (0)");
    until(&mut alice, "bob's vote", |h| has(h, "çay (1)"));
    click(&mut alice, "Close poll");
    until(&mut bob, "the poll closed", |h| has(h, "Poll closed"));
    shot(&mut bob, "chat");
    shot(&mut alice, "chat-sender");

    // A message for later: listed as scheduled, then cancelled.
    type_into(&mut alice, "Message", "yarın görüşürüz");
    type_into(&mut alice, "Send at", "+2h");
    click(&mut alice, "Schedule");
    until(&mut alice, "the scheduled message", |h| has_text(h, ": yarın görüşürüz"));
    click(&mut alice, "Cancel scheduled");
    until(&mut alice, "it is gone", |h| !has_text(h, ": yarın görüşürüz"));

    // Alice edits her first message, then deletes it for everyone.
    until(&mut alice, "her menus", |h| has(h, "…"));
    alice.query_all_by_label("…").next().unwrap().click();
    alice.step();
    click(&mut alice, "Edit");
    type_into(&mut alice, "Message", " dünya");
    click(&mut alice, "Save edit");
    until(&mut alice, "the edit on her side", |h| has(h, "merhaba 👋 dünya"));
    until(&mut bob, "the edit", |h| has(h, "merhaba 👋 dünya"));
    alice.query_all_by_label("…").next().unwrap().click();
    alice.step();
    click(&mut alice, "Delete for everyone");
    until(&mut bob, "the deletion", |h| has(h, "(deleted)") && !has(h, "merhaba 👋 dünya"));

    // A group: Alice creates it and invites Bob, who joins; both write.
    click(&mut alice, "Chats");
    type_into(&mut alice, "New group", "Ekip");
    click(&mut alice, "Create group");
    click(&mut alice, "Ekip");
    click(&mut alice, "Invite bob");
    until(&mut bob, "the invitation", |h| has(h, "Join Ekip"));
    click(&mut bob, "Join Ekip");
    until(&mut alice, "bob in the group", |h| {
        let by = By::new()
            .label_contains("Members:")
            .predicate(|n| n.value().is_some_and(|l| l.contains("bob")));
        h.query_all(by).next().is_some()
    });
    click(&mut bob, "Ekip");
    type_into(&mut bob, "Message", "ekipteyim");
    click(&mut bob, "Send");
    until(&mut alice, "bob's group message", |h| has(h, "ekipteyim"));
    shot(&mut alice, "group");
    click(&mut alice, "bob");

    // Safety number, compared and marked verified.
    click(&mut alice, "People");
    click(&mut alice, "Safety number for bob");
    click(&mut alice, "Mark bob verified");
    until(&mut alice, "the verified mark", |h| has(h, "bob ✔ verified"));
    shot(&mut alice, "people");

    // Settings: this session listed; a new display name saved on the relay.
    click(&mut alice, "Settings");
    until(&mut alice, "the sessions", |h| has_text(h, "(this one)"));
    shot(&mut alice, "settings");
    click(&mut alice, "Chats");

    // Locking returns to the passphrase screen; unlocking brings the chat back.
    click(&mut alice, "Lock");
    until(&mut alice, "the lock screen", |h| h.state().screen == Screen::Unlock);
    shot(&mut alice, "unlock");
    type_into(&mut alice, "Passphrase", "correct horse battery");
    click(&mut alice, "Unlock");
    until(&mut alice, "the main window again", |h| h.state().screen == Screen::Main);
    click(&mut alice, "bob");
    until(&mut alice, "the history", |h| has(h, "selam") && has(h, "(deleted)"));

    // Bob switches from the group back to his chat with Alice.
    click(&mut bob, "Chats");
    let chat = By::new().label("alice").predicate(|n| n.role() == egui::accesskit::Role::Button);
    bob.query_all(chat).next().unwrap().click();
    bob.step();
    until(&mut bob, "the chat with alice", |h| has(h, "selam"));

    // A wrong passphrase is said in plain words.
    click(&mut alice, "Lock");
    until(&mut alice, "the lock screen", |h| h.state().screen == Screen::Unlock);
    type_into(&mut alice, "Passphrase", "not it");
    click(&mut alice, "Unlock");
    until(&mut alice, "the error", |h| has_text(h, "Error unlocking"));
    assert_eq!(alice.state().screen, Screen::Unlock);
    drop((alice, bob));
    rt.block_on(relay.shutdown(Duration::from_secs(5)));
}
