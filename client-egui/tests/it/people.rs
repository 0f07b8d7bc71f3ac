//! The People tab's controls between two people: declining a request,
//! blocking and unblocking, unfriending.

use crate::ui::*;

#[test]
fn a_declined_friend_request_leaves_both_as_strangers() {
    let mut t = two_signed_up();
    let Two { alice, bob, .. } = &mut t;
    ask_bob(alice, bob);

    click(bob, "Decline alice");
    until(bob, "the request gone", |h| !has(h, "Accept alice") && has(h, "People"));
    until(alice, "the request declined", |h| !has(h, "bob: request sent"));
    // She may ask again; neither lists the other as a friend.
    until(alice, "bob offered again", |h| has(h, "Add bob"));
    assert!(!has(alice, "Unfriend bob") && !has(bob, "Unfriend alice"));
}

#[test]
fn a_blocked_friend_is_not_heard_until_unblocked_and_unfriending_ends_the_chat() {
    let mut t = two_friends();
    open_chats(&mut t);
    let Two { alice, bob, .. } = &mut t;

    // Bob blocks Alice: listed under Blocked; what she writes meanwhile
    // never shows.
    click(bob, "People");
    click_confirmed(bob, "Block alice");
    until(bob, "alice blocked", |h| has(h, "Unblock alice") && !has(h, "Block alice"));
    send(alice, "beni görüyor musun");
    until(alice, "taken by bob's node", |h| has_text(h, "✔"));
    click(bob, "Unblock alice");
    until(bob, "alice a friend again", |h| has(h, "Block alice") && !has(h, "Unblock alice"));
    send(alice, "ya şimdi");
    until(bob, "her message after unblocking", |h| has(h, "ya şimdi"));
    assert!(!has(bob, "beni görüyor musun"), "the blocked message never shows");

    // Alice unfriends Bob: gone from both friend lists, and the chat is
    // closed for him.
    click(alice, "People");
    click_confirmed(alice, "Unfriend bob");
    until(alice, "bob unfriended", |h| !has(h, "Unfriend bob"));
    until(bob, "alice gone", |h| !has(h, "Unfriend alice"));
    send(bob, "orada mısın");
    until(bob, "the chat closed", |h| error_says(h, "Error sending"));
}
