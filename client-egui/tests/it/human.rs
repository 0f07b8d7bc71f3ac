//! Sizes and days as people read them: "1.3 KB", not "0.0 MiB", on a
//! file's card with an icon for its kind; "Today" above today's messages.

use crate::ui::*;

#[test]
fn a_file_shows_its_size_in_kb_and_todays_messages_say_today() {
    let dir = tempfile::tempdir().unwrap();
    let mut alice = alone_in_a_group(dir.path());
    let report = dir.path().join("rapor.txt");
    std::fs::write(&report, "kovan raporu\n".repeat(100)).unwrap();

    send(&mut alice, "notlar");
    until(&mut alice, "today's separator", |h| has(h, "Today"));
    assert!(!has_text(&alice, "1970-") && !has_text(&alice, "Yesterday"));

    click(&mut alice, "Attach, location, poll, send later");
    type_into(&mut alice, "File path", report.to_str().unwrap());
    click(&mut alice, "Attach file");
    until(&mut alice, "the file", |h| has(h, "rapor.txt"));
    until(&mut alice, "its size, 1300 bytes", |h| has_text(h, "1.3 KB"));
    assert!(has(&alice, "📝"), "a text file's card shows the text icon");
    assert!(!has_text(&alice, "MiB"), "no binary megabytes");
}
