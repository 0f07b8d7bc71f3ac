//! Friends and 1:1 chat between real nodes and a real relay on loopback.

use kovan_node::Event;
use kovan_node::NodeError;
use kovan_node::contacts::FriendState;

use crate::harness::{TestNode, TestRelay, befriend, history_all, next_text, relay_alice_bob};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_find_each_other_befriend_and_chat_both_ways_directly() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, mut alice, mut bob) = relay_alice_bob(dir.path()).await;
    let found = alice.h.search("bo").await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].username.as_deref(), Some("bob"));
    assert_eq!(found[0].account, bob.h.account_hex());

    let req = alice.h.friend_request("bob", "hi, it's me").await.unwrap();
    assert_eq!(req.state, FriendState::Outgoing);
    let Event::FriendRequest { contact } =
        bob.wait("request", |e| matches!(e, Event::FriendRequest { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(contact.account, alice.h.account_hex(), "the request's sender is authenticated");
    assert_eq!(contact.display_name, "alice");
    let accepted = bob.h.friend_accept(&contact.account).await.unwrap();
    assert_eq!(accepted.state, FriendState::Friend);
    let Event::FriendAccepted { contact: bob_seen } =
        alice.wait("accept", |e| matches!(e, Event::FriendAccepted { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(bob_seen.conversation, accepted.conversation, "one conversation, both sides");

    // Alice writes; :shortcodes: become emoji.
    let sent = alice.h.send_text("bob", "merhaba :wave:", None).await.unwrap();
    assert_eq!(sent.text.as_deref(), Some("merhaba 👋"));
    let (id, text) = next_text(&mut bob).await;
    assert_eq!((id.as_str(), text.as_str()), (sent.id.as_str(), "merhaba 👋"));
    // …and the peer's device stored it: delivered, directly.
    alice
        .wait(
            "delivered",
            |e| matches!(e, Event::MessageState { id, state: "delivered", .. } if *id == sent.id),
        )
        .await;

    // Bob answers with a reply; both sides see it.
    let reply = bob.h.send_text(&alice.h.account_hex(), "🎉", Some(&sent.id)).await.unwrap();
    assert!(reply.emoji_only);
    let (rid, rtext) = next_text(&mut alice).await;
    assert_eq!((rid.as_str(), rtext.as_str()), (reply.id.as_str(), "🎉"));
    let page = alice.h.history("bob", None, 10).await.unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0].reply_to.as_deref(), Some(sent.id.as_str()), "newest first, reply kept");
    assert!(!page[0].outgoing && page[1].outgoing);

    // Both connected directly (not only through the relay's circuit).
    let bob_peer = bob.h.peer_id();
    alice
        .until("direct connection", |h| async move {
            h.status().await.unwrap().connected_peers >= 2
                && h.net().connected().await.unwrap().contains(&bob_peer)
        })
        .await;

    // Reactions are synced and counted.
    bob.h.react(&alice.h.account_hex(), &sent.id, ":heart:", false).await.unwrap();
    let Event::Reactions { message } =
        alice.wait("reaction", |e| matches!(e, Event::Reactions { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(message.id, sent.id);
    assert_eq!(message.reactions.len(), 1);
    assert_eq!((message.reactions[0].emoji.as_str(), message.reactions[0].count), ("❤️", 1));
    assert!(!message.reactions[0].mine);
    alice.h.react("bob", &sent.id, "❤️", false).await.unwrap();
    let Event::Reactions { message } =
        bob.wait("second reaction", |e| matches!(e, Event::Reactions { message } if message.reactions.first().is_some_and(|r| r.count == 2))).await
    else {
        unreachable!()
    };
    assert!(message.reactions[0].mine);
    bob.h.react(&alice.h.account_hex(), &sent.id, "❤️", true).await.unwrap();
    alice
        .wait(
            "reaction removed",
            |e| matches!(e, Event::Reactions { message } if message.reactions[0].count == 1),
        )
        .await;

    // Edits and deletes, by the sender only.
    alice.h.edit("bob", &sent.id, "merhaba dünya").await.unwrap();
    let Event::MessageEdited { message } =
        bob.wait("edit", |e| matches!(e, Event::MessageEdited { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(message.text.as_deref(), Some("merhaba dünya"));
    assert!(message.edited_at.is_some());
    let err = bob.h.edit(&alice.h.account_hex(), &sent.id, "hijack").await.unwrap_err();
    assert_eq!(err.kind(), kovan_node::NodeErrorKind::State);
    alice.h.delete("bob", &sent.id).await.unwrap();
    bob.wait("delete", |e| matches!(e, Event::MessageDeleted { id, .. } if *id == sent.id)).await;
    let page = bob.h.history(&alice.h.account_hex(), None, 10).await.unwrap();
    let deleted = page.iter().find(|m| m.id == sent.id).unwrap();
    assert_eq!((deleted.kind, deleted.text.as_deref()), ("deleted", None));

    // Read receipts: alice reads bob's reply, bob sees "seen".
    assert_eq!(alice.h.mark_read("bob").await.unwrap(), 1);
    bob.wait(
        "seen",
        |e| matches!(e, Event::MessageState { id, state: "seen", .. } if *id == reply.id),
    )
    .await;
    let convs = bob.h.conversations().await.unwrap();
    assert_eq!(convs.len(), 1);
    assert_eq!(convs[0].unread, 0, "a deleted message is not unread");

    alice.h.shutdown().await;
    bob.h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_node_gets_its_mailbox_once_in_order_and_keeps_history() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (_, alice_acct) = befriend(&mut alice, &mut bob).await;

    alice.h.send_text("bob", "before the break", None).await.unwrap();
    next_text(&mut bob).await;

    bob.h.shutdown().await;
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(
            alice.h.send_text("bob", &format!("secret message {i:02}"), None).await.unwrap().id,
        );
    }
    // With bob away they go to his mailbox: "sent", not "delivered".
    alice.until("all in the mailbox", |h| async move { h.outbox_len().await.unwrap() == 0 }).await;
    let page = alice.h.history("bob", None, 20).await.unwrap();
    assert!(
        page.iter().all(|m| m.state == "sent"),
        "{:?}",
        page.iter().map(|m| m.state).collect::<Vec<_>>()
    );

    let mut bob = bob.restart().await;
    let mut got = Vec::new();
    while got.len() < 20 {
        got.push(next_text(&mut bob).await);
    }
    let texts: Vec<_> = got.iter().map(|(_, t)| t.clone()).collect();
    let want: Vec<_> = (0..20).map(|i| format!("secret message {i:02}")).collect();
    assert_eq!(texts, want, "in order, once each");
    // Nothing more arrives (no duplicates), and the history is whole.
    let page = bob.h.history(&alice_acct, None, 100).await.unwrap();
    assert_eq!(page.len(), 21, "the restart kept the first message; no duplicates");
    assert_eq!(page.last().unwrap().text.as_deref(), Some("before the break"));
    // Delivery receipts bring alice's messages to "delivered".
    let last = ids.last().unwrap().clone();
    alice
        .wait(
            "delivered receipts",
            |e| matches!(e, Event::MessageState { id, state: "delivered", .. } if *id == last),
        )
        .await;

    // The relay never had any plaintext.
    let disk = relay.disk_bytes();
    for needle in ["secret message", "before the break", "hi, it's me"] {
        assert!(
            !disk.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "the relay's files contain {needle:?}"
        );
    }
    alice.h.shutdown().await;
    bob.h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_and_unfriended_senders_are_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, alice_acct) = befriend(&mut alice, &mut bob).await;

    bob.h.block(&alice_acct).await.unwrap();
    let m = alice.h.send_text("bob", "can you see me", None).await.unwrap();
    // Bob's node takes it (so alice cannot tell) and drops it.
    alice
        .wait("acknowledged", |e| matches!(e, Event::MessageState { id, .. } if *id == m.id))
        .await;
    bob.h.unblock(&alice_acct).await.unwrap();
    alice.h.send_text("bob", "and now", None).await.unwrap();
    let (_, text) = next_text(&mut bob).await;
    assert_eq!(text, "and now", "the blocked message never appeared");
    assert_eq!(bob.h.history(&alice_acct, None, 10).await.unwrap().len(), 1);

    // Unfriending closes the conversation on both sides.
    alice.h.friend_remove(&bob_acct).await.unwrap();
    bob.wait("removal", |e| matches!(e, Event::FriendRemoved { .. })).await;
    let err = bob.h.send_text(&alice_acct, "still there?", None).await.unwrap_err();
    assert_eq!(err.kind(), kovan_node::NodeErrorKind::State);
    let err = alice.h.send_text(&bob_acct, "bye", None).await.unwrap_err();
    assert_eq!(err.kind(), kovan_node::NodeErrorKind::State);
    // History stays readable.
    assert_eq!(bob.h.history(&alice_acct, None, 10).await.unwrap().len(), 1);
    alice.h.shutdown().await;
    bob.h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_refreshed_after_a_hundred_messages_and_the_chat_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    befriend(&mut alice, &mut bob).await;
    let epoch = |h: kovan_node::NodeHandle| async move {
        h.conversations().await.unwrap()[0].epoch.unwrap()
    };
    let start = epoch(alice.h.clone()).await;
    assert_eq!(start, epoch(bob.h.clone()).await);
    let mut last = String::new();
    for i in 0..120 {
        last = alice.h.send_text("bob", &format!("{i}"), None).await.unwrap().id;
    }
    loop {
        let (id, _) = next_text(&mut bob).await;
        if id == last {
            break;
        }
    }
    // Alice refreshed her leaf (a commit) after 100 messages; Bob applied it.
    let a = epoch(alice.h.clone()).await;
    assert!(a > start, "alice's epoch moved: {start} -> {a}");
    let until = a;
    bob.until("bob follows the commit", move |h| async move {
        h.conversations().await.unwrap()[0].epoch == Some(until)
    })
    .await;
    // Both ways still work in the new epoch.
    let reply = bob.h.send_text(&alice.h.account_hex(), "yeni anahtarlar", None).await.unwrap();
    assert_eq!(next_text(&mut alice).await, (reply.id, "yeni anahtarlar".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_key_refreshes_lose_no_message_on_either_side() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    befriend(&mut alice, &mut bob).await;
    // Bob is cut off; both write 110 messages, so each refreshes its keys
    // in the same epoch without knowing of the other's refresh.
    let bob = bob.restart_isolated().await;
    let alice_account = alice.h.account_hex();
    for i in 0..110 {
        alice.h.send_text("bob", &format!("a{i}"), None).await.unwrap();
        bob.h.send_text(&alice_account, &format!("b{i}"), None).await.unwrap();
    }
    let mut bob = bob.reconnect().await;
    // Whichever refresh wins, the loser re-sends what it encrypted in the
    // undone epoch: every message arrives, exactly once, on both sides.
    for (n, prefix) in [(&mut alice, "b"), (&mut bob, "a")] {
        n.until("all 110 messages", move |h| async move {
            let page = history_all(&h).await;
            (0..110).all(|i| page.iter().filter(|t| **t == format!("{prefix}{i}")).count() == 1)
        })
        .await;
    }
    let a = alice.h.conversations().await.unwrap()[0].epoch;
    let until = a;
    bob.until(
        "same epoch",
        move |h| async move { h.conversations().await.unwrap()[0].epoch == until },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reaction_that_is_not_one_emoji_is_dropped_by_its_receiver() {
    use kovan_spec::wire;
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, alice_acct) = befriend(&mut alice, &mut bob).await;
    let sent = bob.h.send_text(&alice_acct, "tepki ver", None).await.unwrap();
    next_text(&mut alice).await;
    let target = hex::decode(&sent.id).unwrap();
    // A peer sends words as a "reaction" (refused by kovan's own API),
    // then a real one: Bob shows only the real one.
    for emoji in ["not an emoji", ":nosuchcode:", "👍"] {
        let r = wire::Reaction { target: target.clone(), emoji: emoji.into(), remove: false };
        alice
            .h
            .send_raw_content(&bob_acct, wire::app_envelope::Content::Reaction(r))
            .await
            .unwrap();
    }
    let ev = bob.wait("a reaction", |e| matches!(e, Event::Reactions { .. })).await;
    let Event::Reactions { message } = ev else { unreachable!() };
    let shown: Vec<&str> = message.reactions.iter().map(|r| r.emoji.as_str()).collect();
    assert_eq!(shown, ["👍"]);
    alice.h.shutdown().await;
    bob.h.shutdown().await;
}

/// Search inside a chat finds what was said (text, a poll, a file's name),
/// ignoring case and Turkish dotted/dotless i, newest first, across more
/// than one history page; the chat list carries the newest message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_is_searched_across_pages_and_the_list_shows_its_newest_message() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(&dir.path().join("relay")).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, _) = befriend(&mut alice, &mut bob).await;
    alice.h.send_text(&bob_acct, "İstanbul'da buluşalım mı?", None).await.unwrap();
    // More than a page (500) of filler between the hits.
    for i in 0..620 {
        alice.h.send_text(&bob_acct, &format!("dolgu {i}"), None).await.unwrap();
    }
    let options = vec!["ISTANBUL".to_owned(), "Ankara".to_owned()];
    alice.h.poll_create(&bob_acct, "Nerede?", options, false).await.unwrap();
    alice.h.send_text(&bob_acct, "son söz", None).await.unwrap();

    let hits = alice.h.search_chat(&bob_acct, "istanbul", 50).await.unwrap();
    assert_eq!(hits.len(), 2, "{:?}", hits.iter().map(|m| (&m.kind, &m.text)).collect::<Vec<_>>());
    assert_eq!(hits[0].kind, "poll", "the newest hit first");
    assert_eq!(hits[1].text.as_deref(), Some("İstanbul'da buluşalım mı?"));
    let one = alice.h.search_chat(&bob_acct, "DOLGU 61", 50).await.unwrap();
    let texts: Vec<_> = one.iter().filter_map(|m| m.text.clone()).collect();
    assert_eq!(
        texts,
        [
            "dolgu 619",
            "dolgu 618",
            "dolgu 617",
            "dolgu 616",
            "dolgu 615",
            "dolgu 614",
            "dolgu 613",
            "dolgu 612",
            "dolgu 611",
            "dolgu 610",
            "dolgu 61"
        ]
    );
    assert!(alice.h.search_chat(&bob_acct, "yok böyle bir şey", 50).await.unwrap().is_empty());
    assert!(matches!(alice.h.search_chat(&bob_acct, "  ", 50).await, Err(NodeError::Invalid(_))));

    let list = alice.h.conversations().await.unwrap();
    let last = list[0].last.as_ref().expect("the newest message in the list");
    assert_eq!(last.text.as_deref(), Some("son söz"));
    assert!(last.outgoing);
}

/// A draft survives a restart, goes when emptied, and a sealed chat keeps
/// none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_is_kept_across_a_restart_and_never_for_a_sealed_chat() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(&dir.path().join("relay")).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, _) = befriend(&mut alice, &mut bob).await;
    let draft = |list: Vec<kovan_node::node::ConversationView>| list[0].draft.clone();

    alice.h.set_draft(&bob_acct, "yarın sabah\nikinci satır").await.unwrap();
    let alice = alice.restart().await;
    let kept = draft(alice.h.conversations().await.unwrap());
    assert_eq!(kept.as_deref(), Some("yarın sabah\nikinci satır"));
    alice.h.set_draft(&bob_acct, "  ").await.unwrap();
    assert_eq!(draft(alice.h.conversations().await.unwrap()), None);

    let too_long = "a".repeat(kovan_node::node::MAX_DRAFT + 1);
    assert!(matches!(alice.h.set_draft(&bob_acct, &too_long).await, Err(NodeError::Invalid(_))));

    alice.h.set_draft(&bob_acct, "mühürden önce").await.unwrap();
    let conv = alice.h.conversations().await.unwrap()[0].id.clone();
    alice.h.seal(&conv, "kedi masada uyuyor").await.unwrap();
    assert_eq!(draft(alice.h.conversations().await.unwrap()), None, "a sealed chat shows no draft");
    let refused = alice.h.set_draft(&bob_acct, "sonra").await;
    assert!(matches!(refused, Err(NodeError::State(_))), "{refused:?}");
}

/// Typing indicators (SPEC.md §6.8): a signal and its stop arrive as
/// events, never as history; repeats are held back; off means neither
/// sent nor shown; a stale one (its sender's clock a minute behind) is
/// dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_shows_and_stops_never_lands_in_history_and_can_be_turned_off() {
    use kovan_node::clock::{Clock, ManualClock, system_now_ms};
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(&dir.path().join("relay")).await;
    let clock = ManualClock::new(system_now_ms());
    let mut alice =
        TestNode::with_clock(dir.path(), "alice", Some(&relay.url), Clock::Manual(clock.clone()))
            .await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, alice_acct) = befriend(&mut alice, &mut bob).await;
    let typing =
        |want: bool| move |e: &Event| matches!(e, Event::Typing { active, .. } if *active == want);

    assert!(alice.h.typing(&bob_acct, true).await.unwrap());
    let Event::Typing { account, .. } = bob.wait("typing", typing(true)).await else {
        unreachable!()
    };
    assert_eq!(account, alice_acct);
    assert!(!alice.h.typing(&bob_acct, true).await.unwrap(), "a repeat within 4 s went out");
    clock.advance(std::time::Duration::from_secs(5));
    // Five seconds on her clock: still fresh for bob (within 10 s).
    assert!(alice.h.typing(&bob_acct, true).await.unwrap());
    bob.wait("typing again", typing(true)).await;
    assert!(alice.h.typing(&bob_acct, false).await.unwrap());
    bob.wait("stopped", typing(false)).await;
    assert!(!alice.h.typing(&bob_acct, false).await.unwrap(), "nothing to stop");
    assert!(history_all(&bob.h).await.is_empty(), "a typing signal became history");

    // A minute behind: bob drops it.
    clock.set(system_now_ms() - 60_000);
    assert!(alice.h.typing(&bob_acct, true).await.unwrap());
    clock.set(system_now_ms());
    alice.h.send_text(&bob_acct, "şimdi", None).await.unwrap();
    let ev = typing_or_text(&mut bob, "her text").await;
    assert!(matches!(ev, Event::Message { .. }), "a stale typing signal was shown: {ev:?}");

    // Off on bob's side: none shown to him, none sent by him.
    bob.h.set_typing_indicators(false).await.unwrap();
    assert!(!bob.h.typing(&alice_acct, true).await.unwrap());
    clock.advance(std::time::Duration::from_secs(5));
    assert!(alice.h.typing(&bob_acct, true).await.unwrap());
    alice.h.send_text(&bob_acct, "sonra", None).await.unwrap();
    let ev = typing_or_text(&mut bob, "her second text").await;
    assert!(matches!(ev, Event::Message { .. }), "shown while off: {ev:?}");
}

/// The next typing signal or incoming message, whichever comes first.
async fn typing_or_text(n: &mut TestNode, what: &str) -> Event {
    n.wait(what, |e| {
        matches!(e, Event::Typing { .. })
            || matches!(e, Event::Message { message } if !message.outgoing)
    })
    .await
}
