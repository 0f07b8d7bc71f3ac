//! Groups on the core thread (SPEC.md §7.6): invitations, commits and
//! their fan-out, the effects of incoming commits, leaving, parking
//! messages for epochs not reached yet, and the re-proposals and re-sends a
//! rollback calls for.

use kovan_crypto::envelope::{Opened, PayloadKind};
use kovan_crypto::identity::DeviceCertificate;
use kovan_spec::{GroupControlBody, ValidatedGroupMeta, validate_group_control, wire};
use rand_core::{OsRng, RngCore};
use rusqlite::params;
use sha2::{Digest, Sha256};

use super::{Core, Fail, internal, now_ms, reject};
use crate::contacts::{ContactRow, FriendState};
use crate::conversation::{Committed, ConversationError, Rollback};
use crate::groups::{CommitSummary, Intent, MAX_PARKED, MetaChange};
use crate::identity::now_secs;
use crate::node::views::{Event, GroupView, InvitationView, MemberView};
use crate::node::{NodeError, NodeResult};

/// Parked messages older than this are dropped (a week: mailboxes keep
/// envelopes as long).
const PARK_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

/// A device refreshes its leaf keys in a conversation after sending this
/// many messages there… (SPEC.md §7.6.7)
pub const SELF_UPDATE_MESSAGES: i64 = 100;
/// …or when it sends and its last refresh there is older than this.
pub const SELF_UPDATE_MS: i64 = 24 * 3600 * 1000;

/// A row of `group_invitations`.
#[derive(Debug, Clone)]
pub(crate) struct Invitation {
    pub id: [u8; 16],
    pub group_id: Vec<u8>,
    pub incoming: bool,
    pub account: [u8; 32],
    pub device: DeviceCertificate,
    pub group_name: String,
    pub members: u32,
    pub state: String,
}

fn conv_err(e: ConversationError) -> NodeError {
    match e {
        ConversationError::Refused(r) => NodeError::State(r),
        ConversationError::UnknownGroup => NodeError::NotFound("no such group".into()),
        ConversationError::Storage(s) => NodeError::Local(crate::Error::Internal(s)),
        other => NodeError::Invalid(other.to_string()),
    }
}

fn name_context(id: &[u8; 16]) -> Vec<u8> {
    let mut c = b"group_invitations/name/".to_vec();
    c.extend_from_slice(id);
    c
}

fn sent_context(group: &[u8]) -> Vec<u8> {
    let mut c = b"group_sent/".to_vec();
    c.extend_from_slice(group);
    c
}

impl Core {
    // -----------------------------------------------------------------
    // Lookups and views
    // -----------------------------------------------------------------

    /// Whether a conversation is a group.
    pub(super) fn is_group(&self, id: &[u8]) -> crate::Result<bool> {
        self.history().is_group(id)
    }

    /// A group by id (hex) or by name (unique among our groups).
    pub(super) fn find_group(&self, who: &str) -> NodeResult<Vec<u8>> {
        let who = who.trim();
        if let Ok(id) = hex::decode(who)
            && self.is_group(&id)?
        {
            return Ok(id);
        }
        let hits: Vec<Vec<u8>> = self
            .history()
            .group_titles()?
            .into_iter()
            .filter(|(_, t)| t.eq_ignore_ascii_case(who))
            .map(|(id, _)| id)
            .collect();
        match hits.len() {
            0 => Err(NodeError::NotFound(format!("no group {who:?}"))),
            1 => Ok(hits[0].clone()),
            _ => Err(NodeError::Invalid(format!("several groups are called {who:?}; use the id"))),
        }
    }

    fn member_name(&self, cert: &DeviceCertificate) -> String {
        let account = *cert.account().as_bytes();
        if account == self.my_account() {
            return if self.options.display_name.is_empty() {
                "me".into()
            } else {
                self.options.display_name.clone()
            };
        }
        if let Ok(Some(c)) = self.contacts_store().get(&account) {
            let v = crate::node::views::ContactView::from(&c);
            return v.name();
        }
        if !cert.device_name().is_empty() {
            return cert.device_name().to_owned();
        }
        hex::encode(&account[..8])
    }

    pub(super) fn group_view(&self, id: &[u8]) -> NodeResult<GroupView> {
        let (title, state) =
            self.history().group(id)?.ok_or_else(|| NodeError::NotFound("no such group".into()))?;
        let me = self.my_account();
        let mut view = GroupView {
            id: hex::encode(id),
            name: title,
            description: String::new(),
            state,
            epoch: 0,
            admin: false,
            members_invite: false,
            members: Vec::new(),
            banned: Vec::new(),
        };
        let Ok(st) = self.mls.group_state(id, now_secs()) else { return Ok(view) };
        view.epoch = st.epoch;
        let meta = st.meta.unwrap_or_default();
        if !meta.name.is_empty() {
            view.name = meta.name.clone();
        }
        view.description = meta.description.clone();
        view.admin = meta.is_admin(&me) && st.active;
        view.members_invite = meta.members_invite;
        view.banned = meta.banned.iter().map(hex::encode).collect();
        if st.active {
            for cert in &st.members {
                let account = *cert.account().as_bytes();
                view.members.push(MemberView {
                    account: hex::encode(account),
                    peer_id: cert.peer_id().to_string(),
                    name: self.member_name(cert),
                    admin: meta.is_admin(&account),
                    muted: self.history().is_muted(id, &account)?,
                    me: account == me,
                });
            }
        }
        Ok(view)
    }

    /// The devices a group message goes to: every member but this device.
    pub(super) fn group_recipients(&self, id: &[u8]) -> NodeResult<Vec<DeviceCertificate>> {
        if let Some(list) = self.recipients.borrow().get(id) {
            return Ok(list.clone());
        }
        let st = self.mls.group_state(id, now_secs()).map_err(conv_err)?;
        if !st.active {
            return Err(NodeError::State("you are not a member of this group".into()));
        }
        if st.meta.as_ref().is_some_and(|m| m.dissolved) {
            return Err(NodeError::State("this group was deleted".into()));
        }
        let me = self.identity.certificate().digest();
        let list: Vec<DeviceCertificate> =
            st.members.into_iter().filter(|c| c.digest() != me).collect();
        self.recipients.borrow_mut().insert(id.to_vec(), list.clone());
        Ok(list)
    }

    /// Forgets the cached member lists: called whenever group state may
    /// change (commits, joins, leaving) and around inbound processing, so a
    /// list filled inside a transaction that rolls back never survives it.
    pub(super) fn groups_changed(&self) {
        self.recipients.borrow_mut().clear();
    }

    fn find_member(&self, group: &[u8], who: &str) -> NodeResult<[u8; 32]> {
        let view = self.group_view(group)?;
        let who_l = who.trim().trim_start_matches('@').to_lowercase();
        let hits: Vec<&MemberView> = view
            .members
            .iter()
            .filter(|m| {
                m.account == who_l
                    || (who_l.len() >= 8 && m.account.starts_with(&who_l))
                    || m.peer_id == who.trim()
                    || m.name.to_lowercase() == who_l
                    || m.name.to_lowercase().contains(&format!("(@{who_l})"))
            })
            .collect();
        let pick = match hits.as_slice() {
            [one] => one.account.clone(),
            [] => {
                // Not a member (e.g. banned, to unban): a contact will do.
                let c = self.find_contact(who)?;
                hex::encode(c.account)
            }
            _ => return Err(NodeError::Invalid(format!("{who:?} matches several members"))),
        };
        hex::decode(&pick)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| internal("bad account"))
    }

    // -----------------------------------------------------------------
    // Invitations
    // -----------------------------------------------------------------

    fn put_invitation(&self, inv: &Invitation) -> crate::Result<()> {
        let sealed = self.field.seal(&mut OsRng, &name_context(&inv.id), inv.group_name.as_bytes());
        let now = now_ms();
        self.db.conn().execute(
            "INSERT INTO group_invitations (invitation_id, group_id, incoming, account, \
             device_certificate, group_name, members, state, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) \
             ON CONFLICT (invitation_id) DO UPDATE SET state = excluded.state, \
             updated_at = excluded.updated_at",
            params![
                inv.id.as_slice(),
                inv.group_id,
                inv.incoming,
                inv.account.as_slice(),
                inv.device.encoded(),
                sealed,
                inv.members,
                inv.state,
                now
            ],
        )?;
        Ok(())
    }

    fn invitations_where(
        &self,
        clause: &str,
        p: &[&dyn rusqlite::ToSql],
    ) -> crate::Result<Vec<Invitation>> {
        let mut stmt = self.db.conn().prepare(&format!(
            "SELECT invitation_id, group_id, incoming, account, device_certificate, group_name, \
             members, state FROM group_invitations WHERE {clause} ORDER BY created_at DESC"
        ))?;
        let rows = stmt
            .query_map(p, |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, bool>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                    r.get::<_, Vec<u8>>(4)?,
                    r.get::<_, Vec<u8>>(5)?,
                    r.get::<_, u32>(6)?,
                    r.get::<_, String>(7)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = Vec::new();
        for (id, group_id, incoming, account, cert, name, members, state) in rows {
            let (Ok(id), Ok(account)) = (<[u8; 16]>::try_from(id), <[u8; 32]>::try_from(account))
            else {
                continue;
            };
            let Ok(device) = DeviceCertificate::parse(&cert) else { continue };
            let group_name = self
                .field
                .open(&name_context(&id), &name)
                .map(|p| String::from_utf8_lossy(&p).into_owned())
                .unwrap_or_default();
            out.push(Invitation {
                id,
                group_id,
                incoming,
                account,
                device,
                group_name,
                members,
                state,
            });
        }
        Ok(out)
    }

    fn invitation(&self, id: &[u8; 16]) -> crate::Result<Option<Invitation>> {
        Ok(self.invitations_where("invitation_id = ?1", &[&id.as_slice()])?.into_iter().next())
    }

    fn invitation_view(&self, inv: &Invitation) -> InvitationView {
        InvitationView {
            id: hex::encode(inv.id),
            group: hex::encode(&inv.group_id),
            group_name: inv.group_name.clone(),
            members: inv.members,
            incoming: inv.incoming,
            account: hex::encode(inv.account),
            name: self.member_name(&inv.device),
            state: inv.state.clone(),
        }
    }

    fn send_control(
        &self,
        to: &DeviceCertificate,
        id: [u8; 16],
        body: wire::group_control::Body,
    ) -> NodeResult<()> {
        let msg = wire::GroupControl { version: 1, invitation_id: id.to_vec(), body: Some(body) };
        self.enqueue(to, PayloadKind::Group, &kovan_spec::encode(&msg), None, None)
    }

    // -----------------------------------------------------------------
    // The API
    // -----------------------------------------------------------------

    pub(in crate::node) fn group_create(
        &mut self,
        name: &str,
        description: &str,
        members_invite: bool,
    ) -> NodeResult<GroupView> {
        let mut meta = ValidatedGroupMeta {
            name: String::new(),
            description: String::new(),
            admins: vec![self.my_account()],
            banned: Vec::new(),
            members_invite,
            dissolved: false,
        };
        MetaChange::Name(name.trim().to_owned()).apply(&mut meta).map_err(conv_err)?;
        MetaChange::Description(description.to_owned()).apply(&mut meta).map_err(conv_err)?;
        let id = self.db.atomic(|| -> NodeResult<Vec<u8>> {
            let id = self.mls.create_group(&meta).map_err(conv_err)?;
            self.history().ensure_conversation(&id, None, now_ms())?;
            self.history().set_group(&id, &meta.name, "member")?;
            Ok(id)
        })?;
        self.mls_changed();
        let view = self.group_view(&id)?;
        self.emit(Event::GroupChanged { group: view.clone() });
        self.flush_events();
        Ok(view)
    }

    pub(in crate::node) fn group_invite(
        &mut self,
        group: &str,
        who: &str,
    ) -> NodeResult<InvitationView> {
        let gid = self.find_group(group)?;
        let c = self.find_contact(who)?;
        if c.state != FriendState::Friend || c.blocked {
            return Err(NodeError::State("you can invite friends only".into()));
        }
        let device =
            c.certificate.clone().ok_or_else(|| NodeError::State("no device for them".into()))?;
        let st = self.mls.group_state(&gid, now_secs()).map_err(conv_err)?;
        let meta = st.meta.clone().ok_or_else(|| NodeError::State("not a group".into()))?;
        if !st.active || meta.dissolved {
            return Err(NodeError::State("this group is closed".into()));
        }
        if !meta.is_admin(&self.my_account()) && !meta.members_invite {
            return Err(NodeError::State("only admins may invite to this group".into()));
        }
        if meta.is_banned(&c.account) {
            return Err(NodeError::State("this account is banned from the group".into()));
        }
        if st.members.iter().any(|m| m.account().as_bytes() == &c.account) {
            return Err(NodeError::State("they are in the group already".into()));
        }
        let mut id = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        let inv = Invitation {
            id,
            group_id: gid.clone(),
            incoming: false,
            account: c.account,
            device: device.clone(),
            group_name: meta.name.clone(),
            members: st.members.len() as u32,
            state: "pending".into(),
        };
        let body = wire::group_control::Body::Invite(wire::GroupInvite {
            group_id: gid.clone(),
            group_name: meta.name.clone(),
            members: st.members.len() as u32,
            recipient_account: c.account.to_vec(),
        });
        self.db.atomic(|| -> NodeResult<()> {
            self.put_invitation(&inv)?;
            self.send_control(&device, id, body)
        })?;
        self.pump();
        Ok(self.invitation_view(&inv))
    }

    pub(in crate::node) fn group_invitations(&mut self) -> NodeResult<Vec<InvitationView>> {
        Ok(self.invitations_where("1 = 1", &[])?.iter().map(|i| self.invitation_view(i)).collect())
    }

    pub(in crate::node) fn group_answer(
        &mut self,
        id: &str,
        accept: bool,
    ) -> NodeResult<InvitationView> {
        let bytes: [u8; 16] = hex::decode(id.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| NodeError::Invalid(format!("{id:?} is not an invitation id")))?;
        let mut inv = self
            .invitation(&bytes)?
            .filter(|i| i.incoming)
            .ok_or_else(|| NodeError::NotFound("no such invitation".into()))?;
        if inv.state != "pending" {
            return Err(NodeError::State(format!("this invitation is {}", inv.state)));
        }
        let body = if accept {
            // A last-resort KeyPackage: if the commit that adds us loses to a
            // concurrent one, the inviter adds the same KeyPackage again
            // (SPEC.md §7.6.3) and we must still be able to join.
            let key_package = self.new_key_package(true).map_err(internal)?;
            inv.state = "accepted".into();
            wire::group_control::Body::Accept(wire::GroupInviteAccept { key_package })
        } else {
            inv.state = "declined".into();
            wire::group_control::Body::Decline(wire::GroupInviteDecline {})
        };
        self.db.atomic(|| -> NodeResult<()> {
            self.put_invitation(&inv)?;
            self.send_control(&inv.device, inv.id, body)
        })?;
        self.pump();
        Ok(self.invitation_view(&inv))
    }

    pub(in crate::node) fn group_info(&mut self, group: &str) -> NodeResult<GroupView> {
        let gid = self.find_group(group)?;
        self.group_view(&gid)
    }

    pub(in crate::node) fn groups(&mut self) -> NodeResult<Vec<GroupView>> {
        let rows = self.history().conversations()?;
        rows.iter().filter(|r| r.group_state.is_some()).map(|r| self.group_view(&r.id)).collect()
    }

    /// Commits a change an admin (or, for adds, a member) asked for.
    pub(in crate::node) fn group_change(
        &mut self,
        group: &str,
        change: GroupChange,
    ) -> NodeResult<GroupView> {
        let gid = self.find_group(group)?;
        let intent = match change {
            GroupChange::Rename(n) => Intent::Meta(MetaChange::Name(n)),
            GroupChange::Describe(d) => Intent::Meta(MetaChange::Description(d)),
            GroupChange::Admin(who, on) => {
                Intent::Meta(MetaChange::Admin(self.find_member(&gid, &who)?, on))
            }
            GroupChange::MembersInvite(on) => Intent::Meta(MetaChange::MembersInvite(on)),
            GroupChange::Remove(who) => {
                Intent::Remove { accounts: vec![self.find_member(&gid, &who)?], ban: false }
            }
            GroupChange::Ban(who) => {
                Intent::Remove { accounts: vec![self.find_member(&gid, &who)?], ban: true }
            }
            GroupChange::Unban(who) => {
                Intent::Meta(MetaChange::Unban(self.find_member(&gid, &who)?))
            }
            GroupChange::Delete => Intent::Meta(MetaChange::Dissolve),
        };
        let tx = self.db.tx();
        tx.atomic(|| -> NodeResult<()> {
            let committed = self
                .mls
                .commit(&self.db, &gid, &intent, now_secs())
                .map_err(conv_err)?
                .ok_or_else(|| NodeError::State("nothing to change".into()))?;
            self.after_own_commit(&gid, committed).map_err(super::fail_to_node)
        })
        .inspect_err(|_| self.groups_changed())?;
        self.flush_events();
        self.pump();
        self.group_view(&gid)
    }

    pub(in crate::node) fn group_leave(&mut self, group: &str) -> NodeResult<GroupView> {
        let gid = self.find_group(group)?;
        let st = self.mls.group_state(&gid, now_secs()).map_err(conv_err)?;
        let meta = st.meta.clone().unwrap_or_default();
        let me = self.my_account();
        let others = st.members.iter().filter(|m| m.account().as_bytes() != &me).count();
        if st.active && !meta.dissolved && meta.admins == [me] && others > 0 {
            return Err(NodeError::State(
                "you are the group's only admin: make someone else admin first, or delete the group"
                    .into(),
            ));
        }
        let title = self.history().group(&gid)?.map(|g| g.0).unwrap_or_default();
        self.groups_changed();
        self.db
            .atomic(|| -> NodeResult<()> {
                if st.active && !meta.dissolved {
                    let (proposal, recipients) =
                        self.mls.leave(&self.db, &gid, now_secs()).map_err(conv_err)?;
                    for r in &recipients {
                        self.enqueue(r, PayloadKind::MlsMessage, &proposal, Some(&gid), None)?;
                    }
                } else {
                    self.mls.forget(&self.db, &gid).map_err(conv_err)?;
                }
                self.history().set_group(&gid, &title, "left")?;
                self.history().close(&gid)?;
                Ok(())
            })
            .inspect_err(|_| self.groups_changed())?;
        let view = self.group_view(&gid)?;
        self.emit(Event::GroupChanged { group: view.clone() });
        self.flush_events();
        self.pump();
        Ok(view)
    }

    pub(in crate::node) fn group_mute(
        &mut self,
        group: &str,
        who: &str,
        on: bool,
    ) -> NodeResult<GroupView> {
        let gid = self.find_group(group)?;
        let account = self.find_member(&gid, who)?;
        if account == self.my_account() {
            return Err(NodeError::Invalid("you cannot mute yourself".into()));
        }
        self.history().set_muted(&gid, &account, on)?;
        self.group_view(&gid)
    }

    // -----------------------------------------------------------------
    // Commits: ours and theirs
    // -----------------------------------------------------------------

    /// Sends our commit to the earlier members and the Welcome to the
    /// added devices; records what changed. Inside the caller's transaction.
    pub(super) fn after_own_commit(&mut self, gid: &[u8], c: Committed) -> Result<(), Fail> {
        self.groups_changed();
        self.mls_changed();
        for r in &c.recipients {
            self.enqueue(r, PayloadKind::MlsMessage, &c.commit, Some(gid), None)?;
        }
        if let Some(welcome) = &c.welcome {
            for added in &c.summary.added {
                self.enqueue(added, PayloadKind::MlsWelcome, welcome, Some(gid), None)?;
            }
        }
        self.db.conn().execute(
            "UPDATE conversations SET last_update = ?2, sent_since_update = 0 WHERE id = ?1",
            params![gid, now_ms()],
        )?;
        if !self.is_group(gid)? {
            return Ok(());
        }
        for added in &c.summary.added {
            self.db.conn().execute(
                "UPDATE group_invitations SET state = 'joined', updated_at = ?3 \
                 WHERE group_id = ?1 AND account = ?2 AND incoming = 0",
                params![gid, added.account().as_bytes().as_slice(), now_ms()],
            )?;
        }
        self.note_commit(gid, &c.summary)?;
        Ok(())
    }

    /// Bookkeeping after any commit (ours or theirs): title, state,
    /// leavers that are gone, events.
    fn note_commit(&mut self, gid: &[u8], s: &CommitSummary) -> Result<(), Fail> {
        for removed in &s.removed {
            self.db.conn().execute(
                "DELETE FROM group_leaving WHERE group_id = ?1 AND device = ?2",
                params![gid, removed.peer_id().to_string()],
            )?;
        }
        let meta = s.meta_after.clone().unwrap_or_default();
        let state = if s.self_removed {
            "removed"
        } else if meta.dissolved {
            "dissolved"
        } else {
            "member"
        };
        let title = if meta.name.is_empty() {
            self.history().group(gid)?.map(|g| g.0).unwrap_or_default()
        } else {
            meta.name.clone()
        };
        self.history().set_group(gid, &title, state)?;
        if state != "member" {
            self.history().close(gid)?;
        }
        let view = self.group_view(gid).map_err(Fail::from)?;
        self.emit(Event::GroupChanged { group: view });
        Ok(())
    }

    /// An incoming commit was applied (possibly after a rollback).
    pub(super) fn on_commit_applied(
        &mut self,
        gid: &[u8],
        summary: &CommitSummary,
        rollback: Option<Rollback>,
    ) -> Result<(), Fail> {
        self.groups_changed();
        self.mls_changed();
        if !self.history().exists(gid)? {
            return Ok(());
        }
        let group = self.is_group(gid)?;
        if group {
            self.note_commit(gid, summary)?;
        }
        if let Some(rb) = rollback {
            tracing::info!(
                to_epoch = rb.to_epoch,
                undone = rb.intents.len(),
                "a concurrent commit won"
            );
            self.resend_undone(gid, rb.to_epoch)?;
            for intent in rb.intents {
                match self.mls.commit(&self.db, gid, &intent, now_secs()) {
                    Ok(Some(c)) => self.after_own_commit(gid, c)?,
                    Ok(None) => {}
                    Err(e) => tracing::info!(error = %e, "a re-proposed change no longer applies"),
                }
            }
        }
        if group {
            self.remove_leavers(gid)?;
        }
        self.replay_parked(gid)?;
        Ok(())
    }

    /// Refreshes our leaf keys in the conversation when it is due (SPEC.md
    /// §7.6.7): `last` and `sent` come from [`crate::history::History::next_sequence`].
    /// Inside the caller's transaction.
    pub(super) fn maybe_self_update(
        &mut self,
        conv: &[u8],
        last: i64,
        sent: i64,
    ) -> NodeResult<()> {
        let now = now_ms();
        if sent < SELF_UPDATE_MESSAGES && now - last < SELF_UPDATE_MS {
            return Ok(());
        }
        tracing::debug!(sent, since_ms = now - last, "refreshing our leaf keys");
        match self.mls.commit(&self.db, conv, &Intent::Update, now_secs()) {
            Ok(Some(c)) => self.after_own_commit(conv, c).map_err(super::fail_to_node)?,
            Ok(None) => {}
            Err(e) => tracing::info!(error = %e, "refreshing our keys failed; trying later"),
        }
        Ok(())
    }

    /// Admins commit the removal of members that proposed to leave.
    fn remove_leavers(&mut self, gid: &[u8]) -> Result<(), Fail> {
        let Ok(st) = self.mls.group_state(gid, now_secs()) else { return Ok(()) };
        let Some(meta) = st.meta else { return Ok(()) };
        if !st.active || meta.dissolved || !meta.is_admin(&self.my_account()) {
            return Ok(());
        }
        let mut stmt =
            self.db.conn().prepare("SELECT device FROM group_leaving WHERE group_id = ?1")?;
        let devices: Vec<String> =
            stmt.query_map(params![gid], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        drop(stmt);
        let present: Vec<String> = devices
            .into_iter()
            .filter(|d| st.members.iter().any(|m| &m.peer_id().to_string() == d))
            .collect();
        if present.is_empty() {
            return Ok(());
        }
        match self.mls.commit(
            &self.db,
            gid,
            &Intent::RemoveDevices { devices: present },
            now_secs(),
        ) {
            Ok(Some(c)) => self.after_own_commit(gid, c)?,
            Ok(None) => {}
            Err(e) => tracing::info!(error = %e, "removing a leaver failed"),
        }
        Ok(())
    }

    /// A member proposed to leave.
    pub(super) fn on_leave(&mut self, gid: &[u8], device: &DeviceCertificate) -> Result<(), Fail> {
        self.db.conn().execute(
            "INSERT OR IGNORE INTO group_leaving (group_id, device, at) VALUES (?1, ?2, ?3)",
            params![gid, device.peer_id().to_string(), now_ms()],
        )?;
        self.remove_leavers(gid)
    }

    /// Records a group application message we sent (sealed), so that a
    /// rollback of its epoch can re-send it.
    pub(super) fn note_group_sent(
        &self,
        gid: &[u8],
        epoch: u64,
        plaintext: &[u8],
    ) -> crate::Result<()> {
        let sealed = self.field.seal(&mut OsRng, &sent_context(gid), plaintext);
        self.db.conn().execute(
            "INSERT INTO group_sent (group_id, epoch, plaintext) VALUES (?1, ?2, ?3)",
            params![gid, epoch as i64, sealed],
        )?;
        Ok(())
    }

    /// Re-sends what we sent in epochs a rollback undid (receivers dedupe
    /// by message id).
    fn resend_undone(&mut self, gid: &[u8], to_epoch: u64) -> Result<(), Fail> {
        let mut stmt = self.db.conn().prepare(
            "SELECT id, plaintext FROM group_sent WHERE group_id = ?1 AND epoch > ?2 ORDER BY id",
        )?;
        let rows: Vec<(i64, Vec<u8>)> = stmt
            .query_map(params![gid, to_epoch as i64], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        drop(stmt);
        if rows.is_empty() {
            return Ok(());
        }
        let recipients = if self.is_group(gid)? {
            self.group_recipients(gid).map_err(Fail::from)?
        } else {
            match self.contacts_store().by_conversation(gid)?.and_then(|c| c.certificate) {
                Some(cert) => vec![cert],
                None => return Ok(()),
            }
        };
        let epoch = self.mls.epoch(gid).map_err(reject)?;
        for (id, sealed) in rows {
            let Ok(plain) = self.field.open(&sent_context(gid), &sealed) else { continue };
            let mls = self.mls.encrypt(gid, &plain).map_err(reject)?;
            let mid = kovan_spec::decode::<wire::AppEnvelope>(&plain)
                .ok()
                .and_then(|e| <[u8; 16]>::try_from(e.message_id.as_slice()).ok());
            for r in &recipients {
                self.enqueue(r, PayloadKind::MlsMessage, &mls, Some(gid), mid.as_ref())?;
            }
            self.db.conn().execute(
                "UPDATE group_sent SET epoch = ?2 WHERE id = ?1",
                params![id, epoch as i64],
            )?;
        }
        Ok(())
    }

    // -----------------------------------------------------------------
    // Parking (SPEC.md §7.6.5)
    // -----------------------------------------------------------------

    pub(super) fn park(&mut self, o: &Opened, gid: &[u8], epoch: u64) -> Result<(), Fail> {
        let now = now_ms();
        let conn = self.db.conn();
        conn.execute("DELETE FROM group_parked WHERE parked_at < ?1", params![now - PARK_TTL_MS])?;
        let n: i64 = conn.query_row(
            "SELECT COUNT(*) FROM group_parked WHERE group_id = ?1",
            params![gid],
            |r| r.get(0),
        )?;
        if n >= MAX_PARKED {
            return Err(Fail::Later("too many messages waiting for this group".into()));
        }
        let digest: [u8; 32] = Sha256::digest(&o.payload).into();
        conn.execute(
            "INSERT OR IGNORE INTO group_parked (digest, group_id, epoch, sender, envelope_id, \
             timestamp_ms, payload, parked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                digest.as_slice(),
                gid,
                epoch as i64,
                o.sender.encoded(),
                o.envelope_id.as_slice(),
                o.timestamp_ms as i64,
                o.payload,
                now
            ],
        )?;
        tracing::debug!(epoch, "parked a group message for a later epoch");
        Ok(())
    }

    /// Applies parked messages whose epoch the group has reached.
    pub(super) fn replay_parked(&mut self, gid: &[u8]) -> Result<(), Fail> {
        if self.replaying {
            return Ok(());
        }
        self.replaying = true;
        let result = self.replay_rounds(gid);
        self.replaying = false;
        result
    }

    fn replay_rounds(&mut self, gid: &[u8]) -> Result<(), Fail> {
        type Row = (Vec<u8>, Vec<u8>, Vec<u8>, i64, Vec<u8>);
        for _round in 0..64 {
            let Ok(current) = self.mls.epoch(gid) else { return Ok(()) };
            let mut stmt = self.db.conn().prepare(
                "SELECT digest, sender, envelope_id, timestamp_ms, payload FROM group_parked \
                 WHERE group_id = ?1 AND epoch <= ?2 ORDER BY epoch, parked_at",
            )?;
            let rows: Vec<Row> = stmt
                .query_map(params![gid, current as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            drop(stmt);
            if rows.is_empty() {
                return Ok(());
            }
            for (digest, sender, envelope_id, ts, payload) in rows {
                self.db
                    .conn()
                    .execute("DELETE FROM group_parked WHERE digest = ?1", params![digest])?;
                let (Ok(sender), Ok(envelope_id)) =
                    (DeviceCertificate::parse(&sender), <[u8; 16]>::try_from(envelope_id))
                else {
                    continue;
                };
                let contact = self.contacts_store().get(sender.account().as_bytes())?;
                if contact.as_ref().is_some_and(|c| c.blocked) {
                    continue;
                }
                let opened = Opened {
                    sender,
                    kind: PayloadKind::MlsMessage,
                    payload,
                    timestamp_ms: ts as u64,
                    envelope_id,
                };
                let tx = self.db.tx();
                let mark = self.pending_events.len();
                match tx.savepoint(|| self.apply_mls(&opened, contact, false)) {
                    Ok(()) => {}
                    Err(Fail::Local(e)) => return Err(Fail::Local(e)),
                    Err(_) => {
                        self.groups_changed();
                        self.pending_events.truncate(mark);
                        tracing::debug!("a parked group message was dropped");
                    }
                }
            }
            if self.mls.epoch(gid).ok() == Some(current) {
                return Ok(());
            }
        }
        Ok(())
    }

    // -----------------------------------------------------------------
    // Inbound control messages and Welcomes
    // -----------------------------------------------------------------

    pub(super) fn apply_group_control(
        &mut self,
        o: &Opened,
        contact: Option<ContactRow>,
    ) -> Result<(), Fail> {
        let m = validate_group_control(&o.payload).map_err(reject)?;
        let account = *o.sender.account().as_bytes();
        match m.body {
            GroupControlBody::Invite { group_id, group_name, members, recipient_account } => {
                if recipient_account != self.my_account() {
                    return Err(reject("an invitation for another account"));
                }
                // Invitations come from friends only.
                if !contact.as_ref().is_some_and(|c| c.state == FriendState::Friend) {
                    tracing::debug!("dropped a group invitation from someone who is not a friend");
                    return Ok(());
                }
                if self.history().group(&group_id)?.is_some_and(|g| g.1 == "member") {
                    return Ok(());
                }
                if self.invitation(&m.invitation_id)?.is_some() {
                    return Ok(());
                }
                let inv = Invitation {
                    id: m.invitation_id,
                    group_id,
                    incoming: true,
                    account,
                    device: o.sender.clone(),
                    group_name,
                    members,
                    state: "pending".into(),
                };
                self.put_invitation(&inv)?;
                let view = self.invitation_view(&inv);
                self.emit(Event::GroupInvitation { invitation: view });
            }
            GroupControlBody::Accept { key_package } => {
                let Some(mut inv) = self
                    .invitation(&m.invitation_id)?
                    .filter(|i| !i.incoming && i.account == account && i.state == "pending")
                else {
                    return Err(reject("no pending invitation for this answer"));
                };
                let device = self
                    .mls
                    .inspect_key_package(&key_package, now_secs())
                    .map_err(|e| reject(format!("invitation answer: {e}")))?;
                if device.digest() != o.sender.digest() {
                    return Err(reject("the key package is not the answering device's"));
                }
                let intent = Intent::Add { key_package, invitation_id: inv.id };
                match self.mls.commit(&self.db, &inv.group_id, &intent, now_secs()) {
                    Ok(Some(c)) => {
                        let gid = inv.group_id.clone();
                        self.after_own_commit(&gid, c)?;
                        inv.state = "joined".into();
                    }
                    Ok(None) => inv.state = "joined".into(),
                    Err(e) => {
                        // No longer possible (banned since, we lost the
                        // right, the group was deleted): say so locally.
                        tracing::info!(error = %e, "an accepted invitation could not be honoured");
                        inv.state = "refused".into();
                    }
                }
                self.put_invitation(&inv)?;
                let view = self.invitation_view(&inv);
                self.emit(Event::GroupInvitation { invitation: view });
            }
            GroupControlBody::Decline => {
                if let Some(mut inv) = self
                    .invitation(&m.invitation_id)?
                    .filter(|i| !i.incoming && i.account == account && i.state == "pending")
                {
                    inv.state = "declined".into();
                    self.put_invitation(&inv)?;
                    let view = self.invitation_view(&inv);
                    self.emit(Event::GroupInvitation { invitation: view });
                }
            }
            _ => return Err(reject("unknown group control message")),
        }
        Ok(())
    }

    /// A Welcome from `o.sender`: joins the group of an invitation we
    /// accepted from that account. `Ok(false)` if no such invitation.
    pub(super) fn apply_group_welcome(&mut self, o: &Opened) -> Result<bool, Fail> {
        let account = *o.sender.account().as_bytes();
        let candidates = self.invitations_where(
            "incoming = 1 AND account = ?1 AND state IN ('accepted', 'joined')",
            &[&account.as_slice()],
        )?;
        if candidates.is_empty() {
            return Ok(false);
        }
        let now = now_secs();
        let mut last_err = None;
        for mut inv in candidates {
            match self.mls.join_group(&self.db, &o.payload, &inv.group_id, now) {
                Ok(joined) => {
                    self.groups_changed();
                    self.mls_changed();
                    let gid = joined.group_id;
                    self.history().ensure_conversation(&gid, None, now_ms())?;
                    let name = self
                        .mls
                        .group_state(&gid, now)
                        .ok()
                        .and_then(|s| s.meta)
                        .map(|m| m.name)
                        .unwrap_or_else(|| inv.group_name.clone());
                    self.history().set_group(&gid, &name, "member")?;
                    self.db.conn().execute(
                        "UPDATE conversations SET closed = 0 WHERE id = ?1",
                        params![gid],
                    )?;
                    inv.state = "joined".into();
                    self.put_invitation(&inv)?;
                    let view = self.group_view(&gid).map_err(Fail::from)?;
                    self.emit(Event::GroupChanged { group: view });
                    self.replay_parked(&gid)?;
                    return Ok(true);
                }
                Err(e) => last_err = Some(e),
            }
        }
        match last_err {
            Some(ConversationError::Refused(r)) => {
                tracing::info!(reason = %r, "dropped a group Welcome");
                Ok(true)
            }
            Some(e) => Err(reject(e)),
            None => Ok(false),
        }
    }
}

/// A change to a group, from the API.
#[derive(Debug, Clone)]
pub enum GroupChange {
    /// New name.
    Rename(String),
    /// New description.
    Describe(String),
    /// Make a member admin (true) or not.
    Admin(String, bool),
    /// Let members invite.
    MembersInvite(bool),
    /// Remove a member.
    Remove(String),
    /// Remove and ban.
    Ban(String),
    /// Lift a ban.
    Unban(String),
    /// Dissolve the group.
    Delete,
}
