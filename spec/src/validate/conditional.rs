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
        None => Err("a condition of an unknown kind".into()),
    }
}

/// Checks a conditional message's fields (SPEC.md §6.10).
pub fn conditional(c: wire::Conditional) -> Result<ConditionalSpec, String> {
    if c.conditions.is_empty() || c.conditions.len() > limits::MAX_CONDITIONS {
        return Err("a conditional message has 1..=2 conditions".into());
    }
    let encoded: Vec<Vec<u8>> = c.conditions.iter().map(crate::encode).collect();
    let locks = c.conditions.into_iter().map(lock).collect::<Result<Vec<_>, _>>()?;
    let password = locks.iter().filter(|l| matches!(l, Lock::Password { .. })).count();
    if password > 1 || locks.len() - password > 1 {
        return Err("a conditional message has at most one condition of each kind".into());
    }
    let nonce = c.nonce.as_slice().try_into().map_err(|_| "a conditional's nonce is 24 bytes")?;
    if c.ciphertext.len() < 16 || c.ciphertext.len() > limits::MAX_TEXT + 64 {
        return Err("a conditional's ciphertext is 16..=65,600 bytes".into());
    }
    if c.hint.len() > limits::MAX_CONDITIONAL_HINT {
        return Err("a conditional's hint is at most 256 bytes".into());
    }
    Ok(ConditionalSpec { locks, encoded, nonce, ciphertext: c.ciphertext, hint: c.hint })
}
