//! Spreading messages in the desktop (X7): taking part, starting one, the
//! friend's tab counting it, notifying it and showing who wrote it and how
//! far it came, and the author taking it back.

use crate::ui::*;

#[test]
fn a_spread_is_written_notified_shown_and_taken_back() {
    let mut t = two_friends();
    let Two { alice, bob, .. } = &mut t;
    for h in [&mut *alice, &mut *bob] {
        click(h, "Spreads");
        switch(h, "Take part in spreading messages", true);
    }
    until(alice, "Bob takes part", |h| has_text(h, "1 friend takes part"));
    click(bob, "Chats");

    type_into(alice, "New spreading message", "Kayıp kedi: Tekir, Moda'da");
    click(alice, "Spread");
    until(alice, "her own spread", |h| has_text(h, "By you · up to 3 hops · sent to 1"));

    // Bob is elsewhere: the tab counts it and he is told.
    until(bob, "the tab's count", |h| has(h, "Spreads (1)"));
    until(bob, "the notice", |h| {
        h.state()
            .notifications()
            .iter()
            .any(|n| n.title == "Spreading message" && n.body.contains("alice"))
    });
    click(bob, "Spreads (1)");
    until(bob, "the spread", |h| {
        has_text(h, "Kayıp kedi: Tekir, Moda'da") && has_text(h, "By alice · hop 1 of 3")
    });
    until(bob, "seen: the count is gone", |h| !has(h, "Spreads (1)") && has(h, "Spreads"));
    assert!(has_text(bob, "Passed to you by alice"));

    click(alice, "Take back");
    until(bob, "taken back", |h| {
        has_text(h, "Taken back by its author.") && !has_text(h, "Kayıp kedi")
    });
}
