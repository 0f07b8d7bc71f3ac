//! Typing indicators: what one types shows on the other's chat title line
//! until the message comes; turned off in Settings, nothing shows.

use crate::ui::*;

#[test]
fn typing_shows_until_the_message_comes_and_not_when_turned_off() {
    let mut t = two_friends();
    open_chats(&mut t);
    let Two { alice, bob, .. } = &mut t;
    type_into(alice, "Message", "geliyorum");
    until(bob, "her typing", |h| has(h, "alice is typing…"));
    click(alice, "Send");
    until(bob, "her message", |h| has(h, "geliyorum"));
    assert!(!has_text(bob, "is typing…"), "typing stayed after the message");

    // Off on Bob's side: her typing no longer shows to him.
    click(bob, "Settings");
    switch(bob, "Typing indicators (send mine, show others')", false);
    // The tab may read "Chats (1)" while her last message is being marked read.
    click_containing(bob, "Chats");
    pause(bob, std::time::Duration::from_millis(500));
    type_into(alice, "Message", "bir şey daha");
    pause(bob, std::time::Duration::from_secs(2));
    assert!(!has_text(bob, "is typing…"), "shown while off");
}
