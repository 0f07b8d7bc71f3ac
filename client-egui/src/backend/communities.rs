//! Communities on the relay (the Communities tab): what the tab asks
//! ([`CommunityCmd`]), what it is told ([`CommunityUpdate`]), and running
//! each command against the node, which signs every write and checks
//! every read. A write answers [`CommunityUpdate::Done`]; the tab then
//! reads again what it shows.

use kovan_node::{
    CommunityItemView, CommunitySettingsDraft, CommunityView, ModEntryView, NodeHandle, PostDraft,
};

use super::{Out, Update};

/// How the relay sorts posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Newest first.
    #[default]
    New,
    /// Most liked first.
    Top,
    /// Most recently commented first.
    Active,
}

impl Sort {
    /// Every sort, in the order the tab offers them.
    pub const ALL: [Sort; 3] = [Sort::New, Sort::Top, Sort::Active];

    /// The relay's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::New => "new",
            Sort::Top => "top",
            Sort::Active => "active",
        }
    }
}

/// What the relay answers per page of posts (its default page size).
pub const POST_PAGE: usize = 25;

/// Pages read in one go at most (a reload of everything loaded).
const MOST_PAGES: usize = 20;

/// Archive, reopen or delete a community (its owner), and a moderator's
/// actions: the spec's own.
pub use kovan_spec::validate::{CloseKind as Closing, ModAction};

/// What the Communities tab asks of the node.
#[derive(Debug, Clone)]
pub enum CommunityCmd {
    /// The communities this account is in, with unread counts.
    Joined,
    /// Communities whose name, topic or description hold these words.
    Find(String),
    /// One community (its header).
    Open(String),
    /// Posts of a community from `offset`, at least `count` of them (or
    /// all there are), in pages.
    Posts {
        /// The community's name.
        name: String,
        /// The order.
        sort: Sort,
        /// The first post wanted.
        offset: usize,
        /// How many are wanted.
        count: usize,
    },
    /// Posts across this account's communities.
    Feed {
        /// The order.
        sort: Sort,
        /// The first post wanted.
        offset: usize,
        /// How many are wanted.
        count: usize,
    },
    /// Posts and comments of one community that hold these words.
    Search {
        /// The community's name.
        name: String,
        /// The words.
        query: String,
    },
    /// A page of a thread in tree order: with an empty `after`, the post
    /// (of `item`, which may be a comment) and its first comments; else the
    /// comments after that path.
    Thread {
        /// The post or comment asked for.
        item: String,
        /// Where the page starts.
        after: String,
    },
    /// A community's open reports, join requests and moderation log.
    Moderation(String),
    /// Make a community.
    Create {
        /// Its unique name.
        name: String,
        /// Topic, description, rules, visibility, who may post.
        settings: CommunitySettingsDraft,
    },
    /// Replace a community's settings (its owner).
    Settings {
        /// The community's name.
        name: String,
        /// Topic, description, rules, visibility, who may post, moderators.
        settings: CommunitySettingsDraft,
    },
    /// Join (or ask to join) a community, or leave it.
    Join {
        /// The community's name.
        name: String,
        /// Join (else leave).
        join: bool,
    },
    /// Archive, reopen or delete a community.
    Close {
        /// The community's name.
        name: String,
        /// Which.
        how: Closing,
    },
    /// A new post.
    Post {
        /// The community's name.
        name: String,
        /// What it says.
        draft: PostDraft,
    },
    /// A comment on a post or on a comment.
    Comment {
        /// The post or comment answered.
        on: String,
        /// The text.
        text: String,
    },
    /// Like a post or comment, or take the like back.
    Like {
        /// The item.
        item: String,
        /// Like (else unlike).
        liked: bool,
    },
    /// Change this account's post or comment.
    Edit {
        /// The item.
        item: String,
        /// A post's new title (empty for a comment).
        title: String,
        /// The new text.
        text: String,
    },
    /// Delete this account's post or comment (a tombstone stays).
    Delete {
        /// The item.
        item: String,
        /// A post (else a comment).
        post: bool,
    },
    /// Report a post or comment to the moderators.
    Report {
        /// The item.
        item: String,
        /// Why.
        reason: String,
    },
    /// Save file `index` of a post (checked against what its author
    /// signed) into the home's `files/community/<post>/`.
    Fetch {
        /// The post.
        item: String,
        /// Which file.
        index: usize,
    },
    /// A moderator's action.
    Moderate {
        /// The community's name.
        name: String,
        /// What.
        action: ModAction,
        /// An item id (remove, dismiss) or a username.
        on: String,
        /// A note for the log.
        note: String,
    },
}

/// Comments read per page of a thread.
pub const THREAD_PAGE: usize = 100;

/// Someone asking to join a private community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequest {
    /// Their username.
    pub username: String,
    /// What they wrote.
    pub note: String,
    /// When they asked (ms).
    pub since: i64,
}

/// What the node tells the Communities tab.
#[derive(Debug, Clone)]
pub enum CommunityUpdate {
    /// The communities this account is in.
    Joined(Vec<CommunityView>),
    /// Communities found.
    Found {
        /// What was looked for.
        query: String,
        /// What matched, most members first.
        results: Vec<CommunityView>,
    },
    /// One community.
    Community(CommunityView),
    /// Posts of a community, checked.
    Posts {
        /// The community's name.
        name: String,
        /// Their order.
        sort: Sort,
        /// Where they start.
        offset: usize,
        /// The posts.
        items: Vec<CommunityItemView>,
        /// More may follow.
        more: bool,
    },
    /// Posts across this account's communities, checked.
    Feed {
        /// Their order.
        sort: Sort,
        /// Where they start.
        offset: usize,
        /// The posts.
        items: Vec<CommunityItemView>,
        /// More may follow.
        more: bool,
    },
    /// Search hits in a community, checked.
    Hits {
        /// The community's name.
        name: String,
        /// What was looked for.
        query: String,
        /// The posts and comments.
        items: Vec<CommunityItemView>,
    },
    /// A page of a thread: the post (first page), then comments in tree
    /// order, checked.
    Thread {
        /// The item asked for.
        item: String,
        /// Where the page started.
        after: String,
        /// The post and comments.
        items: Vec<CommunityItemView>,
        /// Where the next page starts, if there may be one.
        next: Option<String>,
    },
    /// What a community's moderators see.
    Moderation {
        /// The community.
        community: Box<CommunityView>,
        /// Open reports.
        reports: Vec<ModEntryView>,
        /// Join requests, oldest first.
        requests: Vec<JoinRequest>,
        /// The moderation log, newest first.
        log: Vec<ModEntryView>,
    },
    /// A community was made.
    Created(String),
    /// Joined, asked to join (`pending`) or left (`None`).
    Membership {
        /// The community's name.
        name: String,
        /// The relay's word: `member`, `pending`…
        state: Option<String>,
    },
    /// A community was archived, reopened or deleted.
    Closed {
        /// The community's name.
        name: String,
        /// Which.
        how: Closing,
    },
    /// A post went into this community.
    Posted(String),
    /// A file of a post was saved, here.
    Fetched(std::path::PathBuf),
    /// A write worked (`what` names it as errors do).
    Done(&'static str),
}

impl CommunityCmd {
    /// What the command does, as an error names it.
    pub fn what(&self) -> &'static str {
        match self {
            Self::Joined | Self::Open(_) => "reading communities",
            Self::Find(_) => "searching communities",
            Self::Posts { .. } => "reading the community",
            Self::Feed { .. } => "reading the feed",
            Self::Search { .. } => "searching the community",
            Self::Thread { .. } => "reading the post",
            Self::Moderation(_) => "reading the moderation queue",
            Self::Create { .. } => "creating the community",
            Self::Settings { .. } => "saving the settings",
            Self::Join { join: true, .. } => "joining the community",
            Self::Join { join: false, .. } => "leaving the community",
            Self::Close { how: Closing::Archive, .. } => "archiving the community",
            Self::Close { how: Closing::Reopen, .. } => "reopening the community",
            Self::Close { how: Closing::Delete, .. } => "deleting the community",
            Self::Post { .. } => "posting",
            Self::Comment { .. } => "commenting",
            Self::Like { .. } => "liking",
            Self::Edit { .. } => "editing",
            Self::Delete { post: true, .. } => "deleting the post",
            Self::Delete { post: false, .. } => "deleting the comment",
            Self::Report { .. } => "reporting",
            Self::Moderate { .. } => "moderating",
            Self::Fetch { .. } => "saving the file",
        }
    }
}

/// Reads pages from `offset` until `count` items came or a page is short.
async fn pages<F, Fut>(
    offset: usize,
    count: usize,
    read: F,
) -> kovan_node::NodeResult<(Vec<CommunityItemView>, bool)>
where
    F: Fn(i64) -> Fut,
    Fut: std::future::Future<Output = kovan_node::NodeResult<Vec<CommunityItemView>>>,
{
    let mut items = Vec::new();
    for _ in 0..MOST_PAGES {
        let at = i64::try_from(offset + items.len()).unwrap_or(i64::MAX);
        let page = read(at).await?;
        let full = page.len() >= POST_PAGE;
        items.extend(page);
        if !full {
            return Ok((items, false));
        }
        if items.len() >= count.max(1) {
            break;
        }
    }
    Ok((items, true))
}

async fn moderation(n: &NodeHandle, name: &str) -> kovan_node::NodeResult<CommunityUpdate> {
    let community = Box::new(n.community(name).await?);
    let reports = n.community_reports(name).await?;
    let requests = n
        .community_requests(name)
        .await?
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| JoinRequest {
            username: r["username"].as_str().unwrap_or_default().to_owned(),
            note: r["note"].as_str().unwrap_or_default().to_owned(),
            since: r["since"].as_i64().unwrap_or(0),
        })
        .collect();
    let log = n.community_modlog(name).await?;
    Ok(CommunityUpdate::Moderation { community, reports, requests, log })
}

/// Runs one command; its answer (or its error) goes to the UI.
pub(super) async fn run(n: &NodeHandle, cmd: CommunityCmd, out: &Out) {
    let what = cmd.what();
    let done = |_| CommunityUpdate::Done(what);
    let answer = match cmd {
        CommunityCmd::Joined => n.community_joined().await.map(CommunityUpdate::Joined),
        CommunityCmd::Find(query) => n
            .community_list(&query, 0)
            .await
            .map(|results| CommunityUpdate::Found { query, results }),
        CommunityCmd::Open(name) => n.community(&name).await.map(CommunityUpdate::Community),
        CommunityCmd::Posts { name, sort, offset, count } => {
            pages(offset, count, |at| n.community_posts(&name, sort.as_str(), at))
                .await
                .map(|(items, more)| CommunityUpdate::Posts { name, sort, offset, items, more })
        }
        CommunityCmd::Feed { sort, offset, count } => {
            pages(offset, count, |at| n.community_feed(sort.as_str(), at))
                .await
                .map(|(items, more)| CommunityUpdate::Feed { sort, offset, items, more })
        }
        CommunityCmd::Search { name, query } => n
            .community_search(&name, &query)
            .await
            .map(|items| CommunityUpdate::Hits { name, query, items }),
        CommunityCmd::Thread { item, after } => n
            .community_thread_page(&item, &after, THREAD_PAGE)
            .await
            .map(|(items, next)| CommunityUpdate::Thread { item, after, items, next }),
        CommunityCmd::Moderation(name) => moderation(n, &name).await,
        CommunityCmd::Create { name, settings } => {
            n.community_create(&name, &settings).await.map(|_| CommunityUpdate::Created(name))
        }
        CommunityCmd::Settings { name, settings } => {
            n.community_settings(&name, &settings).await.map(done)
        }
        CommunityCmd::Join { name, join } => {
            n.community_join(&name, join, "").await.map(|v| CommunityUpdate::Membership {
                name,
                state: join.then(|| v["state"].as_str().unwrap_or("member").to_owned()),
            })
        }
        CommunityCmd::Close { name, how } => n
            .community_close(&name, how.name())
            .await
            .map(|_| CommunityUpdate::Closed { name, how }),
        CommunityCmd::Post { name, draft } => {
            n.community_post(&name, &draft).await.map(|_| CommunityUpdate::Posted(name))
        }
        CommunityCmd::Comment { on, text } => n.community_comment(&on, &text).await.map(done),
        CommunityCmd::Like { item, liked } => n.community_like(&item, liked).await.map(done),
        CommunityCmd::Edit { item, title, text } => {
            n.community_edit(&item, &title, &text).await.map(done)
        }
        CommunityCmd::Delete { item, .. } => n.community_delete(&item).await.map(done),
        CommunityCmd::Report { item, reason } => n.community_report(&item, &reason).await.map(done),
        CommunityCmd::Fetch { item, index } => {
            n.community_fetch(&item, index, None).await.map(CommunityUpdate::Fetched)
        }
        CommunityCmd::Moderate { name, action, on, note } => {
            n.community_moderate(&name, action.name(), &on, &note).await.map(done)
        }
    };
    match answer {
        Ok(update) => out.send(Update::Community { what, update }).await,
        Err(e) => out.error(what, e).await,
    }
}
