//! Friends without a relay (LAN), replayed and tampered envelopes, changed
//! identities, settings.

use std::time::Duration;

use kovan_node::Event;
use kovan_node::contacts::FriendState;
use kovan_node::relay_client::RelayClient;
use sqlx::Connection;

use crate::harness::{TestNode, TestRelay, WAIT, befriend, next_text, relay_alice_bob};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_the_lan_without_a_relay_befriend_and_chat() {
    let dir = tempfile::tempdir().unwrap();
    let mut alice = TestNode::new_with(dir.path(), "alice", None, true).await;
    let mut bob = TestNode::new_with(dir.path(), "bob", None, true).await;

    // mDNS finds bob, and his card (certificate) checks out.
    let bob_peer = bob.h.peer_id().to_string();
    let mut found = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while found.is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "bob never showed up on the LAN");
        found = alice.h.search("bob").await.unwrap();
        found.retain(|r| r.peer_id == bob_peer);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(found[0].source, "lan");
    assert_eq!(found[0].account, bob.h.account_hex());

    alice.h.friend_request(&found[0].target, "over the LAN").await.unwrap();
    let Event::FriendRequest { contact } =
        bob.wait("request", |e| matches!(e, Event::FriendRequest { .. })).await
    else {
        unreachable!()
    };
    bob.h.friend_accept(&contact.account).await.unwrap();
    alice.wait("accept", |e| matches!(e, Event::FriendAccepted { .. })).await;
    let bob_acct = bob.h.account_hex();
    let m = alice.h.send_text(&bob_acct, "no relay needed", None).await.unwrap();
    assert_eq!(next_text(&mut bob).await.1, "no relay needed");
    alice
        .wait(
            "delivered",
            |e| matches!(e, Event::MessageState { id, state: "delivered", .. } if *id == m.id),
        )
        .await;
    bob.h.send_text(&alice.h.account_hex(), "indeed", None).await.unwrap();
    assert_eq!(next_text(&mut alice).await.1, "indeed");
    alice.h.shutdown().await;
    bob.h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_and_tampered_envelopes_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (_, alice_acct) = befriend(&mut alice, &mut bob).await;
    let bob_peer = bob.h.peer_id().to_string();

    // Bob goes away; alice's message waits in his mailbox, where we copy it.
    bob.h.shutdown().await;
    alice.h.send_text("bob", "only once", None).await.unwrap();
    alice.until("in the mailbox", |h| async move { h.outbox_len().await.unwrap() == 0 }).await;
    let db = format!("sqlite://{}", relay.dir.join("relay.sqlite3").display());
    let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
    let (envelope,): (Vec<u8>,) =
        sqlx::query_as("SELECT envelope FROM mailbox WHERE device_peer_id = ?1 ORDER BY seq DESC")
            .bind(&bob_peer)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    conn.close().await.unwrap();

    let mut bob = bob.restart().await;
    assert_eq!(next_text(&mut bob).await.1, "only once");

    // Logged-in nodes keep KeyPackages on the relay: 20 and a last-resort one.
    bob.until("key packages uploaded", |_| {
        let db = db.clone();
        let peer = bob_peer.clone();
        async move {
            let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
            let (n, lr): (i64, i64) = sqlx::query_as(
                "SELECT COUNT(*), COALESCE(SUM(last_resort), 0) FROM key_packages \
                 WHERE device_peer_id = ?1",
            )
            .bind(&peer)
            .fetch_one(&mut conn)
            .await
            .unwrap();
            conn.close().await.unwrap();
            n >= 21 && lr == 1
        }
    })
    .await;

    // The same envelope again, and a tampered copy, through the mailbox.
    let client = RelayClient::new(&relay.url).unwrap();
    client.put_envelope(&bob_peer, envelope.clone()).await.unwrap();
    let mut tampered = envelope.clone();
    let i = tampered.len() / 2;
    tampered[i] ^= 0x01;
    client.put_envelope(&bob_peer, tampered).await.unwrap();
    // A real message after them shows they were processed (and dropped).
    alice.h.send_text("bob", "after the replay", None).await.unwrap();
    assert_eq!(next_text(&mut bob).await.1, "after the replay");
    let page = bob.h.history(&alice_acct, None, 10).await.unwrap();
    let texts: Vec<_> = page.iter().map(|m| m.text.clone().unwrap()).collect();
    assert_eq!(texts, ["after the replay", "only once"], "no duplicate, no forgery");

    // The relay's mailbox ends empty: bad items were acknowledged, not retried forever.
    let bob_h = bob.h.clone();
    bob.until("mailbox drained", |_| {
        let db = db.clone();
        let peer = bob_peer.clone();
        async move {
            let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
            let (n,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM mailbox WHERE device_peer_id = ?1")
                    .bind(&peer)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
            conn.close().await.unwrap();
            n == 0
        }
    })
    .await;
    drop(bob_h);
    alice.h.shutdown().await;
    bob.h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_identity_behind_a_username_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, _) = befriend(&mut alice, &mut bob).await;
    let v = alice.h.verify(&bob_acct, kovan_node::node::Verification::Compared).await.unwrap();
    assert!(v.verified);

    // Settings reach the directory.
    bob.h.update_settings(&serde_json::json!({"display_name": "Bob B."})).await.unwrap();
    let found = alice.h.search("bob").await.unwrap();
    assert_eq!(found[0].display_name, "Bob B.");

    // "bob" is deleted and taken by someone else's key.
    bob.h.delete_account("a long password").await.unwrap();
    bob.h.shutdown().await;
    let impostor = TestNode::new(dir.path(), "bob2", Some(&relay.url)).await;
    impostor.h.register("bob", "another password").await.unwrap();

    alice.h.search("bob").await.unwrap();
    let Event::IdentityChanged { contact, new_account } =
        alice.wait("identity warning", |e| matches!(e, Event::IdentityChanged { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(contact.account, bob_acct);
    assert_eq!(new_account, impostor.h.account_hex());
    let contacts = alice.h.contacts().await.unwrap();
    let old = contacts.iter().find(|c| c.account == bob_acct).unwrap();
    assert!(old.identity_changed && !old.verified, "flagged and no longer verified");
    assert_eq!(old.state, FriendState::Friend);
    // The safety number with the newcomer differs from the one verified.
    let sn_old = alice.h.safety_number(&bob_acct).await.unwrap();
    let sn_new = alice.h.safety_number(&impostor.h.account_hex()).await.unwrap();
    assert_ne!(sn_old, sn_new);
    alice.h.shutdown().await;
    impostor.h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_relay_or_lan_a_known_address_is_enough() {
    let dir = tempfile::tempdir().unwrap();
    let mut alice = TestNode::new(dir.path(), "alice", None).await;
    let mut bob = TestNode::new(dir.path(), "bob", None).await;
    let addr = bob.h.listen_addrs().await.unwrap().into_iter().next().unwrap();
    let target = format!("{addr}/p2p/{}", bob.h.peer_id());

    // Another device's PeerId at bob's address is refused: dials name the
    // peer they expect, and Noise proves who answered.
    let carol = kovan_node::identity::Identity::create_with_params(
        &kovan_node::home::Home::at(dir.path().join("carol")),
        b"pw",
        "carol",
        Default::default(),
    )
    .unwrap();
    let wrong = format!("{addr}/p2p/{}", carol.peer_id());
    assert!(alice.h.friend_request(&wrong, "").await.is_err());

    let c = alice.h.friend_request(&target, "").await.unwrap();
    assert_eq!(c.account, bob.h.account_hex());
    assert_eq!(c.display_name, "bob");
    let Event::FriendRequest { contact } =
        bob.wait("request", |e| matches!(e, Event::FriendRequest { .. })).await
    else {
        unreachable!()
    };
    bob.h.friend_accept(&contact.account).await.unwrap();
    alice.wait("accept", |e| matches!(e, Event::FriendAccepted { .. })).await;
    bob.h.send_text(&contact.account, "found you by address", None).await.unwrap();
    assert_eq!(next_text(&mut alice).await.1, "found you by address");
    alice.h.shutdown().await;
    bob.h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_from_an_unfriended_sender_never_appears() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, alice_acct) = befriend(&mut alice, &mut bob).await;
    let alice_peer = alice.h.peer_id().to_string();

    // Bob writes while alice is away; we take the envelope out of her
    // mailbox before she sees it.
    alice.h.shutdown().await;
    bob.h.send_text(&alice_acct, "sent while we were friends", None).await.unwrap();
    bob.until("in the mailbox", |h| async move { h.outbox_len().await.unwrap() == 0 }).await;
    let db = format!("sqlite://{}", relay.dir.join("relay.sqlite3").display());
    let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
    let (envelope,): (Vec<u8>,) =
        sqlx::query_as("SELECT envelope FROM mailbox WHERE device_peer_id = ?1")
            .bind(&alice_peer)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    sqlx::query("DELETE FROM mailbox WHERE device_peer_id = ?1")
        .bind(&alice_peer)
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    // Alice comes back and ends the friendship; then the message arrives.
    let mut alice = alice.restart().await;
    alice.h.friend_remove(&bob_acct).await.unwrap();
    bob.wait("removal", |e| matches!(e, Event::FriendRemoved { .. })).await;
    RelayClient::new(&relay.url).unwrap().put_envelope(&alice_peer, envelope).await.unwrap();
    // Once her mailbox is drained, the message has been processed: dropped.
    alice
        .until("mailbox drained", |_| {
            let db = db.clone();
            let peer = alice_peer.clone();
            async move {
                let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
                let (n,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM mailbox WHERE device_peer_id = ?1")
                        .bind(&peer)
                        .fetch_one(&mut conn)
                        .await
                        .unwrap();
                conn.close().await.unwrap();
                n == 0
            }
        })
        .await;
    let page = alice.h.history(&bob_acct, None, 10).await.unwrap();
    assert!(page.iter().all(|m| m.text.as_deref() != Some("sent while we were friends")));
    while let Ok(ev) = alice.events.try_recv() {
        assert!(
            !matches!(ev, Event::Message { ref message } if !message.outgoing),
            "an unfriended sender's message was shown: {ev:?}"
        );
    }
    alice.h.shutdown().await;
    bob.h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_friend_request_carrying_another_devices_key_package_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (relay, alice, mut bob) = relay_alice_bob(dir.path()).await;

    // Mallory asks with carol's KeyPackage: if bob accepted, the Welcome
    // would make carol's device a member of a conversation with "mallory".
    let (mallory, _) = device_with_key_package(&dir.path().join("mallory"), "m");
    let (_, carol_kp) = device_with_key_package(&dir.path().join("carol"), "carol");
    put_friend_request(&relay.url, "bob", &mallory, |r| {
        r.key_package = carol_kp;
        r.display_name = "mallory".into();
        r.note = "trust me".into();
    })
    .await;

    // A genuine request after it is the first one bob sees.
    alice.h.friend_request("bob", "the real one").await.unwrap();
    let Event::FriendRequest { contact } =
        bob.wait("a request", |e| matches!(e, Event::FriendRequest { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(contact.note, "the real one");
    let contacts = bob.h.contacts().await.unwrap();
    assert_eq!(contacts.len(), 1, "mallory's request left no trace: {contacts:?}");
    alice.h.shutdown().await;
    bob.h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_then_crossed_requests_end_in_one_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, mut alice, mut bob) = relay_alice_bob(dir.path()).await;

    alice.h.friend_request("bob", "").await.unwrap();
    let Event::FriendRequest { contact } =
        bob.wait("request", |e| matches!(e, Event::FriendRequest { .. })).await
    else {
        unreachable!()
    };
    bob.h.friend_decline(&contact.account).await.unwrap();
    let Event::FriendDeclined { contact: declined } =
        alice.wait("decline", |e| matches!(e, Event::FriendDeclined { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(declined.state, FriendState::Declined);
    assert!(alice.h.send_text("bob", "hello?", None).await.is_err(), "no conversation");

    // Both ask at once: exactly one conversation comes out of it, and both
    // sides use the same one.
    let (a, b) = tokio::join!(alice.h.friend_request("bob", ""), bob.h.friend_request("alice", ""));
    a.unwrap();
    b.unwrap();
    let bob_acct = bob.h.account_hex();
    let alice_acct = alice.h.account_hex();
    let friends = |h: kovan_node::NodeHandle, other: String| async move {
        h.contacts()
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.account == other && c.state == FriendState::Friend)
            .and_then(|c| c.conversation)
    };
    alice
        .until("alice befriended", |h| {
            let o = bob_acct.clone();
            async move { friends(h, o).await.is_some() }
        })
        .await;
    bob.until("bob befriended", |h| {
        let o = alice_acct.clone();
        async move { friends(h, o).await.is_some() }
    })
    .await;
    let ca = friends(alice.h.clone(), bob_acct.clone()).await.unwrap();
    let cb = friends(bob.h.clone(), alice_acct.clone()).await.unwrap();
    assert_eq!(ca, cb, "one conversation");
    alice.h.send_text(&bob_acct, "finally", None).await.unwrap();
    assert_eq!(next_text(&mut bob).await.1, "finally");
    assert_eq!(alice.h.conversations().await.unwrap().len(), 1);
    alice.h.shutdown().await;
    bob.h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_settings_from_the_node_sessions_password_and_avatar() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    alice.h.register("alice", "first password").await.unwrap();

    // A second login makes a second session; the first one can be revoked.
    alice.h.login("alice", "first password").await.unwrap();
    let sessions = alice.h.sessions().await.unwrap();
    let list = sessions.as_array().unwrap();
    assert_eq!(list.len(), 2, "{sessions}");
    let old = list.iter().find(|s| s["current"] == false).unwrap()["id"].as_str().unwrap();
    alice.h.revoke_session(old).await.unwrap();
    assert_eq!(alice.h.sessions().await.unwrap().as_array().unwrap().len(), 1);

    // Password change: the old one stops working, the new one works.
    alice.h.change_password("first password", "second password").await.unwrap();
    let err = alice.h.login("alice", "first password").await.unwrap_err();
    assert_eq!(err.kind(), kovan_node::NodeErrorKind::RelayRefused);
    alice.h.login("alice", "second password").await.unwrap();

    // Avatar: set, served by the directory, refused when not an image, removed.
    let png: Vec<u8> = [&b"\x89PNG\r\n\x1a\n"[..], &[0u8; 64]].concat();
    alice.h.set_avatar(Some(png.clone())).await.unwrap();
    let url = format!("{}/v1/users/alice/avatar", relay.url);
    let served = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
    assert_eq!(served.as_ref(), png.as_slice());
    assert_eq!(alice.h.avatar("alice").await.unwrap(), Some(png.clone()), "through the node");
    let err = alice.h.set_avatar(Some(b"not an image".to_vec())).await.unwrap_err();
    assert_eq!(err.kind(), kovan_node::NodeErrorKind::RelayRefused);
    alice.h.set_avatar(None).await.unwrap();
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 404);
    assert_eq!(alice.h.avatar("alice").await.unwrap(), None);

    // "Nobody may send me friend requests": a kovan node does not even
    // send one and says why; one sent anyway is dropped unseen. "everyone"
    // again: shown.
    alice.h.update_settings(&serde_json::json!({"friend_policy": "nobody"})).await.unwrap();
    let mut alice = alice;
    let bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    bob.h.register("bob", "a long password").await.unwrap();
    let err = bob.h.friend_request("alice", "first try").await.unwrap_err();
    assert_eq!(err.to_string(), "alice takes no friend requests");
    let (mallory, kp) = device_with_key_package(&dir.path().join("mallory"), "m");
    put_friend_request(&relay.url, "alice", &mallory, |r| r.key_package = kp).await;
    alice.h.update_settings(&serde_json::json!({"friend_policy": "everyone"})).await.unwrap();
    let carol = TestNode::new(dir.path(), "carol", Some(&relay.url)).await;
    carol.h.register("carol", "a long password").await.unwrap();
    carol.h.friend_request("alice", "second try").await.unwrap();
    let Event::FriendRequest { contact } =
        alice.wait("a request", |e| matches!(e, Event::FriendRequest { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(contact.note, "second try", "the request sent under \"nobody\" never showed");
    assert_eq!(alice.h.contacts().await.unwrap().len(), 1);
    alice.h.shutdown().await;
    bob.h.shutdown().await;
    carol.h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_friend_shows_online_while_connected_and_last_seen_after_leaving() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, alice_acct) = befriend(&mut alice, &mut bob).await;
    // Bob learnt Alice's username from her request, once the relay's
    // directory confirmed it is hers.
    bob.until("alice's username", |h| {
        let acct = alice_acct.clone();
        async move {
            h.contacts()
                .await
                .unwrap()
                .iter()
                .any(|c| c.account == acct && c.username.as_deref() == Some("alice"))
        }
    })
    .await;
    // A direct message opens a connection: bob is online for alice.
    alice.h.send_text(&bob_acct, "orada mısın?", None).await.unwrap();
    assert_eq!(next_text(&mut bob).await.1, "orada mısın?");
    let acct = bob_acct.clone();
    alice
        .until("bob online", |h| {
            let acct = acct.clone();
            async move { h.contacts().await.unwrap().iter().any(|c| c.account == acct && c.online) }
        })
        .await;
    let before = kovan_node::clock::system_now_ms();
    bob.h.shutdown().await;
    let ev = alice
        .wait(
            "bob offline",
            |e| matches!(e, Event::Presence { account, online: false, .. } if *account == bob_acct),
        )
        .await;
    let Event::Presence { last_seen, .. } = ev else { unreachable!() };
    assert!(last_seen.is_some_and(|t| t >= before), "{last_seen:?} after {before}");
    let bob_view =
        alice.h.contacts().await.unwrap().into_iter().find(|c| c.account == bob_acct).unwrap();
    assert!(!bob_view.online);
    assert_eq!(bob_view.last_seen, last_seen);
    alice.h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_links_admit_requests_under_the_link_policy_and_pin_the_account() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let carol = TestNode::new(dir.path(), "carol", Some(&relay.url)).await;
    for n in [&alice, &bob, &carol] {
        n.h.register(&n.name, "a long password").await.unwrap();
    }
    alice.h.update_settings(&serde_json::json!({"friend_policy": "link"})).await.unwrap();

    // Knowing her username is not enough: bob is told so, nothing is sent.
    let err = bob.h.friend_request("alice", "").await.unwrap_err();
    assert!(err.to_string().contains("only through an invite link"), "{err}");

    // A one-use link brings bob's request through.
    let invite = alice.h.invite_create("for bob", None, Some(1)).await.unwrap();
    assert!(invite.link.starts_with("kovan:add?u=alice&k="), "{}", invite.link);
    assert_eq!(invite.state, "live");
    bob.h.friend_request(&invite.link, "from your link").await.unwrap();
    let Event::FriendRequest { contact } =
        alice.wait("bob's request", |e| matches!(e, Event::FriendRequest { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(contact.note, "from your link");
    alice.h.friend_accept(&contact.account).await.unwrap();
    bob.wait("accepted", |e| matches!(e, Event::FriendAccepted { .. })).await;

    // Used up: carol's request through the same link is dropped unseen,
    // and so is one with a revoked link's token or with none.
    carol.h.friend_request(&invite.link, "me too").await.unwrap();
    carol.until("sent", |h| async move { h.outbox_len().await.unwrap() == 0 }).await;
    let revoked = alice.h.invite_create("old", None, None).await.unwrap();
    alice.h.invite_revoke(&revoked.id).await.unwrap();
    let token = kovan_node::invites::InviteLink::parse(&revoked.link).unwrap().unwrap().token;
    let (mallory, kp) = device_with_key_package(&dir.path().join("mallory"), "m");
    put_friend_request(&relay.url, "alice", &mallory, |r| {
        r.key_package = kp;
        r.invite = token.to_vec();
    })
    .await;
    // A live link still works after those (they were handled in order).
    let dave = TestNode::new(dir.path(), "dave", Some(&relay.url)).await;
    dave.h.register("dave", "a long password").await.unwrap();
    let open = alice.h.invite_create("", Some(3_600_000), None).await.unwrap();
    dave.h.friend_request(&open.link, "dave here").await.unwrap();
    let Event::FriendRequest { contact } =
        alice.wait("dave's request", |e| matches!(e, Event::FriendRequest { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(contact.note, "dave here", "carol's or mallory's request came through");
    let incoming: Vec<_> = alice
        .h
        .contacts()
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.state == kovan_node::contacts::FriendState::Incoming)
        .collect();
    assert_eq!(incoming.len(), 1, "only dave's request waits: {incoming:?}");

    let list = alice.h.invites().await.unwrap();
    let state = |id: &str| list.iter().find(|i| i.id == id).map(|i| (i.state, i.used));
    assert_eq!(state(&invite.id), Some(("used_up", 1)));
    assert_eq!(state(&revoked.id), Some(("revoked", 0)));
    assert_eq!(state(&open.id), Some(("live", 1)));

    // A link whose account key is not the one the username resolves to
    // (a relay swapping keys, or a wrong link) sends nothing.
    let swapped = open.link.replace(&alice.h.account_hex(), &carol.h.account_hex());
    let err = carol.h.friend_request(&swapped, "").await.unwrap_err();
    assert!(err.to_string().contains("is not the account the invite link is for"), "{err}");
    let err = carol.h.friend_request("kovan:add?u=alice&t=00", "").await.unwrap_err();
    assert_eq!(err.kind(), kovan_node::NodeErrorKind::InvalidInput);
    let requests = alice.h.contacts().await.unwrap();
    let waiting =
        requests.iter().filter(|c| c.state == kovan_node::contacts::FriendState::Incoming);
    assert_eq!(waiting.count(), 1, "a request without a live link came through later");
    for n in [&alice, &bob, &carol, &dave] {
        n.h.shutdown().await;
    }
}

/// Whether `h` sees `account` online.
async fn sees_online(h: &kovan_node::NodeHandle, account: &str) -> bool {
    h.contacts().await.unwrap().iter().any(|c| c.account == account && c.online)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_account_no_longer_sees_you_online() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, alice_acct) = befriend(&mut alice, &mut bob).await;
    alice.h.send_text(&bob_acct, "merhaba", None).await.unwrap();
    assert_eq!(next_text(&mut bob).await.1, "merhaba");
    let acct = alice_acct.clone();
    bob.until("alice online", move |h| {
        let acct = acct.clone();
        async move { sees_online(&h, &acct).await }
    })
    .await;

    // Alice blocks Bob: her device closes its connections to his and
    // refuses new ones, so for Bob she is offline.
    alice.h.block(&bob_acct).await.unwrap();
    bob.wait(
        "alice offline",
        |e| matches!(e, Event::Presence { account, online: false, .. } if *account == alice_acct),
    )
    .await;
    // Bob dials her and writes: her device closes the connection at once
    // (his message goes to her mailbox and is dropped there), and she
    // never shows online for him.
    let mut events = bob.h.subscribe();
    let alice_addrs = alice.h.listen_addrs().await.unwrap();
    let _ = bob.h.net().dial(alice.h.peer_id(), alice_addrs).await;
    bob.h.send_text(&alice_acct, "beni duyuyor musun?", None).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!sees_online(&bob.h, &alice_acct).await, "alice shows online to a blocked bob");
    while let Ok(e) = events.try_recv() {
        let flicker =
            matches!(&e, Event::Presence { account, online: true, .. } if *account == alice_acct);
        assert!(!flicker, "alice showed online to a blocked bob for a moment");
    }
    assert!(
        !bob.h.net().connected().await.unwrap().contains(&alice.h.peer_id()),
        "a blocked device kept a connection"
    );

    // Unblocked, they talk again and see each other.
    alice.h.unblock(&bob_acct).await.unwrap();
    bob.h.send_text(&alice_acct, "şimdi?", None).await.unwrap();
    assert_eq!(next_text(&mut alice).await.1, "şimdi?");
    let acct = alice_acct.clone();
    bob.until("alice online again", move |h| {
        let acct = acct.clone();
        async move { sees_online(&h, &acct).await }
    })
    .await;
    alice.h.shutdown().await;
    bob.h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_to_another_relay_starts_its_session_and_mailbox_afresh_and_loses_no_mail() {
    let dir = tempfile::tempdir().unwrap();
    let first = TestRelay::start(&dir.path().join("first")).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&first.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&first.url)).await;
    let (bob_acct, _) = befriend(&mut alice, &mut bob).await;
    // Bob's mailbox cursor on the first relay moves past a few items.
    bob.h.shutdown().await;
    for i in 0..3 {
        alice.h.send_text(&bob_acct, &format!("ilk {i}"), None).await.unwrap();
    }
    let mut bob = TestNode::reopen(bob.home.root().to_owned(), "bob", Some(&first.url)).await;
    for i in 0..3 {
        assert_eq!(next_text(&mut bob).await.1, format!("ilk {i}"));
    }

    // Both move to a second relay: no session there yet.
    let second = TestRelay::start(&dir.path().join("second")).await;
    bob.h.shutdown().await;
    alice.h.shutdown().await;
    let bob = TestNode::reopen(bob.home.root().to_owned(), "bob", Some(&second.url)).await;
    let alice = TestNode::reopen(alice.home.root().to_owned(), "alice", Some(&second.url)).await;
    assert_eq!(bob.h.status().await.unwrap().username, None);
    bob.h.register("bob", "a long password").await.unwrap();
    alice.h.register("alice", "a long password").await.unwrap();
    // Bob is offline: the message waits in his new mailbox, at its first
    // sequence numbers, which the old relay's cursor would have skipped.
    bob.h.shutdown().await;
    alice.h.send_text(&bob_acct, "yeni relay", None).await.unwrap();
    alice
        .until("the message in the mailbox", |h| async move { h.outbox_len().await.unwrap() == 0 })
        .await;
    let mut bob = TestNode::reopen(bob.home.root().to_owned(), "bob", Some(&second.url)).await;
    assert_eq!(next_text(&mut bob).await.1, "yeni relay");

    // Back on the first relay, the old session still works.
    bob.h.shutdown().await;
    let bob = TestNode::reopen(bob.home.root().to_owned(), "bob", Some(&first.url)).await;
    assert_eq!(bob.h.status().await.unwrap().username.as_deref(), Some("bob"));
    bob.h.shutdown().await;
    alice.h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_friend_request_claiming_someone_elses_username_is_not_believed() {
    let dir = tempfile::tempdir().unwrap();
    let (relay, alice, mut bob) = relay_alice_bob(dir.path()).await;

    // Mallory's own device asks, claiming to be "alice" on the relay.
    let (mallory, mallory_kp) = device_with_key_package(&dir.path().join("mallory"), "m");
    put_friend_request(&relay.url, "bob", &mallory, |r| {
        r.key_package = mallory_kp;
        r.display_name = "alice".into();
        r.note = "it's me".into();
        r.username = "alice".into();
    })
    .await;
    let mallory_acct = hex::encode(mallory.account().as_bytes());
    let ev = bob.wait("mallory's request", |e| matches!(e, Event::FriendRequest { .. })).await;
    let Event::FriendRequest { contact } = ev else { unreachable!() };
    assert_eq!(contact.account, mallory_acct);

    // The real alice asks after: her claim is confirmed, mallory's never.
    alice.h.friend_request("bob", "the real one").await.unwrap();
    let alice_acct = alice.h.account_hex();
    bob.until("alice's confirmed username", |h| {
        let acct = alice_acct.clone();
        async move {
            h.contacts()
                .await
                .unwrap()
                .iter()
                .any(|c| c.account == acct && c.username.as_deref() == Some("alice"))
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let contacts = bob.h.contacts().await.unwrap();
    let m = contacts.iter().find(|c| c.account == mallory_acct).unwrap();
    assert_eq!(m.username, None, "a claim the directory does not confirm is ignored");
    alice.h.shutdown().await;
    bob.h.shutdown().await;
}

/// Seals a friend request from `sender`'s device to `to`'s device (found
/// in the relay's directory) and puts it in that device's mailbox, as a
/// hostile client could; `fill` sets the request's fields.
pub(crate) async fn put_friend_request(
    relay: &str,
    to: &str,
    sender: &kovan_node::identity::Identity,
    fill: impl FnOnce(&mut kovan_spec::wire::FriendRequest),
) {
    use kovan_crypto::envelope::{self, PayloadKind, Sender};
    use kovan_spec::wire;
    let client = RelayClient::new(relay).unwrap();
    let to_cert = directory_certificate(&client, to).await;
    let mut request = wire::FriendRequest {
        recipient_account: to_cert.account().as_bytes().to_vec(),
        ..Default::default()
    };
    fill(&mut request);
    let message = wire::FriendMessage {
        version: 1,
        request_id: vec![9; 16],
        body: Some(wire::friend_message::Body::Request(request)),
    };
    let from = Sender { keys: sender.device_keys(), certificate: sender.certificate() };
    let sealed = envelope::seal(
        &mut rand_core::OsRng,
        &from,
        &to_cert.keys().envelope,
        PayloadKind::Friend,
        &kovan_spec::encode(&message),
        kovan_node::identity::now_secs() * 1000,
    )
    .unwrap();
    client.put_envelope(&to_cert.peer_id().to_string(), sealed.bytes).await.unwrap();
}

/// The certificate of `username`'s first device, from the relay's
/// directory.
async fn directory_certificate(
    client: &RelayClient,
    username: &str,
) -> kovan_crypto::identity::DeviceCertificate {
    let profile = client.user(username).await.unwrap();
    let cert = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        profile["devices"][0]["certificate"].as_str().unwrap(),
    )
    .unwrap();
    kovan_crypto::identity::DeviceCertificate::parse(&cert).unwrap()
}

/// A device made outside any node (as a hostile client would), with one
/// of its KeyPackages.
pub(crate) fn device_with_key_package(
    home: &std::path::Path,
    name: &str,
) -> (kovan_node::identity::Identity, Vec<u8>) {
    use kovan_node::conversation::Conversations;
    use kovan_node::home::Home;
    use kovan_node::identity::Identity;
    use kovan_node::store::Database;
    tokio::task::block_in_place(|| {
        let home = Home::at(home);
        let id = Identity::create(&home, b"pw", name).unwrap();
        let db = Database::open(&home.database()).unwrap();
        let mls = Conversations::new(&db, id.mls_signer(), id.certificate().clone()).unwrap();
        let kp = mls.key_package(false).unwrap();
        (id, kp)
    })
}

/// A device driven by hand, outside any node, with an account on the
/// relay: what a client of another implementation looks like to kovan.
struct RawDevice {
    id: kovan_node::identity::Identity,
    client: RelayClient,
    url: String,
    token: String,
    cursor: i64,
}

impl RawDevice {
    async fn register(dir: &std::path::Path, name: &str, relay: &str) -> Self {
        let home = kovan_node::home::Home::at(dir.join(name));
        let id = tokio::task::block_in_place(|| {
            kovan_node::identity::Identity::create(&home, b"pw", name).unwrap()
        });
        let client = RelayClient::new(relay).unwrap();
        let token = client.register(&id, name, "a long password").await.unwrap().token;
        Self { id, client, url: relay.to_owned(), token, cursor: 0 }
    }

    /// The next envelope in its mailbox, opened.
    async fn next(&mut self) -> kovan_crypto::envelope::Opened {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let url = format!("{}/v1/mailbox?after={}", self.url, self.cursor);
            let v: serde_json::Value = reqwest::Client::new()
                .get(url)
                .bearer_auth(&self.token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if let Some(item) = v["items"].as_array().and_then(|a| a.first()) {
                self.cursor = item["seq"].as_i64().unwrap();
                let bytes = base64::Engine::decode(
                    &base64::engine::general_purpose::STANDARD,
                    item["envelope"].as_str().unwrap(),
                )
                .unwrap();
                let now = kovan_node::identity::now_secs();
                return kovan_crypto::envelope::open(&self.id.device_keys().envelope, &bytes, now)
                    .unwrap();
            }
            assert!(tokio::time::Instant::now() < deadline, "nothing came to the mailbox");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The next friend message in its mailbox.
    async fn next_friend(
        &mut self,
    ) -> (kovan_spec::ValidatedFriend, kovan_crypto::envelope::Opened) {
        let o = self.next().await;
        assert_eq!(o.kind, kovan_crypto::envelope::PayloadKind::Friend);
        (kovan_spec::validate_friend_message(&o.payload).unwrap(), o)
    }

    /// Seals `payload` to `to` and puts it in its mailbox.
    async fn send(
        &self,
        to: &kovan_crypto::identity::DeviceCertificate,
        kind: kovan_crypto::envelope::PayloadKind,
        payload: &[u8],
    ) {
        use kovan_crypto::envelope::{self, Sender};
        let from = Sender { keys: self.id.device_keys(), certificate: self.id.certificate() };
        let now = kovan_node::identity::now_secs() * 1000;
        let sealed =
            envelope::seal(&mut rand_core::OsRng, &from, &to.keys().envelope, kind, payload, now)
                .unwrap();
        self.client.put_envelope(&to.peer_id().to_string(), sealed.bytes).await.unwrap();
    }
}

/// A 1:1 Welcome made with openmls for `key_package`, as an
/// implementation that leaves the ratchet tree out would make it.
fn welcome_without_ratchet_tree(dev: &RawDevice, key_package: &[u8]) -> Vec<u8> {
    use kovan_crypto::mls::{CIPHERSUITE, KovanProvider, credential_with_key};
    use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
    use openmls::prelude::*;
    let provider = KovanProvider::new(openmls_memory_storage::MemoryStorage::default());
    let MlsMessageBodyIn::KeyPackage(kp) =
        MlsMessageIn::tls_deserialize_exact(key_package).unwrap().extract()
    else {
        panic!("not a KeyPackage")
    };
    let kp = kp.validate(provider.crypto(), ProtocolVersion::Mls10).unwrap();
    let config = MlsGroupCreateConfig::builder()
        .ciphersuite(CIPHERSUITE)
        .use_ratchet_tree_extension(false)
        .build();
    let signer = dev.id.mls_signer();
    let mut group =
        MlsGroup::new(&provider, &signer, &config, credential_with_key(dev.id.certificate()))
            .unwrap();
    let (_, welcome, _) = group.add_members(&provider, &signer, &[kp]).unwrap();
    welcome.tls_serialize_detached().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_welcome_ends_the_request_as_failed_on_both_sides_and_can_be_retried() {
    // SPEC.md §7.4: a Welcome without the ratchet tree cannot be joined.
    // The requester once refused it silently and stayed "outgoing"
    // forever while the accepter thought they were friends.
    use kovan_crypto::envelope::PayloadKind;
    use kovan_spec::FriendBody;
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut alice = TestNode::relay_only(dir.path(), "alice", &relay.url).await;
    alice.h.register("alice", "a long password").await.unwrap();
    let mut raw = RawDevice::register(dir.path(), "raw", &relay.url).await;

    alice.h.friend_request("raw", "hello").await.unwrap();
    let (request, o) = raw.next_friend().await;
    let FriendBody::Request { key_package, .. } = request.body else { panic!("not a request") };
    let welcome = welcome_without_ratchet_tree(&raw, &key_package);
    raw.send(&o.sender, PayloadKind::MlsWelcome, &welcome).await;

    // The requester sees the failure...
    let Event::FriendFailed { contact, reason } =
        alice.wait("the failure", |e| matches!(e, Event::FriendFailed { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(contact.state, FriendState::Failed);
    assert!(!reason.is_empty());
    let listed = alice.h.contacts().await.unwrap();
    assert_eq!(listed[0].state, FriendState::Failed, "not left outgoing: {listed:?}");
    // ...and tells the accepter, naming the request it accepted.
    let (told, _) = raw.next_friend().await;
    assert_eq!(told.request_id, request.request_id);
    assert!(matches!(told.body, FriendBody::JoinFailed { .. }), "{:?}", told.body);

    // A new request goes out.
    let again = alice.h.friend_request("raw", "once more").await.unwrap();
    assert_eq!(again.state, FriendState::Outgoing);
    let (retry, _) = raw.next_friend().await;
    assert!(matches!(retry.body, FriendBody::Request { .. }));
    assert_ne!(retry.request_id, request.request_id);
    alice.h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepter_told_its_welcome_failed_closes_the_conversation_and_takes_a_new_request() {
    use kovan_crypto::envelope::PayloadKind;
    use kovan_spec::wire;
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut bob = TestNode::relay_only(dir.path(), "bob", &relay.url).await;
    bob.h.register("bob", "a long password").await.unwrap();
    let raw = RawDevice::register(dir.path(), "raw", &relay.url).await;

    let kp = tokio::task::block_in_place(|| {
        let db = kovan_node::store::Database::open(&dir.path().join("raw-mls.sqlite3")).unwrap();
        let mls = kovan_node::conversation::Conversations::new(
            &db,
            raw.id.mls_signer(),
            raw.id.certificate().clone(),
        )
        .unwrap();
        mls.key_package(false).unwrap()
    });
    let bob_cert = directory_certificate(&raw.client, "bob").await;
    let request = |id: u8, kp: Vec<u8>| wire::FriendMessage {
        version: 1,
        request_id: vec![id; 16],
        body: Some(wire::friend_message::Body::Request(wire::FriendRequest {
            key_package: kp,
            display_name: "raw".into(),
            recipient_account: bob_cert.account().as_bytes().to_vec(),
            ..Default::default()
        })),
    };
    raw.send(&bob_cert, PayloadKind::Friend, &kovan_spec::encode(&request(1, kp.clone()))).await;
    let Event::FriendRequest { contact } =
        bob.wait("the request", |e| matches!(e, Event::FriendRequest { .. })).await
    else {
        unreachable!()
    };
    let accepted = bob.h.friend_accept(&contact.account).await.unwrap();
    assert_eq!(accepted.state, FriendState::Friend);
    let conversation = accepted.conversation.clone().unwrap();
    // From now on Bob takes no requests; a retry after a failed
    // acceptance still reaches him.
    bob.h.update_settings(&serde_json::json!({"friend_policy": "nobody"})).await.unwrap();

    // A "join failed" for another request changes nothing; for this one,
    // Bob's side ends failed and the conversation closes.
    let failed = |id: u8| wire::FriendMessage {
        version: 1,
        request_id: vec![id; 16],
        body: Some(wire::friend_message::Body::JoinFailed(wire::FriendJoinFailed {
            reason: "no ratchet tree in the Welcome".into(),
        })),
    };
    raw.send(&bob_cert, PayloadKind::Friend, &kovan_spec::encode(&failed(2))).await;
    raw.send(&bob_cert, PayloadKind::Friend, &kovan_spec::encode(&failed(1))).await;
    let Event::FriendFailed { contact, reason } =
        bob.wait("the failure", |e| matches!(e, Event::FriendFailed { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(contact.state, FriendState::Failed);
    assert_eq!(reason, "no ratchet tree in the Welcome");
    assert!(bob.h.send_text(&conversation, "anyone?", None).await.is_err(), "closed");

    // The requester asks again; the "nobody" policy does not drop it.
    raw.send(&bob_cert, PayloadKind::Friend, &kovan_spec::encode(&request(3, kp))).await;
    bob.wait("the new request", |e| matches!(e, Event::FriendRequest { .. })).await;
    bob.h.shutdown().await;
}
