//! The communities service (K1–K14, SPEC.md §9.10): forums on the relay
//! whose every write is an action signed by its author's account key.
//!
//! - `routes.rs`: `POST /v1/communities/actions` (every write) and the reads
//!   (`/v1/communities…`, `/v1/community-items…`, `/v1/community-feed`);
//! - `apply.rs`: the rules of each kind of action, applied in one
//!   transaction with the action's id (replays refused);
//! - `store.rs`: [`CommunityStore`] and its SQL (reads);
//! - `search.rs`: the folded, stemmed search text both backends index.

use axum::Router;
use axum::routing::{get, post};
use utoipa::OpenApi;

use crate::http::limit;
use crate::state::Shared;

pub mod apply;
pub mod routes;
pub mod search;
pub mod store;

pub use store::CommunityStore;

/// The largest request body: a post's action (≤ 46,444 bytes) in base64.
const MAX_ACTION_BODY: usize = 96 * 1024;

/// This service's entries in the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(
        routes::act, routes::search_communities, routes::joined, routes::get_community,
        routes::posts, routes::search_items, routes::modlog, routes::reports, routes::requests,
        routes::feed, routes::item, routes::comments, routes::edits,
    ),
    tags((name = "communities", description = "Forums with signed posts, comments and moderation (K1–K14)"))
)]
pub struct ApiDoc;

/// The routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/v1/communities/actions", limit(post(routes::act), MAX_ACTION_BODY))
        .route("/v1/communities", get(routes::search_communities))
        .route("/v1/communities/joined", get(routes::joined))
        .route("/v1/communities/{community}", get(routes::get_community))
        .route("/v1/communities/{community}/posts", get(routes::posts))
        .route("/v1/communities/{community}/search", get(routes::search_items))
        .route("/v1/communities/{community}/modlog", get(routes::modlog))
        .route("/v1/communities/{community}/reports", get(routes::reports))
        .route("/v1/communities/{community}/requests", get(routes::requests))
        .route("/v1/community-feed", get(routes::feed))
        .route("/v1/community-items/{id}", get(routes::item))
        .route("/v1/community-items/{id}/comments", get(routes::comments))
        .route("/v1/community-items/{id}/edits", get(routes::edits))
}

/// Whether the caller may read a blob: any blob that is not a file of a
/// private community's post; those only by the community's members (403
/// `members_only` otherwise, SPEC.md §9.10.6).
pub async fn may_read_blob(
    st: &crate::state::AppState,
    blob: &str,
    who: Option<&crate::sessions::SessionRow>,
) -> crate::error::ApiResult<()> {
    let Some((community, visibility)) = st.store.blob_community(blob).await? else { return Ok(()) };
    if visibility == "public" {
        return Ok(());
    }
    let member = match who {
        Some(s) => st.store.member(&community, s.account_id).await?,
        None => None,
    };
    if member.is_some_and(|m| m.state == "member") {
        return Ok(());
    }
    Err(crate::error::ApiError::new(
        axum::http::StatusCode::FORBIDDEN,
        "members_only",
        "this file belongs to a community's members",
    ))
}

/// Forgets action ids whose replay window is over.
pub async fn sweep(st: &crate::state::AppState, now: i64) {
    if let Err(e) = st.store.sweep_seen(now - 2 * routes::WINDOW_MS).await {
        tracing::warn!(error = %e, "sweeping community action ids failed");
    }
}
