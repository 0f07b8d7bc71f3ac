//! Conversation modes (SPEC.md §7.8): a direct-only chat between real
//! nodes with a real relay running beside them.

use std::path::Path;
use std::time::Duration;

use kovan_node::Event;
use kovan_node::relay_client::RelayClient;
use kovan_spec::ConversationMode;

use crate::harness::{TestNode, TestRelay, befriend};

/// Whether any file under `dir` holds `marker`.
fn holds(dir: &Path, marker: &str) -> Option<std::path::PathBuf> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).ok()?.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p)
                .is_ok_and(|b| b.windows(marker.len()).any(|w| w == marker.as_bytes()))
            {
                return Some(p);
            }
        }
    }
    None
}

/// Waits for a text in `conv` and returns it.
async fn text_in(n: &mut TestNode, conv: &str) -> String {
    let conv = conv.to_owned();
    let ev = n
        .wait("a message", |e| {
            matches!(e, Event::Message { message } if !message.outgoing && message.conversation == conv)
        })
        .await;
    let Event::Message { message } = ev else { unreachable!() };
    message.text.unwrap_or_default()
}

/// The sealed envelopes waiting in a node's direct-only queues.
fn waiting_direct(home: &Path) -> Vec<(String, Vec<u8>)> {
    let db = rusqlite::Connection::open(home.join("node.sqlite3")).unwrap();
    let mut stmt = db
        .prepare(
            "SELECT recipient_device, envelope FROM outbox WHERE recipient_device LIKE '%#direct'",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_only_chat_never_uses_the_relay_and_waits_for_a_direct_connection() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(&dir.path().join("relay")).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, _) = befriend(&mut alice, &mut bob).await;

    // Alice starts a direct-only chat; Bob sees what he agrees to.
    let chat = alice.h.chat_new(&bob_acct, ConversationMode::DirectOnly).await.unwrap();
    assert_eq!((chat.mode, chat.pair), ("direct_only", true));
    let ev = bob.wait("the invitation", |e| matches!(e, Event::GroupInvitation { .. })).await;
    let Event::GroupInvitation { invitation } = ev else { unreachable!() };
    assert_eq!((invitation.mode, invitation.pair), ("direct_only", true));
    bob.h.group_answer(&invitation.id, true).await.unwrap();
    let id = chat.id.clone();
    bob.until("joined", move |h| {
        let id = id.clone();
        async move { h.group(&id).await.is_ok_and(|g| g.members.len() == 2) }
    })
    .await;

    // Messages and a file both ways, and none of it reaches the relay.
    alice.h.send_text(&chat.id, "ilk qxDIRECT1qx", None).await.unwrap();
    assert!(text_in(&mut bob, &chat.id).await.contains("qxDIRECT1qx"));
    bob.h.send_text(&chat.id, "yanıt qxDIRECT2qx", None).await.unwrap();
    assert!(text_in(&mut alice, &chat.id).await.contains("qxDIRECT2qx"));
    let file = dir.path().join("not.txt");
    std::fs::write(&file, b"the notes qxDIRECTFILEqx").unwrap();
    let sent = alice.h.send_file(&chat.id, &file, "", None).await.unwrap();
    let file_id = sent.file.unwrap().id;
    bob.wait(
        "the file",
        |e| matches!(e, Event::File { file } if file.id == file_id && file.state == "complete"),
    )
    .await;
    let copy = alice.h.file(&file_id).await.unwrap();
    assert_eq!(copy.upload, "unneeded", "a direct-only chat's file got a relay copy: {copy:?}");

    // Bob goes away: Alice's message waits on her device, not in his mailbox.
    let bob_home = bob.home.root().to_owned();
    bob.h.shutdown().await;
    alice.h.send_text(&chat.id, "orada mısın qxDIRECT3qx", None).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let list = alice.h.conversations().await.unwrap();
    let view = list.iter().find(|c| c.id == chat.id).unwrap();
    assert_eq!(view.mode, "direct_only");
    assert!(view.waiting_direct, "the chat does not say it waits: {view:?}");
    let waiting = waiting_direct(alice.home.root());
    assert!(!waiting.is_empty(), "nothing waits in the direct queue");

    // A copy someone pushes into Bob's mailbox is refused there.
    let alice_home = alice.home.root().to_owned();
    alice.h.shutdown().await;
    let client = RelayClient::new(&relay.url).unwrap();
    for (queue, envelope) in &waiting {
        let device = queue.trim_end_matches("#direct");
        client.put_envelope(device, envelope.clone()).await.unwrap();
    }
    let mut bob = TestNode::reopen(bob_home, "bob", Some(&relay.url)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let page = bob.h.history(&chat.id, None, 20).await.unwrap();
    assert!(
        !page.iter().any(|m| m.text.as_deref().unwrap_or("").contains("qxDIRECT3qx")),
        "a direct-only message was taken from the mailbox"
    );

    // Both online again: it goes directly, once.
    let alice = TestNode::reopen(alice_home, "alice", Some(&relay.url)).await;
    assert!(text_in(&mut bob, &chat.id).await.contains("qxDIRECT3qx"));
    let id = chat.id.clone();
    alice
        .until("no longer waiting", move |h| {
            let id = id.clone();
            async move {
                h.conversations().await.unwrap().iter().any(|c| c.id == id && !c.waiting_direct)
            }
        })
        .await;
    let page = bob.h.history(&chat.id, None, 20).await.unwrap();
    let copies = page.iter().filter(|m| m.text.as_deref().unwrap_or("").contains("qxDIRECT3qx"));
    assert_eq!(copies.count(), 1);
    let _ = alice.h.send_text(&chat.id, "son", None).await;

    // The relay's database and blob store hold none of it.
    alice.h.shutdown().await;
    bob.h.shutdown().await;
    for marker in ["qxDIRECT1qx", "qxDIRECT2qx", "qxDIRECT3qx", "qxDIRECTFILEqx"] {
        assert_eq!(holds(&dir.path().join("relay"), marker), None, "{marker} reached the relay");
    }
}
