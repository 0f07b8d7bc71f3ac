//! The communities' storage: communities, members, posts and comments (one
//! table of items), likes, reports, the moderation log and the search
//! index. Writes are in `apply.rs`; reads here.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::apply::{Applied, ApplyError, Author};
use super::search;
use crate::db::{Backend, SqlStore, StoreResult};

/// A signed action as stored: its `tbs` and signature.
pub type Signed = (Vec<u8>, Vec<u8>);

/// A community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityRow {
    /// The create action's id, hex.
    pub id: String,
    /// Its unique name.
    pub name: String,
    /// The owner's username (None once the account is gone).
    pub owner: Option<String>,
    /// The create action, as signed.
    pub create: Signed,
    /// The owner's latest settings action.
    pub settings: Option<Signed>,
    /// The archive action while archived.
    pub close: Option<Signed>,
    /// `public` or `private`.
    pub visibility: String,
    /// `members`, `approved` or `moderators`.
    pub post_policy: String,
    /// The topic (the index's copy; clients read the signed one).
    pub topic: String,
    /// Read-only.
    pub archived: bool,
    /// Posts made.
    pub posts: i64,
    /// Members now.
    pub members: i64,
    /// Unix ms.
    pub created_at: i64,
}

/// An account's standing in a community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    /// `member`, `pending`, `invited` or `banned`.
    pub state: String,
    /// A moderator (the owner is one).
    pub moderator: bool,
    /// Approved to post.
    pub poster: bool,
    /// The newest post (its `n`) the member has seen.
    pub last_read: i64,
}

/// A post or a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRow {
    /// Order of arrival.
    pub n: i64,
    /// The action's id, hex.
    pub id: String,
    /// The community.
    pub community_id: String,
    /// The post (itself for a post).
    pub post_id: String,
    /// The comment answered.
    pub parent_id: Option<String>,
    /// A post (else a comment).
    pub is_post: bool,
    /// The author's username (None once the account is gone).
    pub author: Option<String>,
    /// The author's account key, as the relay knows it.
    pub author_key: Option<Vec<u8>>,
    /// 0 for a post.
    pub depth: i64,
    /// Tree order within the post.
    pub path: String,
    /// The action (None once deleted or removed).
    pub action: Option<Signed>,
    /// The latest edit.
    pub edit: Option<Signed>,
    /// The deletion or removal.
    pub gone: Option<Signed>,
    /// Likes.
    pub likes: i64,
    /// A post's comments.
    pub comments: i64,
    /// Unix ms.
    pub created_at: i64,
}

/// An entry of a moderation log, a report or a join request: a signed
/// action with who made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRow {
    /// The author's username.
    pub by: Option<String>,
    /// The action, as signed.
    pub action: Signed,
    /// Unix ms.
    pub created_at: i64,
    /// For a report: the reported item.
    pub item_id: Option<String>,
}

/// A join request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRow {
    /// Who asks.
    pub username: String,
    /// Their account key.
    pub account_key: Vec<u8>,
    /// Their note.
    pub note: String,
    /// Unix ms.
    pub since: i64,
}

/// How a page of posts is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Newest first.
    New,
    /// Most liked first.
    Top,
    /// Newest comment first.
    Active,
}

impl Sort {
    fn order(self) -> &'static str {
        match self {
            Sort::New => "i.n DESC",
            Sort::Top => "i.likes DESC, i.n DESC",
            Sort::Active => "i.active_at DESC, i.n DESC",
        }
    }
}

/// `count` numbered parameters from `$first`: "$2, $3, $4".
fn params(first: usize, count: usize) -> String {
    (first..first + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

impl SqlStore {
    /// Window `window` of a community's matches for `query` (SPEC.md
    /// §9.10.5): at most [`search::WINDOW`] `(n, index text)`, newest first,
    /// found inside the full-text index.
    async fn search_window(
        &self,
        community: &str,
        query: &[Vec<String>],
        window: i64,
    ) -> StoreResult<Vec<(i64, String)>> {
        let skip = window * search::WINDOW;
        let rows = match self.backend {
            // The forms carry the community's key, so the match is
            // answered inside FTS5 from the community's own lists, newest
            // rowid first, stopping early (a key shared by chance with
            // another community is filtered here).
            Backend::Sqlite => {
                sqlx::query(
                    "SELECT i.n, i.search_text FROM community_items i JOIN (SELECT rowid AS r \
                     FROM community_fts WHERE community_fts MATCH $1 ORDER BY rowid DESC \
                     LIMIT $2 OFFSET $3) m ON m.r = i.n WHERE i.community_id = $4 \
                     ORDER BY i.n DESC",
                )
                .bind(search::fts5_query(community, query))
                .bind(search::WINDOW)
                .bind(skip)
                .bind(community)
                .fetch_all(&self.pool)
                .await?
            }
            Backend::Postgres => self.pg_window(community, query, window).await?,
        };
        Ok(rows
            .iter()
            .map(|r| Ok((r.try_get("n")?, r.try_get("search_text")?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }

    /// A window of matches on PostgreSQL. The index's keys hold one
    /// bucket of [`search::PG_BUCKET`] items of the community each
    /// (migration 0007), and every match a query names is read from the
    /// table to be put in order, so the cost of a search is the matches it
    /// reads: the buckets asked are chosen to read about as many as the
    /// window needs ([`buckets_to_ask`]). The newest bucket (with the one
    /// before it while it holds less than half a bucket) is asked
    /// first; then, from the matches per item found so far, as many older
    /// items as should hold the rest, a quarter more, or four times the
    /// items asked so far while nothing was found, until the window is
    /// full or the oldest bucket was asked. A word found in most items
    /// reads about one bucket's matches; a rare word, index lookups and
    /// its few matches.
    async fn pg_window(
        &self,
        community: &str,
        query: &[Vec<String>],
        window: i64,
    ) -> StoreResult<Vec<AnyRow>> {
        let items: Option<i64> = sqlx::query("SELECT items FROM communities WHERE id = $1")
            .bind(community)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get("items"))
            .transpose()?;
        let Some(items) = items else { return Ok(Vec::new()) };
        let need = window.saturating_add(1).saturating_mul(search::WINDOW);
        let mut rows = Vec::new();
        let (mut hi, mut asked) = (items / search::PG_BUCKET, 0);
        loop {
            let got = rows.len() as i64;
            let lo = buckets_to_ask(items, hi, asked, got, need);
            // `|| ''` keeps the community's index out of the plan, and the
            // order (by `seq`, which items written at once may share, then
            // `n`) is the same however the buckets are split into queries:
            // only the buckets' keys are read (a key shared by chance with
            // another community is filtered here).
            let found = sqlx::query(
                "SELECT n, search_text FROM community_items WHERE community_id || '' = $1 \
                 AND search_tsv @@ to_tsquery('simple', $2) ORDER BY seq DESC, n DESC LIMIT $3",
            )
            .bind(community)
            .bind(search::tsquery(community, lo..=hi, query))
            .bind(need - got)
            .fetch_all(&self.pool)
            .await?;
            rows.extend(found);
            asked += items_in(items, lo, hi);
            if rows.len() as i64 >= need || lo == 0 {
                break;
            }
            hi = lo - 1;
        }
        let skip = usize::try_from(window.saturating_mul(search::WINDOW)).unwrap_or(usize::MAX);
        Ok(rows.into_iter().skip(skip).collect())
    }
}

/// Items of a community of `items` whose numbers (`seq`, from 1) fall in
/// PostgreSQL search buckets `lo..=hi`.
fn items_in(items: i64, lo: i64, hi: i64) -> i64 {
    let first = lo.saturating_mul(search::PG_BUCKET).max(1);
    let last = hi.saturating_add(1).saturating_mul(search::PG_BUCKET).saturating_sub(1).min(items);
    (last - first + 1).max(0)
}

/// The oldest bucket of the next PostgreSQL search query, which asks
/// `lo..=hi` (`hi` the newest not yet asked) of a community of `items`,
/// after `asked` items gave `got` of the `need`ed matches: enough items
/// for the rest at the rate found so far, a quarter more (or four times
/// `asked` while none was found; at least half a bucket's worth), at most
/// [`MAX_BUCKETS_PER_QUERY`] buckets.
fn buckets_to_ask(items: i64, hi: i64, asked: i64, got: i64, need: i64) -> i64 {
    let wanted = if got == 0 {
        asked.saturating_mul(4)
    } else {
        (need - got).saturating_mul(asked).saturating_mul(5) / got.saturating_mul(4)
    }
    .max(search::PG_BUCKET / 2);
    let mut lo = hi;
    while lo > 0 && hi - lo + 1 < MAX_BUCKETS_PER_QUERY && items_in(items, lo, hi) < wanted {
        lo -= 1;
    }
    lo
}

/// The most buckets one PostgreSQL search query names (a bound on the
/// query's length: each is one index key per word form).
const MAX_BUCKETS_PER_QUERY: i64 = 64;

pub(super) const ITEM_COLS: &str = "i.n, i.id, i.community_id, i.post_id, i.parent_id, \
    i.is_post, a.username AS author, a.account_key AS author_key, i.depth, i.path, i.tbs, \
    i.sig, i.edit_tbs, i.edit_sig, i.gone_tbs, i.gone_sig, i.likes, i.comments, i.created_at \
    FROM community_items i LEFT JOIN accounts a ON a.id = i.author_id";

const COMMUNITY_COLS: &str = "c.id, c.name, a.username AS owner, c.create_tbs, c.create_sig, \
    c.settings_tbs, c.settings_sig, c.close_tbs, c.close_sig, c.visibility, c.post_policy, \
    c.topic, c.archived, c.posts, c.created_at, \
    (SELECT COUNT(*) FROM community_members m WHERE m.community_id = c.id \
     AND m.state = 'member') AS members \
    FROM communities c LEFT JOIN accounts a ON a.id = c.owner_id";

fn pair(r: &AnyRow, tbs: &str, sig: &str) -> Result<Option<Signed>, sqlx::Error> {
    let t: Option<Vec<u8>> = r.try_get(tbs)?;
    let s: Option<Vec<u8>> = r.try_get(sig)?;
    Ok(t.zip(s))
}

pub(super) fn item_from(r: &AnyRow) -> Result<ItemRow, sqlx::Error> {
    Ok(ItemRow {
        n: r.try_get("n")?,
        id: r.try_get("id")?,
        community_id: r.try_get("community_id")?,
        post_id: r.try_get("post_id")?,
        parent_id: r.try_get("parent_id")?,
        is_post: r.try_get::<i64, _>("is_post")? != 0,
        author: r.try_get("author")?,
        author_key: r.try_get("author_key")?,
        depth: r.try_get("depth")?,
        path: r.try_get("path")?,
        action: pair(r, "tbs", "sig")?,
        edit: pair(r, "edit_tbs", "edit_sig")?,
        gone: pair(r, "gone_tbs", "gone_sig")?,
        likes: r.try_get("likes")?,
        comments: r.try_get("comments")?,
        created_at: r.try_get("created_at")?,
    })
}

fn community_from(r: &AnyRow) -> Result<CommunityRow, sqlx::Error> {
    Ok(CommunityRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        owner: r.try_get("owner")?,
        create: (r.try_get("create_tbs")?, r.try_get("create_sig")?),
        settings: pair(r, "settings_tbs", "settings_sig")?,
        close: pair(r, "close_tbs", "close_sig")?,
        visibility: r.try_get("visibility")?,
        post_policy: r.try_get("post_policy")?,
        topic: r.try_get("topic")?,
        archived: r.try_get::<i64, _>("archived")? != 0,
        posts: r.try_get("posts")?,
        members: r.try_get("members")?,
        created_at: r.try_get("created_at")?,
    })
}

fn member_from(r: &AnyRow) -> Result<MemberRow, sqlx::Error> {
    Ok(MemberRow {
        state: r.try_get("state")?,
        moderator: r.try_get::<i64, _>("moderator")? != 0,
        poster: r.try_get::<i64, _>("poster")? != 0,
        last_read: r.try_get("last_read")?,
    })
}

fn signed_from(r: &AnyRow) -> Result<SignedRow, sqlx::Error> {
    Ok(SignedRow {
        by: r.try_get("by_name")?,
        action: (r.try_get("tbs")?, r.try_get("sig")?),
        created_at: r.try_get("created_at")?,
        item_id: r.try_get("item_id")?,
    })
}

/// Storage of communities. Lookups return `Ok(None)` when the thing does
/// not exist; `Err` means the database failed.
pub trait CommunityStore: Send + Sync {
    /// Applies a verified action by `author` (SPEC.md §9.10.3): checks the
    /// rules against the current state and writes, in one transaction.
    fn apply_action(
        &self,
        author: &Author,
        tbs: &[u8],
        sig: &[u8],
        opened: &kovan_crypto::community::OpenedAction,
        now: i64,
    ) -> impl Future<Output = Result<Applied, ApplyError>> + Send;

    /// A community by id (hex) or name.
    fn community(
        &self,
        key: &str,
    ) -> impl Future<Output = StoreResult<Option<CommunityRow>>> + Send;

    /// An account's standing in a community.
    fn member(
        &self,
        community: &str,
        account: i64,
    ) -> impl Future<Output = StoreResult<Option<MemberRow>>> + Send;

    /// Communities whose name, topic or description hold every word of
    /// `query` (folded), most members first.
    fn search_communities(
        &self,
        query: &str,
        limit: i64,
        offset: i64,
    ) -> impl Future<Output = StoreResult<Vec<CommunityRow>>> + Send;

    /// The communities `account` belongs to, with the posts it has not seen.
    fn joined(
        &self,
        account: i64,
    ) -> impl Future<Output = StoreResult<Vec<(CommunityRow, MemberRow, i64)>>> + Send;

    /// A page of a community's posts.
    fn posts(
        &self,
        community: &str,
        sort: Sort,
        limit: i64,
        offset: i64,
    ) -> impl Future<Output = StoreResult<Vec<ItemRow>>> + Send;

    /// A page of posts across the communities `account` is a member of.
    fn feed(
        &self,
        account: i64,
        sort: Sort,
        limit: i64,
        offset: i64,
    ) -> impl Future<Output = StoreResult<Vec<ItemRow>>> + Send;

    /// Remembers that `account` saw the community's posts up to `n`.
    fn mark_read(
        &self,
        community: &str,
        account: i64,
        n: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// A post or comment.
    fn item(&self, id: &str) -> impl Future<Output = StoreResult<Option<ItemRow>>> + Send;

    /// A post's comments in tree order after `after` (a path; "" from the
    /// start).
    fn thread(
        &self,
        post: &str,
        after: &str,
        limit: i64,
    ) -> impl Future<Output = StoreResult<Vec<ItemRow>>> + Send;

    /// Posts and comments of a community matching `query` (SPEC.md
    /// §9.10.5): the newest window of matches best first, then the next.
    fn search_items(
        &self,
        community: &str,
        query: &[Vec<String>],
        limit: i64,
        offset: i64,
    ) -> impl Future<Output = StoreResult<Vec<ItemRow>>> + Send;

    /// Which of `items` `account` likes.
    fn liked(
        &self,
        account: i64,
        items: &[String],
    ) -> impl Future<Output = StoreResult<Vec<String>>> + Send;

    /// Every edit of an item, oldest first.
    fn edits(&self, item: &str) -> impl Future<Output = StoreResult<Vec<Signed>>> + Send;

    /// The moderation log, newest first.
    fn modlog(
        &self,
        community: &str,
        limit: i64,
        offset: i64,
    ) -> impl Future<Output = StoreResult<Vec<SignedRow>>> + Send;

    /// The usernames of those of `keys` (account keys) that have accounts.
    fn usernames(
        &self,
        keys: &[[u8; 32]],
    ) -> impl Future<Output = StoreResult<Vec<([u8; 32], String)>>> + Send;

    /// Open reports, oldest first.
    fn reports(&self, community: &str) -> impl Future<Output = StoreResult<Vec<SignedRow>>> + Send;

    /// Join requests, oldest first.
    fn requests(
        &self,
        community: &str,
    ) -> impl Future<Output = StoreResult<Vec<RequestRow>>> + Send;

    /// The community (id and visibility) whose post keeps `blob` as a file.
    fn blob_community(
        &self,
        blob: &str,
    ) -> impl Future<Output = StoreResult<Option<(String, String)>>> + Send;

    /// Forgets action ids older than `before` (the replay window is over).
    fn sweep_seen(&self, before: i64) -> impl Future<Output = StoreResult<u64>> + Send;
}

impl CommunityStore for SqlStore {
    async fn apply_action(
        &self,
        author: &Author,
        tbs: &[u8],
        sig: &[u8],
        opened: &kovan_crypto::community::OpenedAction,
        now: i64,
    ) -> Result<Applied, ApplyError> {
        let _w = self.write_guard().await;
        super::apply::apply(self, author, tbs, sig, opened, now).await
    }

    async fn community(&self, key: &str) -> StoreResult<Option<CommunityRow>> {
        let sql = format!("SELECT {COMMUNITY_COLS} WHERE c.id = $1 OR c.name = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(key)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(community_from).transpose()?)
    }

    async fn member(&self, community: &str, account: i64) -> StoreResult<Option<MemberRow>> {
        let row = sqlx::query(
            "SELECT state, moderator, poster, last_read FROM community_members \
             WHERE community_id = $1 AND account_id = $2",
        )
        .bind(community)
        .bind(account)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(member_from).transpose()?)
    }

    async fn search_communities(
        &self,
        query: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<CommunityRow>> {
        // Communities are few next to posts: a scan of their folded text.
        let words: Vec<String> =
            search::query_forms(query).into_iter().filter_map(|f| f.into_iter().next()).collect();
        let mut sql = format!("SELECT {COMMUNITY_COLS} WHERE 1 = 1");
        for i in 0..words.len() {
            sql.push_str(&format!(" AND c.search_text LIKE ${}", i + 1));
        }
        let n = words.len();
        sql.push_str(&format!(" ORDER BY members DESC, c.name LIMIT ${} OFFSET ${}", n + 1, n + 2));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for w in &words {
            q = q.bind(format!("%{w}%"));
        }
        let rows = q.bind(limit).bind(offset).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(community_from).collect::<Result<_, _>>()?)
    }

    async fn joined(&self, account: i64) -> StoreResult<Vec<(CommunityRow, MemberRow, i64)>> {
        // One query: each community with the member's row and its unread
        // posts.
        let sql = format!(
            "SELECT j.*, me.state, me.moderator, me.poster, me.last_read, \
             (SELECT COUNT(*) FROM community_items i WHERE i.community_id = j.id \
              AND i.is_post = 1 AND i.n > me.last_read) AS unread \
             FROM (SELECT {COMMUNITY_COLS}) j JOIN community_members me ON me.community_id = j.id \
             WHERE me.account_id = $1 AND me.state = 'member' ORDER BY j.name"
        );
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account).fetch_all(&self.pool).await?;
        Ok(rows
            .iter()
            .map(|r| Ok((community_from(r)?, member_from(r)?, r.try_get("unread")?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }

    async fn posts(
        &self,
        community: &str,
        sort: Sort,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<ItemRow>> {
        let sql = format!(
            "SELECT {ITEM_COLS} WHERE i.community_id = $1 AND i.is_post = 1 ORDER BY {} \
             LIMIT $2 OFFSET $3",
            sort.order()
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(community)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(item_from).collect::<Result<_, _>>()?)
    }

    async fn feed(
        &self,
        account: i64,
        sort: Sort,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<ItemRow>> {
        let sql = format!(
            "SELECT {ITEM_COLS} WHERE i.is_post = 1 AND i.community_id IN \
             (SELECT community_id FROM community_members WHERE account_id = $1 \
              AND state = 'member') ORDER BY {} LIMIT $2 OFFSET $3",
            sort.order()
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(item_from).collect::<Result<_, _>>()?)
    }

    async fn mark_read(&self, community: &str, account: i64, n: i64) -> StoreResult<()> {
        let _w = self.write_guard().await;
        sqlx::query(
            "UPDATE community_members SET last_read = $1 WHERE community_id = $2 \
             AND account_id = $3 AND last_read < $4",
        )
        .bind(n)
        .bind(community)
        .bind(account)
        .bind(n)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn item(&self, id: &str) -> StoreResult<Option<ItemRow>> {
        let sql = format!("SELECT {ITEM_COLS} WHERE i.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(item_from).transpose()?)
    }

    async fn thread(&self, post: &str, after: &str, limit: i64) -> StoreResult<Vec<ItemRow>> {
        let sql = format!(
            "SELECT {ITEM_COLS} WHERE i.post_id = $1 AND i.is_post = 0 AND i.path > $2 \
             ORDER BY i.path LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(post)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(item_from).collect::<Result<_, _>>()?)
    }

    async fn search_items(
        &self,
        community: &str,
        query: &[Vec<String>],
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<ItemRow>> {
        if query.is_empty() {
            return Ok(Vec::new());
        }
        // Window by window (newest first), each ranked, until the page is
        // full or the matches end.
        let mut page: Vec<i64> = Vec::new();
        loop {
            let at = offset + page.len() as i64;
            let window = at / search::WINDOW;
            let found = self.search_window(community, query, window).await?;
            let last = (found.len() as i64) < search::WINDOW;
            let skip = usize::try_from(at - window * search::WINDOW).unwrap_or(0);
            let want = usize::try_from(limit).unwrap_or(0).saturating_sub(page.len());
            page.extend(search::rank(found, query).into_iter().skip(skip).take(want));
            if last || page.len() as i64 >= limit {
                break;
            }
        }
        if page.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT {ITEM_COLS} WHERE i.n IN ({})", params(1, page.len()));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for n in &page {
            q = q.bind(*n);
        }
        let mut rows: Vec<ItemRow> =
            q.fetch_all(&self.pool).await?.iter().map(item_from).collect::<Result<_, _>>()?;
        rows.sort_by_key(|r| page.iter().position(|n| *n == r.n));
        Ok(rows)
    }

    async fn liked(&self, account: i64, items: &[String]) -> StoreResult<Vec<String>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT item_id FROM community_likes WHERE account_id = $1 AND item_id IN ({})",
            params(2, items.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account);
        for id in items {
            q = q.bind(id);
        }
        let rows = q.fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|r| r.try_get("item_id")).collect::<Result<_, _>>()?)
    }

    async fn edits(&self, item: &str) -> StoreResult<Vec<Signed>> {
        let rows =
            sqlx::query("SELECT tbs, sig FROM community_edits WHERE item_id = $1 ORDER BY n")
                .bind(item)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .iter()
            .map(|r| Ok((r.try_get("tbs")?, r.try_get("sig")?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }

    async fn modlog(
        &self,
        community: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<SignedRow>> {
        let rows = sqlx::query(
            "SELECT a.username AS by_name, l.tbs, l.sig, l.created_at, NULL AS item_id \
             FROM community_modlog l LEFT JOIN accounts a ON a.id = l.moderator_id \
             WHERE l.community_id = $1 ORDER BY l.n DESC LIMIT $2 OFFSET $3",
        )
        .bind(community)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(signed_from).collect::<Result<_, _>>()?)
    }

    async fn usernames(&self, keys: &[[u8; 32]]) -> StoreResult<Vec<([u8; 32], String)>> {
        let mut out = Vec::new();
        for chunk in keys.chunks(100) {
            let sql = format!(
                "SELECT account_key, username FROM accounts WHERE account_key IN ({})",
                params(1, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for k in chunk {
                q = q.bind(k.to_vec());
            }
            for r in q.fetch_all(&self.pool).await? {
                let key: Vec<u8> = r.try_get("account_key")?;
                if let Ok(key) = <[u8; 32]>::try_from(key.as_slice()) {
                    out.push((key, r.try_get("username")?));
                }
            }
        }
        Ok(out)
    }

    async fn reports(&self, community: &str) -> StoreResult<Vec<SignedRow>> {
        let rows = sqlx::query(
            "SELECT a.username AS by_name, r.tbs, r.sig, r.created_at, r.item_id \
             FROM community_reports r LEFT JOIN accounts a ON a.id = r.reporter_id \
             WHERE r.community_id = $1 AND r.open = 1 ORDER BY r.id LIMIT 500",
        )
        .bind(community)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(signed_from).collect::<Result<_, _>>()?)
    }

    async fn requests(&self, community: &str) -> StoreResult<Vec<RequestRow>> {
        let rows = sqlx::query(
            "SELECT a.username, a.account_key, m.note, m.since FROM community_members m \
             JOIN accounts a ON a.id = m.account_id \
             WHERE m.community_id = $1 AND m.state = 'pending' ORDER BY m.since LIMIT 500",
        )
        .bind(community)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                Ok(RequestRow {
                    username: r.try_get("username")?,
                    account_key: r.try_get("account_key")?,
                    note: r.try_get("note")?,
                    since: r.try_get("since")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?)
    }

    async fn blob_community(&self, blob: &str) -> StoreResult<Option<(String, String)>> {
        let row = sqlx::query(
            "SELECT c.id, c.visibility FROM community_blobs b JOIN communities c \
             ON c.id = b.community_id WHERE b.blob_id = $1",
        )
        .bind(blob)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .map(|r| Ok::<_, sqlx::Error>((r.try_get("id")?, r.try_get("visibility")?)))
            .transpose()?)
    }

    async fn sweep_seen(&self, before: i64) -> StoreResult<u64> {
        let _w = self.write_guard().await;
        let r = sqlx::query("DELETE FROM community_seen WHERE at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const B: i64 = search::PG_BUCKET;

    #[test]
    fn buckets_hold_the_items_numbered_in_them() {
        // Numbers start at 1: bucket 0 holds B - 1 items.
        assert_eq!(items_in(10 * B + 5, 0, 0), B - 1);
        assert_eq!(items_in(10 * B + 5, 3, 4), 2 * B);
        assert_eq!(items_in(10 * B + 5, 10, 10), 6);
        assert_eq!(items_in(10 * B + 5, 0, 10), 10 * B + 5);
        assert_eq!(items_in(0, 0, 0), 0);
    }

    #[test]
    fn searches_ask_about_the_items_that_hold_the_matches_needed() {
        let items = 60 * B + 100;
        // First: the newest bucket and, while it holds under half a
        // bucket, the one before.
        assert_eq!(buckets_to_ask(items, 60, 0, 0, 250), 59);
        assert_eq!(buckets_to_ask(60 * B + B / 2, 60, 0, 0, 250), 60);
        // A common word: 200 matches in 1,100 items; the rest needs about
        // 344 more items, so one bucket.
        assert_eq!(buckets_to_ask(items, 58, 1100, 200, 250), 58);
        // 10 matches in 2,000 items: 240 more need 60,000 items, more
        // than are left, so everything left.
        assert_eq!(buckets_to_ask(items, 58, 2000, 10, 250), 0);
        // 50 matches in 2,000 items: 200 more need 8,000 items at the rate
        // seen, 10,000 with a quarter more: 10 buckets.
        assert_eq!(buckets_to_ask(items, 58, 2000, 50, 250), 49);
        // Nothing found yet: four times the items asked.
        assert_eq!(buckets_to_ask(items, 58, 1100, 0, 250), 54);
        // At most MAX_BUCKETS_PER_QUERY buckets in one query.
        assert_eq!(buckets_to_ask(1000 * B, 999, 64 * B, 0, 250), 999 - 63);
    }
}
