//! Communities on the relay (SPEC.md §9.10): this device signs every write
//! with the account key and checks everything it reads — a post, comment,
//! edit or removal the relay altered or made up is shown as failed
//! verification, never as content (§9.10.4).

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use kovan_crypto::community::{OpenedAction, open_action};
use kovan_spec::validate::{CommunityBody, ModAction};
use kovan_spec::wire::{self, community_action::Body};
use rand_core::{OsRng, RngCore};
use serde::Serialize;
use serde_json::Value;

use super::Core;
use crate::control::{s, to_value};
use crate::node::{NodeError, NodeHandle, NodeResult};

/// A post or comment as this device checked it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommunityItemView {
    /// Hex id.
    pub id: String,
    /// The post it belongs to (itself for a post).
    pub post: String,
    /// The comment it answers.
    pub parent: Option<String>,
    /// 0 for a post, 1 for a comment on it…
    pub depth: i64,
    /// Tree order within the post (for paging a thread).
    pub path: String,
    /// The author's username, as the relay says (checked, see `verified`).
    pub author: Option<String>,
    /// Whether everything shown verified: the author's signature, the id,
    /// the community, the latest edit and any deletion or removal.
    pub verified: bool,
    /// Why not, when not.
    pub problem: Option<String>,
    /// A post's title (the latest edit's).
    pub title: String,
    /// The text (the latest edit's); empty when gone or unverified.
    pub text: String,
    /// A post's link.
    pub link: String,
    /// A repost's original (hex).
    pub repost_of: Option<String>,
    /// A quoted post or comment (hex).
    pub quote_of: Option<String>,
    /// Edited by its author.
    pub edited: bool,
    /// `deleted` (by its author) or `removed` (by a moderator).
    pub gone: Option<String>,
    /// Likes.
    pub likes: i64,
    /// Whether this account likes it.
    pub liked: bool,
    /// A post's comments.
    pub comments: i64,
    /// Unix ms, the author's clock.
    pub created_ms: u64,
}

/// The keys a reader checks authors and moderators against.
struct Keys {
    /// Username → account key, from this device's contacts (friends).
    contacts: HashMap<String, [u8; 32]>,
    /// The community's moderators (owner included), from its signed
    /// create and settings actions.
    moderators: Vec<[u8; 32]>,
}

fn opened(doc: &Value) -> Option<Result<OpenedAction, String>> {
    if doc.is_null() {
        return None;
    }
    let tbs = B64.decode(doc["tbs"].as_str().unwrap_or_default());
    let sig = B64.decode(doc["signature"].as_str().unwrap_or_default());
    Some(match (tbs, sig) {
        (Ok(t), Ok(s)) => open_action(&t, &s).map_err(|e| e.to_string()),
        _ => Err("not base64".into()),
    })
}

fn hex16(id: &[u8; 16]) -> String {
    hex::encode(id)
}

/// Checks one item as §9.10.4 says.
fn verify_item(doc: &Value, keys: &Keys) -> CommunityItemView {
    let str_of = |k: &str| doc[k].as_str().map(str::to_owned);
    let mut v = CommunityItemView {
        id: str_of("id").unwrap_or_default(),
        post: str_of("post").unwrap_or_default(),
        parent: str_of("parent"),
        depth: doc["depth"].as_i64().unwrap_or(0),
        path: str_of("path").unwrap_or_default(),
        author: str_of("author"),
        verified: false,
        problem: None,
        title: String::new(),
        text: String::new(),
        link: String::new(),
        repost_of: None,
        quote_of: None,
        edited: false,
        gone: None,
        likes: doc["likes"].as_i64().unwrap_or(0),
        liked: doc["liked"].as_bool().unwrap_or(false),
        comments: doc["comments"].as_i64().unwrap_or(0),
        created_ms: 0,
    };
    match check(doc, keys, &mut v) {
        Ok(()) => v.verified = true,
        Err(p) => {
            v.title.clear();
            v.text.clear();
            v.link.clear();
            v.problem = Some(p);
        }
    }
    v
}

fn check(doc: &Value, keys: &Keys, v: &mut CommunityItemView) -> Result<(), String> {
    let community = doc["community"].as_str().unwrap_or_default();
    // Who the relay says wrote it: a friend's key from the contacts, else
    // the relay's directory (what `author_key` carries).
    let claimed: Option<[u8; 32]> = match v.author.as_deref().and_then(|a| keys.contacts.get(a)) {
        Some(k) => Some(*k),
        None => doc["author_key"]
            .as_str()
            .and_then(|k| B64.decode(k).ok())
            .and_then(|k| <[u8; 32]>::try_from(k.as_slice()).ok()),
    };
    let mut author: Option<[u8; 32]> = None;
    if let Some(a) = opened(&doc["action"]) {
        let a = a.map_err(|e| format!("the post's signature: {e}"))?;
        if hex16(&a.id) != v.id {
            return Err("its id is not the hash of what was signed".into());
        }
        if a.action.body.community().map(|c| hex16(&c)).as_deref() != Some(community) {
            return Err("it was signed for another community".into());
        }
        match &a.action.body {
            CommunityBody::Post { title, text, link, repost_of, quote_of, .. } => {
                v.title = title.clone();
                v.text = text.clone();
                v.link = link.clone();
                v.repost_of = repost_of.as_ref().map(hex16);
                v.quote_of = quote_of.as_ref().map(hex16);
                if v.post != v.id {
                    return Err("a post listed under another post".into());
                }
            }
            CommunityBody::Comment { post, parent, text, .. } => {
                v.text = text.clone();
                if hex16(post) != v.post || parent.as_ref().map(hex16) != v.parent {
                    return Err("a comment listed under another post or comment".into());
                }
            }
            _ => return Err("not a post or comment".into()),
        }
        v.created_ms = a.action.created_ms;
        author = Some(a.action.author);
    }
    if let Some(e) = opened(&doc["edit"]) {
        let e = e.map_err(|e| format!("the edit's signature: {e}"))?;
        match &e.action.body {
            CommunityBody::Edit { target, title, text, .. }
                if hex16(target) == v.id && Some(e.action.author) == author =>
            {
                if !title.is_empty() {
                    v.title = title.clone();
                }
                v.text = text.clone();
                v.edited = true;
            }
            _ => return Err("an edit not by the author or not of this item".into()),
        }
    }
    if let Some(g) = opened(&doc["gone"]) {
        let g = g.map_err(|e| format!("the deletion's signature: {e}"))?;
        let by = g.action.author;
        v.gone = Some(match &g.action.body {
            CommunityBody::Delete { target, .. } if hex16(target) == v.id => {
                // The content is gone, so the author is the relay's word
                // and the deletion's signer.
                if claimed.is_some_and(|c| c != by) {
                    return Err("deleted by someone else than its author".into());
                }
                "deleted".into()
            }
            CommunityBody::Moderate { action: ModAction::Remove, target: Some(t), .. }
                if hex16(t) == v.id =>
            {
                if !keys.moderators.contains(&by) {
                    return Err("removed by someone who is not a moderator".into());
                }
                "removed".into()
            }
            _ => return Err("a deletion of something else".into()),
        });
        return Ok(());
    }
    match (author, claimed) {
        (Some(a), Some(c)) if a == c => Ok(()),
        (Some(_), _) => Err("signed by another account than the one shown as its author".into()),
        (None, _) => Err("neither content nor a deletion".into()),
    }
}

/// The moderators a community's signed create and settings actions name.
fn moderators(doc: &Value) -> NodeResult<Vec<[u8; 32]>> {
    let bad = |why: &str| NodeError::Invalid(format!("the community failed verification: {why}"));
    let create =
        opened(&doc["create"]).ok_or_else(|| bad("no create action"))?.map_err(|e| bad(&e))?;
    let CommunityBody::Create { settings, .. } = &create.action.body else {
        return Err(bad("not a create action"));
    };
    if Some(hex16(&create.id).as_str()) != doc["id"].as_str() {
        return Err(bad("its id is not its create action's"));
    }
    let owner = create.action.author;
    let mut mods = settings.moderators.clone();
    if let Some(s) = opened(&doc["settings"]) {
        let s = s.map_err(|e| bad(&e))?;
        match &s.action.body {
            CommunityBody::Settings(s2)
                if s.action.author == owner && s2.community == Some(create.id) =>
            {
                mods = s2.moderators.clone();
            }
            _ => return Err(bad("settings not by the owner")),
        }
    }
    mods.push(owner);
    Ok(mods)
}

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

    /// A community by name or id, its moderators checked.
    pub async fn community(&self, name: &str) -> NodeResult<Value> {
        let doc = self.community_read(&format!("/v1/communities/{}", seg(name)?), &[]).await?;
        moderators(&doc)?;
        Ok(doc)
    }

    async fn community_id(&self, name: &str) -> NodeResult<Vec<u8>> {
        let doc = self.community(name).await?;
        hex::decode(doc["id"].as_str().unwrap_or_default())
            .map_err(|_| NodeError::Invalid("the relay sent a bad community id".into()))
    }

    async fn checked(
        &self,
        community: &Value,
        items: &Value,
    ) -> NodeResult<Vec<CommunityItemView>> {
        let keys = Keys {
            contacts: self.call(|c| c.friend_keys()).await?,
            moderators: moderators(community)?,
        };
        Ok(items.as_array().into_iter().flatten().map(|i| verify_item(i, &keys)).collect())
    }

    /// A page of a community's posts (`sort`: new, top or active), checked.
    pub async fn community_posts(
        &self,
        name: &str,
        sort: &str,
        offset: i64,
    ) -> NodeResult<Vec<CommunityItemView>> {
        let c = self.community(name).await?;
        let page = self
            .community_read(
                &format!("/v1/communities/{}/posts", seg(name)?),
                &[("sort", sort.to_owned()), ("offset", offset.to_string())],
            )
            .await?;
        self.checked(&c, &page["items"]).await
    }

    /// Searches a community's posts and comments, checked.
    pub async fn community_search(
        &self,
        name: &str,
        query: &str,
    ) -> NodeResult<Vec<CommunityItemView>> {
        let c = self.community(name).await?;
        let page = self
            .community_read(
                &format!("/v1/communities/{}/search", seg(name)?),
                &[("q", query.to_owned())],
            )
            .await?;
        self.checked(&c, &page["items"]).await
    }

    /// A post and its comments in tree order (every page), checked.
    pub async fn community_thread(&self, post: &str) -> NodeResult<Vec<CommunityItemView>> {
        let item = self.community_read(&format!("/v1/community-items/{}", seg(post)?), &[]).await?;
        let c = self.community(item["community"].as_str().unwrap_or_default()).await?;
        let mut all = vec![item];
        let mut after = String::new();
        loop {
            let page = self
                .community_read(
                    &format!("/v1/community-items/{}/comments", seg(post)?),
                    &[("after", after.clone()), ("limit", "100".into())],
                )
                .await?;
            all.extend(page["items"].as_array().into_iter().flatten().cloned());
            match page["next_after"].as_str() {
                Some(a) if all.len() < 100_000 => after = a.to_owned(),
                _ => break,
            }
        }
        self.checked(&c, &Value::Array(all)).await
    }

    /// Creates a community.
    pub async fn community_create(
        &self,
        name: &str,
        topic: &str,
        description: &str,
        private: bool,
    ) -> NodeResult<Value> {
        let settings = wire::CommunitySettings {
            topic: topic.into(),
            description: description.into(),
            visibility: if private { 2 } else { 1 },
            post_policy: wire::CommunityPostPolicy::Members as i32,
            ..Default::default()
        };
        self.community_act(Body::Create(wire::CommunityCreate {
            name: name.into(),
            settings: Some(settings),
        }))
        .await
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

    /// Posts in a community.
    pub async fn community_post(&self, name: &str, title: &str, text: &str) -> NodeResult<Value> {
        let community = self.community_id(name).await?;
        self.community_act(Body::Post(wire::CommunityPost {
            community,
            title: title.into(),
            text: text.into(),
            ..Default::default()
        }))
        .await
    }

    /// Comments on a post or on a comment (`target`, hex id).
    pub async fn community_comment(&self, target: &str, text: &str) -> NodeResult<Value> {
        let item =
            self.community_read(&format!("/v1/community-items/{}", seg(target)?), &[]).await?;
        let h = |k: &str| hex::decode(item[k].as_str().unwrap_or_default()).unwrap_or_default();
        let parent = if item["kind"] == "comment" { h("id") } else { Vec::new() };
        self.community_act(Body::Comment(wire::CommunityComment {
            community: h("community"),
            post: h("post"),
            parent,
            text: text.into(),
        }))
        .await
    }

    /// Likes a post or comment, or takes the like back.
    pub async fn community_like(&self, target: &str, liked: bool) -> NodeResult<Value> {
        let item =
            self.community_read(&format!("/v1/community-items/{}", seg(target)?), &[]).await?;
        let community =
            hex::decode(item["community"].as_str().unwrap_or_default()).unwrap_or_default();
        let target =
            hex::decode(target).map_err(|_| NodeError::Invalid("an item id is hex".into()))?;
        self.community_act(Body::Like(wire::CommunityLike { community, target, liked })).await
    }
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

crate::control::control_methods!(node, p => {
    "community" => node.community(s(p, "name")?).await,
    "community_create" => node.community_create(
        s(p, "name")?,
        p["topic"].as_str().unwrap_or(""),
        p["description"].as_str().unwrap_or(""),
        p["private"].as_bool().unwrap_or(false),
    ).await,
    "community_join" => node.community_join(s(p, "name")?, p["join"].as_bool().unwrap_or(true), p["note"].as_str().unwrap_or("")).await,
    "community_posts" => to_value(node.community_posts(s(p, "name")?, p["sort"].as_str().unwrap_or("new"), p["offset"].as_i64().unwrap_or(0)).await?),
    "community_search" => to_value(node.community_search(s(p, "name")?, s(p, "q")?).await?),
    "community_thread" => to_value(node.community_thread(s(p, "post")?).await?),
    "community_post" => node.community_post(s(p, "name")?, s(p, "title")?, p["text"].as_str().unwrap_or("")).await,
    "community_comment" => node.community_comment(s(p, "on")?, s(p, "text")?).await,
    "community_like" => node.community_like(s(p, "item")?, p["liked"].as_bool().unwrap_or(true)).await,
});
