//! Spreading messages between real nodes (SPEC.md §6.11, X7): a spread
//! reaches each opted-in node once, within its hop limit, never before the
//! user who passes it on saw it, and never a node that opted out; a
//! tampered spread is refused; a lower hop arriving later is passed on
//! again; the hourly limits hold floods back; the author's retraction
//! follows the spread.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use kovan_crypto::identity::AccountKey;
use kovan_crypto::spread as chain;
use kovan_node::NodeHandle;
use kovan_node::clock::{ManualClock, system_now_ms};
use kovan_node::node::SpreadView;
use kovan_spec::wire;
use rand_core::OsRng;

use crate::harness::{TestNode, TestRelay, befriend_registered, next_text};

const NAMES: [&str; 20] = [
    "ada", "bora", "cem", "deniz", "ece", "firat", "gul", "hakan", "ilke", "jale", "kaan", "lale",
    "mert", "nur", "onur", "pelin", "rana", "selim", "tuna", "umut",
];

/// Two distinct nodes of a list, mutably.
fn two(nodes: &mut [TestNode], a: usize, b: usize) -> (&mut TestNode, &mut TestNode) {
    assert_ne!(a, b);
    if a < b {
        let (l, r) = nodes.split_at_mut(b);
        (&mut l[a], &mut r[0])
    } else {
        let (l, r) = nodes.split_at_mut(a);
        (&mut r[0], &mut l[b])
    }
}

/// A relay, a node per name (on `clock` if given) registered on it, and a
/// friendship per edge (the first asks, the second accepts); `early` opt
/// in before their friendships, `out` never, the rest after.
async fn network(
    dir: &std::path::Path,
    names: &[&str],
    edges: &[(usize, usize)],
    early: &[usize],
    out: &[usize],
    clock: Option<ManualClock>,
) -> (TestRelay, Vec<TestNode>) {
    let relay = TestRelay::start(dir).await;
    let mut nodes = crate::groups::registered(dir, &relay, names, clock).await;
    for &i in early {
        nodes[i].h.set_spreads(true).await.unwrap();
    }
    for &(a, b) in edges {
        let (a, b) = two(&mut nodes, a, b);
        befriend_registered(a, b).await;
    }
    for i in (0..nodes.len()).filter(|i| !early.contains(i) && !out.contains(i)) {
        nodes[i].h.set_spreads(true).await.unwrap();
    }
    // Every node learns which of its friends take part.
    let accounts = accounts_of(&nodes).await;
    for (i, n) in nodes.iter().enumerate() {
        let want: BTreeSet<String> = edges
            .iter()
            .filter_map(|&(a, b)| match () {
                _ if a == i => Some(b),
                _ if b == i => Some(a),
                _ => None,
            })
            .filter(|f| !out.contains(f))
            .map(|f| accounts[f].clone())
            .collect();
        n.until("its friends' opt-ins", |h| {
            let want = want.clone();
            async move {
                let s = h.spread_settings().await.unwrap();
                s.friends.into_iter().collect::<BTreeSet<_>>() == want
            }
        })
        .await;
    }
    (relay, nodes)
}

async fn accounts_of(nodes: &[TestNode]) -> Vec<String> {
    let mut out = Vec::new();
    for n in nodes {
        out.push(n.h.status().await.unwrap().account);
    }
    out
}

async fn held(h: &NodeHandle) -> Vec<SpreadView> {
    h.spreads().await.unwrap()
}

/// Marks every spread the nodes hold as seen (as the list on screen does),
/// again and again, until `done` holds of what they hold; then goes on for
/// `settle` so that whatever else would arrive does.
async fn see_until(
    nodes: &[TestNode],
    settle: Duration,
    done: impl Fn(&[Vec<SpreadView>]) -> bool,
) -> Vec<Vec<SpreadView>> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut settled: Option<tokio::time::Instant> = None;
    loop {
        let mut all = Vec::new();
        for n in nodes {
            let list = held(&n.h).await;
            let new: Vec<String> =
                list.iter().filter(|s| !s.seen).map(|s| format!("{}:{}", s.author, s.id)).collect();
            if !new.is_empty() {
                n.h.spreads_seen(new).await.unwrap();
            }
            all.push(list);
        }
        if done(&all) {
            let at = *settled.get_or_insert_with(tokio::time::Instant::now);
            if at.elapsed() >= settle {
                return all;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: {all:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spread_reaches_each_opted_in_node_once_within_its_hop_limit() {
    let dir = tempfile::tempdir().unwrap();
    // Ada (0) writes with a limit of 3 hops. Ece (4) and Lale (11) opted
    // out; Ilke (8) is reached only through Ece; Rana (16) opted in before
    // her friendships (asking Nur, answering Bora).
    let edges = [
        (0, 1),
        (0, 2),
        (0, 3),
        (0, 4),
        (1, 5),
        (2, 5),
        (2, 6),
        (3, 7),
        (4, 8),
        (5, 9),
        (6, 10),
        (7, 10),
        (7, 11),
        (5, 12),
        (9, 13),
        (10, 14),
        (12, 15),
        (1, 16),
        (16, 13),
        (3, 17),
        (17, 18),
        (18, 19),
    ];
    let (_relay, mut nodes) = network(dir.path(), &NAMES, &edges, &[16], &[4, 11], None).await;
    // What came before (friendships) is not the spread's.
    for n in &mut nodes {
        while n.events.try_recv().is_ok() {}
    }
    let accounts = accounts_of(&nodes).await;
    // Who it reaches, at which hop (the lowest path), and from whom when
    // only one friend can pass it on.
    let hops: BTreeMap<usize, u8> = [
        (1, 1),
        (2, 1),
        (3, 1),
        (5, 2),
        (6, 2),
        (7, 2),
        (16, 2),
        (17, 2),
        (9, 3),
        (10, 3),
        (12, 3),
        (13, 3),
        (18, 3),
    ]
    .into();
    let from: BTreeMap<usize, usize> = [
        (1, 0),
        (2, 0),
        (3, 0),
        (6, 2),
        (7, 3),
        (16, 1),
        (17, 3),
        (9, 5),
        (12, 5),
        (13, 16),
        (18, 17),
    ]
    .into();

    let text = "Yarın 10:00'da parkta ağaç dikiyoruz, gelin!";
    let mine = nodes[0].h.start_spread(text, 3).await.unwrap();
    assert_eq!((mine.mine, mine.hop, mine.hop_limit, mine.passed_to), (true, 0, 3, 3));

    // Ada's friends who take part have it, unseen; nothing goes further
    // before they have looked at it.
    for i in [1, 2, 3] {
        nodes[i].until("the spread", |h| async move { held(&h).await.len() == 1 }).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    for (i, n) in nodes.iter().enumerate().filter(|(i, _)| ![0, 1, 2, 3].contains(i)) {
        assert!(held(&n.h).await.is_empty(), "{} has it before anyone saw it", NAMES[i]);
    }
    let s = &held(&nodes[1].h).await[0];
    assert_eq!(
        (s.author.as_str(), s.text.as_str(), s.hop, s.seen),
        (accounts[0].as_str(), text, 1, false)
    );

    // Every user looks at what reaches them: it goes on, hop by hop.
    let reached = |all: &[Vec<SpreadView>]| hops.keys().all(|&i| !all[i].is_empty());
    let all = see_until(&nodes, Duration::from_secs(2), reached).await;
    for (i, list) in all.iter().enumerate().skip(1) {
        match hops.get(&i) {
            Some(&hop) => {
                assert_eq!(list.len(), 1, "{} holds it once: {list:#?}", NAMES[i]);
                let s = &list[0];
                assert_eq!((s.id.as_str(), s.text.as_str()), (mine.id.as_str(), text));
                assert_eq!((s.hop, s.author.as_str(), s.mine), (hop, accounts[0].as_str(), false));
                if let Some(&f) = from.get(&i) {
                    assert_eq!(s.from.as_deref(), Some(accounts[f].as_str()), "{}", NAMES[i]);
                }
            }
            None => assert!(list.is_empty(), "{} should not have it: {list:#?}", NAMES[i]),
        }
    }
    // Each told its user once, however many friends passed it on (Firat
    // and Kaan got it from two each, at the same hop).
    for (i, n) in nodes.iter_mut().enumerate().skip(1) {
        let mut told = 0;
        while let Ok(ev) = n.events.try_recv() {
            if let kovan_node::Event::Spread { spread } = ev
                && !spread.seen
            {
                told += 1;
            }
        }
        assert_eq!(told, usize::from(hops.contains_key(&i)), "{} was told {told} times", NAMES[i]);
    }
    // Who passed it on, to whom: Bora (1) to Firat and Rana, not back to
    // Ada; Selim (17) to Tuna; the nodes at the limit to nobody.
    assert_eq!(all[1][0].passed_to, 2);
    assert_eq!(all[17][0].passed_to, 1);
    for i in [9, 10, 12, 13, 18] {
        assert_eq!(all[i][0].passed_to, 0, "{} is at the limit", NAMES[i]);
    }

    // Ada takes it back: it is hidden wherever it went.
    let back = nodes[0].h.retract_spread(&mine.id).await.unwrap();
    assert!(back.retracted_at.is_some() && back.text.is_empty());
    for &i in hops.keys() {
        nodes[i]
            .until("the retraction", |h| async move {
                held(&h)
                    .await
                    .first()
                    .is_some_and(|s| s.retracted_at.is_some() && s.text.is_empty())
            })
            .await;
    }
    let err = nodes[1].h.retract_spread(&mine.id).await.unwrap_err();
    assert!(err.to_string().contains("only its author"), "{err}");
    for i in [4, 8, 11, 14, 15, 19] {
        assert!(held(&nodes[i].h).await.is_empty(), "{}", NAMES[i]);
    }
}

/// The spread `s` at `hop`, with the token for it (forged or not).
fn at_hop(s: &wire::Spread, hop: u32, token: [u8; 32]) -> wire::Spread {
    wire::Spread { hop, hop_token: token.to_vec(), ..s.clone() }
}

fn hash_n(seed: &[u8; 32], n: usize) -> [u8; 32] {
    (0..n).fold(*seed, |x, _| chain::hop_hash(&x))
}

fn content(s: wire::Spread) -> wire::app_envelope::Content {
    wire::app_envelope::Content::Spread(s)
}

/// Sends a text from `from` to `to` and waits for it: whatever `from` sent
/// `to` before has been taken in.
async fn flushed(from: &TestNode, to: &mut TestNode, word: &str) {
    let text = wire::app_envelope::Content::Text(wire::Text { body: word.into() });
    from.h.send_raw_content(&to.name, text).await.unwrap();
    while next_text(to).await.1 != word {}
}

/// Bora, Cem, Mallory and Deniz, all taking part: Cem, Mallory and Deniz
/// are Bora's friends (not each other's).
async fn four(dir: &std::path::Path, clock: Option<ManualClock>) -> (TestRelay, [TestNode; 4]) {
    let names = ["bora", "cem", "mallory", "deniz"];
    let (relay, nodes) = network(dir, &names, &[(0, 1), (2, 0), (3, 0)], &[], &[], clock).await;
    (relay, nodes.try_into().unwrap_or_else(|_| unreachable!()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_spread_is_refused_and_a_closer_copy_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, [mut bora, mut cem, mallory, deniz]) = four(dir.path(), None).await;
    // The spreads come from an author none of them knows.
    let author = AccountKey::generate(&mut OsRng);
    let now = system_now_ms() as u64;
    let seed = [7u8; 32];
    let s = chain::author_with(&author, &seed, [1; 16], "barış", 3, now).unwrap();
    let id = hex::encode([1u8; 16]);

    // Mallory's copy at the limit (its token is the public anchor) comes
    // first; Bora sees it and passes nothing on.
    mallory.h.send_raw_content("bora", content(at_hop(&s, 3, hash_n(&seed, 3)))).await.unwrap();
    bora.until("Mallory's copy", |h| async move { held(&h).await.len() == 1 }).await;
    let got = &held(&bora.h).await[0];
    assert_eq!(
        (got.hop, got.author_name.len(), got.from_name.as_deref()),
        (3, 16, Some("mallory"))
    );
    bora.h.spreads_seen(vec![id.clone()]).await.unwrap();

    // Tampering: another text under the signature, a raised limit, a
    // lowered hop, someone else's retraction; Bora's own spread coming
    // back; a spread taken back before Bora saw it.
    let mut core: wire::SpreadCore = kovan_spec::decode(&s.core).unwrap();
    core.text = "savaş".into();
    let other_text = wire::Spread { core: kovan_spec::encode(&core), ..s.clone() };
    let mut core: wire::SpreadCore = kovan_spec::decode(&s.core).unwrap();
    core.hop_limit = 8;
    let raised = wire::Spread { core: kovan_spec::encode(&core), ..s.clone() };
    let lowered = at_hop(&s, 1, hash_n(&seed, 3));
    let forger = AccountKey::generate(&mut OsRng);
    let mut forged = chain::retract(&forger, &[1; 16], now);
    forged.author = author.id().as_bytes().to_vec();
    let keys = kovan_node::identity::Identity::unlock(&bora.home, crate::harness::PASSPHRASE);
    let own = keys.unwrap().author_spread("benim", 2, now).unwrap();
    let undone = chain::author_with(&author, &[8; 32], [2; 16], "geri", 3, now).unwrap();
    let undo = chain::retract(&author, &[2; 16], now);
    let retract = wire::app_envelope::Content::SpreadRetract;
    for c in [
        content(other_text),
        content(raised),
        content(lowered),
        retract(forged),
        content(own),
        content(undone),
        retract(undo),
    ] {
        mallory.h.send_raw_content("bora", c).await.unwrap();
    }
    flushed(&mallory, &mut bora, "tamam").await;
    let list = held(&bora.h).await;
    assert_eq!(list.len(), 2, "{list:#?}");
    let first = list.iter().find(|v| v.id == id).unwrap();
    assert_eq!((first.hop, first.text.as_str(), first.retracted_at), (3, "barış", None));
    let gone = list.iter().find(|v| v.id != id).unwrap();
    assert!(gone.retracted_at.is_some() && gone.text.is_empty() && !gone.seen);

    // Deniz's copy at hop 2 is closer: Bora keeps it and passes it on from
    // there, at hop 3, to Cem and Mallory (not back to Deniz). What was
    // taken back goes nowhere, even once seen.
    deniz.h.send_raw_content("bora", content(at_hop(&s, 2, hash_n(&seed, 2)))).await.unwrap();
    cem.until("the spread through Bora", |h| async move { held(&h).await.len() == 1 }).await;
    let via = &held(&cem.h).await[0];
    assert_eq!((via.id.as_str(), via.hop, via.text.as_str()), (id.as_str(), 3, "barış"));
    let mine = held(&bora.h).await.into_iter().find(|v| v.id == id).unwrap();
    assert_eq!((mine.hop, mine.passed_to), (2, 2));
    bora.h.spreads_seen(vec![hex::encode([2u8; 16])]).await.unwrap();
    flushed(&bora, &mut cem, "hepsi bu").await;
    assert_eq!(held(&cem.h).await.len(), 1, "only the spread that was not taken back");

    // The author's retraction (through Mallory) is taken and follows the
    // spread to Cem.
    let back = retract(chain::retract(&author, &[1; 16], now));
    mallory.h.send_raw_content("bora", back).await.unwrap();
    for n in [&bora, &cem] {
        let id = id.clone();
        n.until("the retraction", move |h| {
            let id = id.clone();
            async move {
                held(&h)
                    .await
                    .iter()
                    .any(|v| v.id == id && v.retracted_at.is_some() && v.text.is_empty())
            }
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_wait_for_the_hour_and_nothing_goes_on_after_opting_out() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(system_now_ms());
    let (_relay, [mut bora, mut cem, mallory, deniz]) = four(dir.path(), Some(clock.clone())).await;
    let hour = Duration::from_secs(61 * 60);
    let mut n = 0u8;
    let mut spread = |author: &AccountKey, hops: u8| {
        n += 1;
        let at = system_now_ms() as u64;
        content(chain::author_with(author, &[n; 32], [n; 16], "sel", hops, at).unwrap())
    };
    let see_all = |h: NodeHandle| async move {
        let all = held(&h).await.iter().map(|s| format!("{}:{}", s.author, s.id)).collect();
        h.spreads_seen(all).await.unwrap();
    };

    // One author's flood: Bora passes 3 of its spreads an hour on; the
    // fourth waits, seen, for the hour.
    let one = AccountKey::generate(&mut OsRng);
    for _ in 0..4 {
        deniz.h.send_raw_content("bora", spread(&one, 2)).await.unwrap();
    }
    bora.until("the flood", |h| async move { held(&h).await.len() == 4 }).await;
    see_all(bora.h.clone()).await;
    cem.until("three of the flood", |h| async move { held(&h).await.len() == 3 }).await;
    flushed(&bora, &mut cem, "bir").await;
    assert_eq!(held(&cem.h).await.len(), 3, "the author's limit held the fourth back");
    clock.advance(hour);
    cem.until("the fourth", |h| async move { held(&h).await.len() == 4 }).await;

    // Many authors: Bora passes 20 spreads an hour on in all (the fourth
    // above was one of them); the rest wait.
    let authors: Vec<AccountKey> = (0..7).map(|_| AccountKey::generate(&mut OsRng)).collect();
    for a in &authors {
        for _ in 0..3 {
            deniz.h.send_raw_content("bora", spread(a, 2)).await.unwrap();
        }
    }
    bora.until("21 more", |h| async move { held(&h).await.len() == 25 }).await;
    see_all(bora.h.clone()).await;
    cem.until("19 of them", |h| async move { held(&h).await.len() == 23 }).await;
    flushed(&bora, &mut cem, "iki").await;
    assert_eq!(held(&cem.h).await.len(), 23, "this node's limit held two back");

    // Bora stops taking part: what waited never goes, and what comes is
    // dropped; taking part again does not send what was dropped.
    bora.h.set_spreads(false).await.unwrap();
    clock.advance(hour);
    tokio::time::sleep(Duration::from_millis(500)).await;
    deniz.h.send_raw_content("bora", spread(&one, 2)).await.unwrap();
    flushed(&deniz, &mut bora, "üç").await;
    assert_eq!(held(&bora.h).await.len(), 25, "an opted-out node takes nothing");
    bora.h.set_spreads(true).await.unwrap();
    flushed(&bora, &mut cem, "dört").await;
    assert_eq!(held(&cem.h).await.len(), 23, "nothing went on while Bora was out");

    // One friend's share of what a node keeps: 30 an hour.
    let mint = AccountKey::generate(&mut OsRng);
    for _ in 0..31 {
        mallory.h.send_raw_content("bora", spread(&mint, 1)).await.unwrap();
    }
    flushed(&mallory, &mut bora, "beş").await;
    assert_eq!(held(&bora.h).await.len(), 55, "Mallory's 31st was dropped unseen");
}
