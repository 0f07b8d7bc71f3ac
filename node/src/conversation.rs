//! MLS conversations (SPEC.md §2.5): every conversation, 1:1 included, is an
//! MLS group whose state lives in the node database.
//!
//! - Every leaf that enters a group is validated: the KeyPackage a
//!   conversation starts from, and every member of a Welcome, must carry a
//!   device certificate that certifies its signature key
//!   ([`kovan_crypto::mls::validate_member`]).
//! - The sender of a message is the MLS-authenticated leaf (its certificate),
//!   never a name inside the plaintext.
//! - A message is deduplicated by the SHA-256 of the MLS message *before*
//!   decryption: the same message arriving twice is dropped quietly.
//! - Groups keep [`PAST_EPOCHS`] past epochs' keys, so a message sent just
//!   before a commit still decrypts after it.

use kovan_crypto::identity::DeviceCertificate;
use kovan_crypto::mls::{
    CIPHERSUITE, LastResort, MlsSigner, check_key_package, credential_with_key, validate_member,
};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::*;
use openmls_traits::OpenMlsProvider;
use sha2::{Digest, Sha256};

use crate::groups::{
    self, CommitSummary, EpochRecord, Intent, Order, check_commit, leaf_capabilities, meta_of,
};
use crate::store::{Database, MlsProvider};
use kovan_spec::ValidatedGroupMeta;

/// A KeyPackage (an encoded MLSMessage) checked: its signature and
/// ciphersuite, kovan's rules (SPEC.md §2.6), and a credential whose
/// certificate certifies its key; with the device it belongs to.
pub(crate) fn validated_key_package(
    crypto: &impl openmls_traits::crypto::OpenMlsCrypto,
    key_package: &[u8],
    now: u64,
    last_resort: LastResort,
) -> Result<(KeyPackage, DeviceCertificate)> {
    let msg = MlsMessageIn::tls_deserialize_exact(key_package)
        .map_err(|e| ConversationError::Malformed(e.to_string()))?;
    let MlsMessageBodyIn::KeyPackage(kp) = msg.extract() else {
        return Err(ConversationError::Malformed("not a KeyPackage".into()));
    };
    let kp = kp.validate(crypto, ProtocolVersion::Mls10).map_err(mls_err)?;
    check_key_package(&kp, last_resort).map_err(|e| ConversationError::Untrusted(e.to_string()))?;
    let leaf = kp.leaf_node();
    let peer = validate_member(leaf.credential(), leaf.signature_key().as_slice(), now)
        .map_err(|e| ConversationError::Untrusted(e.to_string()))?;
    Ok((kp, peer))
}

/// Past epochs whose keys are kept for late messages. Forward secrecy wants
/// few; reordering around commits wants some. Three covers a commit racing
/// a burst of messages without keeping old keys for long.
pub const PAST_EPOCHS: usize = 3;
/// Messages of one sender that may arrive out of order within an epoch.
pub const OUT_OF_ORDER_TOLERANCE: u32 = 64;
/// How far ahead of the last seen message a sender's generation may jump.
pub const MAX_FORWARD_DISTANCE: u32 = 1000;

/// The lengths a 1:1 conversation's group id may have (SPEC.md §7.4.2):
/// random bytes, 16 as openmls makes them, up to 32 as other
/// implementations (a hash's length) do.
pub const ONE_TO_ONE_GROUP_ID: std::ops::RangeInclusive<usize> = 16..=32;

/// Why an MLS operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConversationError {
    /// The bytes are not the expected MLS message.
    #[error("malformed MLS message: {0}")]
    Malformed(String),
    /// A member's credential failed validation.
    #[error("untrusted member: {0}")]
    Untrusted(String),
    /// No such conversation on this device.
    #[error("unknown conversation")]
    UnknownGroup,
    /// openmls refused (wrong epoch, bad signature, …).
    #[error("MLS: {0}")]
    Mls(String),
    /// Local storage failed.
    #[error("storage: {0}")]
    Storage(String),
    /// Not allowed by the group's rules (rights, bans, a deleted group).
    #[error("refused: {0}")]
    Refused(String),
    /// A competing commit that lost (SPEC.md §7.6.3): dropped quietly.
    #[error("a losing commit")]
    Lost,
}

impl From<crate::Error> for ConversationError {
    fn from(e: crate::Error) -> Self {
        ConversationError::Storage(e.to_string())
    }
}

type Result<T, E = ConversationError> = std::result::Result<T, E>;

fn mls_err(e: impl std::fmt::Display) -> ConversationError {
    ConversationError::Mls(e.to_string())
}

/// A new 1:1 conversation: send `welcome` to the peer.
#[derive(Debug)]
pub struct Started {
    /// The MLS group id.
    pub group_id: Vec<u8>,
    /// The Welcome (an encoded MLSMessage) for the peer.
    pub welcome: Vec<u8>,
    /// The peer's device certificate, from its KeyPackage.
    pub peer: DeviceCertificate,
}

/// A conversation joined from a Welcome.
#[derive(Debug)]
pub struct Joined {
    /// The MLS group id.
    pub group_id: Vec<u8>,
    /// Every member's certificate (this device included).
    pub members: Vec<DeviceCertificate>,
}

/// A rollback that a winning commit caused (SPEC.md §7.6.3).
#[derive(Debug, Clone)]
pub struct Rollback {
    /// The epoch the group went back to before applying the winner.
    pub to_epoch: u64,
    /// Our own commits that were undone, oldest first: re-proposed.
    pub intents: Vec<Intent>,
}

/// Our own commit, ready to send.
#[derive(Debug)]
pub struct Committed {
    /// The commit (an MLSMessage) for every earlier member.
    pub commit: Vec<u8>,
    /// The Welcome for added devices.
    pub welcome: Option<Vec<u8>>,
    /// Members before the commit, this device left out: they get the commit.
    pub recipients: Vec<DeviceCertificate>,
    /// What changed.
    pub summary: CommitSummary,
    /// The new epoch.
    pub epoch: u64,
}

/// A group as its MLS state has it.
#[derive(Debug, Clone)]
pub struct GroupState {
    /// Meta (None for a 1:1 conversation).
    pub meta: Option<ValidatedGroupMeta>,
    /// Members in leaf order.
    pub members: Vec<DeviceCertificate>,
    /// The epoch.
    pub epoch: u64,
    /// Still a member (false once removed).
    pub active: bool,
}

/// What an incoming MLS message was.
#[derive(Debug)]
#[non_exhaustive]
pub enum Incoming {
    /// An application message.
    Application {
        /// The group.
        group_id: Vec<u8>,
        /// The authenticated sender.
        sender: Box<DeviceCertificate>,
        /// The plaintext (an `AppEnvelope`).
        plaintext: Vec<u8>,
        /// The epoch it was sent in (authenticated by MLS).
        epoch: u64,
    },
    /// A commit that was applied.
    Commit {
        /// The group.
        group_id: Vec<u8>,
        /// The new epoch.
        epoch: u64,
        /// What changed.
        summary: Box<CommitSummary>,
        /// Set when this commit won over one applied before.
        rollback: Option<Rollback>,
    },
    /// A member proposed to leave (its own removal).
    Leave {
        /// The group.
        group_id: Vec<u8>,
        /// The leaving device.
        device: Box<DeviceCertificate>,
    },
    /// For an epoch this device has not reached, or not yet settled:
    /// park it and try again after the next commit (SPEC.md §7.6.5).
    Park {
        /// The group.
        group_id: Vec<u8>,
        /// The message's epoch.
        epoch: u64,
    },
    /// Already processed: ignore.
    Duplicate,
}

/// Whether a message for the current epoch failed the way a message of a
/// competing commit's branch fails: a PrivateMessage that does not decrypt,
/// or a PublicMessage whose membership tag (keyed by the epoch) does not
/// verify.
fn other_branch<E>(private: bool, e: &ProcessMessageError<E>) -> bool {
    match e {
        ProcessMessageError::ValidationError(ValidationError::UnableToDecrypt(_)) => private,
        ProcessMessageError::ValidationError(ValidationError::InvalidMembershipTag) => !private,
        _ => false,
    }
}

/// This device's MLS state.
pub struct Conversations {
    provider: MlsProvider,
    signer: MlsSigner,
    cert: DeviceCertificate,
}

impl std::fmt::Debug for Conversations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conversations").field("device", &self.cert.peer_id()).finish()
    }
}

/// Wire formats (SPEC.md §2.5): this device sends every message as a
/// PrivateMessage, and takes commits and proposals in either form, since
/// RFC 9420 allows both and other implementations send PublicMessage
/// handshakes by default. (Application messages are PrivateMessage only:
/// openmls refuses the other form whatever the policy.)
const WIRE_FORMATS: WireFormatPolicy = MIXED_CIPHERTEXT_WIRE_FORMAT_POLICY;

/// The configuration of every group this device creates; `extensions` go
/// into the group context (a group's meta; none for 1:1).
pub(crate) fn create_config(extensions: Option<Extensions<GroupContext>>) -> MlsGroupCreateConfig {
    let b = MlsGroupCreateConfig::builder()
        .ciphersuite(CIPHERSUITE)
        .capabilities(leaf_capabilities())
        .use_ratchet_tree_extension(true)
        .wire_format_policy(WIRE_FORMATS)
        .max_past_epochs(PAST_EPOCHS)
        .sender_ratchet_configuration(SenderRatchetConfiguration::new(
            OUT_OF_ORDER_TOLERANCE,
            MAX_FORWARD_DISTANCE,
        ));
    match extensions {
        Some(e) => b.with_group_context_extensions(e).build(),
        None => b.build(),
    }
}

pub(crate) fn join_config() -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .use_ratchet_tree_extension(true)
        .wire_format_policy(WIRE_FORMATS)
        .max_past_epochs(PAST_EPOCHS)
        .sender_ratchet_configuration(SenderRatchetConfiguration::new(
            OUT_OF_ORDER_TOLERANCE,
            MAX_FORWARD_DISTANCE,
        ))
        .build()
}

impl Conversations {
    /// Opens this device's MLS state in `db`.
    pub fn new(db: &Database, signer: MlsSigner, cert: DeviceCertificate) -> crate::Result<Self> {
        Ok(Self { provider: db.mls_provider()?, signer, cert })
    }

    /// A fresh KeyPackage (an encoded MLSMessage) for the relay or a friend
    /// request.
    pub fn key_package(&self, last_resort: bool) -> Result<Vec<u8>> {
        // The leaf declares the extensions kovan uses: last resort, and the
        // group meta (so the device can be added to a group).
        let mut b = KeyPackage::builder().leaf_node_capabilities(leaf_capabilities());
        if last_resort {
            b = b.mark_as_last_resort();
        }
        let bundle = b
            .build(CIPHERSUITE, &self.provider, &self.signer, credential_with_key(&self.cert))
            .map_err(mls_err)?;
        MlsMessageOut::from(bundle.key_package().clone()).tls_serialize_detached().map_err(mls_err)
    }

    fn load(&self, group_id: &[u8]) -> Result<MlsGroup> {
        MlsGroup::load(self.provider.storage(), &GroupId::from_slice(group_id))
            .map_err(|e| ConversationError::Storage(e.to_string()))?
            .ok_or(ConversationError::UnknownGroup)
    }

    /// Loads a group to process an incoming message: a group stored with
    /// an older wire-format policy (ciphertext handshakes only) is moved to
    /// [`WIRE_FORMATS`] first.
    fn load_receiving(&self, group_id: &[u8]) -> Result<MlsGroup> {
        let mut group = self.load(group_id)?;
        if group.configuration().wire_format_policy() != WIRE_FORMATS {
            group
                .set_configuration(self.provider.storage(), &join_config())
                .map_err(|e| ConversationError::Storage(e.to_string()))?;
        }
        Ok(group)
    }

    fn validated_key_package(
        &self,
        key_package: &[u8],
        now: u64,
        last_resort: LastResort,
    ) -> Result<(KeyPackage, DeviceCertificate)> {
        validated_key_package(self.provider.crypto(), key_package, now, last_resort)
    }

    /// Checks a KeyPackage (signature, ciphersuite, and a credential whose
    /// certificate certifies its key) and returns the device it belongs to.
    pub fn inspect_key_package(&self, key_package: &[u8], now: u64) -> Result<DeviceCertificate> {
        Ok(self.validated_key_package(key_package, now, LastResort::Either)?.1)
    }

    /// [`Self::inspect_key_package`] for an invitation's acceptance, whose
    /// KeyPackage must be a last-resort one (SPEC.md §7.6.2).
    pub fn inspect_last_resort_key_package(
        &self,
        key_package: &[u8],
        now: u64,
    ) -> Result<DeviceCertificate> {
        Ok(self.validated_key_package(key_package, now, LastResort::Required)?.1)
    }

    /// Starts a 1:1 conversation with the device whose KeyPackage this is.
    pub fn start(&self, key_package: &[u8], now: u64) -> Result<Started> {
        let (kp, peer) = self.validated_key_package(key_package, now, LastResort::Either)?;
        let mut group = MlsGroup::new(
            &self.provider,
            &self.signer,
            &create_config(None),
            credential_with_key(&self.cert),
        )
        .map_err(mls_err)?;
        let (_commit, welcome, _info) =
            group.add_members(&self.provider, &self.signer, &[kp]).map_err(mls_err)?;
        group.merge_pending_commit(&self.provider).map_err(mls_err)?;
        Ok(Started {
            group_id: group.group_id().as_slice().to_vec(),
            welcome: welcome.tls_serialize_detached().map_err(mls_err)?,
            peer,
        })
    }

    /// Joins a conversation from a Welcome, after validating every member.
    pub fn join(&self, welcome: &[u8], now: u64) -> Result<Joined> {
        let msg = MlsMessageIn::tls_deserialize_exact(welcome)
            .map_err(|e| ConversationError::Malformed(e.to_string()))?;
        let MlsMessageBodyIn::Welcome(w) = msg.extract() else {
            return Err(ConversationError::Malformed("not a Welcome".into()));
        };
        let staged = StagedWelcome::new_from_welcome(&self.provider, &join_config(), w, None)
            .map_err(mls_err)?;
        if meta_of(staged.group_context().extensions())?.is_some() {
            return Err(ConversationError::Refused("a 1:1 Welcome carries a group meta".into()));
        }
        if !ONE_TO_ONE_GROUP_ID.contains(&staged.group_context().group_id().as_slice().len()) {
            return Err(ConversationError::Refused("a 1:1 group id of another length".into()));
        }
        let members = staged
            .members()
            .map(|m| validate_member(&m.credential, &m.signature_key, now))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ConversationError::Untrusted(e.to_string()))?;
        let group = staged.into_group(&self.provider).map_err(mls_err)?;
        Ok(Joined { group_id: group.group_id().as_slice().to_vec(), members })
    }

    /// Encrypts an application message for a conversation.
    pub fn encrypt(&self, group_id: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        Ok(self.encrypt_at(group_id, plaintext)?.0)
    }

    /// Encrypts, and says in which epoch.
    pub fn encrypt_at(&self, group_id: &[u8], plaintext: &[u8]) -> Result<(Vec<u8>, u64)> {
        let mut group = self.load(group_id)?;
        let out = group.create_message(&self.provider, &self.signer, plaintext).map_err(mls_err)?;
        Ok((out.tls_serialize_detached().map_err(mls_err)?, group.epoch().as_u64()))
    }

    /// The current epoch of a conversation.
    pub fn epoch(&self, group_id: &[u8]) -> Result<u64> {
        Ok(self.load(group_id)?.epoch().as_u64())
    }

    /// The current epoch, the distinct member accounts in increasing order,
    /// and the MLS exporter value for `label` with the context `context`
    /// makes of those two (SPEC.md §6.4.1).
    pub fn export_for_members(
        &self,
        group_id: &[u8],
        now: u64,
        label: &str,
        context: impl FnOnce(u64, &[[u8; 32]]) -> [u8; 32],
    ) -> Result<(u64, Vec<[u8; 32]>, [u8; 32])> {
        let group = self.load(group_id)?;
        let epoch = group.epoch().as_u64();
        let mut accounts: Vec<[u8; 32]> =
            groups::members(&group, now).iter().map(|(_, c)| *c.account().as_bytes()).collect();
        accounts.sort_unstable();
        accounts.dedup();
        let ctx = context(epoch, &accounts);
        let value = group
            .export_secret(self.provider.crypto(), label, &ctx, 32)
            .map_err(mls_err)?
            .try_into()
            .map_err(|_| ConversationError::Mls("the exporter gave a short value".into()))?;
        Ok((epoch, accounts, value))
    }

    /// Processes an incoming MLS message. Duplicates are recognised by
    /// digest before any decryption and reported as [`Incoming::Duplicate`].
    pub fn receive(&self, db: &Database, bytes: &[u8], now: u64) -> Result<Incoming> {
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        if !db.mark_mls_seen(&digest, now).map_err(|e| ConversationError::Storage(e.to_string()))? {
            return Ok(Incoming::Duplicate);
        }
        let result = self.process(db, bytes, &digest, now);
        if matches!(result, Err(_) | Ok(Incoming::Park { .. })) {
            // Not processed: a later copy (e.g. after a missing commit
            // arrives) may succeed.
            let _ = db.unmark_mls_seen(&digest);
        }
        result
    }

    fn process(
        &self,
        db: &Database,
        bytes: &[u8],
        digest: &[u8; 32],
        now: u64,
    ) -> Result<Incoming> {
        let msg = MlsMessageIn::tls_deserialize_exact(bytes)
            .map_err(|e| ConversationError::Malformed(e.to_string()))?;
        let pm = msg
            .try_into_protocol_message()
            .map_err(|e| ConversationError::Malformed(e.to_string()))?;
        let group_id = pm.group_id().as_slice().to_vec();
        let msg_epoch = pm.epoch().as_u64();
        let is_commit = pm.content_type() == ContentType::Commit;
        let private = pm.wire_format() == WireFormat::PrivateMessage;
        let mut group = self.load_receiving(&group_id)?;
        let current = group.epoch().as_u64();
        if !group.is_active() {
            return Err(ConversationError::Refused("not a member of this group any more".into()));
        }
        if msg_epoch > current {
            return Ok(Incoming::Park { group_id, epoch: msg_epoch });
        }
        if is_commit && msg_epoch < current {
            return self.compete(db, pm, &group_id, msg_epoch, digest, now);
        }
        if pm.content_type() == ContentType::Proposal && msg_epoch < current {
            return self.late_leave(db, pm, &group_id, msg_epoch, now);
        }
        let order = Order::new(db);
        if is_commit {
            order.snapshot(&group)?;
        }
        let processed = match group.process_message(&self.provider, pm) {
            Ok(p) => p,
            Err(e) => {
                // Right after a commit, a message for this epoch that cannot
                // be authenticated with this epoch's keys may belong to a
                // competing commit's branch that has not arrived yet: keep
                // it until the epoch settles (SPEC.md §7.6.3). Any other
                // failure (a wire format, a signature, a malformed
                // proposal) is refused at once: parking it would stall its
                // sender's later messages behind it with no error.
                if msg_epoch == current
                    && other_branch(private, &e)
                    && current > 0
                    && order.applied(&group_id, current - 1)?.is_some()
                {
                    return Ok(Incoming::Park { group_id, epoch: msg_epoch });
                }
                return Err(mls_err(e));
            }
        };
        let sender_leaf = match processed.sender() {
            Sender::Member(i) => Some(*i),
            _ => None,
        };
        let sender_cert = |group: &MlsGroup| -> Result<DeviceCertificate> {
            let leaf = sender_leaf
                .ok_or_else(|| ConversationError::Untrusted("sender is not a member".into()))?;
            groups::member_cert(group, leaf, now)
        };
        let epoch = processed.epoch().as_u64();
        match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(m) => {
                let sender = sender_cert(&group)?;
                Ok(Incoming::Application {
                    group_id,
                    sender: Box::new(sender),
                    plaintext: m.into_bytes(),
                    epoch,
                })
            }
            ProcessedMessageContent::StagedCommitMessage(staged) => {
                let committer = sender_leaf
                    .ok_or_else(|| ConversationError::Untrusted("sender is not a member".into()))?;
                let summary = check_commit(&group, &staged, committer, now)?;
                let rank = groups::rank(&group, self.provider.crypto(), committer)?;
                group.merge_staged_commit(&self.provider, *staged).map_err(mls_err)?;
                order.record(
                    &group_id,
                    &EpochRecord { epoch: current, rank, digest: *digest, intent: None },
                )?;
                let epoch = group.epoch().as_u64();
                order.prune(&group_id, epoch)?;
                Ok(Incoming::Commit { group_id, epoch, summary: Box::new(summary), rollback: None })
            }
            ProcessedMessageContent::ProposalMessage(p) => {
                // kovan members propose one thing: their own removal
                // (leaving). Everything else comes inside a commit.
                let leaf = sender_leaf
                    .ok_or_else(|| ConversationError::Untrusted("sender is not a member".into()))?;
                match p.proposal() {
                    Proposal::Remove(r) if r.removed() == leaf => {
                        let device = sender_cert(&group)?;
                        Ok(Incoming::Leave { group_id, device: Box::new(device) })
                    }
                    _ => Err(ConversationError::Refused("only leaving is proposed alone".into())),
                }
            }
            ProcessedMessageContent::ExternalJoinProposalMessage(_) => {
                Err(ConversationError::Untrusted("external joins are not allowed".into()))
            }
            // Our own messages echoed back (e.g. by a relay): nothing to do.
            _ => Ok(Incoming::Duplicate),
        }
    }

    /// A commit for an epoch this device already left behind: it competes
    /// with the commit applied there (SPEC.md §7.6.3). If it ranks lower it
    /// wins: the group goes back to its snapshot of that epoch and applies
    /// it; otherwise it is dropped.
    fn compete(
        &self,
        db: &Database,
        pm: ProtocolMessage,
        group_id: &[u8],
        epoch: u64,
        digest: &[u8; 32],
        now: u64,
    ) -> Result<Incoming> {
        let order = Order::new(db);
        let Some(applied) = order.applied(group_id, epoch)? else { return Ok(Incoming::Duplicate) };
        if !order.has_snapshot(group_id, epoch)? {
            return Ok(Incoming::Duplicate);
        }
        let gid = GroupId::from_slice(group_id);
        let outcome = db.tx().savepoint(|| -> Result<Incoming> {
            order.restore(&gid, epoch)?;
            let mut group = self.load_receiving(group_id)?;
            let processed =
                group.process_message(&self.provider, pm).map_err(|_| ConversationError::Lost)?;
            let Sender::Member(committer) = *processed.sender() else {
                return Err(ConversationError::Lost);
            };
            let ProcessedMessageContent::StagedCommitMessage(staged) = processed.into_content()
            else {
                return Err(ConversationError::Lost);
            };
            let rank = groups::rank(&group, self.provider.crypto(), committer)?;
            if (rank, *digest) >= (applied.rank, applied.digest) {
                return Err(ConversationError::Lost);
            }
            let summary = check_commit(&group, &staged, committer, now)?;
            let intents = order.truncate(group_id, epoch)?;
            group.merge_staged_commit(&self.provider, *staged).map_err(mls_err)?;
            order.record(group_id, &EpochRecord { epoch, rank, digest: *digest, intent: None })?;
            Ok(Incoming::Commit {
                group_id: group_id.to_vec(),
                epoch: group.epoch().as_u64(),
                summary: Box::new(summary),
                rollback: Some(Rollback { to_epoch: epoch, intents }),
            })
        });
        match outcome {
            Err(ConversationError::Lost) => {
                tracing::debug!(epoch, "a competing commit lost");
                Ok(Incoming::Duplicate)
            }
            other => other,
        }
    }

    /// A proposal made in an epoch this device already left behind: only
    /// a member leaving can be one. It is checked against the snapshot of
    /// its epoch (inside a savepoint that is always rolled back), so a
    /// leave that crossed a commit still gets the leaver removed.
    fn late_leave(
        &self,
        db: &Database,
        pm: ProtocolMessage,
        group_id: &[u8],
        epoch: u64,
        now: u64,
    ) -> Result<Incoming> {
        let order = Order::new(db);
        if !order.has_snapshot(group_id, epoch)? {
            return Err(ConversationError::Refused("a proposal for an epoch long gone".into()));
        }
        let gid = GroupId::from_slice(group_id);
        let mut found = None;
        let _ = db.tx().savepoint(|| -> Result<()> {
            order.restore(&gid, epoch)?;
            let mut group = self.load_receiving(group_id)?;
            let processed = group.process_message(&self.provider, pm).map_err(mls_err)?;
            if let (Sender::Member(leaf), ProcessedMessageContent::ProposalMessage(p)) =
                (processed.sender().clone(), processed.into_content())
                && let Proposal::Remove(r) = p.proposal()
                && r.removed() == leaf
            {
                found = Some(groups::member_cert(&group, leaf, now)?);
            }
            // Always undone: the snapshot only served to check it.
            Err(ConversationError::Lost)
        });
        match found {
            Some(device) => {
                Ok(Incoming::Leave { group_id: group_id.to_vec(), device: Box::new(device) })
            }
            None => Err(ConversationError::Refused("only leaving is proposed alone".into())),
        }
    }

    // -----------------------------------------------------------------
    // Groups (SPEC.md §7.6)
    // -----------------------------------------------------------------

    /// Creates a group with `meta` (this device alone in it).
    pub fn create_group(&self, meta: &ValidatedGroupMeta) -> Result<Vec<u8>> {
        let config = create_config(Some(groups::meta_extensions(meta)?));
        let group =
            MlsGroup::new(&self.provider, &self.signer, &config, credential_with_key(&self.cert))
                .map_err(mls_err)?;
        Ok(group.group_id().as_slice().to_vec())
    }

    /// A group's meta, members and epoch, from its MLS state.
    pub fn group_state(&self, group_id: &[u8], now: u64) -> Result<GroupState> {
        let group = self.load(group_id)?;
        Ok(GroupState {
            meta: meta_of(group.extensions())?,
            members: groups::members(&group, now).into_iter().map(|(_, c)| c).collect(),
            epoch: group.epoch().as_u64(),
            active: group.is_active(),
        })
    }

    /// Commits `intent` (checked against this device's rights in the
    /// current state); `None` if there is nothing left to do (e.g. a
    /// re-proposed removal of someone already gone).
    pub fn commit(
        &self,
        db: &Database,
        group_id: &[u8],
        intent: &Intent,
        now: u64,
    ) -> Result<Option<Committed>> {
        let mut group = self.load(group_id)?;
        if !group.is_active() {
            return Err(ConversationError::Refused("you are not a member of this group".into()));
        }
        if *intent == Intent::Update {
            return self.self_update(db, &mut group, now).map(Some);
        }
        let meta = meta_of(group.extensions())?
            .ok_or_else(|| ConversationError::Refused("not a group".into()))?;
        if meta.dissolved {
            return Err(ConversationError::Refused("the group was deleted".into()));
        }
        let me = *self.cert.account().as_bytes();
        let admin = meta.is_admin(&me);
        let members = groups::members(&group, now);
        let own = group.own_leaf_index();
        let mut new_meta = meta.clone();
        let mut adds = Vec::new();
        let mut added = Vec::new();
        let mut removes = Vec::new();
        let not_admin = || ConversationError::Refused("only admins may do that".into());
        match intent {
            Intent::Add { key_package, .. } => {
                if !(admin || meta.members_invite) {
                    return Err(ConversationError::Refused(
                        "only admins may invite to this group".into(),
                    ));
                }
                let (kp, cert) =
                    self.validated_key_package(key_package, now, LastResort::Either)?;
                if meta.is_banned(cert.account().as_bytes()) {
                    return Err(ConversationError::Refused("this account is banned".into()));
                }
                if members.iter().any(|(_, c)| c.digest() == cert.digest()) {
                    return Ok(None);
                }
                adds.push(kp);
                added.push(cert);
            }
            Intent::Remove { accounts, ban } => {
                if !admin {
                    return Err(not_admin());
                }
                if accounts.contains(&me) {
                    return Err(ConversationError::Refused("leave the group instead".into()));
                }
                removes = members
                    .iter()
                    .filter(|(_, c)| accounts.contains(c.account().as_bytes()))
                    .map(|(i, _)| *i)
                    .collect();
                if *ban {
                    for a in accounts {
                        if !new_meta.banned.contains(a) {
                            new_meta.banned.push(*a);
                        }
                        new_meta.admins.retain(|x| x != a);
                    }
                }
            }
            Intent::RemoveDevices { devices } => {
                if !admin {
                    return Err(not_admin());
                }
                removes = members
                    .iter()
                    .filter(|(i, c)| *i != own && devices.contains(&c.peer_id().to_string()))
                    .map(|(i, _)| *i)
                    .collect();
            }
            Intent::Meta(change) => {
                if !admin {
                    return Err(not_admin());
                }
                change.apply(&mut new_meta)?;
            }
            Intent::Update => {}
        }
        if adds.is_empty() && removes.is_empty() && new_meta == meta {
            return Ok(None);
        }
        let order = Order::new(db);
        order.snapshot(&group)?;
        let epoch_before = group.epoch().as_u64();
        let rank = groups::rank(&group, self.provider.crypto(), own)?;
        let mut summary = CommitSummary {
            committer: Some(self.cert.clone()),
            added,
            meta_before: Some(meta.clone()),
            meta_after: Some(new_meta.clone()),
            ..Default::default()
        };
        for (i, c) in &members {
            if removes.contains(i) {
                summary.removed.push(c.clone());
            }
        }
        let mut builder =
            group.commit_builder().consume_proposal_store(false).propose_removals(removes);
        if !adds.is_empty() {
            builder = builder.propose_adds(adds);
        }
        if new_meta != meta {
            builder = builder
                .propose_group_context_extensions(groups::meta_extensions(&new_meta)?)
                .map_err(mls_err)?;
        }
        let bundle = builder
            .load_psks(self.provider.storage())
            .map_err(mls_err)?
            .build(self.provider.rand(), self.provider.crypto(), &self.signer, |_| true)
            .map_err(mls_err)?
            .stage_commit(&self.provider)
            .map_err(mls_err)?;
        let (commit, welcome, _info) = bundle.into_messages();
        group.merge_pending_commit(&self.provider).map_err(mls_err)?;
        let commit = commit.tls_serialize_detached().map_err(mls_err)?;
        let welcome = welcome.map(|w| w.tls_serialize_detached()).transpose().map_err(mls_err)?;
        let digest: [u8; 32] = Sha256::digest(&commit).into();
        order.record(
            group_id,
            &EpochRecord { epoch: epoch_before, rank, digest, intent: Some(intent.clone()) },
        )?;
        let epoch = group.epoch().as_u64();
        order.prune(group_id, epoch)?;
        Ok(Some(Committed {
            commit,
            welcome,
            recipients: members.into_iter().filter(|(i, _)| *i != own).map(|(_, c)| c).collect(),
            summary,
            epoch,
        }))
    }

    /// Updates this device's leaf with fresh keys (a commit giving
    /// post-compromise security), ordered like any commit (§7.6.3).
    fn self_update(&self, db: &Database, group: &mut MlsGroup, now: u64) -> Result<Committed> {
        if meta_of(group.extensions())?.is_some_and(|m| m.dissolved) {
            return Err(ConversationError::Refused("the group was deleted".into()));
        }
        let group_id = group.group_id().as_slice().to_vec();
        let order = Order::new(db);
        order.snapshot(group)?;
        let epoch_before = group.epoch().as_u64();
        let own = group.own_leaf_index();
        let rank = groups::rank(group, self.provider.crypto(), own)?;
        let members = groups::members(group, now);
        let meta = meta_of(group.extensions())?;
        let bundle = group
            .self_update(&self.provider, &self.signer, LeafNodeParameters::default())
            .map_err(mls_err)?;
        group.merge_pending_commit(&self.provider).map_err(mls_err)?;
        let commit = bundle.into_commit().tls_serialize_detached().map_err(mls_err)?;
        let digest: [u8; 32] = Sha256::digest(&commit).into();
        order.record(
            &group_id,
            &EpochRecord { epoch: epoch_before, rank, digest, intent: Some(Intent::Update) },
        )?;
        let epoch = group.epoch().as_u64();
        order.prune(&group_id, epoch)?;
        Ok(Committed {
            commit,
            welcome: None,
            recipients: members.into_iter().filter(|(i, _)| *i != own).map(|(_, c)| c).collect(),
            summary: CommitSummary {
                committer: Some(self.cert.clone()),
                meta_before: meta.clone(),
                meta_after: meta,
                ..Default::default()
            },
            epoch,
        })
    }

    /// Proposes this device's removal (leaving) and forgets the group's
    /// keys; returns the proposal and the members to send it to.
    pub fn leave(
        &self,
        db: &Database,
        group_id: &[u8],
        now: u64,
    ) -> Result<(Vec<u8>, Vec<DeviceCertificate>)> {
        let mut group = self.load(group_id)?;
        let own = group.own_leaf_index();
        let recipients = groups::members(&group, now)
            .into_iter()
            .filter(|(i, _)| *i != own)
            .map(|(_, c)| c)
            .collect();
        let proposal = group.leave_group(&self.provider, &self.signer).map_err(mls_err)?;
        let proposal = proposal.tls_serialize_detached().map_err(mls_err)?;
        self.forget(db, group_id)?;
        Ok((proposal, recipients))
    }

    /// Deletes a group's MLS state (its keys) and its order bookkeeping.
    pub fn forget(&self, db: &Database, group_id: &[u8]) -> Result<()> {
        if let Ok(mut group) = self.load(group_id) {
            group
                .delete(self.provider.storage())
                .map_err(|e| ConversationError::Storage(e.to_string()))?;
        }
        Order::new(db).forget(group_id)?;
        Ok(())
    }

    /// Joins a group from a Welcome, which must be for `expected` (an
    /// invitation this device accepted). A state left from an earlier
    /// Welcome of the same group (a commit that lost, SPEC.md §7.6.3) is
    /// replaced.
    pub fn join_group(
        &self,
        db: &Database,
        welcome: &[u8],
        expected: &[u8],
        now: u64,
    ) -> Result<Joined> {
        let msg = MlsMessageIn::tls_deserialize_exact(welcome)
            .map_err(|e| ConversationError::Malformed(e.to_string()))?;
        let MlsMessageBodyIn::Welcome(w) = msg.extract() else {
            return Err(ConversationError::Malformed("not a Welcome".into()));
        };
        // A state left from an earlier Welcome of this group goes first
        // (openmls refuses to stage a Welcome for a group it holds); the
        // savepoint brings it back if this Welcome is not taken.
        db.tx().savepoint(|| {
            self.forget(db, expected)?;
            let staged = StagedWelcome::new_from_welcome(&self.provider, &join_config(), w, None)
                .map_err(mls_err)?;
            if staged.group_context().group_id().as_slice() != expected {
                return Err(ConversationError::Refused(
                    "a Welcome for a group not accepted".into(),
                ));
            }
            let meta = meta_of(staged.group_context().extensions())?
                .ok_or_else(|| ConversationError::Refused("a group Welcome without meta".into()))?;
            if meta.is_banned(self.cert.account().as_bytes()) || meta.dissolved {
                return Err(ConversationError::Refused("this group does not take us".into()));
            }
            let members = staged
                .members()
                .map(|m| validate_member(&m.credential, &m.signature_key, now))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ConversationError::Untrusted(e.to_string()))?;
            let group = staged.into_group(&self.provider).map_err(mls_err)?;
            Ok(Joined { group_id: group.group_id().as_slice().to_vec(), members })
        })
    }
}
