//! The mailbox's HTTP routes: put (anyone, sealed sender), fetch and ack
//! (the owner's device).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::store::{MailboxStore, Quota};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{ApiJson, ApiPath, ApiQuery, Authed, ClientIp, RawBody, b64, too_large};
use crate::state::{Shared, now_ms};

/// Result of a put.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct PutResult {
    /// True if this envelope was already in the mailbox.
    pub duplicate: bool,
}

/// Puts a sealed envelope (the raw `SealedEnvelope` bytes) into a device's
/// mailbox. Needs no account (sealed sender); idempotent; rate-limited.
#[utoipa::path(post, path = "/v1/mailbox/{peer_id}", tag = "mailbox",
    params(("peer_id" = String, Path)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "A version-1 SealedEnvelope (SPEC.md §5), protobuf-encoded, within §8's limit"),
    responses((status = 202, body = PutResult), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 429, body = ErrorBody), (status = 507, body = ErrorBody)))]
pub async fn put_envelope(
    State(st): State<Shared>,
    ip: ClientIp,
    ApiPath(peer_id): ApiPath<String>,
    RawBody(body): RawBody,
) -> ApiResult<(StatusCode, Json<PutResult>)> {
    st.limits.put_ip.allow(&ip.0)?;
    if body.len() > kovan_spec::limits::MAX_SEALED_ENVELOPE {
        return Err(too_large());
    }
    let env: kovan_spec::wire::SealedEnvelope = kovan_spec::decode(&body)
        .map_err(|e| ApiError::bad_request("invalid_envelope", e.to_string()))?;
    if env.version != 1 || env.ephemeral_key.len() != 32 || env.ciphertext.len() < 16 {
        return Err(ApiError::bad_request("invalid_envelope", "not a version-1 sealed envelope"));
    }
    let digest: [u8; 32] = Sha256::digest(&body).into();
    let now = now_ms();
    let quota = Quota {
        max_items: st.config.limits.mailbox_max_items,
        max_bytes: st.config.limits.mailbox_max_bytes,
    };
    let expires = now + st.config.limits.mailbox_ttl_secs * 1000;
    let out = st.store.put(&peer_id, &digest, &body, now, expires, quota).await?;
    if !out.duplicate {
        st.hub.mailbox_changed(&peer_id);
    }
    Ok((StatusCode::ACCEPTED, Json(PutResult { duplicate: out.duplicate })))
}

/// Mailbox fetch parameters.
#[derive(Debug, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FetchQuery {
    /// Return items after this sequence number. Default 0 (everything).
    #[serde(default)]
    pub after: Option<i64>,
    /// At most this many, ≤ 256. Default 64.
    #[serde(default)]
    pub limit: Option<i64>,
}

/// A mailbox item.
#[derive(Debug, Deserialize, Serialize, ToSchema, Clone, PartialEq, Eq)]
pub struct Item {
    /// Sequence number (the cursor).
    pub seq: i64,
    /// The sealed envelope, base64.
    pub envelope: String,
    /// When the relay received it, Unix ms.
    pub received_at: i64,
}

/// A page of mailbox items.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct Items {
    /// Oldest first.
    pub items: Vec<Item>,
}

/// Fetches the caller's device's mailbox after a cursor.
#[utoipa::path(get, path = "/v1/mailbox", tag = "mailbox", security(("bearer" = [])), params(FetchQuery),
    responses((status = 200, body = Items), (status = 401, body = ErrorBody)))]
pub async fn fetch_mailbox(
    State(st): State<Shared>,
    Authed(s): Authed,
    ApiQuery(q): ApiQuery<FetchQuery>,
) -> ApiResult<Json<Items>> {
    let items = st
        .store
        .fetch(
            &s.device_peer_id,
            q.after.unwrap_or(0),
            q.limit.unwrap_or(64).clamp(1, 256),
            now_ms(),
        )
        .await?;
    Ok(Json(Items {
        items: items
            .into_iter()
            .map(|i| Item { seq: i.seq, envelope: b64(&i.envelope), received_at: i.received_at })
            .collect(),
    }))
}

/// Acknowledgement of mailbox items.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct Ack {
    /// Sequence numbers to delete, at most 1,000.
    #[schema(max_items = 1000)]
    pub seqs: Vec<i64>,
}

/// What an ack deleted.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct AckResult {
    /// Items deleted.
    pub deleted: u64,
}

/// Deletes acknowledged items from the caller's device's mailbox.
#[utoipa::path(post, path = "/v1/mailbox/ack", tag = "mailbox", security(("bearer" = [])), request_body = Ack,
    responses((status = 200, body = AckResult), (status = 401, body = ErrorBody)))]
pub async fn ack_mailbox(
    State(st): State<Shared>,
    Authed(s): Authed,
    ApiJson(req): ApiJson<Ack>,
) -> ApiResult<Json<AckResult>> {
    if req.seqs.len() > 1000 {
        return Err(ApiError::bad_request("too_many", "at most 1000 seqs per ack"));
    }
    let deleted = st.store.ack(&s.device_peer_id, &req.seqs).await?;
    Ok(Json(AckResult { deleted }))
}
