//! The blob routes: create, info, upload (resumable), download (ranges),
//! delete.

use std::io::SeekFrom;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use utoipa::ToSchema;

use super::files::{path_of, remove_bytes, valid_id};
use super::store::{BlobRow, BlobStore};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{ApiJson, ApiPath, ApiQuery, Authed, MaybeAuthed};
use crate::state::{Shared, now_ms};

/// Header of a `PATCH`: where this part starts.
pub const UPLOAD_OFFSET: &str = "upload-offset";
/// Bytes read from disk per body frame of a download.
const READ_CHUNK: usize = 64 * 1024;
/// Bytes written between durable checkpoints of an upload.
const CHECKPOINT: u64 = 8 * 1024 * 1024;

/// Creating a blob.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct NewBlob {
    /// The ciphertext's size in bytes (at most the relay's `blob_max_bytes`).
    #[schema(minimum = 1)]
    pub size: i64,
}

/// A blob's state.
#[derive(Debug, Deserialize, Serialize, ToSchema, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    /// 16 random bytes, hex: the capability to download it.
    pub id: String,
    /// Announced size.
    pub size: i64,
    /// Bytes stored; an upload continues here.
    pub received: i64,
    /// Whether every byte has arrived (downloads need it).
    pub complete: bool,
    /// Unix ms after which it is deleted.
    pub expires_at: i64,
}

impl From<&BlobRow> for BlobInfo {
    fn from(b: &BlobRow) -> Self {
        Self {
            id: b.id.clone(),
            size: b.size,
            received: b.received,
            complete: b.complete(),
            expires_at: b.expires_at,
        }
    }
}

fn check_id(id: &str) -> ApiResult<()> {
    if valid_id(id) { Ok(()) } else { Err(ApiError::not_found("blob")) }
}

/// A blob that can be read or written: 404 when there is none (never
/// made, or expired), 410 when its uploader withdrew it (§9.8).
async fn live_blob(st: &Shared, id: &str) -> ApiResult<BlobRow> {
    check_id(id)?;
    let blob = st.store.blob(id, now_ms()).await?.ok_or_else(|| ApiError::not_found("blob"))?;
    if blob.withdrawn {
        return Err(ApiError::new(
            StatusCode::GONE,
            "withdrawn",
            "the uploader withdrew this blob",
        ));
    }
    Ok(blob)
}

/// Creates an empty blob of `size` bytes, charged to the caller's quota.
#[utoipa::path(post, path = "/v1/blobs", tag = "blobs", operation_id = "blob_create", security(("bearer" = [])),
    request_body = NewBlob,
    responses((status = 201, body = BlobInfo), (status = 401, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 507, body = ErrorBody)))]
pub async fn create(
    State(st): State<Shared>,
    Authed(s): Authed,
    ApiJson(req): ApiJson<NewBlob>,
) -> ApiResult<(StatusCode, Json<BlobInfo>)> {
    let l = &st.config.limits;
    if req.size <= 0 {
        return Err(ApiError::bad_request("invalid_field", "size must be positive"));
    }
    if req.size > l.blob_max_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("blobs are limited to {} bytes", l.blob_max_bytes),
        ));
    }
    let now = now_ms();
    let row = BlobRow {
        id: crate::auth::random_id(),
        account_id: s.account_id,
        size: req.size,
        received: 0,
        created_at: now,
        expires_at: now + l.blob_ttl_secs * 1000,
        withdrawn: false,
    };
    st.store.create_blob(&row, l.blob_quota_bytes).await?;
    // The file exists from the start, so an upload only ever appends.
    let created = crate::private::file_options_async()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path_of(&st.blob_dir, &row.id))
        .await;
    if let Err(e) = created {
        let _ = st.store.delete_blob(s.account_id, &row.id).await;
        return Err(ApiError::internal(e));
    }
    Ok((StatusCode::CREATED, Json(BlobInfo::from(&row))))
}

/// A blob's size and how much of it is stored.
#[utoipa::path(get, path = "/v1/blobs/{id}/info", tag = "blobs", operation_id = "blob_info",
    params(("id" = String, Path, description = "blob id (hex)")),
    responses((status = 200, body = BlobInfo), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 410, body = ErrorBody)))]
pub async fn info(
    State(st): State<Shared>,
    MaybeAuthed(s): MaybeAuthed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<BlobInfo>> {
    let blob = live_blob(&st, &id).await?;
    crate::services::communities::may_read_blob(&st, &id, s.as_ref()).await?;
    Ok(Json(BlobInfo::from(&blob)))
}

/// Releases the per-blob upload lock when the request ends, however it ends.
struct UploadLock<'a> {
    st: &'a Shared,
    id: String,
}

impl Drop for UploadLock<'_> {
    fn drop(&mut self) {
        if let Ok(mut set) = self.st.uploading.lock() {
            set.remove(&self.id);
        }
    }
}

/// Appends bytes to the caller's blob. `Upload-Offset` must equal the bytes
/// already stored (see `info`); the body is written from there. If the body
/// is cut off, what arrived is kept and the next `PATCH` continues after it.
#[utoipa::path(patch, path = "/v1/blobs/{id}", tag = "blobs", operation_id = "blob_upload", security(("bearer" = [])),
    params(("id" = String, Path, description = "blob id (hex)"),
           ("Upload-Offset" = i64, Header, description = "where this part starts")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = BlobInfo), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 410, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn upload(
    State(st): State<Shared>,
    Authed(s): Authed,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<BlobInfo>> {
    let blob = live_blob(&st, &id).await?;
    if blob.account_id != s.account_id {
        return Err(ApiError::not_found("blob"));
    }
    let offset: i64 = headers
        .get(UPLOAD_OFFSET)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| ApiError::bad_request("invalid_field", "Upload-Offset is required"))?;
    {
        let mut set = st.uploading.lock().map_err(ApiError::internal)?;
        if !set.insert(id.clone()) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "upload_in_progress",
                "another upload of this blob is running",
            ));
        }
    }
    let _lock = UploadLock { st: &st, id: id.clone() };
    if offset != blob.received {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "offset_mismatch",
            format!("the blob holds {} bytes; continue from there", blob.received),
        ));
    }
    // An announced length past the blob's end is refused before a byte is
    // read; a body without one is cut off where it passes the end.
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > (blob.size - blob.received) as u64) {
        return Err(too_long_err(blob.size));
    }
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .open(path_of(&st.blob_dir, &id))
        .await
        .map_err(ApiError::internal)?;
    // Bytes past the last durable checkpoint may be torn: drop them.
    file.set_len(blob.received as u64).await.map_err(ApiError::internal)?;
    file.seek(SeekFrom::Start(blob.received as u64)).await.map_err(ApiError::internal)?;
    let mut at = blob.received as u64;
    let mut synced = at;
    let mut stream = body.into_data_stream();
    let mut cut_off = false;
    let mut too_long = false;
    while let Some(frame) = stream.next().await {
        let Ok(bytes) = frame else {
            cut_off = true;
            break;
        };
        if at + bytes.len() as u64 > blob.size as u64 {
            too_long = true;
            break;
        }
        file.write_all(&bytes).await.map_err(ApiError::internal)?;
        at += bytes.len() as u64;
        if at - synced >= CHECKPOINT {
            file.sync_data().await.map_err(ApiError::internal)?;
            st.store.set_blob_received(&id, at as i64).await?;
            synced = at;
        }
    }
    file.flush().await.map_err(ApiError::internal)?;
    file.sync_data().await.map_err(ApiError::internal)?;
    st.store.set_blob_received(&id, at as i64).await?;
    if too_long {
        return Err(too_long_err(blob.size));
    }
    if cut_off {
        tracing::debug!(blob = %id, received = at, "upload cut off; it can resume");
    }
    let row = BlobRow { received: at as i64, ..blob };
    Ok(Json(BlobInfo::from(&row)))
}

/// 413: more bytes than the blob's size.
fn too_long_err(size: i64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("the blob's size is {size} bytes"),
    )
}

/// A parsed `Range: bytes=START-[END]` (one range).
fn parse_range(headers: &HeaderMap, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(v) = headers.get(header::RANGE) else { return Ok(None) };
    let v = v.to_str().map_err(|_| ())?;
    let spec = v.strip_prefix("bytes=").ok_or(())?;
    let (a, b) = spec.split_once('-').ok_or(())?;
    let start: u64 = a.trim().parse().map_err(|_| ())?;
    let end: u64 = if b.trim().is_empty() {
        size.checked_sub(1).ok_or(())?
    } else {
        b.trim().parse::<u64>().map_err(|_| ())?.min(size.saturating_sub(1))
    };
    if start > end || start >= size {
        return Err(());
    }
    Ok(Some((start, end)))
}

/// Downloads a complete blob, or one byte range of it (`Range: bytes=N-`
/// or `bytes=N-M`). Needs no account: the id is the capability, and the
/// bytes are ciphertext — except a file of a private community's post,
/// which only its members read (SPEC.md §9.10.6).
#[utoipa::path(get, path = "/v1/blobs/{id}", tag = "blobs", operation_id = "blob_download",
    params(("id" = String, Path, description = "blob id (hex)")),
    responses((status = 200, content_type = "application/octet-stream"),
              (status = 206, content_type = "application/octet-stream"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 410, body = ErrorBody), (status = 416, body = ErrorBody)))]
pub async fn download(
    State(st): State<Shared>,
    MaybeAuthed(s): MaybeAuthed,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let blob = live_blob(&st, &id).await?;
    crate::services::communities::may_read_blob(&st, &id, s.as_ref()).await?;
    if !blob.complete() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "blob_incomplete",
            format!("{} of {} bytes have been uploaded", blob.received, blob.size),
        ));
    }
    let mut file =
        tokio::fs::File::open(path_of(&st.blob_dir, &id)).await.map_err(ApiError::internal)?;
    // What is on disk is what is served: its length, not the row's, bounds
    // the response.
    let on_disk = file.metadata().await.map_err(ApiError::internal)?.len();
    let size = on_disk.min(blob.size as u64);
    let range = parse_range(&headers, size).map_err(|()| {
        ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "bad_range",
            format!("the range must be bytes=START-[END] within {size} bytes"),
        )
    })?;
    let (start, end) = range.unwrap_or((0, size.saturating_sub(1)));
    let len = if size == 0 { 0 } else { end - start + 1 };
    file.seek(SeekFrom::Start(start)).await.map_err(ApiError::internal)?;
    let stream = futures_util::stream::unfold((file, len), |(mut file, left)| async move {
        if left == 0 {
            return None;
        }
        let mut buf = vec![0u8; READ_CHUNK.min(left as usize)];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), (file, left - n as u64)))
            }
            Err(e) => Some((Err(e), (file, 0))),
        }
    });
    let mut resp = Body::from_stream(stream).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_LENGTH, len.into());
    h.insert(header::ACCEPT_RANGES, header::HeaderValue::from_static("bytes"));
    if range.is_some() {
        *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
        let v = format!("bytes {start}-{end}/{size}");
        if let Ok(v) = header::HeaderValue::from_str(&v) {
            resp.headers_mut().insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(resp)
}

/// Query of a delete.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DeleteQuery {
    /// The blob was never needed (nothing uploaded): forget it entirely
    /// (reads answer 404 as for one never made) instead of withdrawing it.
    #[serde(default)]
    pub unused: bool,
}

/// Withdraws the caller's blob (reads answer 410 until it expires) and
/// refunds its quota; with `unused`, a blob nothing was uploaded to is
/// forgotten instead.
#[utoipa::path(delete, path = "/v1/blobs/{id}", tag = "blobs", operation_id = "blob_delete", security(("bearer" = [])),
    params(("id" = String, Path, description = "blob id (hex)"), DeleteQuery),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(st): State<Shared>,
    Authed(s): Authed,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<DeleteQuery>,
) -> ApiResult<StatusCode> {
    check_id(&id)?;
    let done = if q.unused {
        match st.store.blob(&id, now_ms()).await? {
            Some(b) if b.account_id == s.account_id && b.received > 0 => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "blob_in_use",
                    "bytes were uploaded to this blob: withdraw it instead",
                ));
            }
            _ => st.store.delete_blob(s.account_id, &id).await?,
        }
    } else {
        st.store.withdraw_blob(s.account_id, &id).await?
    };
    if !done {
        return Err(ApiError::not_found("blob"));
    }
    remove_bytes(&st.blob_dir, &id).await;
    Ok(StatusCode::NO_CONTENT)
}
