//! Message history: encrypted at rest, paged newest first, deduplicated,
//! states only move forward, edits and deletes only by the sender.

use kovan_crypto::storage::StorageKey;
use kovan_node::history::{History, NewMessage, State};
use kovan_node::store::Database;
use rand_core::OsRng;

fn msg<'a>(conv: &'a [u8], i: u8, sender: &'a [u8], body: &'a [u8]) -> NewMessage<'a> {
    NewMessage {
        conversation_id: conv,
        message_id: [i; 16],
        sender_account: sender,
        sender_device: "12D3KooWSender",
        sent_at: i64::from(i),
        received_at: i64::from(i),
        outgoing: false,
        state: State::Received,
        body,
    }
}

#[test]
fn history_pages_dedupes_and_is_encrypted_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.sqlite3");
    let key = StorageKey::generate(&mut OsRng);
    let conv = b"group-1".to_vec();
    let bob = [2u8; 32];
    {
        let db = Database::open(&path).unwrap();
        let h = History::new(&db, &key);
        h.ensure_conversation(&conv, Some(&bob), 0).unwrap();
        for i in 1..=100u8 {
            let body = format!("secret message number {i}");
            assert!(h.insert(&msg(&conv, i, &bob, body.as_bytes())).unwrap().is_some());
        }
        // The same message id again is not stored twice.
        assert_eq!(h.insert(&msg(&conv, 7, &bob, b"again")).unwrap(), None);

        let first = h.page(&conv, None, 30).unwrap();
        assert_eq!(first.len(), 30);
        assert_eq!(first[0].body.as_deref(), Some(&b"secret message number 100"[..]));
        let second = h.page(&conv, Some(first.last().unwrap().seq), 30).unwrap();
        assert_eq!(second[0].body.as_deref(), Some(&b"secret message number 70"[..]));
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page = h.page(&conv, cursor, 30).unwrap();
            if page.is_empty() {
                break;
            }
            cursor = Some(page.last().unwrap().seq);
            all.extend(page);
        }
        assert_eq!(all.len(), 100);
        assert!(all.windows(2).all(|w| w[0].seq > w[1].seq), "newest first, no repeats");

        // Only the sender edits or deletes.
        let mallory = [9u8; 32];
        assert!(!h.edit(&conv, &[5; 16], &mallory, b"forged", 1).unwrap());
        assert!(h.edit(&conv, &[5; 16], &bob, b"edited text", 1).unwrap());
        assert_eq!(
            h.get(&conv, &[5; 16]).unwrap().unwrap().body.as_deref(),
            Some(&b"edited text"[..])
        );
        assert!(!h.delete(&conv, &[6; 16], &mallory).unwrap());
        assert!(h.delete(&conv, &[6; 16], &bob).unwrap());
        assert_eq!(h.get(&conv, &[6; 16]).unwrap().unwrap().body, None);

        // Outgoing states only move forward.
        let mut out = msg(&conv, 200, &[1; 32], b"mine");
        out.outgoing = true;
        out.state = State::Pending;
        h.insert(&out).unwrap();
        assert!(h.advance(&conv, &[200; 16], State::Delivered).unwrap());
        assert!(!h.advance(&conv, &[200; 16], State::Sent).unwrap());
        assert!(h.advance(&conv, &[200; 16], State::Seen).unwrap());
        assert_eq!(h.get(&conv, &[200; 16]).unwrap().unwrap().state, State::Seen);
    }

    // Nothing readable on disk.
    let mut raw = std::fs::read(&path).unwrap();
    raw.extend(std::fs::read(dir.path().join("node.sqlite3-wal")).unwrap_or_default());
    for needle in [&b"secret message"[..], b"edited text", b"mine"] {
        assert!(
            !raw.windows(needle.len()).any(|w| w == needle),
            "{:?} found on disk",
            String::from_utf8_lossy(needle)
        );
    }

    // After a restart it reads back; with another key it refuses.
    let db = Database::open(&path).unwrap();
    let h = History::new(&db, &key);
    assert_eq!(h.page(&conv, None, 1).unwrap()[0].body.as_deref(), Some(&b"mine"[..]));
    let other_key = StorageKey::generate(&mut OsRng);
    let wrong = History::new(&db, &other_key);
    assert!(wrong.page(&conv, None, 5).is_err());
}
