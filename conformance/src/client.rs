//! A kovan device (SPEC.md §6, §7.4, §7.6) on top of the other modules:
//! it reaches everyone through their relay mailboxes (§7.5 lets a sender
//! fall back to the mailbox; it never listens on the network).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;

use mls_rs::group::ReceivedMessage;
use mls_rs::{ExtensionList, MlsMessage};
use prost::Message as _;
use rand_core::{OsRng, RngCore as _};

use crate::envelope::{self, Opened};
use crate::identity::{Certificate, Device};
use crate::mls::{self, MlsClient, MlsGroup, Rules};
use crate::relay::Relay;
use crate::{Error, Result, ensure, now_secs, wire};

/// What arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A friend request (§7.4) from `account`.
    FriendRequest {
        /// The requester's account.
        account: [u8; 32],
    },
    /// Our request was accepted: the 1:1 conversation `group` exists.
    FriendAccepted {
        /// The requester's... the friend's account.
        account: [u8; 32],
        /// The conversation.
        group: Vec<u8>,
    },
    /// The requester could not join our acceptance (§7.4).
    JoinFailed {
        /// Who.
        account: [u8; 32],
        /// Why, as they say.
        reason: String,
    },
    /// A text (§6.2) in `group` from `account`.
    Text {
        /// The conversation.
        group: Vec<u8>,
        /// The MLS-authenticated sender's account.
        account: [u8; 32],
        /// The text.
        body: String,
    },
    /// An invitation to a group (§7.6.2).
    Invited {
        /// Its id.
        invitation: [u8; 16],
        /// The group.
        group: Vec<u8>,
    },
    /// We joined a group from its Welcome.
    JoinedGroup {
        /// The group.
        group: Vec<u8>,
    },
    /// A commit was applied: the group is at `epoch`.
    Commit {
        /// The group.
        group: Vec<u8>,
        /// Its new epoch.
        epoch: u64,
    },
    /// Something this client does not act on.
    Other(String),
}

struct Incoming {
    request_id: Vec<u8>,
    sender: Certificate,
    key_package: Vec<u8>,
}

struct Invitation {
    group: Vec<u8>,
    inviter: Certificate,
}

/// One device of one account, driven by a test.
pub struct Client {
    /// Its keys and certificate.
    pub device: Device,
    /// Its relay session.
    pub relay: Relay,
    rules: Rules,
    mls: MlsClient,
    cursor: i64,
    groups: HashMap<Vec<u8>, MlsGroup>,
    sequences: HashMap<Vec<u8>, u64>,
    outgoing: HashMap<[u8; 32], Vec<u8>>,
    incoming: HashMap<[u8; 32], Incoming>,
    invitations: HashMap<[u8; 16], Invitation>,
    accepted: HashSet<Vec<u8>>,
    accepted_requests: HashMap<Vec<u8>, Vec<u8>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("device", &self.device).finish()
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    OsRng.fill_bytes(&mut b);
    b
}

fn now_ms() -> u64 {
    now_secs() * 1000
}

impl Client {
    /// A new account on the relay at `relay` as `username`.
    pub async fn register(relay: &str, username: &str) -> Result<Self> {
        let device = Device::generate(username, now_secs())?;
        let mut relay = Relay::new(relay);
        relay.register(&device, username).await?;
        let rules = Rules::default();
        rules.encrypt_handshakes.store(true, Ordering::SeqCst);
        let mls = mls::client(&device, rules.clone());
        Ok(Self {
            device,
            relay,
            rules,
            mls,
            cursor: 0,
            groups: HashMap::new(),
            sequences: HashMap::new(),
            outgoing: HashMap::new(),
            incoming: HashMap::new(),
            invitations: HashMap::new(),
            accepted: HashSet::new(),
            accepted_requests: HashMap::new(),
        })
    }

    /// This account's key.
    pub fn account(&self) -> [u8; 32] {
        self.device.cert.account()
    }

    /// §9.4: uploads `n` single-use KeyPackages and a last-resort one.
    pub async fn publish_key_packages(&self, n: usize) -> Result<serde_json::Value> {
        let kps = (0..n).map(|_| mls::key_package(&self.mls, false)).collect::<Result<Vec<_>>>()?;
        let last = mls::key_package(&self.mls, true)?;
        self.relay.upload_key_packages(&kps, &last).await
    }

    async fn send(&self, to: &Certificate, kind: wire::PayloadKind, payload: &[u8]) -> Result<()> {
        let sealed = envelope::seal(&self.device, &to.envelope(), kind, payload, now_ms(), None)?;
        self.relay.put(&to.peer_id(), sealed).await
    }

    /// §7.4: asks `username` to be friends.
    pub async fn friend_request(&mut self, username: &str) -> Result<()> {
        let to = self.relay.device_of(username, now_secs()).await?;
        let request_id = random::<16>().to_vec();
        let m = wire::FriendMessage {
            version: 1,
            request_id: request_id.clone(),
            body: Some(wire::friend_message::Body::Request(wire::FriendRequest {
                key_package: mls::key_package(&self.mls, false)?,
                display_name: "conformance".into(),
                note: "written from the spec".into(),
                recipient_account: to.account().to_vec(),
                username: String::new(),
                invite: Vec::new(),
            })),
        };
        self.outgoing.insert(to.account(), request_id);
        self.send(&to, wire::PayloadKind::Friend, &m.encode_to_vec()).await
    }

    /// §7.4, §7.4.2: accepts `account`'s request: makes the 1:1 group
    /// (a 32-byte random id, no context extensions) and sends the Welcome,
    /// which carries the ratchet tree.
    pub async fn accept(&mut self, account: &[u8; 32]) -> Result<Vec<u8>> {
        self.accept_with(account, true).await
    }

    /// [`Self::accept`], with the Welcome's ratchet tree left out unless
    /// `ratchet_tree` (which breaks §7.4.2: for testing the refusal).
    pub async fn accept_with(&mut self, account: &[u8; 32], ratchet_tree: bool) -> Result<Vec<u8>> {
        self.rules.omit_ratchet_tree.store(!ratchet_tree, Ordering::SeqCst);
        let made = self.make_one_to_one(account);
        self.rules.omit_ratchet_tree.store(false, Ordering::SeqCst);
        let (gid, welcome, to) = made?;
        self.send(&to, wire::PayloadKind::MlsWelcome, &welcome).await?;
        Ok(gid)
    }

    fn make_one_to_one(&mut self, account: &[u8; 32]) -> Result<(Vec<u8>, Vec<u8>, Certificate)> {
        let req = self.incoming.remove(account).ok_or("no such request")?;
        let gid = random::<32>().to_vec();
        let mut group = self.mls.create_group_with_id(
            gid.clone(),
            ExtensionList::new(),
            ExtensionList::new(),
            None,
        )?;
        let out = group
            .commit_builder()
            .add_member(MlsMessage::from_bytes(&req.key_package)?)?
            .build()?;
        group.apply_pending_commit()?;
        let welcome = out.welcome_messages.first().ok_or("no Welcome")?.to_bytes()?;
        self.groups.insert(gid.clone(), group);
        self.accepted_requests.insert(req.request_id.clone(), gid.clone());
        Ok((gid, welcome, req.sender))
    }

    /// §7.6.2: accepts an invitation with a fresh last-resort KeyPackage.
    pub async fn accept_invitation(&mut self, id: &[u8; 16]) -> Result<()> {
        let inv = self.invitations.remove(id).ok_or("no such invitation")?;
        let m = wire::GroupControl {
            version: 1,
            invitation_id: id.to_vec(),
            body: Some(wire::group_control::Body::Accept(wire::GroupInviteAccept {
                key_package: mls::key_package(&self.mls, true)?,
            })),
        };
        self.accepted.insert(inv.group.clone());
        self.send(&inv.inviter, wire::PayloadKind::Group, &m.encode_to_vec()).await
    }

    /// The other members' certificates.
    fn others(&self, gid: &[u8]) -> Result<Vec<Certificate>> {
        let group = self.groups.get(gid).ok_or("no such group")?;
        let me = group.current_member_index();
        group
            .roster()
            .members()
            .iter()
            .filter(|m| m.index != me)
            .map(|m| mls::member_certificate(&m.signing_identity, now_secs()))
            .collect()
    }

    async fn fan_out(&self, gid: &[u8], msg: &[u8]) -> Result<()> {
        for cert in self.others(gid)? {
            self.send(&cert, wire::PayloadKind::MlsMessage, msg).await?;
        }
        Ok(())
    }

    /// §6: sends a text to every other member of `gid`.
    pub async fn send_text(&mut self, gid: &[u8], body: &str) -> Result<()> {
        let seq = self.sequences.entry(gid.to_vec()).or_insert(0);
        *seq += 1;
        let app = wire::AppEnvelope {
            version: 1,
            message_id: random::<16>().to_vec(),
            sender_device: crate::identity::peer_id_bytes(&self.device.cert.p2p()),
            sequence: *seq,
            timestamp_ms: now_ms(),
            reply_to: Vec::new(),
            content: Some(wire::app_envelope::Content::Text(wire::Text { body: body.into() })),
        };
        let group = self.groups.get_mut(gid).ok_or("no such group")?;
        let msg = group.encrypt_application_message(&app.encode_to_vec(), Vec::new())?;
        ensure(msg.wire_format() == mls_rs::WireFormat::PrivateMessage, "§2.5: private")?;
        self.fan_out(gid, &msg.to_bytes()?).await
    }

    /// §7.6.7: a self-update (an empty commit with an update path), sent as
    /// a PrivateMessage (`encrypted`) or a PublicMessage (§2.5 allows both).
    pub async fn self_update(&mut self, gid: &[u8], encrypted: bool) -> Result<u64> {
        self.rules.encrypt_handshakes.store(encrypted, Ordering::SeqCst);
        let group = self.groups.get_mut(gid).ok_or("no such group")?;
        let out = group.commit(Vec::new());
        self.rules.encrypt_handshakes.store(true, Ordering::SeqCst);
        let out = out?;
        let want = if encrypted {
            mls_rs::WireFormat::PrivateMessage
        } else {
            mls_rs::WireFormat::PublicMessage
        };
        ensure(out.commit_message.wire_format() == want, "the commit's wire format")?;
        group.apply_pending_commit()?;
        let epoch = group.current_epoch();
        self.fan_out(gid, &out.commit_message.to_bytes()?).await?;
        Ok(epoch)
    }

    /// §7.6.4: leaves a group: a Remove proposal of our own leaf to every
    /// member, then the group's keys are forgotten.
    pub async fn leave(&mut self, gid: &[u8]) -> Result<()> {
        let group = self.groups.get_mut(gid).ok_or("no such group")?;
        let me = group.current_member_index();
        let proposal = group.propose_remove(me, Vec::new())?.to_bytes()?;
        self.fan_out(gid, &proposal).await?;
        self.groups.remove(gid);
        Ok(())
    }

    /// The epoch of a group this client is in.
    pub fn epoch(&self, gid: &[u8]) -> Option<u64> {
        self.groups.get(gid).map(|g| g.current_epoch())
    }

    /// The group meta (§7.6.1) of a group, decoded.
    pub fn meta(&self, gid: &[u8]) -> Result<Option<wire::GroupMeta>> {
        let group = self.groups.get(gid).ok_or("no such group")?;
        let ext = group.context().extensions.get(mls_rs::extension::ExtensionType::new(mls::META));
        Ok(ext.map(|e| wire::GroupMeta::decode(e.extension_data())).transpose()?)
    }

    /// Reads the mailbox once: applies every item, acknowledges them, and
    /// returns what happened.
    pub async fn poll(&mut self) -> Result<Vec<Event>> {
        let items = self.relay.fetch(self.cursor).await?;
        let mut events = Vec::new();
        let mut seqs = Vec::new();
        for (seq, bytes) in items {
            self.cursor = seq;
            seqs.push(seq);
            let opened = envelope::open(&self.device.envelope, &bytes, now_secs())?;
            match self.apply(opened).await {
                Ok(mut e) => events.append(&mut e),
                Err(e) => events.push(Event::Other(format!("refused: {e}"))),
            }
        }
        if !seqs.is_empty() {
            self.relay.ack(&seqs).await?;
        }
        Ok(events)
    }

    async fn apply(&mut self, o: Opened) -> Result<Vec<Event>> {
        let account = o.sender.account();
        match o.kind {
            wire::PayloadKind::Friend => {
                let m = wire::FriendMessage::decode(o.payload.as_slice())?;
                ensure(m.version == 1 && m.request_id.len() == 16, "§7.4: friend message")?;
                match m.body {
                    Some(wire::friend_message::Body::Request(r)) => {
                        ensure(r.recipient_account == self.account(), "not for us")?;
                        let kp = MlsMessage::from_bytes(&r.key_package)?;
                        let kp = kp.as_key_package().ok_or("not a KeyPackage")?;
                        let cert = mls::member_certificate(kp.signing_identity(), now_secs())?;
                        ensure(cert.digest() == o.sender.digest(), "another device's package")?;
                        self.incoming.insert(
                            account,
                            Incoming {
                                request_id: m.request_id,
                                sender: o.sender,
                                key_package: r.key_package,
                            },
                        );
                        Ok(vec![Event::FriendRequest { account }])
                    }
                    Some(wire::friend_message::Body::JoinFailed(f)) => {
                        // §7.4: the conversation our acceptance made is
                        // over; the requester may ask again.
                        let gid = self.accepted_requests.remove(&m.request_id);
                        ensure(gid.is_some(), "§7.4: join_failed for no acceptance of ours")?;
                        gid.map(|g| self.groups.remove(&g));
                        Ok(vec![Event::JoinFailed { account, reason: f.reason }])
                    }
                    other => Ok(vec![Event::Other(format!("friend message {other:?}"))]),
                }
            }
            wire::PayloadKind::MlsWelcome => {
                let msg = MlsMessage::from_bytes(&o.payload)?;
                let (group, _) = self.mls.join_group(None, &msg, None)?;
                let gid = group.group_id().to_vec();
                let members = group.roster().members();
                let meta = group
                    .context()
                    .extensions
                    .has_extension(mls_rs::extension::ExtensionType::new(mls::META));
                if self.accepted.remove(&gid) {
                    ensure(meta, "§7.6.1: a group Welcome carries the meta")?;
                    self.groups.insert(gid.clone(), group);
                    return Ok(vec![Event::JoinedGroup { group: gid }]);
                }
                ensure(self.outgoing.remove(&account).is_some(), "a Welcome nobody asked for")?;
                // §7.4.2: two members, the sealing device and us, no meta.
                ensure(members.len() == 2 && !meta, "§7.4.2: not a 1:1 group")?;
                let sender = mls::member_certificate(&members[0].signing_identity, now_secs())?;
                ensure(sender.digest() == o.sender.digest(), "§7.4.2: leaf 0 is the accepter")?;
                ensure((16..=32).contains(&gid.len()), "§7.4.2: group id length")?;
                self.groups.insert(gid.clone(), group);
                Ok(vec![Event::FriendAccepted { account, group: gid }])
            }
            wire::PayloadKind::MlsMessage => {
                let msg = MlsMessage::from_bytes(&o.payload)?;
                let gid = msg.group_id().ok_or("not a group message")?.to_vec();
                let group = self.groups.get_mut(&gid).ok_or("not in this group")?;
                match group.process_incoming_message(msg)? {
                    ReceivedMessage::ApplicationMessage(m) => {
                        let member =
                            group.member_at_index(m.sender_index).ok_or("unknown sender")?;
                        let cert = mls::member_certificate(&member.signing_identity, now_secs())?;
                        ensure(cert.digest() == o.sender.digest(), "§6.1: MLS sender")?;
                        let app = wire::AppEnvelope::decode(m.data())?;
                        ensure(app.version == 1, "§6.1: version")?;
                        ensure(
                            app.sender_device == crate::identity::peer_id_bytes(&cert.p2p()),
                            "§6.1: sender_device",
                        )?;
                        match app.content {
                            Some(wire::app_envelope::Content::Text(t)) => {
                                Ok(vec![Event::Text { group: gid, account, body: t.body }])
                            }
                            other => Ok(vec![Event::Other(format!("content {other:?}"))]),
                        }
                    }
                    ReceivedMessage::Commit(_) => {
                        let epoch = group.current_epoch();
                        Ok(vec![Event::Commit { group: gid, epoch }])
                    }
                    other => Ok(vec![Event::Other(format!("mls {other:?}"))]),
                }
            }
            wire::PayloadKind::Group => {
                let m = wire::GroupControl::decode(o.payload.as_slice())?;
                let id: [u8; 16] =
                    m.invitation_id.as_slice().try_into().map_err(|_| "§7.6.2: invitation id")?;
                match m.body {
                    Some(wire::group_control::Body::Invite(i)) => {
                        ensure(i.recipient_account == self.account(), "not for us")?;
                        self.invitations.insert(
                            id,
                            Invitation { group: i.group_id.clone(), inviter: o.sender },
                        );
                        Ok(vec![Event::Invited { invitation: id, group: i.group_id }])
                    }
                    other => Ok(vec![Event::Other(format!("group control {other:?}"))]),
                }
            }
            other => Err(Error(format!("unknown payload kind {other:?}"))),
        }
    }
}
