//! [`SessionStore`]: sessions by token hash, their expiry, revocation.

use kovan_relay::services::accounts::AccountStore;
use kovan_relay::sessions::{SessionRow, SessionStore};

use super::account;
use crate::conformance;

conformance!(live_sessions_by_token, revoking_sessions);

fn session(
    id: &str,
    account_id: i64,
    device: &str,
    created_at: i64,
    expires_at: i64,
) -> SessionRow {
    SessionRow {
        id: id.into(),
        account_id,
        device_peer_id: device.into(),
        token_hash: id.bytes().chain([0; 31]).take(32).collect(),
        created_at,
        last_used_at: created_at,
        expires_at,
        user_agent: format!("agent {id}"),
    }
}

async fn live_sessions_by_token<S: AccountStore + SessionStore>(s: S) {
    let (alice, peer) = account(&s, "alice").await;
    let a = session("a", alice, &peer, 10, 100);
    let b = session("b", alice, &peer, 20, 200);
    for x in [&a, &b] {
        s.create_session(x).await.unwrap();
    }
    assert_eq!(s.session_by_token_hash(&a.token_hash, 99).await.unwrap().as_ref(), Some(&a));
    assert_eq!(s.session_by_token_hash(&a.token_hash, 100).await.unwrap(), None, "expired");
    assert_eq!(s.session_by_token_hash(&[9; 32], 0).await.unwrap(), None);

    let ids = |v: Vec<SessionRow>| v.into_iter().map(|x| x.id).collect::<Vec<_>>();
    assert_eq!(ids(s.sessions_of(alice, 50).await.unwrap()), ["b", "a"], "newest first");
    assert_eq!(ids(s.sessions_of(alice, 150).await.unwrap()), ["b"], "live only");

    s.touch_session("a", 120, 300).await.unwrap();
    let renewed = s.session_by_token_hash(&a.token_hash, 150).await.unwrap().unwrap();
    assert_eq!((renewed.last_used_at, renewed.expires_at), (120, 300));
}

async fn revoking_sessions<S: AccountStore + SessionStore>(s: S) {
    let (alice, peer) = account(&s, "alice").await;
    let (bob, bob_peer) = account(&s, "bob").await;
    for x in [
        session("a1", alice, &peer, 1, 1_000),
        session("a2", alice, &peer, 2, 1_000),
        session("a3", alice, &peer, 3, 50),
        session("b1", bob, &bob_peer, 1, 1_000),
    ] {
        s.create_session(&x).await.unwrap();
    }
    assert!(!s.delete_session(alice, "b1").await.unwrap(), "another account's session");
    assert!(s.delete_session(alice, "a1").await.unwrap());
    assert!(!s.delete_session(alice, "a1").await.unwrap());

    assert_eq!(s.delete_expired_sessions(100).await.unwrap(), ["a3"]);
    s.create_session(&session("a4", alice, &peer, 4, 1_000)).await.unwrap();
    let mut others = s.delete_other_sessions(alice, "a2").await.unwrap();
    others.sort();
    assert_eq!(others, ["a4"]);
    let left: Vec<String> =
        s.sessions_of(alice, 0).await.unwrap().into_iter().map(|x| x.id).collect();
    assert_eq!(left, ["a2"]);
    assert_eq!(s.sessions_of(bob, 0).await.unwrap().len(), 1);
}
