//! [`CommunityStore`]: applying verified actions (the rules, replays) and
//! the reads (pages, threads in tree order, search, unread counts, the
//! moderation log), the same on both backends.

use kovan_crypto::community::{OpenedAction, sign_action};
use kovan_crypto::identity::AccountKey;
use kovan_relay::services::accounts::AccountStore;
use kovan_relay::services::communities::CommunityStore;
use kovan_relay::services::communities::apply::{ApplyError, Author};
use kovan_relay::services::communities::store::Sort;
use kovan_spec::wire::{self, community_action::Body};
use rand_core::OsRng;

use super::device;
use crate::conformance;

conformance!(
    actions_apply_and_read_back,
    replays_and_broken_rules_change_nothing,
    search_pages_window_by_window,
    search_finds_rare_and_common_words_across_many_items
);

struct Member {
    key: AccountKey,
    author: Author,
}

async fn member<S: AccountStore>(s: &S, name: &str) -> Member {
    let key = AccountKey::generate(&mut OsRng);
    let id = s
        .create_account(name, key.id().as_bytes(), "$argon2id$test", &device(name, 0), 1_000)
        .await
        .unwrap();
    Member { key, author: Author { id, username: name.into() } }
}

fn signed(m: &Member, body: Body, nonce: u8) -> (Vec<u8>, [u8; 64], OpenedAction) {
    let a = wire::CommunityAction {
        version: 1,
        author: m.key.id().as_bytes().to_vec(),
        created_ms: 5_000,
        nonce: vec![nonce; 16],
        body: Some(body),
    };
    sign_action(&m.key, &a).unwrap()
}

async fn apply<S: CommunityStore>(
    s: &S,
    m: &Member,
    body: Body,
    nonce: u8,
) -> Result<String, ApplyError> {
    let (tbs, sig, opened) = signed(m, body, nonce);
    s.apply_action(&m.author, &tbs, &sig, &opened, 10_000 + i64::from(nonce)).await.map(|a| a.id)
}

fn create(name: &str) -> Body {
    Body::Create(wire::CommunityCreate {
        name: name.into(),
        settings: Some(wire::CommunitySettings {
            topic: "Arıcılık".into(),
            visibility: 1,
            post_policy: 1,
            ..Default::default()
        }),
    })
}

fn post(c: &[u8], title: &str) -> Body {
    Body::Post(wire::CommunityPost {
        community: c.to_vec(),
        title: title.into(),
        text: "bal".into(),
        ..Default::default()
    })
}

fn comment(c: &[u8], p: &[u8], parent: &[u8], text: &str) -> Body {
    Body::Comment(wire::CommunityComment {
        community: c.to_vec(),
        post: p.to_vec(),
        parent: parent.to_vec(),
        text: text.into(),
    })
}

fn ids(v: Vec<kovan_relay::services::communities::store::ItemRow>) -> Vec<String> {
    v.into_iter().map(|i| i.id).collect()
}

fn raw(id: &str) -> Vec<u8> {
    hex::decode(id).unwrap()
}

async fn actions_apply_and_read_back<S: AccountStore + CommunityStore>(s: S) {
    let ali = member(&s, "ali").await;
    let can = member(&s, "can").await;
    let cid = apply(&s, &ali, create("arilar"), 1).await.unwrap();
    let c = raw(&cid);
    assert_eq!(s.community("arilar").await.unwrap().unwrap().id, cid, "by name");
    assert_eq!(
        s.community(&cid).await.unwrap().unwrap().members,
        1,
        "by id; the owner is a member"
    );
    apply(
        &s,
        &can,
        Body::Membership(wire::CommunityMembership {
            community: c.clone(),
            join: true,
            note: String::new(),
        }),
        2,
    )
    .await
    .unwrap();
    let p1 = apply(&s, &ali, post(&c, "Birinci"), 3).await.unwrap();
    let p2 = apply(&s, &ali, post(&c, "Arılar uçuyor"), 4).await.unwrap();
    // A tree: a, a.1, a.1.1, b, answered out of order.
    let a = apply(&s, &can, comment(&c, &raw(&p1), &[], "a"), 5).await.unwrap();
    let b = apply(&s, &ali, comment(&c, &raw(&p1), &[], "b"), 6).await.unwrap();
    let a1 = apply(&s, &ali, comment(&c, &raw(&p1), &raw(&a), "a.1"), 7).await.unwrap();
    let a11 = apply(&s, &can, comment(&c, &raw(&p1), &raw(&a1), "a.1.1"), 8).await.unwrap();
    let thread: Vec<String> =
        s.thread(&p1, "", 50).await.unwrap().into_iter().map(|i| i.id).collect();
    assert_eq!(thread, [a.clone(), a1.clone(), a11, b]);
    let after_a1 = s.item(&a1).await.unwrap().unwrap().path;
    assert_eq!(s.thread(&p1, &after_a1, 1).await.unwrap().len(), 1, "paging by path");

    // Newest first; the most liked first; the newest comment first.
    assert_eq!(ids(s.posts(&cid, Sort::New, 10, 0).await.unwrap()), [p2.clone(), p1.clone()]);
    apply(
        &s,
        &can,
        Body::Like(wire::CommunityLike { community: c.clone(), target: raw(&p1), liked: true }),
        9,
    )
    .await
    .unwrap();
    assert_eq!(ids(s.posts(&cid, Sort::Top, 10, 0).await.unwrap()), [p1.clone(), p2.clone()]);
    assert_eq!(ids(s.posts(&cid, Sort::Active, 10, 0).await.unwrap()), [p1.clone(), p2.clone()]);
    assert_eq!(s.liked(can.author.id, &[p1.clone(), p2.clone()]).await.unwrap(), vec![p1.clone()]);

    // Search inside the community, unread counts, the feed.
    let q = kovan_relay::services::communities::search::query_forms("arilar");
    assert_eq!(ids(s.search_items(&cid, &q, 10, 0).await.unwrap()), vec![p2.clone()]);
    assert_eq!(s.search_communities("aricilik", 10, 0).await.unwrap()[0].name, "arilar");
    let joined = s.joined(can.author.id).await.unwrap();
    assert_eq!(joined[0].2, 2, "two unread posts");
    let newest = s.posts(&cid, Sort::New, 1, 0).await.unwrap()[0].n;
    s.mark_read(&cid, can.author.id, newest).await.unwrap();
    assert_eq!(s.joined(can.author.id).await.unwrap()[0].2, 0);
    assert_eq!(s.feed(can.author.id, Sort::New, 10, 0).await.unwrap().len(), 2);

    // An edit is kept in order; a report waits for a moderator, whose
    // removal closes it and is logged.
    let edit = Body::Edit(wire::CommunityEdit {
        community: c.clone(),
        target: raw(&a),
        title: String::new(),
        text: "a!".into(),
    });
    apply(&s, &can, edit, 10).await.unwrap();
    assert_eq!(s.edits(&a).await.unwrap().len(), 1);
    let report = Body::Report(wire::CommunityReport {
        community: c.clone(),
        target: raw(&a),
        reason: "r".into(),
    });
    apply(&s, &ali, report, 11).await.unwrap();
    assert_eq!(s.reports(&cid).await.unwrap()[0].item_id.as_deref(), Some(a.as_str()));
    let remove = Body::Moderate(wire::CommunityModerate {
        community: c.clone(),
        action: wire::CommunityModAction::Remove as i32,
        target: raw(&a),
        account: vec![],
        note: String::new(),
    });
    apply(&s, &ali, remove, 12).await.unwrap();
    assert!(s.reports(&cid).await.unwrap().is_empty());
    let gone = s.item(&a).await.unwrap().unwrap();
    assert!(gone.action.is_none() && gone.edit.is_none() && gone.gone.is_some());
    assert!(s.edits(&a).await.unwrap().is_empty(), "a removal drops the edits too");
    assert_eq!(s.modlog(&cid, 10, 0).await.unwrap()[0].by.as_deref(), Some("ali"));
    assert!(s.requests(&cid).await.unwrap().is_empty());
}

async fn replays_and_broken_rules_change_nothing<S: AccountStore + CommunityStore>(s: S) {
    let ali = member(&s, "ali").await;
    let eve = member(&s, "eve").await;
    let (tbs, sig, opened) = signed(&ali, create("tekrar"), 1);
    s.apply_action(&ali.author, &tbs, &sig, &opened, 10_000).await.unwrap();
    let again = s.apply_action(&ali.author, &tbs, &sig, &opened, 10_001).await;
    assert!(matches!(again, Err(ApplyError::Refused { code: "replayed", .. })), "{again:?}");
    let c = opened.id.to_vec();
    // Refused: posting without joining; a post then leaves no row.
    let refused = apply(&s, &eve, post(&c, "izinsiz"), 2).await;
    assert!(matches!(refused, Err(ApplyError::Refused { status: 403, .. })), "{refused:?}");
    assert!(s.posts(&hex::encode(&c), Sort::New, 10, 0).await.unwrap().is_empty());
    // The refused action's id was not kept: once allowed it applies.
    apply(
        &s,
        &eve,
        Body::Membership(wire::CommunityMembership {
            community: c.clone(),
            join: true,
            note: String::new(),
        }),
        3,
    )
    .await
    .unwrap();
    apply(&s, &eve, post(&c, "izinsiz"), 2).await.unwrap();
    // Sweeping forgets ids older than the cut, and only those.
    assert_eq!(s.sweep_seen(10_002).await.unwrap(), 1);
    assert_eq!(s.sweep_seen(10_002).await.unwrap(), 0);
}

/// Search ranks the newest 250 matches, then the next older ones: paging
/// reaches every match once, and the best match outside the newest window
/// leads the next one.
async fn search_pages_window_by_window<S: AccountStore + CommunityStore>(s: S) {
    let ali = member(&s, "ali").await;
    let c = raw(&apply(&s, &ali, create("kovanlar"), 1).await.unwrap());
    let cid = hex::encode(&c);
    // The oldest post says "bal" four times; 260 newer ones once.
    let best = apply(&s, &ali, post(&c, "bal bal bal"), 2).await.unwrap();
    let mut newer = Vec::new();
    for i in 0..260 {
        newer.push(apply(&s, &ali, post(&c, &format!("not {i}")), 3).await.unwrap());
    }
    let q = kovan_relay::services::communities::search::query_forms("bal");
    let first = ids(s.search_items(&cid, &q, 25, 0).await.unwrap());
    // Equal scores within the newest window: newest first; the best post
    // is older than the window.
    assert_eq!(first, newer.iter().rev().take(25).cloned().collect::<Vec<_>>());
    let mut all = Vec::new();
    for offset in (0..300).step_by(100) {
        all.extend(ids(s.search_items(&cid, &q, 100, offset).await.unwrap()));
    }
    assert_eq!(all.len(), 261, "every match once");
    assert_eq!(all[250], best, "the best of the older window leads it");
    let mut distinct = all.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 261);
    // A page across the windows' border is full.
    assert_eq!(s.search_items(&cid, &q, 25, 240).await.unwrap().len(), 21);
}

/// More items than one PostgreSQL search bucket (1,024): a rare word is
/// found in every bucket, newest first, a common one fills its window from
/// the newest, and another community's matches never mix in.
async fn search_finds_rare_and_common_words_across_many_items<S: AccountStore + CommunityStore>(
    s: S,
) {
    let ali = member(&s, "ali").await;
    let c = raw(&apply(&s, &ali, create("petekler"), 1).await.unwrap());
    let other = raw(&apply(&s, &ali, create("komsular"), 2).await.unwrap());
    apply(&s, &ali, post(&other, "petek komşuda"), 3).await.unwrap();
    let mut rare = Vec::new();
    let mut all = Vec::new();
    for i in 0..2_100 {
        let title = if i % 300 == 7 { format!("petek {i}") } else { format!("çerçeve {i}") };
        let id = apply(&s, &ali, post(&c, &title), 4).await.unwrap();
        if i % 300 == 7 {
            rare.push(id.clone());
        }
        all.push(id);
    }
    // A comment counts in the buckets too.
    let last = all.last().unwrap().clone();
    let said = apply(&s, &ali, comment(&c, &raw(&last), &[], "petek yorumu"), 5).await.unwrap();
    let cid = hex::encode(&c);

    let found = ids(s.search_items(&cid, &search("petek"), 25, 0).await.unwrap());
    let mut expected = rare.clone();
    expected.push(said);
    assert_eq!(found.len(), expected.len(), "{found:?}");
    let mut sorted_found = found.clone();
    sorted_found.sort();
    let mut sorted_expected = expected.clone();
    sorted_expected.sort();
    assert_eq!(sorted_found, sorted_expected, "every rare match, none of the other community");
    let posts: Vec<String> = found.into_iter().filter(|id| rare.contains(id)).collect();
    assert_eq!(posts, rare.iter().rev().cloned().collect::<Vec<_>>(), "equal scores: newest first");

    let newest = ids(s.search_items(&cid, &search("bal"), 25, 0).await.unwrap());
    assert_eq!(newest.len(), 25);
    let window: Vec<&String> = all.iter().rev().take(250).collect();
    assert!(newest.iter().all(|id| window.contains(&id)), "from the newest window");
    let deep = ids(s.search_items(&cid, &search("bal"), 25, 2_000).await.unwrap());
    let oldest: Vec<&String> = all.iter().take(250).collect();
    assert!(deep.iter().all(|id| oldest.contains(&id)), "a deep page reaches the oldest");
}

fn search(q: &str) -> Vec<Vec<String>> {
    kovan_relay::services::communities::search::query_forms(q)
}
