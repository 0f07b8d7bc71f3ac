//! Peers on the core thread: network events (connections, identify,
//! mDNS discoveries, inbound envelope batches handed to `inbound`),
//! presence (who has an open connection, when each was last seen), the
//! cards of LAN peers, and the addresses learnt for contacts.

use std::collections::HashSet;

use kovan_crypto::identity::DeviceCertificate;
use libp2p::{Multiaddr, PeerId};

use super::{Core, Input, Path, now_ms};
use crate::contacts::FriendState;
use crate::control::s;
use crate::identity::now_secs;
use crate::net::NetEvent;
use crate::node::views::{self, ContactView, Event, LanPeer, SearchResult};
use crate::node::{DIRECT_TIMEOUT, Job, NodeError, NodeHandle, NodeResult};
use serde_json::json;

/// A LAN peer: its addresses, and its card once checked.
pub(super) type LanEntry = (Vec<Multiaddr>, Option<(DeviceCertificate, String)>);

impl Core {
    pub(super) fn on_net(&mut self, ev: NetEvent) {
        match ev {
            NetEvent::Listening(a) => self.emit(Event::Listening { addr: a.to_string() }),
            NetEvent::Connected(peer) => {
                let p = peer.to_string();
                if self.outbox().retry_now(&p, now_ms()).unwrap_or(false) {
                    self.pump();
                }
                self.retry_files_from(&p);
                // Online once the peer answered identify on it: a
                // connection the other side refuses (it blocked us, S5)
                // never gets that far.
                self.seen(peer);
                self.emit(Event::PeerConnected { peer_id: p });
            }
            NetEvent::Disconnected(peer) => {
                self.presence(peer, false);
                self.emit(Event::PeerDisconnected { peer_id: peer.to_string() })
            }
            NetEvent::Identified { peer, addrs } => {
                self.presence(peer, true);
                let direct: Vec<Multiaddr> =
                    addrs.iter().filter(|a| !crate::net::is_circuit(a)).take(8).cloned().collect();
                if self.peer_addrs.len() >= 4096 && !self.peer_addrs.contains_key(&peer) {
                    self.peer_addrs.clear();
                }
                self.peer_addrs.insert(peer, direct);
                self.learn_addrs(peer, &addrs, false)
            }
            NetEvent::Discovered { peer, addrs } => {
                self.learn_addrs(peer, &addrs, true);
                let entry = self.lan.entry(peer).or_insert_with(|| (Vec::new(), None));
                for a in addrs {
                    if !entry.0.contains(&a) {
                        entry.0.push(a);
                    }
                }
                if entry.1.is_none() {
                    self.fetch_lan_card(peer);
                }
            }
            NetEvent::DirectPath(peer) => {
                // Direct-only payload waiting for this device can go now.
                let queue =
                    super::delivery::queue_name(&peer.to_string(), super::delivery::Queue::Direct);
                if self.outbox().retry_now(&queue, now_ms()).unwrap_or(false) {
                    self.pump();
                }
            }
            NetEvent::Reachable(addr) => {
                tracing::info!(%addr, "reachable through the relay");
            }
            NetEvent::Envelope { id, from, envelopes, relayed } => {
                self.seen(from);
                let path = if relayed { Path::Relayed } else { Path::Direct };
                let statuses = self.on_envelopes(&envelopes, Some(from), path);
                let net = self.net.clone();
                self.spawn(async move {
                    let _ = net.respond(id, statuses).await;
                });
            }
        }
    }

    /// A connection to `peer` opened or its last one closed: a contact's
    /// presence changes.
    pub(super) fn presence(&mut self, peer: PeerId, online: bool) {
        let changed = if online { self.online.insert(peer) } else { self.online.remove(&peer) };
        self.seen(peer);
        if !changed {
            return;
        }
        if let Ok(Some(c)) = self.contacts_store().by_peer(&peer.to_string()) {
            let last_seen = self.last_seen.get(&peer).copied();
            self.emit(Event::Presence { account: hex::encode(c.account), online, last_seen });
        }
    }

    /// `peer` is there now (connected, or delivered something).
    pub(super) fn seen(&mut self, peer: PeerId) {
        // Bounded like `peer_addrs`: strangers' connections must not grow it.
        if self.last_seen.len() >= 4096 && !self.last_seen.contains_key(&peer) {
            self.last_seen.retain(|p, _| self.online.contains(p));
        }
        self.last_seen.insert(peer, self.options.clock.now_ms());
    }

    /// Hands the net task the friends' devices whose connections stay
    /// open (presence is what open connections show; an idle one would
    /// otherwise close and the friend look offline while both run).
    pub(super) fn keep_friends(&mut self) {
        let Ok(list) = self.contacts_store().list() else { return };
        let friends: HashSet<PeerId> = list
            .iter()
            .filter(|c| c.state == FriendState::Friend && !c.blocked)
            .filter_map(|c| c.peer_id.as_deref()?.parse().ok())
            .collect();
        if friends != self.kept && self.net.keep_alive(friends.clone()) {
            self.kept = friends;
        }
    }

    /// A contact's presence for its view.
    pub(super) fn with_presence(&self, mut v: ContactView) -> ContactView {
        if let Some(peer) = v.peer_id.as_deref().and_then(|p| p.parse::<PeerId>().ok()) {
            v.online = self.online.contains(&peer);
            v.last_seen = self.last_seen.get(&peer).copied();
        }
        v
    }

    pub(super) fn fetch_lan_card(&mut self, peer: PeerId) {
        let net = self.net.clone();
        let input = self.input.clone();
        let addrs = self.lan.get(&peer).map(|e| e.0.clone()).unwrap_or_default();
        self.spawn(async move {
            if tokio::time::timeout(DIRECT_TIMEOUT, net.dial(peer, addrs)).await.is_err() {
                return;
            }
            let Ok(Ok(card)) = tokio::time::timeout(DIRECT_TIMEOUT, net.fetch_card(peer)).await
            else {
                return;
            };
            let job: Job = Box::new(move |core: &mut Core| {
                let Some((cert, name)) = views::check_card(&card, peer, now_secs()) else {
                    return;
                };
                if cert.account() == &core.identity.account() {
                    return;
                }
                let view = LanPeer {
                    peer_id: peer.to_string(),
                    account: Some(hex::encode(cert.account().as_bytes())),
                    display_name: name.clone(),
                };
                if let Some(e) = core.lan.get_mut(&peer) {
                    e.1 = Some((cert, name));
                }
                core.emit(Event::LanPeer { peer: view });
            });
            let _ = input.send(Input::Job(job)).await;
        });
    }

    pub(super) fn learn_addrs(&mut self, peer: PeerId, addrs: &[Multiaddr], replace: bool) {
        let p = peer.to_string();
        let Ok(Some(mut c)) = self.contacts_store().by_peer(&p) else { return };
        let mut list: Vec<String> = if replace { Vec::new() } else { c.addrs.clone() };
        for a in addrs.iter().filter(|a| !crate::net::is_circuit(a)) {
            let s = a.to_string();
            if !list.contains(&s) {
                list.push(s);
            }
        }
        list.truncate(16);
        if list != c.addrs {
            c.addrs = list;
            let _ = self.contacts_store().put(&c, now_ms());
            if self.outbox().retry_now(&p, now_ms()).unwrap_or(false) {
                self.pump();
            }
        }
    }

    pub(super) fn lan_matches(&self, query: &str) -> Vec<SearchResult> {
        self.lan
            .iter()
            .filter_map(|(peer, (_, card))| {
                let (cert, name) = card.as_ref()?;
                let account = hex::encode(cert.account().as_bytes());
                let hit = query.is_empty()
                    || name.to_lowercase().contains(query)
                    || account.starts_with(query)
                    || peer.to_string() == query;
                hit.then(|| SearchResult {
                    source: "lan",
                    username: None,
                    display_name: name.clone(),
                    account,
                    peer_id: peer.to_string(),
                    target: peer.to_string(),
                })
            })
            .collect()
    }

    pub(super) fn lan_peer(&self, peer: &PeerId) -> Option<LanEntry> {
        self.lan.get(peer).cloned()
    }
}

/// The PeerId an address ends with (`/p2p/<id>`), which a dial must name.
pub(super) fn peer_in(addr: &Multiaddr) -> NodeResult<PeerId> {
    addr.iter()
        .find_map(|p| match p {
            libp2p::multiaddr::Protocol::P2p(id) => Some(id),
            _ => None,
        })
        .ok_or_else(|| NodeError::Invalid("the address must end with /p2p/<id>".into()))
}

/// Peers: listen addresses and connecting to a known address.
impl NodeHandle {
    /// Where this node listens.
    pub async fn listen_addrs(&self) -> NodeResult<Vec<Multiaddr>> {
        self.inner.net.listen_addrs().await.map_err(|_| NodeError::Stopped)
    }

    /// Connects to a peer at a known address (the PeerId must be in it).
    pub async fn connect(&self, addr: &Multiaddr) -> NodeResult<()> {
        let peer = peer_in(addr)?;
        self.inner
            .net
            .dial(peer, vec![addr.clone()])
            .await
            .map_err(|e| NodeError::Unreachable(e.to_string()))
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "connect" => {
        let addr = s(p, "addr")?
            .parse()
            .map_err(|e| NodeError::Invalid(format!("not a multiaddr: {e}")))?;
        node.connect(&addr).await?;
        Ok(json!({"connected": true}))
    }
});
