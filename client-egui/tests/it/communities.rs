//! The Communities tab against a real relay: Alice in the window, Bob (when
//! there is one) a node driven through its API. A thread shows its comment
//! tree in order and a comment's replies collapse; a like counts; a post
//! the relay altered shows failed verification and nothing of its text; a
//! moderator admits a request and removes a reported comment; a private
//! community found by search is asked to join; the owner edits the
//! settings and names a moderator, and the log names whom a ban was for;
//! a post goes with a file picked in the composer.

use std::path::Path;

use egui_kittest::kittest::Queryable;
use kovan_node::home::Home;
use kovan_node::identity::Identity;
use kovan_node::{CommunityItemView, Node, NodeHandle, NodeOptions, PostDraft};

use crate::ui::*;

/// Alice in a window, signed up on a fresh relay.
struct Setup {
    alice: Client,
    /// Shut down after the window.
    relay: TestRelay,
    dir: tempfile::TempDir,
}

fn alice_alone() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path());
    let mut alice = client(dir.path(), "alice", &relay.url);
    sign_up(&mut alice, "alice");
    Setup { alice, relay, dir }
}

/// Bob: a node of his own on the relay, signed up, driven by the test.
fn bob(relay: &TestRelay, dir: &Path) -> NodeHandle {
    user(relay, dir, "bob")
}

/// Someone else with a node of their own on the relay, signed up.
pub(crate) fn user(relay: &TestRelay, dir: &Path, name: &str) -> NodeHandle {
    let home = Home::at(dir.join(name));
    relay.rt.block_on(async {
        home.ensure().unwrap();
        let id = Identity::create(&home, PASSPHRASE.as_bytes(), name).unwrap();
        let mut options = NodeOptions::loopback(home.clone(), name);
        options.relay_url = Some(relay.url.clone());
        let node = Node::start(id, options).await.unwrap();
        node.register(name, PASSWORD).await.unwrap();
        node
    })
}

/// Alice makes a community from the Communities tab and waits for its
/// page.
fn create_community(alice: &mut Client, name: &str, private: bool) {
    click(alice, "Communities");
    click(alice, "New community");
    type_into(alice, "Community name", name);
    type_into(alice, "Topic", "Bees and honey");
    if private {
        click(alice, "Private: only members read it, and joining needs a moderator's yes");
    }
    click(alice, "Create community");
    until(alice, "the community's page", |h| has(h, name) && has(h, "New post"));
}

/// Alice writes a post, looks at its preview, and posts it.
fn post(alice: &mut Client, title: &str, text: &str) {
    click(alice, "New post");
    type_into(alice, "Title", title);
    type_into(alice, "Text", text);
    click(alice, "Preview");
    until(alice, "the preview", |h| has(h, text) && has(h, title));
    shot(alice, "communities-compose");
    click(alice, "Post");
    until(alice, "the post listed", |h| {
        has(h, title) && has(h, "Comments (0)") && !has(h, "Preview")
    });
}

/// Clicks the first `label` at or below the widget `anchor` (an item's
/// buttons sit under its text).
fn click_below(h: &mut Client, anchor: &str, label: &str) {
    until(h, anchor, |h| has(h, anchor) && has(h, label));
    h.step();
    let top = h.get_by_label(anchor).rect().top();
    let node = h
        .query_all_by_label(label)
        .filter(|n| n.rect().top() >= top)
        .min_by(|a, b| a.rect().top().total_cmp(&b.rect().top()))
        .unwrap_or_else(|| panic!("no {label} under {anchor}"));
    node.click();
    h.step();
    h.step();
}

fn rect(h: &Client, label: &str) -> eframe::egui::Rect {
    h.get_by_label(label).rect()
}

fn the<'a>(items: &'a [CommunityItemView], text: &str) -> &'a CommunityItemView {
    items.iter().find(|i| i.text == text).unwrap_or_else(|| panic!("no {text} in {items:?}"))
}

#[test]
fn a_thread_shows_its_comment_tree_in_order_and_replies_collapse() {
    let Setup { mut alice, relay, dir } = alice_alone();
    let bob = bob(&relay, dir.path());
    create_community(&mut alice, "bees", false);
    post(&mut alice, "Honey harvest", "How many hives do you have?");

    // Bob joins and answers the post.
    let rt = &relay.rt;
    rt.block_on(bob.community_join("bees", true, "")).unwrap();
    let posts = rt.block_on(bob.community_posts("bees", "new", 0)).unwrap();
    let post_id = posts[0].id.clone();
    rt.block_on(bob.community_comment(&post_id, "Five hives here")).unwrap();

    // Alice opens the post and answers Bob's comment.
    click(&mut alice, "Honey harvest");
    until(&mut alice, "Bob's comment", |h| has(h, "Five hives here"));
    click(&mut alice, "Reply");
    type_into(&mut alice, "Your reply", "Which breed?");
    click(&mut alice, "Send reply");
    until(&mut alice, "her reply", |h| has(h, "Which breed?") && !has(h, "Your reply"));

    // Bob answers her answer, and comments on the post again.
    let thread = rt.block_on(bob.community_thread(&post_id)).unwrap();
    let question = the(&thread, "Which breed?").id.clone();
    rt.block_on(bob.community_comment(&question, "Caucasian bees")).unwrap();
    rt.block_on(bob.community_comment(&post_id, "Also, a swarm came")).unwrap();
    // Bob's answer is notified, and the open thread is read again by
    // itself.
    until(&mut alice, "the whole tree", |h| {
        has(h, "Caucasian bees") && has(h, "Also, a swarm came")
    });
    let notes = alice.state().notifications().to_vec();
    assert!(
        notes.iter().any(|n| n.title == "Communities" && n.body == "bob answered you."),
        "{notes:?}"
    );

    // In tree order, each answer indented under what it answers.
    let order = [
        "Honey harvest",
        "Five hives here",
        "Which breed?",
        "Caucasian bees",
        "Also, a swarm came",
    ];
    let rects: Vec<_> = order.iter().map(|l| rect(&alice, l)).collect();
    for (pair, names) in rects.windows(2).zip(order.windows(2)) {
        assert!(pair[0].top() < pair[1].top(), "{} above {}", names[0], names[1]);
    }
    assert!(rects[1].left() < rects[2].left() && rects[2].left() < rects[3].left(), "{rects:?}");
    assert_eq!(rects[1].left(), rects[4].left(), "two comments on the post, one level");
    shot(&mut alice, "communities-thread");

    // Collapsing Bob's first comment hides the answers under it only.
    assert!(has(&alice, "Hide 1 reply"), "her answer has one reply");
    click(&mut alice, "Hide 2 replies");
    until(&mut alice, "the answers hidden", |h| {
        !has(h, "Which breed?") && !has(h, "Caucasian bees") && has(h, "Show 2 replies")
    });
    assert!(has(&alice, "Five hives here") && has(&alice, "Also, a swarm came"));
    shot(&mut alice, "communities-thread-collapsed");
    click(&mut alice, "Show 2 replies");
    until(&mut alice, "the answers back", |h| has(h, "Which breed?") && has(h, "Caucasian bees"));
    assert!(alice.state().errors().is_empty(), "{:?}", alice.state().errors());
    rt.block_on(bob.shutdown());
}

#[test]
fn a_like_from_the_window_raises_the_count_and_can_be_taken_back() {
    let Setup { mut alice, relay: _relay, dir: _dir } = alice_alone();
    create_community(&mut alice, "garden", false);
    post(&mut alice, "Tomatoes", "They are red already.");

    click(&mut alice, "Like (0)");
    until(&mut alice, "the like counted", |h| has(h, "Liked (1)") && !has(h, "Like (0)"));
    // The thread says the same.
    click(&mut alice, "Tomatoes");
    until(&mut alice, "the thread", |h| has(h, "They are red already.") && has(h, "Liked (1)"));
    click(&mut alice, "Liked (1)");
    until(&mut alice, "the like taken back", |h| has(h, "Like (0)"));
    assert!(alice.state().errors().is_empty(), "{:?}", alice.state().errors());
}

/// The relay's database, as its operator (or an intruder) could open it.
fn relay_db(dir: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(dir.join("relay").join("relay.sqlite3")).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    conn
}

#[test]
fn a_post_the_relay_altered_shows_failed_verification_and_none_of_its_text() {
    let Setup { mut alice, relay: _relay, dir } = alice_alone();
    create_community(&mut alice, "bees", false);
    post(&mut alice, "Honey harvest", "How many hives do you have?");

    // The relay rewrites the post's text inside what Alice signed.
    let db = relay_db(dir.path());
    let rows: Vec<(String, Vec<u8>)> = db
        .prepare("SELECT id, tbs FROM community_items")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let (id, mut tbs) =
        rows.into_iter().find(|(_, t)| t.windows(5).any(|w| w == b"hives")).expect("the post");
    let at = tbs.windows(5).position(|w| w == b"hives").unwrap();
    tbs[at..at + 5].copy_from_slice(b"bombs");
    let changed = db
        .execute("UPDATE community_items SET tbs = ?1 WHERE id = ?2", rusqlite::params![tbs, id])
        .unwrap();
    assert_eq!(changed, 1);

    click(&mut alice, "Refresh");
    until(&mut alice, "the failure shown", |h| {
        has_text(h, "Failed verification: the post's signature")
    });
    for part in ["hives", "bombs", "Honey harvest"] {
        assert!(!has_text(&alice, part), "{part} shown from a post that failed verification");
    }
    shot(&mut alice, "communities-failed");
    // Its thread says the same, and nothing more.
    click(&mut alice, "Comments (0)");
    until(&mut alice, "the thread", |h| has(h, "Back") && has_text(h, "Failed verification"));
    for part in ["hives", "bombs", "Honey harvest"] {
        assert!(!has_text(&alice, part), "{part} shown in the thread");
    }
}

#[test]
fn a_moderator_admits_a_request_and_removes_a_reported_comment() {
    let Setup { mut alice, relay, dir } = alice_alone();
    let bob = bob(&relay, dir.path());
    let rt = &relay.rt;
    create_community(&mut alice, "bees", true);
    post(&mut alice, "Honey harvest", "How many hives do you have?");

    // Bob asks to join; Alice admits him from Moderation.
    let asked = rt.block_on(bob.community_join("bees", true, "I keep bees too")).unwrap();
    assert_eq!(asked["state"], "pending");
    click(&mut alice, "Moderation");
    until(&mut alice, "his request", |h| has(h, "bob asks to join: I keep bees too"));
    click(&mut alice, "Admit bob");
    until(&mut alice, "no one waiting", |h| has(h, "No one is waiting."));
    assert_eq!(rt.block_on(bob.community("bees")).unwrap().my_state.as_deref(), Some("member"));

    // Bob comments; Alice reports the comment and removes it.
    let posts = rt.block_on(bob.community_posts("bees", "new", 0)).unwrap();
    rt.block_on(bob.community_comment(&posts[0].id, "Buy cheap honey at my shop")).unwrap();
    click(&mut alice, "Back to bees");
    click(&mut alice, "Honey harvest");
    click_below(&mut alice, "Buy cheap honey at my shop", "Report");
    type_into(&mut alice, "Reason", "spam");
    click(&mut alice, "Send report");
    until(&mut alice, "the report sent", |h| !has(h, "Send report"));
    click(&mut alice, "Back");
    click(&mut alice, "Moderation");
    until(&mut alice, "the report", |h| has(h, "alice reported: spam"));
    shot(&mut alice, "communities-moderation");
    click(&mut alice, "Remove");
    until(&mut alice, "the queue empty", |h| {
        has(h, "No open reports.") && has_text(h, "alice removed")
    });

    // The comment shows as removed, and nothing of it is left.
    click(&mut alice, "Back to bees");
    click(&mut alice, "Honey harvest");
    until(&mut alice, "the tombstone", |h| has(h, "removed by a moderator"));
    assert!(!has_text(&alice, "cheap honey"), "a removed comment's text shown");
    let thread = rt.block_on(bob.community_thread(&posts[0].id)).unwrap();
    assert_eq!(thread[1].gone.as_deref(), Some("removed"), "{thread:?}");
    assert!(alice.state().errors().is_empty(), "{:?}", alice.state().errors());
    rt.block_on(bob.shutdown());
}

#[test]
fn a_private_community_found_by_search_is_asked_to_join() {
    let Setup { mut alice, relay, dir } = alice_alone();
    let bob = bob(&relay, dir.path());
    let rt = &relay.rt;
    let settings = kovan_node::CommunitySettingsDraft {
        topic: "Queen rearing".into(),
        private: true,
        ..Default::default()
    };
    rt.block_on(bob.community_create("queens", &settings)).unwrap();
    let draft =
        PostDraft { title: "Grafting".into(), text: "Day 4 larvae".into(), ..Default::default() };
    rt.block_on(bob.community_post("queens", &draft)).unwrap();

    click(&mut alice, "Communities");
    type_into(&mut alice, "Find communities", "queen");
    click(&mut alice, "Search communities");
    click(&mut alice, "Ask to join queens");
    until(&mut alice, "the request shown", |h| has(h, "queens: request sent"));
    // Its page says so too, and shows none of its posts.
    click(&mut alice, "queens");
    until(&mut alice, "its page", |h| has(h, "Request sent"));
    assert!(!has(&alice, "Grafting"));

    // Bob admits her: the community is hers to read.
    rt.block_on(bob.community_moderate("queens", "admit", "alice", "")).unwrap();
    click(&mut alice, "Refresh");
    until(&mut alice, "its posts", |h| has(h, "Grafting") && has(h, "Leave"));
    click(&mut alice, "Communities");
    until(&mut alice, "it among hers", |h| has(h, "queens") && has(h, "Feed"));
    click(&mut alice, "Feed");
    until(&mut alice, "its post in her feed, under its community's name", |h| {
        has(h, "Grafting") && has(h, "in queens")
    });
    shot(&mut alice, "communities-feed");
    // The name opens the community.
    click(&mut alice, "in queens");
    until(&mut alice, "its page", |h| has(h, "Queen rearing") && has(h, "Leave"));
    assert!(alice.state().errors().is_empty(), "{:?}", alice.state().errors());
    rt.block_on(bob.shutdown());
}

#[test]
fn a_post_s_file_is_listed_and_opened_once_it_matches_what_was_signed() {
    let Setup { mut alice, relay, dir } = alice_alone();
    let bob = bob(&relay, dir.path());
    create_community(&mut alice, "plans", false);
    let rt = &relay.rt;
    rt.block_on(bob.community_join("plans", true, "")).unwrap();
    let file = dir.path().join("plan.txt");
    std::fs::write(&file, "kovan planı").unwrap();
    let draft = PostDraft { title: "The plan".into(), files: vec![file], ..Default::default() };
    rt.block_on(bob.community_post("plans", &draft)).unwrap();
    click(&mut alice, "Refresh");
    until(&mut alice, "the post", |h| has(h, "The plan"));
    click(&mut alice, "The plan");
    until(&mut alice, "its file", |h| has_text(h, "📎 plan.txt"));
    click(&mut alice, "Open");
    until(&mut alice, "the file opened", |h| !h.state().desktop_asked().is_empty());
    let asked = alice.state().desktop_asked().to_vec();
    let kovan_desktop::desktop::Asked::Open(path) = &asked[0] else { panic!("{asked:?}") };
    assert_eq!(std::fs::read_to_string(path).unwrap(), "kovan planı");
    assert!(alice.state().errors().is_empty(), "{:?}", alice.state().errors());
    rt.block_on(bob.shutdown());
}

#[test]
fn a_long_thread_comes_in_pages_and_a_search_hit_deep_in_it_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start_with(dir.path(), |c| {
        c.limits.community_writes_per_account_per_minute = 1000;
    });
    let mut alice = client(dir.path(), "alice", &relay.url);
    sign_up(&mut alice, "alice");
    let bob = bob(&relay, dir.path());
    create_community(&mut alice, "long", false);
    post(&mut alice, "Long thread", "Say something.");
    let rt = &relay.rt;
    rt.block_on(bob.community_join("long", true, "")).unwrap();
    let post_id = rt.block_on(bob.community_posts("long", "new", 0)).unwrap()[0].id.clone();
    for i in 0..130 {
        rt.block_on(bob.community_comment(&post_id, &format!("word{i:03}"))).unwrap();
    }
    // The first page, with a way to the rest.
    click(&mut alice, "Long thread");
    until(&mut alice, "the first page", |h| has(h, "word000") && has(h, "Load more comments"));
    assert!(!has(&alice, "word129"), "only the first page at first");

    // A search hit on the second page opens the thread there: the pages
    // up to it come by themselves.
    click(&mut alice, "Back");
    until(&mut alice, "the community's page", |h| has(h, "Search posts"));
    type_into(&mut alice, "Search in this community", "word120");
    click(&mut alice, "Search posts");
    until(&mut alice, "the hit", |h| has(h, "word120"));
    click(&mut alice, "Open the thread");
    until(&mut alice, "the hit in its thread", |h| {
        has(h, "Long thread") && has(h, "word120") && has(h, "word000") && has(h, "word129")
    });
    assert!(!has(&alice, "Load more comments"), "the whole thread is there");
    assert!(alice.state().errors().is_empty(), "{:?}", alice.state().errors());
    rt.block_on(bob.shutdown());
}

#[test]
fn the_owner_edits_the_settings_names_a_moderator_and_the_log_names_the_banned() {
    let Setup { mut alice, relay, dir } = alice_alone();
    let bob = bob(&relay, dir.path());
    let rt = &relay.rt;
    create_community(&mut alice, "apiary", false);
    rt.block_on(bob.community_join("apiary", true, "")).unwrap();

    // Moderation → Edit settings: a new topic, only moderators post, and
    // Bob a moderator.
    click(&mut alice, "Moderation");
    click(&mut alice, "Edit settings");
    until(&mut alice, "the form, filled", |h| {
        h.query_all_by_value("Bees and honey").next().is_some()
    });
    retype(&mut alice, "Topic", "Apiary tools");
    click(&mut alice, "Moderators");
    type_into(&mut alice, "Other moderators", "bob");
    click(&mut alice, "Save settings");
    until(&mut alice, "the form closed", |h| !has(h, "Save settings") && has(h, "Edit settings"));
    let seen = rt.block_on(bob.community("apiary")).unwrap();
    assert_eq!(seen.topic, "Apiary tools");
    assert_eq!(seen.post_policy, "moderators");
    assert!(seen.moderator, "Bob was not made a moderator: {seen:?}");
    assert_eq!(seen.moderators, ["bob"]);

    // The community's page names its moderators.
    click(&mut alice, "Back to apiary");
    until(&mut alice, "the new topic", |h| has(h, "Apiary tools"));
    click(&mut alice, "About");
    until(&mut alice, "its moderators", |h| has(h, "Moderators: bob"));

    // Bob bans Carol's account by name; the log says whom, by name.
    let carol = user(&relay, dir.path(), "carol");
    rt.block_on(bob.community_moderate("apiary", "ban", "carol", "spam")).unwrap();
    click(&mut alice, "Moderation");
    until(&mut alice, "the ban logged by name", |h| has(h, "bob banned carol"));
    assert!(alice.state().errors().is_empty(), "{:?}", alice.state().errors());
    rt.block_on(carol.shutdown());
    rt.block_on(bob.shutdown());
}

#[test]
fn a_file_picked_in_the_composer_goes_with_the_post() {
    let Setup { mut alice, relay, dir } = alice_alone();
    let bob = bob(&relay, dir.path());
    let rt = &relay.rt;
    create_community(&mut alice, "maps", false);
    rt.block_on(bob.community_join("maps", true, "")).unwrap();
    let file = dir.path().join("field.txt");
    std::fs::write(&file, "kovanlar burada").unwrap();

    click(&mut alice, "New post");
    type_into(&mut alice, "Title", "Where the hives are");
    alice.state_mut().answer_next_dialog(file.clone());
    click(&mut alice, "Attach a file…");
    until(&mut alice, "the file listed", |h| has_text(h, "📎 field.txt (15 bytes)"));
    click(&mut alice, "Post");
    until(&mut alice, "the post listed", |h| has(h, "Where the hives are") && !has(h, "Post"));

    // Bob sees the file and fetches what Alice signed.
    let posts = rt.block_on(bob.community_posts("maps", "new", 0)).unwrap();
    assert_eq!(posts[0].attachments.len(), 1, "{posts:?}");
    assert_eq!(posts[0].attachments[0].name, "field.txt");
    let saved = rt.block_on(bob.community_fetch(&posts[0].id, 0, None)).unwrap();
    assert_eq!(std::fs::read_to_string(saved).unwrap(), "kovanlar burada");
    assert!(alice.state().errors().is_empty(), "{:?}", alice.state().errors());
    rt.block_on(bob.shutdown());
}
