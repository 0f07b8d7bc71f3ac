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
use kovan_crypto::mls::{CIPHERSUITE, MlsSigner, credential_with_key, validate_member};
use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::*;
use openmls_traits::OpenMlsProvider;
use sha2::{Digest, Sha256};

use crate::store::{Database, MlsProvider};

/// Past epochs whose keys are kept for late messages. Forward secrecy wants
/// few; reordering around commits wants some. Three covers a commit racing
/// a burst of messages without keeping old keys for long.
pub const PAST_EPOCHS: usize = 3;
/// Messages of one sender that may arrive out of order within an epoch.
pub const OUT_OF_ORDER_TOLERANCE: u32 = 64;
/// How far ahead of the last seen message a sender's generation may jump.
pub const MAX_FORWARD_DISTANCE: u32 = 1000;

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
    },
    /// A commit that was applied.
    Commit {
        /// The group.
        group_id: Vec<u8>,
        /// The new epoch.
        epoch: u64,
    },
    /// A proposal that was stored.
    Proposal {
        /// The group.
        group_id: Vec<u8>,
    },
    /// Already processed: ignore.
    Duplicate,
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

fn create_config() -> MlsGroupCreateConfig {
    MlsGroupCreateConfig::builder()
        .ciphersuite(CIPHERSUITE)
        .use_ratchet_tree_extension(true)
        .max_past_epochs(PAST_EPOCHS)
        .sender_ratchet_configuration(SenderRatchetConfiguration::new(
            OUT_OF_ORDER_TOLERANCE,
            MAX_FORWARD_DISTANCE,
        ))
        .build()
}

fn join_config() -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .use_ratchet_tree_extension(true)
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
        let mut b = KeyPackage::builder();
        if last_resort {
            // The leaf must declare the extension it carries.
            b = b.mark_as_last_resort().leaf_node_capabilities(
                Capabilities::builder().extensions(vec![ExtensionType::LastResort]).build(),
            );
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

    fn validated_key_package(
        &self,
        key_package: &[u8],
        now: u64,
    ) -> Result<(KeyPackage, DeviceCertificate)> {
        let msg = MlsMessageIn::tls_deserialize_exact(key_package)
            .map_err(|e| ConversationError::Malformed(e.to_string()))?;
        let MlsMessageBodyIn::KeyPackage(kp) = msg.extract() else {
            return Err(ConversationError::Malformed("not a KeyPackage".into()));
        };
        let kp = kp.validate(self.provider.crypto(), ProtocolVersion::Mls10).map_err(mls_err)?;
        if kp.ciphersuite() != CIPHERSUITE {
            return Err(ConversationError::Untrusted("KeyPackage uses another ciphersuite".into()));
        }
        let leaf = kp.leaf_node();
        let peer = validate_member(leaf.credential(), leaf.signature_key().as_slice(), now)
            .map_err(|e| ConversationError::Untrusted(e.to_string()))?;
        Ok((kp, peer))
    }

    /// Checks a KeyPackage (signature, ciphersuite, and a credential whose
    /// certificate certifies its key) and returns the device it belongs to.
    pub fn inspect_key_package(&self, key_package: &[u8], now: u64) -> Result<DeviceCertificate> {
        Ok(self.validated_key_package(key_package, now)?.1)
    }

    /// Starts a 1:1 conversation with the device whose KeyPackage this is.
    pub fn start(&self, key_package: &[u8], now: u64) -> Result<Started> {
        let (kp, peer) = self.validated_key_package(key_package, now)?;
        let mut group = MlsGroup::new(
            &self.provider,
            &self.signer,
            &create_config(),
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
        let mut group = self.load(group_id)?;
        let out = group.create_message(&self.provider, &self.signer, plaintext).map_err(mls_err)?;
        out.tls_serialize_detached().map_err(mls_err)
    }

    /// Updates this device's leaf (a commit giving post-compromise
    /// security); returns the commit to send to the other members.
    pub fn self_update(&self, group_id: &[u8]) -> Result<Vec<u8>> {
        let mut group = self.load(group_id)?;
        let bundle = group
            .self_update(&self.provider, &self.signer, LeafNodeParameters::default())
            .map_err(mls_err)?;
        group.merge_pending_commit(&self.provider).map_err(mls_err)?;
        bundle.into_commit().tls_serialize_detached().map_err(mls_err)
    }

    /// The current epoch of a conversation.
    pub fn epoch(&self, group_id: &[u8]) -> Result<u64> {
        Ok(self.load(group_id)?.epoch().as_u64())
    }

    /// Processes an incoming MLS message. Duplicates are recognised by
    /// digest before any decryption and reported as [`Incoming::Duplicate`].
    pub fn receive(&self, db: &Database, bytes: &[u8], now: u64) -> Result<Incoming> {
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        if !db.mark_mls_seen(&digest, now).map_err(|e| ConversationError::Storage(e.to_string()))? {
            return Ok(Incoming::Duplicate);
        }
        let result = self.process(bytes, now);
        if result.is_err() {
            // Not processed: a later copy (e.g. after a missing commit
            // arrives) may succeed.
            let _ = db.unmark_mls_seen(&digest);
        }
        result
    }

    fn process(&self, bytes: &[u8], now: u64) -> Result<Incoming> {
        let msg = MlsMessageIn::tls_deserialize_exact(bytes)
            .map_err(|e| ConversationError::Malformed(e.to_string()))?;
        let pm = msg
            .try_into_protocol_message()
            .map_err(|e| ConversationError::Malformed(e.to_string()))?;
        let group_id = pm.group_id().as_slice().to_vec();
        let mut group = self.load(&group_id)?;
        let processed = group.process_message(&self.provider, pm).map_err(mls_err)?;
        let sender_leaf = match processed.sender() {
            Sender::Member(i) => Some(*i),
            _ => None,
        };
        let sender_cert = |group: &MlsGroup| -> Result<DeviceCertificate> {
            let leaf = sender_leaf
                .ok_or_else(|| ConversationError::Untrusted("sender is not a member".into()))?;
            let member = group
                .member_at(leaf)
                .ok_or_else(|| ConversationError::Untrusted("unknown sender".into()))?;
            validate_member(&member.credential, &member.signature_key, now)
                .map_err(|e| ConversationError::Untrusted(e.to_string()))
        };
        match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(m) => {
                let sender = sender_cert(&group)?;
                Ok(Incoming::Application {
                    group_id,
                    sender: Box::new(sender),
                    plaintext: m.into_bytes(),
                })
            }
            ProcessedMessageContent::StagedCommitMessage(staged) => {
                sender_cert(&group)?;
                for add in staged.add_proposals() {
                    let leaf = add.add_proposal().key_package().leaf_node();
                    validate_member(leaf.credential(), leaf.signature_key().as_slice(), now)
                        .map_err(|e| ConversationError::Untrusted(e.to_string()))?;
                }
                if let Some(leaf) = staged.update_path_leaf_node() {
                    validate_member(leaf.credential(), leaf.signature_key().as_slice(), now)
                        .map_err(|e| ConversationError::Untrusted(e.to_string()))?;
                }
                group.merge_staged_commit(&self.provider, *staged).map_err(mls_err)?;
                Ok(Incoming::Commit { group_id, epoch: group.epoch().as_u64() })
            }
            ProcessedMessageContent::ProposalMessage(p) => {
                group.store_pending_proposal(self.provider.storage(), *p).map_err(mls_err)?;
                Ok(Incoming::Proposal { group_id })
            }
            ProcessedMessageContent::ExternalJoinProposalMessage(_) => {
                Err(ConversationError::Untrusted("external joins are not allowed".into()))
            }
            // Our own messages echoed back (e.g. by a relay): nothing to do.
            _ => Ok(Incoming::Duplicate),
        }
    }
}
