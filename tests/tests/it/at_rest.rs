//! What nodes and a relay leave on disk (SPEC.md §4.6, THREAT_MODEL.md):
//! after a session that uses every kind of content, nothing a message or a
//! file announcement carried can be read in a node's home (the received
//! files themselves excepted: they are the user's) or in the relay's data,
//! and everything a node wrote is private to its user.

use std::path::{Path, PathBuf};

use kovan_node::Event;
use kovan_node::node::ScheduledContent;

use crate::harness::{TestNode, TestRelay};

/// Strings that only ever travel inside messages and file announcements
/// (or stay as a draft).
const MARKERS: [&str; 13] = [
    "qxNOTEqx",
    "qxTEXTqx",
    "qxEDITqx",
    "qxFILENAMEqx",
    "qxSOURCEDIRqx",
    "qxCAPTIONqx",
    "qxPOLLqx",
    "qxOPTIONqx",
    "qxPLACEqx",
    "qxLATERqx",
    "qxINVITEqx",
    "qxREPLYqx",
    "qxDRAFTqx",
];

/// Every regular file under `root`, with the directories, not following links.
fn walk(root: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut files, mut dirs) = (Vec::new(), vec![root.to_path_buf()]);
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            if meta.is_dir() {
                dirs.push(e.path());
                stack.push(e.path());
            } else if meta.is_file() {
                files.push(e.path());
            }
        }
    }
    (files, dirs)
}

/// The markers found in the files under `root` (outside `skip`).
fn markers_in(root: &Path, skip: Option<&Path>) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    for f in walk(root).0 {
        if skip.is_some_and(|s| f.starts_with(s)) {
            continue;
        }
        let bytes = std::fs::read(&f).unwrap();
        for m in MARKERS {
            if bytes.windows(m.len()).any(|w| w == m.as_bytes()) {
                found.push((m.to_owned(), f.clone()));
            }
        }
    }
    found
}

/// Entries under `root` that another user could read or enter.
fn not_private(root: &Path) -> Vec<(PathBuf, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let (files, dirs) = walk(root);
    files
        .into_iter()
        .chain(dirs)
        .filter_map(|p| {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            (mode & 0o077 != 0).then_some((p, mode))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_a_message_carried_is_readable_at_rest_and_every_file_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(&dir.path().join("relay")).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    alice.h.register("alice", "a long password").await.unwrap();
    bob.h.register("bob", "a long password").await.unwrap();
    alice.h.friend_request("bob", "merhaba qxNOTEqx").await.unwrap();
    let Event::FriendRequest { contact } =
        bob.wait("the request", |e| matches!(e, Event::FriendRequest { .. })).await
    else {
        unreachable!()
    };
    bob.h.friend_accept(&contact.account).await.unwrap();
    alice.wait("accepted", |e| matches!(e, Event::FriendAccepted { .. })).await;

    // Text, an edit, a reply and a reaction.
    let sent = alice.h.send_text("bob", "ilk qxTEXTqx", None).await.unwrap();
    bob.wait("the text", |e| matches!(e, Event::Message { message } if !message.outgoing)).await;
    alice.h.edit("bob", &sent.id, "düzeltme qxEDITqx").await.unwrap();
    bob.wait("the edit", |e| matches!(e, Event::MessageEdited { .. })).await;
    bob.h.react("alice", &sent.id, ":heart:", false).await.unwrap();
    bob.h.send_text("alice", "yanıt qxREPLYqx", Some(&sent.id)).await.unwrap();

    // A file from a folder whose name is a marker, with a caption.
    let source = dir.path().join("qxSOURCEDIRqx");
    std::fs::create_dir_all(&source).unwrap();
    let picked = source.join("rapor-qxFILENAMEqx.txt");
    std::fs::write(&picked, b"the file's own bytes").unwrap();
    alice.h.send_file("bob", &picked, "son hali qxCAPTIONqx", None).await.unwrap();
    bob.wait("the file", |e| matches!(e, Event::File { file } if file.state == "complete")).await;

    // A poll and a vote, a place, a message for later, an invite link.
    let poll = alice
        .h
        .poll_create(
            "bob",
            "ne zaman qxPOLLqx?",
            vec!["yarın qxOPTIONqx".into(), "hiç".into()],
            false,
        )
        .await
        .unwrap();
    bob.wait("the poll", |e| matches!(e, Event::Message { message } if message.poll.is_some()))
        .await;
    bob.h.poll_vote("alice", &poll.id, vec![0]).await.unwrap();
    let point = kovan_spec::Point::from_degrees(41.0082, 28.9784, 10).unwrap();
    alice.h.share_location("bob", point, "buluşma qxPLACEqx", None).await.unwrap();
    let later = ScheduledContent::Text { text: "sonra qxLATERqx".into(), reply_to: None };
    let year = 365 * 24 * 3600 * 1000;
    alice.h.schedule("bob", later, kovan_node::clock::system_now_ms() + year).await.unwrap();
    alice.h.invite_create("for my qxINVITEqx friends", None, None).await.unwrap();
    alice.h.set_draft("bob", "yarım kalan qxDRAFTqx").await.unwrap();
    bob.wait(
        "the place",
        |e| matches!(e, Event::Message { message } if message.kind == "location"),
    )
    .await;
    alice.until("sent everything", |h| async move { h.outbox_len().await.unwrap() == 0 }).await;
    bob.until("sent everything", |h| async move { h.outbox_len().await.unwrap() == 0 }).await;

    // A clean stop writes the backups too.
    let (alice_home, bob_home) = (alice.home.root().to_owned(), bob.home.root().to_owned());
    alice.h.shutdown().await;
    bob.h.shutdown().await;

    for home in [&alice_home, &bob_home] {
        let received = home.join("files").join("in");
        let found = markers_in(home, Some(&received));
        assert!(found.is_empty(), "readable at rest in {}: {found:?}", home.display());
        let loose = not_private(home);
        assert!(loose.is_empty(), "readable by other users: {loose:?}");
    }
    // The relay holds sealed envelopes only, private to its user.
    let found = markers_in(&dir.path().join("relay"), None);
    assert!(found.is_empty(), "readable in the relay's data: {found:?}");
    let loose = not_private(&relay.dir);
    assert!(loose.is_empty(), "the relay's data is readable by other users: {loose:?}");
}
