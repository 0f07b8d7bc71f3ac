//! Two people sign up, find each other, become friends, chat both ways and
//! react — all through the window.

use std::path::Path;
use std::time::Duration;

use eframe::egui;
use egui_kittest::kittest::{By, Queryable};
use kovan_desktop::app::Screen;

use crate::ui::*;

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
    assert!(
        std::env::var_os("PULSE_SERVER").is_some(),
        "the voice-note steps need the test sound server: PULSE_SERVER=$(bash scripts/audio.sh)"
    );
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
    click(&mut bob, "alice (@alice) (1)");
    until(&mut bob, "alice's message", |h| has(h, "merhaba 👋"));
    type_into(&mut bob, "Message", "selam");
    click(&mut bob, "Send");
    until(&mut alice, "bob's answer", |h| has(h, "selam"));
    until(&mut alice, "her message delivered", |h| has_text(h, "✔✔"));

    // A :shortcode: completes with Tab; the picker finds emoji by name.
    type_into(&mut alice, "Message", "harika :thumbsu");
    until(&mut alice, "the completion", |h| has(h, "Complete :thumbsup:"));
    alice.key_press(egui::Key::Tab);
    alice.step();
    until(&mut alice, "the completed draft", |h| {
        h.query_all_by_value("harika 👍 ").next().is_some()
    });
    click(&mut alice, "Send");
    until(&mut bob, "the completed emoji", |h| has_text(h, "harika 👍"));
    click(&mut alice, "Emoji");
    type_into(&mut alice, "Find emoji", "coffee");
    click(&mut alice, "☕");
    click(&mut alice, "Emoji");
    click(&mut alice, "Send");
    until(&mut alice, "the picked emoji sent", |h| has(h, "☕"));
    until(&mut bob, "the picked emoji", |h| has(h, "☕"));

    // Bob reacts to Alice's message; she sees the count.
    until(&mut bob, "a menu per message", |h| h.query_all_by_label("…").count() >= 2);
    first_menu(&mut bob);
    click(&mut bob, "👍");
    until(&mut alice, "the reaction", |h| has(h, "👍 1"));
    // Any emoji from the full picker; the menu says who reacted.
    first_menu(&mut bob);
    click(&mut bob, "More reactions…");
    type_into(&mut bob, "Find emoji", "fire");
    click(&mut bob, "🔥");
    until(&mut alice, "the second reaction", |h| has(h, "🔥 1"));
    first_menu(&mut alice);
    until(&mut alice, "who reacted", |h| has(h, "👍 bob") && has(h, "🔥 bob"));
    alice.key_press(egui::Key::Escape);
    alice.step();

    // A voice note from the microphone (the test server's is a 440 Hz
    // tone): Bob gets it, it is that tone, and he plays it to the end.
    click(&mut alice, "Record voice note");
    until(&mut alice, "two seconds recorded", |h| has_text(h, "Recording 0:02"));
    click(&mut alice, "Stop and send");
    until(&mut alice, "the voice note sent", |h| has_text(h, "[voice voice.ogg]"));
    until(&mut bob, "the voice note", |h| has_text(h, "[voice voice.ogg]"));
    until(&mut bob, "the voice note saved", |h| has(h, "Play voice.ogg"));
    let ogg = bob_files(dir.path()).into_iter().find(|p| p.ends_with("voice.ogg")).unwrap();
    let note = kovan_node::voice::decode(std::fs::File::open(&ogg).unwrap()).unwrap();
    assert!((1900..=4000).contains(&note.duration_ms), "{} ms", note.duration_ms);
    let pitch = kovan_node::voice::tone_frequency(&note.samples[4800..]);
    assert!((pitch - 440.0).abs() < 10.0, "recorded {pitch} Hz");
    click(&mut bob, "Play voice.ogg");
    until(&mut bob, "playing", |h| has(h, "Stop playing"));
    until(&mut bob, "played to the end", |h| !has(h, "Stop playing") && has(h, "Play voice.ogg"));
    assert!(bob.state().errors().is_empty(), "{:?}", bob.state().errors());

    // A file and an image from Alice's chat with Bob; he sees both arrive.
    let report = dir.path().join("rapor.txt");
    std::fs::write(&report, "kovan raporu\n".repeat(100)).unwrap();
    let photo = dir.path().join("deniz.png");
    image_png(&photo);
    click(&mut alice, "Attach, location, poll, send later");
    type_into(&mut alice, "File path", report.to_str().unwrap());
    click(&mut alice, "Attach file");
    type_into(&mut alice, "File path", photo.to_str().unwrap());
    click(&mut alice, "Attach image");
    until(&mut bob, "the file", |h| has_text(h, "[file rapor.txt]"));
    until(&mut bob, "the image", |h| has_text(h, "[image deniz.png]"));
    until(&mut bob, "both saved", |h| h.query_all_by_label_contains("saved").count() >= 2);
    // The image full size, from the thumbnail.
    click(&mut bob, "Open deniz.png");
    until(&mut bob, "the full image", |h| has(h, "The image, full size"));
    click(&mut bob, "Close image");
    until(&mut bob, "the image closed", |h| !has(h, "The image, full size"));
    let got = bob_files(dir.path());
    assert!(got.iter().any(|p| p.ends_with("rapor.txt")), "{got:?}");

    // A live location: Bob sees the place and until when; Alice stops it.
    type_into(&mut alice, "Latitude", "41.0082");
    type_into(&mut alice, "Longitude", "28.9784");
    type_into(&mut alice, "Place name", "Sultanahmet");
    type_into(&mut alice, "Live for", "15m");
    click(&mut alice, "Share live location");
    until(&mut bob, "the location", |h| has(h, "📍 Sultanahmet") && has(h, "41.00820, 28.97840"));
    until(&mut bob, "it is live", |h| has_text(h, "Live until"));
    click(&mut alice, "Stop sharing");
    until(&mut bob, "the share stopped", |h| has(h, "Live location stopped"));

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
    click(&mut alice, "Edit scheduled");
    type_into(&mut alice, "Message", " ✨");
    click(&mut alice, "Save scheduled");
    until(&mut alice, "the edited scheduled message", |h| has_text(h, ": yarın görüşürüz ✨"));
    click(&mut alice, "Cancel scheduled");
    until(&mut alice, "it is gone", |h| !has_text(h, ": yarın görüşürüz"));

    // Alice edits her first message, then deletes it for everyone.
    until(&mut alice, "her menus", |h| has(h, "…"));
    first_menu(&mut alice);
    click(&mut alice, "Edit");
    type_into(&mut alice, "Message", " dünya");
    click(&mut alice, "Save edit");
    until(&mut alice, "the edit on her side", |h| has(h, "merhaba 👋 dünya"));
    until(&mut bob, "the edit", |h| has(h, "merhaba 👋 dünya"));
    first_menu(&mut alice);
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
    // Muting Bob hides what he writes on Alice's device only.
    click(&mut alice, "Mute bob");
    until(&mut alice, "bob muted", |h| has_text(h, "bob (muted)"));
    type_into(&mut bob, "Message", "duyulmayan");
    click(&mut bob, "Send");
    until(&mut bob, "his muted message sent", |h| has(h, "duyulmayan"));
    click(&mut alice, "Unmute bob");
    until(&mut alice, "bob unmuted", |h| !has_text(h, "bob (muted)"));
    type_into(&mut bob, "Message", "duyulan");
    click(&mut bob, "Send");
    until(&mut alice, "bob's message after unmuting", |h| has(h, "duyulan"));
    assert!(!has(&alice, "duyulmayan"), "a muted member's message stays hidden");
    click(&mut alice, "bob");

    // Safety number, compared and marked verified; Bob is online.
    click(&mut alice, "People");
    until(&mut alice, "bob online", |h| has(h, "bob online"));
    click(&mut alice, "Safety number for bob");
    click(&mut alice, "Mark bob verified");
    until(&mut alice, "the verified mark", |h| has(h, "bob ✔ verified"));
    shot(&mut alice, "people");

    // Settings: this session listed; a new display name saved on the relay.
    click(&mut alice, "Settings");
    until(&mut alice, "the sessions", |h| has_text(h, "(this one)"));
    shot(&mut alice, "settings");
    // An avatar: Bob sees it next to her name.
    type_into(&mut alice, "Avatar image", photo.to_str().unwrap());
    click(&mut alice, "Set avatar");
    until(&mut alice, "her avatar", |h| has(h, "Your avatar"));
    click(&mut bob, "People");
    until(&mut bob, "alice's avatar", |h| has(h, "alice's avatar"));
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
    let chat =
        By::new().label("alice (@alice)").predicate(|n| n.role() == egui::accesskit::Role::Button);
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
    type_into(&mut alice, "Passphrase", "correct horse battery");
    click(&mut alice, "Unlock");
    until(&mut alice, "the main window again", |h| h.state().screen == Screen::Main);

    // Another relay, set in Settings: kovan locks, and unlocks onto it.
    let dir2 = dir.path().join("second");
    std::fs::create_dir_all(&dir2).unwrap();
    let relay2 = self::relay(&rt, &dir2);
    click(&mut alice, "Settings");
    type_into(&mut alice, "Relay address", &relay2.url());
    click(&mut alice, "Use this relay");
    until(&mut alice, "the lock screen", |h| h.state().screen == Screen::Unlock);
    until(&mut alice, "the notice", |h| has_text(h, "Unlock to connect to"));
    type_into(&mut alice, "Passphrase", "correct horse battery");
    click(&mut alice, "Unlock");
    until(&mut alice, "the main window", |h| h.state().screen == Screen::Main);
    until(&mut alice, "not signed in there", |h| has(h, "not signed in to a relay"));
    click(&mut alice, "People");
    // The form keeps the last username; a new one on this relay.
    type_into(&mut alice, "Username", "2");
    type_into(&mut alice, "Password", "a long password");
    click(&mut alice, "Sign up");
    until(&mut alice, "signed in on the second relay", |h| has_text(h, "signed in as alice2"));
    let saved = std::fs::read_to_string(dir.path().join("alice").join("kovan.toml")).unwrap();
    assert!(saved.contains(&relay2.url()), "{saved}");
    drop((alice, bob));
    rt.block_on(relay.shutdown(Duration::from_secs(5)));
    rt.block_on(relay2.shutdown(Duration::from_secs(5)));
}
