//! Password-sealed chats (SPEC.md §7.9, X6) between real nodes with a real
//! relay.

use std::time::Duration;

use kovan_node::Event;
use kovan_node::NodeError;
use kovan_node::clock::{Clock, ManualClock, system_now_ms};
use kovan_node::history::History;
use kovan_spec::validate::Content;

use crate::harness::{PASSPHRASE, TestNode, TestRelay, befriend};

const PASSWORD: &str = "kedi masada uyuyor";
const NEW_PASSWORD: &str = "köpek bahçede koşuyor";

/// Waits for the next incoming message event in `conv`.
async fn incoming(n: &mut TestNode, conv: &str) -> kovan_node::node::MessageView {
    let conv = conv.to_owned();
    let ev = n
        .wait("a message", |e| {
            matches!(e, Event::Message { message } if !message.outgoing && message.conversation == conv)
        })
        .await;
    let Event::Message { message } = ev else { unreachable!() };
    message
}

async fn seal_event(n: &mut TestNode, conv: &str) {
    let conv = conv.to_owned();
    n.wait("the seal", |e| matches!(e, Event::ChatSeal { conversation } if *conversation == conv))
        .await;
}

fn is_locked(r: &Result<Vec<kovan_node::node::MessageView>, NodeError>) -> bool {
    matches!(r, Err(NodeError::State(m)) if m.contains("locked"))
}

fn texts(page: &[kovan_node::node::MessageView]) -> Vec<String> {
    page.iter().filter_map(|m| m.text.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sealed_chat_opens_only_with_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(&dir.path().join("relay")).await;
    let clock = ManualClock::new(system_now_ms());
    let mut alice =
        TestNode::with_clock(dir.path(), "alice", Some(&relay.url), Clock::Manual(clock.clone()))
            .await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, _) = befriend(&mut alice, &mut bob).await;
    let conv = alice.h.conversations().await.unwrap()[0].id.clone();

    alice.h.send_text(&bob_acct, "before the seal qxPLAINqx", None).await.unwrap();
    assert!(incoming(&mut bob, &conv).await.text.unwrap().contains("qxPLAINqx"));

    // A short password is refused; a good one seals the chat for both.
    assert!(matches!(alice.h.seal(&conv, "short").await, Err(NodeError::Invalid(_))));
    let view = alice.h.seal(&conv, PASSWORD).await.unwrap();
    assert!(view.sealed && !view.locked, "{view:?}");
    seal_event(&mut bob, &conv).await;
    let bobs = bob.h.conversations().await.unwrap();
    assert!(bobs[0].sealed && bobs[0].locked, "{:?}", bobs[0]);

    // Sealed text reaches Bob locked: no text, and no history at all.
    let sent = alice.h.send_text(&conv, "sealed qxSEALED1qx", None).await.unwrap();
    assert_eq!((sent.kind, sent.sealed), ("text", true));
    let got = incoming(&mut bob, &conv).await;
    assert_eq!((got.kind, got.text.as_deref()), ("locked", None));
    assert!(is_locked(&bob.h.history(&conv, None, 50).await));
    // A wrong password shows nothing.
    let wrong = bob.h.unlock_chat(&conv, "kedi masada uyumuyor").await;
    assert!(matches!(wrong, Err(NodeError::Invalid(ref m)) if m == "wrong password"), "{wrong:?}");
    assert!(is_locked(&bob.h.history(&conv, None, 50).await));

    // The right one opens everything, old and sealed.
    let view = bob.h.unlock_chat(&conv, PASSWORD).await.unwrap();
    assert!(view.sealed && !view.locked);
    let page = bob.h.history(&conv, None, 50).await.unwrap();
    let t = texts(&page);
    assert!(
        t.iter().any(|t| t.contains("qxSEALED1qx")) && t.iter().any(|t| t.contains("qxPLAINqx"))
    );

    // Bob answers (sealed, as his side is unlocked); Alice edits hers.
    bob.h.send_text(&conv, "yanıt qxSEALED2qx", None).await.unwrap();
    let answer = incoming(&mut alice, &conv).await;
    assert_eq!((answer.kind, answer.sealed), ("text", true));
    assert!(answer.text.unwrap().contains("qxSEALED2qx"));
    alice.h.edit(&conv, &sent.id, "düzeltildi qxSEALED3qx").await.unwrap();
    let id = sent.id.clone();
    let ev = bob
        .wait("the edit", |e| matches!(e, Event::MessageEdited { message } if message.id == id))
        .await;
    let Event::MessageEdited { message } = ev else { unreachable!() };
    assert!(message.text.unwrap().contains("qxSEALED3qx"));

    // A sealed chat carries text only: a file is refused before anything
    // is sealed or uploaded.
    let file = dir.path().join("note.txt");
    std::fs::write(&file, "qxFILEqx").unwrap();
    let refused = alice.h.send_file(&conv, &file, "", None).await;
    assert!(matches!(refused, Err(NodeError::State(ref m)) if m.contains("password-sealed")));

    // Bob changes the password and writes: Alice's side locks. The old
    // password opens only what was sealed under it (the new text stays
    // locked, and she cannot write); the new one opens everything.
    bob.h.seal(&conv, NEW_PASSWORD).await.unwrap();
    seal_event(&mut alice, &conv).await;
    assert!(is_locked(&alice.h.history(&conv, None, 50).await));
    bob.h.send_text(&conv, "yeni parolayla qxAFTERqx", None).await.unwrap();
    let after = incoming(&mut alice, &conv).await;
    assert_eq!(after.kind, "locked");
    alice.h.unlock_chat(&conv, PASSWORD).await.unwrap();
    let old_view = alice.h.history(&conv, None, 50).await.unwrap();
    assert!(texts(&old_view).iter().any(|t| t.contains("qxSEALED2qx")));
    assert!(!texts(&old_view).iter().any(|t| t.contains("qxAFTERqx")));
    assert!(old_view.iter().any(|m| m.id == after.id && m.kind == "locked"));
    let refused = alice.h.send_text(&conv, "eski parolayla", None).await;
    assert!(
        matches!(refused, Err(NodeError::State(ref m)) if m.contains("new password")),
        "{refused:?}"
    );
    alice.h.unlock_chat(&conv, NEW_PASSWORD).await.unwrap();
    let t = texts(&alice.h.history(&conv, None, 50).await.unwrap());
    for marker in ["qxSEALED2qx", "qxSEALED3qx", "qxPLAINqx", "qxAFTERqx"] {
        assert!(t.iter().any(|t| t.contains(marker)), "{marker} missing from {t:?}");
    }
    alice.h.send_text(&conv, "yeni şifreyle qxSEALED4qx", None).await.unwrap();
    assert!(incoming(&mut bob, &conv).await.text.unwrap().contains("qxSEALED4qx"));

    // A member cannot lock the others out: a seal whose chain names
    // itself and one with costs beyond the ceiling are ignored; one with a
    // password nobody knows locks the chat, but the password Alice knows
    // still opens it (an older seal) with all it held.
    use kovan_spec::wire::{self, app_envelope::Content as C};
    let seal = |key: u8, memory_kib: u32, looped: bool| wire::SealChange {
        key_id: vec![key; 16],
        salt: vec![key; 16],
        memory_kib,
        passes: 3,
        lanes: 4,
        previous_key_id: if looped { vec![key; 16] } else { Vec::new() },
        previous_nonce: if looped { vec![0; 24] } else { Vec::new() },
        previous_key: if looped { vec![0; 48] } else { Vec::new() },
    };
    bob.h.send_raw_content(&conv, C::SealChange(seal(0x55, 65_536, true))).await.unwrap();
    bob.h.send_raw_content(&conv, C::SealChange(seal(0x56, 4 << 20, false))).await.unwrap();
    bob.h.send_text(&conv, "hâlâ açık qxSEALED5qx", None).await.unwrap();
    let still = incoming(&mut alice, &conv).await;
    assert_eq!(still.text.as_deref(), Some("hâlâ açık qxSEALED5qx"), "still unlocked");
    bob.h.send_raw_content(&conv, C::SealChange(seal(0x57, 65_536, false))).await.unwrap();
    seal_event(&mut alice, &conv).await;
    assert!(is_locked(&alice.h.history(&conv, None, 50).await));
    alice.h.unlock_chat(&conv, NEW_PASSWORD).await.unwrap();
    let t = texts(&alice.h.history(&conv, None, 50).await.unwrap());
    assert!(
        t.iter().any(|t| t.contains("qxSEALED5qx")) && t.iter().any(|t| t.contains("qxSEALED2qx"))
    );
    // And she seals it again, so that the others can write once more.
    alice.h.seal(&conv, NEW_PASSWORD).await.unwrap();

    // Locking on demand, and after five idle minutes.
    alice.h.lock_chat(&conv).await.unwrap();
    assert!(is_locked(&alice.h.history(&conv, None, 50).await));
    alice.h.unlock_chat(&conv, NEW_PASSWORD).await.unwrap();
    clock.advance(Duration::from_secs(4 * 60));
    alice.h.history(&conv, None, 50).await.unwrap();
    clock.advance(Duration::from_secs(4 * 60));
    alice.h.history(&conv, None, 50).await.unwrap();
    clock.advance(Duration::from_secs(5 * 60 + 1));
    assert!(is_locked(&alice.h.history(&conv, None, 50).await));

    // At rest: Bob's database holds the sealed texts only in their sealed
    // form (opened with his own storage key, the texts are still sealed),
    // and after a restart the chat is locked.
    let bob_home = bob.home.root().to_path_buf();
    bob.h.shutdown().await;
    {
        let id = kovan_node::identity::Identity::unlock(
            &kovan_node::home::Home::at(&bob_home),
            PASSPHRASE,
        )
        .unwrap();
        let db = kovan_node::store::Database::open(&bob_home.join("node.sqlite3")).unwrap();
        let key = id.storage_key();
        let history = History::new(&db, key);
        let conv_id = hex::decode(&conv).unwrap();
        let page = history.page(&conv_id, None, 50).unwrap();
        let mut sealed = 0;
        for m in &page {
            let body = m.body.as_deref().unwrap();
            assert!(!body.windows(8).any(|w| w == b"qxSEALED"), "a sealed text stored in clear");
            let app = kovan_spec::validate_app_envelope(body).unwrap();
            if matches!(app.content, Content::Sealed(_)) {
                sealed += 1;
            }
        }
        assert_eq!(sealed, 5, "the five sealed texts (one edited) are stored sealed");
    }
    let bob = TestNode::reopen(bob_home, "bob", Some(&relay.url)).await;
    let list = bob.h.conversations().await.unwrap();
    assert!(list[0].sealed && list[0].locked);
    assert!(is_locked(&bob.h.history(&conv, None, 50).await));
}
