//! Password-sealed chats (SPEC.md §7.9, X6): sealing a conversation with a
//! password, unlocking and locking it on this device, and the second seal
//! of its text. The chat keys live here, in memory only, while the user has
//! the chat unlocked; the database holds the seals (salts, parameters, key
//! ids, wrapped previous keys) and the text in its sealed form.

use std::collections::HashMap;

use kovan_crypto::chat_seal::{ChatKey, SALT_LEN};
use kovan_crypto::keystore::KdfParams;
use kovan_spec::validate::{SealChange, SealedText};
use kovan_spec::wire;
use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

use super::{Core, internal};
use crate::control::{s, to_value};
use crate::node::views::{ConversationView, Event, MessageView};
use crate::node::{NodeError, NodeHandle, NodeResult};
use crate::seals::{Seal, Seals};

/// An unlocked chat locks after this long without use (node clock, ms).
pub const IDLE_LOCK_MS: i64 = 5 * 60 * 1000;
/// The shortest password accepted, in characters.
pub const MIN_PASSWORD: usize = 8;
/// The Argon2id parameters of new seals: the floor every device accepts.
pub const PARAMS: KdfParams = KdfParams::RFC9106_MEMORY_CONSTRAINED;
/// The most seals a typed password is tried against (newest first).
const MAX_TRIED: usize = 16;

/// The keys of an unlocked chat: the current one first, then the older
/// ones its chain opened.
pub(super) struct Unlocked {
    keys: Vec<ChatKey>,
    used_at: i64,
}

/// Unlocked chats, by conversation.
pub(super) type UnlockedChats = HashMap<Vec<u8>, Unlocked>;

impl Core {
    fn seals(&self) -> Seals<'_> {
        Seals::new(&self.db)
    }

    /// Whether the conversation is sealed (has a current seal).
    pub(super) fn is_sealed(&self, conv: &[u8]) -> NodeResult<bool> {
        Ok(self.seals().current(conv)?.is_some())
    }

    /// The unlocked keys of `conv`, after locking it if it sat idle. With
    /// `touch` (something the user did: send, read a page), the idle time
    /// starts again; background work (an arriving message, the list)
    /// leaves it running.
    fn keys(&self, conv: &[u8], touch: bool) -> Option<std::cell::RefMut<'_, Unlocked>> {
        let now = self.options.clock.now_ms();
        let mut chats = self.unlocked.borrow_mut();
        if chats.get(conv).is_some_and(|u| now - u.used_at > IDLE_LOCK_MS) {
            chats.remove(conv);
        }
        let mut u = std::cell::RefMut::filter_map(chats, |c| c.get_mut(conv)).ok()?;
        if touch {
            u.used_at = now;
        }
        Some(u)
    }

    /// When the next unlocked chat locks for idleness (ms).
    pub(super) fn next_idle_lock(&self) -> Option<i64> {
        self.unlocked.borrow().values().map(|u| u.used_at + IDLE_LOCK_MS + 1).min()
    }

    /// Locks the chats that sat idle, and says so (views drop their text).
    pub(super) fn lock_idle_chats(&mut self) {
        let now = self.options.clock.now_ms();
        let idle: Vec<Vec<u8>> = self
            .unlocked
            .borrow()
            .iter()
            .filter(|(_, u)| now - u.used_at > IDLE_LOCK_MS)
            .map(|(c, _)| c.clone())
            .collect();
        for conv in idle {
            self.unlocked.borrow_mut().remove(&conv);
            self.seal_changed(&conv);
        }
    }

    /// Refuses a kind of content a sealed chat does not carry (§7.9).
    pub(super) fn refuse_if_sealed(&self, conv: &[u8], what: &str) -> NodeResult<()> {
        if self.is_sealed(conv)? {
            return Err(NodeError::State(format!(
                "{what} cannot be sent into a password-sealed chat; it carries text only"
            )));
        }
        Ok(())
    }

    /// The content of a text for `conv`: sealed under the current key if
    /// the chat is sealed (it must be unlocked), plain otherwise. `id` is
    /// the message the text belongs to (its own, or an edit's target).
    pub(super) fn text_content(
        &self,
        conv: &[u8],
        id: &[u8; 16],
        text: &str,
    ) -> NodeResult<Option<wire::Sealed>> {
        let Some(seal) = self.seals().current(conv)? else { return Ok(None) };
        let keys = self.keys(conv, true).ok_or_else(locked)?;
        let key = keys.keys.iter().find(|k| k.matches(&seal.key_id)).ok_or_else(|| {
            NodeError::State(
                "this chat has a new password: unlock it with the new one to write".into(),
            )
        })?;
        let plain = kovan_spec::encode(&wire::Text { body: text.to_owned() });
        let (nonce, ciphertext) = key.seal_text(&mut OsRng, conv, id, &plain);
        Ok(Some(wire::Sealed { key_id: key.id().to_vec(), nonce: nonce.to_vec(), ciphertext }))
    }

    /// The text of a sealed message, if this chat is unlocked and has its
    /// key.
    fn open_sealed(&self, conv: &[u8], id: &[u8; 16], s: &SealedText) -> Option<String> {
        let keys = self.keys(conv, false)?;
        let key = keys.keys.iter().find(|k| k.matches(&s.key_id))?;
        let plain = key.open_text(conv, id, &s.nonce, &s.ciphertext).ok()?;
        kovan_spec::validate::validate_sealed_text(&plain).ok()
    }

    /// A message view with its sealed text opened, or marked locked.
    pub(super) fn open_view(&self, conv: &[u8], view: &mut MessageView, body: Option<&[u8]>) {
        if view.kind != "sealed" {
            return;
        }
        let sealed = body.and_then(|b| kovan_spec::validate_app_envelope(b).ok()).and_then(|a| {
            match a.content {
                kovan_spec::validate::Content::Sealed(s) => Some(s),
                _ => None,
            }
        });
        let id = crate::node::views::parse_message_id(&view.id).ok();
        match (sealed, id) {
            (Some(s), Some(id)) => match self.open_sealed(conv, &id, &s) {
                Some(text) => view.opened(text),
                None => view.kind = "locked",
            },
            _ => view.kind = "locked",
        }
    }

    /// Refuses to show a sealed chat's history while it is locked (a wrong
    /// password shows nothing, not even how many messages it holds).
    pub(super) fn readable(&self, conv: &[u8]) -> NodeResult<()> {
        if self.is_sealed(conv)? && self.keys(conv, true).is_none() {
            return Err(locked());
        }
        Ok(())
    }

    /// Marks a conversation view sealed and locked as it stands.
    pub(super) fn seal_state(&self, conv: &[u8], view: &mut ConversationView) -> NodeResult<()> {
        view.sealed = self.is_sealed(conv)?;
        view.locked = view.sealed && self.keys(conv, false).is_none();
        Ok(())
    }

    /// Before a new password is derived (off the core thread): the chat,
    /// which must be writable and, if sealed, unlocked here.
    fn seal_prepare(&mut self, who: &str, password: &str) -> NodeResult<Vec<u8>> {
        if password.chars().count() < MIN_PASSWORD {
            return Err(NodeError::Invalid(format!(
                "choose a password of at least {MIN_PASSWORD} characters"
            )));
        }
        let (conv, _) = self.writable(who)?;
        if self.is_sealed(&conv)? && self.keys(&conv, true).is_none() {
            return Err(NodeError::State(
                "unlock this chat first: a new password needs the current one".into(),
            ));
        }
        Ok(conv)
    }

    /// Seals `conv` under `key` (derived from the new password with
    /// `salt`), wrapping the key it replaces.
    fn seal_finish(
        &mut self,
        conv: Vec<u8>,
        salt: [u8; SALT_LEN],
        key: ChatKey,
    ) -> NodeResult<ConversationView> {
        let (_, recipients) = self.writable(&hex::encode(&conv))?;
        self.stop_own_live_shares(&conv);
        let previous = match self.seals().current(&conv)? {
            None => None,
            Some(seal) => {
                let keys = self.keys(&conv, true).ok_or_else(|| {
                    NodeError::State(
                        "unlock this chat first: a new password needs the current one".into(),
                    )
                })?;
                // The current key if this device has it, else the newest
                // it unlocked with (a seal nobody could open is skipped).
                keys.keys.iter().find(|k| k.matches(&seal.key_id)).or(keys.keys.first()).cloned()
            }
        };
        let wrapped = previous.as_ref().map(|old| {
            let (nonce, wrapped) = key.wrap_previous(&mut OsRng, &conv, old);
            (old.id(), nonce, wrapped)
        });
        let change = wire::SealChange {
            key_id: key.id().to_vec(),
            salt: salt.to_vec(),
            memory_kib: PARAMS.m_kib,
            passes: PARAMS.t,
            lanes: PARAMS.p,
            previous_key_id: wrapped.as_ref().map(|w| w.0.to_vec()).unwrap_or_default(),
            previous_nonce: wrapped.as_ref().map(|w| w.1.to_vec()).unwrap_or_default(),
            previous_key: wrapped.as_ref().map(|w| w.2.clone()).unwrap_or_default(),
        };
        let seal = Seal {
            key_id: key.id(),
            salt,
            params: PARAMS,
            previous: wrapped.and_then(|(id, nonce, w)| Some((id, nonce, w.try_into().ok()?))),
        };
        let content = wire::app_envelope::Content::SealChange(change);
        let tx = self.db.tx();
        tx.atomic(|| {
            self.send_app(&conv, &recipients, content, None, false)?;
            let me = self.my_account();
            self.seals().add(&conv, &seal, &me, self.options.clock.now_ms())?;
            Ok::<(), NodeError>(())
        })?;
        // This device stays unlocked, with the whole chain.
        let mut keys = vec![key];
        if let Some(mut u) = self.unlocked.borrow_mut().remove(&conv) {
            keys.append(&mut u.keys);
        }
        let used_at = self.options.clock.now_ms();
        self.unlocked.borrow_mut().insert(conv.clone(), Unlocked { keys, used_at });
        self.seal_changed(&conv);
        self.pump();
        self.conversation_view(&conv)
    }

    /// The seals a typed password is tried against, newest first (the
    /// derivations run off the core thread).
    fn unlock_candidates(&mut self, who: &str) -> NodeResult<(Vec<u8>, Vec<Seal>)> {
        let (conv, _) = self.find_conversation(who)?;
        let seals = self.seals().newest(&conv, MAX_TRIED)?;
        if seals.is_empty() {
            return Err(NodeError::State("this chat is not sealed".into()));
        }
        Ok((conv, seals))
    }

    /// The password made `key`, the key of `seal`: the chat opens with it
    /// and every earlier key its chain holds.
    fn unlocked_with(
        &mut self,
        conv: Vec<u8>,
        seal: Seal,
        key: ChatKey,
    ) -> NodeResult<ConversationView> {
        // Walk the chain back: each seal's previous key opens under it and
        // proves its id. A chain never loops: a seen key ends it, and it is
        // never longer than the seals this device has.
        let limit = self.seals().count(&conv)?.max(1);
        let mut seen = std::collections::HashSet::from([key.id()]);
        let mut keys = vec![key];
        let mut at = seal;
        while keys.len() <= limit
            && let Some((id, nonce, wrapped)) = at.previous
            && seen.insert(id)
        {
            let Some(newer) = keys.last() else { break };
            let Ok(older) = newer.unwrap_previous(&conv, &id, &nonce, &wrapped) else { break };
            keys.push(older);
            match self.seals().by_key(&conv, &id)? {
                Some(s) => at = s,
                None => break,
            }
        }
        let used_at = self.options.clock.now_ms();
        self.unlocked.borrow_mut().insert(conv.clone(), Unlocked { keys, used_at });
        self.seal_changed(&conv);
        self.conversation_view(&conv)
    }

    fn lock(&mut self, who: &str) -> NodeResult<ConversationView> {
        let (conv, _) = self.find_conversation(who)?;
        if !self.is_sealed(&conv)? {
            return Err(NodeError::State("this chat is not sealed".into()));
        }
        // Dropping the keys zeroizes them.
        self.unlocked.borrow_mut().remove(&conv);
        self.seal_changed(&conv);
        self.conversation_view(&conv)
    }

    /// A member sealed the chat with a new password: recorded, and the
    /// chat locks here until its user types the new one.
    pub(super) fn on_seal_change(
        &mut self,
        conv: &[u8],
        account: &[u8],
        c: &SealChange,
        at: i64,
    ) -> crate::Result<()> {
        let (m_kib, t, p) = c.params;
        // A seal no device could derive, or one that names itself as its
        // own previous key, is ignored (§7.9).
        if kovan_crypto::chat_seal::check_params(KdfParams { m_kib, t, p }).is_err()
            || c.previous.is_some_and(|(id, ..)| id == c.key_id)
        {
            return Ok(());
        }
        let seal = Seal {
            key_id: c.key_id,
            salt: c.salt,
            params: KdfParams { m_kib, t, p },
            previous: c.previous,
        };
        if self.seals().add(conv, &seal, account, at)? {
            self.unlocked.borrow_mut().remove(conv);
            self.seal_changed(conv);
        }
        Ok(())
    }

    /// A sender edited one of their sealed texts.
    pub(super) fn on_sealed_edit(
        &mut self,
        conv: &[u8],
        target: &[u8; 16],
        account: &[u8],
        sealed: &SealedText,
        now: i64,
    ) -> crate::Result<()> {
        let Some(old) = self.history().get(conv, target)? else { return Ok(()) };
        let new_body = sealed_body(old.body.as_deref(), sealed_wire(sealed));
        if self.history().edit(conv, target, account, &new_body, now)?
            && let Some(view) = self.message_view(conv, target)?
        {
            self.emit(Event::MessageEdited { message: view });
        }
        Ok(())
    }

    fn seal_changed(&mut self, conv: &[u8]) {
        self.emit(Event::ChatSeal { conversation: hex::encode(conv) });
        self.flush_events();
    }
}

fn locked() -> NodeError {
    NodeError::State("this chat is sealed and locked: unlock it with its password".into())
}

fn sealed_wire(s: &SealedText) -> wire::Sealed {
    wire::Sealed {
        key_id: s.key_id.to_vec(),
        nonce: s.nonce.to_vec(),
        ciphertext: s.ciphertext.clone(),
    }
}

/// The stored body of a sealed text after an edit: the original envelope
/// with the new sealed text (its id, time and reply stay).
pub(super) fn sealed_body(old: Option<&[u8]>, sealed: wire::Sealed) -> Vec<u8> {
    let mut env = old
        .and_then(|b| kovan_spec::decode::<wire::AppEnvelope>(b).ok())
        .unwrap_or_else(|| wire::AppEnvelope { version: 1, ..Default::default() });
    env.content = Some(wire::app_envelope::Content::Sealed(sealed));
    kovan_spec::encode(&env)
}

/// Password-sealed chats.
impl NodeHandle {
    /// Seals a conversation with a password its members share out of band,
    /// or changes its password (the chat must be unlocked). Text sent from
    /// now on is sealed under it.
    pub async fn seal(&self, conversation: &str, password: &str) -> NodeResult<ConversationView> {
        let (who, password) = (conversation.to_owned(), Zeroizing::new(password.to_owned()));
        let check = password.clone();
        let conv = self.call(move |c| c.seal_prepare(&who, &check)).await?;
        let mut salt = [0u8; SALT_LEN];
        OsRng.fill_bytes(&mut salt);
        // Argon2id takes a while: not on the core thread.
        let c2 = conv.clone();
        let key =
            tokio::task::spawn_blocking(move || ChatKey::derive(&password, &salt, PARAMS, &c2))
                .await
                .map_err(internal)?
                .map_err(internal)?;
        self.call(move |c| c.seal_finish(conv, salt, key)).await
    }

    /// Unlocks a sealed conversation on this device with its password.
    pub async fn unlock_chat(
        &self,
        conversation: &str,
        password: &str,
    ) -> NodeResult<ConversationView> {
        let (who, password) = (conversation.to_owned(), Zeroizing::new(password.to_owned()));
        let (conv, seals) = self.call(move |c| c.unlock_candidates(&who)).await?;
        let c2 = conv.clone();
        let found = tokio::task::spawn_blocking(move || {
            seals.into_iter().find_map(|seal| {
                let key = ChatKey::derive(&password, &seal.salt, seal.params, &c2).ok()?;
                key.matches(&seal.key_id).then_some((seal, key))
            })
        })
        .await
        .map_err(internal)?;
        let (seal, key) = found.ok_or_else(|| NodeError::Invalid("wrong password".into()))?;
        self.call(move |c| c.unlocked_with(conv, seal, key)).await
    }

    /// Locks a sealed conversation on this device now.
    pub async fn lock_chat(&self, conversation: &str) -> NodeResult<ConversationView> {
        let conversation = conversation.to_owned();
        self.call(move |c| c.lock(&conversation)).await
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "seal" => to_value(node.seal(s(p, "conversation")?, s(p, "password")?).await?),
    "unlock_chat" => to_value(node.unlock_chat(s(p, "conversation")?, s(p, "password")?).await?),
    "lock_chat" => to_value(node.lock_chat(s(p, "conversation")?).await?),
});
