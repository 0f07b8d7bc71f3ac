//! The account's events on the relay's push (W1, SPEC.md §9.6): a node
//! hears of another session's login, applies settings changed from another
//! session, and learns that its account was deleted.

use kovan_node::Event;
use kovan_node::identity::Identity;
use kovan_node::relay_client::RelayClient;
use serde_json::json;

use crate::friends::{device_with_key_package, put_friend_request};
use crate::harness::{PASSPHRASE, TestNode, TestRelay};

const PASSWORD: &str = "a long password";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_sessions_login_settings_and_deletion_reach_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    alice.h.register("alice", PASSWORD).await.unwrap();
    alice.wait("the relay socket", |e| matches!(e, Event::RelayConnected)).await;
    assert!(alice.h.status().await.unwrap().read_receipts);

    // A second session of the same account (as another client of this
    // device would open): the node hears of the new login.
    let id = tokio::task::block_in_place(|| Identity::unlock(&alice.home, PASSPHRASE)).unwrap();
    let other = RelayClient::new(&relay.url).unwrap();
    let session = other.login(&id, "alice", PASSWORD).await.unwrap();
    let ev = alice.wait("the new login", |e| matches!(e, Event::AccountLogin { .. })).await;
    let Event::AccountLogin { session_id, device_peer_id, new_device, .. } = ev else {
        unreachable!()
    };
    assert_eq!((session_id, new_device), (session.session_id.clone(), false));
    assert_eq!(device_peer_id, alice.h.status().await.unwrap().peer_id);

    // Settings changed there apply here: nobody may ask to be friends, no
    // read receipts.
    let settings = |policy: &str| {
        json!({"display_name": "Alice", "about": "", "discoverable": true,
               "friend_policy": policy, "read_receipts": false})
    };
    other.put_settings(&session.token, &settings("nobody")).await.unwrap();
    let ev =
        alice.wait("the new settings", |e| matches!(e, Event::AccountSettingsChanged { .. })).await;
    let Event::AccountSettingsChanged { settings: got } = ev else { unreachable!() };
    assert_eq!(got["friend_policy"], "nobody");
    assert!(!alice.h.status().await.unwrap().read_receipts, "read receipts follow the account");

    // A request sent anyway is dropped unseen; once the policy is
    // "everyone" again (from the other session), the next one shows.
    let (mallory, kp) = device_with_key_package(&dir.path().join("mallory"), "m");
    put_friend_request(&relay.url, "alice", &mallory, |r| {
        r.key_package = kp;
        r.note = "under nobody".into();
    })
    .await;
    other.put_settings(&session.token, &settings("everyone")).await.unwrap();
    alice.wait("the policy back", |e| {
        matches!(e, Event::AccountSettingsChanged { settings } if settings["friend_policy"] == "everyone")
    })
    .await;
    let (trudy, kp) = device_with_key_package(&dir.path().join("trudy"), "t");
    put_friend_request(&relay.url, "alice", &trudy, |r| {
        r.key_package = kp;
        r.note = "under everyone".into();
    })
    .await;
    let ev = alice.wait("a request", |e| matches!(e, Event::FriendRequest { .. })).await;
    let Event::FriendRequest { contact } = ev else { unreachable!() };
    assert_eq!(contact.note, "under everyone", "the request sent under \"nobody\" showed");
    assert_eq!(alice.h.contacts().await.unwrap().len(), 1);

    // The account deleted from the other session: the node is told and
    // logged out.
    other.delete_account(&session.token, PASSWORD).await.unwrap();
    alice.wait("the deletion", |e| matches!(e, Event::AccountDeleted)).await;
    let err = alice.h.settings().await.unwrap_err();
    assert_eq!(err.kind(), kovan_node::NodeErrorKind::NotLoggedIn, "{err}");
    alice.h.shutdown().await;
}
