//! Communities on the relay (SPEC.md §9.10): this device signs every write
//! with the account key and checks everything it reads — a post, comment,
//! edit or removal the relay altered or made up is shown as failed
//! verification, never as content (§9.10.4).

use std::collections::HashMap;

use kovan_spec::validate::{CloseKind, ModAction};
use kovan_spec::wire::{self, community_action::Body};
use rand_core::{OsRng, RngCore};
use serde_json::{Value, json};

mod verify;

pub use verify::{AttachmentView, CommunityItemView, CommunityView, ModEntryView};
use verify::{Keys, community_view, edit_texts, entry_views, item_author, moderators, verify_item};

use super::Core;
use crate::control::{s, to_value};
use crate::node::{NodeError, NodeHandle, NodeResult};

impl Core {
    fn friend_keys(&self) -> NodeResult<HashMap<String, [u8; 32]>> {
        Ok(self
            .contacts_store()
            .list()?
            .into_iter()
            .filter_map(|c| c.username.clone().map(|u| (u, c.account)))
            .collect())
    }
}

/// What a new post says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostDraft {
    /// Title, 1..=300 bytes.
    pub title: String,
    /// Text (may be empty for a repost).
    pub text: String,
    /// An http(s) link, or empty.
    pub link: String,
    /// The reposted post (hex id).
    pub repost_of: Option<String>,
    /// The quoted post or comment (hex id).
    pub quote_of: Option<String>,
    /// Files to attach (at most 8, each at most [`MAX_COMMUNITY_FILE`]).
    pub files: Vec<std::path::PathBuf>,
}

/// The largest file this node attaches to a post.
pub const MAX_COMMUNITY_FILE: u64 = 64 * 1024 * 1024;

/// A community's settings as the owner sets them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommunitySettingsDraft {
    /// Topic.
    pub topic: String,
    /// Description.
    pub description: String,
    /// Rules.
    pub rules: String,
    /// Members only.
    pub private: bool,
    /// `members`, `approved` or `moderators`.
    pub post_policy: String,
    /// Moderators besides the owner, by username.
    pub moderators: Vec<String>,
}

fn unhex(id: &str) -> NodeResult<Vec<u8>> {
    match hex::decode(id) {
        Ok(b) if b.len() == 16 => Ok(b),
        _ => Err(NodeError::Invalid(format!(
            "{} is not a post or comment id",
            crate::node::views::shown(id)
        ))),
    }
}

fn policy(p: &str) -> NodeResult<i32> {
    Ok(match p {
        "" | "members" => wire::CommunityPostPolicy::Members,
        "approved" => wire::CommunityPostPolicy::Approved,
        "moderators" => wire::CommunityPostPolicy::Moderators,
        _ => {
            return Err(NodeError::Invalid("who may post: members, approved or moderators".into()));
        }
    } as i32)
}

/// Communities: create, join, post, comment, like, edit, delete, report,
/// moderate; pages, threads, search and the feed, checked.
impl NodeHandle {
    /// Signs `body` with the account key and applies it on the relay;
    /// returns the relay's answer (`id`, `community`, `state`).
    pub async fn community_act(&self, body: Body) -> NodeResult<Value> {
        let mut nonce = vec![0u8; 16];
        OsRng.fill_bytes(&mut nonce);
        let action = wire::CommunityAction {
            version: 1,
            author: self.inner.identity.account().as_bytes().to_vec(),
            created_ms: u64::try_from(crate::clock::system_now_ms()).unwrap_or(0),
            nonce,
            body: Some(body),
        };
        let (tbs, sig) =
            self.inner.identity.sign_community_action(&action).map_err(NodeError::Invalid)?;
        let token = self.token().await?;
        Ok(self.relay()?.community_action(&token, &tbs, &sig).await?)
    }

    async fn community_read(&self, path: &str, query: &[(&str, String)]) -> NodeResult<Value> {
        let token = self.token().await.ok();
        Ok(self.relay()?.community_get(token.as_deref(), path, query).await?)
    }

    async fn community_doc(&self, name: &str) -> NodeResult<Value> {
        self.community_read(&format!("/v1/communities/{}", seg(name)?), &[]).await
    }

    /// A community by name or id, checked.
    pub async fn community(&self, name: &str) -> NodeResult<CommunityView> {
        community_view(&self.community_doc(name).await?)
    }

    async fn community_id(&self, name: &str) -> NodeResult<Vec<u8>> {
        unhex(&self.community(name).await?.id)
    }

    async fn keys(&self, community: &Value) -> NodeResult<Keys> {
        Ok(Keys {
            contacts: self.call(|c| c.friend_keys()).await?,
            moderators: moderators(community)?,
        })
    }

    async fn checked(
        &self,
        community: &Value,
        items: &Value,
    ) -> NodeResult<Vec<CommunityItemView>> {
        let keys = self.keys(community).await?;
        Ok(items.as_array().into_iter().flatten().map(|i| verify_item(i, &keys)).collect())
    }

    /// Communities whose name, topic or description hold `query`'s words
    /// (all of them with an empty query), most members first.
    pub async fn community_list(&self, query: &str, offset: i64) -> NodeResult<Vec<CommunityView>> {
        let v = self
            .community_read(
                "/v1/communities",
                &[("q", query.to_owned()), ("offset", offset.to_string())],
            )
            .await?;
        Ok(communities(&v))
    }

    /// The communities this account is a member of, with unread counts.
    pub async fn community_joined(&self) -> NodeResult<Vec<CommunityView>> {
        let v = self.community_read("/v1/communities/joined", &[]).await?;
        Ok(communities(&v))
    }

    /// A page of a community's posts (`sort`: new, top or active), checked.
    pub async fn community_posts(
        &self,
        name: &str,
        sort: &str,
        offset: i64,
    ) -> NodeResult<Vec<CommunityItemView>> {
        let c = self.community_doc(name).await?;
        let page = self
            .community_read(
                &format!("/v1/communities/{}/posts", seg(name)?),
                &[("sort", sort.to_owned()), ("offset", offset.to_string())],
            )
            .await?;
        self.checked(&c, &page["items"]).await
    }

    /// Posts across this account's communities, checked.
    pub async fn community_feed(
        &self,
        sort: &str,
        offset: i64,
    ) -> NodeResult<Vec<CommunityItemView>> {
        let page = self
            .community_read(
                "/v1/community-feed",
                &[("sort", sort.to_owned()), ("offset", offset.to_string())],
            )
            .await?;
        let mut out = Vec::new();
        // Each community's keys and name, read once.
        let mut keys: HashMap<String, (Keys, Option<String>)> = HashMap::new();
        for item in page["items"].as_array().into_iter().flatten() {
            let cid = item["community"].as_str().unwrap_or_default().to_owned();
            if !keys.contains_key(&cid) {
                let doc = self.community_doc(&cid).await?;
                let name = doc["name"].as_str().map(str::to_owned);
                keys.insert(cid.clone(), (self.keys(&doc).await?, name));
            }
            if let Some((k, name)) = keys.get(&cid) {
                out.push(CommunityItemView { community: name.clone(), ..verify_item(item, k) });
            }
        }
        Ok(out)
    }

    /// Searches a community's posts and comments, checked.
    pub async fn community_search(
        &self,
        name: &str,
        query: &str,
    ) -> NodeResult<Vec<CommunityItemView>> {
        let c = self.community_doc(name).await?;
        let page = self
            .community_read(
                &format!("/v1/communities/{}/search", seg(name)?),
                &[("q", query.to_owned())],
            )
            .await?;
        self.checked(&c, &page["items"]).await
    }

    /// A post and its comments in tree order (every page), checked. `item`
    /// may be a comment: its post's thread comes.
    pub async fn community_thread(&self, item: &str) -> NodeResult<Vec<CommunityItemView>> {
        let (post, community) = self.thread_of(item).await?;
        let keys = self.keys(&community).await?;
        let post_id = post["post"].as_str().unwrap_or_default().to_owned();
        let mut all = vec![verify_item(&post, &keys)];
        let mut after = String::new();
        loop {
            let (page, next) = self.comments_page(&post_id, &after, 100).await?;
            all.extend(page.iter().map(|i| verify_item(i, &keys)));
            match next {
                Some(a) if all.len() < 100_000 => after = a,
                _ => return Ok(all),
            }
        }
    }

    /// One page of a thread, checked: with an empty `after`, the post (or
    /// the post of the comment `item`) and its first `limit` comments in
    /// tree order; else the comments after the path `after`. Also where
    /// the next page starts, if there may be one.
    pub async fn community_thread_page(
        &self,
        item: &str,
        after: &str,
        limit: usize,
    ) -> NodeResult<(Vec<CommunityItemView>, Option<String>)> {
        let (post, community) = self.thread_of(item).await?;
        let post_id = post["post"].as_str().unwrap_or_default().to_owned();
        let (page, next) = self.comments_page(&post_id, after, limit).await?;
        let mut items = if after.is_empty() { vec![post] } else { Vec::new() };
        items.extend(page);
        Ok((self.checked(&community, &Value::Array(items)).await?, next))
    }

    /// The post `item` is (or is under) and its community, as the relay
    /// sent them.
    async fn thread_of(&self, item: &str) -> NodeResult<(Value, Value)> {
        let first =
            self.community_read(&format!("/v1/community-items/{}", seg(item)?), &[]).await?;
        let post_id = first["post"].as_str().unwrap_or_default().to_owned();
        let post = if post_id == item {
            first
        } else {
            self.community_read(&format!("/v1/community-items/{}", seg(&post_id)?), &[]).await?
        };
        let community = self.community_doc(post["community"].as_str().unwrap_or_default()).await?;
        Ok((post, community))
    }

    /// A page of a post's comments as the relay sent them, and where the
    /// next one starts.
    async fn comments_page(
        &self,
        post: &str,
        after: &str,
        limit: usize,
    ) -> NodeResult<(Vec<Value>, Option<String>)> {
        let page = self
            .community_read(
                &format!("/v1/community-items/{}/comments", seg(post)?),
                &[("after", after.to_owned()), ("limit", limit.clamp(1, 100).to_string())],
            )
            .await?;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        Ok((items, page["next_after"].as_str().map(str::to_owned)))
    }

    /// Every version of a post or comment, oldest first: (title, text);
    /// only the author's signed edits count.
    pub async fn community_edits(&self, item: &str) -> NodeResult<Vec<(String, String)>> {
        let doc = self.community_read(&format!("/v1/community-items/{}", seg(item)?), &[]).await?;
        let author = item_author(&doc).ok_or_else(|| {
            NodeError::State("that post or comment is gone or failed verification".into())
        })?;
        let edits =
            self.community_read(&format!("/v1/community-items/{}/edits", seg(item)?), &[]).await?;
        Ok(edit_texts(&edits["edits"], item, author))
    }

    /// The community's moderation log, newest first, checked.
    pub async fn community_modlog(&self, name: &str) -> NodeResult<Vec<ModEntryView>> {
        let c = self.community_doc(name).await?;
        let mods = moderators(&c)?;
        let v = self.community_read(&format!("/v1/communities/{}/modlog", seg(name)?), &[]).await?;
        Ok(entry_views(&v, &mods))
    }

    /// Open reports (moderators).
    pub async fn community_reports(&self, name: &str) -> NodeResult<Vec<ModEntryView>> {
        let v =
            self.community_read(&format!("/v1/communities/{}/reports", seg(name)?), &[]).await?;
        Ok(entry_views(&v, &[]))
    }

    /// Join requests (moderators): `{username, account_key, note, since}`.
    pub async fn community_requests(&self, name: &str) -> NodeResult<Value> {
        Ok(self.community_read(&format!("/v1/communities/{}/requests", seg(name)?), &[]).await?["requests"].clone())
    }

    /// Creates a community.
    pub async fn community_create(
        &self,
        name: &str,
        s: &CommunitySettingsDraft,
    ) -> NodeResult<Value> {
        let settings = self.settings_wire(Vec::new(), s).await?;
        self.community_act(Body::Create(wire::CommunityCreate {
            name: name.into(),
            settings: Some(settings),
        }))
        .await
    }

    async fn settings_wire(
        &self,
        community: Vec<u8>,
        s: &CommunitySettingsDraft,
    ) -> NodeResult<wire::CommunitySettings> {
        let mut moderators = Vec::new();
        for name in &s.moderators {
            moderators.push(self.account_key_of(name).await?);
        }
        Ok(wire::CommunitySettings {
            community,
            topic: s.topic.clone(),
            description: s.description.clone(),
            rules: s.rules.clone(),
            visibility: if s.private { 2 } else { 1 },
            post_policy: policy(&s.post_policy)?,
            moderators,
        })
    }

    /// The account key of a username: a friend's from the contacts, else
    /// the relay's directory; 64 hex digits are the key itself (usernames
    /// are shorter).
    async fn account_key_of(&self, username: &str) -> NodeResult<Vec<u8>> {
        // A moderator without a name the relay knows is shown by hex key.
        if let Some(k) = hex::decode(username).ok().filter(|k| k.len() == 32) {
            return Ok(k);
        }
        let name = username.trim_start_matches('@').to_ascii_lowercase();
        let n2 = name.clone();
        if let Some(k) = self.call(move |c| Ok(c.friend_keys()?.get(&n2).copied())).await? {
            return Ok(k.to_vec());
        }
        let v = self.relay()?.user(&name).await?;
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(v["account_key"].as_str().unwrap_or_default())
            .ok()
            .filter(|k| k.len() == 32)
            .ok_or_else(|| NodeError::NotFound(format!("no user {name} on the relay")))
    }

    /// Replaces a community's settings (the owner).
    pub async fn community_settings(
        &self,
        name: &str,
        s: &CommunitySettingsDraft,
    ) -> NodeResult<Value> {
        let community = self.community_id(name).await?;
        let settings = self.settings_wire(community, s).await?;
        self.community_act(Body::Settings(settings)).await
    }

    /// Archives (`archive`), reopens (`reopen`) or deletes (`delete`) a
    /// community (the owner).
    pub async fn community_close(&self, name: &str, how: &str) -> NodeResult<Value> {
        let kind = CloseKind::from_name(how)
            .ok_or_else(|| NodeError::Invalid("archive, reopen or delete".into()))?
            .wire() as i32;
        let community = self.community_id(name).await?;
        self.community_act(Body::Close(wire::CommunityClose { community, kind })).await
    }

    /// Joins (or asks to join) a community, or leaves it.
    pub async fn community_join(&self, name: &str, join: bool, note: &str) -> NodeResult<Value> {
        let community = self.community_id(name).await?;
        self.community_act(Body::Membership(wire::CommunityMembership {
            community,
            join,
            note: note.into(),
        }))
        .await
    }

    /// Uploads a file to the relay as a blob for a post: its attachment.
    async fn attach(&self, path: &std::path::Path) -> NodeResult<wire::CommunityAttachment> {
        use sha2::Digest;
        let shown = || crate::node::views::shown(&path.display().to_string());
        let meta = tokio::fs::metadata(path)
            .await
            .map_err(|e| NodeError::Invalid(format!("cannot read {}: {e}", shown())))?;
        if meta.len() == 0 || meta.len() > MAX_COMMUNITY_FILE {
            return Err(NodeError::Invalid(format!("{} is empty or larger than 64 MiB", shown())));
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty() && n.len() <= kovan_spec::limits::MAX_FILE_NAME)
            .ok_or_else(|| NodeError::Invalid(format!("{} has no usable file name", shown())))?;
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|e| NodeError::Invalid(format!("cannot read {}: {e}", shown())))?;
        let sha256 = sha2::Sha256::digest(&bytes).to_vec();
        let token = self.token().await?;
        let relay = self.relay()?;
        let blob = relay.create_blob(&token, bytes.len() as u64).await?;
        relay.upload_blob(&token, &blob.id, 0, bytes.clone().into()).await?;
        Ok(wire::CommunityAttachment {
            blob_id: unhex(&blob.id)?,
            mime: crate::files::guess_mime(&name).into(),
            name,
            size: bytes.len() as u64,
            sha256,
        })
    }

    /// Fetches file `index` of a post into `dir` (default: the home's
    /// `files/community/<post>/`), after checking the post and the file's
    /// size and SHA-256 against what its author signed; the saved path.
    pub async fn community_fetch(
        &self,
        item: &str,
        index: usize,
        dir: Option<std::path::PathBuf>,
    ) -> NodeResult<std::path::PathBuf> {
        let thread = self.community_thread(item).await?;
        let post = thread.into_iter().find(|i| i.id == item).ok_or_else(|| {
            NodeError::NotFound(format!("no post {}", crate::node::views::shown(item)))
        })?;
        if !post.verified {
            return Err(NodeError::Invalid(format!(
                "the post failed verification ({}), so its files are not fetched",
                post.problem.unwrap_or_default()
            )));
        }
        let a = post
            .attachments
            .get(index)
            .ok_or_else(|| NodeError::NotFound(format!("the post has no file {index}")))?;
        let token = self.token().await.ok();
        let bytes = self.relay()?.community_blob(token.as_deref(), seg(&a.blob)?, a.size).await?;
        use sha2::Digest;
        if bytes.len() as u64 != a.size || hex::encode(sha2::Sha256::digest(&bytes)) != a.sha256 {
            return Err(NodeError::Invalid(format!(
                "{} failed verification: the relay sent other bytes than the author's",
                crate::node::views::shown(&a.name)
            )));
        }
        let dir = match dir {
            Some(d) => d,
            None => self
                .call(|c| Ok(c.options.home.root().join("files").join("community")))
                .await?
                .join(item),
        };
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| NodeError::Invalid(format!("cannot make {}: {e}", dir.display())))?;
        // The signed name has no path separators; a file of that name is
        // not overwritten.
        let mut path = dir.join(&a.name);
        let mut n = 1;
        while tokio::fs::try_exists(&path).await.unwrap_or(false) {
            path = dir.join(format!("{n}-{}", a.name));
            n += 1;
        }
        tokio::fs::write(&path, &bytes)
            .await
            .map_err(|e| NodeError::Invalid(format!("cannot write {}: {e}", path.display())))?;
        Ok(path)
    }

    /// Posts in a community.
    pub async fn community_post(&self, name: &str, p: &PostDraft) -> NodeResult<Value> {
        if p.files.len() > kovan_spec::limits::MAX_COMMUNITY_ATTACHMENTS {
            return Err(NodeError::Invalid("a post has at most 8 files".into()));
        }
        let community = self.community_id(name).await?;
        let mut attachments = Vec::new();
        for f in &p.files {
            attachments.push(self.attach(f).await?);
        }
        self.community_act(Body::Post(wire::CommunityPost {
            community,
            title: p.title.clone(),
            text: p.text.clone(),
            link: p.link.clone(),
            repost_of: p.repost_of.as_deref().map(unhex).transpose()?.unwrap_or_default(),
            quote_of: p.quote_of.as_deref().map(unhex).transpose()?.unwrap_or_default(),
            attachments,
        }))
        .await
    }

    /// The ids an item is under: (community, post, the item).
    async fn item_ids(&self, item: &str) -> NodeResult<(Vec<u8>, Vec<u8>, Value)> {
        let doc = self.community_read(&format!("/v1/community-items/{}", seg(item)?), &[]).await?;
        let c = unhex(doc["community"].as_str().unwrap_or_default())?;
        let p = unhex(doc["post"].as_str().unwrap_or_default())?;
        Ok((c, p, doc))
    }

    /// Comments on a post or on a comment (`target`, hex id).
    pub async fn community_comment(&self, target: &str, text: &str) -> NodeResult<Value> {
        let (community, post, doc) = self.item_ids(target).await?;
        let parent = if doc["kind"] == "comment" { unhex(target)? } else { Vec::new() };
        self.community_act(Body::Comment(wire::CommunityComment {
            community,
            post,
            parent,
            text: text.into(),
        }))
        .await
    }

    /// Likes a post or comment, or takes the like back.
    pub async fn community_like(&self, target: &str, liked: bool) -> NodeResult<Value> {
        let (community, _, _) = self.item_ids(target).await?;
        self.community_act(Body::Like(wire::CommunityLike {
            community,
            target: unhex(target)?,
            liked,
        }))
        .await
    }

    /// Edits this account's post (title and text) or comment (text).
    pub async fn community_edit(&self, target: &str, title: &str, text: &str) -> NodeResult<Value> {
        let (community, _, _) = self.item_ids(target).await?;
        self.community_act(Body::Edit(wire::CommunityEdit {
            community,
            target: unhex(target)?,
            title: title.into(),
            text: text.into(),
        }))
        .await
    }

    /// Deletes this account's post or comment (a tombstone stays).
    pub async fn community_delete(&self, target: &str) -> NodeResult<Value> {
        let (community, _, _) = self.item_ids(target).await?;
        self.community_act(Body::Delete(wire::CommunityDelete {
            community,
            target: unhex(target)?,
        }))
        .await
    }

    /// Reports a post or comment to the moderators.
    pub async fn community_report(&self, target: &str, reason: &str) -> NodeResult<Value> {
        let (community, _, _) = self.item_ids(target).await?;
        self.community_act(Body::Report(wire::CommunityReport {
            community,
            target: unhex(target)?,
            reason: reason.into(),
        }))
        .await
    }

    /// A moderator's action: `remove` or `dismiss` a post or comment (`on`
    /// is its id), `ban`, `unban`, `admit`, `refuse`, `invite` or
    /// `approve_poster` an account (`on` is a username).
    pub async fn community_moderate(
        &self,
        name: &str,
        action: &str,
        on: &str,
        note: &str,
    ) -> NodeResult<Value> {
        let a = ModAction::from_name(action).ok_or_else(|| {
            NodeError::Invalid(
                "remove, dismiss, ban, unban, admit, refuse, invite or approve_poster".into(),
            )
        })?;
        let community = self.community_id(name).await?;
        let (target, account) = if !a.is_about_account() {
            (unhex(on)?, Vec::new())
        } else {
            (Vec::new(), self.account_key_of(on).await?)
        };
        self.community_act(Body::Moderate(wire::CommunityModerate {
            community,
            action: a.wire() as i32,
            target,
            account,
            note: note.into(),
        }))
        .await
    }
}

/// The communities of a list the relay sent that verify.
fn communities(v: &Value) -> Vec<CommunityView> {
    v["results"].as_array().into_iter().flatten().filter_map(|c| community_view(c).ok()).collect()
}

/// One path segment: names and hex ids only, so nothing else reaches the URL.
fn seg(s: &str) -> NodeResult<&str> {
    if !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        Ok(s)
    } else {
        Err(NodeError::Invalid(format!(
            "{} is not a community name or item id",
            crate::node::views::shown(s)
        )))
    }
}

fn str_of(p: &Value, k: &str) -> String {
    p[k].as_str().unwrap_or_default().to_owned()
}

fn settings_draft(p: &Value) -> CommunitySettingsDraft {
    CommunitySettingsDraft {
        topic: str_of(p, "topic"),
        description: str_of(p, "description"),
        rules: str_of(p, "rules"),
        private: p["private"].as_bool().unwrap_or(false),
        post_policy: str_of(p, "post_policy"),
        moderators: p["moderators"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m.as_str().map(str::to_owned))
            .collect(),
    }
}

crate::control::control_methods!(node, p => {
    "community" => to_value(node.community(s(p, "name")?).await?),
    "community_list" => to_value(node.community_list(p["q"].as_str().unwrap_or(""), p["offset"].as_i64().unwrap_or(0)).await?),
    "community_joined" => to_value(node.community_joined().await?),
    "community_create" => node.community_create(s(p, "name")?, &settings_draft(p)).await,
    "community_settings" => node.community_settings(s(p, "name")?, &settings_draft(p)).await,
    "community_close" => node.community_close(s(p, "name")?, s(p, "how")?).await,
    "community_join" => node.community_join(s(p, "name")?, p["join"].as_bool().unwrap_or(true), p["note"].as_str().unwrap_or("")).await,
    "community_posts" => to_value(node.community_posts(s(p, "name")?, p["sort"].as_str().unwrap_or("new"), p["offset"].as_i64().unwrap_or(0)).await?),
    "community_feed" => to_value(node.community_feed(p["sort"].as_str().unwrap_or("new"), p["offset"].as_i64().unwrap_or(0)).await?),
    "community_search" => to_value(node.community_search(s(p, "name")?, s(p, "q")?).await?),
    "community_thread" => to_value(node.community_thread(s(p, "post")?).await?),
    "community_edits" => to_value(node.community_edits(s(p, "item")?).await?
        .into_iter().map(|(title, text)| json!({"title": title, "text": text})).collect::<Vec<_>>()),
    "community_modlog" => to_value(node.community_modlog(s(p, "name")?).await?),
    "community_reports" => to_value(node.community_reports(s(p, "name")?).await?),
    "community_requests" => node.community_requests(s(p, "name")?).await,
    "community_post" => node.community_post(s(p, "name")?, &PostDraft {
        title: s(p, "title")?.to_owned(),
        text: str_of(p, "text"),
        link: str_of(p, "link"),
        repost_of: p["repost_of"].as_str().map(str::to_owned),
        quote_of: p["quote_of"].as_str().map(str::to_owned),
        files: p["files"].as_array().into_iter().flatten()
            .filter_map(|f| f.as_str().map(std::path::PathBuf::from)).collect(),
    }).await,
    "community_fetch" => {
        let dir = p["dir"].as_str().map(std::path::PathBuf::from);
        let index = p["index"].as_u64().unwrap_or(0) as usize;
        let path = node.community_fetch(s(p, "item")?, index, dir).await?;
        to_value(json!({ "path": path }))
    }
    "community_comment" => node.community_comment(s(p, "on")?, s(p, "text")?).await,
    "community_like" => node.community_like(s(p, "item")?, p["liked"].as_bool().unwrap_or(true)).await,
    "community_edit" => node.community_edit(s(p, "item")?, p["title"].as_str().unwrap_or(""), s(p, "text")?).await,
    "community_delete" => node.community_delete(s(p, "item")?).await,
    "community_report" => node.community_report(s(p, "item")?, s(p, "reason")?).await,
    "community_moderate" => node.community_moderate(s(p, "name")?, s(p, "action")?, s(p, "on")?, p["note"].as_str().unwrap_or("")).await,
});
