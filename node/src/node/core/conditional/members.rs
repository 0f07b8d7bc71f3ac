//! Members locks (SPEC.md §6.10.3, X4): a conditional message that opens
//! once k of the n members its sender named agree. The key part is split
//! k-of-n (Shamir); each holder's share travels sealed to its devices
//! inside the message, and a holder agrees by releasing its share into the
//! conversation. Fewer than k shares say nothing about the part: this is
//! enforced by cryptography, not by the clients.

use kovan_crypto::conditional as cond;
use kovan_crypto::identity::DeviceCertificate;
use kovan_spec::validate::{ConditionalSpec, Lock, Release, ShareHolder};
use kovan_spec::{limits, wire};
use rand_core::{OsRng, RngCore as _};
use rusqlite::params;
use x25519_dalek::PublicKey;
use zeroize::Zeroizing;

use super::super::{Core, internal, now_ms};
use crate::node::views::{Agree, ContactView, Event, MembersView, MessageView};

/// Shares one member may have released into a conversation for messages
/// that have not come: more are dropped (SPEC.md §6.10.3).
const MAX_EARLY_SHARES: i64 = 256;
use crate::node::{NodeError, NodeHandle, NodeResult, views};

/// The members lock of a message, if it has one: its threshold, holders
/// and release rules.
fn lock_of(spec: &ConditionalSpec) -> Option<(u8, &[ShareHolder], Release)> {
    spec.locks.iter().find_map(|l| match l {
        Lock::Members { threshold, holders, release } => {
            Some((*threshold, holders.as_slice(), *release))
        }
        _ => None,
    })
}

/// The members lock of a message, if it has one.
pub(super) fn members_of(spec: &ConditionalSpec) -> Option<(u8, &[ShareHolder])> {
    lock_of(spec).map(|(k, holders, _)| (k, holders))
}

/// What a lock's sealed shares are bound to besides their message
/// (SPEC.md §6.10.3).
fn lock_digest(threshold: u8, release: Release, holders: &[([u8; 32], [u8; 32])]) -> [u8; 32] {
    cond::LockFields {
        threshold,
        release_at_ms: release.at_ms.unwrap_or(0),
        silence_ms: release.silence_ms.unwrap_or(0),
        holders,
    }
    .digest()
}

/// When a message's holders' nodes release by themselves, if they do.
pub(super) fn release_of(spec: &ConditionalSpec) -> Option<Release> {
    spec.locks.iter().find_map(|l| match l {
        Lock::Members { release, .. } if release.automatic() => Some(*release),
        _ => None,
    })
}

fn share_context(conv: &[u8], id: &[u8; 16], account: &[u8; 32]) -> Vec<u8> {
    let mut c = b"conditional/share/".to_vec();
    c.extend_from_slice(&(conv.len() as u32).to_be_bytes());
    c.extend_from_slice(conv);
    c.extend_from_slice(id);
    c.extend_from_slice(account);
    c
}

/// Whether `share` is the one `account` holds in this lock: its x is the
/// holder's place and it matches the sender's commitment.
fn fits(holders: &[ShareHolder], account: &[u8; 32], share: &[u8; 33]) -> bool {
    holders.iter().position(|h| h.account == *account).is_some_and(|i| {
        usize::from(share[0]) == i + 1 && cond::share_matches(share, &holders[i].commitment)
    })
}

impl Core {
    /// The lock for a message to `to` that opens once `agree.threshold` of
    /// `agree.holders` release their shares, and its key part.
    pub(super) fn members_lock(
        &self,
        to: &str,
        id: &[u8; 16],
        agree: &Agree,
    ) -> NodeResult<(wire::MembersLock, cond::Part)> {
        let (conv, recipients) = self.writable(to)?;
        if !self.is_group(&conv)? {
            return Err(NodeError::Invalid(
                "a message opened by members who agree is sent in a group".into(),
            ));
        }
        let n = agree.holders.len();
        if !(2..=limits::MAX_SHARE_HOLDERS).contains(&n) {
            return Err(NodeError::Invalid("name 2 to 16 members who must agree".into()));
        }
        if agree.threshold < 2 || usize::from(agree.threshold) > n {
            return Err(NodeError::Invalid(
                "how many must agree is at least 2 and at most the members named".into(),
            ));
        }
        let me = self.my_account();
        let mut accounts: Vec<[u8; 32]> = Vec::with_capacity(n);
        for who in &agree.holders {
            let account = self.find_member(&conv, who)?;
            if account == me {
                return Err(NodeError::Invalid(
                    "you cannot be one of those who agree to open your own message".into(),
                ));
            }
            if accounts.contains(&account) {
                return Err(NodeError::Invalid("a member is named twice".into()));
            }
            accounts.push(account);
        }
        let now = self.options.clock.now_ms();
        let release_at_ms = match agree.release_at_ms {
            Some(t) if t <= now => {
                return Err(NodeError::Invalid("the time it opens at has passed".into()));
            }
            Some(t) if t as u64 > limits::MAX_TIME_MS => {
                return Err(NodeError::Invalid("the time it opens at is too far away".into()));
            }
            Some(t) => t as u64,
            None => 0,
        };
        let silence_ms = agree.silence_ms.unwrap_or(0);
        if silence_ms != 0
            && !(limits::MIN_SILENCE_MS..=limits::MAX_SILENCE_MS).contains(&silence_ms)
        {
            return Err(NodeError::Invalid("a dead man's switch waits an hour to 366 days".into()));
        }
        let mut part = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(part.as_mut());
        let shares = cond::split(&mut OsRng, &part, usize::from(agree.threshold), n)
            .map_err(|e| NodeError::Invalid(e.to_string()))?;
        let pairs: Vec<([u8; 32], [u8; 32])> =
            accounts.iter().zip(&shares).map(|(a, s)| (*a, cond::commitment(s))).collect();
        let release = Release {
            at_ms: (release_at_ms != 0).then_some(release_at_ms),
            silence_ms: (silence_ms != 0).then_some(silence_ms),
        };
        let binding = cond::ShareBinding {
            conversation: &conv,
            message_id: id,
            sender: &me,
            lock_digest: lock_digest(agree.threshold, release, &pairs),
        };
        let mut holders = Vec::with_capacity(n);
        for (account, share) in accounts.iter().zip(&shares) {
            let devices: Vec<&DeviceCertificate> = recipients
                .iter()
                .filter(|c| c.account().as_bytes() == account)
                .take(limits::MAX_SHARE_DEVICES)
                .collect();
            if devices.is_empty() {
                return Err(NodeError::State(
                    "everyone who must agree has to be a member of this group".into(),
                ));
            }
            let mut sealed = Vec::with_capacity(devices.len());
            for d in devices {
                let key = d.keys().envelope;
                let (ephemeral, ciphertext) =
                    cond::seal_share(&mut OsRng, &key, share, &binding).map_err(internal)?;
                sealed.push(wire::SealedShare {
                    envelope_key: key.to_vec(),
                    ephemeral: ephemeral.to_vec(),
                    ciphertext,
                });
            }
            holders.push(wire::ShareHolder {
                account: account.to_vec(),
                commitment: cond::commitment(share).to_vec(),
                sealed,
            });
        }
        let lock = wire::MembersLock {
            threshold: u32::from(agree.threshold),
            holders,
            release_at_ms,
            silence_ms,
        };
        Ok((lock, part))
    }

    fn keep_share(
        &self,
        conv: &[u8],
        id: &[u8; 16],
        account: &[u8; 32],
        share: &[u8; 33],
    ) -> crate::Result<bool> {
        let sealed = self.field.seal(&mut OsRng, &share_context(conv, id, account), share);
        let added = self.db.conn().execute(
            "INSERT OR IGNORE INTO conditional_shares \
             (conversation_id, message_id, account, share, received_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![conv, id.as_slice(), account.as_slice(), sealed, now_ms()],
        )?;
        Ok(added > 0)
    }

    /// How many shares a member released into a conversation for messages
    /// that have not come (yet).
    fn early_shares(&self, conv: &[u8], account: &[u8; 32]) -> crate::Result<i64> {
        Ok(self.db.conn().query_row(
            "SELECT COUNT(*) FROM conditional_shares s WHERE s.conversation_id = ?1 \
             AND s.account = ?2 AND NOT EXISTS (SELECT 1 FROM messages m \
             WHERE m.conversation_id = s.conversation_id AND m.message_id = s.message_id)",
            params![conv, account.as_slice()],
            |r| r.get(0),
        )?)
    }

    /// The released shares of a message that fit its lock, by account.
    pub(super) fn released_shares(
        &self,
        conv: &[u8],
        id: &[u8; 16],
        holders: &[ShareHolder],
    ) -> crate::Result<Vec<([u8; 32], cond::Share)>> {
        let conn = self.db.conn();
        let mut q = conn.prepare(
            "SELECT account, share FROM conditional_shares \
             WHERE conversation_id = ?1 AND message_id = ?2",
        )?;
        let rows = q.query_map(params![conv, id.as_slice()], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (account, sealed) = row?;
            let Ok(account) = <[u8; 32]>::try_from(account.as_slice()) else { continue };
            let Ok(plain) = self.field.open(&share_context(conv, id, &account), &sealed) else {
                continue;
            };
            let Ok(share) = <[u8; 33]>::try_from(plain.as_slice()) else { continue };
            if fits(holders, &account, &share) {
                out.push((account, Zeroizing::new(share)));
            }
        }
        Ok(out)
    }

    /// Drops the releases kept before their message came that do not fit
    /// its lock, so a holder's fitting release can take their place.
    pub(in crate::node::core) fn prune_shares(
        &self,
        conv: &[u8],
        id: &[u8; 16],
        spec: &ConditionalSpec,
    ) -> crate::Result<()> {
        let holders = members_of(spec).map_or(&[][..], |(_, h)| h);
        let keep: Vec<[u8; 32]> =
            self.released_shares(conv, id, holders)?.into_iter().map(|(a, _)| a).collect();
        let conn = self.db.conn();
        for account in self.released_accounts(conv, id)?.iter().filter(|a| !keep.contains(a)) {
            conn.execute(
                "DELETE FROM conditional_shares WHERE conversation_id = ?1 \
                 AND message_id = ?2 AND account = ?3",
                params![conv, id.as_slice(), account.as_slice()],
            )?;
        }
        Ok(())
    }

    /// The accounts whose releases of a message this device keeps. Once
    /// the message is here they all fit its lock: a release is checked as
    /// it arrives, and those kept before the message are pruned with it.
    fn released_accounts(&self, conv: &[u8], id: &[u8; 16]) -> crate::Result<Vec<[u8; 32]>> {
        let conn = self.db.conn();
        let mut q = conn.prepare_cached(
            "SELECT account FROM conditional_shares \
             WHERE conversation_id = ?1 AND message_id = ?2",
        )?;
        let rows = q.query_map(params![conv, id.as_slice()], |r| r.get::<_, Vec<u8>>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.extend(<[u8; 32]>::try_from(row?.as_slice()).ok());
        }
        Ok(out)
    }

    /// The members lock's key part, once enough holders agreed.
    pub(super) fn members_part(
        &self,
        conv: &[u8],
        id: &[u8; 16],
        spec: &ConditionalSpec,
    ) -> NodeResult<cond::Part> {
        let (threshold, holders) = members_of(spec).ok_or_else(|| internal("no members lock"))?;
        let shares: Vec<cond::Share> =
            self.released_shares(conv, id, holders)?.into_iter().map(|(_, s)| s).collect();
        if shares.len() < usize::from(threshold) {
            return Err(NodeError::State(
                "not enough members have agreed to open this message yet".into(),
            ));
        }
        cond::combine(&shares).map_err(|e| NodeError::Invalid(e.to_string()))
    }

    /// Opens a message whose only locks are shares — members who agree,
    /// relays (§6.10.6) — once enough of them are here; whether it is open
    /// now.
    pub(in crate::node::core) fn open_by_shares(
        &mut self,
        conv: &[u8],
        id: &[u8; 16],
        spec: &ConditionalSpec,
    ) -> NodeResult<bool> {
        if !spec.locks.iter().all(|l| matches!(l, Lock::Members { .. } | Lock::Relays { .. })) {
            return Ok(false);
        }
        if self.opened_text(conv, id)?.is_some() {
            return Ok(true);
        }
        let mut parts = Vec::with_capacity(spec.locks.len());
        for lock in &spec.locks {
            let part = match lock {
                Lock::Members { .. } => self.members_part(conv, id, spec),
                _ => self.relays_part(conv, id, spec),
            };
            match part {
                Ok(p) => parts.push(p),
                Err(NodeError::State(_)) => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        let body = match super::open_body(spec, &parts) {
            Ok(b) => b,
            Err(e) => {
                // The sender's shares do not fit together: nobody opens it.
                tracing::warn!(error = %e, "a message's released shares do not open it");
                return Ok(false);
            }
        };
        self.keep_body(conv, id, spec, &body)?;
        Ok(true)
    }

    /// A holder's share arrived (SPEC.md §6.10.3). One per holder account
    /// is kept; a share that does not fit the message's lock is dropped.
    pub(in crate::node::core) fn on_share_release(
        &mut self,
        conv: &[u8],
        target: &[u8; 16],
        account: &[u8; 32],
        share: &[u8; 33],
    ) -> NodeResult<()> {
        // A release may overtake its message: it is then checked on use
        // (and dropped when the message comes). A message that is here must
        // be a conditional one, not deleted, whose lock the share fits.
        let spec = self.stored_conditional(conv, target)?;
        let fitting = spec.as_ref().is_some_and(|spec| {
            members_of(spec).is_some_and(|(_, holders)| fits(holders, account, share))
        });
        let here = self.history().get(conv, target)?.is_some();
        if !fitting && here {
            tracing::debug!("a released share that does not fit its message was dropped");
            return Ok(());
        }
        if !here && self.early_shares(conv, account)? >= MAX_EARLY_SHARES {
            tracing::debug!("a share released before its message was dropped: too many wait");
            return Ok(());
        }
        if self.keep_share(conv, target, account, share)? {
            if let Some(spec) = &spec {
                self.open_by_shares(conv, target, spec)?;
            }
            self.members_changed(conv, target)?;
        }
        Ok(())
    }

    pub(super) fn members_changed(&mut self, conv: &[u8], id: &[u8; 16]) -> NodeResult<()> {
        if let Some(view) = self.message_view(conv, id)? {
            self.emit(Event::MessageEdited { message: view });
        }
        Ok(())
    }

    /// This account agrees by hand: it releases its share of the message
    /// into the conversation.
    fn release_share(&mut self, who: &str, id: &[u8; 16]) -> NodeResult<MessageView> {
        let (conv, spec) = self.conditional_spec(who, id)?;
        if release_of(&spec).is_some() {
            return Err(NodeError::State(
                "this message opens by itself when its time comes; it cannot be agreed to by hand"
                    .into(),
            ));
        }
        self.release_now(&conv, id, &spec)
    }

    /// Releases this account's share of a message into the conversation.
    pub(super) fn release_now(
        &mut self,
        conv: &[u8],
        id: &[u8; 16],
        spec: &ConditionalSpec,
    ) -> NodeResult<MessageView> {
        let (threshold, holders, release) = lock_of(spec).ok_or_else(|| {
            NodeError::Invalid("this message does not wait for members to agree".into())
        })?;
        let me = self.my_account();
        let sender: [u8; 32] = self
            .history()
            .get(conv, id)?
            .and_then(|m| m.sender_account.try_into().ok())
            .ok_or_else(|| internal("a conditional message without its sender"))?;
        if holders.iter().any(|h| h.account == sender) {
            return Err(NodeError::Invalid(
                "you cannot be one of those who agree to open your own message".into(),
            ));
        }
        let holder = holders
            .iter()
            .find(|h| h.account == me)
            .ok_or_else(|| NodeError::State("you hold no share of this message".into()))?;
        if self.released_shares(conv, id, holders)?.iter().any(|(a, _)| *a == me) {
            return Err(NodeError::State("you already agreed to open this message".into()));
        }
        let key = &self.identity.device_keys().envelope;
        let mine = PublicKey::from(key).to_bytes();
        let sealed = holder.sealed.iter().find(|s| s.envelope_key == mine).ok_or_else(|| {
            NodeError::State("your share was sealed to another of your devices".into())
        })?;
        let pairs: Vec<([u8; 32], [u8; 32])> =
            holders.iter().map(|h| (h.account, h.commitment)).collect();
        let binding = cond::ShareBinding {
            conversation: conv,
            message_id: id,
            sender: &sender,
            lock_digest: lock_digest(threshold, release, &pairs),
        };
        let share = cond::open_share(
            key,
            &sealed.ephemeral,
            &sealed.ciphertext,
            &holder.commitment,
            &binding,
        )
        .map_err(|_| NodeError::Invalid("your share does not open: it was altered".into()))?;
        let (_, recipients) = self.writable(&hex::encode(conv))?;
        let content = wire::app_envelope::Content::ShareRelease(wire::ShareRelease {
            target: id.to_vec(),
            share: share.to_vec(),
        });
        self.send_app(conv, &recipients, content, None, false)?;
        self.keep_share(conv, id, &me, &share)?;
        self.open_by_shares(conv, id, spec)?;
        let view = self.message_view(conv, id)?.ok_or_else(|| internal("message vanished"))?;
        self.emit(Event::MessageEdited { message: view.clone() });
        self.flush_events();
        self.pump();
        Ok(view)
    }

    fn holder_name(&self, account: &[u8; 32]) -> String {
        if *account == self.my_account() {
            return "me".into();
        }
        match self.contacts_store().get(account) {
            Ok(Some(c)) => ContactView::from(&c).name(),
            _ => hex::encode(&account[..4]),
        }
    }

    /// Fills in a members lock's view: names, who agreed, whether this
    /// account holds a share.
    pub(super) fn members_view(
        &self,
        conv: &[u8],
        id: &[u8; 16],
        view: &mut MembersView,
    ) -> crate::Result<()> {
        let released = self.released_accounts(conv, id)?;
        let me = self.my_account();
        for shown in &mut view.holders {
            let Some(account) = hex::decode(&shown.account).ok().and_then(|a| a.try_into().ok())
            else {
                continue;
            };
            shown.name = self.holder_name(&account);
            shown.released = released.contains(&account);
            view.mine |= account == me;
            view.agreed |= account == me && shown.released;
        }
        view.released = view.holders.iter().filter(|h| h.released).count();
        view.due_at = self.release_due(conv, id)?;
        Ok(())
    }
}

/// Members locks.
impl NodeHandle {
    /// Agrees to open a conditional message this account holds a share of:
    /// the share goes to the conversation, and the message opens for
    /// everyone once enough members agreed (SPEC.md §6.10.3).
    pub async fn release_share(
        &self,
        conversation: &str,
        message: &str,
    ) -> NodeResult<MessageView> {
        let id = views::parse_message_id(message)?;
        let who = conversation.to_owned();
        self.call(move |c| c.release_share(&who, &id)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_holders_own_committed_share_in_its_place_fits() {
        let shares = cond::split(&mut OsRng, &[1; 32], 2, 2).unwrap();
        let holder = |account: u8, share: &[u8; 33]| ShareHolder {
            account: [account; 32],
            commitment: cond::commitment(share),
            sealed: Vec::new(),
        };
        let holders = [holder(0xa1, &shares[0]), holder(0xb2, &shares[1])];
        assert!(fits(&holders, &[0xa1; 32], &shares[0]));
        assert!(fits(&holders, &[0xb2; 32], &shares[1]));
        // Another holder's share, a stranger, a forged share.
        assert!(!fits(&holders, &[0xa1; 32], &shares[1]), "released in another's name");
        assert!(!fits(&holders, &[0xc3; 32], &shares[0]), "not a holder");
        let mut forged = *shares[1];
        forged[9] ^= 0x80;
        assert!(!fits(&holders, &[0xb2; 32], &forged), "a share the sender did not commit to");
    }
}
