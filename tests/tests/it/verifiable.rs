//! Verifiable polls between real nodes (SPEC.md §6.4.1): the voters are
//! the group's members in the poll's MLS epoch, each casts one signed
//! ballot, double votes and strangers are caught, and a creator who leaves
//! a ballot out of the close, or a member who forges a voter list, is found
//! out by everyone else.

use kovan_node::NodeHandle;
use kovan_node::home::Home;
use kovan_node::node::PollView;
use kovan_spec::wire;

use crate::groups::{answer, group_until, people};
use crate::harness::TestNode;

/// The poll `id` as `n` shows it.
pub(crate) async fn poll_of(h: &NodeHandle, conv: &str, id: &str) -> Option<PollView> {
    let page = h.history(conv, None, 200).await.ok()?;
    page.into_iter().find(|m| m.id == id).and_then(|m| m.poll)
}

/// Waits until every node shows the poll as `want` says.
pub(crate) async fn all_see(
    nodes: &[&TestNode],
    conv: &str,
    id: &str,
    what: &str,
    want: impl Fn(&PollView) -> bool + Clone + Send + Sync + 'static,
) {
    for n in nodes {
        let (conv, id, want) = (conv.to_owned(), id.to_owned(), want.clone());
        n.until(what, move |h| {
            let (conv, id, want) = (conv.clone(), id.clone(), want.clone());
            async move { poll_of(&h, &conv, &id).await.is_some_and(|p| want(&p)) }
        })
        .await;
    }
}

pub(crate) fn tally(p: &PollView) -> Vec<usize> {
    p.options.iter().map(|o| o.votes).collect()
}

pub(crate) fn findings(p: &PollView) -> Vec<(String, &'static str)> {
    p.verifiable.as_ref().map_or_else(Vec::new, |c| {
        c.findings.iter().map(|f| (f.account.clone(), f.finding)).collect()
    })
}

pub(crate) fn verified(p: &PollView) -> bool {
    p.verifiable.as_ref().is_some_and(|c| c.verified)
}

/// A group of everyone in `nodes`, made by the first.
pub(crate) async fn group_of(nodes: &mut [TestNode], name: &str) -> String {
    let (first, rest) = nodes.split_first_mut().unwrap();
    let gid = first.h.group_create(name, "", false).await.unwrap().id;
    for n in rest.iter_mut() {
        first.h.group_invite(&gid, &n.name).await.unwrap();
        answer(n, true).await;
    }
    let all = nodes.len();
    for n in nodes.iter() {
        group_until(n, &gid, "everyone in the group", move |g| g.members.len() == all).await;
    }
    gid
}

/// Removes every ballot of `account` a stopped node kept.
fn forget_ballots_of(home: &Home, account: &str) {
    let db = rusqlite::Connection::open(home.database()).unwrap();
    let n = db
        .execute(
            "DELETE FROM poll_ballots WHERE voter_account = ?1",
            [hex::decode(account).unwrap()],
        )
        .unwrap();
    assert!(n > 0, "the node had kept that ballot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verifiable_poll_counts_one_signed_ballot_per_member_and_catches_double_votes() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, nodes) = people(dir.path(), &["alice", "bob", "carol", "dave", "erin"]).await;
    let mut nodes = nodes;
    let mut erin = nodes.pop().unwrap();
    let gid = group_of(&mut nodes, "Kooperatif").await;
    let [alice, bob, carol, dave]: [TestNode; 4] =
        nodes.try_into().unwrap_or_else(|_| unreachable!());

    // The voters are the four members, checked by every one of them
    // against its own MLS state.
    let options = ["Ayşe", "Mehmet", "Zeynep"].map(str::to_owned).to_vec();
    let poll =
        alice.h.poll_create_verifiable(&gid, "Başkan kim olsun?", options, false).await.unwrap();
    let id = poll.id.clone();
    let everyone = [&alice, &bob, &carol, &dave];
    all_see(&everyone, &gid, &id, "a checked verifiable poll", |p| {
        p.verifiable.as_ref().is_some_and(|c| {
            c.eligibility == "checked" && c.eligible == 4 && c.can_vote && c.verified
        })
    })
    .await;

    // One signed ballot each; it can be neither changed nor withdrawn.
    bob.h.poll_vote(&gid, &id, vec![0]).await.unwrap();
    carol.h.poll_vote(&gid, &id, vec![1]).await.unwrap();
    alice.h.poll_vote(&gid, &id, vec![0]).await.unwrap();
    dave.h.poll_vote(&gid, &id, vec![2]).await.unwrap();
    all_see(&everyone, &gid, &id, "four ballots", |p| {
        tally(p) == [2, 1, 1] && verified(p) && findings(p).is_empty()
    })
    .await;
    let err = bob.h.poll_vote(&gid, &id, vec![1]).await.unwrap_err();
    assert!(err.to_string().contains("cannot be changed"), "{err}");
    let err = carol.h.poll_vote(&gid, &id, vec![]).await.unwrap_err();
    assert!(err.to_string().contains("cannot be withdrawn"), "{err}");

    // Dave makes his node forget his ballot and votes again: everyone
    // holds both signed ballots, so both are void and he is named.
    let dave_account = dave.h.account_hex();
    let forget = dave_account.clone();
    let dave = dave.restart_after(move |home| forget_ballots_of(home, &forget)).await;
    dave.h.poll_vote(&gid, &id, vec![1]).await.unwrap();
    let caught = dave_account.clone();
    all_see(&[&alice, &bob, &carol], &gid, &id, "Dave's double vote caught", move |p| {
        tally(p) == [2, 1, 0] && verified(p) && findings(p) == [(caught.clone(), "double_vote")]
    })
    .await;

    // Erin joins after the poll was made: she is not a voter, and a
    // ballot her node sends anyway is refused by everyone.
    alice.h.group_invite(&gid, "erin").await.unwrap();
    answer(&mut erin, true).await;
    group_until(&alice, &gid, "Erin in", |g| g.members.len() == 5).await;
    // Her own node must have joined too before it can send into the group.
    group_until(&erin, &gid, "Erin's node in", |g| g.members.len() == 5).await;
    let stray = wire::Vote {
        poll: hex::decode(&id).unwrap(),
        choices: vec![2],
        signature: vec![7; 64],
        ..Default::default()
    };
    erin.h.send_raw_content(&gid, wire::app_envelope::Content::Vote(stray)).await.unwrap();
    let erin_account = erin.h.account_hex();
    let (d, e) = (dave_account.clone(), erin_account.clone());
    all_see(&[&alice, &bob, &carol], &gid, &id, "Erin's ballot refused", move |p| {
        let f = findings(p);
        tally(p) == [2, 1, 0]
            && verified(p)
            && f.contains(&(e.clone(), "not_eligible"))
            && f.contains(&(d.clone(), "double_vote"))
    })
    .await;

    // The close counts the three valid ballots and proves the double vote;
    // every member checks it and agrees, Dave included, and again after a
    // restart.
    let closed = alice.h.poll_close(&gid, &id).await.unwrap().poll.unwrap();
    assert!(closed.closed && verified(&closed));
    let d = dave_account.clone();
    all_see(&[&alice, &bob, &carol, &dave], &gid, &id, "the close verified", move |p| {
        p.closed
            && tally(p) == [2, 1, 0]
            && verified(p)
            && findings(p).contains(&(d.clone(), "double_vote"))
    })
    .await;
    let bob = bob.restart().await;
    let p = poll_of(&bob.h, &gid, &id).await.unwrap();
    assert!(p.closed && verified(&p) && tally(&p) == [2, 1, 0], "{p:?}");
    let by: Vec<&String> = p.options[0].by.iter().collect();
    assert_eq!(by.len(), 2, "who chose what is visible in a verifiable poll");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_creator_who_leaves_a_ballot_out_or_a_forged_voter_list_is_found_out() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, mut nodes) = people(dir.path(), &["alice", "bob", "carol"]).await;
    let gid = group_of(&mut nodes, "Site yönetimi").await;
    let [alice, bob, carol]: [TestNode; 3] = nodes.try_into().unwrap_or_else(|_| unreachable!());

    // Bob sends a "verifiable" poll whose voter list leaves Carol out and
    // whose binding he made up: nobody else's MLS state agrees.
    let forged = wire::Poll {
        question: "Aidat artsın mı?".into(),
        options: vec!["evet".into(), "hayır".into()],
        multiple: false,
        verifiable: Some(wire::VerifiablePoll {
            epoch: 2,
            nonce: vec![1; 16],
            voters: vec![hex::decode(alice.h.account_hex()).unwrap()],
            binding: vec![3; 32],
            sealed: false,
            anonymous: false,
        }),
    };
    let sent = bob.h.send_raw_content(&gid, wire::app_envelope::Content::Poll(forged)).await;
    let forged_id = sent.unwrap().id;
    all_see(&[&alice, &carol], &gid, &forged_id, "the forged list refused", |p| {
        p.verifiable.as_ref().is_some_and(|c| c.eligibility == "failed" && !c.verified)
    })
    .await;

    // A real poll; Bob and Carol vote.
    let options = ["evet", "hayır"].map(str::to_owned).to_vec();
    let poll = alice.h.poll_create_verifiable(&gid, "Bahçe yenilensin mi?", options, false);
    let id = poll.await.unwrap().id;
    all_see(&[&alice, &bob, &carol], &gid, &id, "the real poll", verified).await;
    bob.h.poll_vote(&gid, &id, vec![0]).await.unwrap();
    carol.h.poll_vote(&gid, &id, vec![1]).await.unwrap();
    all_see(&[&alice, &bob, &carol], &gid, &id, "two ballots", |p| {
        tally(p) == [1, 1] && verified(p)
    })
    .await;

    // Alice's node "loses" Carol's ballot before she closes: her close
    // leaves it out, and Bob and Carol, who hold it signed, say so.
    let carol_account = carol.h.account_hex();
    let forget = carol_account.clone();
    let alice = alice.restart_after(move |home| forget_ballots_of(home, &forget)).await;
    let closed = alice.h.poll_close(&gid, &id).await.unwrap().poll.unwrap();
    assert_eq!(tally(&closed), [1, 0], "Alice's close counts only Bob");
    let c = carol_account.clone();
    all_see(&[&bob, &carol], &gid, &id, "the dropped ballot found", move |p| {
        p.closed && !verified(p) && findings(p) == [(c.clone(), "dropped")]
    })
    .await;
    // The audit runs again from the stored ballots, after a restart too.
    let carol = carol.restart().await;
    let again = carol.h.poll_verify(&gid, &id).await.unwrap().poll.unwrap();
    assert!(!verified(&again) && findings(&again) == [(carol_account, "dropped")]);
    let page = bob.h.history(&gid, None, 50).await.unwrap();
    assert!(page.iter().any(|m| m.id == forged_id), "the forged poll is shown, marked");
}

fn not_revealed(p: &PollView) -> Option<usize> {
    p.verifiable.as_ref().filter(|c| c.sealed).map(|c| c.not_revealed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sealed_poll_shows_no_choice_until_the_close_then_each_voter_reveals() {
    let dir = tempfile::tempdir().unwrap();
    let (relay, mut nodes) = people(dir.path(), &["alice", "bob", "carol", "dave"]).await;
    let gid = group_of(&mut nodes, "Jüri").await;
    let [alice, bob, carol, dave]: [TestNode; 4] =
        nodes.try_into().unwrap_or_else(|_| unreachable!());
    let options = ["Ayşe", "Mehmet"].map(str::to_owned).to_vec();
    let poll = alice.h.poll_create_sealed(&gid, "Kazanan kim?", options, false).await.unwrap();
    let id = poll.id.clone();
    let everyone = [&alice, &bob, &carol, &dave];
    all_see(&everyone, &gid, &id, "a checked sealed poll", |p| {
        verified(p) && not_revealed(p) == Some(0) && !p.closed
    })
    .await;

    // Four sealed ballots: every member, the creator included, sees that
    // they count and not one choice; a voter's own device shows its own.
    alice.h.poll_vote(&gid, &id, vec![0]).await.unwrap();
    bob.h.poll_vote(&gid, &id, vec![0]).await.unwrap();
    carol.h.poll_vote(&gid, &id, vec![1]).await.unwrap();
    dave.h.poll_vote(&gid, &id, vec![1]).await.unwrap();
    all_see(&everyone, &gid, &id, "four sealed ballots", |p| {
        p.voters == 4 && tally(p) == [0, 0] && p.options.iter().all(|o| o.by.is_empty())
    })
    .await;
    assert_eq!(poll_of(&bob.h, &gid, &id).await.unwrap().mine, [0]);
    let err = carol.h.poll_vote(&gid, &id, vec![0]).await.unwrap_err();
    assert!(err.to_string().contains("cannot be changed"), "{err}");

    // Dave is offline at the close: the three others reveal at once, and
    // his ballot counts as not revealed.
    dave.h.shutdown().await;
    alice.h.poll_close(&gid, &id).await.unwrap();
    all_see(&everyone[..3], &gid, &id, "three reveals", |p| {
        p.closed && tally(p) == [2, 1] && not_revealed(p) == Some(1) && verified(p)
    })
    .await;
    let shown = poll_of(&carol.h, &gid, &id).await.unwrap();
    assert_eq!(shown.options[1].by, [carol.h.account_hex()], "who chose what, once revealed");

    // Back online, Dave's node applies the close and reveals his ballot.
    let dave = TestNode::reopen(dir.path().join("dave"), "dave", Some(&relay.url)).await;
    all_see(&[&alice, &bob, &carol, &dave], &gid, &id, "every ballot revealed", |p| {
        tally(p) == [2, 2] && not_revealed(p) == Some(0) && verified(p)
    })
    .await;
}
