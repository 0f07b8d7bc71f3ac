//! Files (M5, SPEC.md §7.7) between real nodes and a real relay on
//! loopback: 100 MiB directly and through the relay's blob store, resuming
//! after a node is stopped halfway (both directions), altered and
//! truncated blobs, quotas and size limits, and a group.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kovan_node::node::FileOptions;
use kovan_node::{Event, FileView, NodeErrorKind};
use sha2::{Digest, Sha256};

use crate::harness::{TestNode, TestRelay, befriend, befriend_registered};

pub(crate) const MIB: u64 = 1024 * 1024;
/// Large transfers in a debug build on a 2-core machine.
const SLOW: Duration = Duration::from_secs(180);
/// Written every MiB of every test file: it must never appear on the relay.
const MARKER: &[u8] = b"KOVAN-PLAINTEXT-MARKER-0123456789";

/// A file of `size` pseudo-random bytes (a marker at every MiB).
pub(crate) fn make_file(dir: &Path, name: &str, size: u64, seed: u64) -> PathBuf {
    let path = dir.join(name);
    kovan_tests::data::pseudo_random_file(&path, size, seed, Some(MARKER)).unwrap();
    path
}

pub(crate) fn sha(path: &Path) -> [u8; 32] {
    let mut h = Sha256::new();
    let mut f = std::fs::File::open(path).unwrap();
    std::io::copy(&mut f, &mut h).unwrap();
    h.finalize().into()
}

pub(crate) fn sealed_len(size: u64) -> u64 {
    kovan_crypto::file::sealed_len(size)
}

/// Waits until a file event for `id` satisfies `check`; returns it.
pub(crate) async fn file_event(
    n: &mut TestNode,
    what: &str,
    check: impl Fn(&FileView) -> bool,
) -> FileView {
    let Event::File { file } =
        n.wait_for(SLOW, what, |e| matches!(e, Event::File { file } if check(file))).await
    else {
        unreachable!()
    };
    file
}

/// Waits for an incoming file message; returns the file's id.
pub(crate) async fn offered(n: &mut TestNode) -> String {
    let Event::Message { message } = n
        .wait("a file message", |e| {
            matches!(e, Event::Message { message } if !message.outgoing && message.kind == "file")
        })
        .await
    else {
        unreachable!()
    };
    message.file.unwrap().id
}

/// The relay's blob file of `len` bytes (files are named by blob id).
fn blob_of_len(relay: &TestRelay, len: u64) -> PathBuf {
    let blobs = relay.dir.join("blobs");
    std::fs::read_dir(&blobs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| std::fs::metadata(p).unwrap().len() == len)
        .unwrap_or_else(|| panic!("no blob of {len} bytes in {}", blobs.display()))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mib_file_arrives_byte_identical_directly_and_through_the_relay() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    befriend(&mut alice, &mut bob).await;

    // Directly: both online. 100 MiB is above the automatic limit, so Bob
    // sees the offer and asks for it.
    let src = make_file(dir.path(), "big.bin", 100 * MIB, 1);
    let sent = alice.h.send_file("bob", &src, "the big one", None).await.unwrap();
    let meta = sent.file.clone().unwrap();
    assert_eq!((sent.kind, meta.name.as_str(), meta.size), ("file", "big.bin", 100 * MIB));
    let id = offered(&mut bob).await;
    assert_eq!(id, meta.id);
    let view = bob.h.file(&id).await.unwrap();
    assert_eq!(view.state, "offered", "above the automatic limit it waits to be asked");
    bob.h.fetch_file(&id).await.unwrap();
    let done =
        file_event(&mut bob, "direct download", |f| f.id == id && f.state == "complete").await;
    let got = PathBuf::from(done.path.unwrap());
    assert_eq!(got.file_name().unwrap(), "big.bin");
    assert_eq!(sha(&got), sha(&src), "byte-identical");
    assert!(done.wire_bytes >= sealed_len(100 * MIB), "it crossed the network");
    // Delivered directly: nothing was uploaded, and the blob reserved on
    // the relay for a copy is given back.
    let a_view =
        file_event(&mut alice, "relay copy unneeded", |f| f.id == id && f.upload == "unneeded")
            .await;
    assert_eq!(a_view.wire_bytes, 0, "nothing was uploaded");
    let blobs = relay.dir.join("blobs");
    let left = std::fs::read_dir(&blobs).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "the reservation is still on the relay");

    // Through the relay: Bob is offline when Alice sends, so the message
    // goes to his mailbox and Alice uploads the ciphertext; then Alice goes
    // offline and Bob, back, fetches it from the relay.
    let bob_home = dir.path().join("bob");
    bob.h.shutdown().await;
    let src2 = make_file(dir.path(), "second.bin", 100 * MIB, 2);
    let sent2 = alice.h.send_file("bob", &src2, "", None).await.unwrap();
    let id2 = sent2.file.unwrap().id;
    let uploaded = file_event(&mut alice, "upload", |f| f.id == id2 && f.upload == "done").await;
    assert!(uploaded.wire_bytes >= sealed_len(100 * MIB));
    // The relay's copy is ciphertext: no marker, no stretch of the file.
    let blob = std::fs::read(blob_of_len(&relay, sealed_len(100 * MIB))).unwrap();
    assert_eq!(blob.len() as u64, sealed_len(100 * MIB));
    assert!(!contains(&blob, MARKER), "the relay's blob contains plaintext");
    let plain = std::fs::read(&src2).unwrap();
    assert!(!contains(&blob, &plain[1000..1064]), "the relay's blob contains plaintext");
    drop((blob, plain));
    alice.h.shutdown().await;

    let mut bob = TestNode::reopen(bob_home.clone(), "bob", Some(&relay.url)).await;
    let id = offered(&mut bob).await;
    assert_eq!(id, id2);
    bob.h.fetch_file(&id).await.unwrap();
    let done =
        file_event(&mut bob, "relay download", |f| f.id == id && f.state == "complete").await;
    assert_eq!(sha(Path::new(&done.path.unwrap())), sha(&src2), "byte-identical via the relay");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_stopped_halfway_resumes_and_only_the_rest_crosses_the_wire() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    befriend(&mut alice, &mut bob).await;
    let total = sealed_len(100 * MIB);

    // Download, directly: Bob's node stops at about half and starts again.
    let src = make_file(dir.path(), "resume.bin", 100 * MIB, 3);
    alice.h.send_file("bob", &src, "", None).await.unwrap();
    let id = offered(&mut bob).await;
    bob.h.fetch_file(&id).await.unwrap();
    file_event(&mut bob, "half the download", |f| f.id == id && f.done >= 50 * MIB).await;
    let bob = bob.restart().await;
    let mut bob = bob;
    let done =
        file_event(&mut bob, "resumed download", |f| f.id == id && f.state == "complete").await;
    assert_eq!(sha(Path::new(done.path.as_deref().unwrap())), sha(&src));
    assert!(
        done.resumed_from >= 40 * MIB,
        "the second attempt started at {} bytes, not near the middle",
        done.resumed_from
    );
    assert!(
        done.wire_bytes < total + total / 5,
        "{} bytes crossed the wire for a {total}-byte ciphertext: it started over",
        done.wire_bytes
    );

    // Upload: Bob is offline, Alice uploads and stops at about half.
    let bob_home = dir.path().join("bob");
    bob.h.shutdown().await;
    let src2 = make_file(dir.path(), "upload.bin", 100 * MIB, 4);
    let sent = alice.h.send_file("bob", &src2, "", None).await.unwrap();
    let id2 = sent.file.unwrap().id;
    file_event(&mut alice, "half the upload", |f| f.id == id2 && f.done >= 50 * MIB).await;
    let mut alice = alice.restart().await;
    // On loopback the rest may have gone up before the stop took effect;
    // either way, what crossed the wire is the file once, not twice.
    let up = match alice.h.file(&id2).await.unwrap() {
        f if f.upload == "done" => f,
        _ => file_event(&mut alice, "resumed upload", |f| f.id == id2 && f.upload == "done").await,
    };
    assert!(
        up.wire_bytes < total + total / 5,
        "{} bytes uploaded for a {total}-byte ciphertext: it started over",
        up.wire_bytes
    );
    alice.h.shutdown().await;
    let mut bob = TestNode::reopen(bob_home.clone(), "bob", Some(&relay.url)).await;
    let id = offered(&mut bob).await;
    bob.h.fetch_file(&id).await.unwrap();
    let done = file_event(&mut bob, "download", |f| f.id == id && f.state == "complete").await;
    assert_eq!(sha(Path::new(&done.path.unwrap())), sha(&src2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_altered_or_truncated_blob_or_a_wrong_key_is_rejected_and_never_shown_complete() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    befriend(&mut alice, &mut bob).await;
    let bob_home = dir.path().join("bob");
    bob.h.shutdown().await;

    // Three small files, uploaded while Bob is away; then Alice goes too.
    let size = MIB + 100;
    let a = make_file(dir.path(), "altered.bin", size, 5);
    let b = make_file(dir.path(), "cut.bin", size + 1, 6);
    let c = make_file(dir.path(), "wrong-key.bin", size + 2, 11);
    let ida = alice.h.send_file("bob", &a, "", None).await.unwrap().file.unwrap().id;
    let idb = alice.h.send_file("bob", &b, "", None).await.unwrap().file.unwrap().id;
    let idc = alice.h.send_file("bob", &c, "", None).await.unwrap().file.unwrap().id;
    for id in [&ida, &idb, &idc] {
        file_event(&mut alice, "upload", |f| f.id == *id && f.upload == "done").await;
    }
    alice.h.shutdown().await;
    // One bit of chunk 3 flipped; the other loses its final chunk.
    let altered = blob_of_len(&relay, sealed_len(size));
    let mut bytes = std::fs::read(&altered).unwrap();
    bytes[3 * kovan_crypto::file::SEALED_CHUNK + 10] ^= 0x01;
    std::fs::write(&altered, bytes).unwrap();
    let cut = blob_of_len(&relay, sealed_len(size + 1));
    let f = std::fs::OpenOptions::new().write(true).open(&cut).unwrap();
    f.set_len((16 * kovan_crypto::file::SEALED_CHUNK) as u64).unwrap();

    // Bob comes back without fetching anything yet: his node records the
    // three offers. A sender that announced the wrong key for the third is
    // simulated by replacing the key his node stored (sealed as the node
    // seals it).
    let manual = FileOptions { auto_download_max: 0, ..FileOptions::default() };
    let mut bob = TestNode::reopen_with(bob_home.clone(), "bob", Some(&relay.url), manual).await;
    for _ in 0..3 {
        offered(&mut bob).await;
    }
    bob.h.shutdown().await;
    {
        let id = kovan_node::identity::Identity::unlock(
            &kovan_node::home::Home::at(&bob_home),
            crate::harness::PASSPHRASE,
        )
        .unwrap();
        let field = id.storage_key().field_key();
        let file_id = hex::decode(&idc).unwrap();
        let mut context = b"files/key/".to_vec();
        context.extend_from_slice(&file_id);
        let wrong = field.seal(&mut rand_core::OsRng, &context, &[0x42; 32]);
        let db = rusqlite::Connection::open(bob_home.join("node.sqlite3")).unwrap();
        let n = db
            .execute(
                "UPDATE files SET key = ?1 WHERE file_id = ?2",
                rusqlite::params![wrong, file_id],
            )
            .unwrap();
        assert_eq!(n, 1);
    }
    let mut bob = TestNode::reopen(bob_home.clone(), "bob", Some(&relay.url)).await;
    for id in [&ida, &idb, &idc] {
        bob.h.fetch_file(id).await.unwrap();
    }
    let mut failed = Vec::new();
    while failed.len() < 3 {
        let f = file_event(&mut bob, "a failure", |f| f.state == "failed").await;
        failed.push(f);
    }
    failed.sort_by_key(|f| f.name.clone());
    let (alt, cut, wrong) = (&failed[0], &failed[1], &failed[2]);
    assert_eq!(
        (alt.id.as_str(), cut.id.as_str(), wrong.id.as_str()),
        (ida.as_str(), idb.as_str(), idc.as_str())
    );
    assert!(alt.error.as_deref().unwrap().contains("chunk 3 failed authentication"), "{alt:?}");
    assert!(cut.error.as_deref().unwrap().contains("truncated"), "{cut:?}");
    assert!(wrong.error.as_deref().unwrap().contains("chunk 0 failed authentication"), "{wrong:?}");
    for f in [alt, cut, wrong] {
        assert!(f.path.is_none(), "a failed file has no path");
        let dir = bob_home.join("files").join("in").join(&f.id);
        let left: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.map(|e| e.unwrap().file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "nothing of a rejected file is kept: {left:?}");
    }
    let list = bob.h.files(None, 10).await.unwrap();
    assert!(list.iter().all(|f| f.state != "complete"), "{list:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_quota_and_over_size_files_are_refused_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let relay =
        TestRelay::start_with(dir.path(), |c| c.limits.blob_quota_bytes = 3 * MIB as i64).await;
    let small = FileOptions { max_size: 4 * MIB, ..FileOptions::default() };
    let mut alice = TestNode::with_files(dir.path(), "alice", Some(&relay.url), small).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    befriend(&mut alice, &mut bob).await;

    // Above the sender's own limit: refused before anything is sent.
    let big = make_file(dir.path(), "five.bin", 5 * MIB, 7);
    let err = alice.h.send_file("bob", &big, "", None).await.unwrap_err();
    assert_eq!(err.kind(), NodeErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("limit"), "{err}");
    assert!(alice.h.files(None, 10).await.unwrap().is_empty());

    // Within it, but the relay's quota (3 MiB) cannot hold a second copy:
    // while Bob is away, the first file gets a relay copy, the second is
    // sent without one and says why; both still reach Bob when he is back.
    let bob_home = bob.home.root().to_owned();
    bob.h.shutdown().await;
    let one = make_file(dir.path(), "one.bin", 2 * MIB, 8);
    let two = make_file(dir.path(), "two.bin", 2 * MIB, 9);
    let first = alice.h.send_file("bob", &one, "", None).await.unwrap().file.unwrap().id;
    let second = alice.h.send_file("bob", &two, "", None).await.unwrap().file.unwrap().id;
    let refused = alice.h.file(&second).await.unwrap();
    assert_eq!(refused.upload, "failed");
    assert!(refused.error.as_deref().unwrap().contains("quota_exceeded"), "{refused:?}");
    file_event(&mut alice, "the first copy", |f| f.id == first && f.upload == "done").await;
    let bob = TestNode::reopen(bob_home, "bob", Some(&relay.url)).await;
    // In either order: the second comes straight from Alice and may well
    // finish first.
    let ids = [first.clone(), second.clone()];
    bob.until_within(SLOW, "both downloads", move |h| {
        let ids = ids.clone();
        async move {
            for id in &ids {
                if !matches!(h.file(id).await, Ok(f) if f.state == "complete") {
                    return false;
                }
            }
            true
        }
    })
    .await;

    // A receiver refuses what is above its own limit, with a reason.
    let tiny = FileOptions { max_size: MIB, auto_download_max: MIB };
    let mut carol = TestNode::with_files(dir.path(), "carol", Some(&relay.url), tiny).await;
    carol.h.register("carol", "a long password").await.unwrap();
    befriend_registered(&mut alice, &mut carol).await;
    alice.h.send_file("carol", &one, "", None).await.unwrap();
    let id = offered(&mut carol).await;
    let view = carol.h.file(&id).await.unwrap();
    assert_eq!(view.state, "failed");
    assert!(view.error.as_deref().unwrap().contains("limit"), "{view:?}");
    let err = carol.h.fetch_file(&id).await.unwrap_err();
    assert_eq!(err.kind(), NodeErrorKind::InvalidInput);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_sent_to_a_group_reaches_every_member() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut nodes = Vec::new();
    for n in ["alice", "bob", "carol"] {
        let node = TestNode::new(dir.path(), n, Some(&relay.url)).await;
        node.h.register(n, "a long password").await.unwrap();
        nodes.push(node);
    }
    let [mut alice, mut bob, mut carol]: [TestNode; 3] =
        nodes.try_into().unwrap_or_else(|_| unreachable!());
    befriend_registered(&mut alice, &mut bob).await;
    befriend_registered(&mut alice, &mut carol).await;
    let g = alice.h.group_create("dosyalar", "", false).await.unwrap();
    for who in ["bob", "carol"] {
        alice.h.group_invite(&g.id, who).await.unwrap();
    }
    for n in [&mut bob, &mut carol] {
        let Event::GroupInvitation { invitation } = n
            .wait(
                "invitation",
                |e| matches!(e, Event::GroupInvitation { invitation } if invitation.incoming),
            )
            .await
        else {
            unreachable!()
        };
        n.h.group_answer(&invitation.id, true).await.unwrap();
    }
    let gid = g.id.clone();
    alice
        .until("three members", move |h| {
            let gid = gid.clone();
            async move { h.group(&gid).await.map(|g| g.members.len() == 3).unwrap_or(false) }
        })
        .await;

    let src = make_file(dir.path(), "photo.jpg", 3 * MIB + 7, 10);
    let sent = alice.h.send_file(&g.id, &src, "bizden", None).await.unwrap();
    let id = sent.file.unwrap().id;
    for n in [&mut bob, &mut carol] {
        let done = file_event(n, "group download", |f| f.id == id && f.state == "complete").await;
        assert_eq!(done.conversation, g.id);
        assert_eq!(done.mime, "image/jpeg");
        assert_eq!(sha(Path::new(&done.path.unwrap())), sha(&src));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn either_side_can_cancel_and_a_deleted_message_withdraws_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(dir.path()).await;
    let mut alice = TestNode::new(dir.path(), "alice", Some(&relay.url)).await;
    let mut bob = TestNode::new(dir.path(), "bob", Some(&relay.url)).await;
    befriend(&mut alice, &mut bob).await;

    // The receiver cancels a download under way: nothing partial is kept;
    // asking again starts over and completes.
    let src = make_file(dir.path(), "iptal.bin", 100 * MIB, 12);
    alice.h.send_file("bob", &src, "", None).await.unwrap();
    let id = offered(&mut bob).await;
    bob.h.fetch_file(&id).await.unwrap();
    file_event(&mut bob, "some progress", |f| f.id == id && f.done > 0).await;
    let view = bob.h.cancel_file(&id).await.unwrap();
    assert_eq!(view.state, "cancelled");
    let part = dir.path().join("bob").join("files").join("in").join(&id).join("iptal.bin.part");
    assert!(!part.exists(), "the partial file is removed");
    bob.h.fetch_file(&id).await.unwrap();
    let done = file_event(&mut bob, "download", |f| f.id == id && f.state == "complete").await;
    assert_eq!(sha(Path::new(&done.path.unwrap())), sha(&src));

    // The sender cancels: the file is no longer offered, and a fetch fails
    // for good with a reason rather than waiting forever.
    let src2 = make_file(dir.path(), "geri.bin", 40 * MIB, 13);
    alice.h.send_file("bob", &src2, "", None).await.unwrap();
    let id2 = offered(&mut bob).await;
    assert_eq!(alice.h.cancel_file(&id2).await.unwrap().state, "cancelled");
    bob.h.fetch_file(&id2).await.unwrap();
    let failed = file_event(&mut bob, "refused", |f| f.id == id2 && f.state == "failed").await;
    assert!(failed.error.as_deref().unwrap().contains("no longer offer"), "{failed:?}");

    // Deleting the message that announced a file withdraws it for everyone.
    let src3 = make_file(dir.path(), "sil.bin", 40 * MIB, 14);
    let sent = alice.h.send_file("bob", &src3, "", None).await.unwrap();
    let id3 = offered(&mut bob).await;
    assert_eq!(bob.h.file(&id3).await.unwrap().state, "offered");
    alice.h.delete("bob", &sent.id).await.unwrap();
    file_event(&mut bob, "withdrawn", |f| f.id == id3 && f.state == "cancelled").await;
    assert_eq!(alice.h.file(&id3).await.unwrap().state, "cancelled");
}
