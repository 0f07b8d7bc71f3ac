//! [`KeyPackageStore`]: a device's stock, its last-resort package, claims.

use std::collections::HashSet;

use kovan_relay::db::StoreError;
use kovan_relay::services::accounts::AccountStore;
use kovan_relay::services::keypackages::KeyPackageStore;

use super::account;
use crate::conformance;

conformance!(
    stock_cap_and_last_resort,
    claims_take_the_oldest_then_the_last_resort,
    concurrent_claims_hand_out_each_package_once,
    duplicates_are_refused,
);

/// A KeyPackage is handed out once: the same bytes stored twice for a
/// device (in one upload or two) are refused, and nothing of that upload
/// is stored. Another device may hold the same bytes (they would not pass
/// the routes' check, but the store does not mind).
async fn duplicates_are_refused<S: AccountStore + KeyPackageStore>(s: S) {
    let (_, peer) = account(&s, "alice").await;
    let (_, other) = account(&s, "bob").await;
    assert_eq!(s.add_key_packages(&peer, &[(vec![1], false)], 10, 1).await.unwrap(), 1);
    for dup in [
        vec![(vec![1], false)],
        vec![(vec![2], false), (vec![2], false)],
        vec![(vec![3], false), (vec![1], true)],
    ] {
        assert!(
            matches!(s.add_key_packages(&peer, &dup, 10, 1).await, Err(StoreError::Conflict(_))),
            "{dup:?}"
        );
        assert_eq!(s.key_package_count(&peer).await.unwrap(), (1, false));
    }
    // Replacing the last-resort package with itself is no duplicate.
    s.add_key_packages(&peer, &[(vec![9], true)], 10, 1).await.unwrap();
    s.add_key_packages(&peer, &[(vec![9], true)], 10, 1).await.unwrap();
    assert_eq!(s.key_package_count(&peer).await.unwrap(), (1, true));
    assert_eq!(s.add_key_packages(&other, &[(vec![1], false)], 10, 1).await.unwrap(), 1);
    // Once claimed, one copy is gone; the next claim gets the last resort.
    assert_eq!(s.claim_key_package(&peer).await.unwrap().unwrap().key_package, vec![1]);
    assert!(s.claim_key_package(&peer).await.unwrap().unwrap().last_resort);
}

async fn stock_cap_and_last_resort<S: AccountStore + KeyPackageStore>(s: S) {
    let (_, peer) = account(&s, "alice").await;
    assert_eq!(s.key_package_count(&peer).await.unwrap(), (0, false));
    assert_eq!(s.key_package_count("12D3KooWnobody").await.unwrap(), (0, false));
    assert!(matches!(
        s.add_key_packages("12D3KooWnobody", &[(vec![1], false)], 10, 1).await,
        Err(StoreError::NotFound(_))
    ));
    let batch = [(vec![1], false), (vec![2], false), (vec![3], true)];
    assert_eq!(s.add_key_packages(&peer, &batch, 3, 1).await.unwrap(), 2);
    assert_eq!(s.key_package_count(&peer).await.unwrap(), (2, true));
    // Over the cap, nothing is added.
    let more = [(vec![4], false), (vec![5], false)];
    assert!(matches!(s.add_key_packages(&peer, &more, 3, 1).await, Err(StoreError::Quota(_))));
    assert_eq!(s.key_package_count(&peer).await.unwrap(), (2, true));
    // A last-resort package does not count against the cap, and replaces
    // the previous one.
    assert_eq!(s.add_key_packages(&peer, &[(vec![6], true)], 2, 1).await.unwrap(), 2);
    assert_eq!(s.key_package_count(&peer).await.unwrap(), (2, true));
}

async fn claims_take_the_oldest_then_the_last_resort<S: AccountStore + KeyPackageStore>(s: S) {
    let (_, peer) = account(&s, "alice").await;
    assert_eq!(s.claim_key_package(&peer).await.unwrap(), None, "nothing stored");
    s.add_key_packages(&peer, &[(vec![1], false), (vec![2], false)], 10, 1).await.unwrap();
    let first = s.claim_key_package(&peer).await.unwrap().unwrap();
    assert_eq!((first.key_package, first.last_resort, first.remaining), (vec![1], false, 1));
    let second = s.claim_key_package(&peer).await.unwrap().unwrap();
    assert_eq!((second.key_package, second.remaining), (vec![2], 0));
    assert_eq!(s.claim_key_package(&peer).await.unwrap(), None, "no last resort");
    s.add_key_packages(&peer, &[(vec![8], true)], 10, 1).await.unwrap();
    s.add_key_packages(&peer, &[(vec![9], true)], 10, 1).await.unwrap();
    for _ in 0..2 {
        let c = s.claim_key_package(&peer).await.unwrap().unwrap();
        assert_eq!((c.key_package, c.last_resort, c.remaining), (vec![9], true, 0), "kept");
    }
}

async fn concurrent_claims_hand_out_each_package_once<S>(store: S)
where
    S: AccountStore + KeyPackageStore + Clone + 'static,
{
    let (_, peer) = account(&store, "alice").await;
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
}
