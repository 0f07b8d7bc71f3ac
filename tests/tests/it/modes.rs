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
    holds_bytes(dir, marker.as_bytes())
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

/// Waits for a leave-no-trace chat event in `state`.
async fn no_trace_in(n: &mut TestNode, state: kovan_node::NoTraceState) -> kovan_node::NoTraceView {
    let ev = n
        .wait("a no-trace chat", |e| matches!(e, Event::NoTrace { chat } if chat.state == state))
        .await;
    let Event::NoTrace { chat } = ev else { unreachable!() };
    chat
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_trace_chat_leaves_nothing_on_either_disk() {
    use kovan_node::NoTraceState::{Invited, Open};
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(&dir.path().join("relay")).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    let (bob_acct, alice_acct) = befriend(&mut alice, &mut bob).await;

    // Alice offers; Bob sees who offers and accepts; both are in it.
    let offered = alice.h.chat_new_no_trace(&bob_acct).await.unwrap();
    let invited = no_trace_in(&mut bob, Invited).await;
    assert_eq!((invited.contact.account.as_str(), invited.state), (alice_acct.as_str(), Invited));
    // Bob keeps it under an id of his own: the one Alice sent could name
    // one of his conversations.
    assert_ne!(invited.id, offered.id);
    let bob_id = invited.id.clone();
    bob.h.no_trace_answer(&bob_id, true).await.unwrap();
    let open = no_trace_in(&mut alice, Open).await;
    no_trace_in(&mut bob, Open).await;
    let id = open.id.clone();
    let group = open.group.clone().unwrap();
    // The process holding it is kept out of core dumps.
    #[cfg(target_os = "linux")]
    assert_eq!(
        rustix::process::dumpable_behavior().unwrap(),
        rustix::process::DumpableBehavior::NotDumpable
    );
    let list = alice.h.conversations().await.unwrap();
    assert!(list.iter().any(|c| c.id == id && c.mode == "no_trace"));

    // Messages both ways, kept in memory on both sides.
    alice.h.send_text(&id, "iz bırakmayan qxNOTRACE1qx", None).await.unwrap();
    assert!(text_in(&mut bob, &bob_id).await.contains("qxNOTRACE1qx"));
    bob.h.send_text(&bob_id, "yanıt qxNOTRACE2qx", None).await.unwrap();
    assert!(text_in(&mut alice, &id).await.contains("qxNOTRACE2qx"));
    let page = bob.h.history(&bob_id, None, 10).await.unwrap();
    assert_eq!(page.len(), 2);
    // While it runs, nothing of it is on either disk either.
    for home in [alice.home.root(), bob.home.root()] {
        for marker in ["qxNOTRACE1qx", "qxNOTRACE2qx", &id, &bob_id, &group] {
            assert_eq!(holds(home, marker), None, "{marker} on disk during the chat");
        }
    }
    // A usual message beside it goes on as ever.
    alice.h.send_text(&bob_acct, "normal qxSTORED1qx", None).await.unwrap();
    let usual = conv_of(&bob, &alice_acct).await;
    assert!(text_in(&mut bob, &usual).await.contains("qxSTORED1qx"));

    // Bob ends it: Alice is told, and neither holds it any more.
    bob.h.no_trace_end(&bob_id).await.unwrap();
    let ev = alice.wait("the end", |e| matches!(e, Event::NoTraceEnded { .. })).await;
    let Event::NoTraceEnded { id: ended, reason } = ev else { unreachable!() };
    assert_eq!(ended, id);
    assert!(reason.contains("ended"), "{reason}");
    assert!(alice.h.history(&id, None, 10).await.is_err());
    assert!(bob.h.no_trace_chats().await.unwrap().is_empty());

    // A second one ends when Bob's node stops.
    alice.h.chat_new_no_trace(&bob_acct).await.unwrap();
    let second = alice.h.no_trace_chats().await.unwrap()[0].id.clone();
    let invited = no_trace_in(&mut bob, Invited).await;
    bob.h.no_trace_answer(&invited.id, true).await.unwrap();
    no_trace_in(&mut alice, Open).await;
    alice.h.send_text(&second, "ikinci qxNOTRACE3qx", None).await.unwrap();
    assert!(text_in(&mut bob, &invited.id).await.contains("qxNOTRACE3qx"));
    let bob_home = bob.home.root().to_path_buf();
    bob.h.shutdown().await;
    alice.wait("the end at Bob's stop", |e| matches!(e, Event::NoTraceEnded { .. })).await;
    let alice_home = alice.home.root().to_path_buf();
    alice.h.shutdown().await;

    // Nothing of either chat on either disk: not the texts, not the ids.
    let group_bytes = hex::decode(&group).unwrap();
    for home in [&bob_home, &alice_home] {
        let ids = [&id, &bob_id, &second, &invited.id];
        for marker in ["qxNOTRACE1qx", "qxNOTRACE2qx", "qxNOTRACE3qx", &group]
            .into_iter()
            .chain(ids.map(String::as_str))
        {
            assert_eq!(holds(home, marker), None, "{marker} found under {}", home.display());
        }
        assert_eq!(holds_bytes(home, &group_bytes), None, "the group id's bytes are on disk");
        assert_eq!(
            holds_bytes(home, &hex::decode(&id).unwrap()),
            None,
            "the chat id's bytes are on disk"
        );
    }
}

/// Whether any file under `dir` holds `needle`.
fn holds_bytes(dir: &Path, needle: &[u8]) -> Option<std::path::PathBuf> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).ok()?.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
            {
                return Some(p);
            }
        }
    }
    None
}

/// The usual conversation of `n` with `account`.
async fn conv_of(n: &TestNode, account: &str) -> String {
    let list = n.h.conversations().await.unwrap();
    list.into_iter()
        .find(|c| c.contact.as_ref().is_some_and(|k| k.account == account) && c.mode == "normal")
        .unwrap()
        .id
}
