//! Friends on the core thread (SPEC.md §7.4): requests both ways,
//! accepting (the 1:1 MLS conversation and its Welcome), declining,
//! removing, blocking, usernames claimed in requests, safety numbers and
//! verification; and the handle's search and friend operations.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use kovan_crypto::envelope::{Opened, PayloadKind};
use kovan_crypto::identity::{AccountId, DeviceCertificate};
use kovan_spec::wire;
use kovan_spec::{FriendBody, validate_friend_message};
use libp2p::{Multiaddr, PeerId};
use rand_core::{OsRng, RngCore};

use super::{Core, Fail, Input, Path, fail_to_node, internal, now_ms, reject};
use crate::contacts::{ContactRow, FriendState};
use crate::control::{s, to_value};
use crate::conversation::ConversationError;
use crate::identity::now_secs;
use crate::invites::InviteLink;
use crate::node::views::{self, ContactView, Event, SearchResult};
use crate::node::{DIRECT_TIMEOUT, Job, NodeError, NodeHandle, NodeResult};
use serde_json::json;

impl Core {
    pub(super) fn apply_friend(
        &mut self,
        o: &Opened,
        contact: Option<ContactRow>,
    ) -> Result<(), Fail> {
        let m = validate_friend_message(&o.payload).map_err(reject)?;
        let now = now_ms();
        let account = *o.sender.account().as_bytes();
        let mut c = contact.unwrap_or_else(|| ContactRow::new(account));
        match m.body {
            FriendBody::Request {
                key_package,
                display_name,
                note,
                recipient_account,
                username,
                invite,
            } => {
                if recipient_account != self.my_account() {
                    return Err(reject("friend request for another account"));
                }
                let kp_device = self
                    .mls
                    .inspect_key_package(&key_package, now_secs())
                    .map_err(|e| reject(format!("friend request key package: {e}")))?;
                if kp_device.digest() != o.sender.digest() {
                    return Err(reject("key package is not the requesting device's"));
                }
                // A live token of one of our invite links admits a request
                // whatever the policy; without one, "nobody" and "link"
                // drop it unseen (A5, §7.4.1).
                let admitted = match invite {
                    Some(token) => self.live_invite(&token, now)?,
                    None => None,
                };
                let policy = self.db.setting("friend_policy")?;
                // A failed acceptance (§7.4) is retried by a new request:
                // the policy does not stand between two accounts that
                // already said yes to each other.
                if c.state != FriendState::Outgoing
                    && c.state != FriendState::Failed
                    && admitted.is_none()
                    && matches!(policy.as_deref(), Some(b"nobody" | b"link"))
                {
                    tracing::debug!("friend request dropped by the friend-request policy");
                    return Ok(());
                }
                if c.state == FriendState::Outgoing {
                    // Crossed requests: the smaller account key accepts.
                    if self.my_account() < account {
                        c.request_id = Some(m.request_id);
                        c.request_key_package = Some(key_package);
                        c.certificate = Some(o.sender.clone());
                        c.peer_id = Some(o.sender.peer_id().to_string());
                        self.accept_row(c)?;
                    }
                    return Ok(());
                }
                if let Some(id) = admitted {
                    self.invites_store().use_one(&id)?;
                }
                c.state = FriendState::Incoming;
                c.display_name = display_name;
                c.request_note = note;
                c.request_id = Some(m.request_id);
                c.request_key_package = Some(key_package);
                c.certificate = Some(o.sender.clone());
                c.peer_id = Some(o.sender.peer_id().to_string());
                self.contacts_store().put(&c, now)?;
                self.emit(Event::FriendRequest { contact: ContactView::from(&c) });
                if c.username.is_none() && !username.is_empty() {
                    self.check_claimed_username(account, username);
                }
            }
            FriendBody::Decline => {
                if c.state == FriendState::Outgoing && c.request_id == Some(m.request_id) {
                    c.state = FriendState::Declined;
                    c.request_id = None;
                    self.contacts_store().put(&c, now)?;
                    self.emit(Event::FriendDeclined { contact: ContactView::from(&c) });
                }
            }
            FriendBody::Remove => {
                if c.state == FriendState::Friend {
                    c.state = FriendState::Removed;
                    if let Some(conv) = &c.conversation_id {
                        self.history().close(conv)?;
                    }
                    self.contacts_store().put(&c, now)?;
                    self.emit(Event::FriendRemoved { contact: ContactView::from(&c) });
                }
            }
            FriendBody::JoinFailed { reason } => {
                // The requester could not join the conversation our
                // acceptance of this request created: it is closed, and
                // either side may ask again.
                if c.state == FriendState::Friend && c.request_id == Some(m.request_id) {
                    if let Some(conv) = &c.conversation_id {
                        self.history().close(conv)?;
                        self.mls.forget(&self.db, conv).map_err(reject)?;
                        self.mls_changed();
                    }
                    c.state = FriendState::Failed;
                    c.request_id = None;
                    self.contacts_store().put(&c, now)?;
                    let contact = ContactView::from(&c);
                    self.emit(Event::FriendFailed { contact, reason });
                }
            }
            _ => return Err(reject("unknown friend message")),
        }
        Ok(())
    }

    pub(super) fn apply_welcome(
        &mut self,
        o: &Opened,
        contact: Option<ContactRow>,
        path: Path,
    ) -> Result<(), Fail> {
        if self.apply_group_welcome(o, path)? {
            return Ok(());
        }
        let Some(mut c) = contact.filter(|c| c.state == FriendState::Outgoing) else {
            // Nobody asked for this conversation.
            tracing::info!("dropped an unsolicited Welcome");
            return Ok(());
        };
        let me = self.identity.certificate().digest();
        let them = o.sender.digest();
        // Joined in a savepoint of its own, so a refused Welcome leaves no
        // MLS state behind while its refusal is recorded.
        let joined = self.db.tx().savepoint(|| {
            let joined = self.mls.join(&o.payload, now_secs())?;
            let ok = joined.members.len() == 2
                && joined.members.iter().any(|m| m.digest() == me)
                && joined.members.iter().any(|m| m.digest() == them);
            if !ok {
                return Err(ConversationError::Refused(
                    "the Welcome's members are not the two of us".into(),
                ));
            }
            Ok(joined)
        });
        let joined = match joined {
            Ok(j) => j,
            Err(ConversationError::Storage(e)) => return Err(Fail::Later(e)),
            Err(e) => return self.refuse_acceptance(c, o, e.to_string()),
        };
        self.mls_changed();
        let now = now_ms();
        if let Some(old) = c.conversation_id.take() {
            self.history().close(&old)?;
        }
        self.history().ensure_conversation(&joined.group_id, Some(&c.account), now)?;
        c.state = FriendState::Friend;
        c.conversation_id = Some(joined.group_id);
        c.certificate = Some(o.sender.clone());
        c.peer_id = Some(o.sender.peer_id().to_string());
        c.request_id = None;
        self.contacts_store().put(&c, now)?;
        self.emit(Event::FriendAccepted { contact: ContactView::from(&c) });
        Ok(())
    }

    /// The Welcome that answered our request could not be joined (e.g. it
    /// lacks the ratchet tree, SPEC.md §7.4): the request ends `failed` on
    /// this side, and the accepter is told so that it ends there too.
    fn refuse_acceptance(
        &mut self,
        mut c: ContactRow,
        o: &Opened,
        reason: String,
    ) -> Result<(), Fail> {
        tracing::info!(%reason, "refused the Welcome that answered a friend request");
        let mut said = reason.clone();
        while said.len() > kovan_spec::limits::MAX_JOIN_FAILED_REASON {
            said.pop();
        }
        let msg = wire::FriendMessage {
            version: 1,
            request_id: c.request_id.unwrap_or_default().to_vec(),
            body: Some(wire::friend_message::Body::JoinFailed(wire::FriendJoinFailed {
                reason: said,
            })),
        };
        c.state = FriendState::Failed;
        c.request_id = None;
        self.contacts_store().put(&c, now_ms())?;
        self.enqueue(&o.sender, PayloadKind::Friend, &kovan_spec::encode(&msg), None, None)?;
        self.emit(Event::FriendFailed { contact: ContactView::from(&c), reason });
        Ok(())
    }

    pub(super) fn find_contact(&self, who: &str) -> NodeResult<ContactRow> {
        let store = self.contacts_store();
        let who = who.trim().trim_start_matches('@');
        if who.is_empty() {
            return Err(NodeError::Invalid("say who: a username, a name or an account id".into()));
        }
        if let Ok(bytes) = hex::decode(who)
            && let Ok(account) = <[u8; 32]>::try_from(bytes.as_slice())
        {
            return Ok(store.get(&account)?.unwrap_or_else(|| ContactRow::new(account)));
        }
        let lower = who.to_ascii_lowercase();
        if let Some(c) = store.by_username(&lower)?.into_iter().next() {
            return Ok(c);
        }
        let list = store.list()?;
        let matches: Vec<_> = list
            .into_iter()
            .filter(|c| {
                let hexed = hex::encode(c.account);
                (who.len() >= 8 && hexed.starts_with(&lower))
                    || c.display_name.eq_ignore_ascii_case(who)
                    || c.peer_id.as_deref() == Some(who)
            })
            .collect();
        if matches.len() > 1 {
            return Err(NodeError::Invalid(format!(
                "{} matches several contacts; use the id",
                views::shown(who)
            )));
        }
        matches
            .into_iter()
            .next()
            .ok_or_else(|| NodeError::NotFound(format!("no contact {}", views::shown(who))))
    }

    /// A friend request named the requester's relay username: believed
    /// once the relay's directory maps it to the requester's account, then
    /// recorded on the contact (so its avatar and identity checks work).
    pub(super) fn check_claimed_username(&mut self, account: [u8; 32], username: String) {
        let Some(client) = self.relay.as_ref().map(|r| r.client.clone()) else { return };
        let input = self.input.clone();
        self.spawn(async move {
            let profile = match tokio::time::timeout(DIRECT_TIMEOUT, client.user(&username)).await {
                Ok(Ok(p)) => p,
                _ => return,
            };
            let listed = profile["account_key"]
                .as_str()
                .and_then(|k| B64.decode(k).ok())
                .is_some_and(|k| k.as_slice() == account.as_slice());
            if !listed {
                tracing::info!(%username, "a friend request claimed a username of another account");
                return;
            }
            let job: Job = Box::new(move |core: &mut Core| {
                let Ok(Some(mut c)) = core.contacts_store().get(&account) else { return };
                if c.username.is_some() {
                    return;
                }
                c.username = Some(username);
                if core.contacts_store().put(&c, now_ms()).is_ok() {
                    core.emit(Event::ContactChanged { contact: ContactView::from(&c) });
                }
            });
            let _ = input.send(Input::Job(job)).await;
        });
    }

    pub(super) fn note_usernames(&mut self, results: &[SearchResult]) -> NodeResult<()> {
        let now = now_ms();
        for r in results {
            let Some(name) = &r.username else { continue };
            for mut old in self.contacts_store().by_username(name)? {
                if hex::encode(old.account) != r.account && !old.identity_changed {
                    old.identity_changed = true;
                    old.verified = false;
                    self.contacts_store().put(&old, now)?;
                    self.emit(Event::IdentityChanged {
                        contact: ContactView::from(&old),
                        new_account: r.account.clone(),
                    });
                }
            }
        }
        self.flush_events();
        Ok(())
    }

    pub(super) fn friend_request(
        &mut self,
        cert: DeviceCertificate,
        username: Option<String>,
        display_name: String,
        addrs: Vec<String>,
        note: String,
        invite: Option<[u8; 16]>,
    ) -> NodeResult<ContactView> {
        let account = *cert.account().as_bytes();
        let now = now_ms();
        let mut c =
            self.contacts_store().get(&account)?.unwrap_or_else(|| ContactRow::new(account));
        if c.blocked {
            return Err(NodeError::State("this account is blocked; unblock it first".into()));
        }
        if c.state == FriendState::Friend {
            return Err(NodeError::State("you are friends already".into()));
        }
        if username.is_some() {
            c.username = username;
        }
        if !display_name.is_empty() {
            c.display_name = display_name;
        }
        for a in addrs {
            if !c.addrs.contains(&a) {
                c.addrs.push(a);
            }
        }
        c.peer_id = Some(cert.peer_id().to_string());
        c.certificate = Some(cert.clone());
        if c.state == FriendState::Incoming {
            // They asked first: answering is accepting.
            let tx = self.db.tx();
            let view = tx.atomic(|| self.accept_row(c).map_err(fail_to_node))?;
            self.flush_events();
            self.pump();
            return Ok(view);
        }
        let mut request_id = [0u8; 16];
        OsRng.fill_bytes(&mut request_id);
        let key_package = self.new_key_package(false).map_err(internal)?;
        let msg = wire::FriendMessage {
            version: 1,
            request_id: request_id.to_vec(),
            body: Some(wire::friend_message::Body::Request(wire::FriendRequest {
                key_package,
                display_name: self.options.display_name.clone(),
                note,
                recipient_account: account.to_vec(),
                username: self
                    .relay
                    .as_ref()
                    .and_then(|r| r.session.as_ref().and(r.username.clone()))
                    .unwrap_or_default(),
                invite: invite.map(|t| t.to_vec()).unwrap_or_default(),
            })),
        };
        c.state = FriendState::Outgoing;
        c.request_id = Some(request_id);
        c.request_note = String::new();
        self.db.atomic(|| {
            self.contacts_store().put(&c, now)?;
            self.enqueue(&cert, PayloadKind::Friend, &kovan_spec::encode(&msg), None, None)
        })?;
        let view = ContactView::from(&c);
        self.emit(Event::ContactChanged { contact: view.clone() });
        self.flush_events();
        self.pump();
        Ok(view)
    }

    /// Accepts `c`'s request (its KeyPackage): creates the conversation and
    /// queues the Welcome. Runs inside the caller's transaction.
    pub(super) fn accept_row(&mut self, mut c: ContactRow) -> Result<ContactView, Fail> {
        let kp = c.request_key_package.take().ok_or_else(|| reject("no request to accept"))?;
        let cert = c.certificate.clone().ok_or_else(|| reject("no device for this contact"))?;
        let started = self.mls.start(&kp, now_secs()).map_err(reject)?;
        self.mls_changed();
        if started.peer.digest() != cert.digest() {
            return Err(reject("the request's key package belongs to another device"));
        }
        let now = now_ms();
        if let Some(old) = c.conversation_id.take() {
            self.history().close(&old)?;
        }
        self.history().ensure_conversation(&started.group_id, Some(&c.account), now)?;
        c.state = FriendState::Friend;
        c.conversation_id = Some(started.group_id.clone());
        // Kept: a `join_failed` from the requester names it (§7.4).
        c.request_note = String::new();
        self.contacts_store().put(&c, now)?;
        self.enqueue(&cert, PayloadKind::MlsWelcome, &started.welcome, None, None)
            .map_err(|e| reject(e.to_string()))?;
        let view = ContactView::from(&c);
        self.emit(Event::FriendAccepted { contact: view.clone() });
        Ok(view)
    }

    pub(super) fn friend_accept(&mut self, who: &str) -> NodeResult<ContactView> {
        let c = self.find_contact(who)?;
        if c.state != FriendState::Incoming {
            return Err(NodeError::State(format!("no friend request from {who}")));
        }
        let tx = self.db.tx();
        let view = tx.atomic(|| self.accept_row(c).map_err(fail_to_node))?;
        self.flush_events();
        self.pump();
        Ok(view)
    }

    pub(super) fn friend_decline(&mut self, who: &str) -> NodeResult<ContactView> {
        let mut c = self.find_contact(who)?;
        if c.state != FriendState::Incoming {
            return Err(NodeError::State(format!("no friend request from {who}")));
        }
        let cert = c.certificate.clone().ok_or_else(|| NodeError::State("no device".into()))?;
        let msg = wire::FriendMessage {
            version: 1,
            request_id: c.request_id.unwrap_or_default().to_vec(),
            body: Some(wire::friend_message::Body::Decline(wire::FriendDecline {})),
        };
        c.state = FriendState::None;
        c.request_key_package = None;
        c.request_id = None;
        c.request_note = String::new();
        self.db.atomic(|| {
            self.contacts_store().put(&c, now_ms())?;
            self.enqueue(&cert, PayloadKind::Friend, &kovan_spec::encode(&msg), None, None)
        })?;
        self.pump();
        Ok(ContactView::from(&c))
    }

    pub(super) fn friend_remove(&mut self, who: &str) -> NodeResult<ContactView> {
        let mut c = self.find_contact(who)?;
        if c.state != FriendState::Friend {
            return Err(NodeError::State(format!("{who} is not a friend")));
        }
        let cert = c.certificate.clone().ok_or_else(|| NodeError::State("no device".into()))?;
        let msg = wire::FriendMessage {
            version: 1,
            request_id: vec![0; 16],
            body: Some(wire::friend_message::Body::Remove(wire::FriendRemove {})),
        };
        c.state = FriendState::Removed;
        self.db.atomic(|| {
            if let Some(conv) = &c.conversation_id {
                self.history().close(conv)?;
            }
            self.contacts_store().put(&c, now_ms())?;
            self.enqueue(&cert, PayloadKind::Friend, &kovan_spec::encode(&msg), None, None)
        })?;
        self.keep_friends();
        self.pump();
        Ok(ContactView::from(&c))
    }

    pub(super) fn set_blocked(&mut self, who: &str, blocked: bool) -> NodeResult<ContactView> {
        let mut c = self.find_contact(who)?;
        let was = c.blocked;
        c.blocked = blocked;
        self.db.atomic(|| -> NodeResult<()> {
            self.contacts_store().put(&c, now_ms())?;
            if was && !blocked {
                // What they sent while blocked still comes (a mailbox keeps
                // it): it never appears (see `sent_while_blocked`).
                let key = unblocked_key(&c.account);
                self.db.set_setting(&key, &now_ms().to_be_bytes())?;
            }
            Ok(())
        })?;
        self.refuse_connections(&c, blocked);
        let view = ContactView::from(&c);
        self.emit(Event::ContactChanged { contact: view.clone() });
        Ok(view)
    }

    /// Whether an envelope from `account` sealed at `sent_ms` was sent
    /// while this user had the account blocked (and unblocked it since):
    /// such envelopes are dropped like those of a blocked account.
    pub(super) fn sent_while_blocked(
        &self,
        account: &[u8; 32],
        sent_ms: u64,
    ) -> crate::Result<bool> {
        let Some(v) = self.db.setting(&unblocked_key(account))? else { return Ok(false) };
        let unblocked = <[u8; 8]>::try_from(v.as_slice()).map(i64::from_be_bytes).unwrap_or(0);
        Ok((sent_ms as i64) < unblocked)
    }

    /// A blocked account's devices may not connect to this one, so they
    /// never see it online (S5); unblocking lets them again.
    pub(super) fn refuse_connections(&self, c: &ContactRow, blocked: bool) {
        let Some(peer) = c.peer_id.as_deref().and_then(|p| p.parse::<PeerId>().ok()) else {
            return;
        };
        let net = self.net.clone();
        self.spawn(async move {
            let _ = net.set_blocked(peer, blocked).await;
        });
    }

    pub(super) fn contacts(&mut self) -> NodeResult<Vec<ContactView>> {
        let list = self.contacts_store().list()?;
        Ok(list.iter().map(|c| self.with_presence(ContactView::from(c))).collect())
    }

    pub(super) fn safety_number(&mut self, who: &str) -> NodeResult<String> {
        let c = self.find_contact(who)?;
        let other = AccountId::from_bytes(&c.account).map_err(internal)?;
        Ok(self.identity.safety_number(&other).display())
    }

    pub(super) fn verify(&mut self, who: &str, how: Verification) -> NodeResult<ContactView> {
        let mut c = self.find_contact(who)?;
        let other = AccountId::from_bytes(&c.account).map_err(internal)?;
        if let Verification::Digits(d) = how {
            let d: String = d.chars().filter(char::is_ascii_digit).collect();
            if self.identity.safety_number(&other).digits() != d {
                return Err(NodeError::Invalid(
                    "the safety number does not match: do not mark this contact verified".into(),
                ));
            }
        }
        c.verified = true;
        c.identity_changed = false;
        self.contacts_store().put(&c, now_ms())?;
        let view = ContactView::from(&c);
        self.emit(Event::ContactChanged { contact: view.clone() });
        self.flush_events();
        Ok(view)
    }
}

/// How the user checked a contact's safety number before marking it
/// verified (SPEC.md §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// The digits they compared (spaces and other separators are ignored);
    /// they must match.
    Digits(String),
    /// They compared the numbers with the contact, in person or on a call
    /// (the desktop's "We compared these numbers").
    Compared,
}

/// Whom a friend request goes to.
struct Resolved {
    cert: DeviceCertificate,
    username: Option<String>,
    display_name: String,
    addrs: Vec<String>,
    /// Their friend-request policy, as their relay's directory says.
    policy: Option<String>,
}

impl Resolved {
    /// A peer found by address or on the LAN (its card says who it is).
    fn peer(cert: DeviceCertificate, display_name: String, addrs: Vec<String>) -> Self {
        Self { cert, username: None, display_name, addrs, policy: None }
    }
}

/// Friends: search, requests, accepting, declining, removing, blocking, safety numbers and verification.
impl NodeHandle {
    /// Searches the relay's directory and the peers seen on the LAN.
    pub async fn search(&self, query: &str) -> NodeResult<Vec<SearchResult>> {
        let q = query.to_lowercase();
        let mut out = self.call(move |c| Ok(c.lan_matches(&q))).await?;
        if let Some(relay) = &self.inner.relay {
            let v = relay.search(query).await?;
            let now = now_secs();
            let mut found = Vec::new();
            for p in v["results"].as_array().into_iter().flatten() {
                if let Some(r) = views::search_result_from_profile(p, now) {
                    found.push(r);
                }
            }
            let checked = found.clone();
            self.call(move |c| c.note_usernames(&checked)).await?;
            out.extend(found);
        }
        Ok(out)
    }

    /// Sends a friend request. `target` is a username on the relay, a LAN
    /// peer's PeerId (from [`Self::search`]), or a full address ending in
    /// `/p2p/<PeerId>`.
    pub async fn friend_request(&self, target: &str, note: &str) -> NodeResult<ContactView> {
        if note.len() > kovan_spec::limits::MAX_FRIEND_NOTE {
            return Err(NodeError::Invalid("the note is longer than 512 bytes".into()));
        }
        // An invite link: reach the account it names, and carry its token.
        let (target, link) = match InviteLink::parse(target) {
            Some(link) => {
                let link = link.map_err(NodeError::Invalid)?;
                let to = link.username.clone().or(link.addr.clone()).unwrap_or_default();
                (to, Some(link))
            }
            None => (target.to_owned(), None),
        };
        let found = self.resolve(&target).await?;
        let cert = found.cert;
        if cert.account() == &self.inner.identity.account() {
            return Err(NodeError::Invalid("that is your own account".into()));
        }
        if let Some(link) = &link
            && cert.account().as_bytes() != &link.account
        {
            return Err(NodeError::Invalid(format!(
                "{target} is not the account the invite link is for; the link or the relay \
                 is wrong, so no request was sent"
            )));
        }
        if link.is_none() {
            let name = found.username.clone().unwrap_or(target.clone());
            match found.policy.as_deref() {
                Some("nobody") => {
                    return Err(NodeError::State(format!("{name} takes no friend requests")));
                }
                Some("link") => {
                    return Err(NodeError::State(format!(
                        "{name} takes friend requests only through an invite link they share"
                    )));
                }
                _ => {}
            }
        }
        let note = note.to_owned();
        let invite = link.map(|l| l.token);
        let (username, display_name, addrs) = (found.username, found.display_name, found.addrs);
        self.call(move |c| c.friend_request(cert, username, display_name, addrs, note, invite))
            .await
    }

    async fn resolve(&self, target: &str) -> NodeResult<Resolved> {
        let now = now_secs();
        // A full address: dial it and ask for the card.
        if let Ok(addr) = target.parse::<Multiaddr>() {
            let peer = super::peers::peer_in(&addr)?;
            let (cert, name) = self.card(peer, vec![addr.clone()], now).await?;
            return Ok(Resolved::peer(cert, name, vec![addr.to_string()]));
        }
        // A LAN peer.
        if let Ok(peer) = target.parse::<PeerId>() {
            let known = self.call(move |c| Ok(c.lan_peer(&peer))).await?;
            let Some((addrs, card)) = known else {
                return Err(NodeError::NotFound(format!("no peer {peer} seen on the LAN")));
            };
            let (cert, name) = match card {
                Some(c) => c,
                None => self.card(peer, addrs.clone(), now).await?,
            };
            return Ok(Resolved::peer(cert, name, addrs.iter().map(|a| a.to_string()).collect()));
        }
        // A username on the relay.
        let relay = self.relay()?;
        let v = relay.user(target).await.map_err(|e| match e.code() {
            Some("not_found") => {
                NodeError::NotFound(format!("no user {} on the relay", views::shown(target)))
            }
            _ => e.into(),
        })?;
        let r = views::search_result_from_profile(&v, now)
            .ok_or_else(|| NodeError::Invalid("the relay sent an invalid profile".into()))?;
        let cert_b64 = v["devices"][0]["certificate"].as_str().unwrap_or_default();
        let cert = B64
            .decode(cert_b64)
            .ok()
            .and_then(|b| DeviceCertificate::verify(&b, now).ok())
            .ok_or_else(|| NodeError::Invalid("the relay sent an invalid certificate".into()))?;
        let checked = vec![r.clone()];
        self.call(move |c| c.note_usernames(&checked)).await?;
        Ok(Resolved {
            cert,
            username: r.username,
            display_name: r.display_name,
            addrs: Vec::new(),
            policy: v["friend_policy"].as_str().map(str::to_owned),
        })
    }

    async fn card(
        &self,
        peer: PeerId,
        addrs: Vec<Multiaddr>,
        now: u64,
    ) -> NodeResult<(DeviceCertificate, String)> {
        let net = &self.inner.net;
        tokio::time::timeout(DIRECT_TIMEOUT, net.dial(peer, addrs))
            .await
            .map_err(|_| NodeError::Unreachable("timed out".into()))?
            .map_err(|e| NodeError::Unreachable(e.to_string()))?;
        let card = tokio::time::timeout(DIRECT_TIMEOUT, net.fetch_card(peer))
            .await
            .map_err(|_| NodeError::Unreachable("timed out".into()))?
            .map_err(|e| NodeError::Unreachable(e.to_string()))?;
        views::check_card(&card, peer, now)
            .ok_or_else(|| NodeError::Invalid("the peer's card does not match its identity".into()))
    }

    /// Accepts a friend request: creates the 1:1 conversation.
    pub async fn friend_accept(&self, who: &str) -> NodeResult<ContactView> {
        let who = who.to_owned();
        self.call(move |c| c.friend_accept(&who)).await
    }

    /// Declines a friend request.
    pub async fn friend_decline(&self, who: &str) -> NodeResult<ContactView> {
        let who = who.to_owned();
        self.call(move |c| c.friend_decline(&who)).await
    }

    /// Ends a friendship: the other side is told; the conversation closes.
    pub async fn friend_remove(&self, who: &str) -> NodeResult<ContactView> {
        let who = who.to_owned();
        self.call(move |c| c.friend_remove(&who)).await
    }

    /// Blocks an account (a contact, or an account key in hex): everything
    /// from it is dropped on arrival.
    pub async fn block(&self, who: &str) -> NodeResult<ContactView> {
        let who = who.to_owned();
        self.call(move |c| c.set_blocked(&who, true)).await
    }

    /// Unblocks an account.
    pub async fn unblock(&self, who: &str) -> NodeResult<ContactView> {
        let who = who.to_owned();
        self.call(move |c| c.set_blocked(&who, false)).await
    }

    /// Contacts: friends, requests both ways, blocked accounts.
    pub async fn contacts(&self) -> NodeResult<Vec<ContactView>> {
        self.call(|c| c.contacts()).await
    }

    /// The safety number with a contact (60 digits, in groups of five).
    pub async fn safety_number(&self, who: &str) -> NodeResult<String> {
        let who = who.to_owned();
        self.call(move |c| c.safety_number(&who)).await
    }

    /// Marks a contact verified after the user compared safety numbers
    /// (`how` says how: the digits must then match).
    pub async fn verify(&self, who: &str, how: Verification) -> NodeResult<ContactView> {
        let who = who.to_owned();
        self.call(move |c| c.verify(&who, how)).await
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "search" => to_value(node.search(s(p, "query")?).await?),
    "friend_request" => {
        to_value(node.friend_request(s(p, "target")?, p["note"].as_str().unwrap_or("")).await?)
    }
    "friend_accept" => to_value(node.friend_accept(s(p, "who")?).await?),
    "friend_decline" => to_value(node.friend_decline(s(p, "who")?).await?),
    "friend_remove" => to_value(node.friend_remove(s(p, "who")?).await?),
    "block" => to_value(node.block(s(p, "who")?).await?),
    "unblock" => to_value(node.unblock(s(p, "who")?).await?),
    "contacts" => to_value(node.contacts().await?),
    "safety_number" => Ok(json!({"safety_number": node.safety_number(s(p, "who")?).await?})),
    "verify" => {
        let how = match (p["digits"].as_str(), p["compared"].as_bool()) {
            (Some(d), _) => Verification::Digits(d.to_owned()),
            (None, Some(true)) => Verification::Compared,
            _ => {
                return Err(NodeError::Invalid(
                    "say how you checked: the 60 digits you compared (\"digits\"), or \
                     \"compared\": true once you compared them with the contact"
                        .into(),
                ));
            }
        };
        to_value(node.verify(s(p, "who")?, how).await?)
    }
});

/// The settings key of when an account was last unblocked.
fn unblocked_key(account: &[u8; 32]) -> String {
    format!("unblocked_at/{}", hex::encode(account))
}
