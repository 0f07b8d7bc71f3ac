//! Spreading messages (SPEC.md §6.11): their structure. The author's
//! signature and the hop chain are checked by `kovan-crypto`.

use super::*;

/// A spreading message's signed core, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpreadCoreSpec {
    /// One spread, however many paths reach a node.
    pub id: MessageId,
    /// The author's account key.
    pub author: [u8; 32],
    /// 1..=4,096 bytes of UTF-8.
    pub text: String,
    /// 1..=8.
    pub hop_limit: u8,
    /// `H^hop_limit(seed)`.
    pub hop_anchor: [u8; 32],
    /// The author's clock, ms.
    pub created_ms: u64,
}

/// A spreading message as it travels, its structure validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpreadSpec {
    /// The signed core.
    pub core: SpreadCoreSpec,
    /// Its encoding, as signed.
    pub core_bytes: Vec<u8>,
    /// The author's signature over `core_bytes`.
    pub signature: [u8; 64],
    /// 1..=hop_limit.
    pub hop: u8,
    /// `H^hop(seed)`.
    pub hop_token: [u8; 32],
}

/// A retraction, its structure validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpreadRetractSpec {
    /// The spread taken back.
    pub id: MessageId,
    /// Its author.
    pub author: [u8; 32],
    /// The author's clock, ms.
    pub retracted_ms: u64,
    /// Over `id ‖ retracted_ms` (u64, big-endian).
    pub signature: [u8; 64],
}

fn fixed<const N: usize>(b: &[u8], what: &str) -> Result<[u8; N], String> {
    b.try_into().map_err(|_| format!("{what} is {N} bytes"))
}

/// Checks a spread's core (SPEC.md §6.11).
pub fn spread_core(bytes: &[u8]) -> Result<SpreadCoreSpec, String> {
    let c: wire::SpreadCore = decode(bytes).map_err(|e| e.to_string())?;
    if c.text.is_empty() || c.text.len() > limits::MAX_SPREAD_TEXT {
        return Err("a spread's text is 1..=4,096 bytes".into());
    }
    if c.hop_limit == 0 || c.hop_limit as usize > limits::MAX_SPREAD_HOPS {
        return Err("a spread's hop limit is 1..=8".into());
    }
    Ok(SpreadCoreSpec {
        id: fixed(&c.id, "a spread's id")?,
        author: fixed(&c.author, "a spread's author")?,
        text: c.text,
        hop_limit: c.hop_limit as u8,
        hop_anchor: fixed(&c.hop_anchor, "a spread's hop anchor")?,
        created_ms: c.created_ms,
    })
}

/// Checks a spread as it travels (SPEC.md §6.11).
pub fn spread(s: wire::Spread) -> Result<SpreadSpec, String> {
    let core = spread_core(&s.core)?;
    if s.hop == 0 || s.hop > u32::from(core.hop_limit) {
        return Err("a spread's hop is 1..=its hop limit".into());
    }
    Ok(SpreadSpec {
        signature: fixed(&s.signature, "a spread's signature")?,
        hop: s.hop as u8,
        hop_token: fixed(&s.hop_token, "a spread's hop token")?,
        core,
        core_bytes: s.core,
    })
}

/// Checks a retraction (SPEC.md §6.11).
pub fn spread_retract(r: wire::SpreadRetract) -> Result<SpreadRetractSpec, String> {
    Ok(SpreadRetractSpec {
        id: fixed(&r.id, "a retraction's id")?,
        author: fixed(&r.author, "a retraction's author")?,
        retracted_ms: r.retracted_ms,
        signature: fixed(&r.signature, "a retraction's signature")?,
    })
}
