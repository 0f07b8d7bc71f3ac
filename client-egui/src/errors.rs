//! Errors in the window's language and in plain words: never an HTTP
//! status, a relay's code or a Rust type's name.
//!
//! The backend turns what failed into a [`Problem`] on its own thread; the
//! UI thread words it ([`Problem::text`]) in its own language. The node
//! words its refusals in English; `i18n/<lang>/errors.ftl` holds each of
//! them as a `node-…` message whose English is the node's text exactly,
//! with `{ $name }` where the node fills something in. A node text is
//! found by that English and said in the window's language; a text no
//! message matches (an OS error, a library's words) is shown as it came.
//! The tests below scan the node's and the relay's sources so that a new
//! refusal cannot ship untranslated.

use std::fmt::Display;
use std::sync::OnceLock;

use fluent_bundle::{FluentArgs, FluentResource};
use fluent_syntax::ast;
use kovan_node::node::NodeError;
use kovan_node::relay_client::RelayError;

use crate::i18n;

/// Why something failed, before it is put into words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The node's own words (English), translated where the catalogue has
    /// them.
    Node(String),
    /// The relay refused, with its stable code and its English sentence.
    Relay {
        /// The relay's code (`username_taken`).
        code: String,
        /// The relay's sentence, used where the code alone says too little.
        message: String,
    },
    /// The relay could not be reached.
    RelayUnreachable,
    /// No relay is configured.
    NoRelay,
    /// Not logged in to the relay.
    NotLoggedIn,
    /// A friend's device could not be reached (the node's reason).
    PeerUnreachable(String),
    /// The node stopped.
    Stopped,
    /// The passphrase does not open the keystore.
    WrongPassphrase,
    /// No identity in this home.
    NoIdentity,
    /// An identity exists already.
    AlreadyExists,
    /// Stored data is damaged or from a newer kovan.
    Damaged(String),
    /// A file on this computer could not be read or written.
    Disk(String),
    /// The settings file is wrong.
    Config(String),
    /// A bug.
    Internal(String),
    /// Anything else, shown as it is.
    Other(String),
}

impl Problem {
    /// What `e` means for the user (any error the backend meets).
    pub fn of<E: Display + 'static>(e: &E) -> Problem {
        let any: &dyn std::any::Any = e;
        if let Some(e) = any.downcast_ref::<NodeError>() {
            Problem::node(e)
        } else if let Some(e) = any.downcast_ref::<kovan_node::Error>() {
            Problem::local(e)
        } else if let Some(e) = any.downcast_ref::<RelayError>() {
            Problem::relay(e)
        } else {
            Problem::Other(e.to_string())
        }
    }

    fn node(e: &NodeError) -> Problem {
        match e {
            NodeError::Local(e) => Problem::local(e),
            NodeError::Relay(e) => Problem::relay(e),
            NodeError::NoRelay => Problem::NoRelay,
            NodeError::NotLoggedIn => Problem::NotLoggedIn,
            NodeError::NotFound(s) | NodeError::State(s) | NodeError::Invalid(s) => {
                Problem::Node(s.clone())
            }
            NodeError::Unreachable(s) => Problem::PeerUnreachable(s.clone()),
            NodeError::Stopped => Problem::Stopped,
            other => Problem::Other(other.to_string()),
        }
    }

    fn local(e: &kovan_node::Error) -> Problem {
        use kovan_node::Error as E;
        use kovan_node::ErrorKind as K;
        match (e.kind(), e) {
            (_, E::Invalid(s)) => Problem::Node(s.clone()),
            (_, E::Config { reason, .. }) => Problem::Config(reason.clone()),
            (K::WrongPassphrase, _) => Problem::WrongPassphrase,
            (K::NoIdentity, _) => Problem::NoIdentity,
            (K::AlreadyExists, _) => Problem::AlreadyExists,
            (K::StorageCorrupted, _) => Problem::Damaged(e.to_string()),
            (K::Io, _) => Problem::Disk(e.to_string()),
            (K::Internal, _) => Problem::Internal(e.to_string()),
            _ => Problem::Other(e.to_string()),
        }
    }

    fn relay(e: &RelayError) -> Problem {
        match e {
            RelayError::Unreachable(_) => Problem::RelayUnreachable,
            RelayError::Refused { code, message, .. } => {
                Problem::Relay { code: code.clone(), message: message.clone() }
            }
            RelayError::Invalid(s) => Problem::Node(s.clone()),
            other => Problem::Other(other.to_string()),
        }
    }

    /// In words, in this thread's language.
    pub fn text(&self) -> String {
        match self {
            Problem::Node(s) | Problem::Other(s) => node_text(s),
            Problem::Relay { code, message } => relay_text(code, message),
            Problem::RelayUnreachable => tr!("error-relay-unreachable"),
            Problem::NoRelay => tr!("error-no-relay"),
            Problem::NotLoggedIn => tr!("error-not-logged-in"),
            Problem::PeerUnreachable(s) => tr!("error-peer-unreachable", detail = node_text(s)),
            Problem::Stopped => tr!("error-stopped"),
            Problem::WrongPassphrase => tr!("error-wrong-passphrase"),
            Problem::NoIdentity => tr!("error-no-identity"),
            Problem::AlreadyExists => tr!("error-already-exists"),
            Problem::Damaged(s) => tr!("error-damaged", detail = s.clone()),
            Problem::Disk(s) => tr!("error-disk", detail = s.clone()),
            Problem::Config(s) => tr!("error-config", detail = node_text(s)),
            Problem::Internal(s) => tr!("error-internal", detail = s.clone()),
        }
    }
}

/// The relay's refusal `code` in words; its English `message` fills in
/// where the words want it, and stands alone for a code this build does
/// not know.
fn relay_text(code: &str, message: &str) -> String {
    let id = format!("relay-{}", code.replace('_', "-"));
    let mut args = FluentArgs::new();
    args.set("detail", message.to_owned());
    i18n::lookup(&id, Some(&args))
        .unwrap_or_else(|| tr!("error-relay-refused", detail = message.to_owned()))
}

thread_local! {
    /// Node texts already put into words, by language: a failed file's
    /// reason is shown every frame.
    static WORDED: std::cell::RefCell<std::collections::HashMap<(i18n::Lang, String), String>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// The node's English `text` in this thread's language: the `node-…`
/// message whose English it is, with what the node filled in; `text`
/// itself when none is.
pub fn node_text(text: &str) -> String {
    let key = (i18n::current(), text.to_owned());
    if let Some(done) = WORDED.with(|w| w.borrow().get(&key).cloned()) {
        return done;
    }
    let worded = word(text);
    WORDED.with(|w| w.borrow_mut().insert(key, worded.clone()));
    worded
}

fn word(text: &str) -> String {
    let Some((id, found)) = catalogue().iter().find_map(|m| Some((m.id, m.matches(text)?))) else {
        return text.to_owned();
    };
    let mut args = FluentArgs::new();
    for (name, value) in found {
        args.set(name, value.to_owned());
    }
    i18n::lookup(id, Some(&args)).unwrap_or_else(|| text.to_owned())
}

/// A piece of a node message's English.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Var(&'static str),
}

/// A `node-…` message: its id and its English as literal text and holes.
#[derive(Debug)]
struct NodeMessage {
    id: &'static str,
    pieces: Vec<Piece>,
}

impl NodeMessage {
    /// How much of it is literal: the more, the more specific.
    fn literal_len(&self) -> usize {
        self.pieces.iter().map(|p| if let Piece::Text(t) = p { t.len() } else { 0 }).sum()
    }

    /// The values of its holes if `text` is this message, else `None`.
    /// A hole takes text up to the next literal's first occurrence; the
    /// last literal ends the text.
    fn matches<'t>(&self, text: &'t str) -> Option<Vec<(&'static str, &'t str)>> {
        let mut at = 0;
        let mut hole: Option<&'static str> = None;
        let mut found = Vec::new();
        for (i, piece) in self.pieces.iter().enumerate() {
            match piece {
                Piece::Var(name) => hole = Some(name),
                Piece::Text(lit) => {
                    let last = i + 1 == self.pieces.len();
                    let start = match hole.take() {
                        None if last => (text.len() == at + lit.len()).then_some(at)?,
                        None => text[at..].starts_with(lit.as_str()).then_some(at)?,
                        Some(name) => {
                            let start = if last {
                                let s = text.len().checked_sub(lit.len())?;
                                (s >= at && text.is_char_boundary(s)).then_some(s)?
                            } else {
                                at + text[at..].find(lit.as_str())?
                            };
                            found.push((name, &text[at..start]));
                            start
                        }
                    };
                    if !text[start..].starts_with(lit.as_str()) {
                        return None;
                    }
                    at = start + lit.len();
                }
            }
        }
        if let Some(name) = hole {
            found.push((name, &text[at..]));
            at = text.len();
        }
        (at == text.len()).then_some(found)
    }
}

/// The `node-…` messages of the English errors file, most specific first.
fn catalogue() -> &'static [NodeMessage] {
    static CATALOGUE: OnceLock<Vec<NodeMessage>> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let mut out = node_messages(i18n::english("errors"));
        out.sort_by_key(|m| std::cmp::Reverse(m.literal_len()));
        out
    })
}

fn node_messages(source: &'static str) -> Vec<NodeMessage> {
    let resource = match FluentResource::try_new(source.to_owned()) {
        Ok(r) => r,
        Err((r, _)) => r,
    };
    // Leaked once: the ids and names live as long as the program.
    let resource: &'static FluentResource = Box::leak(Box::new(resource));
    let mut out = Vec::new();
    for entry in resource.entries() {
        let ast::Entry::Message(m) = entry else { continue };
        if !m.id.name.starts_with("node-") {
            continue;
        }
        let Some(value) = &m.value else { continue };
        let mut pieces: Vec<Piece> = Vec::new();
        for element in &value.elements {
            let piece = match element {
                ast::PatternElement::TextElement { value } => Piece::Text((*value).to_owned()),
                ast::PatternElement::Placeable { expression } => match expression {
                    ast::Expression::Inline(ast::InlineExpression::VariableReference { id }) => {
                        Piece::Var(id.name)
                    }
                    ast::Expression::Inline(ast::InlineExpression::StringLiteral { value }) => {
                        Piece::Text((*value).to_owned())
                    }
                    _ => continue,
                },
            };
            // Neighbouring literals are one.
            match (pieces.last_mut(), piece) {
                (Some(Piece::Text(t)), Piece::Text(more)) => t.push_str(&more),
                (_, piece) => pieces.push(piece),
            }
        }
        if !matches!(pieces.last(), Some(Piece::Text(_))) {
            pieces.push(Piece::Text(String::new()));
        }
        if !matches!(pieces.first(), Some(Piece::Text(_))) {
            pieces.insert(0, Piece::Text(String::new()));
        }
        out.push(NodeMessage { id: m.id.name, pieces });
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::i18n::Lang;
    use crate::i18n::tests::sources;

    fn workspace() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
    }

    /// The Rust string literal at the start of `s` (after `"`), with its
    /// escapes and line continuations undone.
    fn literal(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('\n') => {
                        let rest: String = chars.clone().collect();
                        let skip = rest.len() - rest.trim_start().len();
                        for _ in 0..rest[..skip].chars().count() {
                            chars.next();
                        }
                    }
                    Some('n') => out.push('\n'),
                    Some(other) => out.push(other),
                    None => break,
                },
                c => out.push(c),
            }
        }
        out
    }

    /// A format string's literal pieces: what a message must match, holes
    /// aside (`{{` and `}}` are braces).
    fn skeleton_of_format(s: &str) -> Vec<String> {
        let mut out = vec![String::new()];
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    out.last_mut().unwrap().push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    out.last_mut().unwrap().push('}');
                }
                '{' => {
                    for c in chars.by_ref() {
                        if c == '}' {
                            break;
                        }
                    }
                    out.push(String::new());
                }
                c => out.last_mut().unwrap().push(c),
            }
        }
        out
    }

    fn skeleton(m: &NodeMessage) -> Vec<String> {
        m.pieces
            .iter()
            .filter_map(|p| if let Piece::Text(t) = p { Some(t.clone()) } else { None })
            .collect()
    }

    /// Every text the node refuses or reports with, as a format string,
    /// with where it is: the literal (or `format!` literal) given to the
    /// node's error constructors.
    fn node_texts() -> BTreeMap<Vec<String>, String> {
        let constructors = [
            "NodeError::State(",
            "NodeError::Invalid(",
            "NodeError::NotFound(",
            "NodeError::Unreachable(",
            "ConversationError::Refused(",
            "RelayError::Invalid(",
            "Error::Invalid(",
            "Event::Error {",
            // Why a file transfer failed (FileView.error).
            "TransferError::Network(",
            "TransferError::Unavailable(",
            "TransferError::Gone(",
            // Why a leave-no-trace chat ended (Event::NoTraceEnded).
            "closed(&input, id, ",
            "no_trace_close(id, Some(",
            "reason.unwrap_or_else(|| ",
        ];
        let mut files = Vec::new();
        sources(&workspace().join("node/src"), &mut files);
        let mut out = BTreeMap::new();
        for (path, text) in &files {
            // The no-trace chat's protocol errors are its end's reasons.
            let notrace = path.ends_with("core/notrace.rs");
            let heads = constructors.iter().chain(notrace.then_some(&"Err("));
            for c in heads {
                for (at, _) in text.match_indices(c) {
                    let mut rest = text[at + c.len()..].trim_start();
                    if c.ends_with('{') {
                        let Some(m) = rest.find("message:") else { continue };
                        rest = rest[m + 8..].trim_start();
                    }
                    if let Some(r) = rest.strip_prefix("format!(") {
                        rest = r.trim_start();
                    }
                    let Some(r) = rest.strip_prefix('"') else { continue };
                    let line = text[..at].lines().count();
                    out.insert(skeleton_of_format(&literal(r)), format!("{path}:{line}"));
                }
            }
        }
        out
    }

    #[test]
    fn every_message_the_node_gives_is_in_the_catalogue_and_only_those() {
        let texts = node_texts();
        assert!(texts.len() > 150, "the scan found only {} node texts", texts.len());
        let known: BTreeSet<Vec<String>> = catalogue().iter().map(skeleton).collect();
        assert_eq!(known.len(), catalogue().len(), "two messages with the same English");
        let missing: Vec<_> = texts.iter().filter(|(s, _)| !known.contains(*s)).collect();
        assert!(missing.is_empty(), "not in errors.ftl: {missing:#?}");
        let stale: Vec<_> = catalogue()
            .iter()
            .filter(|m| !texts.contains_key(&skeleton(m)))
            .map(|m| m.id)
            .collect();
        assert!(stale.is_empty(), "the node no longer says: {stale:?}");
    }

    #[test]
    fn every_code_the_relay_refuses_with_has_words() {
        let mut files = Vec::new();
        sources(&workspace().join("relay/src"), &mut files);
        let mut codes = BTreeSet::new();
        let heads = ["bad_request(", "refuse(", "StatusCode::", "code:"];
        for (_, text) in &files {
            for head in heads {
                for (at, _) in text.match_indices(head) {
                    let rest = &text[at + head.len()..];
                    // refuse(403, "code", …) and StatusCode::X, "code": the
                    // code follows the first comma.
                    let rest = match head {
                        "refuse(" | "StatusCode::" => match rest.split_once(',') {
                            Some((before, after)) if !before.contains('"') => after,
                            _ => continue,
                        },
                        _ => rest,
                    };
                    let Some(r) = rest.trim_start().strip_prefix('"') else { continue };
                    let code = r.split('"').next().unwrap_or_default();
                    let is_code = !code.is_empty()
                        && code.chars().all(|c| c.is_ascii_lowercase() || c == '_');
                    if is_code {
                        codes.insert(code.to_owned());
                    }
                }
            }
        }
        assert!(codes.len() > 50, "the scan found only {} codes", codes.len());
        for lang in Lang::ALL {
            let missing: Vec<_> = codes
                .iter()
                .filter(|c| {
                    let id = format!("relay-{}", c.replace('_', "-"));
                    i18n::lookup_in(lang, &id, None).is_none()
                })
                .collect();
            assert!(missing.is_empty(), "no words in {lang:?} for relay codes {missing:?}");
        }
        let english = node_ids(i18n::english("errors"), "relay-");
        let stale: Vec<_> = english
            .iter()
            .filter(|id| !codes.contains(&id["relay-".len()..].replace('-', "_")))
            .collect();
        assert!(stale.is_empty(), "the relay no longer refuses with {stale:?}");
    }

    fn node_ids(source: &'static str, prefix: &str) -> Vec<String> {
        let r = FluentResource::try_new(source.to_owned()).unwrap();
        r.entries()
            .filter_map(|e| match e {
                ast::Entry::Message(m) if m.id.name.starts_with(prefix) => {
                    Some(m.id.name.to_owned())
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_node_text_is_found_by_its_english_and_said_in_turkish() {
        i18n::set(Lang::Tr);
        assert_eq!(node_text("no user bob on the relay"), "rölede bob diye bir kullanıcı yok");
        assert_eq!(
            node_text("at most 8 leave-no-trace chats at once, 2 with one friend; end one first"),
            "aynı anda en çok 8 iz bırakmayan sohbet, bir arkadaşla 2 olabilir; önce birini bitirin"
        );
        // The most specific message wins over "{ $arg }: { $e }".
        assert_eq!(node_text("cannot read /tmp/x: No such file"), "/tmp/x okunamadı: No such file");
        // Unknown words stay as they came.
        assert_eq!(node_text("something new"), "something new");
        i18n::set(Lang::En);
        assert_eq!(node_text("no user bob on the relay"), "no user bob on the relay");
    }

    #[test]
    fn the_relay_is_worded_by_its_code_without_status_or_code() {
        let refused = RelayError::Refused {
            status: 409,
            code: "username_taken".into(),
            message: "that username is taken".into(),
        };
        let p = Problem::of(&NodeError::Relay(refused));
        i18n::set(Lang::En);
        assert_eq!(p.text(), "That username is taken.");
        i18n::set(Lang::Tr);
        assert_eq!(p.text(), "Bu kullanıcı adı alınmış.");
        // A code this build does not know: the relay's sentence, no code.
        let new = Problem::Relay { code: "brand_new".into(), message: "not today".into() };
        assert_eq!(new.text(), "Röle reddetti: not today");
        i18n::set(Lang::En);
        assert!(!new.text().contains("brand_new"));
    }

    #[test]
    fn the_kinds_of_local_failure_have_their_own_words() {
        i18n::set(Lang::En);
        let stopped = Problem::of(&NodeError::Stopped);
        assert_eq!(stopped, Problem::Stopped);
        assert_eq!(Problem::of(&NodeError::NoRelay).text(), tr!("error-no-relay"));
        let reach = Problem::of(&NodeError::Unreachable("timed out".into()));
        i18n::set(Lang::Tr);
        assert_eq!(reach.text(), "Şu anda ulaşılamıyor (zaman aşımı).");
        i18n::set(Lang::En);
        assert_eq!(Problem::of(&"plain words").text(), "plain words");
    }

    #[test]
    fn holes_take_what_lies_between_the_literals() {
        let m = NodeMessage {
            id: "t",
            pieces: vec![
                Piece::Text("a ".into()),
                Piece::Var("x"),
                Piece::Text(" b ".into()),
                Piece::Var("y"),
                Piece::Text(String::new()),
            ],
        };
        assert_eq!(m.matches("a 1 b 2 b 3"), Some(vec![("x", "1"), ("y", "2 b 3")]));
        assert_eq!(m.matches("a 1 c 2"), None);
        assert_eq!(m.matches("x a 1 b 2"), None);
    }
}
