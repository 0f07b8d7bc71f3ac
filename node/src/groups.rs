//! MLS groups without a server (SPEC.md §7.6): the group meta extension,
//! rights checked on every commit against the current MLS state, and the
//! commit order — a deterministic winner among concurrent commits, with
//! rollback from an epoch snapshot.
//!
//! - **Meta.** A group's name, description, admins, ban list and flags
//!   live in its GroupContext as the application extension
//!   [`META_EXTENSION`]. They change only by a commit, and every receiver
//!   checks the committer's (and each proposer's) rights against the meta
//!   of its *current* MLS state before merging ([`check_commit`]).
//! - **Order.** Every member at epoch `e` derives the same exporter secret;
//!   a commit made in `e` by leaf `i` ranks `SHA-256(exporter || i)`. The
//!   lowest rank wins; a member that applied a higher-ranked commit restores
//!   its snapshot of `e` and applies the winner. The rank does not depend on
//!   the commit's bytes, so a committer cannot improve it by trying many
//!   commits.
//! - **Snapshots.** Before a commit is applied, the group's openmls rows
//!   are copied ([`SNAPSHOT_EPOCHS`] epochs are kept); a rollback restores
//!   them inside the caller's transaction.

use kovan_crypto::identity::DeviceCertificate;
use kovan_crypto::mls::{LastResort, check_key_package, validate_member};
use kovan_spec::ValidatedGroupMeta;
use openmls::prelude::*;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::conversation::ConversationError;
use crate::store::Database;

/// The GroupContext extension that carries a `GroupMeta` (private-use range
/// of RFC 9420 §17.3).
pub const META_EXTENSION: u16 = kovan_crypto::mls::META_EXTENSION;
/// Epochs whose pre-commit state is kept for a rollback.
pub const SNAPSHOT_EPOCHS: u64 = 4;
/// The exporter label of the commit rank.
pub const ORDER_LABEL: &str = "kovan/v1/commit-order";
/// Messages parked for a future epoch, per group.
pub const MAX_PARKED: i64 = 1000;

type Result<T, E = ConversationError> = std::result::Result<T, E>;

fn storage(e: impl std::fmt::Display) -> ConversationError {
    ConversationError::Storage(e.to_string())
}

fn refused(reason: impl Into<String>) -> ConversationError {
    ConversationError::Refused(reason.into())
}

/// The capabilities every kovan leaf declares: the meta extension (so it
/// can sit in a group context), and last-resort KeyPackages.
pub fn leaf_capabilities() -> Capabilities {
    Capabilities::builder()
        .extensions(vec![ExtensionType::LastResort, ExtensionType::Unknown(META_EXTENSION)])
        .build()
}

/// The meta of a group state, if it has one (1:1 conversations do not).
pub fn meta_of(extensions: &Extensions<GroupContext>) -> Result<Option<ValidatedGroupMeta>> {
    match extensions.unknown(META_EXTENSION) {
        None => Ok(None),
        Some(UnknownExtension(bytes)) => kovan_spec::validate_group_meta(bytes)
            .map(Some)
            .map_err(|e| ConversationError::Malformed(e.to_string())),
    }
}

/// The group context extensions that carry `meta`.
pub fn meta_extensions(meta: &ValidatedGroupMeta) -> Result<Extensions<GroupContext>> {
    let bytes = kovan_spec::encode(&meta.to_wire());
    if bytes.len() > kovan_spec::limits::MAX_GROUP_META {
        return Err(refused("the group meta is too large"));
    }
    let required = Extension::RequiredCapabilities(RequiredCapabilitiesExtension::new(
        &[ExtensionType::Unknown(META_EXTENSION)],
        &[],
        &[],
    ));
    Extensions::from_vec(vec![
        required,
        Extension::Unknown(META_EXTENSION, UnknownExtension(bytes)),
    ])
    .map_err(|e| ConversationError::Mls(e.to_string()))
}

/// What one of our commits was meant to do: re-proposed on the new state
/// if the commit loses (SPEC.md §7.6.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Intent {
    /// Add a device (an accepted invitation).
    Add {
        /// Its KeyPackage (an MLSMessage).
        key_package: Vec<u8>,
        /// The invitation it answers.
        invitation_id: [u8; 16],
    },
    /// Remove every device of these accounts; with `ban`, also list them.
    Remove {
        /// Account keys.
        accounts: Vec<[u8; 32]>,
        /// Put them on the ban list too.
        ban: bool,
    },
    /// Remove devices that asked to leave.
    RemoveDevices {
        /// PeerIds.
        devices: Vec<String>,
    },
    /// Change the meta.
    Meta(MetaChange),
    /// Refresh this device's leaf keys (post-compromise security): any
    /// member, in groups and 1:1 conversations alike.
    Update,
}

/// One change to a group's meta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MetaChange {
    /// A new name.
    Name(String),
    /// A new description.
    Description(String),
    /// Give or take the admin role.
    Admin([u8; 32], bool),
    /// Let members invite, or not.
    MembersInvite(bool),
    /// Take an account off the ban list.
    Unban([u8; 32]),
    /// Delete the group for everyone.
    Dissolve,
}

impl MetaChange {
    /// Applies the change to `meta`.
    pub fn apply(&self, meta: &mut ValidatedGroupMeta) -> Result<()> {
        match self {
            MetaChange::Name(n) => {
                if n.trim().is_empty() || n.len() > kovan_spec::limits::MAX_GROUP_NAME {
                    return Err(refused("a group name is 1 to 128 bytes"));
                }
                meta.name = n.clone();
            }
            MetaChange::Description(d) => {
                if d.len() > kovan_spec::limits::MAX_GROUP_DESCRIPTION {
                    return Err(refused("a description is at most 1,024 bytes"));
                }
                meta.description = d.clone();
            }
            MetaChange::Admin(a, on) => {
                meta.admins.retain(|x| x != a);
                if *on {
                    meta.admins.push(*a);
                }
                if meta.admins.is_empty() {
                    return Err(refused("a group keeps at least one admin"));
                }
            }
            MetaChange::MembersInvite(on) => meta.members_invite = *on,
            MetaChange::Unban(a) => meta.banned.retain(|x| x != a),
            MetaChange::Dissolve => meta.dissolved = true,
        }
        Ok(())
    }
}

/// The account of a member leaf (its validated certificate).
pub fn member_cert(group: &MlsGroup, leaf: LeafNodeIndex, now: u64) -> Result<DeviceCertificate> {
    let m = group
        .member_at(leaf)
        .ok_or_else(|| ConversationError::Untrusted("no such member".into()))?;
    validate_member(&m.credential, &m.signature_key, now)
        .map_err(|e| ConversationError::Untrusted(e.to_string()))
}

/// Every member's certificate, in leaf order (members whose certificate no
/// longer validates, e.g. expired, are left out).
pub fn members(group: &MlsGroup, now: u64) -> Vec<(LeafNodeIndex, DeviceCertificate)> {
    group
        .members()
        .filter_map(|m| {
            validate_member(&m.credential, &m.signature_key, now).ok().map(|c| (m.index, c))
        })
        .collect()
}

/// A commit's rank in the epoch it was made in (SPEC.md §7.6.3): lower wins.
pub fn rank(
    group: &MlsGroup,
    crypto: &impl openmls_traits::crypto::OpenMlsCrypto,
    committer: LeafNodeIndex,
) -> Result<[u8; 32]> {
    let exporter = group
        .export_secret(crypto, ORDER_LABEL, &[], 32)
        .map_err(|e| ConversationError::Mls(e.to_string()))?;
    let mut h = Sha256::new();
    h.update(&exporter);
    h.update(committer.u32().to_be_bytes());
    Ok(h.finalize().into())
}

/// What changed in a commit, for the node and the UI.
#[derive(Debug, Clone, Default)]
pub struct CommitSummary {
    /// The committer.
    pub committer: Option<DeviceCertificate>,
    /// Devices added.
    pub added: Vec<DeviceCertificate>,
    /// Devices removed.
    pub removed: Vec<DeviceCertificate>,
    /// This device was removed.
    pub self_removed: bool,
    /// The meta before and after.
    pub meta_before: Option<ValidatedGroupMeta>,
    /// See `meta_before`.
    pub meta_after: Option<ValidatedGroupMeta>,
}

/// Checks a staged commit against the rights of the group's current state
/// (SPEC.md §7.6.1) and validates every new leaf. `group` is the state the
/// commit applies to (not yet merged).
pub fn check_commit(
    group: &MlsGroup,
    staged: &StagedCommit,
    committer: LeafNodeIndex,
    now: u64,
) -> Result<CommitSummary> {
    let committer_cert = member_cert(group, committer, now)?;
    let before = meta_of(group.extensions())?;
    let after = meta_of(staged.group_context().extensions())?;
    let account_of = |leaf: LeafNodeIndex| -> Result<[u8; 32]> {
        Ok(*member_cert(group, leaf, now)?.account().as_bytes())
    };
    let proposer = |p: &QueuedProposal| -> Result<[u8; 32]> {
        match p.sender() {
            Sender::Member(i) => account_of(*i),
            _ => Err(refused("a proposal from outside the group")),
        }
    };
    let mut summary = CommitSummary {
        committer: Some(committer_cert.clone()),
        meta_before: before.clone(),
        meta_after: after.clone(),
        ..Default::default()
    };
    let Some(before) = before else {
        // A 1:1 conversation: its two members never change.
        if staged.add_proposals().next().is_some()
            || staged.remove_proposals().next().is_some()
            || after.is_some()
        {
            return Err(refused("a 1:1 conversation's members and context do not change"));
        }
        return Ok(summary);
    };
    if before.dissolved {
        return Err(refused("the group was deleted"));
    }
    let after = after.ok_or_else(|| refused("a commit may not drop the group meta"))?;
    // The mode is what every member agreed to when joining (§7.8).
    if after.mode != before.mode || after.pair != before.pair {
        return Err(refused("a conversation's mode never changes"));
    }
    if before.pair {
        let members = group.members().count();
        let after_members = members + staged.add_proposals().count()
            - staged.remove_proposals().count().min(members);
        if after_members > 2 {
            return Err(refused("a chat between two never has a third member"));
        }
    }
    let is_admin = |a: &[u8; 32]| before.is_admin(a);
    for p in staged.queued_proposals() {
        let by = proposer(p)?;
        match p.proposal() {
            Proposal::Add(add) => {
                if !(is_admin(&by) || before.members_invite) {
                    return Err(refused("only admins may add members to this group"));
                }
                check_key_package(add.key_package(), LastResort::Either)
                    .map_err(|e| ConversationError::Untrusted(e.to_string()))?;
                let leaf = add.key_package().leaf_node();
                let cert = validate_member(leaf.credential(), leaf.signature_key().as_slice(), now)
                    .map_err(|e| ConversationError::Untrusted(e.to_string()))?;
                let account = cert.account().as_bytes();
                if before.is_banned(account) || after.is_banned(account) {
                    return Err(refused("a banned account may not be added"));
                }
                summary.added.push(cert);
            }
            Proposal::Remove(r) => {
                let own = matches!(p.sender(), Sender::Member(i) if *i == r.removed());
                if !own && !is_admin(&by) {
                    return Err(refused("only admins may remove members"));
                }
                let cert = member_cert(group, r.removed(), now)?;
                if r.removed() == group.own_leaf_index() {
                    summary.self_removed = true;
                }
                summary.removed.push(cert);
            }
            Proposal::GroupContextExtensions(_) => {
                if !is_admin(&by) {
                    return Err(refused("only admins may change the group"));
                }
            }
            Proposal::Update(_) => {}
            _ => return Err(refused("a proposal type kovan does not use")),
        }
    }
    if after != before {
        // Also a commit that changes the context without a separate
        // proposal is the committer's doing.
        if !is_admin(committer_cert.account().as_bytes()) {
            return Err(refused("only admins may change the group"));
        }
        if after.admins.is_empty() && !after.dissolved {
            return Err(refused("a group keeps at least one admin"));
        }
    }
    if let Some(leaf) = staged.update_path_leaf_node() {
        let cert = validate_member(leaf.credential(), leaf.signature_key().as_slice(), now)
            .map_err(|e| ConversationError::Untrusted(e.to_string()))?;
        if cert.digest() != committer_cert.digest() {
            return Err(ConversationError::Untrusted("the committer changed its identity".into()));
        }
    }
    Ok(summary)
}

/// A row of `group_epochs`.
#[derive(Debug, Clone)]
pub struct EpochRecord {
    /// The epoch the commit was made in.
    pub epoch: u64,
    /// Its rank.
    pub rank: [u8; 32],
    /// SHA-256 of the commit message.
    pub digest: [u8; 32],
    /// Ours: what it was for.
    pub intent: Option<Intent>,
}

/// The commit order's bookkeeping in the node database.
pub struct Order<'a> {
    db: &'a Database,
}

/// How each group-scoped openmls table is copied: (table, its columns as
/// `a, b, c` of `group_snapshots`, the columns they go back into).
const GROUP_TABLES: &[(&str, &str, &str, &str)] = &[
    ("openmls_group_data", "data_type, group_data, NULL", "data_type, group_data", "a, b"),
    (
        "openmls_epoch_keys_pairs",
        "epoch_id, key_pairs, leaf_index",
        "epoch_id, key_pairs, leaf_index",
        "a, b, c",
    ),
    ("openmls_own_leaf_nodes", "leaf_node, NULL, id", "leaf_node", "a"),
    ("openmls_proposals", "proposal_ref, proposal, NULL", "proposal_ref, proposal", "a, b"),
];

impl<'a> Order<'a> {
    /// Over `db`.
    pub fn new(db: &'a Database) -> Self {
        Self { db }
    }

    /// Copies the group's openmls rows (and this device's leaf key) as the
    /// state before the commit at `epoch`.
    pub fn snapshot(&self, group: &MlsGroup) -> Result<()> {
        let conn = self.db.conn();
        let gid = group.group_id().as_slice();
        let epoch = group.epoch().as_u64() as i64;
        let gid_key = serde_json::to_vec(group.group_id()).map_err(storage)?;
        conn.execute(
            "DELETE FROM group_snapshots WHERE group_id = ?1 AND epoch = ?2",
            params![gid, epoch],
        )
        .map_err(storage)?;
        for (table, select, _, _) in GROUP_TABLES {
            conn.execute(
                &format!(
                    "INSERT INTO group_snapshots (group_id, epoch, tbl, a, b, c, version) \
                     SELECT ?1, ?2, '{table}', {select}, provider_version \
                     FROM {table} WHERE group_id = ?3"
                ),
                params![gid, epoch, gid_key],
            )
            .map_err(storage)?;
        }
        if let Some(leaf) = group.own_leaf_node() {
            let key = serde_json::to_vec(leaf.encryption_key()).map_err(storage)?;
            conn.execute(
                "INSERT INTO group_snapshots (group_id, epoch, tbl, a, b, c, version) \
                 SELECT ?1, ?2, 'openmls_encryption_keys', public_key, key_pair, NULL, \
                 provider_version FROM openmls_encryption_keys WHERE public_key = ?3",
                params![gid, epoch, key],
            )
            .map_err(storage)?;
        }
        Ok(())
    }

    /// Whether a snapshot of `epoch` exists.
    pub fn has_snapshot(&self, gid: &[u8], epoch: u64) -> Result<bool> {
        Ok(self
            .db
            .conn()
            .query_row(
                "SELECT 1 FROM group_snapshots WHERE group_id = ?1 AND epoch = ?2 LIMIT 1",
                params![gid, epoch as i64],
                |_| Ok(()),
            )
            .optional()
            .map_err(storage)?
            .is_some())
    }

    /// Puts the group's openmls rows back as they were at `epoch`.
    pub fn restore(&self, group_id: &GroupId, epoch: u64) -> Result<()> {
        let conn = self.db.conn();
        let gid = group_id.as_slice();
        let gid_key = serde_json::to_vec(group_id).map_err(storage)?;
        for (table, _, columns, from) in GROUP_TABLES {
            conn.execute(&format!("DELETE FROM {table} WHERE group_id = ?1"), params![gid_key])
                .map_err(storage)?;
            conn.execute(
                &format!(
                    "INSERT INTO {table} (group_id, provider_version, {columns}) \
                     SELECT ?1, version, {from} FROM group_snapshots \
                     WHERE group_id = ?2 AND epoch = ?3 AND tbl = '{table}' ORDER BY c"
                ),
                params![gid_key, gid, epoch as i64],
            )
            .map_err(storage)?;
        }
        conn.execute(
            "INSERT OR REPLACE INTO openmls_encryption_keys (public_key, key_pair, provider_version) \
             SELECT a, b, version FROM group_snapshots \
             WHERE group_id = ?1 AND epoch = ?2 AND tbl = 'openmls_encryption_keys'",
            params![gid, epoch as i64],
        )
        .map_err(storage)?;
        Ok(())
    }

    /// Records the commit applied at `epoch`.
    pub fn record(&self, gid: &[u8], rec: &EpochRecord) -> Result<()> {
        let intent = rec.intent.as_ref().map(serde_json::to_vec).transpose().map_err(storage)?;
        self.db
            .conn()
            .execute(
                "INSERT OR REPLACE INTO group_epochs (group_id, epoch, rank, digest, intent) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![gid, rec.epoch as i64, rec.rank.as_slice(), rec.digest.as_slice(), intent],
            )
            .map_err(storage)?;
        Ok(())
    }

    /// The commit applied at `epoch`, if recorded.
    pub fn applied(&self, gid: &[u8], epoch: u64) -> Result<Option<EpochRecord>> {
        type Row = (Vec<u8>, Vec<u8>, Option<Vec<u8>>);
        let row: Option<Row> = self
            .db
            .conn()
            .query_row(
                "SELECT rank, digest, intent FROM group_epochs WHERE group_id = ?1 AND epoch = ?2",
                params![gid, epoch as i64],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(storage)?;
        let Some((rank, digest, intent)) = row else { return Ok(None) };
        Ok(Some(EpochRecord {
            epoch,
            rank: rank.try_into().map_err(|_| storage("bad rank"))?,
            digest: digest.try_into().map_err(|_| storage("bad digest"))?,
            intent: intent.and_then(|i| serde_json::from_slice(&i).ok()),
        }))
    }

    /// Forgets the records and snapshots from `epoch` on (after a rollback
    /// to `epoch`, whose own snapshot stays); returns our intents among
    /// them, oldest first.
    pub fn truncate(&self, gid: &[u8], epoch: u64) -> Result<Vec<Intent>> {
        let conn = self.db.conn();
        let mut stmt = conn
            .prepare("SELECT intent FROM group_epochs WHERE group_id = ?1 AND epoch >= ?2 ORDER BY epoch")
            .map_err(storage)?;
        let intents: Vec<Intent> = stmt
            .query_map(params![gid, epoch as i64], |r| r.get::<_, Option<Vec<u8>>>(0))
            .map_err(storage)?
            .filter_map(|r| r.ok().flatten())
            .filter_map(|i| serde_json::from_slice(&i).ok())
            .collect();
        conn.execute(
            "DELETE FROM group_epochs WHERE group_id = ?1 AND epoch >= ?2",
            params![gid, epoch as i64],
        )
        .map_err(storage)?;
        conn.execute(
            "DELETE FROM group_snapshots WHERE group_id = ?1 AND epoch > ?2",
            params![gid, epoch as i64],
        )
        .map_err(storage)?;
        Ok(intents)
    }

    /// Drops snapshots and records older than the window behind `current`.
    pub fn prune(&self, gid: &[u8], current: u64) -> Result<()> {
        let keep_from = current.saturating_sub(SNAPSHOT_EPOCHS) as i64;
        let conn = self.db.conn();
        for sql in [
            "DELETE FROM group_snapshots WHERE group_id = ?1 AND epoch < ?2",
            "DELETE FROM group_epochs WHERE group_id = ?1 AND epoch < ?2",
            "DELETE FROM group_sent WHERE group_id = ?1 AND epoch < ?2",
        ] {
            conn.execute(sql, params![gid, keep_from]).map_err(storage)?;
        }
        Ok(())
    }

    /// Forgets everything kept for a group (it was left or deleted).
    pub fn forget(&self, gid: &[u8]) -> Result<()> {
        let conn = self.db.conn();
        for table in
            ["group_snapshots", "group_epochs", "group_sent", "group_parked", "group_leaving"]
        {
            conn.execute(&format!("DELETE FROM {table} WHERE group_id = ?1"), params![gid])
                .map_err(storage)?;
        }
        Ok(())
    }
}
