//! Conditional messages (SPEC.md §6.10).

use super::*;

/// One condition of a conditional message, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lock {
    /// Opens with a password: Argon2id with this salt and these costs.
    Password {
        /// 16 bytes.
        salt: [u8; 16],
        /// Memory (KiB), passes and lanes.
        costs: [u32; 3],
    },
    /// Opens inside a circle; enforced by the recipient's client only.
    Area {
        /// The centre.
        centre: Point,
        /// Radius in metres.
        radius_m: u32,
        /// The key part, in the clear.
        key_part: [u8; 32],
    },
    /// Opens once `threshold` of the holders release their shares (§6.10.3).
    Members {
        /// 2..=holders.
        threshold: u8,
        /// Distinct accounts, in the sender's order (share x = position + 1).
        holders: Vec<ShareHolder>,
        /// When holders' nodes release by themselves (§6.10.4).
        release: Release,
    },
    /// Opens once `threshold` of the relays release their shares, which
    /// they do by themselves when `release` says (§6.10.6).
    Relays {
        /// 1..=trustees.
        threshold: u8,
        /// Distinct relays, in the sender's order (share x = position + 1).
        trustees: Vec<RelayTrustee>,
        /// When the relays release; at least one of its times is set.
        release: Release,
    },
}

/// A relay that keeps a share of a relay lock (§6.10.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayTrustee {
    /// The relay's base URL.
    pub relay: String,
    /// The deposit's id on it.
    pub deposit: [u8; 16],
    /// SHA-256 of the context and the share.
    pub commitment: [u8; 32],
}

/// Whether `url` is a relay's base URL as a relay lock names it: `http://`
/// or `https://`, a host, printable ASCII without spaces, no query or
/// fragment, at most 256 bytes.
pub fn is_trustee_url(url: &str) -> bool {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    url.len() <= limits::MAX_TRUSTEE_URL
        && rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
        && url.bytes().all(|b| b.is_ascii_graphic() && b != b'?' && b != b'#')
}

/// When the holders' nodes of a members lock release their shares by
/// themselves (§6.10.4); neither set: holders release by hand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Release {
    /// Not before this time (ms since the Unix epoch).
    pub at_ms: Option<u64>,
    /// Once the sender has been silent this long (ms).
    pub silence_ms: Option<u64>,
}

impl Release {
    /// Whether holders' nodes release by themselves.
    pub fn automatic(&self) -> bool {
        self.at_ms.is_some() || self.silence_ms.is_some()
    }

    /// When a holder's node releases, given when the sender was last heard
    /// from (the message's time or its last check-in): the later of the
    /// two conditions.
    pub fn due_ms(&self, last_heard_ms: u64) -> Option<u64> {
        let silence = self.silence_ms.map(|s| last_heard_ms.saturating_add(s));
        match (self.at_ms, silence) {
            (None, None) => None,
            (a, s) => Some(a.unwrap_or(0).max(s.unwrap_or(0))),
        }
    }
}

/// A holder of a members lock's share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareHolder {
    /// The holder's account key.
    pub account: [u8; 32],
    /// SHA-256 of the context and the share.
    pub commitment: [u8; 32],
    /// The share sealed to each of its devices.
    pub sealed: Vec<SealedShare>,
}

/// A share sealed to one device (§6.10.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedShare {
    /// The device's envelope key.
    pub envelope_key: [u8; 32],
    /// The sender's one-time key.
    pub ephemeral: [u8; 32],
    /// ChaCha20-Poly1305 of the 33-byte share.
    pub ciphertext: [u8; SEALED_SHARE_LEN],
}

/// A share: its x (1..=16) and 32 bytes of y.
pub const SHARE_LEN: usize = 33;
/// A sealed share's ciphertext: the share and a 16-byte tag.
pub const SEALED_SHARE_LEN: usize = SHARE_LEN + 16;

fn key32(b: &[u8], what: &'static str) -> Result<[u8; 32], String> {
    b.try_into().map_err(|_| format!("{what} is 32 bytes"))
}

fn members(m: wire::MembersLock) -> Result<Lock, String> {
    let n = m.holders.len();
    if !(2..=limits::MAX_SHARE_HOLDERS).contains(&n) {
        return Err("a members lock has 2..=16 holders".into());
    }
    if m.threshold < 2 || m.threshold as usize > n {
        return Err("a members lock's threshold is 2..=its holders".into());
    }
    let mut holders = Vec::with_capacity(n);
    for h in m.holders {
        if h.sealed.is_empty() || h.sealed.len() > limits::MAX_SHARE_DEVICES {
            return Err("a holder's share is sealed to 1..=8 devices".into());
        }
        let sealed = h
            .sealed
            .iter()
            .map(|s| {
                Ok(SealedShare {
                    envelope_key: key32(&s.envelope_key, "a sealed share's envelope key")?,
                    ephemeral: key32(&s.ephemeral, "a sealed share's ephemeral key")?,
                    ciphertext: s
                        .ciphertext
                        .as_slice()
                        .try_into()
                        .map_err(|_| "a sealed share is 49 bytes".to_string())?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        holders.push(ShareHolder {
            account: key32(&h.account, "a holder's account")?,
            commitment: key32(&h.commitment, "a share's commitment")?,
            sealed,
        });
    }
    let mut accounts: Vec<&[u8; 32]> = holders.iter().map(|h| &h.account).collect();
    accounts.sort_unstable();
    accounts.dedup();
    if accounts.len() != n {
        return Err("a members lock names an account twice".into());
    }
    let release = release(m.release_at_ms, m.silence_ms)?;
    Ok(Lock::Members { threshold: m.threshold as u8, holders, release })
}

/// A lock's release times (0: not set).
pub(super) fn release(at_ms: u64, silence_ms: u64) -> Result<Release, String> {
    let silence_ms = (silence_ms != 0).then_some(silence_ms);
    if silence_ms.is_some_and(|s| !(limits::MIN_SILENCE_MS..=limits::MAX_SILENCE_MS).contains(&s)) {
        return Err("a dead man's switch waits an hour to 366 days".into());
    }
    if at_ms > limits::MAX_TIME_MS {
        return Err("a lock's release time is after the year 9999".into());
    }
    Ok(Release { at_ms: (at_ms != 0).then_some(at_ms), silence_ms })
}

fn relays(m: wire::RelayLock) -> Result<Lock, String> {
    let n = m.trustees.len();
    if !(1..=limits::MAX_TRUSTEES).contains(&n) {
        return Err("a relay lock has 1..=8 relays".into());
    }
    if m.threshold < 1 || m.threshold as usize > n {
        return Err("a relay lock's threshold is 1..=its relays".into());
    }
    let mut trustees = Vec::with_capacity(n);
    for t in m.trustees {
        if !is_trustee_url(&t.relay) {
            return Err("a relay lock's relay is an http(s) URL of at most 256 bytes".into());
        }
        trustees.push(RelayTrustee {
            relay: t.relay,
            deposit: t.deposit.as_slice().try_into().map_err(|_| "a deposit's id is 16 bytes")?,
            commitment: key32(&t.commitment, "a share's commitment")?,
        });
    }
    for (i, t) in trustees.iter().enumerate() {
        if trustees[..i].iter().any(|o| o.relay == t.relay || o.deposit == t.deposit) {
            return Err("a relay lock names a relay or a deposit twice".into());
        }
    }
    let release = release(m.release_at_ms, m.silence_ms)?;
    if !release.automatic() {
        return Err("a relay lock says when its relays release: a time, a silence or both".into());
    }
    Ok(Lock::Relays { threshold: m.threshold as u8, trustees, release })
}

/// A holder's released share (§6.10.3): the share's x must be the
/// holder's place in the lock, checked with the commitment by receivers.
pub fn share_release(r: wire::ShareRelease) -> Result<(MessageId, [u8; SHARE_LEN]), String> {
    let target = r.target.as_slice().try_into().map_err(|_| "target must be 16 bytes")?;
    let share: [u8; SHARE_LEN] =
        r.share.as_slice().try_into().map_err(|_| "a released share is 33 bytes")?;
    if share[0] == 0 || share[0] as usize > limits::MAX_SHARE_HOLDERS {
        return Err("a released share's x is 1..=16".into());
    }
    Ok((target, share))
}

/// A conditional message, validated (its content still sealed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionalSpec {
    /// The conditions, all of which must hold, in their order.
    pub locks: Vec<Lock>,
    /// Each condition's encoding, in order (what the seal binds).
    pub encoded: Vec<Vec<u8>>,
    /// 24 bytes.
    pub nonce: [u8; 24],
    /// The sealed `ConditionalBody`.
    pub ciphertext: Vec<u8>,
    /// Shown while sealed.
    pub hint: String,
    /// A conditional file's sealed bytes, announced as any file (§6.10.5).
    pub file: Option<FileOffer>,
}

/// What a conditional file's announcement says in the clear (§6.10.5):
/// nothing but its size.
pub const SEALED_FILE_NAME: &str = "sealed";
/// Its media type.
pub const SEALED_FILE_MIME: &str = "application/octet-stream";

/// A conditional message's body, opened and checked (§6.10, §6.10.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionalBodySpec {
    /// The text: 1..=65,536 bytes, or 0..=65,536 with a file.
    pub text: String,
    /// A conditional file's key and what the file is.
    pub file: Option<SealedFile>,
}

/// What opens a conditional file, checked against its announcement.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedFile {
    /// The key the file's bytes are sealed under (§7.7.2).
    pub key: [u8; 32],
    /// A file name safe to create.
    pub name: String,
    /// Its media type (may be empty).
    pub mime: String,
    /// Plaintext bytes.
    pub size: u64,
    /// Their SHA-256.
    pub sha256: [u8; 32],
}

impl std::fmt::Debug for SealedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedFile").field("name", &self.name).field("size", &self.size).finish()
    }
}

/// The sealed length of `size` plaintext bytes (§7.7.2): a 16-byte tag per
/// 65,536-byte chunk, and an empty file is one chunk.
pub fn sealed_file_len(size: u64) -> u64 {
    let chunks = size.div_ceil(u64::from(limits::FILE_CHUNK_SIZE)).max(1);
    size.saturating_add(chunks.saturating_mul(16))
}

/// A conditional file's announcement: a file offer that says nothing but
/// its size (§6.10.5).
fn sealed_offer(f: wire::FileRef) -> Result<FileOffer, String> {
    if f.name != SEALED_FILE_NAME
        || f.mime != SEALED_FILE_MIME
        || !f.caption.is_empty()
        || f.image.is_some()
        || f.voice.is_some()
    {
        return Err("a conditional file is announced as 'sealed', with nothing else".into());
    }
    if f.size < 16 {
        return Err("a conditional file's sealed bytes are at least 16".into());
    }
    file_offer(f).map_err(|e| e.to_string())
}

/// Checks an opened `ConditionalBody` against its message's file, if any
/// (§6.10.5).
pub fn conditional_body(
    body: &[u8],
    file: Option<&FileOffer>,
) -> Result<ConditionalBodySpec, String> {
    let b: wire::ConditionalBody = crate::decode(body).map_err(|e| e.to_string())?;
    if b.text.len() > limits::MAX_TEXT || (b.text.is_empty() && file.is_none()) {
        return Err("a conditional message's text is 1..=65,536 bytes".into());
    }
    let sealed = match (b.file, file) {
        (None, None) => None,
        (Some(k), Some(offer)) => {
            if !is_safe_file_name(&k.name) {
                return Err("a conditional file's name is not one to create".into());
            }
            if k.mime.len() > limits::MAX_FILE_MIME || k.size > limits::MAX_FILE_SIZE {
                return Err("a conditional file's type or size is out of bounds".into());
            }
            if sealed_file_len(k.size) != offer.size {
                return Err("a conditional file's size does not match its sealed bytes".into());
            }
            Some(SealedFile {
                key: k.key.as_slice().try_into().map_err(|_| "a file's key is 32 bytes")?,
                name: k.name,
                mime: k.mime,
                size: k.size,
                sha256: k.sha256.as_slice().try_into().map_err(|_| "a file's hash is 32 bytes")?,
            })
        }
        _ => return Err("a conditional body's file and its message's do not go together".into()),
    };
    Ok(ConditionalBodySpec { text: b.text, file: sealed })
}

fn lock(c: wire::Condition) -> Result<Lock, String> {
    use wire::condition::Kind;
    match c.kind {
        Some(Kind::Password(p)) => Ok(Lock::Password {
            salt: p.salt.as_slice().try_into().map_err(|_| "a password lock's salt is 16 bytes")?,
            costs: [p.memory_kib, p.passes, p.lanes],
        }),
        Some(Kind::Area(a)) => {
            if !(limits::MIN_AREA_RADIUS_M..=limits::MAX_AREA_RADIUS_M).contains(&a.radius_m) {
                return Err("an area's radius is 10..=100,000 m".into());
            }
            Ok(Lock::Area {
                centre: Point::new(a.lat_e7, a.lon_e7, 0)?,
                radius_m: a.radius_m,
                key_part: a
                    .key_part
                    .as_slice()
                    .try_into()
                    .map_err(|_| "an area lock's key part is 32 bytes")?,
            })
        }
        Some(Kind::Members(m)) => members(m),
        Some(Kind::Relays(r)) => relays(r),
        None => Err("a condition of an unknown kind".into()),
    }
}

/// Checks a conditional message's fields (SPEC.md §6.10).
pub fn conditional(c: wire::Conditional) -> Result<ConditionalSpec, String> {
    if c.conditions.is_empty() || c.conditions.len() > limits::MAX_CONDITIONS {
        return Err("a conditional message has 1..=4 conditions".into());
    }
    let encoded: Vec<Vec<u8>> = c.conditions.iter().map(crate::encode).collect();
    let locks = c.conditions.into_iter().map(lock).collect::<Result<Vec<_>, _>>()?;
    let kinds: Vec<std::mem::Discriminant<Lock>> =
        locks.iter().map(std::mem::discriminant).collect();
    if (1..kinds.len()).any(|i| kinds[..i].contains(&kinds[i])) {
        return Err("a conditional message has at most one condition of each kind".into());
    }
    let nonce = c.nonce.as_slice().try_into().map_err(|_| "a conditional's nonce is 24 bytes")?;
    let file = c.file.map(sealed_offer).transpose()?;
    let most =
        if file.is_some() { limits::MAX_CONDITIONAL_BODY + 16 } else { limits::MAX_TEXT + 64 };
    if c.ciphertext.len() < 16 || c.ciphertext.len() > most {
        return Err("a conditional's ciphertext is 16..=65,600 bytes (66,068 with a file)".into());
    }
    if c.hint.len() > limits::MAX_CONDITIONAL_HINT {
        return Err("a conditional's hint is at most 256 bytes".into());
    }
    Ok(ConditionalSpec { locks, encoded, nonce, ciphertext: c.ciphertext, hint: c.hint, file })
}
