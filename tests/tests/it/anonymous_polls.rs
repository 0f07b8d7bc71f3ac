//! Anonymous polls between real nodes (SPEC.md §6.4.2): every voter's node
//! registers a ballot key, the creator's node publishes the ring once all
//! have, and each ballot is a ring signature that reaches every member
//! through relay mailboxes sealed with no sender. Members count ballots by
//! key image: a voter who votes twice is linked and void, and a creator
//! whose close leaves a ballot out is found out.

use kovan_crypto::envelope::{Opening, open_any};
use kovan_node::home::Home;
use kovan_node::identity::{Identity, now_secs};
use kovan_node::node::PollView;

use crate::groups::people;
use crate::harness::{PASSPHRASE, TestNode};
use crate::verifiable::{all_see, findings, group_of, poll_of, tally, verified};

fn anonymous(p: &PollView) -> Option<&kovan_node::node::AnonymousPollView> {
    p.verifiable.as_ref().and_then(|c| c.anonymous.as_ref())
}

/// The key image of the ballot a node cast (it knows its own).
fn my_key_image(home: &Home) -> Vec<u8> {
    let db = rusqlite::Connection::open(home.database()).unwrap();
    db.query_row("SELECT key_image FROM poll_ring_ballots WHERE cast_here = 1", [], |r| r.get(0))
        .unwrap()
}

/// Four members in a group, and an anonymous poll by the first whose ring
/// everyone holds.
async fn poll_of_four(
    dir: &std::path::Path,
) -> (crate::harness::TestRelay, [TestNode; 4], String, String) {
    let (relay, nodes) = people(dir, &["alice", "bob", "carol", "dave"]).await;
    let mut nodes = nodes;
    let gid = group_of(&mut nodes, "Apartman").await;
    let four: [TestNode; 4] = nodes.try_into().unwrap_or_else(|_| unreachable!());
    let options = ["boya", "asansör"].map(str::to_owned).to_vec();
    let poll = four[0].h.poll_create_anonymous(&gid, "Önce ne?", options, false).await.unwrap();
    let id = poll.id.clone();
    let [a, b, c, d] = &four;
    // Every member also says which ring it holds, so that none was shown
    // another.
    all_see(&[a, b, c, d], &gid, &id, "a ring of all four, the same everywhere", |p| {
        anonymous(p).is_some_and(|a| {
            a.registered == 4 && a.ring == Some(4) && a.in_ring && a.unconfirmed == 0
        }) && verified(p)
    })
    .await;
    (relay, four, gid, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_ballots_reach_everyone_through_mailboxes_naming_no_voter() {
    let dir = tempfile::tempdir().unwrap();
    let (relay, [alice, bob, carol, dave], gid, id) = poll_of_four(dir.path()).await;
    // A 1:1 chat or a group of two cannot hide a voter.
    let err = bob.h.poll_create_anonymous(&alice.name, "?", vec!["a".into(), "b".into()], false);
    assert!(err.await.unwrap_err().to_string().contains("3 voters at least"));

    // Dave is away: the ballots for him wait in his relay mailbox.
    let dave_peer = dave.h.peer_id().to_string();
    let dave = dave.restart_isolated().await;
    alice.h.poll_vote(&gid, &id, vec![0]).await.unwrap();
    bob.h.poll_vote(&gid, &id, vec![1]).await.unwrap();
    carol.h.poll_vote(&gid, &id, vec![1]).await.unwrap();
    all_see(&[&alice, &bob, &carol], &gid, &id, "three anonymous ballots", |p| {
        tally(p) == [1, 2] && verified(p) && findings(p).is_empty()
    })
    .await;
    // The tally says how many, never who.
    let p = poll_of(&bob.h, &gid, &id).await.unwrap();
    assert!(p.options.iter().all(|o| o.by.is_empty()), "{p:?}");
    assert_eq!(p.mine, vec![1]);
    assert!(anonymous(&p).is_some_and(|a| a.voted));
    let err = bob.h.poll_vote(&gid, &id, vec![0]).await.unwrap_err();
    assert!(err.to_string().contains("cannot be changed"), "{err}");

    // What the relay holds for Dave: three envelopes that open, with his
    // key, as anonymous ballots without a sender certificate or signature,
    // and carry no voter's account key or device id.
    let db = rusqlite::Connection::open(relay.dir.join("relay.sqlite3")).unwrap();
    let mut stmt = db.prepare("SELECT envelope FROM mailbox WHERE device_peer_id = ?1").unwrap();
    let envelopes: Vec<Vec<u8>> =
        stmt.query_map([&dave_peer], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
    let key = Identity::unlock(&dave.home, PASSPHRASE).unwrap();
    let voters = [&alice, &bob, &carol];
    let mut ballots = 0;
    for e in &envelopes {
        if let Ok(Opening::Anonymous(a)) = open_any(&key.device_keys().envelope, e, now_secs()) {
            ballots += 1;
            assert_eq!(a.timestamp_ms, 0, "the voter's clock would tell its device apart");
            assert!(e.len() >= 1024, "padded as every envelope");
            for v in voters {
                let account = hex::decode(v.h.account_hex()).unwrap();
                let peer = v.h.peer_id().to_bytes();
                for needle in [account.as_slice(), peer.as_slice()] {
                    assert!(!a.payload.windows(needle.len()).any(|w| w == needle), "names a voter");
                }
            }
        }
    }
    assert_eq!(ballots, 3, "one anonymous ballot per voter for Dave ({} items)", envelopes.len());

    // Back, Dave counts them and casts his own.
    let dave = dave.reconnect().await;
    all_see(&[&dave], &gid, &id, "the three ballots at Dave", |p| tally(p) == [1, 2]).await;
    dave.h.poll_vote(&gid, &id, vec![0]).await.unwrap();
    all_see(&[&alice, &bob, &carol, &dave], &gid, &id, "four ballots", |p| {
        tally(p) == [2, 2] && verified(p)
    })
    .await;

    // The close counts them by key image; everyone's audit agrees.
    alice.h.poll_close(&gid, &id).await.unwrap();
    all_see(&[&alice, &bob, &carol, &dave], &gid, &id, "a verified close", |p| {
        p.closed && tally(p) == [2, 2] && verified(p) && findings(p).is_empty()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_double_anonymous_vote_is_linked_and_a_close_that_drops_a_ballot_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, [alice, bob, carol, dave], gid, id) = poll_of_four(dir.path()).await;
    alice.h.poll_vote(&gid, &id, vec![0]).await.unwrap();
    bob.h.poll_vote(&gid, &id, vec![1]).await.unwrap();
    carol.h.poll_vote(&gid, &id, vec![0]).await.unwrap();
    all_see(&[&alice, &bob, &carol, &dave], &gid, &id, "three ballots", |p| tally(p) == [2, 1])
        .await;

    // Bob's node forgets his ballot and he votes again: the same key
    // image, so both of his ballots are void, and nobody learns it was him.
    let bob_image = my_key_image(&bob.home);
    let bob = bob
        .restart_after(|home| {
            let db = rusqlite::Connection::open(home.database()).unwrap();
            db.execute("DELETE FROM poll_ring_ballots", []).unwrap();
        })
        .await;
    bob.h.poll_vote(&gid, &id, vec![0]).await.unwrap();
    let double = (hex::encode(&bob_image), "double_vote");
    all_see(&[&alice, &carol, &dave], &gid, &id, "Bob's double vote void", move |p| {
        tally(p) == [2, 0] && findings(p) == vec![double.clone()] && verified(p)
    })
    .await;

    // Alice's node loses Carol's ballot before she closes: her close leaves
    // it out, and everyone who holds it says the tally does not hold.
    let carol_image = my_key_image(&carol.home);
    let alice = alice
        .restart_after(|home| {
            let db = rusqlite::Connection::open(home.database()).unwrap();
            let n = db
                .execute("DELETE FROM poll_ring_ballots WHERE key_image = ?1", [&carol_image])
                .unwrap();
            assert_eq!(n, 1);
        })
        .await;
    alice.h.poll_close(&gid, &id).await.unwrap();
    // (Bob's node forgot the ballots it held, so it cannot tell.)
    let dropped = (hex::encode(&carol_image), "dropped");
    all_see(&[&carol, &dave], &gid, &id, "a close that drops Carol's ballot", move |p| {
        p.closed && !verified(p) && findings(p).contains(&dropped)
    })
    .await;
    let p = poll_of(&dave.h, &gid, &id).await.unwrap();
    assert_eq!(tally(&p), [1, 0], "the close's tally, shown as not verified");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_creator_opens_voting_without_a_voter_who_never_registered() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, nodes) = people(dir.path(), &["alice", "bob", "carol", "dave"]).await;
    let mut nodes = nodes;
    let gid = group_of(&mut nodes, "Site").await;
    let [alice, bob, carol, dave]: [TestNode; 4] =
        nodes.try_into().unwrap_or_else(|_| unreachable!());
    // Dave is away when the poll comes: no registration from him.
    let dave = dave.restart_isolated().await;
    let options = ["evet", "hayır"].map(str::to_owned).to_vec();
    let poll = alice.h.poll_create_anonymous(&gid, "Kamera?", options, false).await.unwrap();
    let id = poll.id.clone();
    all_see(&[&alice, &bob, &carol], &gid, &id, "three registered, no ring", |p| {
        anonymous(p).is_some_and(|a| a.registered == 3 && a.ring.is_none())
    })
    .await;
    let err = bob.h.poll_vote(&gid, &id, vec![0]).await.unwrap_err();
    assert!(err.to_string().contains("not published the ring"), "{err}");
    let err = bob.h.poll_ring(&gid, &id).await.unwrap_err();
    assert!(err.to_string().contains("only the poll's creator"), "{err}");

    alice.h.poll_ring(&gid, &id).await.unwrap();
    all_see(&[&alice, &bob, &carol], &gid, &id, "a ring of three", |p| {
        anonymous(p).is_some_and(|a| a.ring == Some(3)) && verified(p)
    })
    .await;
    bob.h.poll_vote(&gid, &id, vec![1]).await.unwrap();

    // Dave comes back too late for the ring: he sees the poll and the
    // ballot, and cannot vote.
    let dave = dave.reconnect().await;
    all_see(&[&dave], &gid, &id, "Dave outside the ring", |p| {
        anonymous(p).is_some_and(|a| a.ring == Some(3) && !a.in_ring) && tally(p) == [0, 1]
    })
    .await;
    let err = dave.h.poll_vote(&gid, &id, vec![0]).await.unwrap_err();
    assert!(err.to_string().contains("not in this poll's ring"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_who_holds_another_ring_makes_the_poll_fail_and_stops_votes() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, [_alice, bob, carol, _dave], gid, id) = poll_of_four(dir.path()).await;
    // As if the creator had shown Carol another ring than Bob's: Bob's node
    // holds her word for a ring whose digest is not his ring's.
    let carol_account = hex::decode(carol.h.account_hex()).unwrap();
    let bob = bob
        .restart_after(|home| {
            let db = rusqlite::Connection::open(home.database()).unwrap();
            let n = db
                .execute(
                    "UPDATE poll_ring_seen SET ring = ?1 WHERE account = ?2",
                    rusqlite::params![[7u8; 32].as_slice(), carol_account],
                )
                .unwrap();
            assert_eq!(n, 1, "Bob held Carol's word on the ring");
        })
        .await;
    let bad = (carol.h.account_hex(), "bad_ring");
    all_see(&[&bob], &gid, &id, "the ring found bad", move |p| {
        !verified(p) && findings(p).contains(&bad)
    })
    .await;
    let err = bob.h.poll_vote(&gid, &id, vec![0]).await.unwrap_err();
    assert!(err.to_string().contains("does not match"), "{err}");
}
