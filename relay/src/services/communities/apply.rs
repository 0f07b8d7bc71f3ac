//! The rules of community writes (SPEC.md §9.10.3): who may do what, checked
//! against the current state and written in one transaction with the
//! action's id (a replayed action is refused).

use kovan_crypto::community::OpenedAction;
use kovan_spec::limits;
use kovan_spec::validate::{
    Attachment, CloseKind, CommunityBody, CommunitySettings, ModAction, PostPolicy, Visibility,
};
use serde_json::{Value, json};
use sqlx::{Any, Row, Transaction};

use super::search;
use crate::db::{Backend, SqlStore, StoreError, is_unique_violation};

/// The account writing, as its session and the relay's accounts say.
#[derive(Debug, Clone)]
pub struct Author {
    /// Internal id.
    pub id: i64,
    /// Username.
    pub username: String,
}

/// What an applied action did.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The action's id, hex.
    pub id: String,
    /// Its community, hex.
    pub community: String,
    /// For a join: `member` or `pending`.
    pub state: Option<String>,
    /// Events for other accounts (replies, mentions, admissions).
    pub notify: Vec<(i64, &'static str, Value)>,
}

/// Why an action was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A rule refused it: the HTTP status, a stable code and a sentence.
    #[error("{code}: {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// Stable code.
        code: &'static str,
        /// For people.
        message: String,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ApplyError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(StoreError::Database(e))
    }
}

fn refuse(status: u16, code: &'static str, message: impl Into<String>) -> ApplyError {
    ApplyError::Refused { status, code, message: message.into() }
}

type Tx = Transaction<'static, Any>;

/// The expiry of a blob kept as a file of a post: never, in practice.
const KEPT: i64 = i64::MAX / 2;

struct Community {
    owner_id: i64,
    public: bool,
    post_policy: String,
    archived: bool,
}

struct Member {
    state: String,
    moderator: bool,
    poster: bool,
}

struct Item {
    n: i64,
    author_id: Option<i64>,
    is_post: bool,
    post_id: String,
    depth: i64,
    path: String,
    children: i64,
    gone: bool,
}

async fn community(tx: &mut Tx, id: &str) -> Result<Option<Community>, ApplyError> {
    let r = sqlx::query(
        "SELECT owner_id, visibility, post_policy, archived FROM communities WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = r else { return Ok(None) };
    Ok(Some(Community {
        owner_id: r.try_get("owner_id")?,
        public: r.try_get::<String, _>("visibility")? == "public",
        post_policy: r.try_get("post_policy")?,
        archived: r.try_get::<i64, _>("archived")? != 0,
    }))
}

async fn member(tx: &mut Tx, community: &str, account: i64) -> Result<Option<Member>, ApplyError> {
    let r = sqlx::query(
        "SELECT state, moderator, poster FROM community_members \
         WHERE community_id = $1 AND account_id = $2",
    )
    .bind(community)
    .bind(account)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = r else { return Ok(None) };
    Ok(Some(Member {
        state: r.try_get("state")?,
        moderator: r.try_get::<i64, _>("moderator")? != 0,
        poster: r.try_get::<i64, _>("poster")? != 0,
    }))
}

async fn item(tx: &mut Tx, id: &[u8; 16], community: &str) -> Result<Item, ApplyError> {
    let r = sqlx::query(
        "SELECT n, author_id, is_post, post_id, depth, path, children, gone_tbs IS NOT NULL AS gone \
         FROM community_items WHERE id = $1 AND community_id = $2",
    )
    .bind(hex::encode(id))
    .bind(community)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| refuse(404, "not_found", "no such post or comment in this community"))?;
    Ok(Item {
        n: r.try_get("n")?,
        author_id: r.try_get("author_id")?,
        is_post: r.try_get::<i64, _>("is_post")? != 0,
        post_id: r.try_get("post_id")?,
        depth: r.try_get("depth")?,
        path: r.try_get("path")?,
        children: r.try_get("children")?,
        gone: flag(&r, "gone")?,
    })
}

/// A boolean SQL expression's value: PostgreSQL answers a bool, SQLite an
/// integer.
fn flag(r: &sqlx::any::AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    r.try_get::<bool, _>(column).or_else(|_| r.try_get::<i64, _>(column).map(|g| g != 0))
}

fn live(i: &Item) -> Result<(), ApplyError> {
    if i.gone {
        return Err(refuse(409, "gone", "that post or comment was deleted or removed"));
    }
    Ok(())
}

async fn account_by_key(tx: &mut Tx, key: &[u8; 32]) -> Result<i64, ApplyError> {
    let r = sqlx::query("SELECT id FROM accounts WHERE account_key = $1")
        .bind(key.to_vec())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| refuse(404, "unknown_account", "no such account on this relay"))?;
    Ok(r.try_get("id")?)
}

/// Whether `account` may read the community an item is in (public, or a
/// member of it).
async fn readable_item(tx: &mut Tx, id: &[u8; 16], account: i64) -> Result<bool, ApplyError> {
    let r = sqlx::query(
        "SELECT c.visibility, m.state, i.gone_tbs IS NULL AS live FROM community_items i \
         JOIN communities c ON c.id = i.community_id LEFT JOIN community_members m \
         ON m.community_id = c.id AND m.account_id = $1 WHERE i.id = $2",
    )
    .bind(account)
    .bind(hex::encode(id))
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = r else { return Ok(false) };
    let public = r.try_get::<String, _>("visibility")? == "public";
    let state: Option<String> = r.try_get("state")?;
    let live = flag(&r, "live")?;
    Ok(live && (public || state.as_deref() == Some("member")))
}

/// The number of the item being written in community `cid` (`seq`,
/// SPEC.md §9.10.5's search buckets on PostgreSQL): one more than the
/// items counted so far. Read without a lock, so that writers into one
/// community wait on its row only for [`count_item`] at the end of their
/// transactions; writers at the same moment may share a number.
async fn peek_seq(tx: &mut Tx, cid: &str) -> Result<i64, ApplyError> {
    let r = sqlx::query("SELECT items + 1 AS seq FROM communities WHERE id = $1")
        .bind(cid)
        .fetch_one(&mut **tx)
        .await?;
    Ok(r.try_get("seq")?)
}

/// Counts an item (and a post in `posts`) in community `cid`: the last
/// write of the transaction, so the community's row is locked briefly.
async fn count_item(tx: &mut Tx, cid: &str, posts: i64) -> Result<(), ApplyError> {
    sqlx::query("UPDATE communities SET items = items + 1, posts = posts + $1 WHERE id = $2")
        .bind(posts)
        .bind(cid)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn index(
    tx: &mut Tx,
    backend: Backend,
    n: i64,
    community: &str,
    text: Option<&str>,
) -> Result<(), ApplyError> {
    if backend == Backend::Sqlite {
        sqlx::query("DELETE FROM community_fts WHERE rowid = $1")
            .bind(n)
            .execute(&mut **tx)
            .await?;
        if let Some(text) = text {
            sqlx::query("INSERT INTO community_fts (rowid, body) VALUES ($1, $2)")
                .bind(n)
                .bind(search::fts5_body(community, text))
                .execute(&mut **tx)
                .await?;
        }
    }
    // PostgreSQL indexes the `search_text` column itself.
    sqlx::query("UPDATE community_items SET search_text = $1 WHERE n = $2")
        .bind(text.unwrap_or(""))
        .bind(n)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn visibility(v: Visibility) -> &'static str {
    match v {
        Visibility::Public => "public",
        Visibility::Private => "private",
    }
}

fn policy(p: PostPolicy) -> &'static str {
    match p {
        PostPolicy::Members => "members",
        PostPolicy::Approved => "approved",
        PostPolicy::Moderators => "moderators",
    }
}

async fn set_moderators(
    tx: &mut Tx,
    community: &str,
    owner: i64,
    s: &CommunitySettings,
    now: i64,
) -> Result<(), ApplyError> {
    sqlx::query(
        "UPDATE community_members SET moderator = 0 WHERE community_id = $1 AND account_id <> $2",
    )
    .bind(community)
    .bind(owner)
    .execute(&mut **tx)
    .await?;
    for key in &s.moderators {
        let id = account_by_key(tx, key).await?;
        sqlx::query(
            "INSERT INTO community_members (community_id, account_id, state, moderator, poster, since) \
             VALUES ($1, $2, 'member', 1, 1, $3) ON CONFLICT (community_id, account_id) \
             DO UPDATE SET state = 'member', moderator = 1",
        )
        .bind(community)
        .bind(id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn modlog(
    tx: &mut Tx,
    community: &str,
    moderator: i64,
    tbs: &[u8],
    sig: &[u8],
    now: i64,
) -> Result<(), ApplyError> {
    sqlx::query(
        "INSERT INTO community_modlog (community_id, moderator_id, tbs, sig, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(community)
    .bind(moderator)
    .bind(tbs.to_vec())
    .bind(sig.to_vec())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Keeps a blob as a file of a post: it must be the author's, complete
/// and not withdrawn, and in no other post; it no longer expires.
async fn keep_blob(
    tx: &mut Tx,
    author: i64,
    item: &str,
    community: &str,
    a: &Attachment,
) -> Result<(), ApplyError> {
    let blob = hex::encode(a.blob_id);
    let kept = sqlx::query(
        "UPDATE blobs SET expires_at = $1 WHERE id = $2 AND account_id = $3 AND received = size \
         AND size = $4 AND withdrawn = 0",
    )
    .bind(KEPT)
    .bind(&blob)
    .bind(author)
    .bind(i64::try_from(a.size).unwrap_or(i64::MAX))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if kept == 0 {
        return Err(refuse(
            400,
            "bad_attachment",
            format!("{} is not a complete upload of yours of that size", a.name),
        ));
    }
    let r = sqlx::query(
        "INSERT INTO community_blobs (blob_id, item_id, community_id) VALUES ($1, $2, $3)",
    )
    .bind(&blob)
    .bind(item)
    .bind(community)
    .execute(&mut **tx)
    .await;
    match r {
        Err(e) if is_unique_violation(&e) => {
            Err(refuse(409, "attachment_in_use", format!("{} is a file of another post", a.name)))
        }
        r => r.map(|_| ()).map_err(Into::into),
    }
}

/// Whose files [`free_blobs`] lets go.
enum Files<'a> {
    /// One post's (by its `n`).
    Item(i64),
    /// A whole community's.
    Community(&'a str),
}

/// Lets the files of a post or a community expire now (the sweeper
/// deletes them) and forgets them as files.
async fn free_blobs(tx: &mut Tx, whose: Files<'_>) -> Result<(), ApplyError> {
    let (filter, item, community) = match whose {
        Files::Item(n) => ("item_id = (SELECT id FROM community_items WHERE n = $1)", n, ""),
        Files::Community(c) => ("community_id = $1", 0, c),
    };
    for sql in [
        format!(
            "UPDATE blobs SET expires_at = 0 WHERE id IN (SELECT blob_id FROM community_blobs WHERE {filter})"
        ),
        format!("DELETE FROM community_blobs WHERE {filter}"),
    ] {
        let q = sqlx::query(sqlx::AssertSqlSafe(sql));
        let q = if community.is_empty() { q.bind(item) } else { q.bind(community.to_owned()) };
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// `@name` mentions in `text` of members of the community (at most 10).
async fn mentions(tx: &mut Tx, community: &str, text: &str) -> Result<Vec<i64>, ApplyError> {
    let mut out = Vec::new();
    for word in text.split(|c: char| c.is_whitespace()).filter_map(|w| w.strip_prefix('@')).take(10)
    {
        let name: String = word
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
            .collect::<String>()
            .to_ascii_lowercase();
        let name = name.trim_end_matches('.');
        if name.len() < 3 {
            continue;
        }
        let r = sqlx::query(
            "SELECT a.id FROM accounts a JOIN community_members m ON m.account_id = a.id \
             WHERE a.username = $1 AND m.community_id = $2 AND m.state = 'member'",
        )
        .bind(name)
        .bind(community)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(r) = r {
            let id: i64 = r.try_get("id")?;
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }
    Ok(out)
}

/// Applies `opened` (verified by the caller, whose session is `author`'s).
pub(super) async fn apply(
    store: &SqlStore,
    author: &Author,
    tbs: &[u8],
    sig: &[u8],
    opened: &OpenedAction,
    now: i64,
) -> Result<Applied, ApplyError> {
    let mut tx: Tx = store.pool.begin().await?;
    let id = hex::encode(opened.id);
    let seen = sqlx::query("INSERT INTO community_seen (id, at) VALUES ($1, $2)")
        .bind(&id)
        .bind(now)
        .execute(&mut *tx)
        .await;
    match seen {
        Err(e) if is_unique_violation(&e) => {
            return Err(refuse(409, "replayed", "this action was applied already"));
        }
        r => r?,
    };
    let body = &opened.action.body;
    let mut out = Applied {
        id: id.clone(),
        community: body.community().map(hex::encode).unwrap_or_else(|| id.clone()),
        state: None,
        notify: Vec::new(),
    };
    if let CommunityBody::Create { name, settings } = body {
        let text =
            search::index_text(&format!("{name} {} {}", settings.topic, settings.description));
        let r = sqlx::query(
            "INSERT INTO communities (id, name, owner_id, create_tbs, create_sig, visibility, \
             post_policy, topic, search_text, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&id)
        .bind(name)
        .bind(author.id)
        .bind(tbs.to_vec())
        .bind(sig.to_vec())
        .bind(visibility(settings.visibility))
        .bind(policy(settings.post_policy))
        .bind(&settings.topic)
        .bind(text)
        .bind(now)
        .execute(&mut *tx)
        .await;
        match r {
            Err(e) if is_unique_violation(&e) => {
                return Err(refuse(409, "name_taken", format!("a community named {name} exists")));
            }
            r => r?,
        };
        sqlx::query(
            "INSERT INTO community_members (community_id, account_id, state, moderator, poster, since) \
             VALUES ($1, $2, 'member', 1, 1, $3)",
        )
        .bind(&id)
        .bind(author.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        set_moderators(&mut tx, &id, author.id, settings, now).await?;
        tx.commit().await?;
        return Ok(out);
    }
    let cid = out.community.clone();
    let c = community(&mut tx, &cid)
        .await?
        .ok_or_else(|| refuse(404, "not_found", "no such community"))?;
    let me = member(&mut tx, &cid, author.id).await?;
    let is_member = me.as_ref().is_some_and(|m| m.state == "member");
    let is_mod = is_member && me.as_ref().is_some_and(|m| m.moderator);
    let owner = author.id == c.owner_id;
    if c.archived && !matches!(body, CommunityBody::Close { .. }) {
        return Err(refuse(409, "archived", "the community is archived: it is read-only"));
    }
    let need_member = || {
        if is_member { Ok(()) } else { Err(refuse(403, "not_member", "join the community first")) }
    };
    match body {
        CommunityBody::Create { .. } => {}
        CommunityBody::Settings(s) => {
            if !owner {
                return Err(refuse(403, "not_owner", "only the owner changes the settings"));
            }
            sqlx::query(
                "UPDATE communities SET settings_tbs = $1, settings_sig = $2, visibility = $3, \
                 post_policy = $4, topic = $5, search_text = name || ' ' || $6 WHERE id = $7",
            )
            .bind(tbs.to_vec())
            .bind(sig.to_vec())
            .bind(visibility(s.visibility))
            .bind(policy(s.post_policy))
            .bind(&s.topic)
            .bind(search::index_text(&format!("{} {}", s.topic, s.description)))
            .bind(&cid)
            .execute(&mut *tx)
            .await?;
            set_moderators(&mut tx, &cid, c.owner_id, s, now).await?;
        }
        CommunityBody::Close { kind, .. } => {
            if !owner {
                return Err(refuse(403, "not_owner", "only the owner archives or deletes"));
            }
            match kind {
                CloseKind::Archive | CloseKind::Reopen => {
                    let archive = *kind == CloseKind::Archive;
                    sqlx::query(
                        "UPDATE communities SET archived = $1, close_tbs = $2, close_sig = $3 WHERE id = $4",
                    )
                    .bind(i64::from(archive))
                    .bind(archive.then(|| tbs.to_vec()))
                    .bind(archive.then(|| sig.to_vec()))
                    .bind(&cid)
                    .execute(&mut *tx)
                    .await?;
                }
                CloseKind::Delete => {
                    if store.backend == Backend::Sqlite {
                        sqlx::query(
                            "DELETE FROM community_fts WHERE rowid IN \
                             (SELECT n FROM community_items WHERE community_id = $1)",
                        )
                        .bind(&cid)
                        .execute(&mut *tx)
                        .await?;
                    }
                    free_blobs(&mut tx, Files::Community(&cid)).await?;
                    sqlx::query("DELETE FROM communities WHERE id = $1")
                        .bind(&cid)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        CommunityBody::Post { title, text, link, repost_of, quote_of, attachments, .. } => {
            need_member()?;
            let m = me.as_ref();
            let allowed = match c.post_policy.as_str() {
                "moderators" => is_mod,
                "approved" => is_mod || m.is_some_and(|m| m.poster),
                _ => true,
            };
            if !allowed {
                return Err(refuse(
                    403,
                    "may_not_post",
                    "the community's policy does not let you post",
                ));
            }
            for target in [repost_of, quote_of].into_iter().flatten() {
                if !readable_item(&mut tx, target, author.id).await? {
                    return Err(refuse(
                        404,
                        "not_found",
                        "the reposted or quoted item is not there",
                    ));
                }
            }
            let seq = peek_seq(&mut tx, &cid).await?;
            let r = sqlx::query(
                "INSERT INTO community_items (id, community_id, post_id, is_post, author_id, depth, \
                 path, tbs, sig, repost_of, created_at, active_at, seq) \
                 VALUES ($1, $2, $3, 1, $4, 0, '', $5, $6, $7, $8, $9, $10) RETURNING n",
            )
            .bind(&id)
            .bind(&cid)
            .bind(&id)
            .bind(author.id)
            .bind(tbs.to_vec())
            .bind(sig.to_vec())
            .bind(repost_of.map(hex::encode))
            .bind(now)
            .bind(now)
            .bind(seq)
            .fetch_one(&mut *tx)
            .await?;
            let n: i64 = r.try_get("n")?;
            for a in attachments {
                keep_blob(&mut tx, author.id, &id, &cid, a).await?;
            }
            let names: Vec<&str> = attachments.iter().map(|a| a.name.as_str()).collect();
            let words = search::index_text(&format!("{title} {text} {link} {}", names.join(" ")));
            index(&mut tx, store.backend, n, &cid, Some(&words)).await?;
            for who in mentions(&mut tx, &cid, &format!("{title} {text}")).await? {
                if who != author.id {
                    out.notify.push((
                        who,
                        "mention",
                        json!({"community": cid, "item": id, "by": author.username}),
                    ));
                }
            }
            count_item(&mut tx, &cid, 1).await?;
        }
        CommunityBody::Comment { post, parent, text, .. } => {
            need_member()?;
            let p = item(&mut tx, post, &cid).await?;
            if !p.is_post {
                return Err(refuse(400, "not_a_post", "comments are on posts"));
            }
            live(&p)?;
            let above = match parent {
                Some(parent) => {
                    let q = item(&mut tx, parent, &cid).await?;
                    if q.is_post || q.post_id != p.post_id {
                        return Err(refuse(
                            400,
                            "wrong_parent",
                            "the comment answered is not under this post",
                        ));
                    }
                    live(&q)?;
                    q
                }
                None => p,
            };
            let depth = above.depth + 1;
            if depth > limits::MAX_COMMUNITY_DEPTH as i64 {
                return Err(refuse(400, "too_deep", "the thread is as deep as it may go"));
            }
            let path = format!("{}{:08x}", above.path, above.children);
            sqlx::query("UPDATE community_items SET children = children + 1 WHERE n = $1")
                .bind(above.n)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE community_items SET comments = comments + 1, active_at = $1 WHERE id = $2",
            )
            .bind(now)
            .bind(hex::encode(post))
            .execute(&mut *tx)
            .await?;
            let seq = peek_seq(&mut tx, &cid).await?;
            let r = sqlx::query(
                "INSERT INTO community_items (id, community_id, post_id, parent_id, is_post, \
                 author_id, depth, path, tbs, sig, created_at, active_at, seq) \
                 VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING n",
            )
            .bind(&id)
            .bind(&cid)
            .bind(hex::encode(post))
            .bind(parent.map(hex::encode))
            .bind(author.id)
            .bind(depth)
            .bind(path)
            .bind(tbs.to_vec())
            .bind(sig.to_vec())
            .bind(now)
            .bind(now)
            .bind(seq)
            .fetch_one(&mut *tx)
            .await?;
            let n: i64 = r.try_get("n")?;
            index(&mut tx, store.backend, n, &cid, Some(&search::index_text(text))).await?;
            let detail = json!({"community": cid, "post": hex::encode(post), "item": id, "by": author.username});
            if let Some(to) = above.author_id.filter(|a| *a != author.id) {
                out.notify.push((to, "reply", detail.clone()));
            }
            for who in mentions(&mut tx, &cid, text).await? {
                if who != author.id && Some(who) != above.author_id {
                    out.notify.push((who, "mention", detail.clone()));
                }
            }
            count_item(&mut tx, &cid, 0).await?;
        }
        CommunityBody::Edit { target, title, text, .. } => {
            let i = item(&mut tx, target, &cid).await?;
            if i.author_id != Some(author.id) {
                return Err(refuse(403, "not_author", "only the author edits"));
            }
            live(&i)?;
            if i.is_post == title.trim().is_empty() || (!i.is_post && text.trim().is_empty()) {
                return Err(refuse(
                    400,
                    "invalid_edit",
                    "a post keeps a title; a comment has text and no title",
                ));
            }
            sqlx::query(
                "INSERT INTO community_edits (item_id, n, tbs, sig) VALUES ($1, \
                 (SELECT COUNT(*) + 1 FROM community_edits WHERE item_id = $2), $3, $4)",
            )
            .bind(hex::encode(target))
            .bind(hex::encode(target))
            .bind(tbs.to_vec())
            .bind(sig.to_vec())
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE community_items SET edit_tbs = $1, edit_sig = $2 WHERE n = $3")
                .bind(tbs.to_vec())
                .bind(sig.to_vec())
                .bind(i.n)
                .execute(&mut *tx)
                .await?;
            index(
                &mut tx,
                store.backend,
                i.n,
                &cid,
                Some(&search::index_text(&format!("{title} {text}"))),
            )
            .await?;
        }
        CommunityBody::Delete { target, .. } => {
            let i = item(&mut tx, target, &cid).await?;
            if i.author_id != Some(author.id) {
                return Err(refuse(
                    403,
                    "not_author",
                    "only the author deletes; moderators remove",
                ));
            }
            live(&i)?;
            gone(&mut tx, store.backend, &i, tbs, sig).await?;
        }
        CommunityBody::Like { target, liked, .. } => {
            need_member()?;
            let i = item(&mut tx, target, &cid).await?;
            live(&i)?;
            let changed = if *liked {
                sqlx::query(
                    "INSERT INTO community_likes (item_id, account_id) VALUES ($1, $2) \
                     ON CONFLICT (item_id, account_id) DO NOTHING",
                )
            } else {
                sqlx::query("DELETE FROM community_likes WHERE item_id = $1 AND account_id = $2")
            }
            .bind(hex::encode(target))
            .bind(author.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed > 0 {
                sqlx::query("UPDATE community_items SET likes = likes + $1 WHERE n = $2")
                    .bind(if *liked { 1i64 } else { -1 })
                    .bind(i.n)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        CommunityBody::Report { target, .. } => {
            if !(c.public || is_member) {
                return Err(refuse(403, "members_only", "this community is for its members"));
            }
            let i = item(&mut tx, target, &cid).await?;
            live(&i)?;
            let r = sqlx::query(
                "INSERT INTO community_reports (community_id, item_id, reporter_id, tbs, sig, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&cid)
            .bind(hex::encode(target))
            .bind(author.id)
            .bind(tbs.to_vec())
            .bind(sig.to_vec())
            .bind(now)
            .execute(&mut *tx)
            .await;
            match r {
                Err(e) if is_unique_violation(&e) => {
                    return Err(refuse(409, "already_reported", "you reported this already"));
                }
                r => r?,
            };
        }
        CommunityBody::Moderate { action, target, account, .. } => {
            if !is_mod {
                return Err(refuse(
                    403,
                    "not_moderator",
                    "only the community's moderators do that",
                ));
            }
            moderate(
                &mut tx,
                store.backend,
                &cid,
                &c,
                *action,
                target.as_ref(),
                account.as_ref(),
                tbs,
                sig,
                now,
                &mut out,
            )
            .await?;
            modlog(&mut tx, &cid, author.id, tbs, sig, now).await?;
        }
        CommunityBody::Membership { join, note, .. } => {
            let state = me.as_ref().map(|m| m.state.as_str());
            if *join {
                let next = match state {
                    Some("banned") => {
                        return Err(refuse(403, "banned", "you are banned from this community"));
                    }
                    Some("member") => {
                        return Err(refuse(409, "already_member", "you are a member already"));
                    }
                    Some("pending") => {
                        return Err(refuse(
                            409,
                            "already_requested",
                            "your request waits for a moderator",
                        ));
                    }
                    Some(_) => "member",
                    None if c.public => "member",
                    None => "pending",
                };
                sqlx::query(
                    "INSERT INTO community_members (community_id, account_id, state, note, since) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (community_id, account_id) \
                     DO UPDATE SET state = $6, since = $7",
                )
                .bind(&cid)
                .bind(author.id)
                .bind(next)
                .bind(note)
                .bind(now)
                .bind(next)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                out.state = Some(next.to_owned());
            } else {
                match state {
                    None | Some("banned") => {
                        return Err(refuse(404, "not_member", "you are not in this community"));
                    }
                    _ if owner => {
                        return Err(refuse(
                            409,
                            "owner_cannot_leave",
                            "the owner cannot leave; archive or delete instead",
                        ));
                    }
                    _ => {}
                }
                sqlx::query(
                    "DELETE FROM community_members WHERE community_id = $1 AND account_id = $2",
                )
                .bind(&cid)
                .bind(author.id)
                .execute(&mut *tx)
                .await?;
            }
        }
        _ => {
            return Err(refuse(400, "unsupported", "this relay does not know that kind of action"));
        }
    }
    tx.commit().await?;
    Ok(out)
}

async fn gone(
    tx: &mut Tx,
    backend: Backend,
    i: &Item,
    tbs: &[u8],
    sig: &[u8],
) -> Result<(), ApplyError> {
    free_blobs(tx, Files::Item(i.n)).await?;
    sqlx::query(
        "UPDATE community_items SET tbs = NULL, sig = NULL, edit_tbs = NULL, edit_sig = NULL, \
         gone_tbs = $1, gone_sig = $2 WHERE n = $3",
    )
    .bind(tbs.to_vec())
    .bind(sig.to_vec())
    .bind(i.n)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "DELETE FROM community_edits WHERE item_id = (SELECT id FROM community_items WHERE n = $1)",
    )
    .bind(i.n)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE community_reports SET open = 0 WHERE item_id = (SELECT id FROM community_items WHERE n = $1)")
        .bind(i.n)
        .execute(&mut **tx)
        .await?;
    index(tx, backend, i.n, "", None).await
}

#[allow(clippy::too_many_arguments)]
async fn moderate(
    tx: &mut Tx,
    backend: Backend,
    cid: &str,
    c: &Community,
    action: ModAction,
    target: Option<&[u8; 16]>,
    account: Option<&[u8; 32]>,
    tbs: &[u8],
    sig: &[u8],
    now: i64,
    out: &mut Applied,
) -> Result<(), ApplyError> {
    if let Some(target) = target {
        let i = item(tx, target, cid).await?;
        if action == ModAction::Remove {
            live(&i)?;
            return gone(tx, backend, &i, tbs, sig).await;
        }
        let closed =
            sqlx::query("UPDATE community_reports SET open = 0 WHERE item_id = $1 AND open = 1")
                .bind(hex::encode(target))
                .execute(&mut **tx)
                .await?
                .rows_affected();
        if closed == 0 {
            return Err(refuse(404, "not_found", "no open report about that"));
        }
        return Ok(());
    }
    let Some(key) = account else { return Ok(()) };
    let who = account_by_key(tx, key).await?;
    if who == c.owner_id {
        return Err(refuse(403, "owner", "the owner cannot be moderated"));
    }
    let state = member(tx, cid, who).await?.map(|m| m.state);
    let sql = match (action, state.as_deref()) {
        (ModAction::Ban, Some("banned")) => {
            return Err(refuse(409, "already_banned", "banned already"));
        }
        (ModAction::Ban, _) => {
            "INSERT INTO community_members (community_id, account_id, state, since) VALUES ($1, $2, 'banned', $3) \
             ON CONFLICT (community_id, account_id) DO UPDATE SET state = 'banned', moderator = 0, poster = 0"
        }
        (ModAction::Unban, Some("banned")) | (ModAction::Refuse, Some("pending")) => {
            "DELETE FROM community_members WHERE community_id = $1 AND account_id = $2 AND $3 >= 0"
        }
        (ModAction::Admit, Some("pending")) => {
            out.notify.push((who, "admitted", json!({"community": cid})));
            "UPDATE community_members SET state = 'member', since = $3 WHERE community_id = $1 AND account_id = $2"
        }
        (ModAction::Invite, None) => {
            out.notify.push((who, "invited", json!({"community": cid})));
            "INSERT INTO community_members (community_id, account_id, state, since) VALUES ($1, $2, 'invited', $3)"
        }
        (ModAction::Invite, Some("pending")) => {
            out.notify.push((who, "admitted", json!({"community": cid})));
            "UPDATE community_members SET state = 'member', since = $3 WHERE community_id = $1 AND account_id = $2"
        }
        (ModAction::ApprovePoster, Some("member")) => {
            "UPDATE community_members SET poster = 1 WHERE community_id = $1 AND account_id = $2 AND $3 >= 0"
        }
        (a, _) => {
            return Err(refuse(
                409,
                "wrong_state",
                format!("{} does not apply to that account now", a.name()),
            ));
        }
    };
    sqlx::query(sql).bind(cid).bind(who).bind(now).execute(&mut **tx).await?;
    Ok(())
}
