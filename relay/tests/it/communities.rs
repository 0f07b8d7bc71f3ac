//! Communities (K1–K14, SPEC.md §9.10): several users on one relay, every
//! write a signed action, on SQLite and PostgreSQL.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use kovan_crypto::community::sign_action;
use kovan_spec::wire::{self, community_action::Body};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::harness::{Db, TestRelay, User, fast_config, rand_bytes};

both_backends!(
    a_public_community_lives_from_creation_to_deletion,
    a_private_community_is_for_its_members_only,
    forged_foreign_replayed_and_oversized_actions_are_refused,
    search_finds_turkish_words_without_diacritics_and_in_other_forms,
    files_of_posts_are_kept_and_a_private_community_s_only_for_members,
);

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

fn action(u: &User, body: Body) -> wire::CommunityAction {
    wire::CommunityAction {
        version: 1,
        author: u.account.id().as_bytes().to_vec(),
        created_ms: now_ms(),
        nonce: rand_bytes::<16>().to_vec(),
        body: Some(body),
    }
}

fn signed(u: &User, a: &wire::CommunityAction) -> Value {
    let (tbs, sig, _) = sign_action(&u.account, a).unwrap();
    json!({"tbs": B64.encode(tbs), "signature": B64.encode(sig)})
}

async fn act(relay: &TestRelay, u: &User, body: Body) -> (StatusCode, Value) {
    relay.post("/v1/communities/actions", Some(&u.token), signed(u, &action(u, body))).await
}

/// Applies `body` and returns the new id; panics with the relay's answer
/// on a refusal.
async fn ok(relay: &TestRelay, u: &User, body: Body) -> Value {
    let (s, v) = act(relay, u, body).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

fn hex16(v: &Value) -> Vec<u8> {
    hex::decode(v["id"].as_str().unwrap()).unwrap()
}

fn settings(public: bool, moderators: Vec<Vec<u8>>) -> wire::CommunitySettings {
    wire::CommunitySettings {
        community: vec![],
        topic: "Arıcılık".into(),
        description: "Kovanlar ve bal".into(),
        rules: "Nazik olun".into(),
        visibility: if public { 1 } else { 2 },
        post_policy: wire::CommunityPostPolicy::Members as i32,
        moderators,
    }
}

fn create(name: &str, public: bool) -> Body {
    Body::Create(wire::CommunityCreate {
        name: name.into(),
        settings: Some(settings(public, vec![])),
    })
}

fn post(c: &[u8], title: &str, text: &str) -> Body {
    Body::Post(wire::CommunityPost {
        community: c.to_vec(),
        title: title.into(),
        text: text.into(),
        ..Default::default()
    })
}

fn comment(c: &[u8], post: &[u8], parent: &[u8], text: &str) -> Body {
    Body::Comment(wire::CommunityComment {
        community: c.to_vec(),
        post: post.to_vec(),
        parent: parent.to_vec(),
        text: text.into(),
    })
}

fn join(c: &[u8], yes: bool) -> Body {
    Body::Membership(wire::CommunityMembership {
        community: c.to_vec(),
        join: yes,
        note: "merhaba".into(),
    })
}

fn moderate(c: &[u8], action: wire::CommunityModAction, target: &[u8], account: &[u8]) -> Body {
    Body::Moderate(wire::CommunityModerate {
        community: c.to_vec(),
        action: action as i32,
        target: target.to_vec(),
        account: account.to_vec(),
        note: "kural 1".into(),
    })
}

fn ids(v: &Value) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

async fn a_public_community_lives_from_creation_to_deletion(db: Db) {
    let relay = TestRelay::start(db).await;
    let ali = relay.register("ali").await;
    let ayse = relay.register("ayse").await;
    let can = relay.register("can").await;
    let c = hex16(&ok(&relay, &ali, create("arilar", true)).await);
    let cid = hex::encode(&c);
    // New settings name Deniz a moderator: the community names them.
    let deniz = relay.register("deniz").await;
    let deniz_key = deniz.account.id().as_bytes().to_vec();
    let mut s = settings(true, vec![deniz_key.clone()]);
    s.community = c.clone();
    ok(&relay, &ali, Body::Settings(s)).await;
    let (_, doc) = relay.get(&format!("/v1/communities/{cid}"), None).await;
    assert_eq!(doc["names"][B64.encode(&deniz_key).as_str()], "deniz", "{doc}");
    // Found by name and topic; the name is unique.
    let (_, found) = relay.get("/v1/communities?q=aricilik", None).await;
    assert_eq!(found["results"][0]["name"], "arilar");
    assert_eq!(act(&relay, &ayse, create("arilar", true)).await.0, StatusCode::CONFLICT);

    // Writing needs membership; joining a public community is open.
    assert_eq!(act(&relay, &ayse, post(&c, "Merhaba", "ilk")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(ok(&relay, &ayse, join(&c, true)).await["state"], "member");
    ok(&relay, &can, join(&c, true)).await;
    let p = hex16(&ok(&relay, &ayse, post(&c, "Kovan sayısı", "Kaç kovanınız var?")).await);

    // Three levels of comments, in tree order, and the post's count.
    let c1 = hex16(&ok(&relay, &can, comment(&c, &p, &[], "Beş")).await);
    let c2 = hex16(&ok(&relay, &ayse, comment(&c, &p, &c1, "Güzel")).await);
    let c3 = hex16(&ok(&relay, &can, comment(&c, &p, &c2, "Teşekkürler")).await);
    let c4 = hex16(&ok(&relay, &ali, comment(&c, &p, &[], "Benim on")).await);
    let (s, thread) =
        relay.get(&format!("/v1/community-items/{}/comments", hex::encode(&p)), None).await;
    assert_eq!(s, StatusCode::OK);
    let order: Vec<String> = [&c1, &c2, &c3, &c4].iter().map(hex::encode).collect();
    assert_eq!(ids(&thread), order);
    assert_eq!(thread["items"][2]["depth"], 3);
    let (_, page) =
        relay.get(&format!("/v1/community-items/{}/comments?limit=2", hex::encode(&p)), None).await;
    let after = page["next_after"].as_str().unwrap().to_owned();
    let (_, rest) = relay
        .get(&format!("/v1/community-items/{}/comments?after={after}", hex::encode(&p)), None)
        .await;
    assert_eq!(ids(&rest), order[2..]);
    let (_, item) = relay.get(&format!("/v1/community-items/{}", hex::encode(&p)), None).await;
    assert_eq!(item["comments"], 4);

    // Like, like again (one per account), take back.
    let like = |yes| {
        Body::Like(wire::CommunityLike { community: c.clone(), target: p.clone(), liked: yes })
    };
    ok(&relay, &can, like(true)).await;
    ok(&relay, &can, like(true)).await;
    ok(&relay, &ali, like(true)).await;
    let (_, item) =
        relay.get(&format!("/v1/community-items/{}", hex::encode(&p)), Some(&can.token)).await;
    assert_eq!((item["likes"].as_i64(), item["liked"].as_bool()), (Some(2), Some(true)));
    ok(&relay, &can, like(false)).await;
    let (_, item) = relay.get(&format!("/v1/community-items/{}", hex::encode(&p)), None).await;
    assert_eq!(item["likes"], 1);

    // Repost and a reply with a post that quotes a comment.
    let repost = Body::Post(wire::CommunityPost {
        community: c.clone(),
        title: "Bunu okuyun".into(),
        repost_of: p.clone(),
        ..Default::default()
    });
    ok(&relay, &can, repost).await;
    let quote = Body::Post(wire::CommunityPost {
        community: c.clone(),
        title: "Beş mi?".into(),
        text: "Bence az.".into(),
        quote_of: c1.clone(),
        ..Default::default()
    });
    ok(&relay, &ali, quote).await;
    let (_, top) = relay.get("/v1/communities/arilar/posts?sort=top", None).await;
    assert_eq!(top["items"][0]["id"], hex::encode(&p));
    assert_eq!(top["items"].as_array().unwrap().len(), 3);

    // Edit with history; only the author edits.
    let edit = |who: &str| {
        Body::Edit(wire::CommunityEdit {
            community: c.clone(),
            target: c1.clone(),
            title: String::new(),
            text: format!("Beş ({who})"),
        })
    };
    assert_eq!(act(&relay, &ayse, edit("ayse")).await.0, StatusCode::FORBIDDEN);
    ok(&relay, &can, edit("can")).await;
    let (_, edits) =
        relay.get(&format!("/v1/community-items/{}/edits", hex::encode(&c1)), None).await;
    assert_eq!(edits["edits"].as_array().unwrap().len(), 1);

    // The author deletes: a tombstone keeps the thread's shape.
    ok(
        &relay,
        &can,
        Body::Delete(wire::CommunityDelete { community: c.clone(), target: c3.clone() }),
    )
    .await;
    let (_, thread) =
        relay.get(&format!("/v1/community-items/{}/comments", hex::encode(&p)), None).await;
    assert_eq!(ids(&thread), order);
    assert!(thread["items"][2]["action"].is_null() && thread["items"][2]["gone"].is_object());
    assert_eq!(act(&relay, &can, comment(&c, &p, &c3, "cevap")).await.0, StatusCode::CONFLICT);

    // Report → queue → a non-moderator cannot act → removal → ban.
    let report = Body::Report(wire::CommunityReport {
        community: c.clone(),
        target: c4.clone(),
        reason: "kaba".into(),
    });
    ok(&relay, &can, report.clone()).await;
    assert_eq!(act(&relay, &can, report).await.0, StatusCode::CONFLICT);
    let (s, queue) = relay.get(&format!("/v1/communities/{cid}/reports"), Some(&ali.token)).await;
    assert_eq!(
        (s, queue["entries"][0]["item"].as_str()),
        (StatusCode::OK, Some(hex::encode(&c4).as_str()))
    );
    assert_eq!(
        relay.get(&format!("/v1/communities/{cid}/reports"), Some(&can.token)).await.0,
        StatusCode::FORBIDDEN
    );
    use wire::CommunityModAction as M;
    assert_eq!(act(&relay, &can, moderate(&c, M::Remove, &c4, &[])).await.0, StatusCode::FORBIDDEN);
    ok(&relay, &ali, moderate(&c, M::Remove, &c4, &[])).await;
    let (_, queue) = relay.get(&format!("/v1/communities/{cid}/reports"), Some(&ali.token)).await;
    assert!(queue["entries"].as_array().unwrap().is_empty());
    ok(&relay, &ali, moderate(&c, M::Ban, &[], can.account.id().as_bytes())).await;
    assert_eq!(act(&relay, &can, post(&c, "hâlâ", "buradayım")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(act(&relay, &can, join(&c, true)).await.0, StatusCode::FORBIDDEN);
    let (_, log) = relay.get(&format!("/v1/communities/{cid}/modlog"), None).await;
    assert_eq!(log["entries"].as_array().unwrap().len(), 2);
    assert_eq!(log["entries"][0]["by"], "ali");
    // The banned account's signed key comes with the name the relay knows.
    let can_key = B64.encode(can.account.id().as_bytes());
    assert_eq!(log["names"][can_key.as_str()], "can", "{log}");

    // Unread counts and the feed across joined communities.
    let (_, joined) = relay.get("/v1/communities/joined", Some(&ayse.token)).await;
    assert_eq!(joined["results"][0]["unread"], 3);
    relay.get("/v1/communities/arilar/posts", Some(&ayse.token)).await;
    let (_, joined) = relay.get("/v1/communities/joined", Some(&ayse.token)).await;
    assert_eq!(joined["results"][0]["unread"], 0);
    let (_, feed) = relay.get("/v1/community-feed", Some(&ayse.token)).await;
    assert_eq!(feed["items"].as_array().unwrap().len(), 3);

    // Archive: read-only; reopen; delete: gone.
    let close = |k: wire::CommunityCloseKind| {
        Body::Close(wire::CommunityClose { community: c.clone(), kind: k as i32 })
    };
    assert_eq!(
        act(&relay, &ayse, close(wire::CommunityCloseKind::Archive)).await.0,
        StatusCode::FORBIDDEN
    );
    ok(&relay, &ali, close(wire::CommunityCloseKind::Archive)).await;
    let (s, v) = act(&relay, &ayse, post(&c, "arşiv", "yazılmaz")).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::CONFLICT, Some("archived")));
    assert_eq!(relay.get("/v1/communities/arilar/posts", None).await.0, StatusCode::OK);
    ok(&relay, &ali, close(wire::CommunityCloseKind::Reopen)).await;
    ok(&relay, &ayse, post(&c, "yine", "açık")).await;
    ok(&relay, &ali, close(wire::CommunityCloseKind::Delete)).await;
    assert_eq!(relay.get("/v1/communities/arilar", None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        relay.get(&format!("/v1/community-items/{}", hex::encode(&p)), None).await.0,
        StatusCode::NOT_FOUND
    );
    relay.stop().await;
}

async fn a_private_community_is_for_its_members_only(db: Db) {
    let relay = TestRelay::start(db).await;
    let ali = relay.register("ali").await;
    let ayse = relay.register("ayse").await;
    let eve = relay.register("eve").await;
    let c = hex16(&ok(&relay, &ali, create("gizli", false)).await);
    let p = hex16(&ok(&relay, &ali, post(&c, "Gizli", "sadece üyeler")).await);
    let ph = hex::encode(&p);
    // Anyone sees that it exists; nobody outside reads its posts.
    assert_eq!(relay.get("/v1/communities/gizli", None).await.0, StatusCode::OK);
    for path in [
        "/v1/communities/gizli/posts".to_owned(),
        "/v1/communities/gizli/search?q=gizli".to_owned(),
        format!("/v1/community-items/{ph}"),
        format!("/v1/community-items/{ph}/comments"),
    ] {
        assert_eq!(relay.get(&path, None).await.0, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(relay.get(&path, Some(&eve.token)).await.0, StatusCode::FORBIDDEN, "{path}");
    }
    // Nor reposts it elsewhere.
    let open = hex16(&ok(&relay, &eve, create("acik", true)).await);
    let repost = Body::Post(wire::CommunityPost {
        community: open.clone(),
        title: "sızdır".into(),
        repost_of: p.clone(),
        ..Default::default()
    });
    assert_eq!(act(&relay, &eve, repost).await.0, StatusCode::NOT_FOUND);
    // Joining is a request until a moderator admits it.
    assert_eq!(ok(&relay, &ayse, join(&c, true)).await["state"], "pending");
    assert_eq!(
        relay.get("/v1/communities/gizli/posts", Some(&ayse.token)).await.0,
        StatusCode::FORBIDDEN
    );
    let (_, reqs) = relay.get("/v1/communities/gizli/requests", Some(&ali.token)).await;
    assert_eq!(reqs["requests"][0]["username"], "ayse");
    use wire::CommunityModAction as M;
    ok(&relay, &ali, moderate(&c, M::Admit, &[], ayse.account.id().as_bytes())).await;
    let (s, posts) = relay.get("/v1/communities/gizli/posts", Some(&ayse.token)).await;
    assert_eq!((s, ids(&posts)), (StatusCode::OK, vec![ph.clone()]));
    // An invitation admits at once.
    ok(&relay, &ali, moderate(&c, M::Invite, &[], eve.account.id().as_bytes())).await;
    assert_eq!(ok(&relay, &eve, join(&c, true)).await["state"], "member");
    // Leaving ends reading.
    ok(&relay, &eve, join(&c, false)).await;
    assert_eq!(
        relay.get("/v1/communities/gizli/posts", Some(&eve.token)).await.0,
        StatusCode::FORBIDDEN
    );
    relay.stop().await;
}

async fn forged_foreign_replayed_and_oversized_actions_are_refused(db: Db) {
    let mut config = fast_config();
    config.limits.community_writes_per_account_per_minute = 60;
    let relay = TestRelay::start_with(db, config).await;
    let ali = relay.register("ali").await;
    let eve = relay.register("eve").await;
    let c = hex16(&ok(&relay, &ali, create("derin", true)).await);
    let a = action(&ali, post(&c, "t", "metin"));
    let good = signed(&ali, &a);

    // A forged signature; an action of another account (signed by it).
    let mut forged = good.clone();
    let mut sig = B64.decode(forged["signature"].as_str().unwrap()).unwrap();
    sig[0] ^= 1;
    forged["signature"] = json!(B64.encode(sig));
    let (s, v) = relay.post("/v1/communities/actions", Some(&ali.token), forged).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_signature")));
    let (s, v) = relay.post("/v1/communities/actions", Some(&eve.token), good.clone()).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::FORBIDDEN, Some("not_your_account")));
    // Applied once; its replay refused.
    assert_eq!(
        relay.post("/v1/communities/actions", Some(&ali.token), good.clone()).await.0,
        StatusCode::OK
    );
    let (s, v) = relay.post("/v1/communities/actions", Some(&ali.token), good).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::CONFLICT, Some("replayed")));
    // An action from an hour ago.
    let mut old = action(&ali, post(&c, "eski", "metin"));
    old.created_ms -= 3_600_000;
    let (s, v) = relay.post("/v1/communities/actions", Some(&ali.token), signed(&ali, &old)).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::BAD_REQUEST, Some("stale_action")));
    // Not base64, not an action, oversized.
    let junk = json!({"tbs": "!!", "signature": "AA=="});
    assert_eq!(
        relay.post("/v1/communities/actions", Some(&ali.token), junk).await.0,
        StatusCode::BAD_REQUEST
    );
    let huge = json!({"tbs": B64.encode(vec![0u8; 70_000]), "signature": B64.encode([0u8; 64])});
    let s = relay.post("/v1/communities/actions", Some(&ali.token), huge).await.0;
    assert!(s == StatusCode::BAD_REQUEST || s == StatusCode::PAYLOAD_TOO_LARGE, "{s}");
    // Paths and parameters that cannot name anything answer 4xx, whatever
    // bytes they hold (a NUL would fail a PostgreSQL query).
    let p0 = hex::encode(hex16(&ok(&relay, &ali, post(&c, "yol", "yol")).await));
    for (path, want) in [
        ("/v1/communities/%00abc".to_owned(), StatusCode::NOT_FOUND),
        ("/v1/communities/DERIN/posts".to_owned(), StatusCode::NOT_FOUND),
        ("/v1/community-items/%00/comments".to_owned(), StatusCode::NOT_FOUND),
        (format!("/v1/community-items/{}", p0.to_uppercase()), StatusCode::NOT_FOUND),
        (format!("/v1/community-items/{p0}/comments?after=%00"), StatusCode::BAD_REQUEST),
        ("/v1/communities/derin/search?q=%00%01".to_owned(), StatusCode::OK),
        ("/v1/communities/derin/posts?sort=hot".to_owned(), StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(relay.get(&path, None).await.0, want, "{path}");
    }
    // A thread deeper than the limit.
    let p = hex16(&ok(&relay, &ali, post(&c, "derin", "iç içe")).await);
    let mut parent = Vec::new();
    for _ in 0..kovan_spec::limits::MAX_COMMUNITY_DEPTH {
        parent = hex16(&ok(&relay, &ali, comment(&c, &p, &parent, "bir daha")).await);
    }
    let (s, v) = act(&relay, &ali, comment(&c, &p, &parent, "bir daha")).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::BAD_REQUEST, Some("too_deep")));
    // A flood is rate limited.
    let mut limited = false;
    for _ in 0..80 {
        let (s, _) = act(&relay, &ali, post(&c, "sel", "sel")).await;
        if s == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
    }
    assert!(limited, "80 writes in a minute were not limited");
    relay.stop().await;
}

async fn search_finds_turkish_words_without_diacritics_and_in_other_forms(db: Db) {
    let relay = TestRelay::start(db).await;
    let ali = relay.register("ali").await;
    let c = hex16(&ok(&relay, &ali, create("doga", true)).await);
    let bees = hex::encode(hex16(
        &ok(&relay, &ali, post(&c, "Arılar", "Arılar çiçeklerden bal yapar.")).await,
    ));
    let p2 = hex16(&ok(&relay, &ali, post(&c, "Kuşlar", "Göç eden kuşlar")).await);
    let comment_id = hex::encode(hex16(
        &ok(&relay, &ali, comment(&c, &p2, &[], "İstanbul'da arı gördüm")).await,
    ));
    for q in ["arilar", "arıları", "ARILAR", "bal"] {
        let (s, v) = relay.get(&format!("/v1/communities/doga/search?q={q}"), None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(ids(&v).first(), Some(&bees), "{q}: {v}");
    }
    let (_, v) = relay.get("/v1/communities/doga/search?q=istanbul", None).await;
    assert_eq!(ids(&v), vec![comment_id]);
    let (_, v) = relay.get("/v1/communities/doga/search?q=kovan", None).await;
    assert!(ids(&v).is_empty());
    // Search syntax in a query is only text.
    let (s, _) = relay.get("/v1/communities/doga/search?q=%22a%22%20OR%20*%20NEAR(", None).await;
    assert_eq!(s, StatusCode::OK);
    relay.stop().await;
}

/// Uploads `bytes` as a blob of `u`'s; its id.
async fn upload(relay: &TestRelay, u: &User, bytes: &[u8]) -> Vec<u8> {
    let (s, b) = relay.post("/v1/blobs", Some(&u.token), json!({"size": bytes.len()})).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let id = b["id"].as_str().unwrap().to_owned();
    let resp = relay
        .http
        .patch(format!("{}/v1/blobs/{id}", relay.url))
        .bearer_auth(&u.token)
        .header("upload-offset", "0")
        .header("content-type", "application/octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    hex::decode(id).unwrap()
}

fn with_file(c: &[u8], blob: &[u8], bytes: &[u8]) -> Body {
    use sha2::Digest;
    Body::Post(wire::CommunityPost {
        community: c.to_vec(),
        title: "Dosya".into(),
        attachments: vec![wire::CommunityAttachment {
            blob_id: blob.to_vec(),
            name: "bal.txt".into(),
            mime: "text/plain".into(),
            size: bytes.len() as u64,
            sha256: sha2::Sha256::digest(bytes).to_vec(),
        }],
        ..Default::default()
    })
}

async fn files_of_posts_are_kept_and_a_private_community_s_only_for_members(db: Db) {
    let relay = TestRelay::start(db).await;
    let ali = relay.register("ali").await;
    let ayse = relay.register("ayse").await;
    let eve = relay.register("eve").await;
    let c = hex16(&ok(&relay, &ali, create("dosyalar", false)).await);
    ok(&relay, &ayse, join(&c, true)).await;
    use wire::CommunityModAction as M;
    ok(&relay, &ali, moderate(&c, M::Admit, &[], ayse.account.id().as_bytes())).await;
    let bytes = b"kovan bal kaydi\n".repeat(100);
    let blob = upload(&relay, &ali, &bytes).await;
    let blob_hex = hex::encode(&blob);

    // Only the uploader attaches a blob, and only a complete one.
    let (s, v) = act(&relay, &ayse, with_file(&c, &blob, &bytes)).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_attachment")), "{v}");
    let (s, created) = relay.post("/v1/blobs", Some(&ali.token), json!({"size": 10})).await;
    assert_eq!(s, StatusCode::CREATED);
    let empty = hex::decode(created["id"].as_str().unwrap()).unwrap();
    assert_eq!(act(&relay, &ali, with_file(&c, &empty, &[0; 10])).await.0, StatusCode::BAD_REQUEST);
    let post_id = hex16(&ok(&relay, &ali, with_file(&c, &blob, &bytes)).await);
    // A file belongs to one post.
    let (s, v) = act(&relay, &ali, with_file(&c, &blob, &bytes)).await;
    assert_eq!((s, v["code"].as_str()), (StatusCode::CONFLICT, Some("attachment_in_use")));

    // It no longer expires; members read it, nobody else does.
    let (_, info) = relay.get(&format!("/v1/blobs/{blob_hex}/info"), Some(&ayse.token)).await;
    assert!(info["expires_at"].as_i64().unwrap() > 4_000_000_000_000, "{info}");
    for token in [None, Some(eve.token.as_str())] {
        let (s, v) = relay.get(&format!("/v1/blobs/{blob_hex}"), token).await;
        assert_eq!((s, v["code"].as_str()), (StatusCode::FORBIDDEN, Some("members_only")));
        assert_eq!(
            relay.get(&format!("/v1/blobs/{blob_hex}/info"), token).await.0,
            StatusCode::FORBIDDEN
        );
    }
    let got = relay
        .http
        .get(format!("{}/v1/blobs/{blob_hex}", relay.url))
        .bearer_auth(&ayse.token)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.bytes().await.unwrap().as_ref(), bytes.as_slice());
    // The post is found by its file's name.
    let (_, found) = relay.get("/v1/communities/dosyalar/search?q=bal", Some(&ayse.token)).await;
    assert_eq!(ids(&found), vec![hex::encode(&post_id)]);

    // Deleting the post lets the file go.
    ok(&relay, &ali, Body::Delete(wire::CommunityDelete { community: c.clone(), target: post_id }))
        .await;
    assert_eq!(
        relay.get(&format!("/v1/blobs/{blob_hex}/info"), Some(&ali.token)).await.0,
        StatusCode::NOT_FOUND
    );
    relay.stop().await;
}
