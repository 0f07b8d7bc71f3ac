//! Community actions (SPEC.md §9.10): the account key signs every write to
//! a relay's communities under its kind's label, and anyone checks it
//! before believing a post, a comment or a moderator's removal.

use ed25519_dalek::VerifyingKey;
use kovan_spec::validate::{CommunityKind, ValidatedCommunityAction, validate_community_action};
use kovan_spec::{DecodeError, encode, limits, wire};
use sha2::{Digest, Sha256};

use crate::context::{self, SigContext};
use crate::identity::AccountKey;

/// Why an action was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ActionError {
    /// The bytes break the spec.
    #[error(transparent)]
    Invalid(#[from] DecodeError),
    /// The signature is not the author's under the action's label.
    #[error("the author's signature does not verify")]
    BadSignature,
}

/// An action whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedAction {
    /// Its id: the first 16 bytes of SHA-256(tbs).
    pub id: [u8; limits::ID_LEN],
    /// What it says.
    pub action: ValidatedCommunityAction,
}

/// The id of the action encoded as `tbs`.
pub fn action_id(tbs: &[u8]) -> [u8; limits::ID_LEN] {
    let h = Sha256::digest(tbs);
    let mut id = [0; limits::ID_LEN];
    id.copy_from_slice(&h[..limits::ID_LEN]);
    id
}

/// The signature label of a kind of action.
pub fn context(kind: CommunityKind) -> SigContext {
    SigContext::Community(kind)
}

/// Encodes `action`, checks it as a receiver would and signs it: returns
/// the `tbs`, the signature and the opened action. The author must be
/// `key`'s account.
pub fn sign_action(
    key: &AccountKey,
    action: &wire::CommunityAction,
) -> Result<(Vec<u8>, [u8; 64], OpenedAction), ActionError> {
    let tbs = encode(action);
    let opened = validate_community_action(&tbs)?;
    if &opened.author != key.id().as_bytes() {
        return Err(ActionError::Invalid(DecodeError::Invalid {
            what: "CommunityAction",
            reason: "the author is not the signing account".into(),
        }));
    }
    let sig = key.sign(context(opened.body.kind()), &tbs);
    Ok((tbs.clone(), sig, OpenedAction { id: action_id(&tbs), action: opened }))
}

/// Decodes `tbs`, validates it and verifies `signature` by its author
/// under its kind's label.
pub fn open_action(tbs: &[u8], signature: &[u8]) -> Result<OpenedAction, ActionError> {
    let action = validate_community_action(tbs)?;
    let key = VerifyingKey::from_bytes(&action.author).map_err(|_| ActionError::BadSignature)?;
    context::verify(&key, context(action.body.kind()), tbs, signature)
        .map_err(|_| ActionError::BadSignature)?;
    Ok(OpenedAction { id: action_id(tbs), action })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::OsRng;

    fn like(author: &AccountKey) -> wire::CommunityAction {
        wire::CommunityAction {
            version: 1,
            author: author.id().as_bytes().to_vec(),
            created_ms: 5,
            nonce: vec![9; 16],
            body: Some(wire::community_action::Body::Like(wire::CommunityLike {
                community: vec![1; 16],
                target: vec![2; 16],
                liked: true,
            })),
        }
    }

    #[test]
    fn a_signed_action_opens_and_any_change_or_other_label_fails() {
        let key = AccountKey::generate(&mut OsRng);
        let (tbs, sig, opened) = sign_action(&key, &like(&key)).unwrap();
        assert_eq!(open_action(&tbs, &sig).unwrap(), opened);
        assert_eq!(opened.id, action_id(&tbs));
        let mut altered = tbs.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert!(open_action(&altered, &sig).is_err());
        // The same bytes signed under another kind's label do not verify.
        let wrong = key.sign(context(CommunityKind::Post), &tbs);
        assert_eq!(open_action(&tbs, &wrong), Err(ActionError::BadSignature));
    }

    #[test]
    fn nobody_signs_for_another_author() {
        let key = AccountKey::generate(&mut OsRng);
        let other = AccountKey::generate(&mut OsRng);
        assert!(sign_action(&key, &like(&other)).is_err());
    }
}
