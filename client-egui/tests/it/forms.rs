//! Human forms: a day and time picked for a message for later; a place
//! found by name or clicked on the map; a safety number compared by
//! pasting the friend's; a group's members panel.

use egui_kittest::kittest::{NodeT, Queryable};

use crate::ui::*;

/// What the field labelled `label` holds.
fn value(h: &Client, label: &str) -> String {
    h.get_by_label(label).value().unwrap_or_default()
}

#[test]
fn tomorrow_morning_is_picked_for_a_message_for_later() {
    let dir = tempfile::tempdir().unwrap();
    let mut alice = alone_in_a_group(dir.path());
    let a = &mut alice;
    type_into(a, "Message", "günaydın, toplantı var");
    click(a, "Attach, location, poll, send later");
    click(a, "Tomorrow 09:00");
    let tomorrow = jiff::Zoned::now().date().tomorrow().unwrap().strftime("%Y-%m-%d").to_string();
    until(a, "the time filled in", |h| value(h, "Send at") == format!("{tomorrow} 09:00"));
    click(a, "Schedule");
    until(a, "the message for later", |h| has(h, "Scheduled for 09:00: günaydın, toplantı var"));
}

#[test]
fn a_place_is_found_by_name_or_clicked_on_the_map_and_shared() {
    let dir = tempfile::tempdir().unwrap();
    let mut alice = alone_in_a_group(dir.path());
    let a = &mut alice;
    click(a, "Attach, location, poll, send later");

    // A click in the middle of the map picks its centre.
    click(a, "Map: click to pick a place, drag to move, scroll to zoom");
    until(a, "coordinates", |h| !value(h, "Latitude").is_empty());
    let lat: f64 = value(a, "Latitude").parse().unwrap();
    let lon: f64 = value(a, "Longitude").parse().unwrap();
    assert!((lat - 39.0).abs() < 0.5 && (lon - 35.0).abs() < 0.5, "{lat}, {lon}");

    // By name, Turkish letters or not.
    type_into(a, "Find a place", "kadikoy");
    click(a, "Kadıköy, TR");
    until(a, "the place filled in", |h| value(h, "Place name") == "Kadıköy");
    assert_eq!((value(a, "Latitude"), value(a, "Longitude")), ("40.9903".into(), "29.0292".into()));
    type_into(a, "Find a place", "Atlantis");
    until(a, "nothing found", |h| has_text(h, "No place by that name here"));
    click(a, "Share location");
    until(a, "the shared place", |h| has_text(h, "Kadıköy"));
}

#[test]
fn a_pasted_safety_number_must_match_to_verify() {
    let mut t = two_friends();
    let Two { alice, bob, .. } = &mut t;
    click(bob, "Safety number for alice");
    until(bob, "his number", |h| has_text(h, "compare this number"));
    // The number as shown: groups of digits.
    let digits_only =
        |l: &str| l.len() > 40 && l.chars().all(|c| c.is_ascii_digit() || c.is_whitespace());
    let by = egui_kittest::kittest::By::new()
        .predicate(move |n| n.label().or_else(|| n.value()).is_some_and(|l| digits_only(&l)));
    let digits = bob
        .query_all(by)
        .next()
        .and_then(|n| {
            let a = n.accesskit_node();
            a.label().or_else(|| a.value())
        })
        .expect("the digits");

    click(alice, "Safety number for bob");
    type_into(alice, "Their number", "12345 67890");
    click(alice, "Check and mark verified");
    until(alice, "the mismatch", |h| error_says(h, "does not match"));
    retype(alice, "Their number", &digits);
    click(alice, "Check and mark verified");
    until(alice, "verified", |h| has_text(h, "You have verified bob"));
}

#[test]
fn the_members_panel_hides_and_shows() {
    let dir = tempfile::tempdir().unwrap();
    let mut alice = alone_in_a_group(dir.path());
    let a = &mut alice;
    until(a, "the panel", |h| has(h, "1 member") && has(h, "Leave group"));
    click(a, "Hide members");
    until(a, "hidden", |h| !has(h, "Leave group"));
    click(a, "Show members");
    until(a, "shown", |h| has(h, "Leave group"));
}
