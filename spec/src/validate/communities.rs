//! Community actions (SPEC.md §9.10): every write to a relay's communities,
//! signed by its author's account key.

use super::*;

pub(super) const ACTION: &str = <wire::CommunityAction as Bounded>::NAME;

/// What an action does; each kind is signed under its own label
/// (`kovan/v1/community-<name>`, SPEC.md §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommunityKind {
    /// A new community.
    Create,
    /// The owner replaces the settings.
    Settings,
    /// The owner archives, reopens or deletes.
    Close,
    /// A post.
    Post,
    /// A comment.
    Comment,
    /// The author's new version of a post or comment.
    Edit,
    /// The author deletes a post or comment.
    Delete,
    /// A like, or taking one back.
    Like,
    /// A report to the moderators.
    Report,
    /// A moderator's action.
    Moderate,
    /// Joining or leaving.
    Membership,
}

impl CommunityKind {
    /// Every kind, for tests and the spec.
    pub const ALL: [CommunityKind; 11] = [
        CommunityKind::Create,
        CommunityKind::Settings,
        CommunityKind::Close,
        CommunityKind::Post,
        CommunityKind::Comment,
        CommunityKind::Edit,
        CommunityKind::Delete,
        CommunityKind::Like,
        CommunityKind::Report,
        CommunityKind::Moderate,
        CommunityKind::Membership,
    ];

    /// The kind's name, as in its signature label and the relay's API.
    pub fn name(self) -> &'static str {
        match self {
            CommunityKind::Create => "create",
            CommunityKind::Settings => "settings",
            CommunityKind::Close => "close",
            CommunityKind::Post => "post",
            CommunityKind::Comment => "comment",
            CommunityKind::Edit => "edit",
            CommunityKind::Delete => "delete",
            CommunityKind::Like => "like",
            CommunityKind::Report => "report",
            CommunityKind::Moderate => "moderate",
            CommunityKind::Membership => "membership",
        }
    }
}

/// Who may read a community.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Anyone reads; joining is open.
    Public,
    /// Members only; joining by request or invitation.
    Private,
}

/// Who may post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostPolicy {
    /// Every member.
    Members,
    /// Members a moderator approved.
    Approved,
    /// Moderators only.
    Moderators,
}

/// A community's settings, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunitySettings {
    /// The community (None inside a create).
    pub community: Option<MessageId>,
    /// At most 256 bytes.
    pub topic: String,
    /// At most 4,096 bytes.
    pub description: String,
    /// At most 4,096 bytes.
    pub rules: String,
    /// Who reads.
    pub visibility: Visibility,
    /// Who posts.
    pub post_policy: PostPolicy,
    /// Moderators besides the owner (distinct, at most 64).
    pub moderators: Vec<[u8; 32]>,
}

/// How the owner closes a community.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseKind {
    /// Read-only.
    Archive,
    /// Writable again.
    Reopen,
    /// Deleted.
    Delete,
}

impl CloseKind {
    /// Every kind.
    pub const ALL: [CloseKind; 3] = [CloseKind::Archive, CloseKind::Reopen, CloseKind::Delete];

    /// Its name: `archive`, `reopen`, `delete`.
    pub fn name(self) -> &'static str {
        match self {
            CloseKind::Archive => "archive",
            CloseKind::Reopen => "reopen",
            CloseKind::Delete => "delete",
        }
    }

    /// The kind named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Its wire value.
    pub fn wire(self) -> wire::CommunityCloseKind {
        match self {
            CloseKind::Archive => wire::CommunityCloseKind::Archive,
            CloseKind::Reopen => wire::CommunityCloseKind::Reopen,
            CloseKind::Delete => wire::CommunityCloseKind::Delete,
        }
    }
}

/// A moderator's action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModAction {
    /// Removes a post or comment.
    Remove,
    /// Closes a report without removing.
    Dismiss,
    /// Bans an account.
    Ban,
    /// Lifts a ban.
    Unban,
    /// Admits a join request.
    Admit,
    /// Refuses a join request.
    Refuse,
    /// Invites an account.
    Invite,
    /// Lets an account post under the APPROVED policy.
    ApprovePoster,
}

impl ModAction {
    /// Every action.
    pub const ALL: [ModAction; 8] = [
        ModAction::Remove,
        ModAction::Dismiss,
        ModAction::Ban,
        ModAction::Unban,
        ModAction::Admit,
        ModAction::Refuse,
        ModAction::Invite,
        ModAction::ApprovePoster,
    ];

    /// The action named `name` (as [`Self::name`] writes it).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Its wire value.
    pub fn wire(self) -> wire::CommunityModAction {
        use wire::CommunityModAction as W;
        match self {
            ModAction::Remove => W::Remove,
            ModAction::Dismiss => W::Dismiss,
            ModAction::Ban => W::Ban,
            ModAction::Unban => W::Unban,
            ModAction::Admit => W::Admit,
            ModAction::Refuse => W::Refuse,
            ModAction::Invite => W::Invite,
            ModAction::ApprovePoster => W::ApprovePoster,
        }
    }

    /// Whether the action is about an account (else about a post or comment).
    pub fn is_about_account(self) -> bool {
        !matches!(self, ModAction::Remove | ModAction::Dismiss)
    }
    /// The action's name in the relay's API and the moderation log.
    pub fn name(self) -> &'static str {
        match self {
            ModAction::Remove => "remove",
            ModAction::Dismiss => "dismiss",
            ModAction::Ban => "ban",
            ModAction::Unban => "unban",
            ModAction::Admit => "admit",
            ModAction::Refuse => "refuse",
            ModAction::Invite => "invite",
            ModAction::ApprovePoster => "approve_poster",
        }
    }
}

/// A file of a post, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The blob on the relay.
    pub blob_id: MessageId,
    /// 1..=255 bytes, no `/`, `\\` or NUL.
    pub name: String,
    /// At most 127 bytes.
    pub mime: String,
    /// Bytes, at least 1.
    pub size: u64,
    /// SHA-256 of the bytes.
    pub sha256: [u8; 32],
}

fn attachment(a: wire::CommunityAttachment) -> Result<Attachment, DecodeError> {
    if a.name.is_empty()
        || a.name.len() > limits::MAX_FILE_NAME
        || a.name.contains(['/', '\\', '\0'])
        || a.name == "."
        || a.name == ".."
    {
        return Err(bad("an attachment's name is 1..=255 bytes without path separators"));
    }
    if a.mime.len() > limits::MAX_FILE_MIME || a.size == 0 {
        return Err(bad("an attachment has a size and a MIME type of at most 127 bytes"));
    }
    Ok(Attachment {
        blob_id: cid("blob_id", &a.blob_id)?,
        name: a.name,
        mime: a.mime,
        size: a.size,
        sha256: a.sha256.as_slice().try_into().map_err(|_| bad("sha256 must be 32 bytes"))?,
    })
}

/// The body of a community action, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommunityBody {
    /// A new community.
    Create {
        /// 3..=32 of `a-z0-9_-`.
        name: String,
        /// Its first settings.
        settings: CommunitySettings,
    },
    /// New settings (`settings.community` is set).
    Settings(CommunitySettings),
    /// Archive, reopen or delete.
    Close {
        /// The community.
        community: MessageId,
        /// Which.
        kind: CloseKind,
    },
    /// A post.
    Post {
        /// The community.
        community: MessageId,
        /// 1..=300 bytes.
        title: String,
        /// At most 40,000 bytes.
        text: String,
        /// An http(s) link or empty.
        link: String,
        /// The reposted post.
        repost_of: Option<MessageId>,
        /// The quoted post or comment.
        quote_of: Option<MessageId>,
        /// Files (at most 8).
        attachments: Vec<Attachment>,
    },
    /// A comment.
    Comment {
        /// The community.
        community: MessageId,
        /// The post.
        post: MessageId,
        /// The comment answered, if any.
        parent: Option<MessageId>,
        /// 1..=10,000 bytes.
        text: String,
    },
    /// An edit.
    Edit {
        /// The community.
        community: MessageId,
        /// The post or comment.
        target: MessageId,
        /// The new title (posts).
        title: String,
        /// The new text.
        text: String,
    },
    /// A deletion by the author.
    Delete {
        /// The community.
        community: MessageId,
        /// The post or comment.
        target: MessageId,
    },
    /// A like or its withdrawal.
    Like {
        /// The community.
        community: MessageId,
        /// The post or comment.
        target: MessageId,
        /// True likes, false takes back.
        liked: bool,
    },
    /// A report.
    Report {
        /// The community.
        community: MessageId,
        /// The post or comment.
        target: MessageId,
        /// 1..=1,000 bytes.
        reason: String,
    },
    /// A moderator's action.
    Moderate {
        /// The community.
        community: MessageId,
        /// What.
        action: ModAction,
        /// The post or comment (remove, dismiss).
        target: Option<MessageId>,
        /// The account (the others).
        account: Option<[u8; 32]>,
        /// At most 1,000 bytes.
        note: String,
    },
    /// Joining or leaving.
    Membership {
        /// The community.
        community: MessageId,
        /// True joins (or asks to), false leaves.
        join: bool,
        /// At most 500 bytes.
        note: String,
    },
}

impl CommunityBody {
    /// The kind, which names the signature label.
    pub fn kind(&self) -> CommunityKind {
        match self {
            CommunityBody::Create { .. } => CommunityKind::Create,
            CommunityBody::Settings(_) => CommunityKind::Settings,
            CommunityBody::Close { .. } => CommunityKind::Close,
            CommunityBody::Post { .. } => CommunityKind::Post,
            CommunityBody::Comment { .. } => CommunityKind::Comment,
            CommunityBody::Edit { .. } => CommunityKind::Edit,
            CommunityBody::Delete { .. } => CommunityKind::Delete,
            CommunityBody::Like { .. } => CommunityKind::Like,
            CommunityBody::Report { .. } => CommunityKind::Report,
            CommunityBody::Moderate { .. } => CommunityKind::Moderate,
            CommunityBody::Membership { .. } => CommunityKind::Membership,
        }
    }

    /// The accounts the action names: a community's moderators (create,
    /// settings) or the account a moderator acts on.
    pub fn accounts(&self) -> Vec<[u8; 32]> {
        match self {
            CommunityBody::Create { settings, .. } | CommunityBody::Settings(settings) => {
                settings.moderators.clone()
            }
            CommunityBody::Moderate { account: Some(a), .. } => vec![*a],
            _ => Vec::new(),
        }
    }

    /// The community the action is in (None for a create, which makes one).
    pub fn community(&self) -> Option<MessageId> {
        match self {
            CommunityBody::Create { .. } => None,
            CommunityBody::Settings(s) => s.community,
            CommunityBody::Close { community, .. }
            | CommunityBody::Post { community, .. }
            | CommunityBody::Comment { community, .. }
            | CommunityBody::Edit { community, .. }
            | CommunityBody::Delete { community, .. }
            | CommunityBody::Like { community, .. }
            | CommunityBody::Report { community, .. }
            | CommunityBody::Moderate { community, .. }
            | CommunityBody::Membership { community, .. } => Some(*community),
        }
    }
}

/// A community action, decoded and validated (its signature is checked by
/// `kovan_crypto::community`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedCommunityAction {
    /// The author's account key.
    pub author: [u8; 32],
    /// Unix ms.
    pub created_ms: u64,
    /// What it does.
    pub body: CommunityBody,
}

/// Whether `s` is a community name: 3..=32 of `a-z`, `0-9`, `_`, `-`.
pub fn is_community_name(s: &str) -> bool {
    (3..=limits::MAX_COMMUNITY_NAME).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn bad(reason: impl Into<String>) -> DecodeError {
    DecodeError::invalid(ACTION, reason)
}

fn sized(field: &str, s: String, min: usize, max: usize) -> Result<String, DecodeError> {
    if s.len() > max || s.trim().len() < min {
        return Err(bad(format!("{field} must be {min}..={max} bytes")));
    }
    Ok(s)
}

fn cid(field: &str, b: &[u8]) -> Result<MessageId, DecodeError> {
    id(ACTION, field, b)
}

fn opt_id(field: &str, b: &[u8]) -> Result<Option<MessageId>, DecodeError> {
    if b.is_empty() { Ok(None) } else { cid(field, b).map(Some) }
}

fn settings(s: wire::CommunitySettings, in_create: bool) -> Result<CommunitySettings, DecodeError> {
    let community = opt_id("community", &s.community)?;
    if in_create == community.is_some() {
        return Err(bad("community is empty in a create and set in settings"));
    }
    let visibility = match wire::CommunityVisibility::try_from(s.visibility) {
        Ok(wire::CommunityVisibility::Public) => Visibility::Public,
        Ok(wire::CommunityVisibility::Private) => Visibility::Private,
        _ => return Err(bad("unknown visibility")),
    };
    let post_policy = match wire::CommunityPostPolicy::try_from(s.post_policy) {
        Ok(wire::CommunityPostPolicy::Members) => PostPolicy::Members,
        Ok(wire::CommunityPostPolicy::Approved) => PostPolicy::Approved,
        Ok(wire::CommunityPostPolicy::Moderators) => PostPolicy::Moderators,
        _ => return Err(bad("unknown post policy")),
    };
    if s.moderators.len() > limits::MAX_COMMUNITY_MODERATORS {
        return Err(bad("at most 64 moderators"));
    }
    let mut moderators: Vec<[u8; 32]> = Vec::with_capacity(s.moderators.len());
    for m in &s.moderators {
        let m = account(ACTION, "moderators", m)?;
        if moderators.contains(&m) {
            return Err(bad("moderators must be distinct"));
        }
        moderators.push(m);
    }
    Ok(CommunitySettings {
        community,
        topic: sized("topic", s.topic, 0, limits::MAX_COMMUNITY_TOPIC)?,
        description: sized("description", s.description, 0, limits::MAX_COMMUNITY_DESCRIPTION)?,
        rules: sized("rules", s.rules, 0, limits::MAX_COMMUNITY_DESCRIPTION)?,
        visibility,
        post_policy,
        moderators,
    })
}

fn link(s: String) -> Result<String, DecodeError> {
    if s.len() > limits::MAX_COMMUNITY_LINK
        || !(s.is_empty() || s.starts_with("https://") || s.starts_with("http://"))
        || s.chars().any(char::is_whitespace)
    {
        return Err(bad("link must be an http(s) URL of at most 2048 bytes"));
    }
    Ok(s)
}

/// Decodes and validates the `tbs` of a community action.
pub fn validate_community_action(bytes: &[u8]) -> Result<ValidatedCommunityAction, DecodeError> {
    use wire::community_action::Body as B;
    let a: wire::CommunityAction = decode(bytes)?;
    if a.version != 1 {
        return Err(DecodeError::UnsupportedVersion { what: ACTION, version: a.version });
    }
    let author = account(ACTION, "author", &a.author)?;
    if a.nonce.len() != limits::ID_LEN {
        return Err(bad("nonce must be 16 bytes"));
    }
    let body = match a.body.ok_or_else(|| bad("no body"))? {
        B::Create(c) => {
            if !is_community_name(&c.name) {
                return Err(bad("name must be 3..=32 of a-z, 0-9, '_' and '-'"));
            }
            let s = c.settings.ok_or_else(|| bad("a create carries settings"))?;
            CommunityBody::Create { name: c.name, settings: settings(s, true)? }
        }
        B::Settings(s) => CommunityBody::Settings(settings(s, false)?),
        B::Close(c) => CommunityBody::Close {
            community: cid("community", &c.community)?,
            kind: CloseKind::ALL
                .into_iter()
                .find(|k| k.wire() as i32 == c.kind)
                .ok_or_else(|| bad("unknown close kind"))?,
        },
        B::Post(p) => {
            let repost_of = opt_id("repost_of", &p.repost_of)?;
            CommunityBody::Post {
                community: cid("community", &p.community)?,
                title: sized("title", p.title, 1, limits::MAX_COMMUNITY_TITLE)?,
                text: sized("text", p.text, 0, limits::MAX_COMMUNITY_POST)?,
                link: link(p.link)?,
                repost_of,
                quote_of: opt_id("quote_of", &p.quote_of)?,
                attachments: {
                    if p.attachments.len() > limits::MAX_COMMUNITY_ATTACHMENTS {
                        return Err(bad("a post has at most 8 attachments"));
                    }
                    p.attachments.into_iter().map(attachment).collect::<Result<_, _>>()?
                },
            }
        }
        B::Comment(c) => CommunityBody::Comment {
            community: cid("community", &c.community)?,
            post: cid("post", &c.post)?,
            parent: opt_id("parent", &c.parent)?,
            text: sized("text", c.text, 1, limits::MAX_COMMUNITY_COMMENT)?,
        },
        B::Edit(e) => CommunityBody::Edit {
            community: cid("community", &e.community)?,
            target: cid("target", &e.target)?,
            title: sized("title", e.title, 0, limits::MAX_COMMUNITY_TITLE)?,
            text: sized("text", e.text, 0, limits::MAX_COMMUNITY_POST)?,
        },
        B::Delete(d) => CommunityBody::Delete {
            community: cid("community", &d.community)?,
            target: cid("target", &d.target)?,
        },
        B::Like(l) => CommunityBody::Like {
            community: cid("community", &l.community)?,
            target: cid("target", &l.target)?,
            liked: l.liked,
        },
        B::Report(r) => CommunityBody::Report {
            community: cid("community", &r.community)?,
            target: cid("target", &r.target)?,
            reason: sized("reason", r.reason, 1, limits::MAX_COMMUNITY_NOTE)?,
        },
        B::Moderate(m) => {
            let action = ModAction::ALL
                .into_iter()
                .find(|a| a.wire() as i32 == m.action)
                .ok_or_else(|| bad("unknown moderator action"))?;
            let (target, account_key) = if action.is_about_account() {
                if !m.target.is_empty() {
                    return Err(bad("an action about an account names no target"));
                }
                (None, Some(account(ACTION, "account", &m.account)?))
            } else {
                if !m.account.is_empty() {
                    return Err(bad("an action about a post names no account"));
                }
                (Some(cid("target", &m.target)?), None)
            };
            CommunityBody::Moderate {
                community: cid("community", &m.community)?,
                action,
                target,
                account: account_key,
                note: sized("note", m.note, 0, limits::MAX_COMMUNITY_NOTE)?,
            }
        }
        B::Membership(m) => CommunityBody::Membership {
            community: cid("community", &m.community)?,
            join: m.join,
            note: sized("note", m.note, 0, limits::MAX_COMMUNITY_JOIN_NOTE)?,
        },
    };
    if let CommunityBody::Post { text, repost_of: None, attachments, .. } = &body
        && text.trim().is_empty()
        && attachments.is_empty()
    {
        return Err(bad("a post that is not a repost has text or files"));
    }
    Ok(ValidatedCommunityAction { author, created_ms: a.created_ms, body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode;

    fn action(body: wire::community_action::Body) -> wire::CommunityAction {
        wire::CommunityAction {
            version: 1,
            author: vec![7; 32],
            created_ms: 1,
            nonce: vec![1; 16],
            body: Some(body),
        }
    }

    fn post(title: &str, text: &str) -> wire::community_action::Body {
        wire::community_action::Body::Post(wire::CommunityPost {
            community: vec![2; 16],
            title: title.into(),
            text: text.into(),
            ..Default::default()
        })
    }

    #[test]
    fn a_post_round_trips_and_bad_fields_are_refused() {
        let ok = validate_community_action(&encode(&action(post("Arılar", "bal")))).unwrap();
        assert_eq!(ok.body.kind(), CommunityKind::Post);
        assert_eq!(ok.body.community(), Some([2; 16]));
        let long = "x".repeat(limits::MAX_COMMUNITY_TITLE + 1);
        assert!(validate_community_action(&encode(&action(post(&long, "t")))).is_err());
        assert!(validate_community_action(&encode(&action(post("t", "")))).is_err());
        let mut a = action(post("t", "t"));
        a.nonce = vec![1; 3];
        assert!(validate_community_action(&encode(&a)).is_err());
        a.nonce = vec![1; 16];
        a.version = 2;
        assert!(matches!(
            validate_community_action(&encode(&a)),
            Err(DecodeError::UnsupportedVersion { .. })
        ));
    }

    #[test]
    fn names_links_and_moderator_actions_are_checked() {
        assert!(is_community_name("arilar_ve-bal"));
        assert!(!is_community_name("Arılar"));
        assert!(!is_community_name("ab"));
        let mut p = wire::CommunityPost {
            community: vec![2; 16],
            title: "t".into(),
            text: "t".into(),
            link: "javascript:alert(1)".into(),
            ..Default::default()
        };
        let bad_link = action(wire::community_action::Body::Post(p.clone()));
        assert!(validate_community_action(&encode(&bad_link)).is_err());
        p.link = "https://example.org/a".into();
        let good = action(wire::community_action::Body::Post(p));
        assert!(validate_community_action(&encode(&good)).is_ok());
        let ban_with_target =
            action(wire::community_action::Body::Moderate(wire::CommunityModerate {
                community: vec![2; 16],
                action: wire::CommunityModAction::Ban as i32,
                target: vec![3; 16],
                account: vec![4; 32],
                note: String::new(),
            }));
        assert!(validate_community_action(&encode(&ban_with_target)).is_err());
    }

    #[test]
    fn names_and_wire_values_round_trip() {
        for a in ModAction::ALL {
            assert_eq!(ModAction::from_name(a.name()), Some(a));
        }
        for k in CloseKind::ALL {
            assert_eq!(CloseKind::from_name(k.name()), Some(k));
        }
        assert_eq!(ModAction::from_name("promote"), None);
    }

    #[test]
    fn kind_names_are_distinct() {
        let mut n: Vec<_> = CommunityKind::ALL.iter().map(|k| k.name()).collect();
        n.sort();
        n.dedup();
        assert_eq!(n.len(), CommunityKind::ALL.len());
    }
}
