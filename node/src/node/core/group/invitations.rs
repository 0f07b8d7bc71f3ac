//! Group invitations (SPEC.md §7.6.2): sending one to a friend, answering
//! one, the Welcome that follows an accepted one, and the other group
//! control messages (`PAYLOAD_KIND_GROUP`) that arrive.

use kovan_crypto::envelope::{Opened, PayloadKind};
use kovan_crypto::identity::DeviceCertificate;
use kovan_spec::{ConversationMode, GroupControlBody, validate_group_control, wire};
use rand_core::{OsRng, RngCore};
use rusqlite::params;

use super::super::{Core, Fail, Path, internal, now_ms, reject};
use super::conv_err;
use crate::contacts::{ContactRow, FriendState};
use crate::conversation::ConversationError;
use crate::groups::Intent;
use crate::identity::now_secs;
use crate::node::views::{Event, InvitationView};
use crate::node::{NodeError, NodeResult};

/// A row of `group_invitations`.
#[derive(Debug, Clone)]
pub(in crate::node::core) struct Invitation {
    pub id: [u8; 16],
    pub group_id: Vec<u8>,
    pub incoming: bool,
    pub account: [u8; 32],
    pub device: DeviceCertificate,
    pub group_name: String,
    pub members: u32,
    pub state: String,
    /// The group's mode, as the invitation said (SPEC.md §7.8).
    pub mode: ConversationMode,
    /// A chat between two accounts.
    pub pair: bool,
}

fn mode_name(s: &str) -> ConversationMode {
    match s {
        "direct_only" => ConversationMode::DirectOnly,
        "no_trace" => ConversationMode::NoTrace,
        _ => ConversationMode::Normal,
    }
}

pub(super) fn name_context(id: &[u8; 16]) -> Vec<u8> {
    let mut c = b"group_invitations/name/".to_vec();
    c.extend_from_slice(id);
    c
}

impl Core {
    pub(in crate::node::core) fn put_invitation(&self, inv: &Invitation) -> crate::Result<()> {
        let sealed = self.field.seal(&mut OsRng, &name_context(&inv.id), inv.group_name.as_bytes());
        let now = now_ms();
        self.db.conn().execute(
            "INSERT INTO group_invitations (invitation_id, group_id, incoming, account, \
             device_certificate, group_name, members, state, created_at, updated_at, mode, pair) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11) \
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
                now,
                inv.mode.name(),
                inv.pair,
            ],
        )?;
        Ok(())
    }

    pub(in crate::node::core) fn invitations_where(
        &self,
        clause: &str,
        p: &[&dyn rusqlite::ToSql],
    ) -> crate::Result<Vec<Invitation>> {
        let mut stmt = self.db.conn().prepare(&format!(
            "SELECT invitation_id, group_id, incoming, account, device_certificate, group_name, \
             members, state, mode, pair FROM group_invitations WHERE {clause} \
             ORDER BY created_at DESC"
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
                    r.get::<_, String>(8)?,
                    r.get::<_, bool>(9)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = Vec::new();
        for (id, group_id, incoming, account, cert, name, members, state, mode, pair) in rows {
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
                mode: mode_name(&mode),
                pair,
            });
        }
        Ok(out)
    }

    pub(in crate::node::core) fn invitation(
        &self,
        id: &[u8; 16],
    ) -> crate::Result<Option<Invitation>> {
        Ok(self.invitations_where("invitation_id = ?1", &[&id.as_slice()])?.into_iter().next())
    }

    pub(in crate::node::core) fn invitation_view(&self, inv: &Invitation) -> InvitationView {
        InvitationView {
            id: hex::encode(inv.id),
            group: hex::encode(&inv.group_id),
            group_name: inv.group_name.clone(),
            members: inv.members,
            incoming: inv.incoming,
            account: hex::encode(inv.account),
            name: self.member_name(&inv.device),
            state: inv.state.clone(),
            mode: inv.mode.name(),
            pair: inv.pair,
        }
    }

    /// Queues a control message about an invitation; one about a group
    /// whose payload travels only directly goes only directly too.
    pub(in crate::node::core) fn send_control(
        &self,
        to: &DeviceCertificate,
        id: [u8; 16],
        body: wire::group_control::Body,
        mode: ConversationMode,
    ) -> NodeResult<()> {
        let msg = wire::GroupControl { version: 1, invitation_id: id.to_vec(), body: Some(body) };
        let payload = kovan_spec::encode(&msg);
        self.enqueue_as(to, PayloadKind::Group, &payload, None, None, mode.direct_only())
    }

    pub(in crate::node::core) fn group_invite(
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
            mode: meta.mode,
            pair: meta.pair,
        };
        let body = wire::group_control::Body::Invite(wire::GroupInvite {
            group_id: gid.clone(),
            group_name: meta.name.clone(),
            members: st.members.len() as u32,
            recipient_account: c.account.to_vec(),
            mode: meta.mode.to_wire(),
            pair: meta.pair,
        });
        self.db.atomic(|| -> NodeResult<()> {
            self.put_invitation(&inv)?;
            self.send_control(&device, id, body, meta.mode)
        })?;
        self.pump();
        Ok(self.invitation_view(&inv))
    }

    pub(in crate::node::core) fn group_invitations(&mut self) -> NodeResult<Vec<InvitationView>> {
        Ok(self.invitations_where("1 = 1", &[])?.iter().map(|i| self.invitation_view(i)).collect())
    }

    pub(in crate::node::core) fn group_answer(
        &mut self,
        id: &str,
        accept: bool,
    ) -> NodeResult<InvitationView> {
        let bytes: [u8; 16] =
            hex::decode(id.trim()).ok().and_then(|b| b.try_into().ok()).ok_or_else(|| {
                NodeError::Invalid(format!(
                    "{} is not an invitation id",
                    crate::node::views::shown(id)
                ))
            })?;
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
            self.send_control(&inv.device, inv.id, body, inv.mode)
        })?;
        self.pump();
        Ok(self.invitation_view(&inv))
    }

    pub(in crate::node::core) fn apply_group_control(
        &mut self,
        o: &Opened,
        contact: Option<ContactRow>,
        path: Path,
    ) -> Result<(), Fail> {
        let m = validate_group_control(&o.payload).map_err(reject)?;
        let account = *o.sender.account().as_bytes();
        match m.body {
            GroupControlBody::Invite {
                group_id,
                group_name,
                members,
                recipient_account,
                mode,
                pair,
            } => {
                if recipient_account != self.my_account() {
                    return Err(reject("an invitation for another account"));
                }
                if mode.direct_only() && path != Path::Direct {
                    return Err(reject("an invitation to a direct-only chat came through a relay"));
                }
                if mode == ConversationMode::NoTrace {
                    // Nothing here can keep a conversation off the disk yet.
                    return Err(reject("this device cannot take part in leave-no-trace chats"));
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
                    mode,
                    pair,
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
                    .inspect_last_resort_key_package(&key_package, now_secs())
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
    pub(in crate::node::core) fn apply_group_welcome(
        &mut self,
        o: &Opened,
        path: Path,
    ) -> Result<bool, Fail> {
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
                    let meta = self.mls.group_state(&gid, now).ok().and_then(|s| s.meta);
                    // The mode is what the invitee agreed to (§7.8): a
                    // Welcome that names another is refused, and one to a
                    // direct-only chat must come directly.
                    let (mode, pair) = meta.as_ref().map(|m| (m.mode, m.pair)).unwrap_or_default();
                    if (mode, pair) != (inv.mode, inv.pair) {
                        return Err(reject("the group's mode is not the one its invitation named"));
                    }
                    if mode.direct_only() && path != Path::Direct {
                        return Err(reject("a Welcome to a direct-only chat came through a relay"));
                    }
                    self.history().ensure_conversation(&gid, None, now_ms())?;
                    let name = meta.map(|m| m.name).unwrap_or_else(|| inv.group_name.clone());
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
