//! Invite links (A5): under the "link" policy only a request carrying a
//! live link arrives; a revoked link says so.

use egui_kittest::kittest::Queryable;

use crate::ui::*;

/// The text of the first invite link shown.
fn first_link(h: &Client) -> String {
    let node = h.query_all_by_label_contains("kovan:add?").next().expect("a link shown");
    node.value().expect("the link's text")
}

#[test]
fn a_request_through_an_invite_link_arrives_and_a_revoked_link_says_so() {
    let mut t = two_signed_up();
    let Two { alice, bob, .. } = &mut t;

    // Bob takes requests only through his links.
    click(bob, "Settings");
    switch(bob, "Only people with my invite link", true);
    pause(bob, std::time::Duration::from_millis(500));
    type_into(bob, "Link name", "for alice");
    type_into(bob, "Uses", "1");
    click(bob, "Create invite link");
    until(bob, "the link", |h| has_text(h, "kovan:add?") && has_text(h, "Active"));
    let link = first_link(bob);

    // Found by name, Alice is told up front she needs his link.
    type_into(alice, "Search people", "bob");
    click(alice, "Search");
    click(alice, "Add bob");
    until(alice, "the policy explained", |h| error_says(h, "invite link"));

    // With the link pasted, her request reaches him.
    retype(alice, "Search people", &link);
    click(alice, "Send friend request");
    until(alice, "the request shown as sent", |h| has(h, "bob: request sent"));
    until(bob, "her request", |h| has(h, "People (1)"));

    // Revoked: the list says so.
    click(bob, "Revoke for alice");
    until(bob, "the link revoked", |h| has_text(h, "Revoked"));
}
