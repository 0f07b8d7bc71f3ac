//! [`MailboxStore`]: puts in commit order, quotas, fetch after a cursor,
//! acks and expiry.

use kovan_relay::db::StoreError;
use kovan_relay::services::accounts::AccountStore;
use kovan_relay::services::mailbox::{MailboxStore, Quota};

use super::account;
use crate::conformance;

conformance!(
    put_fetch_ack_and_expiry,
    quotas_count_items_and_bytes,
    concurrent_puts_get_gapless_ordered_seqs,
);

const QUOTA: Quota = Quota { max_items: 10_000, max_bytes: 1 << 30 };

async fn put_fetch_ack_and_expiry<S: AccountStore + MailboxStore>(s: S) {
    let (_, alice) = account(&s, "alice").await;
    let (_, bob) = account(&s, "bob").await;
    assert!(matches!(
        s.put("12D3KooWnobody", &[0; 32], b"x", 1, 100, QUOTA).await,
        Err(StoreError::NotFound(_))
    ));
    for (i, expires) in [(1u8, 100), (2, 1_000), (3, 1_000)] {
        let out = s.put(&alice, &[i; 32], &[i; 20], 10, expires, QUOTA).await.unwrap();
        assert_eq!((out.seq, out.duplicate), (i64::from(i), false));
    }
    s.put(&bob, &[1; 32], &[1; 20], 10, 1_000, QUOTA).await.unwrap();
    let seqs = |v: Vec<kovan_relay::services::mailbox::MailboxItem>| {
        v.into_iter().map(|i| i.seq).collect::<Vec<_>>()
    };
    let items = s.fetch(&alice, 0, 10, 50).await.unwrap();
    assert_eq!((items[0].envelope.as_slice(), items[0].received_at), (&[1u8; 20][..], 10));
    assert_eq!(seqs(items), [1, 2, 3]);
    assert_eq!(seqs(s.fetch(&alice, 1, 10, 50).await.unwrap()), [2, 3], "after the cursor");
    assert_eq!(seqs(s.fetch(&alice, 0, 2, 50).await.unwrap()), [1, 2], "at most the limit");
    assert_eq!(seqs(s.fetch(&alice, 0, 10, 100).await.unwrap()), [2, 3], "not expired");

    // An ack deletes the device's own items only.
    assert_eq!(s.ack(&bob, &[2, 3]).await.unwrap(), 0);
    assert_eq!(s.ack(&alice, &[2, 9]).await.unwrap(), 1);
    assert_eq!(seqs(s.fetch(&alice, 0, 10, 50).await.unwrap()), [1, 3]);
    // Sequence numbers are never reused.
    assert_eq!(s.put(&alice, &[4; 32], b"4", 10, 1_000, QUOTA).await.unwrap().seq, 4);

    assert_eq!(s.sweep_mailboxes(100).await.unwrap(), 1);
    assert_eq!(seqs(s.fetch(&alice, 0, 10, 0).await.unwrap()), [3, 4]);
    assert_eq!(seqs(s.fetch(&bob, 0, 10, 0).await.unwrap()), [1]);
}

async fn quotas_count_items_and_bytes<S: AccountStore + MailboxStore>(s: S) {
    let (_, alice) = account(&s, "alice").await;
    let (_, bob) = account(&s, "bob").await;
    let items = Quota { max_items: 2, max_bytes: 1 << 20 };
    s.put(&alice, &[1; 32], b"1", 1, 100, items).await.unwrap();
    s.put(&alice, &[2; 32], b"2", 1, 100, items).await.unwrap();
    assert!(s.put(&alice, &[2; 32], b"2", 1, 100, items).await.unwrap().duplicate);
    assert!(matches!(
        s.put(&alice, &[3; 32], b"3", 1, 100, items).await,
        Err(StoreError::Quota(_))
    ));
    let bytes = Quota { max_items: 100, max_bytes: 10 };
    s.put(&bob, &[1; 32], &[0; 6], 1, 100, bytes).await.unwrap();
    assert!(matches!(
        s.put(&bob, &[2; 32], &[0; 5], 1, 100, bytes).await,
        Err(StoreError::Quota(_))
    ));
    s.put(&bob, &[3; 32], &[0; 4], 1, 100, bytes).await.unwrap();
    assert_eq!(s.fetch(&bob, 0, 10, 0).await.unwrap().len(), 2);
}

async fn concurrent_puts_get_gapless_ordered_seqs<S>(store: S)
where
    S: AccountStore + MailboxStore + Clone + 'static,
{
    let (_, peer) = account(&store, "alice").await;
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
}
