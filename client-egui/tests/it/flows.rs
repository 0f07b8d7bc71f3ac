//! Two people through the window, one area a test: chatting with emoji
//! and reactions, voice notes, files and images, places, polls and
//! schedules, a group, verification and settings, locking and another
//! relay. Each test has its own relay and clients (the set-up is in
//! `ui.rs`). `scripts/screenshots` renders the documentation's pictures
//! from these tests.

use std::path::Path;

use eframe::egui;
use egui_kittest::kittest::{By, Queryable};
use kovan_desktop::app::Screen;

use crate::ui::*;

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
fn friends_chat_both_ways_with_emoji_and_reactions_edit_and_delete() {
    let mut t = two_friends();
    let Two { alice, bob, .. } = &mut t;

    // Alice writes; :shortcodes: become emoji.
    click(alice, "Chats");
    click(alice, "bob");
    send(alice, "merhaba :wave:");
    until(alice, "her own message", |h| has(h, "merhaba 👋"));

    // Bob sees it unread, opens it, answers.
    until(bob, "an unread chat", |h| has(h, "Chats (1)"));
    click(bob, "Chats (1)");
    click(bob, "alice (@alice) (1)");
    until(bob, "alice's message", |h| has(h, "merhaba 👋"));
    send(bob, "selam");
    until(alice, "bob's answer", |h| has(h, "selam"));
    until(alice, "her message delivered", |h| has_text(h, "✔✔"));

    // A :shortcode: completes with Tab; the picker finds emoji by name.
    type_into(alice, "Message", "harika :thumbsu");
    until(alice, "the completion", |h| has(h, "Complete :thumbsup:"));
    alice.key_press(egui::Key::Tab);
    alice.step();
    until(alice, "the completed draft", |h| h.query_all_by_value("harika 👍 ").next().is_some());
    click(alice, "Send");
    until(bob, "the completed emoji", |h| has_text(h, "harika 👍"));
    click(alice, "Emoji");
    type_into(alice, "Find emoji", "coffee");
    click(alice, "☕");
    click(alice, "Emoji");
    click(alice, "Send");
    until(alice, "the picked emoji sent", |h| has(h, "☕"));
    until(bob, "the picked emoji", |h| has(h, "☕"));

    // Bob reacts to Alice's message; she sees the count.
    until(bob, "a menu per message", |h| h.query_all_by_label("…").count() >= 2);
    first_menu(bob);
    click(bob, "👍");
    until(alice, "the reaction", |h| has(h, "👍 1"));
    // Any emoji from the full picker; the menu says who reacted.
    first_menu(bob);
    click(bob, "More reactions…");
    type_into(bob, "Find emoji", "fire");
    click(bob, "🔥");
    until(alice, "the second reaction", |h| has(h, "🔥 1"));
    first_menu(alice);
    until(alice, "who reacted", |h| has(h, "👍 bob") && has(h, "🔥 bob"));
    alice.key_press(egui::Key::Escape);
    alice.step();

    // Alice edits her first message, then deletes it for everyone.
    first_menu(alice);
    click(alice, "Edit");
    // The field keeps its cursor where it was: to the end first.
    alice.get_by_label("Message").focus();
    alice.key_press(egui::Key::End);
    alice.step();
    type_into(alice, "Message", " dünya");
    click(alice, "Save edit");
    until(alice, "the edit on her side", |h| has(h, "merhaba 👋 dünya"));
    until(bob, "the edit", |h| has(h, "merhaba 👋 dünya"));
    first_menu(alice);
    click_confirmed(alice, "Delete for everyone");
    until(bob, "the deletion", |h| has(h, "(deleted)") && !has(h, "merhaba 👋 dünya"));

    // Locking returns to the passphrase screen; unlocking brings the chat back.
    click(alice, "Lock");
    until(alice, "the lock screen", |h| h.state().screen == Screen::Unlock);
    unlock(alice);
    click(alice, "bob");
    until(alice, "the history", |h| has(h, "selam") && has(h, "(deleted)"));
}

#[test]
fn a_voice_note_is_recorded_sent_and_played() {
    assert!(
        std::env::var_os("PULSE_SERVER").is_some(),
        "the voice note needs the test sound server: PULSE_SERVER=$(bash scripts/audio.sh)"
    );
    let mut t = two_friends();
    open_chats(&mut t);
    let Two { alice, bob, dir, .. } = &mut t;

    // From the microphone (the test server's is a 440 Hz tone): Bob gets
    // it, it is that tone, and he plays it to the end.
    click(alice, "Record voice note");
    until(alice, "two seconds recorded", |h| has_text(h, "Recording 0:02"));
    click(alice, "Stop and send");
    until(alice, "the voice note sent", |h| has_text(h, "[voice voice.ogg]"));
    until(bob, "the voice note", |h| has_text(h, "[voice voice.ogg]"));
    until(bob, "the voice note saved", |h| has(h, "Play voice.ogg"));
    let ogg = bob_files(dir.path()).into_iter().find(|p| p.ends_with("voice.ogg")).unwrap();
    let note = kovan_node::voice::decode(std::fs::File::open(&ogg).unwrap()).unwrap();
    assert!((1900..=4000).contains(&note.duration_ms), "{} ms", note.duration_ms);
    let pitch = kovan_node::voice::tone_frequency(&note.samples[4800..]);
    assert!((pitch - 440.0).abs() < 10.0, "recorded {pitch} Hz");
    click(bob, "Play voice.ogg");
    until(bob, "playing", |h| has(h, "Stop playing"));
    until(bob, "played to the end", |h| !has(h, "Stop playing") && has(h, "Play voice.ogg"));
    assert!(bob.state().errors().is_empty(), "{:?}", bob.state().errors());
}

#[test]
fn a_file_and_an_image_arrive_and_the_image_opens_full_size() {
    let mut t = two_friends();
    open_chats(&mut t);
    let Two { alice, bob, dir, .. } = &mut t;
    let report = dir.path().join("rapor.txt");
    std::fs::write(&report, "kovan raporu\n".repeat(100)).unwrap();
    let photo = dir.path().join("deniz.png");
    image_png(&photo);

    click(alice, "Attach, location, poll, send later");
    type_into(alice, "File path", report.to_str().unwrap());
    click(alice, "Attach file");
    type_into(alice, "File path", photo.to_str().unwrap());
    click(alice, "Attach image");
    until(bob, "the file", |h| has(h, "rapor.txt"));
    until(bob, "the image", |h| has_text(h, "[image deniz.png]"));
    until(bob, "both saved", |h| h.query_all_by_label_contains("saved").count() >= 2);
    // The image full size, from the thumbnail.
    click(bob, "Open deniz.png");
    until(bob, "the full image", |h| has(h, "The image, full size"));
    // The window may still be growing around the picture.
    for _ in 0..5 {
        bob.step();
    }
    click(bob, "Close image");
    until(bob, "the image closed", |h| !has(h, "The image, full size"));
    let got = bob_files(dir.path());
    assert!(got.iter().any(|p| p.ends_with("rapor.txt")), "{got:?}");
}

#[test]
fn a_live_location_a_poll_and_a_scheduled_message() {
    let mut t = two_friends();
    open_chats(&mut t);
    let Two { alice, bob, .. } = &mut t;
    click(alice, "Attach, location, poll, send later");

    // A live location: Bob sees the place and until when; Alice stops it.
    type_into(alice, "Latitude", "41.0082");
    type_into(alice, "Longitude", "28.9784");
    type_into(alice, "Place name", "Sultanahmet");
    type_into(alice, "Live for", "15m");
    click(alice, "Share live location");
    until(bob, "the location", |h| has(h, "📍 Sultanahmet") && has(h, "41.00820, 28.97840"));
    until(bob, "it is live", |h| has_text(h, "Live until"));
    click(alice, "Stop sharing");
    until(bob, "the share stopped", |h| has(h, "Live location stopped"));

    // A poll: Bob votes, Alice sees the count, then closes it.
    type_into(alice, "Poll question", "Çay mı kahve mi?");
    type_into(alice, "Poll options", "çay\nkahve");
    click(alice, "Start poll");
    until(bob, "the poll", |h| has(h, "çay (0)"));
    click(bob, "çay (0)");
    until(alice, "bob's vote", |h| has(h, "çay (1)"));
    click(alice, "Close poll");
    until(bob, "the poll closed", |h| has(h, "Poll closed"));
    shot(bob, "chat");
    shot(alice, "chat-sender");

    // A verifiable poll: one signed ballot each, and a badge that says the
    // tally holds, with what was checked.
    type_into(alice, "Poll question", "Başkan kim olsun?");
    type_into(alice, "Poll options", "Ayşe\nMehmet");
    click(alice, "Verifiable");
    click(alice, "Start poll");
    until(bob, "the verifiable poll", |h| has(h, "Mehmet (0)") && has(h, "✔ Verified"));
    click(bob, "Mehmet (0)");
    until(alice, "bob's signed ballot", |h| has(h, "Mehmet (1)") && has(h, "✔ Verified"));
    click(bob, "What was checked");
    until(bob, "the details", |h| has_text(h, "ballot(s) counted of"));

    click(alice, "Close poll");
    until(alice, "the verifiable poll closed", |h| !has(h, "Close poll"));

    // A sealed poll: nobody sees a choice until Alice closes it.
    type_into(alice, "Poll question", "Hangi renk?");
    type_into(alice, "Poll options", "kırmızı\nmavi");
    click(alice, "Sealed until closed");
    click(alice, "Start poll");
    until(bob, "the sealed poll", |h| has(h, "mavi (0)"));
    click(bob, "mavi (0)");
    until(alice, "bob's sealed ballot", |h| has_text(h, "1 sealed ballot(s)"));
    assert!(has(alice, "mavi (0)"), "a sealed choice showed before the close");
    click(alice, "Close poll");
    until(alice, "bob's revealed choice", |h| has(h, "mavi (1)"));
    until(bob, "the tally at bob's", |h| has(h, "mavi (1)") && has_text(h, "0 not revealed"));

    // A locked message: Bob sees what it waits for, and opens it with the
    // password.
    type_into(alice, "Locked message", "kasanın şifresi 4721");
    type_into(alice, "Password", "mavi kapı");
    click(alice, "Send locked");
    until(bob, "the sealed message", |h| has_text(h, "Sealed until: a password"));
    type_into(bob, "Password", "mavi kapı");
    click(bob, "Open");
    until(bob, "the opened text", |h| has_text(h, "kasanın şifresi 4721"));

    // A message for later: listed as scheduled, edited, then cancelled.
    type_into(alice, "Message", "yarın görüşürüz");
    type_into(alice, "Send at", "+2h");
    click(alice, "Schedule");
    until(alice, "the scheduled message", |h| has_text(h, ": yarın görüşürüz"));
    click(alice, "Edit scheduled");
    type_into(alice, "Message", " ✨");
    click(alice, "Save scheduled");
    until(alice, "the edited scheduled message", |h| has_text(h, ": yarın görüşürüz ✨"));
    click(alice, "Cancel scheduled");
    until(alice, "it is gone", |h| !has_text(h, ": yarın görüşürüz"));
}

#[test]
fn an_anonymous_poll_in_a_group_of_three_counts_ballots_that_name_nobody() {
    let mut t = two_friends();
    open_chats(&mut t);
    group_with_bob(&mut t, "Apartman");
    // Carol, on a node of her own, becomes Alice's friend and joins.
    let carol = crate::communities::user(&t.relay, t.dir.path(), "carol");
    t.relay.rt.block_on(carol.friend_request("alice", "")).unwrap();
    let Two { alice, bob, relay, .. } = &mut t;
    until(alice, "carol's request", |h| has(h, "People (1)"));
    click(alice, "People (1)");
    click(alice, "Accept carol");
    click(alice, "Chats");
    click(alice, "Apartman");
    click(alice, "Invite carol");
    let invitation = relay.rt.block_on(async {
        for _ in 0..200 {
            if let Some(i) = carol.group_invitations().await.unwrap().into_iter().next() {
                return i;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no invitation for carol");
    });
    relay.rt.block_on(carol.group_answer(&invitation.id, true)).unwrap();
    until(alice, "carol in the group", |h| members_include(h, "carol"));

    // Alice starts it; every voter's node registers, and voting opens.
    click(alice, "Attach, location, poll, send later");
    type_into(alice, "Poll question", "Kapı ne renk?");
    type_into(alice, "Poll options", "kırmızı\nyeşil");
    click(alice, "Anonymous");
    click(alice, "Start poll");
    let ring = "🕶 Anonymous: ballots are counted among 3 voters and name nobody";
    until(bob, "voting open at bob's", |h| has_text(h, ring) && has(h, "yeşil (0)"));
    click(bob, "yeşil (0)");
    until(alice, "bob's ballot", |h| has(h, "yeşil (1)") && has(h, "✔ Verified"));
    let (conv, poll) = relay.rt.block_on(async {
        let groups = carol.groups().await.unwrap();
        let gid = groups.first().map(|g| g.id.clone()).unwrap();
        let page = carol.history(&gid, None, 50).await.unwrap();
        let poll = page.into_iter().find(|m| m.poll.is_some()).map(|m| m.id).unwrap();
        (gid, poll)
    });
    relay.rt.block_on(carol.poll_vote(&conv, &poll, vec![1])).unwrap();
    until(alice, "two ballots", |h| has(h, "yeşil (2)") && has(h, "✔ Verified"));
    click(alice, "Close poll");
    until(bob, "the close at bob's", |h| has(h, "Poll closed") && has(h, "yeşil (2)"));
    assert!(alice.state().errors().is_empty(), "{:?}", alice.state().errors());
    relay.rt.block_on(carol.shutdown());
}

#[test]
fn a_file_locked_with_a_password_arrives_sealed_and_opens_in_the_window() {
    let mut t = two_friends();
    open_chats(&mut t);
    let Two { alice, bob, dir, .. } = &mut t;
    let deed = dir.path().join("tapu.txt");
    let bytes = "ada 4721 parsel 88\n".repeat(50);
    std::fs::write(&deed, &bytes).unwrap();

    click(alice, "Attach, location, poll, send later");
    type_into(alice, "Password", "mavi kapı");
    alice.state_mut().answer_next_dialog(deed.clone());
    click(alice, "Seal a file with it…");
    until(alice, "the picked file", |h| has(h, "File: tapu.txt"));
    click(alice, "Send locked");
    until(alice, "her own copy", |h| has_text(h, "📎 tapu.txt ("));

    // Bob sees a sealed file, not what it is, until he gives the password.
    until(bob, "the sealed file", |h| has_text(h, "A sealed file"));
    assert!(!has_text(bob, "tapu.txt"), "the name shows before it opens");
    type_into(bob, "Password", "mavi kapı");
    click(bob, "Open");
    until(bob, "the opened file", |h| has_text(h, "📎 tapu.txt ("));
    let inbox = dir.path().join("bob").join("files").join("in");
    let opened: Vec<_> = std::fs::read_dir(inbox)
        .unwrap()
        .flatten()
        .map(|e| e.path().join("opened").join("tapu.txt"))
        .filter(|p| p.exists())
        .collect();
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!(std::fs::read_to_string(&opened[0]).unwrap(), bytes);
}

#[test]
fn a_message_left_with_a_relay_waits_for_it_and_its_sender_checks_in() {
    let mut t = two_friends();
    open_chats(&mut t);
    let Two { alice, bob, .. } = &mut t;
    click(alice, "Attach, location, poll, send later");
    type_into(alice, "Locked message", "vasiyetim");
    type_into(alice, "Relays that keep the key", "mine");
    until(alice, "how many relays", |h| has(h, "How many must release"));
    assert!(has_text(alice, "none of them sees the message"), "the relays' note");
    type_into(alice, "If I stay silent for (days)", "2");
    click(alice, "Send locked");
    until(alice, "her own copy", |h| has_text(h, "Opened (1 of 1 relays releasing)"));

    // Bob sees what it waits for, and nothing to open it with by hand.
    until(bob, "the sealed message", |h| has_text(h, "Sealed until: 1 of 1 relays releasing"));
    until(bob, "what the relays said", |h| has_text(h, "Relays that released: 0 of 1 needed"));
    assert!(!has_text(bob, "vasiyetim"), "it opened early");
    assert!(!has(bob, "Open"), "a message that waits for relays has nothing to open by hand");
    // Alice's dead man's switch: she checks in with her relay.
    click(alice, "I'm here (check in)");
    // The check-in goes to the relay from the backend: no error comes back.
    for _ in 0..40 {
        alice.step();
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(alice.state().errors().is_empty(), "{:?}", alice.state().errors());
}

#[test]
fn a_group_is_made_joined_written_in_and_a_member_muted() {
    let mut t = two_friends();
    open_chats(&mut t);
    send(&mut t.alice, "selam");
    group_with_bob(&mut t, "Ekip");
    let Two { alice, bob, .. } = &mut t;
    send(bob, "ekipteyim");
    until(alice, "bob's group message", |h| has(h, "ekipteyim"));
    shot(alice, "group");

    // Muting Bob hides what he writes on Alice's device only.
    click(alice, "Mute bob");
    until(alice, "bob muted", |h| has_text(h, "bob (muted)"));
    send(bob, "duyulmayan");
    // Delivered to Alice's device (every tick a double one) while she
    // has him muted.
    until(bob, "his muted message delivered", |h| {
        has(h, "duyulmayan")
            && !has_text(h, "🕓")
            && h.query_all_by_label_contains("✔").count()
                == h.query_all_by_label_contains("✔✔").count()
    });
    click(alice, "Unmute bob");
    until(alice, "bob unmuted", |h| !has_text(h, "bob (muted)"));
    send(bob, "duyulan");
    until(alice, "bob's message after unmuting", |h| has(h, "duyulan"));
    assert!(!has(alice, "duyulmayan"), "a muted member's message stays hidden");

    // Bob switches from the group back to his chat with Alice.
    click(bob, "Chats");
    let chat =
        By::new().label("alice (@alice)").predicate(|n| n.role() == egui::accesskit::Role::Button);
    bob.query_all(chat).next().unwrap().click();
    bob.step();
    until(bob, "the chat with alice", |h| has(h, "selam"));
}

#[test]
fn a_safety_number_is_verified_and_settings_show_sessions_and_avatar() {
    let mut t = two_friends();
    let Two { alice, bob, dir, .. } = &mut t;

    // Safety number, compared and marked verified; Bob is online.
    until(alice, "bob online", |h| has(h, "bob online"));
    click(alice, "Safety number for bob");
    until(alice, "the number and its QR code", |h| {
        has_text(h, "compare this number") && has(h, "The safety number as a QR code")
    });
    click(alice, "Mark bob verified");
    until(alice, "verified", |h| has_text(h, "You have verified bob"));
    click(alice, "Close");
    until(alice, "the verified mark", |h| has(h, "bob ✔ verified"));
    shot(alice, "people");

    // Settings: this session listed; an avatar Bob sees next to her name.
    click(alice, "Settings");
    until(alice, "the sessions", |h| has_text(h, "(this one)"));
    shot(alice, "settings");
    let photo = dir.path().join("deniz.png");
    image_png(&photo);
    type_into(alice, "Avatar image", photo.to_str().unwrap());
    click(alice, "Set avatar");
    until(alice, "her avatar", |h| has(h, "Your avatar"));
    click(bob, "People");
    until(bob, "alice's avatar", |h| has(h, "alice's avatar"));
}

#[test]
fn a_wrong_passphrase_is_refused_and_another_relay_is_used_after_unlocking() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path());
    let mut alice = client(dir.path(), "alice", &relay.url);
    sign_up(&mut alice, "alice");

    // A wrong passphrase is said in plain words.
    click(&mut alice, "Lock");
    until(&mut alice, "the lock screen", |h| h.state().screen == Screen::Unlock);
    shot(&mut alice, "unlock");
    type_into(&mut alice, "Passphrase", "not it");
    click(&mut alice, "Unlock");
    until(&mut alice, "the error", |h| has_text(h, "Error unlocking"));
    assert_eq!(alice.state().screen, Screen::Unlock);
    unlock(&mut alice);

    // Another relay, set in Settings: kovan locks, and unlocks onto it.
    let dir2 = dir.path().join("second");
    std::fs::create_dir_all(&dir2).unwrap();
    let relay2 = TestRelay::start(&dir2);
    click(&mut alice, "Settings");
    type_into(&mut alice, "Relay address", &relay2.url);
    click(&mut alice, "Use this relay");
    until(&mut alice, "the lock screen", |h| h.state().screen == Screen::Unlock);
    until(&mut alice, "the notice", |h| has_text(h, "Unlock to connect to"));
    unlock(&mut alice);
    until(&mut alice, "not signed in there", |h| has(h, "not signed in to a relay"));
    click(&mut alice, "People");
    // The form keeps the last username; a new one on this relay.
    type_into(&mut alice, "Username", "2");
    type_into(&mut alice, "Password", PASSWORD);
    click(&mut alice, "Sign up");
    until(&mut alice, "signed in on the second relay", |h| has_text(h, "signed in as alice2"));
    let saved = std::fs::read_to_string(dir.path().join("alice").join("kovan.toml")).unwrap();
    assert!(saved.contains(&relay2.url), "{saved}");
}
