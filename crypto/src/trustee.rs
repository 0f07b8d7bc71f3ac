//! Relays as trustees (SPEC.md §6.10.6): the shares a relay lock leaves with
//! relays, and the account-signed requests that deposit them, check in and
//! cancel.

use ed25519_dalek::VerifyingKey;
use kovan_spec::validate::{TrusteeRequestSpec, validate_trustee_request};
use kovan_spec::{DecodeError, encode, wire};
use rand_core::CryptoRngCore;

use crate::conditional::{Part, Share, ShareError, commitment, split};
use crate::context::{self, SigContext};
use crate::identity::AccountKey;

/// Why a trustee request is refused.
#[derive(Debug, thiserror::Error)]
pub enum TrusteeError {
    /// It does not decode or breaks a rule of the spec.
    #[error(transparent)]
    Invalid(#[from] DecodeError),
    /// Its owner is not the signing account.
    #[error("the request's owner is not the signing account")]
    NotOwner,
    /// The signature does not verify under the owner's key and the
    /// request's label.
    #[error("the request's signature does not verify")]
    BadSignature,
}

/// A relay lock's part, dealt: the part, and each relay's share with its
/// commitment (share i has x = i + 1).
pub struct Dealt {
    /// The condition's key part.
    pub part: Part,
    /// One per relay, in order.
    pub shares: Vec<(Share, [u8; 32])>,
}

/// Draws a part and splits it `k` of `n` (1 <= k <= n <= 8) for relays.
pub fn deal(rng: &mut impl CryptoRngCore, k: usize, n: usize) -> Result<Dealt, ShareError> {
    if n > kovan_spec::limits::MAX_TRUSTEES {
        return Err(ShareError::Threshold);
    }
    let mut part = zeroize::Zeroizing::new([0u8; 32]);
    rng.fill_bytes(part.as_mut());
    let shares = split(rng, &part, k, n)?
        .into_iter()
        .map(|s| {
            let c = commitment(&s);
            (s, c)
        })
        .collect();
    Ok(Dealt { part, shares })
}

/// Signs a request with the account key under its kind's label: its
/// encoding and the signature. Refused for a request the spec refuses or
/// one whose owner is another account.
pub fn sign_request(
    key: &AccountKey,
    request: &wire::TrusteeRequest,
) -> Result<(Vec<u8>, [u8; 64]), TrusteeError> {
    let bytes = encode(request);
    let spec = validate_trustee_request(&bytes)?;
    if &spec.owner != key.id().as_bytes() {
        return Err(TrusteeError::NotOwner);
    }
    let sig = key.sign(SigContext::Trustee(spec.body.kind()), &bytes);
    Ok((bytes, sig))
}

/// Decodes a request, validates it and verifies its owner's signature
/// under its kind's label.
pub fn open_request(bytes: &[u8], signature: &[u8]) -> Result<TrusteeRequestSpec, TrusteeError> {
    let spec = validate_trustee_request(bytes)?;
    let key = VerifyingKey::from_bytes(&spec.owner).map_err(|_| TrusteeError::BadSignature)?;
    context::verify(&key, SigContext::Trustee(spec.body.kind()), bytes, signature)
        .map_err(|_| TrusteeError::BadSignature)?;
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conditional::combine;
    use kovan_spec::validate::TrusteeBody;
    use rand_core::OsRng;

    fn check_in(owner: &AccountKey, ids: Vec<Vec<u8>>) -> wire::TrusteeRequest {
        wire::TrusteeRequest {
            owner: owner.id().as_bytes().to_vec(),
            created_ms: 1_700_000_000_000,
            body: Some(wire::trustee_request::Body::CheckIn(wire::TrusteeIds { deposits: ids })),
        }
    }

    #[test]
    fn a_request_verifies_only_under_its_owner_and_its_kind() {
        let owner = AccountKey::generate(&mut OsRng);
        let (bytes, sig) = sign_request(&owner, &check_in(&owner, vec![vec![1; 16]])).unwrap();
        let spec = open_request(&bytes, &sig).unwrap();
        assert!(matches!(spec.body, TrusteeBody::CheckIn(ref d) if d == &[[1; 16]]));
        // The same bytes under the cancel label, or altered, do not verify.
        let as_cancel =
            owner.sign(SigContext::Trustee(kovan_spec::validate::TrusteeKind::Cancel), &bytes);
        assert!(matches!(open_request(&bytes, &as_cancel), Err(TrusteeError::BadSignature)));
        let mut altered = bytes.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert!(open_request(&altered, &sig).is_err());
        // Someone else cannot sign in the owner's name.
        let other = AccountKey::generate(&mut OsRng);
        assert!(matches!(
            sign_request(&other, &check_in(&owner, vec![vec![1; 16]])),
            Err(TrusteeError::NotOwner)
        ));
    }

    #[test]
    fn k_relays_shares_give_the_part_and_each_matches_its_commitment() {
        let dealt = deal(&mut OsRng, 2, 3).unwrap();
        assert_eq!(dealt.shares.len(), 3);
        for (s, c) in &dealt.shares {
            assert!(crate::conditional::share_matches(s, c));
        }
        let two = [dealt.shares[0].0.clone(), dealt.shares[2].0.clone()];
        assert_eq!(*combine(&two).unwrap(), *dealt.part);
        // One relay's share alone is not the part.
        assert_ne!(*combine(&two[..1]).unwrap(), *dealt.part);
        assert!(deal(&mut OsRng, 2, 9).is_err(), "at most 8 relays");
    }
}
