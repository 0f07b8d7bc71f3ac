//! The desktop around the window: the system's file dialog picks what to
//! attach; a file on this device opens in its application or shows in its
//! folder; Copy puts a message's text on the clipboard; Forward sends a
//! text or a file to another chat.

use kovan_desktop::desktop::Asked;

use egui_kittest::kittest::Queryable;

use crate::ui::*;

#[test]
fn dialogs_open_show_in_folder_copy_and_forward() {
    let dir = tempfile::tempdir().unwrap();
    let mut alice = alone_in_a_group(dir.path());
    let a = &mut alice;
    type_into(a, "New group", "Aile");
    click(a, "Create group");
    until(a, "both groups", |h| h.state().conversation_count() == 2);
    assert_eq!(a.state().open_title(), Some("notes"));

    // The file dialog's pick fills the path; it goes as an image.
    let picture = dir.path().join("kedi.png");
    image_png(&picture);
    click(a, "Attach, location, poll, send later");
    a.state_mut().answer_next_dialog(picture.clone());
    click(a, "Choose…");
    until(a, "the picked path", |h| {
        h.query_all_by_value(picture.to_str().unwrap()).next().is_some()
    });
    click(a, "Attach image");
    click(a, "Attach, location, poll, send later");
    until(a, "the image's Open", |h| has(h, "Open"));
    click(a, "Open");
    click(a, "Show in folder");
    until(a, "both asked", |h| h.state().desktop_asked().len() == 2);
    assert_eq!(
        a.state().desktop_asked(),
        [Asked::Open(picture.clone()), Asked::Reveal(picture.clone())]
    );

    // Copy and forward a text.
    send(a, "akşam yemeği saat 8'de");
    until(a, "the text", |h| has(h, "akşam yemeği saat 8'de"));
    last_menu(a);
    click(a, "Copy text");
    let copy = Asked::Copy("akşam yemeği saat 8'de".into());
    until(a, "the copy", |h| h.state().desktop_asked().contains(&copy));
    last_menu(a);
    click(a, "Forward…");
    click(a, "Forward to Aile");
    until(a, "the family chat", |h| h.state().open_title() == Some("Aile"));
    until(a, "the forwarded text", |h| has(h, "akşam yemeği saat 8'de"));

    // The picture, forwarded from notes, arrives as an image.
    click(a, "notes");
    until(a, "notes", |h| h.state().open_title() == Some("notes"));
    first_menu(a);
    click(a, "Forward…");
    click(a, "Forward to Aile");
    until(a, "the family chat", |h| h.state().open_title() == Some("Aile"));
    until(a, "the forwarded picture", |h| has(h, "Open kedi.png"));
}
