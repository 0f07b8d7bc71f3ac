//! What a reader checks (SPEC.md §9.10.4): a post or comment is shown as
//! genuine only if everything about it verifies; otherwise it is shown as
//! failed verification, with why, and none of its content.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use kovan_crypto::community::{OpenedAction, open_action};
use kovan_spec::validate::{CommunityBody, ModAction};
use serde::Serialize;
use serde_json::Value;

use crate::node::{NodeError, NodeResult};

/// A post or comment as this device checked it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
    /// A post's files (fetch one with `community_fetch`).
    pub attachments: Vec<AttachmentView>,
    /// The community's name, for items listed across communities (the
    /// feed).
    pub community: Option<String>,
}

/// A file of a post, as its author signed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentView {
    /// Its name.
    pub name: String,
    /// Its MIME type.
    pub mime: String,
    /// Bytes.
    pub size: u64,
    /// The blob on the relay (hex).
    pub blob: String,
    /// SHA-256 of the bytes (hex).
    pub sha256: String,
}

/// The keys a reader checks authors and moderators against.
pub(super) struct Keys {
    /// Username → account key, from this device's contacts (friends).
    pub(super) contacts: HashMap<String, [u8; 32]>,
    /// The community's moderators (owner included), from its signed
    /// create and settings actions.
    pub(super) moderators: Vec<[u8; 32]>,
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
pub(super) fn verify_item(doc: &Value, keys: &Keys) -> CommunityItemView {
    let str_of = |k: &str| doc[k].as_str().map(str::to_owned);
    let mut v = CommunityItemView {
        id: str_of("id").unwrap_or_default(),
        post: str_of("post").unwrap_or_default(),
        parent: str_of("parent"),
        depth: doc["depth"].as_i64().unwrap_or(0),
        path: str_of("path").unwrap_or_default(),
        author: str_of("author"),
        likes: doc["likes"].as_i64().unwrap_or(0),
        liked: doc["liked"].as_bool().unwrap_or(false),
        comments: doc["comments"].as_i64().unwrap_or(0),
        ..CommunityItemView::default()
    };
    match check(doc, keys, &mut v) {
        Ok(()) => v.verified = true,
        Err(p) => {
            v.title.clear();
            v.text.clear();
            v.link.clear();
            v.attachments.clear();
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
            CommunityBody::Post { title, text, link, repost_of, quote_of, attachments, .. } => {
                v.attachments = attachments
                    .iter()
                    .map(|a| AttachmentView {
                        name: a.name.clone(),
                        mime: a.mime.clone(),
                        size: a.size,
                        blob: hex::encode(a.blob_id),
                        sha256: hex::encode(a.sha256),
                    })
                    .collect();
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
        v.attachments.clear();
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
pub(super) fn moderators(doc: &Value) -> NodeResult<Vec<[u8; 32]>> {
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

/// A community as this device checked it: its name and settings come from
/// the owner's signed create and settings actions, the counts from the
/// relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommunityView {
    /// Hex id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// The owner's username, as the relay says.
    pub owner: Option<String>,
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
    /// Read-only.
    pub archived: bool,
    /// Members.
    pub members: i64,
    /// Posts made.
    pub posts: i64,
    /// This account's standing: `member`, `pending`, `invited`, `banned`.
    pub my_state: Option<String>,
    /// Whether this account moderates it.
    pub moderator: bool,
    /// Posts this account has not seen (joined list).
    pub unread: Option<i64>,
    /// The moderators named in the owner's signed settings (the owner
    /// aside): usernames as the relay knows them, else hex account keys.
    pub moderators: Vec<String>,
}

/// The username the relay gives for a signed account key (`names` maps
/// base64 keys to usernames), else the key in hex.
fn name_of(names: &Value, key: &[u8; 32]) -> String {
    use base64::Engine;
    let b = base64::engine::general_purpose::STANDARD.encode(key);
    names[b.as_str()].as_str().map_or_else(|| hex::encode(key), str::to_owned)
}

/// Checks a community document (its create action's id and signature, the
/// settings' signature by the owner) and reads its settings from them.
pub(super) fn community_view(doc: &Value) -> NodeResult<CommunityView> {
    let bad = |why: &str| NodeError::Invalid(format!("the community failed verification: {why}"));
    moderators(doc)?;
    let create =
        opened(&doc["create"]).ok_or_else(|| bad("no create action"))?.map_err(|e| bad(&e))?;
    let CommunityBody::Create { name, settings } = create.action.body else {
        return Err(bad("not a create action"));
    };
    let settings = match opened(&doc["settings"]) {
        Some(Ok(OpenedAction { action, .. })) => match action.body {
            CommunityBody::Settings(s) => s,
            _ => settings,
        },
        _ => settings,
    };
    let policy = match settings.post_policy {
        kovan_spec::validate::PostPolicy::Members => "members",
        kovan_spec::validate::PostPolicy::Approved => "approved",
        kovan_spec::validate::PostPolicy::Moderators => "moderators",
    };
    Ok(CommunityView {
        id: hex16(&create.id),
        name,
        owner: doc["owner"].as_str().map(str::to_owned),
        topic: settings.topic,
        description: settings.description,
        rules: settings.rules,
        private: settings.visibility == kovan_spec::validate::Visibility::Private,
        post_policy: policy.into(),
        archived: doc["archive"].is_object(),
        members: doc["members"].as_i64().unwrap_or(0),
        posts: doc["posts"].as_i64().unwrap_or(0),
        my_state: doc["my_state"].as_str().map(str::to_owned),
        moderator: doc["moderator"].as_bool().unwrap_or(false),
        unread: doc["unread"].as_i64(),
        moderators: settings
            .moderators
            .iter()
            .filter(|k| **k != create.action.author)
            .map(|k| name_of(&doc["names"], k))
            .collect(),
    })
}

/// A moderator's action or a report, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModEntryView {
    /// Who made it, as the relay says.
    pub by: Option<String>,
    /// `remove`, `ban`… or `report`.
    pub action: String,
    /// The post or comment it is about (hex).
    pub item: Option<String>,
    /// The account it is about (hex account key).
    pub account: Option<String>,
    /// That account's username as the relay knows it, else its hex key.
    pub account_name: Option<String>,
    /// The moderator's note or the report's reason.
    pub note: String,
    /// Signed as shown, by a moderator (for moderator actions).
    pub verified: bool,
    /// Unix ms, the author's clock.
    pub created_ms: u64,
}

/// Checks the entries of a moderation log or report queue (`page`: the
/// relay's `{entries, names}`).
pub(super) fn entry_views(page: &Value, moderators: &[[u8; 32]]) -> Vec<ModEntryView> {
    let names = &page["names"];
    page["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| entry_view(e, moderators, names))
        .collect()
}

/// Checks an entry of the moderation log or the report queue (`names`:
/// the relay's usernames of the accounts entries act on).
fn entry_view(doc: &Value, moderators: &[[u8; 32]], names: &Value) -> ModEntryView {
    let mut v = ModEntryView {
        by: doc["by"].as_str().map(str::to_owned),
        action: String::new(),
        item: doc["item"].as_str().map(str::to_owned),
        account: None,
        account_name: None,
        note: String::new(),
        verified: false,
        created_ms: 0,
    };
    if let Some(Ok(a)) = opened(&doc["action"]) {
        v.created_ms = a.action.created_ms;
        match a.action.body {
            CommunityBody::Moderate { action, target, account, note, .. } => {
                v.action = action.name().into();
                v.item = target.as_ref().map(hex16);
                v.account = account.map(hex::encode);
                v.account_name = account.map(|k| name_of(names, &k));
                v.note = note;
                v.verified = moderators.contains(&a.action.author);
            }
            CommunityBody::Report { target, reason, .. } => {
                v.action = "report".into();
                v.item = Some(hex16(&target));
                v.note = reason;
                v.verified = true;
            }
            _ => {}
        }
    }
    v
}

/// The author of an item's signed action (None once it is gone or when it
/// does not verify).
pub(super) fn item_author(doc: &Value) -> Option<[u8; 32]> {
    Some(opened(&doc["action"])?.ok()?.action.author)
}

/// The title and text of each edit of `item` signed by `author`, oldest
/// first.
pub(super) fn edit_texts(edits: &Value, item: &str, author: [u8; 32]) -> Vec<(String, String)> {
    edits
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| opened(e)?.ok())
        .filter(|e| e.action.author == author)
        .filter_map(|e| match e.action.body {
            CommunityBody::Edit { target, title, text, .. } if hex16(&target) == item => {
                Some((title, text))
            }
            _ => None,
        })
        .collect()
}
