//! The trustee routes (SPEC.md §6.10.6): one route for the owner's signed
//! requests, and the fetch of a share by its deposit's id. Neither needs an
//! account on this relay.

use axum::Json;
use axum::extract::State;
use kovan_crypto::trustee::{TrusteeError, open_request};
use kovan_spec::limits;
use kovan_spec::validate::TrusteeBody;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::store::{DepositState, Deposited, NewDeposit, Outcome, TrusteeStore};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{ApiJson, ApiPath, ClientIp, b64, unb64};
use crate::state::{Shared, now_ms};

/// A signed request: a `TrusteeRequest` and its owner's signature.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct SignedRequest {
    /// The request's encoding, base64.
    pub request: String,
    /// Ed25519 signature by the owner under the request kind's label, base64.
    pub signature: String,
}

/// What a request did to each deposit it names.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct DepositResult {
    /// The deposit (hex).
    pub deposit: String,
    /// `waiting`, `released` (already due: too late), `cancelled`,
    /// `stale` (a check-in no later than one taken before) or `unknown`.
    pub state: String,
    /// When it is due, for a waiting one (ms since the Unix epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_ms: Option<i64>,
}

/// The answer to a request: one result per deposit, in the request's
/// order (one for a deposit).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct RequestDone {
    /// Per deposit.
    pub deposits: Vec<DepositResult>,
}

/// A deposit's state.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct ShareDoc {
    /// `waiting`, `released` or `cancelled`.
    pub state: String,
    /// When it is (or was) due (ms since the Unix epoch); absent once
    /// cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_ms: Option<i64>,
    /// The share once released (33 bytes, base64).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share: Option<String>,
}

fn result(id: &[u8; 16], o: Outcome) -> DepositResult {
    let due_ms = match o {
        Outcome::Waiting(d) => Some(d),
        _ => None,
    };
    DepositResult { deposit: hex::encode(id), state: o.word().to_owned(), due_ms }
}

/// Applies an owner's signed request: keep a share, check in, cancel.
#[utoipa::path(post, path = "/v1/trustee", tag = "trustee", request_body = SignedRequest,
    responses((status = 200, body = RequestDone), (status = 400, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 429, body = ErrorBody),
              (status = 507, body = ErrorBody)))]
pub async fn request(
    State(st): State<Shared>,
    ip: ClientIp,
    ApiJson(body): ApiJson<SignedRequest>,
) -> ApiResult<Json<RequestDone>> {
    st.limits.trustee_ip.allow(&ip.0)?;
    let bytes = unb64("request", &body.request, limits::MAX_TRUSTEE_REQUEST)?;
    let sig = unb64("signature", &body.signature, 64)?;
    let req = open_request(&bytes, &sig).map_err(|e| match e {
        TrusteeError::BadSignature => ApiError::bad_request("bad_signature", e.to_string()),
        e => ApiError::bad_request("invalid_request", e.to_string()),
    })?;
    let now = now_ms();
    let created = i64::try_from(req.created_ms).unwrap_or(i64::MAX);
    if created.abs_diff(now) > limits::TRUSTEE_WINDOW_MS {
        return Err(ApiError::bad_request(
            "clock_skew",
            "the request's time is more than 5 minutes from this relay's clock",
        ));
    }
    let deposits = match req.body {
        TrusteeBody::Deposit { deposit, share, release } => {
            let at = release.at_ms.unwrap_or(0);
            if at > req.created_ms.saturating_add(limits::TRUSTEE_MAX_AHEAD_MS) {
                return Err(ApiError::bad_request(
                    "too_far",
                    "a share is kept for at most 10 years ahead",
                ));
            }
            let d = NewDeposit {
                id: deposit,
                owner: req.owner,
                share,
                release_at_ms: i64::try_from(at).unwrap_or(i64::MAX),
                silence_ms: release.silence_ms.map_or(0, |s| s as i64),
                created_ms: created,
            };
            let due_ms = match st.store.deposit(&d, limits::MAX_TRUSTEE_DEPOSITS, now).await? {
                Deposited::Kept { due_ms } | Deposited::Again { due_ms } => due_ms,
            };
            vec![result(&deposit, Outcome::Waiting(due_ms))]
        }
        TrusteeBody::CheckIn(ids) => {
            let out = st.store.check_in(&req.owner, &ids, created, now).await?;
            ids.iter().zip(out).map(|(id, o)| result(id, o)).collect()
        }
        TrusteeBody::Cancel(ids) => {
            let out = st.store.cancel(&req.owner, &ids, created, now).await?;
            ids.iter().zip(out).map(|(id, o)| result(id, o)).collect()
        }
    };
    Ok(Json(RequestDone { deposits }))
}

/// A deposit's state, with its share once it is due. Needs no account:
/// the id is known only to those who hold the message.
#[utoipa::path(get, path = "/v1/trustee/{deposit}", tag = "trustee",
    params(("deposit" = String, Path, description = "The deposit's id, 32 hex digits")),
    responses((status = 200, body = ShareDoc), (status = 404, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
pub async fn fetch(
    State(st): State<Shared>,
    ip: ClientIp,
    ApiPath(deposit): ApiPath<String>,
) -> ApiResult<Json<ShareDoc>> {
    st.limits.trustee_ip.allow(&ip.0)?;
    let id: [u8; 16] = hex::decode(&deposit)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ApiError::not_found("deposit"))?;
    let state =
        st.store.fetch(&id, now_ms()).await?.ok_or_else(|| ApiError::not_found("deposit"))?;
    Ok(Json(match state {
        DepositState::Waiting { due_ms } => {
            ShareDoc { state: "waiting".into(), due_ms: Some(due_ms), share: None }
        }
        DepositState::Released { due_ms, share } => {
            ShareDoc { state: "released".into(), due_ms: Some(due_ms), share: Some(b64(&share)) }
        }
        DepositState::Cancelled => {
            ShareDoc { state: "cancelled".into(), due_ms: None, share: None }
        }
    }))
}
