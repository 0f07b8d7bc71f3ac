//! Invite links (A5, SPEC.md §7.4.1) on the core thread: making, listing
//! and revoking the links this user shares, and deciding whether a friend
//! request carries a live token of one of them (`friends.rs` asks). The
//! link names the relay username when this device is signed in to a
//! relay, else one of its addresses.

use libp2p::Multiaddr;

use super::{Core, now_ms};
use crate::control::{s, to_value};
use crate::invites::{InviteLink, InviteRow, Invites, MAX_LABEL};
use crate::node::views::{self, InviteView};
use crate::node::{NodeError, NodeHandle, NodeResult};

impl Core {
    pub(super) fn invites_store(&self) -> Invites<'_> {
        Invites::new(&self.db, &self.field)
    }

    /// The id of the live invite `token` belongs to, if any.
    pub(super) fn live_invite(
        &self,
        token: &[u8; 16],
        now: i64,
    ) -> crate::Result<Option<[u8; 16]>> {
        Ok(self.invites_store().by_token(token)?.filter(|r| r.live(now)).map(|r| r.id))
    }

    fn invite_view(&self, row: &InviteRow, addr: Option<&Multiaddr>, now: i64) -> InviteView {
        let username = self.relay.as_ref().and_then(|r| r.session.as_ref().and(r.username.clone()));
        let link = InviteLink {
            addr: match &username {
                Some(_) => None,
                None => addr.map(|a| a.to_string()),
            },
            username,
            account: self.my_account(),
            token: row.token,
        };
        InviteView::new(row, link.to_string(), now)
    }

    fn invite_create(
        &mut self,
        label: &str,
        expires_in_ms: Option<i64>,
        max_uses: Option<u32>,
        addr: Option<Multiaddr>,
    ) -> NodeResult<InviteView> {
        let label = label.trim();
        if label.len() > MAX_LABEL {
            return Err(NodeError::Invalid(format!(
                "an invite's label is at most {MAX_LABEL} bytes"
            )));
        }
        if max_uses == Some(0) {
            return Err(NodeError::Invalid("an invite admits at least one request".into()));
        }
        if expires_in_ms.is_some_and(|ms| ms <= 0) {
            return Err(NodeError::Invalid("an invite must be valid for some time".into()));
        }
        let now = now_ms();
        let expires_at = expires_in_ms.map(|ms| now.saturating_add(ms));
        let row = self.invites_store().create(label, now, expires_at, max_uses)?;
        Ok(self.invite_view(&row, addr.as_ref(), now))
    }

    fn invites(&mut self, addr: Option<Multiaddr>) -> NodeResult<Vec<InviteView>> {
        let now = now_ms();
        let rows = self.invites_store().list()?;
        Ok(rows.iter().map(|r| self.invite_view(r, addr.as_ref(), now)).collect())
    }

    fn invite_revoke(&mut self, id: [u8; 16]) -> NodeResult<InviteView> {
        if !self.invites_store().revoke(&id)? {
            return Err(NodeError::NotFound("no invite with that id".into()));
        }
        let row =
            self.invites_store().get(&id)?.ok_or_else(|| NodeError::NotFound("gone".into()))?;
        Ok(self.invite_view(&row, None, now_ms()))
    }
}

/// Invite links.
impl NodeHandle {
    /// An address people can dial this device at, for links made while
    /// not signed in to a relay.
    async fn link_addr(&self) -> Option<Multiaddr> {
        let addrs = self.listen_addrs().await.ok()?;
        let best = addrs.iter().find(|a| !crate::net::is_loopback(a)).or(addrs.first())?.clone();
        Some(best.with(libp2p::multiaddr::Protocol::P2p(self.peer_id())))
    }

    /// Makes an invite link (A5): whoever has it may send this account a
    /// friend request even when the friend-request policy is `link` (or
    /// `nobody`), until it expires (`expires_in_ms`), is used `max_uses`
    /// times, or is revoked.
    pub async fn invite_create(
        &self,
        label: &str,
        expires_in_ms: Option<i64>,
        max_uses: Option<u32>,
    ) -> NodeResult<InviteView> {
        let label = label.to_owned();
        let addr = self.link_addr().await;
        self.call(move |c| c.invite_create(&label, expires_in_ms, max_uses, addr)).await
    }

    /// This account's invite links, newest first, with their state.
    pub async fn invites(&self) -> NodeResult<Vec<InviteView>> {
        let addr = self.link_addr().await;
        self.call(move |c| c.invites(addr)).await
    }

    /// Revokes an invite link: requests carrying it are dropped from now on.
    pub async fn invite_revoke(&self, id: &str) -> NodeResult<InviteView> {
        let id = views::parse_id(id, "an invite id")?;
        self.call(move |c| c.invite_revoke(id)).await
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "invite_create" => {
        let uses = match p["max_uses"].as_u64() {
            Some(n) => Some(u32::try_from(n).map_err(|_| {
                NodeError::Invalid("\"max_uses\" is at most 4294967295".into())
            })?),
            None => None,
        };
        let expires = p["expires_in_ms"].as_i64();
        to_value(node.invite_create(p["label"].as_str().unwrap_or(""), expires, uses).await?)
    }
    "invites" => to_value(node.invites().await?),
    "invite_revoke" => to_value(node.invite_revoke(s(p, "id")?).await?),
});
