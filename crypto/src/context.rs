//! Signature contexts (SPEC.md §2.1).
//!
//! Every Ed25519 signature kovan makes is over
//! `"kovan-sig\0" || len(label) as u8 || label || data`, so a signature made
//! for one purpose never verifies for another (a poll ballot can never pass as
//! a message, a device certificate never as a friend request).

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use crate::KeyError;

/// The prefix of every signed byte string.
pub const SIGNATURE_PREFIX: &[u8] = b"kovan-sig\0";

/// What a signature is for. Each variant has a distinct label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SigContext {
    /// An account key certifies a device (SPEC.md §2.3).
    DeviceCertificate,
    /// A device signs the content of a sealed envelope (SPEC.md §5.3).
    SealedSender,
    /// An account proves possession of its key to a relay at registration.
    AccountRegistration,
    /// A device signs a friend request.
    FriendRequest,
    /// A device's p2p key proves to a relay that the device holds the key
    /// its PeerId (its mailbox address) is made from (SPEC.md §9.2).
    RelayDevice,
    /// An account writes to a relay's communities (SPEC.md §9.10), one
    /// label per kind of action.
    Community(kovan_spec::validate::CommunityKind),
    /// An account's ballot in a verifiable poll (SPEC.md §6.4.1).
    PollBallot,
    /// An account's sealed ballot, a commitment (SPEC.md §6.4.3).
    PollSealedBallot,
    /// An account registers its ballot key for an anonymous poll (SPEC.md
    /// §6.4.2).
    BallotKey,
    /// An account's spreading message (SPEC.md §6.11).
    Spread,
    /// An account takes its spreading message back (SPEC.md §6.11).
    SpreadRetract,
    /// An account asks a relay that keeps a relay lock's share (SPEC.md
    /// §6.10.6), one label per kind of request.
    Trustee(kovan_spec::validate::TrusteeKind),
}

impl SigContext {
    /// Every context, for tests and the spec.
    pub const ALL: [SigContext; 24] = {
        use kovan_spec::validate::CommunityKind as K;
        use kovan_spec::validate::TrusteeKind as T;
        [
            SigContext::DeviceCertificate,
            SigContext::SealedSender,
            SigContext::AccountRegistration,
            SigContext::FriendRequest,
            SigContext::RelayDevice,
            SigContext::Community(K::Create),
            SigContext::Community(K::Settings),
            SigContext::Community(K::Close),
            SigContext::Community(K::Post),
            SigContext::Community(K::Comment),
            SigContext::Community(K::Edit),
            SigContext::Community(K::Delete),
            SigContext::Community(K::Like),
            SigContext::Community(K::Report),
            SigContext::Community(K::Moderate),
            SigContext::Community(K::Membership),
            SigContext::PollBallot,
            SigContext::PollSealedBallot,
            SigContext::BallotKey,
            SigContext::Spread,
            SigContext::SpreadRetract,
            SigContext::Trustee(T::Deposit),
            SigContext::Trustee(T::CheckIn),
            SigContext::Trustee(T::Cancel),
        ]
    };

    /// The label, as written in SPEC.md.
    pub fn label(self) -> &'static str {
        match self {
            SigContext::DeviceCertificate => "kovan/v1/device-certificate",
            SigContext::SealedSender => "kovan/v1/sealed-sender",
            SigContext::AccountRegistration => "kovan/v1/account-registration",
            SigContext::FriendRequest => "kovan/v1/friend-request",
            SigContext::RelayDevice => "kovan/v1/relay-device",
            SigContext::PollBallot => "kovan/v1/poll-ballot",
            SigContext::PollSealedBallot => "kovan/v1/poll-sealed-ballot",
            SigContext::BallotKey => "kovan/v1/ballot-key",
            SigContext::Spread => "kovan/v1/spread",
            SigContext::SpreadRetract => "kovan/v1/spread-retract",
            SigContext::Trustee(k) => {
                use kovan_spec::validate::TrusteeKind as T;
                match k {
                    T::Deposit => "kovan/v1/trustee-deposit",
                    T::CheckIn => "kovan/v1/trustee-check-in",
                    T::Cancel => "kovan/v1/trustee-cancel",
                }
            }
            SigContext::Community(k) => {
                use kovan_spec::validate::CommunityKind as K;
                match k {
                    K::Create => "kovan/v1/community-create",
                    K::Settings => "kovan/v1/community-settings",
                    K::Close => "kovan/v1/community-close",
                    K::Post => "kovan/v1/community-post",
                    K::Comment => "kovan/v1/community-comment",
                    K::Edit => "kovan/v1/community-edit",
                    K::Delete => "kovan/v1/community-delete",
                    K::Like => "kovan/v1/community-like",
                    K::Report => "kovan/v1/community-report",
                    K::Moderate => "kovan/v1/community-moderate",
                    K::Membership => "kovan/v1/community-membership",
                }
            }
        }
    }
}

/// The exact bytes signed for `data` under `ctx`.
pub fn signing_input(ctx: SigContext, data: &[u8]) -> Vec<u8> {
    let label = ctx.label().as_bytes();
    let mut out = Vec::with_capacity(SIGNATURE_PREFIX.len() + 1 + label.len() + data.len());
    out.extend_from_slice(SIGNATURE_PREFIX);
    // Labels are short constants, far below 256 bytes.
    out.push(label.len() as u8);
    out.extend_from_slice(label);
    out.extend_from_slice(data);
    out
}

/// Signs `data` under `ctx`.
pub fn sign(key: &SigningKey, ctx: SigContext, data: &[u8]) -> [u8; 64] {
    key.sign(&signing_input(ctx, data)).to_bytes()
}

/// Verifies a signature over `data` under `ctx` (strict Ed25519: rejects
/// non-canonical and small-order encodings).
pub fn verify(
    key: &VerifyingKey,
    ctx: SigContext,
    data: &[u8],
    sig: &[u8],
) -> Result<(), KeyError> {
    let sig = Signature::from_slice(sig).map_err(|_| KeyError::BadSignature)?;
    key.verify_strict(&signing_input(ctx, data), &sig).map_err(|_| KeyError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_in_its_own_context() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let data = b"the same bytes";
        for signed_as in SigContext::ALL {
            let sig = sign(&key, signed_as, data);
            for checked_as in SigContext::ALL {
                let ok = verify(&key.verifying_key(), checked_as, data, &sig).is_ok();
                assert_eq!(ok, signed_as == checked_as, "{signed_as:?} vs {checked_as:?}");
            }
        }
    }

    #[test]
    fn labels_are_distinct() {
        let mut labels: Vec<_> = SigContext::ALL.iter().map(|c| c.label()).collect();
        labels.sort();
        labels.dedup();
        assert_eq!(labels.len(), SigContext::ALL.len());
    }
}
