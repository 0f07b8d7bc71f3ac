//! Groups between real nodes and a real relay on loopback (SPEC.md §7.6):
//! the whole life of a group with five people, an offline member catching
//! up over three epochs, and two admins committing at the same moment.

use kovan_node::{Event, GroupChange, GroupView, NodeHandle};

use crate::harness::{TestNode, TestRelay, befriend_registered};

/// Polls a node's view of a group until `check` holds.
pub(crate) async fn group_until(
    n: &TestNode,
    gid: &str,
    what: &str,
    check: impl Fn(&GroupView) -> bool + Clone,
) {
    let gid = gid.to_owned();
    n.until(what, move |h: NodeHandle| {
        let gid = gid.clone();
        let check = check.clone();
        async move { h.group(&gid).await.map(|g| check(&g)).unwrap_or(false) }
    })
    .await;
}

fn names(g: &GroupView) -> Vec<String> {
    g.members.iter().map(|m| m.name.clone()).collect()
}

/// Waits for an incoming message in `gid` and returns its id and text.
async fn group_text(n: &mut TestNode, gid: &str) -> (String, String) {
    let gid = gid.to_owned();
    let ev = n
        .wait("a group message", |e| {
            matches!(e, Event::Message { message } if !message.outgoing && message.conversation == gid)
        })
        .await;
    let Event::Message { message } = ev else { unreachable!() };
    (message.id, message.text.unwrap_or_default())
}

/// Waits for an invitation and answers it.
pub(crate) async fn answer(n: &mut TestNode, accept: bool) -> String {
    let ev = n
        .wait("an invitation", |e| {
            matches!(e, Event::GroupInvitation { invitation } if invitation.incoming && invitation.state == "pending")
        })
        .await;
    let Event::GroupInvitation { invitation } = ev else { unreachable!() };
    n.h.group_answer(&invitation.id, accept).await.unwrap();
    invitation.group_name
}

/// Starts a relay and `names.len()` nodes; the first befriends all others.
pub(crate) async fn people(dir: &std::path::Path, names: &[&str]) -> (TestRelay, Vec<TestNode>) {
    people_with(dir, names, None).await
}

/// A node per name registered on `relay` under it, each one's scheduler
/// following `clock` when given.
pub(crate) async fn registered(
    dir: &std::path::Path,
    relay: &TestRelay,
    names: &[&str],
    clock: Option<kovan_node::clock::ManualClock>,
) -> Vec<TestNode> {
    let mut nodes = Vec::new();
    for n in names {
        let node = match &clock {
            Some(c) => {
                let c = kovan_node::clock::Clock::Manual(c.clone());
                TestNode::with_clock(dir, n, Some(&relay.url), c).await
            }
            None => TestNode::new(dir, n, Some(&relay.url)).await,
        };
        node.h.register(n, "a long password").await.unwrap();
        nodes.push(node);
    }
    nodes
}

/// [`people`], every node's scheduler following `clock` when given.
pub(crate) async fn people_with(
    dir: &std::path::Path,
    names: &[&str],
    clock: Option<kovan_node::clock::ManualClock>,
) -> (TestRelay, Vec<TestNode>) {
    let relay = TestRelay::start(dir).await;
    let mut nodes = registered(dir, &relay, names, clock).await;
    let (first, rest) = nodes.split_first_mut().unwrap();
    for other in rest {
        befriend_registered(first, other).await;
    }
    (relay, nodes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_people_create_invite_chat_rename_remove_ban_leave_and_delete_a_group() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, nodes) = people(dir.path(), &["alice", "bob", "carol", "dave", "erin"]).await;
    let [mut alice, mut bob, mut carol, mut dave, mut erin]: [TestNode; 5] =
        nodes.try_into().unwrap_or_else(|_| unreachable!());

    // G1: create; the creator is the admin.
    let g = alice.h.group_create("Kovan ekibi", "bal ve kod", false).await.unwrap();
    assert!(g.admin && g.members.len() == 1);
    let gid = g.id.clone();

    // G2/G3: invite four friends; three accept, Erin declines.
    for who in ["bob", "carol", "dave", "erin"] {
        alice.h.group_invite(&gid, who).await.unwrap();
    }
    for n in [&mut bob, &mut carol, &mut dave] {
        assert_eq!(answer(n, true).await, "Kovan ekibi");
    }
    assert_eq!(answer(&mut erin, false).await, "Kovan ekibi");
    alice
        .wait("erin's decline", |e| {
            matches!(e, Event::GroupInvitation { invitation } if invitation.state == "declined")
        })
        .await;
    for n in [&alice, &bob, &carol, &dave] {
        group_until(n, &gid, "four members", |g| g.members.len() == 4).await;
    }
    let view = bob.h.group(&gid).await.unwrap();
    // Leaf order is the order the acceptances reached Alice, which two
    // concurrent acceptances do not fix: compare as a set.
    let mut members = names(&view);
    members.sort();
    // Bob knows Alice's username (her friend request named it and the
    // directory confirmed it); the others he knows by their devices' names.
    assert_eq!(members, ["alice (@alice)", "bob", "carol", "dave"]);
    assert!(!view.admin && view.members[0].admin, "alice is the admin, bob is not");
    assert!(erin.h.group(&gid).await.is_err(), "erin declined: she is not in it");

    // Chat, reactions and receipts work as in 1:1.
    let sent = bob.h.send_text(&gid, "selam herkes :wave:", None).await.unwrap();
    for n in [&mut alice, &mut carol, &mut dave] {
        assert_eq!(group_text(n, &gid).await, (sent.id.clone(), "selam herkes 👋".to_owned()));
    }
    carol.h.react(&gid, &sent.id, ":heart:", false).await.unwrap();
    let Event::Reactions { message } = bob
        .wait(
            "carol's reaction",
            |e| matches!(e, Event::Reactions { message } if message.conversation == gid),
        )
        .await
    else {
        unreachable!()
    };
    assert_eq!(message.reactions[0].emoji, "❤️");
    let (g2, id2) = (gid.clone(), sent.id.clone());
    bob.until("delivered to all three", move |h| {
        let (g2, id2) = (g2.clone(), id2.clone());
        async move {
            let page = h.history(&g2, None, 10).await.unwrap();
            page.iter().any(|m| m.id == id2 && m.state == "delivered")
        }
    })
    .await;

    // G5: the admin renames; a member may not.
    alice.h.group_change(&gid, GroupChange::Rename("Arılar".into())).await.unwrap();
    for n in [&bob, &carol, &dave] {
        group_until(n, &gid, "the new name", |g| g.name == "Arılar").await;
    }
    let err = bob.h.group_change(&gid, GroupChange::Rename("bob's".into())).await.unwrap_err();
    assert!(err.to_string().contains("admin"), "{err}");

    // G6: remove Dave; he learns it and gets nothing afterwards.
    alice.h.group_change(&gid, GroupChange::Remove("dave".into())).await.unwrap();
    group_until(&dave, &gid, "dave removed", |g| g.state == "removed").await;
    let after = alice.h.send_text(&gid, "dave gitti", None).await.unwrap();
    for n in [&mut bob, &mut carol] {
        assert_eq!(group_text(n, &gid).await.1, "dave gitti");
    }
    let dave_history = dave.h.history(&gid, None, 50).await.unwrap();
    assert!(dave_history.iter().all(|m| m.id != after.id), "dave never got it");
    assert!(dave.h.send_text(&gid, "hello?", None).await.is_err(), "read-only for dave");

    // G7: invite Erin again, she joins; then she is banned and cannot be
    // invited back.
    alice.h.group_invite(&gid, "erin").await.unwrap();
    answer(&mut erin, true).await;
    for n in [&alice, &bob, &erin] {
        group_until(n, &gid, "erin in", |g| g.members.len() == 4).await;
    }
    alice.h.group_change(&gid, GroupChange::Ban("erin".into())).await.unwrap();
    group_until(&erin, &gid, "erin banned", |g| g.state == "removed").await;
    group_until(&bob, &gid, "erin listed as banned", |g| {
        g.banned.len() == 1 && g.members.len() == 3
    })
    .await;
    let err = alice.h.group_invite(&gid, "erin").await.unwrap_err();
    assert!(err.to_string().contains("banned"), "{err}");

    // Mute is local: Bob mutes Carol and stops seeing her messages.
    bob.h.group_mute(&gid, "carol", true).await.unwrap();
    carol.h.send_text(&gid, "muted words", None).await.unwrap();
    assert_eq!(group_text(&mut alice, &gid).await.1, "muted words");
    let bob_page = bob.h.history(&gid, None, 50).await.unwrap();
    assert!(bob_page.iter().all(|m| m.text.as_deref() != Some("muted words")));

    // G4: Carol leaves; the admin commits her removal.
    let left = carol.h.group_leave(&gid).await.unwrap();
    assert_eq!(left.state, "left");
    for n in [&alice, &bob] {
        group_until(n, &gid, "carol gone", |g| g.members.len() == 2).await;
    }

    // G5: the admin deletes the group: read-only for everyone.
    alice.h.group_change(&gid, GroupChange::Delete).await.unwrap();
    group_until(&bob, &gid, "dissolved", |g| g.state == "dissolved").await;
    assert!(bob.h.send_text(&gid, "anyone?", None).await.is_err());
    assert!(!bob.h.history(&gid, None, 50).await.unwrap().is_empty(), "history stays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_member_catches_up_over_three_epochs_from_its_mailbox() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, nodes) = people(dir.path(), &["alice", "bob", "carol"]).await;
    let [mut alice, mut bob, mut carol]: [TestNode; 3] =
        nodes.try_into().unwrap_or_else(|_| unreachable!());
    let gid = alice.h.group_create("Kovan", "", false).await.unwrap().id;
    for who in ["bob", "carol"] {
        alice.h.group_invite(&gid, who).await.unwrap();
    }
    answer(&mut bob, true).await;
    answer(&mut carol, true).await;
    for n in [&alice, &bob, &carol] {
        group_until(n, &gid, "three members", |g| g.members.len() == 3).await;
    }

    // Bob goes offline; three commits and a message happen without him.
    bob.h.shutdown().await;
    let start = alice.h.group(&gid).await.unwrap().epoch;
    alice.h.group_change(&gid, GroupChange::Rename("Kovan 2".into())).await.unwrap();
    alice.h.group_change(&gid, GroupChange::Describe("yeni".into())).await.unwrap();
    alice.h.group_change(&gid, GroupChange::Admin("carol".into(), true)).await.unwrap();
    let latest = alice.h.group(&gid).await.unwrap();
    assert_eq!(latest.epoch, start + 3);
    group_until(&carol, &gid, "carol follows", |g| g.epoch == start + 3).await;
    alice.h.send_text(&gid, "üç değişiklik sonra", None).await.unwrap();
    assert_eq!(group_text(&mut carol, &gid).await.1, "üç değişiklik sonra");

    // Back online: the mailbox brings everything, and Bob converges.
    let mut bob = bob.restart().await;
    assert_eq!(group_text(&mut bob, &gid).await.1, "üç değişiklik sonra");
    let want = latest.clone();
    group_until(&bob, &gid, "bob caught up", move |g| {
        g.epoch == want.epoch
            && g.name == "Kovan 2"
            && g.description == "yeni"
            && g.members.iter().filter(|m| m.admin).count() == 2
    })
    .await;
    // And he can write in the new epoch.
    bob.h.send_text(&gid, "geri döndüm", None).await.unwrap();
    assert_eq!(group_text(&mut alice, &gid).await.1, "geri döndüm");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_admins_commit_in_the_same_epoch_and_every_member_converges() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, nodes) = people(dir.path(), &["alice", "bob", "carol", "dave"]).await;
    let [alice, mut bob, mut carol, mut dave]: [TestNode; 4] =
        nodes.try_into().unwrap_or_else(|_| unreachable!());
    let gid = alice.h.group_create("Kovan", "", false).await.unwrap().id;
    for who in ["bob", "carol", "dave"] {
        alice.h.group_invite(&gid, who).await.unwrap();
    }
    for n in [&mut bob, &mut carol, &mut dave] {
        answer(n, true).await;
    }
    for n in [&alice, &bob, &carol, &dave] {
        group_until(n, &gid, "four members", |g| g.members.len() == 4).await;
    }
    alice.h.group_change(&gid, GroupChange::Admin("bob".into(), true)).await.unwrap();
    group_until(&bob, &gid, "bob is admin", |g| g.admin).await;
    let epoch = alice.h.group(&gid).await.unwrap().epoch;
    group_until(&carol, &gid, "carol in step", move |g| g.epoch == epoch).await;
    group_until(&dave, &gid, "dave in step", move |g| g.epoch == epoch).await;

    // Bob is cut off while both admins commit in the same epoch: Alice
    // renames, Bob removes Dave and writes a message in his branch.
    let bob = bob.restart_isolated().await;
    group_until(&bob, &gid, "bob at the same epoch", move |g| g.epoch == epoch).await;
    alice.h.group_change(&gid, GroupChange::Rename("Alice's name".into())).await.unwrap();
    bob.h.group_change(&gid, GroupChange::Remove("dave".into())).await.unwrap();
    let sent = bob.h.send_text(&gid, "bob's branch", None).await.unwrap();
    assert_eq!(alice.h.group(&gid).await.unwrap().epoch, epoch + 1);
    assert_eq!(bob.h.group(&gid).await.unwrap().epoch, epoch + 1);

    // Reunited: one commit wins everywhere, the other is re-proposed on
    // top of it, and both changes hold for every member.
    let mut bob = bob.reconnect().await;
    let done = |g: &GroupView| {
        g.name == "Alice's name"
            && g.members.len() == 3
            && !g.members.iter().any(|m| m.name == "dave")
    };
    for n in [&alice, &bob, &carol] {
        group_until(n, &gid, "converged", done).await;
    }
    let mut views: Vec<GroupView> = Vec::new();
    for n in [&alice, &bob, &carol] {
        views.push(n.h.group(&gid).await.unwrap());
    }
    assert_eq!(views[0].epoch, epoch + 2, "two commits, one after the other");
    for v in &views {
        assert_eq!((v.epoch, &v.name), (views[0].epoch, &views[0].name));
        let accounts: Vec<_> = v.members.iter().map(|m| &m.account).collect();
        let first: Vec<_> = views[0].members.iter().map(|m| &m.account).collect();
        assert_eq!(accounts, first, "the same members, in the same order");
    }
    group_until(&dave, &gid, "dave removed", |g| g.state == "removed").await;
    // Bob's message reaches Carol exactly once, whichever branch won.
    let (id, text) = group_text(&mut carol, &gid).await;
    assert_eq!((id.as_str(), text.as_str()), (sent.id.as_str(), "bob's branch"));
    let page = carol.h.history(&gid, None, 50).await.unwrap();
    assert_eq!(page.iter().filter(|m| m.id == sent.id).count(), 1);
    // And the converged group works.
    alice.h.send_text(&gid, "hepimiz aynı yerdeyiz", None).await.unwrap();
    for n in [&mut bob, &mut carol] {
        assert_eq!(group_text(n, &gid).await.1, "hepimiz aynı yerdeyiz");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_info_shows_who_has_and_who_read_a_group_message() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, nodes) = people(dir.path(), &["alice", "bob", "carol"]).await;
    let [alice, mut bob, mut carol]: [TestNode; 3] =
        nodes.try_into().unwrap_or_else(|_| unreachable!());
    let gid = alice.h.group_create("Okuma", "", false).await.unwrap().id;
    for who in ["bob", "carol"] {
        alice.h.group_invite(&gid, who).await.unwrap();
    }
    for n in [&mut bob, &mut carol] {
        answer(n, true).await;
    }
    for n in [&alice, &bob, &carol] {
        group_until(n, &gid, "three members", |g| g.members.len() == 3).await;
    }
    let sent = alice.h.send_text(&gid, "okudunuz mu?", None).await.unwrap();
    for n in [&mut bob, &mut carol] {
        assert_eq!(group_text(n, &gid).await.1, "okudunuz mu?");
    }
    // Bob opens the group (a seen receipt); Carol does not.
    bob.h.mark_read(&gid).await.unwrap();
    let (g, id) = (gid.clone(), sent.id.clone());
    alice
        .until("bob seen, carol delivered", move |h| {
            let (g, id) = (g.clone(), id.clone());
            async move {
                let info = h.receipts(&g, &id).await.unwrap();
                let of = |name: &str| info.iter().find(|r| r.name.starts_with(name)).cloned();
                matches!((of("bob"), of("carol")), (Some(b), Some(c))
                    if b.state == "seen" && c.state == "delivered")
            }
        })
        .await;
    let info = alice.h.receipts(&gid, &sent.id).await.unwrap();
    assert_eq!(info.len(), 2, "one entry per other member: {info:?}");
    let bob_r = info.iter().find(|r| r.name.starts_with("bob")).unwrap();
    let carol_r = info.iter().find(|r| r.name.starts_with("carol")).unwrap();
    assert!(bob_r.seen_at.is_some() && bob_r.delivered_at.is_some());
    assert!(carol_r.delivered_at.is_some() && carol_r.seen_at.is_none());
    assert!(bob_r.seen_at >= bob_r.delivered_at);
    // Receipts are kept for one's own messages only.
    let err = bob.h.receipts(&gid, &sent.id).await.unwrap_err();
    assert!(err.to_string().contains("your own messages"), "{err}");
    for n in [&alice, &bob, &carol] {
        n.h.shutdown().await;
    }
}
