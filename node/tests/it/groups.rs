//! MLS groups on SQLite-backed state (SPEC.md §7.6): rights checked on the
//! commit path, bans, removal, malformed handshakes, Welcomes nobody
//! accepted, and concurrent commits converging by rank with rollback.

use kovan_node::conversation::{ConversationError, Incoming};
use kovan_node::groups::{Intent, MetaChange, meta_extensions};
use kovan_spec::ValidatedGroupMeta;
use openmls::prelude::tls_codec::Serialize as _;
use openmls::prelude::{GroupId, MlsGroup};
use openmls_traits::OpenMlsProvider;

use crate::conversation::{Dev, now};

fn meta(name: &str, admin: &Dev) -> ValidatedGroupMeta {
    ValidatedGroupMeta {
        name: name.into(),
        admins: vec![*admin.cert.account().as_bytes()],
        ..Default::default()
    }
}

fn account(d: &Dev) -> [u8; 32] {
    *d.cert.account().as_bytes()
}

/// `committer` commits `intent`; every device in `others` processes it (and
/// an added one joins from the Welcome).
fn commit_all(gid: &[u8], committer: &Dev, intent: Intent, others: &[&Dev], joiner: Option<&Dev>) {
    let c = committer.mls.commit(&committer.db, gid, &intent, now()).unwrap().unwrap();
    for d in others {
        match d.mls.receive(&d.db, &c.commit, now()).unwrap() {
            Incoming::Commit { epoch, .. } => assert_eq!(epoch, c.epoch),
            other => panic!("expected a commit, got {other:?}"),
        }
    }
    if let Some(j) = joiner {
        j.mls.join_group(&j.db, c.welcome.as_ref().unwrap(), gid, now()).unwrap();
    }
}

fn add(gid: &[u8], admin: &Dev, new: &Dev, others: &[&Dev]) {
    let kp = new.mls.key_package(true).unwrap();
    commit_all(
        gid,
        admin,
        Intent::Add { key_package: kp, invitation_id: [1; 16] },
        others,
        Some(new),
    );
}

/// Alice (admin), Bob and Carol in one group.
fn three(dir: &std::path::Path) -> (Dev, Dev, Dev, Vec<u8>) {
    let alice = Dev::new(dir, "alice");
    let bob = Dev::new(dir, "bob");
    let carol = Dev::new(dir, "carol");
    let gid = alice.mls.create_group(&meta("team", &alice)).unwrap();
    add(&gid, &alice, &bob, &[]);
    add(&gid, &alice, &carol, &[&bob]);
    (alice, bob, carol, gid)
}

fn state(d: &Dev, gid: &[u8]) -> (u64, String, String, Vec<[u8; 32]>) {
    let s = d.mls.group_state(gid, now()).unwrap();
    let m = s.meta.unwrap();
    let members = s.members.iter().map(|c| *c.account().as_bytes()).collect();
    (s.epoch, m.name, m.description, members)
}

/// A commit made with openmls directly, bypassing the node's own checks:
/// what a modified client could send.
fn raw_commit(d: &Dev, gid: &[u8], build: impl FnOnce(&mut MlsGroup) -> Vec<u8>) -> Vec<u8> {
    let _ = d;
    let provider = d.db.mls_provider().unwrap();
    let mut group = MlsGroup::load(provider.storage(), &GroupId::from_slice(gid)).unwrap().unwrap();
    build(&mut group)
}

#[test]
fn members_see_the_same_group_and_read_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob, carol, gid) = three(dir.path());
    let a = state(&alice, &gid);
    assert_eq!(a, state(&bob, &gid));
    assert_eq!(a, state(&carol, &gid));
    assert_eq!(a.3, vec![account(&alice), account(&bob), account(&carol)]);
    let msg = carol.mls.encrypt(&gid, b"merhaba").unwrap();
    assert_eq!(alice.text(&msg).0, "merhaba");
    assert_eq!(bob.text(&msg).0, "merhaba");
}

#[test]
fn a_non_admin_commit_that_changes_names_or_roles_is_rejected_by_every_member() {
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob, carol, gid) = three(dir.path());
    // The node itself refuses.
    let err = bob
        .mls
        .commit(&bob.db, &gid, &Intent::Meta(MetaChange::Name("mine".into())), now())
        .unwrap_err();
    assert!(matches!(err, ConversationError::Refused(_)), "{err}");

    // A modified client commits anyway: a rename, and making itself admin.
    let signer = kovan_crypto::mls::MlsSigner::new(bob.keys.mls.clone());
    for change in [MetaChange::Name("mine".into()), MetaChange::Admin(account(&bob), true)] {
        let before = (state(&alice, &gid), state(&carol, &gid));
        let bytes = raw_commit(&bob, &gid, |g| {
            let mut m = g
                .extensions()
                .unknown(kovan_node::groups::META_EXTENSION)
                .map(|e| kovan_spec::validate_group_meta(&e.0).unwrap())
                .unwrap();
            change.apply(&mut m).unwrap();
            let provider = bob.db.mls_provider().unwrap();
            let bundle = g
                .commit_builder()
                .propose_group_context_extensions(meta_extensions(&m).unwrap())
                .unwrap()
                .load_psks(provider.storage())
                .unwrap()
                .build(provider.rand(), provider.crypto(), &signer, |_| true)
                .unwrap()
                .stage_commit(&provider)
                .unwrap();
            let out = bundle.into_commit().tls_serialize_detached().unwrap();
            g.clear_pending_commit(provider.storage()).unwrap();
            out
        });
        for d in [&alice, &carol] {
            let err = d.mls.receive(&d.db, &bytes, now()).unwrap_err();
            assert!(matches!(err, ConversationError::Refused(_)), "{err}");
        }
        assert_eq!((state(&alice, &gid), state(&carol, &gid)), before, "nothing changed");
    }
    // The group still works.
    let msg = alice.mls.encrypt(&gid, b"still here").unwrap();
    assert_eq!(carol.text(&msg).0, "still here");
}

#[test]
fn a_banned_account_is_removed_and_cannot_be_added_again() {
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob, carol, gid) = three(dir.path());
    // Everyone may invite, so that Bob's add below is refused for the ban
    // alone.
    commit_all(&gid, &alice, Intent::Meta(MetaChange::MembersInvite(true)), &[&bob, &carol], None);
    commit_all(
        &gid,
        &alice,
        Intent::Remove { accounts: vec![account(&carol)], ban: true },
        &[&bob, &carol],
        None,
    );
    let (_, _, _, members) = state(&alice, &gid);
    assert_eq!(members, vec![account(&alice), account(&bob)]);
    let banned = alice.mls.group_state(&gid, now()).unwrap().meta.unwrap().banned;
    assert_eq!(banned, vec![account(&carol)]);
    assert!(!carol.mls.group_state(&gid, now()).unwrap().active, "carol knows she is out");

    // Bob's own node refuses to add her…
    let kp = carol.mls.key_package(true).unwrap();
    let intent = Intent::Add { key_package: kp.clone(), invitation_id: [2; 16] };
    assert!(matches!(
        bob.mls.commit(&bob.db, &gid, &intent, now()),
        Err(ConversationError::Refused(_))
    ));
    // …and a commit that adds her anyway is refused by the members.
    let signer = kovan_crypto::mls::MlsSigner::new(bob.keys.mls.clone());
    let bytes = raw_commit(&bob, &gid, |g| {
        let provider = bob.db.mls_provider().unwrap();
        let msg = <openmls::prelude::MlsMessageIn as openmls::prelude::tls_codec::Deserialize>::tls_deserialize_exact(&kp).unwrap();
        let kp = match msg.extract() {
            openmls::prelude::MlsMessageBodyIn::KeyPackage(k) => {
                k.validate(provider.crypto(), openmls::prelude::ProtocolVersion::Mls10).unwrap()
            }
            _ => unreachable!(),
        };
        let (commit, _, _) = g.add_members(&provider, &signer, &[kp]).unwrap();
        g.clear_pending_commit(provider.storage()).unwrap();
        commit.tls_serialize_detached().unwrap()
    });
    let err = alice.mls.receive(&alice.db, &bytes, now()).unwrap_err();
    assert!(matches!(err, ConversationError::Refused(_)), "{err}");
}

#[test]
fn a_removed_member_cannot_read_what_is_sent_afterwards() {
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob, carol, gid) = three(dir.path());
    let c = alice
        .mls
        .commit(
            &alice.db,
            &gid,
            &Intent::Remove { accounts: vec![account(&carol)], ban: false },
            now(),
        )
        .unwrap()
        .unwrap();
    assert!(matches!(bob.mls.receive(&bob.db, &c.commit, now()), Ok(Incoming::Commit { .. })));
    match carol.mls.receive(&carol.db, &c.commit, now()).unwrap() {
        Incoming::Commit { summary, .. } => assert!(summary.self_removed),
        other => panic!("{other:?}"),
    }
    let secret = alice.mls.encrypt(&gid, b"after carol left").unwrap();
    assert_eq!(bob.text(&secret).0, "after carol left");
    // Carol holds the message and her own (removed) group state: no way in.
    assert!(carol.mls.receive(&carol.db, &secret, now()).is_err());
    let carol = carol.restart();
    assert!(carol.mls.receive(&carol.db, &secret, now()).is_err());
}

#[test]
fn malformed_handshake_messages_are_rejected_and_the_group_is_unharmed() {
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob, carol, gid) = three(dir.path());
    let c = alice
        .mls
        .commit(&alice.db, &gid, &Intent::Meta(MetaChange::Name("renamed".into())), now())
        .unwrap()
        .unwrap();
    let before = state(&bob, &gid);
    let mut flipped = c.commit.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    let truncated = c.commit[..c.commit.len() - 7].to_vec();
    for bad in [b"\x00\x01garbage".to_vec(), truncated, flipped, vec![]] {
        // Refused, or at most parked until the epoch settles (§7.6.5):
        // never applied.
        let r = bob.mls.receive(&bob.db, &bad, now());
        assert!(matches!(r, Err(_) | Ok(Incoming::Park { .. })), "{r:?}");
        assert_eq!(state(&bob, &gid), before, "a bad handshake changed nothing");
    }
    // The real commit still applies, and the group goes on.
    assert!(matches!(bob.mls.receive(&bob.db, &c.commit, now()), Ok(Incoming::Commit { .. })));
    assert!(matches!(carol.mls.receive(&carol.db, &c.commit, now()), Ok(Incoming::Commit { .. })));
    assert_eq!(state(&bob, &gid).1, "renamed");
    let msg = bob.mls.encrypt(&gid, b"ok").unwrap();
    assert_eq!(carol.text(&msg).0, "ok");
}

#[test]
fn a_welcome_for_a_group_nobody_accepted_is_not_joined() {
    let dir = tempfile::tempdir().unwrap();
    let alice = Dev::new(dir.path(), "alice");
    let bob = Dev::new(dir.path(), "bob");
    let gid = alice.mls.create_group(&meta("team", &alice)).unwrap();
    let other = alice.mls.create_group(&meta("other", &alice)).unwrap();
    let kp = bob.mls.key_package(true).unwrap();
    let c = alice
        .mls
        .commit(&alice.db, &gid, &Intent::Add { key_package: kp, invitation_id: [3; 16] }, now())
        .unwrap()
        .unwrap();
    // Bob accepted an invitation to `other`, not to this group.
    let err = bob.mls.join_group(&bob.db, c.welcome.as_ref().unwrap(), &other, now()).unwrap_err();
    assert!(matches!(err, ConversationError::Refused(_)), "{err}");
    assert!(bob.mls.group_state(&gid, now()).is_err(), "no state for the group was kept");
}

/// Applies `bytes` at `d`; for a winning commit whose rollback undid our
/// own commits, re-proposes them (as the node does) and returns those.
fn apply(d: &Dev, gid: &[u8], bytes: &[u8]) -> Vec<Vec<u8>> {
    match d.mls.receive(&d.db, bytes, now()).unwrap() {
        Incoming::Commit { rollback: Some(rb), .. } => rb
            .intents
            .iter()
            .filter_map(|i| d.mls.commit(&d.db, gid, i, now()).unwrap())
            .map(|c| c.commit)
            .collect(),
        _ => Vec::new(),
    }
}

#[test]
fn concurrent_commits_converge_on_the_lowest_rank_and_the_loser_is_re_proposed() {
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob, carol, gid) = three(dir.path());
    commit_all(
        &gid,
        &alice,
        Intent::Meta(MetaChange::Admin(account(&bob), true)),
        &[&bob, &carol],
        None,
    );
    let epoch = state(&alice, &gid).0;
    // Two admins commit in the same epoch, each unaware of the other.
    let a = alice
        .mls
        .commit(&alice.db, &gid, &Intent::Meta(MetaChange::Name("alice's name".into())), now())
        .unwrap()
        .unwrap();
    let b = bob
        .mls
        .commit(&bob.db, &gid, &Intent::Meta(MetaChange::Description("bob's words".into())), now())
        .unwrap()
        .unwrap();
    // Carol sees Bob's first, the others see each other's.
    let mut resent = Vec::new();
    resent.extend(apply(&carol, &gid, &b.commit));
    resent.extend(apply(&carol, &gid, &a.commit));
    resent.extend(apply(&alice, &gid, &b.commit));
    resent.extend(apply(&bob, &gid, &a.commit));
    // Exactly one of the two lost and was re-proposed on the winner's state.
    assert_eq!(resent.len(), 1, "one re-proposal");
    for d in [&alice, &bob, &carol] {
        // Everyone applies the re-proposal (its author already has).
        let _ = d.mls.receive(&d.db, &resent[0], now());
    }
    let (ea, na, da, ma) = state(&alice, &gid);
    assert_eq!(ea, epoch + 2, "both changes, one after the other");
    assert_eq!((na.as_str(), da.as_str()), ("alice's name", "bob's words"));
    assert_eq!(state(&bob, &gid), (ea, na.clone(), da.clone(), ma.clone()));
    assert_eq!(state(&carol, &gid), (ea, na, da, ma));
    // And they can talk in the converged epoch.
    let msg = carol.mls.encrypt(&gid, b"converged").unwrap();
    assert_eq!(alice.text(&msg).0, "converged");
    assert_eq!(bob.text(&msg).0, "converged");
}

#[test]
fn concurrent_key_refreshes_in_a_one_to_one_conversation_converge() {
    let dir = tempfile::tempdir().unwrap();
    let alice = Dev::new(dir.path(), "alice");
    let bob = Dev::new(dir.path(), "bob");
    let started = alice.mls.start(&bob.mls.key_package(false).unwrap(), now()).unwrap();
    let gid = started.group_id.clone();
    bob.mls.join(&started.welcome, now()).unwrap();
    let a = alice.mls.commit(&alice.db, &gid, &Intent::Update, now()).unwrap().unwrap();
    let b = bob.mls.commit(&bob.db, &gid, &Intent::Update, now()).unwrap().unwrap();
    let mut again = apply(&alice, &gid, &b.commit);
    again.extend(apply(&bob, &gid, &a.commit));
    assert_eq!(again.len(), 1, "the loser refreshes again on the winner's state");
    for d in [&alice, &bob] {
        let _ = d.mls.receive(&d.db, &again[0], now());
    }
    let ea = alice.mls.epoch(&gid).unwrap();
    assert_eq!(ea, bob.mls.epoch(&gid).unwrap());
    let msg = alice.mls.encrypt(&gid, b"taze").unwrap();
    assert_eq!(bob.text(&msg).0, "taze");
    let msg = bob.mls.encrypt(&gid, b"anahtar").unwrap();
    assert_eq!(alice.text(&msg).0, "anahtar");
}

#[test]
fn an_invitee_added_by_a_losing_commit_joins_again_from_the_re_proposed_add() {
    // Ranks are random per epoch: repeat until Alice's add is the commit
    // that loses (about every other try).
    for attempt in 0..40 {
        let dir = tempfile::tempdir().unwrap();
        let alice = Dev::new(dir.path(), "alice");
        let bob = Dev::new(dir.path(), "bob");
        let carol = Dev::new(dir.path(), "carol");
        let gid = alice.mls.create_group(&meta("team", &alice)).unwrap();
        add(&gid, &alice, &bob, &[]);
        commit_all(
            &gid,
            &alice,
            Intent::Meta(MetaChange::Admin(account(&bob), true)),
            &[&bob],
            None,
        );
        let kp = carol.mls.key_package(true).unwrap();
        let add_carol = Intent::Add { key_package: kp, invitation_id: [9; 16] };
        let a = alice.mls.commit(&alice.db, &gid, &add_carol, now()).unwrap().unwrap();
        let b = bob
            .mls
            .commit(&bob.db, &gid, &Intent::Meta(MetaChange::Name("bob's".into())), now())
            .unwrap()
            .unwrap();
        carol.mls.join_group(&carol.db, a.welcome.as_ref().unwrap(), &gid, now()).unwrap();
        // Alice learns of Bob's commit.
        let again = match alice.mls.receive(&alice.db, &b.commit, now()).unwrap() {
            Incoming::Commit { rollback: Some(rb), .. } => rb
                .intents
                .iter()
                .filter_map(|i| alice.mls.commit(&alice.db, &gid, i, now()).unwrap())
                .collect::<Vec<_>>(),
            _ => {
                let _ = attempt;
                continue; // Alice won this time.
            }
        };
        assert_eq!(again.len(), 1);
        let re = &again[0];
        assert!(matches!(bob.mls.receive(&bob.db, &a.commit, now()), Ok(Incoming::Duplicate)));
        assert!(matches!(bob.mls.receive(&bob.db, &re.commit, now()), Ok(Incoming::Commit { .. })));
        // Carol's first state (from the losing branch) is replaced.
        carol.mls.join_group(&carol.db, re.welcome.as_ref().unwrap(), &gid, now()).unwrap();
        for d in [&bob, &carol] {
            assert_eq!(state(d, &gid), state(&alice, &gid));
        }
        assert_eq!(state(&carol, &gid).1, "bob's");
        let msg = carol.mls.encrypt(&gid, b"ikinci kez").unwrap();
        assert_eq!(alice.text(&msg).0, "ikinci kez");
        assert_eq!(bob.text(&msg).0, "ikinci kez");
        return;
    }
    panic!("Alice's add never lost in 40 tries");
}

#[test]
fn a_leave_that_crosses_a_commit_is_still_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let (alice, bob, carol, gid) = three(dir.path());
    // Carol leaves in epoch e; Alice commits a rename in e before the
    // proposal reaches her.
    let (proposal, _) = carol.mls.leave(&carol.db, &gid, now()).unwrap();
    let c = alice
        .mls
        .commit(&alice.db, &gid, &Intent::Meta(MetaChange::Name("moved on".into())), now())
        .unwrap()
        .unwrap();
    assert!(matches!(bob.mls.receive(&bob.db, &c.commit, now()), Ok(Incoming::Commit { .. })));
    let before = state(&alice, &gid);
    match alice.mls.receive(&alice.db, &proposal, now()).unwrap() {
        Incoming::Leave { device, .. } => assert_eq!(device.digest(), carol.cert.digest()),
        other => panic!("expected a leave, got {other:?}"),
    }
    assert_eq!(state(&alice, &gid), before, "checking it against the snapshot changed nothing");
    // The admin removes the leaver; the group goes on without her.
    let devices = vec![carol.cert.peer_id().to_string()];
    commit_all(&gid, &alice, Intent::RemoveDevices { devices }, &[&bob], None);
    assert_eq!(state(&bob, &gid).3, vec![account(&alice), account(&bob)]);
    // A forged "proposal" from an old epoch is refused.
    let mut forged = proposal.clone();
    let n = forged.len();
    forged[n - 3] ^= 1;
    assert!(alice.mls.receive(&alice.db, &forged, now()).is_err());
}
