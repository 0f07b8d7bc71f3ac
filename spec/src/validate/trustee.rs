//! Requests to relays that keep a relay lock's shares (SPEC.md §6.10.6).

use super::*;

const REQUEST: &str = "TrusteeRequest";

/// What a trustee request asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrusteeBody {
    /// Keep this share until it is due.
    Deposit {
        /// The deposit's id.
        deposit: MessageId,
        /// The share: x and 32 bytes of y.
        share: [u8; SHARE_LEN],
        /// When it is due; at least one time is set.
        release: Release,
    },
    /// The owner is still there: the silence counts from this request.
    CheckIn(Vec<MessageId>),
    /// Forget these shares unless they are due.
    Cancel(Vec<MessageId>),
}

impl TrusteeBody {
    /// The signature label's kind (`kovan/v1/trustee-<kind>`).
    pub fn kind(&self) -> TrusteeKind {
        match self {
            TrusteeBody::Deposit { .. } => TrusteeKind::Deposit,
            TrusteeBody::CheckIn(_) => TrusteeKind::CheckIn,
            TrusteeBody::Cancel(_) => TrusteeKind::Cancel,
        }
    }
}

/// The kinds of trustee request, each signed under its own label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrusteeKind {
    /// `kovan/v1/trustee-deposit`.
    Deposit,
    /// `kovan/v1/trustee-check-in`.
    CheckIn,
    /// `kovan/v1/trustee-cancel`.
    Cancel,
}

/// A trustee request, validated (its signature is checked apart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrusteeRequestSpec {
    /// The owner's account key.
    pub owner: [u8; 32],
    /// When the owner made it (ms since the Unix epoch).
    pub created_ms: u64,
    /// What it asks.
    pub body: TrusteeBody,
}

fn ids(list: Vec<Vec<u8>>) -> Result<Vec<MessageId>, DecodeError> {
    if list.is_empty() || list.len() > limits::MAX_TRUSTEE_IDS {
        return Err(DecodeError::invalid(REQUEST, "a request names 1..=64 deposits"));
    }
    let mut out: Vec<MessageId> =
        list.iter().map(|d| id(REQUEST, "a deposit", d)).collect::<Result<_, _>>()?;
    out.sort_unstable();
    out.dedup();
    if out.len() != list.len() {
        return Err(DecodeError::invalid(REQUEST, "a request names a deposit twice"));
    }
    Ok(out)
}

/// Decodes and checks a trustee request (SPEC.md §6.10.6).
pub fn validate_trustee_request(bytes: &[u8]) -> Result<TrusteeRequestSpec, DecodeError> {
    use wire::trustee_request::Body as B;
    let r: wire::TrusteeRequest = decode(bytes)?;
    let owner = account(REQUEST, "owner", &r.owner)?;
    if r.created_ms > limits::MAX_TIME_MS {
        return Err(DecodeError::invalid(REQUEST, "created_ms is after the year 9999"));
    }
    let body = match r.body.ok_or_else(|| DecodeError::invalid(REQUEST, "no body"))? {
        B::Deposit(d) => {
            let release = super::conditional::release(d.release_at_ms, d.silence_ms)
                .map_err(|e| DecodeError::invalid(REQUEST, e))?;
            if !release.automatic() {
                return Err(DecodeError::invalid(
                    REQUEST,
                    "a deposit has a time, a silence or both",
                ));
            }
            let share: [u8; SHARE_LEN] = d
                .share
                .as_slice()
                .try_into()
                .map_err(|_| DecodeError::invalid(REQUEST, "a share is 33 bytes"))?;
            if share[0] == 0 || usize::from(share[0]) > limits::MAX_TRUSTEES {
                return Err(DecodeError::invalid(REQUEST, "a share's x is 1..=8"));
            }
            TrusteeBody::Deposit { deposit: id(REQUEST, "deposit", &d.deposit)?, share, release }
        }
        B::CheckIn(c) => TrusteeBody::CheckIn(ids(c.deposits)?),
        B::Cancel(c) => TrusteeBody::Cancel(ids(c.deposits)?),
    };
    Ok(TrusteeRequestSpec { owner, created_ms: r.created_ms, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deposit(share: Vec<u8>, at: u64, silence: u64) -> Vec<u8> {
        crate::encode(&wire::TrusteeRequest {
            owner: vec![7; 32],
            created_ms: 1_000,
            body: Some(wire::trustee_request::Body::Deposit(wire::TrusteeDeposit {
                deposit: vec![1; 16],
                share,
                release_at_ms: at,
                silence_ms: silence,
            })),
        })
    }

    #[test]
    fn a_deposit_needs_a_share_a_place_and_a_time() {
        let mut share = vec![2u8; 33];
        let ok = validate_trustee_request(&deposit(share.clone(), 5_000, 0));
        assert!(matches!(ok.map(|r| r.body.kind()), Ok(TrusteeKind::Deposit)));
        assert!(validate_trustee_request(&deposit(share.clone(), 0, 0)).is_err(), "no time");
        assert!(validate_trustee_request(&deposit(share.clone(), 0, 1_000)).is_err(), "1 s");
        assert!(validate_trustee_request(&deposit(share[..32].to_vec(), 5_000, 0)).is_err());
        share[0] = 0;
        assert!(validate_trustee_request(&deposit(share.clone(), 5_000, 0)).is_err(), "x = 0");
        share[0] = 9;
        assert!(validate_trustee_request(&deposit(share, 5_000, 0)).is_err(), "x = 9");
    }

    #[test]
    fn a_check_in_names_distinct_deposits() {
        let req = |deposits: Vec<Vec<u8>>| {
            crate::encode(&wire::TrusteeRequest {
                owner: vec![7; 32],
                created_ms: 1_000,
                body: Some(wire::trustee_request::Body::CheckIn(wire::TrusteeIds { deposits })),
            })
        };
        let two = validate_trustee_request(&req(vec![vec![1; 16], vec![2; 16]]));
        assert!(matches!(two.map(|r| r.body), Ok(TrusteeBody::CheckIn(d)) if d.len() == 2));
        assert!(validate_trustee_request(&req(vec![])).is_err());
        assert!(validate_trustee_request(&req(vec![vec![1; 16], vec![1; 16]])).is_err());
        assert!(validate_trustee_request(&req(vec![vec![1; 15]])).is_err());
        assert!(validate_trustee_request(&req(vec![vec![3; 16]; 65])).is_err());
        assert!(validate_trustee_request(&[0xff; 2_000]).is_err(), "too large");
    }
}
