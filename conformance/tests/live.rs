//! The conformance client against real kovan: a relay and two kovan nodes
//! on 127.0.0.1, and one device of the client written from `spec/` on
//! mls-rs. Everything kovan promises an independent client is exercised:
//! registering, publishing KeyPackages, befriending both ways, chatting
//! both ways, joining a group by invitation, committing self-updates in
//! both wire formats, and leaving.

use std::time::Duration;

use kovan_conformance::client::{Client, Event as CEvent};
use kovan_node::home::Home;
use kovan_node::identity::Identity;
use kovan_node::{Event, Node, NodeHandle, NodeOptions};
use kovan_relay::{Relay, RelayConfig};
use tokio::sync::broadcast;

const WAIT: Duration = Duration::from_secs(60);

struct Kovan {
    h: NodeHandle,
    events: broadcast::Receiver<Event>,
}

impl Kovan {
    async fn start(dir: &std::path::Path, name: &str, relay: &str) -> Self {
        let home = Home::at(dir.join(name));
        let id = tokio::task::block_in_place(|| {
            Identity::create(&home, b"conformance passphrase", name).unwrap()
        });
        let mut opts = NodeOptions::loopback(home, name);
        opts.relay_url = Some(relay.to_owned());
        let h = Node::start(id, opts).await.unwrap();
        let events = h.subscribe();
        h.register(name, "a long password").await.unwrap();
        Self { h, events }
    }

    async fn wait(&mut self, what: &str, f: impl Fn(&Event) -> bool) -> Event {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Ok(e)) if f(&e) => return e,
                Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
                other => panic!("timed out waiting for {what}: {other:?}"),
            }
        }
    }

    async fn text(&mut self, body: &str) {
        let want = body.to_owned();
        self.wait(body, move |e| {
            matches!(e, Event::Message { message } if message.text.as_deref() == Some(&want))
        })
        .await;
    }
}

/// Polls the client's mailbox until an event matches.
async fn until(c: &mut Client, what: &str, f: impl Fn(&CEvent) -> bool) -> CEvent {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        for e in c.poll().await.unwrap() {
            if f(&e) {
                return e;
            }
            if let CEvent::Other(s) = &e {
                eprintln!("conformance client: {s}");
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn eventually<T>(what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_written_from_the_spec_on_mls_rs_talks_to_kovan_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let config = RelayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: Some(dir.path().join("relay")),
        ..Default::default()
    };
    std::fs::create_dir_all(dir.path().join("relay")).unwrap();
    let relay = Relay::start(config).await.unwrap();
    let url = relay.url();
    let mut alice = Kovan::start(dir.path(), "alice", &url).await;
    let mut bob = Kovan::start(dir.path(), "bob", &url).await;

    // Register (§9.2) and publish KeyPackages (§2.6, §9.4).
    let mut mira = Client::register(&url, "mira").await.unwrap();
    let count = mira.publish_key_packages(5).await.unwrap();
    assert_eq!(count, serde_json::json!({"remaining": 5, "last_resort": true}));
    let mira_hex = hex::encode(mira.account());

    // Befriend: the client asks a kovan node (§7.4), which makes the 1:1
    // group with the client's KeyPackage (openmls) ...
    mira.friend_request("alice").await.unwrap();
    let Event::FriendRequest { contact } =
        alice.wait("mira's request", |e| matches!(e, Event::FriendRequest { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(contact.account, mira_hex);
    alice.h.friend_accept(&contact.account).await.unwrap();
    let CEvent::FriendAccepted { group: with_alice, .. } =
        until(&mut mira, "alice's Welcome", |e| matches!(e, CEvent::FriendAccepted { .. })).await
    else {
        unreachable!()
    };

    // ... and a kovan node asks the client, which makes the group (mls-rs)
    // and its Welcome (§7.4.2).
    bob.h.friend_request("mira", "from kovan").await.unwrap();
    let CEvent::FriendRequest { account } =
        until(&mut mira, "bob's request", |e| matches!(e, CEvent::FriendRequest { .. })).await
    else {
        unreachable!()
    };
    let with_bob = mira.accept(&account).await.unwrap();
    bob.wait("mira's acceptance", |e| matches!(e, Event::FriendAccepted { .. })).await;

    // Chat both ways with both (§6).
    mira.send_text(&with_alice, "merhaba from the spec").await.unwrap();
    alice.text("merhaba from the spec").await;
    alice.h.send_text(&mira_hex, "selam, spec", None).await.unwrap();
    until(&mut mira, "alice's text", |e| {
        matches!(e, CEvent::Text { group, body, .. } if group == &with_alice && body == "selam, spec")
    })
    .await;
    bob.h.send_text(&mira_hex, "bob here", None).await.unwrap();
    until(&mut mira, "bob's text", |e| {
        matches!(e, CEvent::Text { group, body, .. } if group == &with_bob && body == "bob here")
    })
    .await;
    mira.send_text(&with_bob, "hi bob").await.unwrap();
    bob.text("hi bob").await;

    // Self-updates in both wire formats (§2.5, §7.6.7): each is applied,
    // since what follows in the new epoch reads.
    for (encrypted, text) in [(true, "after a private commit"), (false, "after a public commit")] {
        let before = mira.epoch(&with_alice).unwrap();
        assert_eq!(mira.self_update(&with_alice, encrypted).await.unwrap(), before + 1);
        mira.send_text(&with_alice, text).await.unwrap();
        alice.text(text).await;
    }
    alice.h.send_text(&mira_hex, "still here", None).await.unwrap();
    until(
        &mut mira,
        "alice after the commits",
        |e| matches!(e, CEvent::Text { body, .. } if body == "still here"),
    )
    .await;

    // A group by invitation (§7.6.2): kovan invites, the client accepts
    // with a last-resort KeyPackage and joins from the Welcome.
    let group = alice.h.group_create("spec group", "written from the spec", false).await.unwrap();
    alice.h.group_invite(&group.id, &mira_hex).await.unwrap();
    let CEvent::Invited { invitation, .. } =
        until(&mut mira, "the invitation", |e| matches!(e, CEvent::Invited { .. })).await
    else {
        unreachable!()
    };
    mira.accept_invitation(&invitation).await.unwrap();
    let CEvent::JoinedGroup { group: gid } =
        until(&mut mira, "the group Welcome", |e| matches!(e, CEvent::JoinedGroup { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(hex::encode(&gid), group.id);
    let meta = mira.meta(&gid).unwrap().unwrap();
    assert_eq!((meta.name.as_str(), meta.admins.len()), ("spec group", 1));
    let joined = eventually("mira in alice's group", async || {
        let g = alice.h.group(&group.id).await.unwrap();
        (g.members.len() == 2).then_some(g)
    })
    .await;
    assert!(joined.members.iter().any(|m| m.account == mira_hex));

    alice.h.send_text(&group.id, "welcome, mira", None).await.unwrap();
    until(&mut mira, "the group text", |e| {
        matches!(e, CEvent::Text { group, body, .. } if group == &gid && body == "welcome, mira")
    })
    .await;
    mira.send_text(&gid, "glad to be here").await.unwrap();
    alice.text("glad to be here").await;

    for encrypted in [false, true] {
        let epoch = mira.self_update(&gid, encrypted).await.unwrap();
        eventually("alice applies mira's group commit", async || {
            (alice.h.group(&group.id).await.unwrap().epoch == epoch).then_some(())
        })
        .await;
    }
    mira.send_text(&gid, "after both commits").await.unwrap();
    alice.text("after both commits").await;

    // Leaving (§7.6.4): the admin commits the removal.
    mira.leave(&gid).await.unwrap();
    eventually("mira removed from alice's group", async || {
        (alice.h.group(&group.id).await.unwrap().members.len() == 1).then_some(())
    })
    .await;

    alice.h.shutdown().await;
    bob.h.shutdown().await;
    relay.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_welcome_without_the_ratchet_tree_fails_visibly_on_both_sides() {
    // §7.4.2: the 1:1 Welcome must carry the ratchet tree. A kovan node
    // that cannot join one ends its request "failed" and tells the
    // accepter (§7.4), instead of waiting forever.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("relay")).unwrap();
    let config = RelayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: Some(dir.path().join("relay")),
        ..Default::default()
    };
    let relay = Relay::start(config).await.unwrap();
    let url = relay.url();
    let mut bob = Kovan::start(dir.path(), "bob", &url).await;
    let mut mira = Client::register(&url, "mira").await.unwrap();

    bob.h.friend_request("mira", "").await.unwrap();
    let CEvent::FriendRequest { account } =
        until(&mut mira, "bob's request", |e| matches!(e, CEvent::FriendRequest { .. })).await
    else {
        unreachable!()
    };
    mira.accept_with(&account, false).await.unwrap();
    let Event::FriendFailed { contact, reason } =
        bob.wait("the refusal", |e| matches!(e, Event::FriendFailed { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(contact.state, kovan_node::contacts::FriendState::Failed);
    let CEvent::JoinFailed { reason: told, .. } =
        until(&mut mira, "bob's join_failed", |e| matches!(e, CEvent::JoinFailed { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(told, reason);

    // Bob asks again; this time the Welcome is right.
    bob.h.friend_request("mira", "again").await.unwrap();
    let CEvent::FriendRequest { account } =
        until(&mut mira, "bob's new request", |e| matches!(e, CEvent::FriendRequest { .. })).await
    else {
        unreachable!()
    };
    mira.accept(&account).await.unwrap();
    bob.wait("mira's acceptance", |e| matches!(e, Event::FriendAccepted { .. })).await;
    bob.h.shutdown().await;
    relay.shutdown(Duration::from_secs(5)).await;
}
