//! A group's controls between two people: declining an invitation;
//! renaming, removing, banning; leaving and deleting.

use crate::ui::*;

#[test]
fn a_declined_group_invitation_can_be_sent_again() {
    let mut t = two_friends();
    invite_bob(&mut t, "Ekip");
    let Two { alice, bob, .. } = &mut t;
    until(alice, "bob invited", |h| has(h, "bob: invited"));

    until(bob, "the invitation", |h| has(h, "bob invites you to Ekip") || has(h, "Join Ekip"));
    click(bob, "Decline Ekip");
    until(bob, "the invitation gone", |h| !has(h, "Join Ekip") && !has(h, "Decline Ekip"));
    assert!(!has(bob, "Ekip"), "bob is not in the group");
    until(alice, "bob may be invited again", |h| has(h, "Invite bob") && !has(h, "bob: invited"));
    assert!(!members_include(alice, "bob"));
}

#[test]
fn the_admin_renames_removes_and_bans() {
    let mut t = two_friends();
    group_with_bob(&mut t, "Ekip");
    let Two { alice, bob, .. } = &mut t;

    // Renamed: both see the new name.
    type_into(alice, "Rename to", "Takım");
    click(alice, "Rename group");
    until(alice, "the new name", |h| has(h, "Takım"));
    until(bob, "the new name", |h| has(h, "Takım") && !has(h, "Ekip"));

    // Removed: Bob is no longer a member, and can no longer write there.
    click_confirmed(alice, "Remove bob");
    until(alice, "bob removed", |h| !members_include(h, "bob") && has(h, "Invite bob"));
    until(bob, "no members shown to him", |h| !members_include(h, "alice"));
    send(bob, "hâlâ burada mıyım");
    until(bob, "the group closed for him", |h| error_says(h, "Error sending"));

    // Banned from a second group: he cannot be invited back.
    group_with_bob(&mut t, "Kahve");
    let Two { alice, .. } = &mut t;
    click_confirmed(alice, "Ban bob");
    until(alice, "bob banned", |h| !members_include(h, "bob") && has(h, "Invite bob"));
    click(alice, "Invite bob");
    until(alice, "the invitation refused", |h| error_says(h, "banned"));
}

#[test]
fn a_member_leaves_and_the_admin_deletes_the_group() {
    let mut t = two_friends();
    group_with_bob(&mut t, "Ekip");
    let Two { alice, bob, .. } = &mut t;

    // Bob leaves: Alice sees him gone and may invite him again.
    click(bob, "Leave group");
    until(alice, "bob gone", |h| !members_include(h, "bob") && has(h, "Invite bob"));
    send(bob, "gittim mi");
    until(bob, "the group closed for him", |h| error_says(h, "Error sending"));

    // Alice deletes it: nobody can write there any more. Nothing else
    // shows it: give the command time to run before the next one.
    click_confirmed(alice, "Delete group");
    pause(alice, std::time::Duration::from_secs(1));
    send(alice, "kimse var mı");
    until(alice, "the group closed", |h| error_says(h, "Error sending"));
}

#[test]
fn deleting_a_group_asks_first_and_esc_or_cancel_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut alice = alone_in_a_group(dir.path());

    // Esc: the question goes, and the group stays.
    click(&mut alice, "Delete group");
    until(&mut alice, "the question", |h| has(h, "Delete notes?") && has(h, "Cancel"));
    alice.key_press(eframe::egui::Key::Escape);
    until(&mut alice, "the question gone", |h| !has(h, "Delete notes?"));
    // Cancel: the same.
    click(&mut alice, "Delete group");
    click(&mut alice, "Cancel");
    until(&mut alice, "the question gone", |h| !has(h, "Delete notes?"));
    send(&mut alice, "hâlâ burada");
    until(&mut alice, "the group still open", |h| has(h, "hâlâ burada"));
    assert!(alice.state().errors().is_empty(), "nothing was deleted");

    // Confirm: deleted, nobody can write there any more.
    click_confirmed(&mut alice, "Delete group");
    pause(&mut alice, std::time::Duration::from_secs(1));
    send(&mut alice, "kimse var mı");
    until(&mut alice, "the group closed", |h| error_says(h, "Error sending"));
}
