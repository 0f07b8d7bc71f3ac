//! Message info (I1): who has one of your messages and who read it.

use crate::ui::*;

#[test]
fn message_info_says_who_has_a_message_and_who_read_it() {
    let mut t = two_friends();
    open_chats(&mut t);
    let Two { alice, bob, .. } = &mut t;

    send(alice, "okudun mu");
    until(bob, "her message", |h| has(h, "okudun mu"));
    until(alice, "her message seen", |h| has_text(h, "seen"));
    first_menu(alice);
    click(alice, "Message info");
    until(alice, "bob's receipt", |h| has(h, "Message info") && has_text(h, "Read "));
    assert!(has_text(alice, "delivered "), "the delivery time shows too");
    click(alice, "Close info");
    until(alice, "the window closed", |h| !has_text(h, "Read "));
}
