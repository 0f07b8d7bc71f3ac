//! The community routes (SPEC.md §9.10): one route for every write (a
//! signed action) and the reads, which hand out the signed actions so that
//! clients check them.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kovan_crypto::community::{ActionError, open_action};
use kovan_spec::limits;
use kovan_spec::validate::validate_community_action;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::apply::{ApplyError, Author};
use super::search;
use super::store::{CommunityRow, CommunityStore, ItemRow, MemberRow, SignedRow, Sort};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{ApiJson, ApiPath, ApiQuery, Authed, ClientIp, MaybeAuthed, b64, unb64};
use crate::hub::Event;
use crate::services::accounts::AccountStore;
use crate::sessions::SessionRow;
use crate::state::{Shared, now_ms};

/// How far an action's time may be from the relay's clock, ms.
pub const WINDOW_MS: i64 = 5 * 60 * 1000;
/// Largest page.
const MAX_PAGE: i64 = 100;

/// A signed action: `tbs` (a `CommunityAction`) and the author's signature.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct SignedDoc {
    /// The action's encoding, base64.
    pub tbs: String,
    /// Ed25519 signature under the kind's label, base64.
    pub signature: String,
}

fn signed(p: &super::store::Signed) -> SignedDoc {
    SignedDoc { tbs: b64(&p.0), signature: b64(&p.1) }
}

/// Usernames, by base64 account key, of the accounts the signed actions
/// name (a community's moderators, the account a moderator acted on), so
/// that clients show names next to the keys they verify.
async fn names<'a>(
    st: &Shared,
    actions: impl IntoIterator<Item = &'a super::store::Signed>,
) -> ApiResult<BTreeMap<String, String>> {
    let mut keys: Vec<[u8; 32]> = actions
        .into_iter()
        .filter_map(|a| validate_community_action(&a.0).ok())
        .flat_map(|a| a.body.accounts())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    Ok(st.store.usernames(&keys).await?.into_iter().map(|(k, n)| (b64(&k), n)).collect())
}

/// What a write did.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ActionDone {
    /// The action's id (hex): a new community's, post's or comment's id.
    pub id: String,
    /// The community (hex).
    pub community: String,
    /// For a join: `member`, or `pending` until a moderator admits it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// A community.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommunityDoc {
    /// Hex id (the create action's).
    pub id: String,
    /// Unique name.
    pub name: String,
    /// The owner's username.
    pub owner: Option<String>,
    /// The create action.
    pub create: SignedDoc,
    /// The owner's latest settings action, if any.
    pub settings: Option<SignedDoc>,
    /// The archive action while archived.
    pub archive: Option<SignedDoc>,
    /// `public` or `private` (the relay's index; the signed settings rule).
    pub visibility: String,
    /// `members`, `approved` or `moderators`.
    pub post_policy: String,
    /// The topic.
    pub topic: String,
    /// Read-only.
    pub archived: bool,
    /// Members.
    pub members: i64,
    /// Posts made.
    pub posts: i64,
    /// Unix ms.
    pub created_at: i64,
    /// The caller's standing: `member`, `pending`, `invited`, `banned`.
    pub my_state: Option<String>,
    /// Whether the caller moderates it.
    pub moderator: bool,
    /// Posts the caller has not seen (joined list only).
    pub unread: Option<i64>,
    /// Usernames of the moderators, by base64 account key (one community
    /// only).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, String>,
}

fn community_doc(c: CommunityRow, m: Option<&MemberRow>, unread: Option<i64>) -> CommunityDoc {
    CommunityDoc {
        create: signed(&c.create),
        settings: c.settings.as_ref().map(signed),
        archive: c.close.as_ref().map(signed),
        id: c.id,
        name: c.name,
        owner: c.owner,
        visibility: c.visibility,
        post_policy: c.post_policy,
        topic: c.topic,
        archived: c.archived,
        members: c.members,
        posts: c.posts,
        created_at: c.created_at,
        my_state: m.map(|m| m.state.clone()),
        moderator: m.is_some_and(|m| m.moderator && m.state == "member"),
        unread,
        names: BTreeMap::new(),
    }
}

/// A post or comment.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ItemDoc {
    /// Hex id (its action's).
    pub id: String,
    /// The community.
    pub community: String,
    /// The post (itself for a post).
    pub post: String,
    /// The comment answered.
    pub parent: Option<String>,
    /// `post` or `comment`.
    pub kind: String,
    /// The author's username, as the relay knows it.
    pub author: Option<String>,
    /// The author's account key, base64, as the relay knows it.
    pub author_key: Option<String>,
    /// 0 for a post.
    pub depth: i64,
    /// Tree order within the post: a comment's comments follow it.
    pub path: String,
    /// The action (absent once deleted or removed).
    pub action: Option<SignedDoc>,
    /// The latest edit.
    pub edit: Option<SignedDoc>,
    /// The author's deletion or a moderator's removal.
    pub gone: Option<SignedDoc>,
    /// Likes.
    pub likes: i64,
    /// A post's comments.
    pub comments: i64,
    /// Whether the caller likes it.
    pub liked: bool,
    /// Unix ms.
    pub created_at: i64,
}

fn item_doc(i: ItemRow, liked: &[String]) -> ItemDoc {
    ItemDoc {
        liked: liked.contains(&i.id),
        action: i.action.as_ref().map(signed),
        edit: i.edit.as_ref().map(signed),
        gone: i.gone.as_ref().map(signed),
        author_key: i.author_key.as_deref().map(b64),
        kind: if i.is_post { "post" } else { "comment" }.into(),
        id: i.id,
        community: i.community_id,
        post: i.post_id,
        parent: i.parent_id,
        author: i.author,
        depth: i.depth,
        path: i.path,
        likes: i.likes,
        comments: i.comments,
        created_at: i.created_at,
    }
}

async fn item_docs(
    st: &Shared,
    who: Option<&SessionRow>,
    rows: Vec<ItemRow>,
) -> ApiResult<Vec<ItemDoc>> {
    let liked = match who {
        Some(s) => {
            let ids: Vec<String> = rows.iter().map(|i| i.id.clone()).collect();
            st.store.liked(s.account_id, &ids).await?
        }
        None => Vec::new(),
    };
    Ok(rows.into_iter().map(|i| item_doc(i, &liked)).collect())
}

/// A page of posts or comments.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Items {
    /// The items.
    pub items: Vec<ItemDoc>,
    /// Offset of the next page, if there may be one.
    pub next_offset: Option<i64>,
}

/// A page of a thread.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ThreadPage {
    /// Comments in tree order.
    pub items: Vec<ItemDoc>,
    /// `after` for the next page, if there may be one.
    pub next_after: Option<String>,
}

/// Communities.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Communities {
    /// The communities.
    pub results: Vec<CommunityDoc>,
    /// Offset of the next page, if there may be one.
    pub next_offset: Option<i64>,
}

/// A signed entry: a moderator's action, a report.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Entry {
    /// Who made it.
    pub by: Option<String>,
    /// The action.
    pub action: SignedDoc,
    /// Unix ms.
    pub created_at: i64,
    /// A report's item.
    pub item: Option<String>,
}

/// Entries.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Entries {
    /// Newest first (the log) or oldest first (reports).
    pub entries: Vec<Entry>,
    /// Usernames of the accounts the entries act on, by base64 account key.
    #[serde(default)]
    pub names: BTreeMap<String, String>,
}

async fn entries(st: &Shared, rows: Vec<SignedRow>) -> ApiResult<Entries> {
    let names = names(st, rows.iter().map(|r| &r.action)).await?;
    Ok(Entries {
        names,
        entries: rows
            .into_iter()
            .map(|r| Entry {
                action: signed(&r.action),
                by: r.by,
                created_at: r.created_at,
                item: r.item_id,
            })
            .collect(),
    })
}

/// A join request.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RequestDoc {
    /// Who asks.
    pub username: String,
    /// Their account key, base64.
    pub account_key: String,
    /// Their note.
    pub note: String,
    /// Unix ms.
    pub since: i64,
}

/// Join requests.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Requests {
    /// Oldest first.
    pub requests: Vec<RequestDoc>,
}

/// An item's edits.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Edits {
    /// Oldest first.
    pub edits: Vec<SignedDoc>,
}

fn apply_error(e: ApplyError) -> ApiError {
    match e {
        ApplyError::Refused { status, code, message } => ApiError::new(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            code,
            message,
        ),
        ApplyError::Store(e) => e.into(),
    }
}

/// Applies a signed action (every write: create, settings, archive,
/// delete, post, comment, edit, like, report, moderate, join, leave).
#[utoipa::path(post, path = "/v1/communities/actions", tag = "communities",
    operation_id = "community_action", security(("bearer" = [])), request_body = SignedDoc,
    responses((status = 200, body = ActionDone), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn act(
    State(st): State<Shared>,
    Authed(s): Authed,
    ApiJson(req): ApiJson<SignedDoc>,
) -> ApiResult<Json<ActionDone>> {
    st.limits.community_write.allow(&s.account_id)?;
    let tbs = unb64("tbs", &req.tbs, limits::MAX_COMMUNITY_ACTION)?;
    let sig = unb64("signature", &req.signature, 64)?;
    let opened = open_action(&tbs, &sig).map_err(|e| match e {
        ActionError::BadSignature => ApiError::bad_request("bad_signature", e.to_string()),
        e => ApiError::bad_request("invalid_action", e.to_string()),
    })?;
    let account = st.store.account_by_id(s.account_id).await?.ok_or_else(ApiError::unauthorized)?;
    if account.account_key != opened.action.author {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_your_account",
            "the action is signed by another account than the session's",
        ));
    }
    let now = now_ms();
    let at = i64::try_from(opened.action.created_ms).unwrap_or(i64::MAX);
    if (at - now).abs() > WINDOW_MS {
        return Err(ApiError::bad_request(
            "stale_action",
            "the action's time is more than 5 minutes from the relay's clock",
        ));
    }
    let author = Author { id: account.id, username: account.username };
    let done =
        st.store.apply_action(&author, &tbs, &sig, &opened, now).await.map_err(apply_error)?;
    for (to, kind, data) in done.notify {
        st.hub.account_event(to, None, Event::community(kind, data));
    }
    Ok(Json(ActionDone { id: done.id, community: done.community, state: done.state }))
}

/// A community by id or name; 404 for anything that cannot be one (so no
/// odd byte reaches the database).
async fn community_row(st: &Shared, key: &str) -> ApiResult<CommunityRow> {
    let plausible = (1..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !plausible {
        return Err(ApiError::not_found("community"));
    }
    st.store.community(key).await?.ok_or_else(|| ApiError::not_found("community"))
}

/// Whether a community is readable by the caller: its row and the caller's
/// standing; 404 if there is none, 403 if it is private and the caller is
/// not a member.
async fn readable(
    st: &Shared,
    key: &str,
    who: Option<&SessionRow>,
) -> ApiResult<(CommunityRow, Option<MemberRow>)> {
    let c = community_row(st, key).await?;
    let m = match who {
        Some(s) => st.store.member(&c.id, s.account_id).await?,
        None => None,
    };
    if c.visibility != "public" && m.as_ref().is_none_or(|m| m.state != "member") {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "members_only",
            "this community's posts are for its members",
        ));
    }
    Ok((c, m))
}

/// Paging parameters.
#[derive(Debug, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// `new` (default), `top` or `active`.
    #[serde(default)]
    pub sort: Option<String>,
    /// Words to find (searches only), 1–200 characters.
    #[serde(default)]
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Page size, at most 100. Default 25.
    #[serde(default)]
    pub limit: Option<i64>,
    /// Results to skip. Default 0.
    #[serde(default)]
    pub offset: Option<i64>,
}

impl PageQuery {
    fn page(&self) -> (i64, i64) {
        (self.limit.unwrap_or(25).clamp(1, MAX_PAGE), self.offset.unwrap_or(0).clamp(0, 1_000_000))
    }
    fn sort(&self) -> ApiResult<Sort> {
        match self.sort.as_deref() {
            None | Some("new") => Ok(Sort::New),
            Some("top") => Ok(Sort::Top),
            Some("active") => Ok(Sort::Active),
            Some(_) => Err(ApiError::bad_request("invalid_query", "sort is new, top or active")),
        }
    }
    fn words(&self) -> ApiResult<&str> {
        let q = self.q.as_deref().unwrap_or("");
        if q.chars().count() > 200 {
            return Err(ApiError::bad_request("invalid_query", "q is at most 200 characters"));
        }
        Ok(q)
    }
}

/// A page of items as the caller sees them (what it likes marked).
async fn items_page(
    st: &Shared,
    who: Option<&SessionRow>,
    rows: Vec<ItemRow>,
    limit: i64,
    offset: i64,
) -> ApiResult<Json<Items>> {
    let n = rows.len();
    Ok(Json(Items { items: item_docs(st, who, rows).await?, next_offset: next(n, limit, offset) }))
}

fn next(len: usize, limit: i64, offset: i64) -> Option<i64> {
    (len as i64 == limit).then(|| offset.saturating_add(limit))
}

/// Finds communities by name, topic and description (K1).
#[utoipa::path(get, path = "/v1/communities", tag = "communities", params(PageQuery),
    responses((status = 200, body = Communities), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn search_communities(
    State(st): State<Shared>,
    ip: ClientIp,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Communities>> {
    st.limits.community_read_ip.allow(&ip.0)?;
    let (limit, offset) = q.page();
    let rows = st.store.search_communities(q.words()?, limit, offset).await?;
    let n = rows.len();
    let results = rows.into_iter().map(|c| community_doc(c, None, None)).collect();
    Ok(Json(Communities { results, next_offset: next(n, limit, offset) }))
}

/// The caller's communities, with the posts it has not seen.
#[utoipa::path(get, path = "/v1/communities/joined", tag = "communities", security(("bearer" = [])),
    responses((status = 200, body = Communities)))]
pub async fn joined(State(st): State<Shared>, Authed(s): Authed) -> ApiResult<Json<Communities>> {
    let rows = st.store.joined(s.account_id).await?;
    let results =
        rows.into_iter().map(|(c, m, unread)| community_doc(c, Some(&m), Some(unread))).collect();
    Ok(Json(Communities { results, next_offset: None }))
}

/// A community, by id or name.
#[utoipa::path(get, path = "/v1/communities/{community}", tag = "communities",
    params(("community" = String, Path, description = "id (hex) or name")),
    responses((status = 200, body = CommunityDoc), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn get_community(
    State(st): State<Shared>,
    ip: ClientIp,
    MaybeAuthed(s): MaybeAuthed,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<CommunityDoc>> {
    st.limits.community_read_ip.allow(&ip.0)?;
    // Anyone sees that a private community exists, and its settings.
    let c = community_row(&st, &key).await?;
    let m = match &s {
        Some(s) => st.store.member(&c.id, s.account_id).await?,
        None => None,
    };
    let names = names(&st, std::iter::once(&c.create).chain(&c.settings)).await?;
    Ok(Json(CommunityDoc { names, ..community_doc(c, m.as_ref(), None) }))
}

/// A page of a community's posts; marks them seen for a member.
#[utoipa::path(get, path = "/v1/communities/{community}/posts", tag = "communities",
    params(("community" = String, Path, description = "id (hex) or name"), PageQuery),
    responses((status = 200, body = Items), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn posts(
    State(st): State<Shared>,
    ip: ClientIp,
    MaybeAuthed(s): MaybeAuthed,
    ApiPath(key): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Items>> {
    st.limits.community_read_ip.allow(&ip.0)?;
    let sort = q.sort()?;
    let (limit, offset) = q.page();
    let (c, m) = readable(&st, &key, s.as_ref()).await?;
    let rows = st.store.posts(&c.id, sort, limit, offset).await?;
    if let (Some(s), Some(m)) = (&s, &m) {
        let newest = rows.iter().map(|i| i.n).max().unwrap_or(0);
        if m.state == "member" && newest > m.last_read {
            st.store.mark_read(&c.id, s.account_id, newest).await?;
        }
    }
    items_page(&st, s.as_ref(), rows, limit, offset).await
}

/// Searches a community's posts and comments (K2), best first.
#[utoipa::path(get, path = "/v1/communities/{community}/search", tag = "communities",
    params(("community" = String, Path, description = "id (hex) or name"), PageQuery),
    responses((status = 200, body = Items), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn search_items(
    State(st): State<Shared>,
    ip: ClientIp,
    MaybeAuthed(s): MaybeAuthed,
    ApiPath(key): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Items>> {
    st.limits.community_read_ip.allow(&ip.0)?;
    let (limit, offset) = q.page();
    let words = search::query_forms(q.words()?);
    let (c, _) = readable(&st, &key, s.as_ref()).await?;
    let rows = st.store.search_items(&c.id, &words, limit, offset).await?;
    items_page(&st, s.as_ref(), rows, limit, offset).await
}

/// The community's public moderation log, newest first.
#[utoipa::path(get, path = "/v1/communities/{community}/modlog", tag = "communities",
    params(("community" = String, Path, description = "id (hex) or name"), PageQuery),
    responses((status = 200, body = Entries), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn modlog(
    State(st): State<Shared>,
    ip: ClientIp,
    MaybeAuthed(s): MaybeAuthed,
    ApiPath(key): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Entries>> {
    st.limits.community_read_ip.allow(&ip.0)?;
    let (limit, offset) = q.page();
    let (c, _) = readable(&st, &key, s.as_ref()).await?;
    Ok(Json(entries(&st, st.store.modlog(&c.id, limit, offset).await?).await?))
}

async fn moderated(st: &Shared, key: &str, s: &SessionRow) -> ApiResult<CommunityRow> {
    let (c, m) = readable(st, key, Some(s)).await?;
    if !m.is_some_and(|m| m.moderator && m.state == "member") {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_moderator",
            "for the community's moderators",
        ));
    }
    Ok(c)
}

/// Open reports (moderators).
#[utoipa::path(get, path = "/v1/communities/{community}/reports", tag = "communities",
    security(("bearer" = [])), params(("community" = String, Path, description = "id (hex) or name")),
    responses((status = 200, body = Entries), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reports(
    State(st): State<Shared>,
    Authed(s): Authed,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Entries>> {
    let c = moderated(&st, &key, &s).await?;
    Ok(Json(entries(&st, st.store.reports(&c.id).await?).await?))
}

/// Join requests (moderators).
#[utoipa::path(get, path = "/v1/communities/{community}/requests", tag = "communities",
    security(("bearer" = [])), params(("community" = String, Path, description = "id (hex) or name")),
    responses((status = 200, body = Requests), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn requests(
    State(st): State<Shared>,
    Authed(s): Authed,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Requests>> {
    let c = moderated(&st, &key, &s).await?;
    let requests = st
        .store
        .requests(&c.id)
        .await?
        .into_iter()
        .map(|r| RequestDoc {
            account_key: b64(&r.account_key),
            username: r.username,
            note: r.note,
            since: r.since,
        })
        .collect();
    Ok(Json(Requests { requests }))
}

/// Posts across the caller's communities.
#[utoipa::path(get, path = "/v1/community-feed", tag = "communities", security(("bearer" = [])),
    params(PageQuery), responses((status = 200, body = Items), (status = 400, body = ErrorBody)))]
pub async fn feed(
    State(st): State<Shared>,
    Authed(s): Authed,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Items>> {
    let sort = q.sort()?;
    let (limit, offset) = q.page();
    let rows = st.store.feed(s.account_id, sort, limit, offset).await?;
    items_page(&st, Some(&s), rows, limit, offset).await
}

async fn readable_item(st: &Shared, id: &str, s: Option<&SessionRow>) -> ApiResult<ItemRow> {
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
        return Err(ApiError::not_found("item"));
    }
    let i = st.store.item(id).await?.ok_or_else(|| ApiError::not_found("item"))?;
    readable(st, &i.community_id, s).await?;
    Ok(i)
}

/// A post or comment.
#[utoipa::path(get, path = "/v1/community-items/{id}", tag = "communities",
    params(("id" = String, Path, description = "hex id")),
    responses((status = 200, body = ItemDoc), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn item(
    State(st): State<Shared>,
    ip: ClientIp,
    MaybeAuthed(s): MaybeAuthed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ItemDoc>> {
    st.limits.community_read_ip.allow(&ip.0)?;
    let i = readable_item(&st, &id, s.as_ref()).await?;
    let mut docs = item_docs(&st, s.as_ref(), vec![i]).await?;
    docs.pop().map(Json).ok_or_else(|| ApiError::not_found("item"))
}

/// Thread paging.
#[derive(Debug, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ThreadQuery {
    /// The path after which the page starts (a comment's `path`; empty:
    /// from the start).
    #[serde(default)]
    #[param(max_length = 300)]
    pub after: Option<String>,
    /// Page size, at most 100. Default 50.
    #[serde(default)]
    pub limit: Option<i64>,
}

/// A post's comments in tree order (K9, K13), a page at a time.
#[utoipa::path(get, path = "/v1/community-items/{id}/comments", tag = "communities",
    params(("id" = String, Path, description = "the post's hex id"), ThreadQuery),
    responses((status = 200, body = ThreadPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn comments(
    State(st): State<Shared>,
    ip: ClientIp,
    MaybeAuthed(s): MaybeAuthed,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ThreadQuery>,
) -> ApiResult<Json<ThreadPage>> {
    st.limits.community_read_ip.allow(&ip.0)?;
    let after = q.after.unwrap_or_default();
    if after.len() > 8 * limits::MAX_COMMUNITY_DEPTH
        || !after.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(ApiError::bad_request("invalid_query", "after is a comment's path"));
    }
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let post = readable_item(&st, &id, s.as_ref()).await?;
    let rows = st.store.thread(&post.post_id, &after, limit).await?;
    let next_after =
        (rows.len() as i64 == limit).then(|| rows.last().map(|i| i.path.clone())).flatten();
    Ok(Json(ThreadPage { items: item_docs(&st, s.as_ref(), rows).await?, next_after }))
}

/// Every edit of a post or comment, oldest first.
#[utoipa::path(get, path = "/v1/community-items/{id}/edits", tag = "communities",
    params(("id" = String, Path, description = "hex id")),
    responses((status = 200, body = Edits), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn edits(
    State(st): State<Shared>,
    ip: ClientIp,
    MaybeAuthed(s): MaybeAuthed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Edits>> {
    st.limits.community_read_ip.allow(&ip.0)?;
    let i = readable_item(&st, &id, s.as_ref()).await?;
    let edits = st.store.edits(&i.id).await?.iter().map(signed).collect();
    Ok(Json(Edits { edits }))
}
