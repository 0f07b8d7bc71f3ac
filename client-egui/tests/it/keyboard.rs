//! The keyboard: Esc closes the image viewer, the message-info window and
//! the emoji pickers; Alt+Up and Alt+Down move between chats; Ctrl+F
//! searches the chat and jumps to a hit; Ctrl+K switches chats by name;
//! Ctrl+N starts a search for people.

use eframe::egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;

use crate::ui::*;

fn esc(h: &mut Client) {
    h.key_press(Key::Escape);
    h.step();
}

#[test]
fn esc_closes_the_image_viewer_message_info_and_emoji_pickers() {
    let dir = tempfile::tempdir().unwrap();
    let mut alice = alone_in_a_group(dir.path());
    let photo = dir.path().join("deniz.png");
    image_png(&photo);
    let a = &mut alice;

    // The image viewer.
    click(a, "Attach, location, poll, send later");
    type_into(a, "File path", photo.to_str().unwrap());
    click(a, "Attach image");
    click(a, "Attach, location, poll, send later");
    click(a, "Open deniz.png");
    until(a, "the viewer", |h| has(h, "Close image"));
    esc(a);
    until(a, "the viewer closed", |h| !has(h, "Close image"));

    // The message-info window.
    send(a, "okundu mu");
    first_menu(a);
    click(a, "Message info");
    until(a, "the info window", |h| has(h, "Close info"));
    esc(a);
    until(a, "the info window closed", |h| !has(h, "Close info"));

    // The reaction picker.
    first_menu(a);
    click(a, "More reactions…");
    until(a, "the reaction picker", |h| has(h, "Find emoji"));
    esc(a);
    until(a, "the reaction picker closed", |h| !has(h, "Find emoji"));

    // The composer's emoji picker.
    click(a, "Emoji");
    until(a, "the emoji picker", |h| has(h, "Find emoji"));
    esc(a);
    until(a, "the emoji picker closed", |h| !has(h, "Find emoji"));
    assert!(a.state().errors().is_empty(), "{:?}", a.state().errors());
}

#[test]
fn alt_up_and_alt_down_move_between_chats() {
    let dir = tempfile::tempdir().unwrap();
    let mut alice = alone_in_a_group(dir.path());
    let a = &mut alice;
    type_into(a, "New group", "work");
    click(a, "Create group");
    until(a, "two chats", |h| h.state().conversation_count() == 2);
    let first = a.state().open_title().map(str::to_owned);
    assert_eq!(first.as_deref(), Some("notes"));

    // Down from one end, up from the other; past either end stays put.
    let here = |h: &Client| h.state().open_title().map(str::to_owned);
    let order = a.state().conversation_titles();
    let at = order.iter().position(|t| t == "notes").unwrap();
    let (key, other) =
        if at == 0 { (Key::ArrowDown, Key::ArrowUp) } else { (Key::ArrowUp, Key::ArrowDown) };
    a.key_press_modifiers(Modifiers::ALT, key);
    until(a, "the other chat", |h| here(h).as_deref() == Some("work"));
    a.key_press_modifiers(Modifiers::ALT, key);
    a.step();
    assert_eq!(here(a).as_deref(), Some("work"), "past the end, the chat stays");
    a.key_press_modifiers(Modifiers::ALT, other);
    until(a, "back to the first", |h| here(h).as_deref() == Some("notes"));
}

#[test]
fn ctrl_f_finds_a_message_pages_back_and_jumps_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut alice = alone_in_a_group(dir.path());
    let a = &mut alice;
    send(a, "İlk mesaj: elma");
    // More than a page (50) after it.
    for i in 0..55 {
        send(a, &format!("dolgu {i}"));
    }
    until(a, "the last one", |h| has(h, "dolgu 54"));
    // Locked and unlocked: only the newest page is loaded again.
    click(a, "Lock");
    until(a, "the lock screen", |h| h.state().screen == kovan_desktop::app::Screen::Unlock);
    unlock(a);
    until(a, "the newest page", |h| has(h, "dolgu 54"));
    assert!(!has(a, "İlk mesaj: elma"), "the first message is pages back");

    a.key_press_modifiers(Modifiers::COMMAND, Key::F);
    a.step();
    type_into(a, "Search in chat", "ELMA");
    click(a, "Find");
    until(a, "one hit", |h| has(h, "1 message"));
    click_containing(a, "You: İlk mesaj: elma ·");
    until(a, "the message jumped to", |h| has(h, "İlk mesaj: elma"));

    // Nothing found says so; Esc closes the bar.
    retype(a, "Search in chat", "armut");
    click(a, "Find");
    until(a, "no hit", |h| has(h, "No message here says “armut”."));
    esc(a);
    until(a, "the bar closed", |h| !has(h, "Search in chat"));
}

#[test]
fn ctrl_k_switches_chats_by_name_and_ctrl_n_starts_a_search_for_people() {
    let dir = tempfile::tempdir().unwrap();
    let mut alice = alone_in_a_group(dir.path());
    let a = &mut alice;
    type_into(a, "New group", "Aile");
    click(a, "Create group");
    until(a, "both groups", |h| h.state().conversation_count() == 2);
    assert_eq!(a.state().open_title(), Some("notes"));

    a.key_press_modifiers(Modifiers::COMMAND, Key::K);
    a.step();
    type_into(a, "Chat name", "aİl");
    a.key_press(Key::Enter);
    until(a, "the family chat", |h| h.state().open_title() == Some("Aile"));
    assert!(!has(a, "Chat name"), "the switcher closed");

    // ↓ then Enter picks the second match; Esc closes without a pick.
    a.key_press_modifiers(Modifiers::COMMAND, Key::K);
    a.step();
    until(a, "the switcher", |h| has(h, "Chat name"));
    a.key_press(Key::ArrowDown);
    a.key_press(Key::Enter);
    until(a, "the other chat", |h| h.state().open_title() == Some("notes"));
    a.key_press_modifiers(Modifiers::COMMAND, Key::K);
    a.step();
    until(a, "the switcher", |h| has(h, "Chat name"));
    esc(a);
    until(a, "closed", |h| !has(h, "Chat name"));
    assert_eq!(a.state().open_title(), Some("notes"));

    // Ctrl+N: the People tab, typing goes into its search.
    a.key_press_modifiers(Modifiers::COMMAND, Key::N);
    a.step();
    a.step();
    a.event(eframe::egui::Event::Text("ayşe".into()));
    a.step();
    until(a, "the typed name in the search", |h| h.query_all_by_value("ayşe").next().is_some());
    assert!(has(a, "Search people"));
}
