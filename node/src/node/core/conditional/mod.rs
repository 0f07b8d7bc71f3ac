//! Conditional messages (SPEC.md §6.10, X4): a text sealed under a key that
//! only its conditions give — a password (enforced by cryptography) and an
//! area (enforced by the recipient's client only, since positions are
//! self-reported) — and members who agree (`members`: k of n holders
//! release their shares). The message travels and is stored sealed; a
//! device that opens it keeps the text sealed at rest like any other field.

mod files;
mod members;
mod relays;
mod timers;

use files::Outbound;

use kovan_crypto::conditional as cond;
use kovan_crypto::keystore::KdfParams;
use kovan_spec::validate::{ConditionalBodySpec, ConditionalSpec, Content, Lock, ValidatedApp};
use kovan_spec::{limits, validate_app_envelope, wire};
use rand_core::{OsRng, RngCore as _};
use rusqlite::{OptionalExtension as _, params};
use zeroize::Zeroizing;

use super::{Core, internal};
use crate::control::{s, to_value};
use crate::node::views::{Agree, Area, Event, Locks, MessageView, Trustees};
use crate::node::{NodeError, NodeHandle, NodeResult, views};

/// Argon2id costs of a password lock: what the keystore uses.
const COSTS: KdfParams = KdfParams::RFC9106_MEMORY_CONSTRAINED;

fn context(conv: &[u8], id: &[u8; 16]) -> Vec<u8> {
    let mut c = b"conditional/opened/".to_vec();
    c.extend_from_slice(&(conv.len() as u32).to_be_bytes());
    c.extend_from_slice(conv);
    c.extend_from_slice(id);
    c
}

impl Core {
    /// Sends a conditional message made off the core thread (with its
    /// file's transfer, in the send's transaction), and keeps its text
    /// and file opened on this device.
    fn conditional_send(
        &mut self,
        to: &str,
        id: [u8; 16],
        content: wire::Conditional,
        text: &str,
        file: Option<Outbound>,
    ) -> NodeResult<MessageView> {
        let (conv, recipients) = self.writable(to)?;
        let spec = kovan_spec::validate::conditional(content.clone()).map_err(internal)?;
        let sent_at = self.options.clock.now_ms();
        let content = wire::app_envelope::Content::Conditional(content);
        let transfer = file.as_ref().map(|f| f.sealed.file_id);
        let tx = self.db.tx();
        tx.atomic(|| {
            self.send_app_as(&conv, &recipients, id, content, None, true)?;
            self.keep_opened(&conv, &id, text)?;
            if let Some(f) = file {
                let row = self.outgoing_row(&conv, f.sealed);
                let transfer = row.file_id;
                self.files().insert(&crate::files::FileRow { message_id: id, ..row })?;
                self.keep_file_key(&conv, &id, &transfer, &f.file, "open", Some(&f.source))?;
            }
            Ok::<_, NodeError>(())
        })?;
        self.track_release(&conv, &id, &spec, sent_at)?;
        let view = self.message_view(&conv, &id)?.ok_or_else(|| internal("message not stored"))?;
        self.emit(Event::Message { message: view.clone() });
        if let Some(t) = transfer {
            self.emit_file(&t);
        }
        self.flush_events();
        self.pump();
        Ok(view)
    }

    fn keep_opened(&self, conv: &[u8], id: &[u8; 16], text: &str) -> crate::Result<()> {
        let sealed = self.field.seal(&mut OsRng, &context(conv, id), text.as_bytes());
        self.db.conn().execute(
            "INSERT OR REPLACE INTO conditional_opened (conversation_id, message_id, text) \
             VALUES (?1, ?2, ?3)",
            params![conv, id.as_slice(), sealed],
        )?;
        Ok(())
    }

    fn opened_text(&self, conv: &[u8], id: &[u8; 16]) -> crate::Result<Option<String>> {
        let sealed: Option<Vec<u8>> = self
            .db
            .conn()
            .query_row(
                "SELECT text FROM conditional_opened WHERE conversation_id = ?1 \
                 AND message_id = ?2",
                params![conv, id.as_slice()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(sealed.and_then(|s| {
            let plain = self.field.open(&context(conv, id), &s).ok()?;
            String::from_utf8(plain.to_vec()).ok()
        }))
    }

    /// A stored conditional message, still sealed.
    fn stored_conditional(
        &self,
        conv: &[u8],
        id: &[u8; 16],
    ) -> crate::Result<Option<ConditionalSpec>> {
        let body = self.history().get(conv, id)?.and_then(|m| m.body);
        Ok(match body.as_deref().map(validate_app_envelope) {
            Some(Ok(ValidatedApp { content: Content::Conditional(c), .. })) => Some(c),
            _ => None,
        })
    }

    /// A conditional message of a conversation, still sealed.
    fn conditional_spec(&self, who: &str, id: &[u8; 16]) -> NodeResult<(Vec<u8>, ConditionalSpec)> {
        let (conv, _) = self.find_conversation(who)?;
        let spec = self.stored_conditional(&conv, id)?;
        let spec = spec.ok_or_else(|| NodeError::NotFound("no such conditional message".into()))?;
        Ok((conv, spec))
    }

    fn conditional_opened(
        &mut self,
        conv: &[u8],
        id: &[u8; 16],
        spec: &ConditionalSpec,
        body: &ConditionalBodySpec,
    ) -> NodeResult<MessageView> {
        self.keep_body(conv, id, spec, body)?;
        let view = self.message_view(conv, id)?.ok_or_else(|| internal("message vanished"))?;
        self.emit(Event::MessageEdited { message: view.clone() });
        self.flush_events();
        Ok(view)
    }

    /// Keeps what an opened body holds: its text, and its file's key (the
    /// file opens once its bytes are here).
    fn keep_body(
        &mut self,
        conv: &[u8],
        id: &[u8; 16],
        spec: &ConditionalSpec,
        body: &ConditionalBodySpec,
    ) -> crate::Result<()> {
        self.keep_opened(conv, id, &body.text)?;
        if let Some(file) = &body.file {
            self.file_opened(conv, id, spec, file)?;
        }
        Ok(())
    }

    /// A message was deleted for everyone: what this device derived from
    /// it goes too (an opened conditional text; a poll's ballots and its
    /// eligibility check).
    pub(super) fn forget_derived(&self, conv: &[u8], id: &[u8; 16]) -> crate::Result<()> {
        self.forget_conditional_file(conv, id)?;
        let conn = self.db.conn();
        for table in [
            "conditional_opened",
            "conditional_shares",
            "conditional_timers",
            "conditional_relay_shares",
            "conditional_relay_fetches",
        ] {
            conn.execute(
                &format!("DELETE FROM {table} WHERE conversation_id = ?1 AND message_id = ?2"),
                params![conv, id.as_slice()],
            )?;
        }
        for table in [
            "poll_ballots",
            "poll_eligibility",
            "poll_openings",
            "poll_reveals",
            "poll_registrations",
            "poll_rings",
            "poll_ring_ballots",
            "poll_ring_closes",
            "poll_anonymous",
            "poll_ring_seen",
        ] {
            conn.execute(
                &format!("DELETE FROM {table} WHERE conversation_id = ?1 AND poll_id = ?2"),
                params![conv, id.as_slice()],
            )?;
        }
        Ok(())
    }

    /// Fills in a conditional message's view: what it waits for, and its
    /// text once opened here.
    pub(super) fn conditional_view(
        &self,
        conv: &[u8],
        view: &mut MessageView,
    ) -> crate::Result<()> {
        let Ok(id) = views::parse_message_id(&view.id) else { return Ok(()) };
        let text = self.opened_text(conv, &id)?;
        if let Some(c) = view.conditional.as_mut() {
            c.opened = text.is_some();
            if let Some(m) = c.members.as_mut() {
                self.members_view(conv, &id, m)?;
            }
            if let Some(r) = c.relays.as_mut() {
                self.relays_view(conv, &id, view.outgoing, r)?;
            }
            if let Some(f) = c.file.as_mut() {
                self.conditional_file_view(conv, &id, f)?;
            }
        }
        if let Some(text) = text {
            view.emoji_only = crate::emoji::is_emoji_only(&text, 5);
            view.text = Some(text);
        }
        Ok(())
    }
}

/// The body of a sealed message from its conditions' parts: its text and
/// its file's key, checked against the message.
fn open_body(spec: &ConditionalSpec, parts: &[cond::Part]) -> NodeResult<ConditionalBodySpec> {
    let key = cond::content_key(parts);
    let body = cond::open(&key, &spec.nonce, &spec.encoded, &spec.ciphertext)
        .map_err(|_| NodeError::Invalid("wrong password".into()))?;
    kovan_spec::validate::conditional_body(&body, spec.file.as_ref())
        .map_err(|_| NodeError::Invalid("the message's sealed text is malformed".into()))
}

/// A password lock's key part, off the core thread (Argon2id takes a while).
async fn password_part(password: &str, salt: [u8; 16], costs: [u32; 3]) -> NodeResult<cond::Part> {
    let password = Zeroizing::new(password.to_owned());
    tokio::task::spawn_blocking(move || cond::password_part(&password, &salt, costs))
        .await
        .map_err(internal)?
        .map_err(|e| NodeError::Invalid(e.to_string()))
}

/// Conditional messages.
impl NodeHandle {
    /// Sends a text that opens only when all of `locks` hold (SPEC.md
    /// §6.10): with the password, inside the area (checked by the
    /// recipient's client only), once enough of the named members agree;
    /// any of these together.
    pub async fn send_conditional(
        &self,
        to: &str,
        text: &str,
        locks: Locks,
    ) -> NodeResult<MessageView> {
        self.send_locked(to, text, None, locks).await
    }

    /// Sends the file at `path` (with `text`, which may be empty) under
    /// `locks` (SPEC.md §6.10.5): its sealed bytes go at once as any file,
    /// and nobody opens them before the message opens.
    pub async fn send_conditional_file(
        &self,
        to: &str,
        path: &std::path::Path,
        text: &str,
        locks: Locks,
    ) -> NodeResult<MessageView> {
        self.send_locked(to, text, Some(path), locks).await
    }

    async fn send_locked(
        &self,
        to: &str,
        text: &str,
        file: Option<&std::path::Path>,
        locks: Locks,
    ) -> NodeResult<MessageView> {
        let text = crate::emoji::expand_shortcodes(text);
        if (text.trim().is_empty() && file.is_none()) || text.len() > limits::MAX_TEXT {
            return Err(NodeError::Invalid("the message is empty or longer than 64 KiB".into()));
        }
        if locks.password.is_none()
            && locks.area.is_none()
            && locks.agree.is_none()
            && locks.relays.is_none()
        {
            return Err(NodeError::Invalid(
                "say what the message waits for: a password, an area, members who agree, relays"
                    .into(),
            ));
        }
        if locks.hint.len() > limits::MAX_CONDITIONAL_HINT {
            return Err(NodeError::Invalid("the hint is longer than 256 bytes".into()));
        }
        // Whether a file may go there, before any slow work.
        let prep = match file {
            Some(_) => {
                let who = to.to_owned();
                Some(self.call(move |c| c.file_prepare(&who)).await?)
            }
            None => None,
        };
        let mut conditions = Vec::new();
        let mut parts = Vec::new();
        if let Some(password) = &locks.password {
            if password.chars().count() < 4 {
                return Err(NodeError::Invalid(
                    "a message's password has at least 4 characters".into(),
                ));
            }
            let mut salt = [0u8; 16];
            OsRng.fill_bytes(&mut salt);
            let costs = [COSTS.m_kib, COSTS.t, COSTS.p];
            parts.push(password_part(password, salt, costs).await?);
            conditions.push(wire::condition::Kind::Password(wire::PasswordLock {
                salt: salt.to_vec(),
                memory_kib: costs[0],
                passes: costs[1],
                lanes: costs[2],
            }));
        }
        if let Some(a) = locks.area {
            let centre = kovan_spec::validate::Point::from_degrees(a.lat, a.lon, 0)
                .map_err(NodeError::Invalid)?;
            if !(limits::MIN_AREA_RADIUS_M..=limits::MAX_AREA_RADIUS_M).contains(&a.radius_m) {
                return Err(NodeError::Invalid("an area's radius is 10 m to 100 km".into()));
            }
            let mut part = Zeroizing::new([0u8; 32]);
            OsRng.fill_bytes(part.as_mut());
            conditions.push(wire::condition::Kind::Area(wire::AreaLock {
                lat_e7: centre.lat_e7,
                lon_e7: centre.lon_e7,
                radius_m: a.radius_m,
                key_part: part.to_vec(),
            }));
            parts.push(part);
        }
        // The message's id now: a members lock's shares are sealed to it.
        let mut id = [0u8; 16];
        OsRng.fill_bytes(&mut id);
        if let Some(agree) = locks.agree {
            let who = to.to_owned();
            let (lock, part) = self.call(move |c| c.members_lock(&who, &id, &agree)).await?;
            conditions.push(wire::condition::Kind::Members(lock));
            parts.push(part);
        }
        let outbound = match (file, prep) {
            (Some(path), Some(prep)) => Some(self.seal_conditional_file(prep, path).await?),
            _ => None,
        };
        // Last: the relays keep their shares only once everything else is
        // ready (a failure before would leave them shares for nothing).
        if let Some(t) = &locks.relays {
            let (lock, part) = self.relay_lock(t).await?;
            conditions.push(wire::condition::Kind::Relays(lock));
            parts.push(part);
        }
        let conditions: Vec<wire::Condition> =
            conditions.into_iter().map(|k| wire::Condition { kind: Some(k) }).collect();
        let encoded: Vec<Vec<u8>> = conditions.iter().map(kovan_spec::encode).collect();
        let key = cond::content_key(&parts);
        let body = Zeroizing::new(kovan_spec::encode(&wire::ConditionalBody {
            text: text.clone(),
            file: outbound.as_ref().map(|o| files::wire_key(&o.file)),
        }));
        let (nonce, ciphertext) = cond::seal(&mut OsRng, &key, &encoded, &body);
        let content = wire::Conditional {
            conditions,
            nonce: nonce.to_vec(),
            ciphertext,
            hint: locks.hint,
            file: outbound.as_ref().map(|o| super::files::announcement(&o.sealed, String::new())),
        };
        let to = to.to_owned();
        self.call(move |c| c.conditional_send(&to, id, content, &text, outbound)).await
    }

    /// Opens a conditional message with what its conditions ask for: the
    /// password, and this device's position (`here`, degrees) for an area.
    pub async fn open_conditional(
        &self,
        conversation: &str,
        message: &str,
        password: Option<&str>,
        here: Option<(f64, f64)>,
    ) -> NodeResult<MessageView> {
        let id = views::parse_message_id(message)?;
        let who = conversation.to_owned();
        let (conv, spec) = self.call(move |c| c.conditional_spec(&who, &id)).await?;
        let mut parts = Vec::new();
        for lock in &spec.locks {
            match lock {
                Lock::Password { salt, costs } => {
                    let password = password.ok_or_else(|| {
                        NodeError::Invalid("this message opens with a password".into())
                    })?;
                    parts.push(password_part(password, *salt, *costs).await?);
                }
                Lock::Area { centre, radius_m, key_part } => {
                    let here = here.filter(|(lat, lon)| {
                        lat.is_finite()
                            && lon.is_finite()
                            && lat.abs() <= 90.0
                            && lon.abs() <= 180.0
                    });
                    let here = here.ok_or_else(|| {
                        NodeError::Invalid(
                            "this message opens only inside an area: give your position".into(),
                        )
                    })?;
                    let c = (f64::from(centre.lat_e7) / 1e7, f64::from(centre.lon_e7) / 1e7);
                    if cond::distance_m(c, here) > f64::from(*radius_m) {
                        return Err(NodeError::State(
                            "you are not inside the area this message opens in".into(),
                        ));
                    }
                    parts.push(Zeroizing::new(*key_part));
                }
                Lock::Members { .. } => {
                    let (conv, spec) = (conv.clone(), spec.clone());
                    parts.push(self.call(move |c| c.members_part(&conv, &id, &spec)).await?);
                }
                Lock::Relays { .. } => {
                    let (conv, spec) = (conv.clone(), spec.clone());
                    parts.push(self.call(move |c| c.relays_part(&conv, &id, &spec)).await?);
                }
            }
        }
        let body = open_body(&spec, &parts)?;
        self.call(move |c| c.conditional_opened(&conv, &id, &spec, &body)).await
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "send_conditional" => {
        let area = match &p["area"] {
            serde_json::Value::Null => None,
            a => Some(Area {
                lat: a["lat"].as_f64().ok_or_else(|| NodeError::Invalid("\"area\" needs lat".into()))?,
                lon: a["lon"].as_f64().ok_or_else(|| NodeError::Invalid("\"area\" needs lon".into()))?,
                radius_m: a["radius_m"]
                    .as_u64()
                    .and_then(|r| u32::try_from(r).ok())
                    .ok_or_else(|| NodeError::Invalid("\"area\" needs radius_m".into()))?,
            }),
        };
        let agree = match &p["agree"] {
            serde_json::Value::Null => None,
            a => Some(Agree {
                holders: crate::control::strings(a, "holders")?,
                threshold: a["threshold"]
                    .as_u64()
                    .and_then(|k| u8::try_from(k).ok())
                    .ok_or_else(|| NodeError::Invalid("\"agree\" needs threshold".into()))?,
                release_at_ms: a["release_at_ms"].as_i64(),
                silence_ms: a["silence_ms"].as_u64(),
            }),
        };
        let relays = match &p["relays"] {
            serde_json::Value::Null => None,
            r => Some(Trustees {
                relays: crate::control::strings(r, "relays")?,
                threshold: r["threshold"]
                    .as_u64()
                    .and_then(|k| u8::try_from(k).ok())
                    .ok_or_else(|| NodeError::Invalid("\"relays\" needs threshold".into()))?,
                release_at_ms: r["release_at_ms"].as_i64(),
                silence_ms: r["silence_ms"].as_u64(),
            }),
        };
        let locks = Locks {
            password: p["password"].as_str().map(str::to_owned),
            area,
            agree,
            relays,
            hint: p["hint"].as_str().unwrap_or_default().to_owned(),
        };
        let text = p["text"].as_str().unwrap_or_default();
        match p["path"].as_str() {
            Some(path) => to_value(
                node.send_conditional_file(s(p, "to")?, std::path::Path::new(path), text, locks)
                    .await?,
            ),
            None => to_value(node.send_conditional(s(p, "to")?, s(p, "text")?, locks).await?),
        }
    }
    "open_conditional" => {
        let here = match (p["lat"].as_f64(), p["lon"].as_f64()) {
            (Some(lat), Some(lon)) => Some((lat, lon)),
            _ => None,
        };
        let password = p["password"].as_str();
        to_value(node.open_conditional(s(p, "with")?, s(p, "message")?, password, here).await?)
    }
    "release_share" => {
        to_value(node.release_share(s(p, "with")?, s(p, "message")?).await?)
    }
    "check_in" => {
        to_value(node.check_in(s(p, "with")?, s(p, "message")?).await?)
    }
});
