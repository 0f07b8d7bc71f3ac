//! [`BlobStore`]: blob rows, the account's charge, expiry.

use kovan_relay::db::StoreError;
use kovan_relay::services::accounts::AccountStore;
use kovan_relay::services::blobs::{BlobRow, BlobStore};

use super::account;
use crate::conformance;

conformance!(
    quota_is_charged_and_refunded,
    uploads_only_move_forward,
    expired_blobs_are_swept,
    a_withdrawn_blob_stays_as_withdrawn_and_is_refunded_once
);

fn blob(n: u8, account_id: i64, size: i64, expires_at: i64) -> BlobRow {
    BlobRow {
        id: format!("{n:032x}"),
        account_id,
        size,
        received: 0,
        created_at: 1,
        expires_at,
        withdrawn: false,
    }
}

async fn quota_is_charged_and_refunded<S: AccountStore + BlobStore>(s: S) {
    let (alice, _) = account(&s, "alice").await;
    let (bob, _) = account(&s, "bob").await;
    assert_eq!(s.blob_usage(alice).await.unwrap(), 0);
    assert_eq!(s.blob_usage(alice + bob + 1000).await.unwrap(), 0, "no such account");
    s.create_blob(&blob(1, alice, 60, i64::MAX), 100).await.unwrap();
    assert!(matches!(
        s.create_blob(&blob(2, alice, 41, i64::MAX), 100).await,
        Err(StoreError::Quota(_))
    ));
    assert!(matches!(
        s.create_blob(&blob(1, alice, 10, i64::MAX), 100).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.blob_usage(alice).await.unwrap(), 60, "refused blobs charge nothing");
    s.create_blob(&blob(2, alice, 40, i64::MAX), 100).await.unwrap();
    s.create_blob(&blob(3, bob, 100, i64::MAX), 100).await.unwrap();
    let mut ids = s.blob_ids_of(alice).await.unwrap();
    ids.sort();
    assert_eq!(ids, [blob(1, 0, 0, 0).id, blob(2, 0, 0, 0).id]);

    assert!(!s.delete_blob(bob, &blob(1, 0, 0, 0).id).await.unwrap(), "another's blob");
    assert!(s.delete_blob(alice, &blob(1, 0, 0, 0).id).await.unwrap());
    assert!(!s.delete_blob(alice, &blob(1, 0, 0, 0).id).await.unwrap());
    assert_eq!(s.blob_usage(alice).await.unwrap(), 40);
    assert_eq!(s.blob_usage(bob).await.unwrap(), 100);
}

async fn uploads_only_move_forward<S: AccountStore + BlobStore>(s: S) {
    let (alice, _) = account(&s, "alice").await;
    let b = blob(1, alice, 100, 1_000);
    assert_eq!(s.blob(&b.id, 0).await.unwrap(), None);
    s.create_blob(&b, 1_000).await.unwrap();
    assert_eq!(s.blob(&b.id, 999).await.unwrap().as_ref(), Some(&b));
    assert_eq!(s.blob(&b.id, 1_000).await.unwrap(), None, "expired");
    s.set_blob_received(&b.id, 60).await.unwrap();
    s.set_blob_received(&b.id, 30).await.unwrap();
    let stored = s.blob(&b.id, 0).await.unwrap().unwrap();
    assert_eq!((stored.received, stored.complete()), (60, false));
    s.set_blob_received(&b.id, 100).await.unwrap();
    assert!(s.blob(&b.id, 0).await.unwrap().unwrap().complete());
}

async fn expired_blobs_are_swept<S: AccountStore + BlobStore>(s: S) {
    let (alice, _) = account(&s, "alice").await;
    for (n, expires) in [(1, 10), (2, 20), (3, 30), (4, i64::MAX)] {
        s.create_blob(&blob(n, alice, 10, expires), 1_000).await.unwrap();
    }
    assert_eq!(s.sweep_blobs(25, 1).await.unwrap(), [blob(1, 0, 0, 0).id], "oldest first");
    assert_eq!(s.sweep_blobs(25, 10).await.unwrap(), [blob(2, 0, 0, 0).id]);
    assert_eq!(s.blob_usage(alice).await.unwrap(), 20, "refunded");
    assert!(s.sweep_blobs(25, 10).await.unwrap().is_empty());
}

async fn a_withdrawn_blob_stays_as_withdrawn_and_is_refunded_once<S: AccountStore + BlobStore>(
    s: S,
) {
    let (alice, _) = account(&s, "alice").await;
    let (bob, _) = account(&s, "bob").await;
    let b = blob(1, alice, 60, 1_000);
    s.create_blob(&b, 100).await.unwrap();
    s.set_blob_received(&b.id, 30).await.unwrap();
    assert!(!s.withdraw_blob(bob, &b.id).await.unwrap(), "another's blob");
    assert!(s.withdraw_blob(alice, &b.id).await.unwrap());
    assert!(!s.withdraw_blob(alice, &b.id).await.unwrap(), "withdrawn already");
    let row = s.blob(&b.id, 0).await.unwrap().unwrap();
    assert!(row.withdrawn && row.received == 0, "{row:?}");
    assert_eq!(s.blob_usage(alice).await.unwrap(), 0, "refunded when withdrawn");
    // Swept at its expiry without a second refund.
    s.create_blob(&blob(2, alice, 40, i64::MAX), 100).await.unwrap();
    assert_eq!(s.sweep_blobs(1_000, 10).await.unwrap(), std::slice::from_ref(&b.id));
    assert_eq!(s.blob_usage(alice).await.unwrap(), 40);
}
