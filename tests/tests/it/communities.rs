//! Communities through real nodes and a real relay (SPEC.md §9.10): the
//! node signs what it writes and checks what it reads, so content the
//! relay altered shows as failed verification, never as genuine.

use crate::harness::relay_alice_bob;

/// Runs `sql` on the relay's database, as an operator (or an intruder)
/// could.
fn tamper(relay_dir: &std::path::Path, sql: &str, params: impl rusqlite::Params) {
    assert_eq!(relay_db(relay_dir).execute(sql, params).unwrap(), 1, "{sql}");
}

fn relay_db(relay_dir: &std::path::Path) -> rusqlite::Connection {
    let db = std::fs::read_dir(relay_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "sqlite3" || e == "db" || e == "sqlite"))
        .expect("the relay's database file");
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    conn
}

/// Waits for `n`'s next community event of `kind` (pushed by the relay);
/// returns its item and who caused it.
async fn community_event(n: &mut crate::harness::TestNode, kind: &str) -> (String, String) {
    let heard = n
        .wait(
            &format!("a {kind} event"),
            |e| matches!(e, kovan_node::Event::Community { kind: k, .. } if k == kind),
        )
        .await;
    let kovan_node::Event::Community { item, by, .. } = heard else { unreachable!() };
    (item, by)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_verify_and_what_the_relay_alters_fails_verification() {
    let dir = tempfile::tempdir().unwrap();
    let (relay, mut alice, bob) = relay_alice_bob(dir.path()).await;
    let a = &alice.h.clone();
    let b = &bob.h;
    let settings = kovan_node::CommunitySettingsDraft {
        topic: "Arıcılık".into(),
        description: "Kovanlar ve bal".into(),
        private: true,
        ..Default::default()
    };
    a.community_create("arilar", &settings).await.unwrap();
    // Private: Bob's join is a request until Alice, the owner, admits it.
    assert_eq!(b.community_join("arilar", true, "merhaba").await.unwrap()["state"], "pending");
    assert!(b.community_posts("arilar", "new", 0).await.is_err(), "not a member yet");
    let c = b.community("arilar").await.unwrap();
    assert_eq!(
        (c.topic.as_str(), c.private, c.my_state.as_deref()),
        ("Arıcılık", true, Some("pending"))
    );
    let requests = a.community_requests("arilar").await.unwrap();
    assert_eq!(requests[0]["username"], "bob");
    a.community_moderate("arilar", "admit", "bob", "").await.unwrap();

    let draft = |title: &str, text: &str| kovan_node::PostDraft {
        title: title.into(),
        text: text.into(),
        ..Default::default()
    };
    let post =
        a.community_post("arilar", &draft("Kovan sayısı", "Kaç kovanınız var?")).await.unwrap();
    let post_id = post["id"].as_str().unwrap().to_owned();
    let comment = b.community_comment(&post_id, "Beş @alice").await.unwrap();
    let comment_id = comment["id"].as_str().unwrap().to_owned();
    // Alice hears of the answer to her post through the relay's push.
    assert_eq!(community_event(&mut alice, "reply").await, (comment_id.clone(), "bob".to_owned()));
    b.community_like(&post_id, true).await.unwrap();

    let posts = b.community_posts("arilar", "new", 0).await.unwrap();
    assert_eq!(posts.len(), 1);
    let p = &posts[0];
    assert!(p.verified, "{p:?}");
    assert_eq!(
        (p.title.as_str(), p.text.as_str(), p.author.as_deref()),
        ("Kovan sayısı", "Kaç kovanınız var?", Some("alice"))
    );
    assert_eq!((p.likes, p.liked, p.comments), (1, true, 1));
    let thread = a.community_thread(&post_id).await.unwrap();
    assert_eq!(
        thread.iter().map(|i| (i.id.as_str(), i.verified)).collect::<Vec<_>>(),
        [(post_id.as_str(), true), (comment_id.as_str(), true)]
    );
    assert_eq!(thread[1].text, "Beş @alice");
    let found = b.community_search("arilar", "KOVAN").await.unwrap();
    assert_eq!(found.first().map(|i| i.id.as_str()), Some(post_id.as_str()));

    // Bob's second post is reported and removed by Alice, a moderator: the
    // removal verifies as hers; the log shows it.
    let spam =
        b.community_post("arilar", &draft("Satılık", "ucuz bal, sorun @alice")).await.unwrap();
    let spam_id = spam["id"].as_str().unwrap().to_owned();
    // A post naming Alice tells her so.
    assert_eq!(community_event(&mut alice, "mention").await, (spam_id.clone(), "bob".to_owned()));
    b.community_edit(&spam_id, "Satılık!", "çok ucuz bal").await.unwrap();
    assert_eq!(
        b.community_edits(&spam_id).await.unwrap(),
        [("Satılık!".to_owned(), "çok ucuz bal".to_owned())]
    );
    a.community_report(&spam_id, "reklam").await.unwrap();
    let queue = a.community_reports("arilar").await.unwrap();
    assert_eq!(
        (queue[0].item.as_deref(), queue[0].note.as_str()),
        (Some(spam_id.as_str()), "reklam")
    );
    a.community_moderate("arilar", "remove", &spam_id, "reklam yasak").await.unwrap();
    let posts = b.community_posts("arilar", "new", 0).await.unwrap();
    let removed = posts.iter().find(|p| p.id == spam_id).unwrap();
    assert!(
        removed.verified && removed.gone.as_deref() == Some("removed") && removed.text.is_empty(),
        "{removed:?}"
    );
    let log = b.community_modlog("arilar").await.unwrap();
    assert_eq!((log[0].action.as_str(), log[0].verified), ("remove", true));
    assert_eq!(b.community_joined().await.unwrap()[0].name, "arilar");

    // The relay rewrites the post's text: the signature no longer holds.
    let relay_dir = relay.dir.clone();
    let conn = relay_db(&relay_dir);
    let mut tbs: Vec<u8> = conn
        .query_row("SELECT tbs FROM community_items WHERE id = ?1", [&post_id], |r| r.get(0))
        .unwrap();
    let at = tbs.windows(4).position(|w| w == "Kaç".as_bytes()).unwrap();
    tbs[at..at + 4].copy_from_slice("Sıf".as_bytes());
    tamper(
        &relay_dir,
        "UPDATE community_items SET tbs = ?1 WHERE id = ?2",
        rusqlite::params![tbs, post_id],
    );
    let posts = b.community_posts("arilar", "new", 0).await.unwrap();
    let p = posts.iter().find(|p| p.id == post_id).unwrap();
    assert!(!p.verified, "{p:?}");
    assert!(p.text.is_empty() && p.title.is_empty(), "nothing of it is shown as content");
    assert!(p.problem.as_deref().unwrap().contains("signature"), "{:?}", p.problem);

    // The relay says Bob's comment is Alice's.
    tamper(
        &relay_dir,
        "UPDATE community_items SET author_id = (SELECT id FROM accounts WHERE username = 'alice') WHERE id = ?1",
        [&comment_id],
    );
    let thread = a.community_thread(&post_id).await.unwrap();
    let c = thread.iter().find(|i| i.id == comment_id).unwrap();
    assert_eq!(c.author.as_deref(), Some("alice"));
    assert!(!c.verified && c.text.is_empty(), "{c:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_s_file_is_fetched_checked_and_a_swapped_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (relay, alice, bob) = relay_alice_bob(dir.path()).await;
    let (a, b) = (alice.h.clone(), bob.h.clone());
    let settings = kovan_node::CommunitySettingsDraft { private: true, ..Default::default() };
    a.community_create("resimler", &settings).await.unwrap();
    b.community_join("resimler", true, "").await.unwrap();
    a.community_moderate("resimler", "admit", "bob", "").await.unwrap();
    let file = dir.path().join("kovan.txt");
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&file, &bytes).unwrap();
    let draft = kovan_node::PostDraft {
        title: "Kovan planı".into(),
        files: vec![file.clone()],
        ..Default::default()
    };
    let post = a.community_post("resimler", &draft).await.unwrap();
    let post_id = post["id"].as_str().unwrap().to_owned();
    let seen = b.community_posts("resimler", "new", 0).await.unwrap();
    assert_eq!(seen[0].attachments.len(), 1);
    assert_eq!(
        (seen[0].attachments[0].name.as_str(), seen[0].attachments[0].size),
        ("kovan.txt", 200_000)
    );
    let into = dir.path().join("bob-got");
    let saved = b.community_fetch(&post_id, 0, Some(into.clone())).await.unwrap();
    assert_eq!(std::fs::read(&saved).unwrap(), bytes);

    // The relay swaps the file's bytes on its disk: the reader refuses them.
    let blob = &seen[0].attachments[0].blob;
    let on_disk = relay.dir.join("blobs").join(blob);
    let mut swapped = bytes.clone();
    swapped[1000] ^= 0xff;
    std::fs::write(&on_disk, &swapped).unwrap();
    let err = b.community_fetch(&post_id, 0, Some(into)).await.unwrap_err();
    assert!(err.to_string().contains("failed verification"), "{err}");
}
