//! MLS conversations with SQLite-backed state: start, join, both ways,
//! duplicates, late messages across a commit, restarts, forged members.

use kovan_crypto::identity::{AccountKey, DeviceCertificate, DeviceKeys};
use kovan_crypto::mls::{CIPHERSUITE, MlsSigner};
use kovan_node::conversation::{ConversationError, Conversations, Incoming};
use kovan_node::store::Database;
use openmls::prelude::tls_codec::Serialize as _;
use openmls::prelude::{BasicCredential, CredentialWithKey, KeyPackage, MlsMessageOut};
use rand_core::OsRng;

pub(crate) fn now() -> u64 {
    kovan_node::identity::now_secs()
}

pub(crate) struct Dev {
    pub(crate) keys: DeviceKeys,
    pub(crate) cert: DeviceCertificate,
    path: std::path::PathBuf,
    pub(crate) db: Database,
    pub(crate) mls: Conversations,
}

impl Dev {
    pub(crate) fn new(dir: &std::path::Path, name: &str) -> Self {
        let account = AccountKey::generate(&mut OsRng);
        let keys = DeviceKeys::generate(&mut OsRng);
        let cert = account.certify(&keys.public(), name, now() - 10, 3600).unwrap();
        let path = dir.join(format!("{name}.sqlite3"));
        let db = Database::open(&path).unwrap();
        let mls = Conversations::new(&db, MlsSigner::new(keys.mls.clone()), cert.clone()).unwrap();
        Self { keys, cert, path, db, mls }
    }

    pub(crate) fn restart(self) -> Self {
        let Dev { keys, cert, path, db, mls } = self;
        drop(mls);
        drop(db);
        let db = Database::open(&path).unwrap();
        let mls = Conversations::new(&db, MlsSigner::new(keys.mls.clone()), cert.clone()).unwrap();
        Dev { keys, cert, path, db, mls }
    }

    pub(crate) fn text(&self, bytes: &[u8]) -> (String, DeviceCertificate) {
        match self.mls.receive(&self.db, bytes, now()).unwrap() {
            Incoming::Application { sender, plaintext, .. } => {
                (String::from_utf8(plaintext).unwrap(), *sender)
            }
            other => panic!("expected an application message, got {other:?}"),
        }
    }
}

#[test]
fn a_conversation_works_both_ways_and_survives_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let alice = Dev::new(dir.path(), "alice");
    let bob = Dev::new(dir.path(), "bob");

    let started = alice.mls.start(&bob.mls.key_package(false).unwrap(), now()).unwrap();
    assert_eq!(started.peer.account(), bob.cert.account());
    let joined = bob.mls.join(&started.welcome, now()).unwrap();
    assert_eq!(joined.group_id, started.group_id);
    let accounts: Vec<_> = joined.members.iter().map(|c| *c.account()).collect();
    assert_eq!(accounts, vec![*alice.cert.account(), *bob.cert.account()]);
    let g = started.group_id.clone();

    let m = alice.mls.encrypt(&g, b"merhaba").unwrap();
    let (text, sender) = bob.text(&m);
    assert_eq!(text, "merhaba");
    assert_eq!(sender.account(), alice.cert.account(), "the sender is the MLS-authenticated leaf");
    // The same message again (another path) is a quiet duplicate.
    assert!(matches!(bob.mls.receive(&bob.db, &m, now()).unwrap(), Incoming::Duplicate));

    let r = bob.mls.encrypt(&g, b"selam").unwrap();
    assert_eq!(alice.text(&r).0, "selam");

    // A message sent just before a commit still decrypts after the commit.
    let late = alice.mls.encrypt(&g, b"sent before the commit").unwrap();
    let commit = alice
        .mls
        .commit(&alice.db, &g, &kovan_node::groups::Intent::Update, now())
        .unwrap()
        .unwrap()
        .commit;
    assert!(matches!(
        bob.mls.receive(&bob.db, &commit, now()).unwrap(),
        Incoming::Commit { epoch: 2, .. }
    ));
    assert_eq!(bob.text(&late).0, "sent before the commit");

    // Both restart; the conversation continues from disk.
    let alice = alice.restart();
    let bob = bob.restart();
    assert_eq!(alice.mls.epoch(&g).unwrap(), 2);
    let m = alice.mls.encrypt(&g, b"after restart").unwrap();
    assert_eq!(bob.text(&m).0, "after restart");
    assert!(
        matches!(bob.mls.receive(&bob.db, &m, now()).unwrap(), Incoming::Duplicate),
        "dedupe survives restarts"
    );
    let _ = &alice.keys;
}

#[test]
fn tampered_messages_fail_without_poisoning_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let alice = Dev::new(dir.path(), "alice");
    let bob = Dev::new(dir.path(), "bob");
    let started = alice.mls.start(&bob.mls.key_package(false).unwrap(), now()).unwrap();
    bob.mls.join(&started.welcome, now()).unwrap();
    let m = alice.mls.encrypt(&started.group_id, b"intact").unwrap();
    let mut bad = m.clone();
    let n = bad.len();
    bad[n - 3] ^= 0x20;
    assert!(bob.mls.receive(&bob.db, &bad, now()).is_err());
    assert!(bob.mls.receive(&bob.db, b"not mls at all", now()).is_err());
    assert_eq!(bob.text(&m).0, "intact");
    assert!(matches!(
        bob.mls.encrypt(b"no such group", b"x"),
        Err(ConversationError::UnknownGroup)
    ));
}

#[test]
fn a_key_package_claiming_someone_elses_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let alice = Dev::new(dir.path(), "alice");
    let bob = Dev::new(dir.path(), "bob");
    let mallory = DeviceKeys::generate(&mut OsRng);
    // Bob's certificate, Mallory's signature key.
    let forged = CredentialWithKey {
        credential: BasicCredential::new(bob.cert.encoded().to_vec()).into(),
        signature_key: mallory.mls.verifying_key().to_bytes().as_slice().into(),
    };
    let provider = openmls_rust_crypto::OpenMlsRustCrypto::default();
    let kp = KeyPackage::builder()
        .build(CIPHERSUITE, &provider, &MlsSigner::new(mallory.mls.clone()), forged)
        .unwrap()
        .key_package()
        .clone();
    let bytes = MlsMessageOut::from(kp).tls_serialize_detached().unwrap();
    assert!(matches!(alice.mls.start(&bytes, now()), Err(ConversationError::Untrusted(_))));
    assert!(matches!(alice.mls.start(b"garbage", now()), Err(ConversationError::Malformed(_))));
}
