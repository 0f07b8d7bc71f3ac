//! [`AccountStore`]: accounts, their settings and avatar, their devices.

use kovan_relay::db::StoreError;
use kovan_relay::services::accounts::{AccountStore, DeviceRow, Settings};
use kovan_relay::services::blobs::{BlobRow, BlobStore};
use kovan_relay::services::keypackages::KeyPackageStore;
use kovan_relay::services::mailbox::{MailboxStore, Quota};
use kovan_relay::sessions::{SessionRow, SessionStore};

use super::{account, device};
use crate::conformance;

conformance!(
    accounts_and_their_settings,
    names_keys_and_devices_are_unique,
    one_of_concurrent_registrations_wins,
    devices_of_an_account,
    deleting_an_account_deletes_what_it_owns,
);

async fn accounts_and_their_settings(s: impl AccountStore) {
    let (id, _) = account(&s, "alice").await;
    assert_eq!(s.account_by_username("bob").await.unwrap(), None);
    assert_eq!(s.account_by_id(id + 1000).await.unwrap(), None);
    let a = s.account_by_username("alice").await.unwrap().unwrap();
    assert_eq!(s.account_by_id(id).await.unwrap().as_ref(), Some(&a));
    assert_eq!((a.id, a.username.as_str(), a.created_at), (id, "alice", 1_000));
    assert_eq!(a.account_key, b"account key of alice");
    let defaults = Settings {
        display_name: String::new(),
        about: String::new(),
        discoverable: true,
        friend_policy: "everyone".into(),
        read_receipts: true,
        avatar_type: None,
    };
    assert_eq!(a.settings, defaults);

    // Settings are replaced, the avatar apart.
    let settings = Settings {
        display_name: "Alice A.".into(),
        about: "about".into(),
        discoverable: false,
        friend_policy: "link".into(),
        read_receipts: false,
        avatar_type: Some("ignored".into()),
    };
    s.update_settings(id, &settings).await.unwrap();
    let a = s.account_by_id(id).await.unwrap().unwrap();
    assert_eq!(a.settings, Settings { avatar_type: None, ..settings.clone() });
    s.set_avatar(id, Some((b"\x89PNG", "image/png"))).await.unwrap();
    let a = s.account_by_id(id).await.unwrap().unwrap();
    assert_eq!(a.settings, Settings { avatar_type: Some("image/png".into()), ..settings.clone() });
    s.set_avatar(id, None).await.unwrap();
    assert_eq!(s.account_by_id(id).await.unwrap().unwrap().settings.avatar_type, None);

    s.set_password(id, "$argon2id$other").await.unwrap();
    assert_eq!(s.account_by_id(id).await.unwrap().unwrap().password_hash, "$argon2id$other");
}

async fn names_keys_and_devices_are_unique(s: impl AccountStore) {
    let (id, peer) = account(&s, "alice").await;
    let conflict = |r: Result<i64, StoreError>| matches!(r, Err(StoreError::Conflict(_)));
    let key = b"another key".to_vec();
    assert!(conflict(s.create_account("alice", &key, "h", &device("alice2", 0), 2).await));
    let same_key = b"account key of alice".to_vec();
    assert!(conflict(s.create_account("bob", &same_key, "h", &device("bob", 0), 2).await));
    // A taken device refuses the whole registration.
    assert!(conflict(s.create_account("carol", &key, "h", &device("alice", 0), 2).await));
    assert_eq!(s.account_by_username("carol").await.unwrap(), None);
    assert!(matches!(
        s.add_device(&DeviceRow { account_id: id, ..device("alice", 0) }, 2).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.device(&peer).await.unwrap().unwrap().account_id, id);
}

async fn one_of_concurrent_registrations_wins<S: AccountStore + Clone + 'static>(s: S) {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8u8 {
        let s = s.clone();
        tasks.spawn(async move {
            s.create_account("alice", &[i; 32], "h", &device("alice", i), i64::from(i)).await
        });
    }
    let mut won = 0;
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(
        s.devices_of(s.account_by_username("alice").await.unwrap().unwrap().id)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn devices_of_an_account(s: impl AccountStore) {
    let (alice, first) = account(&s, "alice").await;
    let (bob, _) = account(&s, "bob").await;
    assert_eq!(s.device("12D3KooWnobody").await.unwrap(), None);
    let second = DeviceRow { account_id: alice, ..device("alice", 1) };
    s.add_device(&second, 2_000).await.unwrap();
    assert_eq!(s.device(&second.peer_id).await.unwrap(), Some(second.clone()));
    let peers: Vec<String> =
        s.devices_of(alice).await.unwrap().into_iter().map(|d| d.peer_id).collect();
    assert_eq!(peers, [first, second.peer_id], "oldest first");
    assert_eq!(s.devices_of(bob).await.unwrap().len(), 1);
    assert!(s.devices_of(bob + alice + 1000).await.unwrap().is_empty());
}

async fn deleting_an_account_deletes_what_it_owns<S>(s: S)
where
    S: AccountStore + SessionStore + KeyPackageStore + MailboxStore + BlobStore,
{
    let (alice, peer) = account(&s, "alice").await;
    let (bob, bob_peer) = account(&s, "bob").await;
    s.add_device(&DeviceRow { account_id: alice, ..device("alice", 1) }, 2).await.unwrap();
    let session = SessionRow {
        id: "s1".into(),
        account_id: alice,
        device_peer_id: peer.clone(),
        token_hash: vec![1; 32],
        created_at: 1,
        last_used_at: 1,
        expires_at: i64::MAX,
        user_agent: String::new(),
    };
    s.create_session(&session).await.unwrap();
    s.add_key_packages(&peer, &[(vec![1], false), (vec![2], true)], 100, 1).await.unwrap();
    let quota = Quota { max_items: 10, max_bytes: 1 << 20 };
    for to in [&peer, &bob_peer] {
        s.put(to, &[1; 32], b"sealed", 1, i64::MAX, quota).await.unwrap();
    }
    let blob = BlobRow {
        id: "0".repeat(32),
        account_id: alice,
        size: 10,
        received: 0,
        created_at: 1,
        expires_at: i64::MAX,
        withdrawn: false,
    };
    s.create_blob(&blob, 100).await.unwrap();

    let mut gone = s.delete_account(alice).await.unwrap();
    gone.sort();
    assert_eq!(gone, [peer.clone(), device("alice", 1).peer_id]);
    assert_eq!(s.account_by_id(alice).await.unwrap(), None);
    assert_eq!(s.device(&peer).await.unwrap(), None);
    assert_eq!(s.session_by_token_hash(&[1; 32], 0).await.unwrap(), None);
    assert_eq!(s.key_package_count(&peer).await.unwrap(), (0, false));
    assert!(s.fetch(&peer, 0, 10, 0).await.unwrap().is_empty());
    assert_eq!(s.blob(&blob.id, 0).await.unwrap(), None);
    // Nothing of another account's goes with it.
    assert_eq!(s.fetch(&bob_peer, 0, 10, 0).await.unwrap().len(), 1);
    assert_eq!(s.devices_of(bob).await.unwrap().len(), 1);
    assert!(s.delete_account(alice).await.unwrap().is_empty());
}
