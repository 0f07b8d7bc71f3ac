//! Settings this device enforces itself (the friend-request policy,
//! read receipts) and the node's status overview.

use libp2p::Multiaddr;

use super::Core;
use crate::contacts::FriendState;
use crate::control::to_value;
use crate::node::views::Status;
use crate::node::{NodeError, NodeHandle, NodeResult};
use serde_json::json;

impl Core {
    pub(super) fn set_friend_policy(&mut self, policy: &str) -> NodeResult<()> {
        self.db.set_setting("friend_policy", policy.as_bytes())?;
        Ok(())
    }

    pub(super) fn set_read_receipts(&mut self, on: bool) -> NodeResult<()> {
        self.db.set_setting("read_receipts", if on { b"1" } else { b"0" })?;
        self.read_receipts = on;
        Ok(())
    }

    pub(super) fn status(
        &mut self,
        listen: Vec<Multiaddr>,
        connected: usize,
    ) -> NodeResult<Status> {
        let contacts = self.contacts_store().list()?;
        Ok(Status {
            account: hex::encode(self.my_account()),
            peer_id: self.net.peer_id().to_string(),
            listen: listen.iter().map(|a| a.to_string()).collect(),
            dial: listen
                .iter()
                .filter(|a| !crate::net::is_circuit(a))
                .map(|a| a.clone().with(libp2p::multiaddr::Protocol::P2p(self.net.peer_id())))
                .map(|a| a.to_string())
                .collect(),
            connected_peers: connected,
            relay_url: self.options.relay_url.clone(),
            username: self.relay.as_ref().and_then(|r| r.session.as_ref().and(r.username.clone())),
            relay_connected: self.relay.as_ref().is_some_and(|r| r.connected),
            friends: contacts.iter().filter(|c| c.state == FriendState::Friend).count(),
            incoming_requests: contacts.iter().filter(|c| c.state == FriendState::Incoming).count(),
            outbox: self.outbox().len()?,
            read_receipts: self.read_receipts,
            restored: self
                .db
                .setting(crate::backup::RESTORED)?
                .and_then(|v| serde_json::from_slice(&v).ok()),
            restored_at_start: self.restored_at_start,
        })
    }
}

/// Status and settings enforced on this device.
impl NodeHandle {
    /// An overview: identity, relay, counts, addresses.
    pub async fn status(&self) -> NodeResult<Status> {
        let addrs = self.listen_addrs().await?;
        let connected = self.inner.net.connected().await.map_err(|_| NodeError::Stopped)?;
        self.call(move |c| c.status(addrs, connected.len())).await
    }

    /// Turns read receipts on or off.
    pub async fn set_read_receipts(&self, on: bool) -> NodeResult<()> {
        self.call(move |c| c.set_read_receipts(on)).await
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "status" => to_value(node.status().await?),
    "read_receipts" => {
        let on =
            p["on"].as_bool().ok_or_else(|| NodeError::Invalid("missing \"on\"".into()))?;
        node.set_read_receipts(on).await?;
        Ok(json!({"read_receipts": on}))
    }
});
