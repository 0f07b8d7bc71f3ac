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

/// A handshake made with openmls directly, as another implementation
/// would send it: `build` gets Bob's group with outgoing handshakes set to
/// `policy`.
fn raw_handshake(
    d: &Dev,
    gid: &[u8],
    policy: openmls::prelude::WireFormatPolicy,
    build: impl FnOnce(
        &mut openmls::prelude::MlsGroup,
        &kovan_node::store::MlsProvider,
        &MlsSigner,
    ) -> Vec<u8>,
) -> Vec<u8> {
    use openmls::prelude::{GroupId, MlsGroup, MlsGroupJoinConfig};
    use openmls_traits::OpenMlsProvider as _;
    let provider = d.db.mls_provider().unwrap();
    let mut group = MlsGroup::load(provider.storage(), &GroupId::from_slice(gid)).unwrap().unwrap();
    let config = MlsGroupJoinConfig::builder()
        .use_ratchet_tree_extension(true)
        .wire_format_policy(policy)
        .build();
    group.set_configuration(provider.storage(), &config).unwrap();
    build(&mut group, &provider, &MlsSigner::new(d.keys.mls.clone()))
}

/// Alice and Bob in a 1:1 conversation, with Alice's self-update applied
/// by Bob (so Bob has just applied a commit, the case where a message of
/// a competing branch would be parked).
fn after_a_commit(dir: &std::path::Path) -> (Dev, Dev, Vec<u8>) {
    let alice = Dev::new(dir, "alice");
    let bob = Dev::new(dir, "bob");
    let started = alice.mls.start(&bob.mls.key_package(false).unwrap(), now()).unwrap();
    bob.mls.join(&started.welcome, now()).unwrap();
    let g = started.group_id;
    let c = alice.mls.commit(&alice.db, &g, &Intent::Update, now()).unwrap().unwrap();
    assert!(matches!(
        bob.mls.receive(&bob.db, &c.commit, now()).unwrap(),
        Incoming::Commit { epoch: 2, .. }
    ));
    (alice, bob, g)
}

use kovan_node::groups::Intent;

#[test]
fn a_commit_sent_as_a_public_message_is_applied_not_parked() {
    // SPEC.md §2.5: commits and proposals may come as PublicMessage (RFC
    // 9420 allows it; mls-rs sends them so by default). Such a commit for
    // the current epoch was once parked as "for a later epoch", and its
    // sender's messages after it stalled behind it.
    use openmls::prelude::tls_codec::Serialize as _;
    use openmls::prelude::{LeafNodeParameters, MIXED_PLAINTEXT_WIRE_FORMAT_POLICY};
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob, g) = after_a_commit(dir.path());
    let public = raw_handshake(&bob, &g, MIXED_PLAINTEXT_WIRE_FORMAT_POLICY, |group, p, s| {
        let bundle = group.self_update(p, s, LeafNodeParameters::default()).unwrap();
        group.merge_pending_commit(p).unwrap();
        bundle.into_commit().tls_serialize_detached().unwrap()
    });
    assert_eq!(public[2..4], [0, 1], "the commit is a PublicMessage (wire format 1)");
    // Alice's group as a node before this rule stored it: ciphertext
    // handshakes only. Receiving moves it to the rule.
    use openmls::prelude::PURE_CIPHERTEXT_WIRE_FORMAT_POLICY;
    raw_handshake(&alice, &g, PURE_CIPHERTEXT_WIRE_FORMAT_POLICY, |_, _, _| Vec::new());
    match alice.mls.receive(&alice.db, &public, now()).unwrap() {
        Incoming::Commit { epoch: 3, .. } => {}
        other => panic!("the public commit was not applied: {other:?}"),
    }
    // The conversation goes on both ways in the new epoch.
    let m = bob.mls.encrypt(&g, b"after my public commit").unwrap();
    assert_eq!(alice.text(&m).0, "after my public commit");
    let m = alice.mls.encrypt(&g, b"read you").unwrap();
    assert_eq!(bob.text(&m).0, "read you");
}

#[test]
fn a_current_epoch_commit_that_fails_for_another_reason_is_refused_not_parked() {
    // Parking is for epochs above the current one, and for a message of
    // a competing branch (one that does not decrypt right after a
    // commit). A commit that decrypts but does not process — here it
    // commits a proposal by reference that never arrived — is refused
    // at once, with an error, instead of waiting for an epoch that will
    // never come.
    use openmls::prelude::MIXED_CIPHERTEXT_WIRE_FORMAT_POLICY;
    use openmls::prelude::tls_codec::Serialize as _;
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob, g) = after_a_commit(dir.path());
    let commit = raw_handshake(&bob, &g, MIXED_CIPHERTEXT_WIRE_FORMAT_POLICY, |group, p, s| {
        let leaf = group.members().find(|m| m.index != group.own_leaf_index()).unwrap().index;
        let _proposal = group.propose_remove_member(p, s, leaf).unwrap();
        let (commit, _, _) = group.commit_to_pending_proposals(p, s).unwrap();
        commit.tls_serialize_detached().unwrap()
    });
    match alice.mls.receive(&alice.db, &commit, now()) {
        Err(ConversationError::Mls(_)) => {}
        other => panic!("expected an MLS error, got {other:?}"),
    }
}
