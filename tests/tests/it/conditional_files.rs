//! Conditional files between real nodes (SPEC.md §6.10.5, X5): the file's
//! sealed bytes arrive at once as an ordinary transfer announced as
//! `sealed`, nobody below the condition learns its name or bytes, and it
//! opens under its real name once the message opens — at once if the bytes
//! are here, when they come otherwise — for every member once enough
//! holders agree; an altered copy never opens, and deleting the message
//! for everyone removes it.

use std::path::{Path, PathBuf};

use kovan_node::node::FileOptions;
use kovan_node::node::{Agree, ConditionalFileView, Locks, MessageView};
use kovan_node::{Event, NodeHandle};

use crate::groups::people;
use crate::harness::{TestNode, TestRelay, befriend_registered};
use crate::verifiable::group_of;

const MARKER: &[u8] = b"tapu-senedi-ada-4721-parsel-88";

/// A file of `len` bytes with `MARKER` near its start and its end.
fn deed(dir: &Path, name: &str, len: usize) -> (PathBuf, Vec<u8>) {
    let mut bytes: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
    bytes[100..100 + MARKER.len()].copy_from_slice(MARKER);
    let end = len - 200;
    bytes[end..end + MARKER.len()].copy_from_slice(MARKER);
    let path = dir.join(name);
    std::fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Every byte of every file under `dir`.
fn bytes_under(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in walk(dir) {
        all.extend(std::fs::read(entry).unwrap_or_default());
    }
    all
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

async fn shown(h: &NodeHandle, conv: &str, id: &str) -> Option<MessageView> {
    h.history(conv, None, 100).await.ok()?.into_iter().find(|m| m.id == id)
}

fn file_of(m: &MessageView) -> ConditionalFileView {
    m.conditional.as_ref().and_then(|c| c.file.clone()).unwrap()
}

/// Waits until `n` shows the message's file as `want` says; returns it.
async fn file_shows(
    n: &TestNode,
    conv: &str,
    id: &str,
    what: &str,
    want: impl Fn(&ConditionalFileView) -> bool + Clone + Send + Sync + 'static,
) -> ConditionalFileView {
    let (c, i) = (conv.to_owned(), id.to_owned());
    n.until(what, move |h| {
        let (c, i, want) = (c.clone(), i.clone(), want.clone());
        async move {
            shown(&h, &c, &i).await.and_then(|m| m.conditional?.file).is_some_and(|f| want(&f))
        }
    })
    .await;
    file_of(&shown(&n.h, conv, id).await.unwrap())
}

fn password(p: &str) -> Locks {
    Locks { password: Some(p.into()), ..Default::default() }
}

async fn pair(dir: &Path, bob_files: FileOptions) -> (TestRelay, TestNode, TestNode) {
    let relay = TestRelay::start(dir).await;
    let mut alice = TestNode::new(dir, "alice", Some(&relay.url)).await;
    let mut bob = TestNode::with_files(dir, "bob", Some(&relay.url), bob_files).await;
    alice.h.register("alice", "a long password").await.unwrap();
    bob.h.register("bob", "a long password").await.unwrap();
    befriend_registered(&mut alice, &mut bob).await;
    (relay, alice, bob)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_under_a_password_arrives_sealed_and_opens_only_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let (relay, alice, mut bob) = pair(dir.path(), FileOptions::default()).await;
    // Three chunks and a bit.
    let (path, bytes) = deed(dir.path(), "tapu.pdf", 3 * 65_536 + 1_234);

    let sent = alice
        .h
        .send_conditional_file("bob", &path, "the deed", password("mavi kapı"))
        .await
        .unwrap();
    let mine = file_of(&sent);
    assert_eq!(
        (mine.state.as_str(), mine.name.as_deref(), mine.size),
        ("open", Some("tapu.pdf"), Some(bytes.len() as u64)),
        "the sender's own copy is open"
    );
    assert_eq!(mine.path.as_deref(), Some(path.to_string_lossy().as_ref()));
    assert_eq!(sent.text.as_deref(), Some("the deed"));

    // Bob's node fetches the sealed bytes at once and learns nothing else.
    let ev = bob.wait("the sealed file", |e| matches!(e, Event::Message { .. })).await;
    let Event::Message { message: got } = ev else { unreachable!() };
    let id = got.id.clone();
    let sealed =
        file_shows(&bob, "alice", &id, "the sealed bytes", |f| f.transfer_state == "complete")
            .await;
    assert_eq!(
        (sealed.state.as_str(), sealed.name.as_deref(), sealed.size),
        ("sealed", None, None),
        "nothing of the file shows before it opens"
    );
    assert_eq!(sealed.sealed_size, bytes.len() as u64 + 4 * 16, "the sealed size is all it says");
    let listed = bob.h.file(&sealed.transfer).await.unwrap();
    assert_eq!(
        (listed.name.as_str(), listed.mime.as_str()),
        ("sealed", "application/octet-stream")
    );
    let home = bob.home.root().to_path_buf();
    assert!(!contains(&bytes_under(&home), MARKER), "Bob's device holds the file's bytes");
    assert!(!contains(&relay.disk_bytes(), MARKER), "the relay holds the file's bytes");
    assert!(!contains(&relay.disk_bytes(), b"tapu.pdf"), "the relay knows the file's name");

    // A wrong password opens nothing.
    let err = bob.h.open_conditional("alice", &id, Some("kırmızı"), None).await.unwrap_err();
    assert!(err.to_string().contains("wrong password"), "{err}");
    assert_eq!(file_of(&shown(&bob.h, "alice", &id).await.unwrap()).state, "sealed");

    // The right one: the text, and the file under its real name.
    let opened = bob.h.open_conditional("alice", &id, Some("mavi kapı"), None).await.unwrap();
    assert_eq!(opened.text.as_deref(), Some("the deed"));
    let f = file_shows(&bob, "alice", &id, "the opened file", |f| f.state == "open").await;
    let at = PathBuf::from(f.path.clone().unwrap());
    assert_eq!(at.file_name().unwrap(), "tapu.pdf");
    assert!(at.starts_with(&home), "{at:?} is not in Bob's home");
    assert_eq!(std::fs::read(&at).unwrap(), bytes, "the opened file differs");
    assert_eq!((f.mime.as_deref(), f.size), (Some("application/pdf"), Some(bytes.len() as u64)));

    // It stays open after a restart; the sealed copy is gone.
    let mut bob = bob.restart().await;
    let f = file_of(&shown(&bob.h, "alice", &id).await.unwrap());
    assert_eq!(
        (f.state.as_str(), f.path.as_deref()),
        ("open", Some(at.to_string_lossy().as_ref()))
    );
    let files: Vec<PathBuf> = walk(&home.join("files"));
    assert_eq!(files.iter().filter(|p| p.ends_with("sealed")).count(), 0, "{files:?}");

    // Deleted for everyone: the opened file goes from Bob's device too.
    alice.h.delete("bob", &id).await.unwrap();
    bob.wait("the deletion", |e| matches!(e, Event::MessageDeleted { .. })).await;
    assert!(!at.exists(), "the opened file was kept after the deletion");
    assert!(!contains(&bytes_under(&home.join("files")), MARKER));
    assert!(path.exists(), "the sender's own file is hers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_opened_before_its_bytes_came_opens_when_they_do_and_an_altered_one_never() {
    let dir = tempfile::tempdir().unwrap();
    let manual = FileOptions { auto_download_max: 0, ..FileOptions::default() };
    let (_relay, alice, mut bob) = pair(dir.path(), manual).await;
    let (path, bytes) = deed(dir.path(), "harita.png", 70_000);

    let sent = alice.h.send_conditional_file("bob", &path, "", password("dört yol")).await.unwrap();
    let id = sent.id.clone();
    bob.wait("the sealed file", |e| matches!(e, Event::Message { .. })).await;
    let f = file_shows(&bob, "alice", &id, "the offer", |f| f.transfer_state == "offered").await;

    // Opened first: the key is kept, and the file waits for its bytes.
    let opened = bob.h.open_conditional("alice", &id, Some("dört yol"), None).await.unwrap();
    assert_eq!(opened.text.as_deref(), Some(""), "a file needs no text");
    let waiting = file_of(&opened);
    assert_eq!((waiting.state.as_str(), waiting.name.as_deref()), ("waiting", Some("harita.png")));
    bob.h.fetch_file(&f.transfer).await.unwrap();
    let done = file_shows(&bob, "alice", &id, "the file once fetched", |f| f.state == "open").await;
    assert_eq!(std::fs::read(done.path.unwrap()).unwrap(), bytes);

    // A second file whose sealed bytes were altered on Bob's disk.
    let sent = alice.h.send_conditional_file("bob", &path, "", password("dört yol")).await.unwrap();
    let id = sent.id.clone();
    let f =
        file_shows(&bob, "alice", &id, "the second offer", |f| f.transfer_state == "offered").await;
    bob.h.fetch_file(&f.transfer).await.unwrap();
    file_shows(&bob, "alice", &id, "its bytes", |f| f.transfer_state == "complete").await;
    let at = bob.home.root().join("files").join("in").join(&f.transfer).join("sealed");
    let mut sealed = std::fs::read(&at).unwrap();
    sealed[65_552 + 9] ^= 0x20;
    std::fs::write(&at, sealed).unwrap();
    bob.h.open_conditional("alice", &id, Some("dört yol"), None).await.unwrap();
    let failed = file_shows(&bob, "alice", &id, "the refusal", |f| f.state == "failed").await;
    assert!(failed.error.as_deref().unwrap_or("").contains("authentication"), "{failed:?}");
    assert_eq!(failed.path, None);
    let opened_dir = at.parent().unwrap().join("opened");
    assert_eq!(walk(&opened_dir), Vec::<PathBuf>::new(), "something of an altered file was kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_sealed_until_two_members_agree_opens_for_every_member() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, mut nodes) = people(dir.path(), &["alice", "bob", "carol", "dave"]).await;
    let gid = group_of(&mut nodes, "Vasiyet").await;
    let [alice, bob, carol, dave]: [TestNode; 4] =
        nodes.try_into().unwrap_or_else(|_| unreachable!());
    let (path, bytes) = deed(dir.path(), "vasiyet.txt", 5_000);
    let locks = Locks {
        agree: Some(Agree {
            holders: vec!["bob".into(), "carol".into(), "dave".into()],
            threshold: 2,
            ..Default::default()
        }),
        ..Default::default()
    };
    let sent = alice.h.send_conditional_file(&gid, &path, "benden sonra", locks).await.unwrap();
    let id = sent.id.clone();
    for n in [&bob, &carol, &dave] {
        file_shows(n, &gid, &id, "the sealed bytes", |f| {
            f.transfer_state == "complete" && f.state == "sealed"
        })
        .await;
    }
    bob.h.release_share(&gid, &id).await.unwrap();
    file_shows(&dave, &gid, &id, "Bob's agreement", |f| f.state == "sealed").await;
    carol.h.release_share(&gid, &id).await.unwrap();
    for n in [&bob, &carol, &dave] {
        let f = file_shows(n, &gid, &id, "the opened file", |f| f.state == "open").await;
        assert_eq!(std::fs::read(f.path.unwrap()).unwrap(), bytes, "{}'s copy differs", n.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conditional_file_needs_a_file_within_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let (_relay, alice, _bob) = pair(dir.path(), FileOptions::default()).await;
    let missing = dir.path().join("yok.pdf");
    let err = alice
        .h
        .send_conditional_file("bob", &missing, "", password("mavi kapı"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("yok.pdf"), "{err}");
    let (path, _) = deed(dir.path(), "a.bin", 1_000);
    let err = alice.h.send_conditional_file("bob", &path, "", Locks::default()).await.unwrap_err();
    assert!(err.to_string().contains("what the message waits for"), "{err}");
    let err = alice.h.send_conditional("bob", "", password("mavi kapı")).await.unwrap_err();
    assert!(err.to_string().contains("empty"), "{err}");
}
