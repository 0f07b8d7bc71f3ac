//! Groups (SPEC.md §7.6): lookups and views, creating a group and the
//! changes a member commits (rename, roles, remove, ban, delete, leave,
//! mute), the handle's group methods and their control-socket methods.
//! Invitations are in `invitations`, what follows a commit (ours or
//! theirs, key refreshes, re-sends after a rollback) in `commits`, and
//! messages for epochs not reached yet in `parking`.

use kovan_crypto::envelope::PayloadKind;
use kovan_crypto::identity::DeviceCertificate;
use kovan_spec::ValidatedGroupMeta;

use super::{Core, internal, now_ms};
use crate::control::{s, to_value};
use crate::conversation::ConversationError;
use crate::groups::{Intent, MetaChange};
use crate::identity::now_secs;
use crate::node::views::{Event, GroupView, InvitationView, MemberView};
use crate::node::{NodeError, NodeHandle, NodeResult};

mod commits;
mod invitations;
mod parking;

pub(super) fn conv_err(e: ConversationError) -> NodeError {
    match e {
        ConversationError::Refused(r) => NodeError::State(r),
        ConversationError::UnknownGroup => NodeError::NotFound("no such group".into()),
        ConversationError::Storage(s) => NodeError::Local(crate::Error::Internal(s)),
        other => NodeError::Invalid(other.to_string()),
    }
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
            0 => Err(NodeError::NotFound(format!("no group {}", crate::node::views::shown(who)))),
            1 => Ok(hits[0].clone()),
            _ => Err(NodeError::Invalid(format!(
                "several groups are called {}; use the id",
                crate::node::views::shown(who)
            ))),
        }
    }

    pub(super) fn member_name(&self, cert: &DeviceCertificate) -> String {
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
            mode: "normal",
            pair: false,
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
        view.mode = meta.mode.name();
        view.pair = meta.pair;
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

    pub(in crate::node::core) fn find_member(
        &self,
        group: &[u8],
        who: &str,
    ) -> NodeResult<[u8; 32]> {
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
            _ => {
                return Err(NodeError::Invalid(format!(
                    "{} matches several members",
                    crate::node::views::shown(who)
                )));
            }
        };
        hex::decode(&pick)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| internal("bad account"))
    }

    // -----------------------------------------------------------------
    // Invitations
    // -----------------------------------------------------------------

    // -----------------------------------------------------------------
    // The API
    // -----------------------------------------------------------------

    pub(in crate::node) fn group_create(
        &mut self,
        name: &str,
        description: &str,
        members_invite: bool,
    ) -> NodeResult<GroupView> {
        let meta = ValidatedGroupMeta {
            admins: vec![self.my_account()],
            members_invite,
            ..Default::default()
        };
        self.group_create_as(meta, name, description)
    }

    /// Creates a group whose meta starts as `meta` (roles, mode), named.
    pub(in crate::node) fn group_create_as(
        &mut self,
        mut meta: ValidatedGroupMeta,
        name: &str,
        description: &str,
    ) -> NodeResult<GroupView> {
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

    // -----------------------------------------------------------------
    // Parking (SPEC.md §7.6.5)
    // -----------------------------------------------------------------

    // -----------------------------------------------------------------
    // Inbound control messages and Welcomes
    // -----------------------------------------------------------------
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

// ---------------------------------------------------------------------
// The handle
// ---------------------------------------------------------------------

/// Groups: creating, inviting, answering, changing, leaving, muting.
impl NodeHandle {
    /// Creates a group (G1) with this account as its admin.
    pub async fn group_create(
        &self,
        name: &str,
        description: &str,
        members_invite: bool,
    ) -> NodeResult<GroupView> {
        let (name, description) = (name.to_owned(), description.to_owned());
        self.call(move |c| c.group_create(&name, &description, members_invite)).await
    }

    /// Invites a friend into a group (G2); they accept or decline (G3).
    pub async fn group_invite(&self, group: &str, friend: &str) -> NodeResult<InvitationView> {
        let (group, friend) = (group.to_owned(), friend.to_owned());
        self.call(move |c| c.group_invite(&group, &friend)).await
    }

    /// Group invitations, sent and received, newest first.
    pub async fn group_invitations(&self) -> NodeResult<Vec<InvitationView>> {
        self.call(|c| c.group_invitations()).await
    }

    /// Accepts (joins through the Welcome that follows) or declines an
    /// invitation.
    pub async fn group_answer(&self, invitation: &str, accept: bool) -> NodeResult<InvitationView> {
        let invitation = invitation.to_owned();
        self.call(move |c| c.group_answer(&invitation, accept)).await
    }

    /// One group: name, members and roles as its MLS state has them.
    pub async fn group(&self, group: &str) -> NodeResult<GroupView> {
        let group = group.to_owned();
        self.call(move |c| c.group_info(&group)).await
    }

    /// Every group this device is or was in.
    pub async fn groups(&self) -> NodeResult<Vec<GroupView>> {
        self.call(|c| c.groups()).await
    }

    /// Commits a change to a group (rename, roles, remove, ban, delete…).
    pub async fn group_change(&self, group: &str, change: GroupChange) -> NodeResult<GroupView> {
        let group = group.to_owned();
        self.call(move |c| c.group_change(&group, change)).await
    }

    /// Leaves a group (G4): proposes our removal and forgets its keys.
    pub async fn group_leave(&self, group: &str) -> NodeResult<GroupView> {
        let group = group.to_owned();
        self.call(move |c| c.group_leave(&group)).await
    }

    /// Mutes (or unmutes) a member for ourselves only (G7).
    pub async fn group_mute(&self, group: &str, member: &str, on: bool) -> NodeResult<GroupView> {
        let (group, member) = (group.to_owned(), member.to_owned());
        self.call(move |c| c.group_mute(&group, &member, on)).await
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "group_create" => {
        let mode = super::modes::parse_mode(p["mode"].as_str().unwrap_or("normal"))?;
        to_value(
            node.group_create_in_mode(
                s(p, "name")?,
                p["description"].as_str().unwrap_or(""),
                p["members_invite"].as_bool().unwrap_or(false),
                mode,
            )
            .await?,
        )
    }
    "groups" => to_value(node.groups().await?),
    "group" => to_value(node.group(s(p, "group")?).await?),
    "group_invite" => to_value(node.group_invite(s(p, "group")?, s(p, "who")?).await?),
    "group_invitations" => to_value(node.group_invitations().await?),
    "group_answer" => to_value(
        node.group_answer(s(p, "invitation")?, p["accept"].as_bool().unwrap_or(false)).await?,
    ),
    "group_change" => {
        let value = || s(p, "value").map(str::to_owned);
        let change = match s(p, "change")? {
            "rename" => GroupChange::Rename(value()?),
            "describe" => GroupChange::Describe(value()?),
            "admin" => GroupChange::Admin(value()?, true),
            "unadmin" => GroupChange::Admin(value()?, false),
            "members_invite" => GroupChange::MembersInvite(p["on"].as_bool().unwrap_or(false)),
            "remove" => GroupChange::Remove(value()?),
            "ban" => GroupChange::Ban(value()?),
            "unban" => GroupChange::Unban(value()?),
            "delete" => GroupChange::Delete,
            other => {
                return Err(NodeError::Invalid(format!(
                    "unknown group change {}",
                    crate::node::views::shown(other)
                )));
            }
        };
        to_value(node.group_change(s(p, "group")?, change).await?)
    }
    "group_leave" => to_value(node.group_leave(s(p, "group")?).await?),
    "group_mute" => to_value(
        node.group_mute(s(p, "group")?, s(p, "who")?, p["on"].as_bool().unwrap_or(true))
            .await?,
    ),
});
