//! The store's contract under concurrency, for both backends.

use std::collections::HashSet;

use kovan_relay::services::keypackages::KeyPackageStore;
use kovan_relay::services::mailbox::{MailboxStore, Quota};

use crate::both_backends;
use crate::harness::{Db, TestRelay};

both_backends!(
    concurrent_puts_get_gapless_ordered_seqs,
    concurrent_claims_hand_out_each_package_once
);

const QUOTA: Quota = Quota { max_items: 10_000, max_bytes: 1 << 30 };

async fn concurrent_puts_get_gapless_ordered_seqs(db: Db) {
    let relay = TestRelay::start(db).await;
    let alice = relay.register("alice").await;
    let store = relay.state().store.clone();
    let peer = alice.peer_id();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40u8 {
        let (store, peer) = (store.clone(), peer.clone());
        tasks.spawn(async move {
            store.put(&peer, &[i; 32], &[i; 100], 1, i64::MAX, QUOTA).await.unwrap()
        });
    }
    let mut seqs = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let out = r.unwrap();
        assert!(!out.duplicate);
        seqs.push(out.seq);
    }
    seqs.sort();
    assert_eq!(seqs, (1..=40).collect::<Vec<i64>>(), "sequence numbers are gapless");
    // A duplicate put reports the original seq and adds nothing.
    let again = store.put(&peer, &[7; 32], &[7; 100], 1, i64::MAX, QUOTA).await.unwrap();
    assert!(again.duplicate);
    let items = store.fetch(&peer, 0, 100, 0).await.unwrap();
    assert_eq!(items.len(), 40);
    let item7 = items.iter().find(|i| i.envelope == vec![7; 100]).unwrap();
    assert_eq!(again.seq, item7.seq);
    assert!(store.fetch("12D3KooWNobody", 0, 10, 0).await.unwrap().is_empty());
    relay.stop().await;
}

async fn concurrent_claims_hand_out_each_package_once(db: Db) {
    let relay = TestRelay::start(db).await;
    let alice = relay.register("alice").await;
    let store = relay.state().store.clone();
    let peer = alice.peer_id();
    let packages: Vec<(Vec<u8>, bool)> =
        (0..8u8).map(|i| (vec![i; 10], false)).chain([(vec![99; 10], true)]).collect();
    assert_eq!(store.add_key_packages(&peer, &packages, 100, 1).await.unwrap(), 8);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let (store, peer) = (store.clone(), peer.clone());
        tasks.spawn(async move { store.claim_key_package(&peer).await.unwrap() });
    }
    let mut ordinary = HashSet::new();
    let mut last_resort = 0;
    while let Some(r) = tasks.join_next().await {
        let c = r.unwrap().expect("a package or the last resort");
        if c.last_resort {
            assert_eq!(c.key_package, vec![99; 10]);
            last_resort += 1;
        } else {
            assert!(ordinary.insert(c.key_package), "a package was handed out twice");
        }
    }
    assert_eq!((ordinary.len(), last_resort), (8, 4));
    assert_eq!(store.key_package_count(&peer).await.unwrap(), (0, true));
    // The cap holds.
    let many: Vec<_> = (0..101u8).map(|i| (vec![i; 4], false)).collect();
    assert!(store.add_key_packages(&peer, &many, 100, 1).await.is_err());
    relay.stop().await;
}
