//! The interface's languages (Fluent): every string a user reads comes
//! from `client-egui/i18n/<lang>/<area>.ftl` through [`tr!`](crate::tr).
//! English and Turkish ship; the system locale picks one unless the user
//! chose in Settings. The choice is per UI thread (the window's, or each
//! UI test's own), so tests in different languages run side by side.
//!
//! A message missing from a language falls back to English, then to its
//! id; the unit tests below fail the build's tests before that can ship.

use std::cell::Cell;
use std::sync::OnceLock;

pub use fluent_bundle::FluentArgs;
use fluent_bundle::FluentResource;
use fluent_bundle::concurrent::FluentBundle;
use unic_langid::LanguageIdentifier;

/// A language of the interface.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Türkçe.
    Tr,
}

impl Lang {
    /// Every language, in the order Settings lists them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Tr];

    /// Its name in itself ("English", "Türkçe").
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Tr => "Türkçe",
        }
    }

    /// The language for a locale tag such as `tr-TR` or `tr_TR.UTF-8`
    /// (English for anything else).
    pub fn for_locale(tag: &str) -> Lang {
        let lang = tag.split(['-', '_', '.', '@']).next().unwrap_or_default();
        if lang.eq_ignore_ascii_case("tr") { Lang::Tr } else { Lang::En }
    }

    /// The system's language (`LC_ALL`, `LC_MESSAGES`, `LANG` on Linux),
    /// read once: the window asks every frame.
    pub fn system() -> Lang {
        static SYSTEM: OnceLock<Lang> = OnceLock::new();
        *SYSTEM.get_or_init(|| {
            sys_locale::get_locale().map(|l| Lang::for_locale(&l)).unwrap_or_default()
        })
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The translation files, by area: (area, English, Turkish).
const FILES: &[(&str, &str, &str)] = &[
    ("shell", include_str!("../i18n/en/shell.ftl"), include_str!("../i18n/tr/shell.ftl")),
    ("chat", include_str!("../i18n/en/chat.ftl"), include_str!("../i18n/tr/chat.ftl")),
    ("call", include_str!("../i18n/en/call.ftl"), include_str!("../i18n/tr/call.ftl")),
    ("people", include_str!("../i18n/en/people.ftl"), include_str!("../i18n/tr/people.ftl")),
    ("settings", include_str!("../i18n/en/settings.ftl"), include_str!("../i18n/tr/settings.ftl")),
    ("groups", include_str!("../i18n/en/groups.ftl"), include_str!("../i18n/tr/groups.ftl")),
    (
        "communities",
        include_str!("../i18n/en/communities.ftl"),
        include_str!("../i18n/tr/communities.ftl"),
    ),
    ("widgets", include_str!("../i18n/en/widgets.ftl"), include_str!("../i18n/tr/widgets.ftl")),
    ("spreads", include_str!("../i18n/en/spreads.ftl"), include_str!("../i18n/tr/spreads.ftl")),
    ("start", include_str!("../i18n/en/start.ftl"), include_str!("../i18n/tr/start.ftl")),
    ("errors", include_str!("../i18n/en/errors.ftl"), include_str!("../i18n/tr/errors.ftl")),
];

/// The English file of `area` (the errors' catalogue is read from it).
pub(crate) fn english(area: &str) -> &'static str {
    FILES.iter().find(|(a, _, _)| *a == area).map_or("", |(_, en, _)| en)
}

type Bundle = FluentBundle<FluentResource>;

fn bundles() -> &'static [Bundle; 2] {
    static BUNDLES: OnceLock<[Bundle; 2]> = OnceLock::new();
    BUNDLES.get_or_init(|| Lang::ALL.map(bundle))
}

fn bundle(lang: Lang) -> Bundle {
    let id: LanguageIdentifier = match lang {
        Lang::En => unic_langid::langid!("en"),
        Lang::Tr => unic_langid::langid!("tr"),
    };
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks around arguments: egui would draw them.
    b.set_use_isolating(false);
    for (area, en, tr) in FILES {
        let source = match lang {
            Lang::En => en,
            Lang::Tr => tr,
        };
        let resource = FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(r, e)| {
            tracing::error!(area, ?lang, errors = e.len(), "translation file does not parse");
            r
        });
        if let Err(e) = b.add_resource(resource) {
            tracing::error!(area, ?lang, errors = e.len(), "translation file repeats an id");
        }
    }
    b
}

thread_local! {
    static CURRENT: Cell<Option<Lang>> = const { Cell::new(None) };
}

/// Shows this thread's interface in `lang` from now on.
pub fn set(lang: Lang) {
    CURRENT.with(|c| c.set(Some(lang)));
}

/// This thread's language (the system's until [`set`]).
pub fn current() -> Lang {
    CURRENT.with(|c| match c.get() {
        Some(l) => l,
        None => {
            let l = Lang::system();
            c.set(Some(l));
            l
        }
    })
}

thread_local! {
    /// Messages without arguments, as formatted once per language: a frame
    /// asks for the same labels again and again.
    static PLAIN: std::cell::RefCell<std::collections::HashMap<(Lang, &'static str), String>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// The message `id` in this thread's language, with `args`.
pub fn text(id: &'static str, args: Option<&FluentArgs<'_>>) -> String {
    let lang = current();
    if args.is_none() {
        return PLAIN.with(|cache| {
            cache
                .borrow_mut()
                .entry((lang, id))
                .or_insert_with(|| formatted(lang, id, None))
                .clone()
        });
    }
    formatted(lang, id, args)
}

/// The message `id`, named at run time, in this thread's language (else
/// English), or `None` when no language has it.
pub(crate) fn lookup(id: &str, args: Option<&FluentArgs<'_>>) -> Option<String> {
    let lang = current();
    format_in(lang, id, args).or_else(|| format_in(Lang::En, id, args))
}

/// The message `id` in `lang` only.
#[cfg(test)]
pub(crate) fn lookup_in(lang: Lang, id: &str, args: Option<&FluentArgs<'_>>) -> Option<String> {
    format_in(lang, id, args)
}

fn formatted(lang: Lang, id: &str, args: Option<&FluentArgs<'_>>) -> String {
    format_in(lang, id, args).or_else(|| format_in(Lang::En, id, args)).unwrap_or_else(|| {
        tracing::warn!(id, "no translation");
        id.to_owned()
    })
}

fn format_in(lang: Lang, id: &str, args: Option<&FluentArgs<'_>>) -> Option<String> {
    let b = &bundles()[lang.index()];
    let pattern = b.get_message(id)?.value()?;
    let mut errors = Vec::new();
    let s = b.format_pattern(pattern, args, &mut errors).into_owned();
    if !errors.is_empty() {
        tracing::warn!(id, ?lang, errors = errors.len(), "translation did not format cleanly");
    }
    Some(s)
}

/// The translated string for a message id, with named arguments:
/// `tr!("shell-tab-chats-unread", n = 3)`.
#[macro_export]
macro_rules! tr {
    ($id:literal) => {
        $crate::i18n::text($id, None)
    };
    ($id:literal, $($name:ident = $value:expr),+ $(,)?) => {{
        let mut args = $crate::i18n::FluentArgs::new();
        $(args.set(stringify!($name), $value);)+
        $crate::i18n::text($id, Some(&args))
    }};
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    fn ids(lang: Lang) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (area, en, tr) in FILES {
            let source = if lang == Lang::En { en } else { tr };
            let r = FluentResource::try_new((*source).to_owned())
                .unwrap_or_else(|(_, e)| panic!("{area} ({lang:?}) does not parse: {e:?}"));
            for entry in r.entries() {
                if let fluent_syntax::ast::Entry::Message(m) = entry {
                    assert!(out.insert(m.id.name.to_owned()), "{} twice in {lang:?}", m.id.name);
                }
            }
        }
        out
    }

    /// Every `.rs` file under `dir`: (path, text).
    pub(crate) fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                sources(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push((p.display().to_string(), std::fs::read_to_string(&p).unwrap()));
            }
        }
    }

    /// Every `tr!("id"…)` in the sources (the id may be on the next
    /// line), with the file it is in.
    fn used() -> Vec<(String, String)> {
        let mut files = Vec::new();
        sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
        let mut out = Vec::new();
        for (path, text) in files {
            for (at, _) in text.match_indices("tr!(") {
                // Not include_str!( and the like.
                let word = text[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric());
                let Some(rest) = text[at + 4..].trim_start().strip_prefix('"') else { continue };
                let id = rest.split('"').next().unwrap_or_default();
                let looks_like_id = id.contains('-')
                    && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                if !word && looks_like_id {
                    out.push((path.clone(), id.to_owned()));
                }
            }
        }
        out
    }

    #[test]
    fn english_and_turkish_have_the_same_messages() {
        let (en, tr) = (ids(Lang::En), ids(Lang::Tr));
        let only_en: Vec<_> = en.difference(&tr).collect();
        let only_tr: Vec<_> = tr.difference(&en).collect();
        assert!(only_en.is_empty(), "missing in Turkish: {only_en:?}");
        assert!(only_tr.is_empty(), "missing in English: {only_tr:?}");
    }

    #[test]
    fn every_string_the_code_asks_for_is_translated() {
        let used = used();
        assert!(used.len() > 100, "the scan found only {} uses of tr!", used.len());
        let (en, tr) = (ids(Lang::En), ids(Lang::Tr));
        let missing: Vec<_> =
            used.iter().filter(|(_, id)| !en.contains(id) || !tr.contains(id)).collect();
        assert!(missing.is_empty(), "not in the translation files: {missing:?}");
        // The errors' catalogue is looked up by the node's English and the
        // relay's codes, and checked against their sources (errors.rs).
        let by_name = |id: &&String| id.starts_with("node-") || id.starts_with("relay-");
        let unused: Vec<_> =
            en.iter().filter(|id| !by_name(id) && !used.iter().any(|(_, u)| u == *id)).collect();
        assert!(unused.is_empty(), "translated but never used: {unused:?}");
    }

    /// A widget given an English literal would stay English in Turkish.
    #[test]
    fn no_widget_is_given_an_untranslated_literal() {
        let mut files = Vec::new();
        sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
        let calls = [
            "label(\"",
            "button(\"",
            "heading(\"",
            "strong(\"",
            "weak(\"",
            "hint_text(\"",
            "on_hover_text(\"",
            "selectable_label(",
            "checkbox(",
            "small_weak(",
        ];
        let mut found = Vec::new();
        for (path, text) in files.iter().filter(|(p, _)| !p.contains("/bin/")) {
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                for c in calls {
                    if let Some(at) = line.find(c) {
                        let rest = &line[at + c.len()..];
                        let literal = if c.ends_with('"') {
                            rest.chars().next().is_some_and(char::is_alphabetic)
                        } else {
                            // checkbox(&mut x, "…"), selectable_label(on, "…")
                            rest.split_once(", \"").is_some_and(|(_, s)| {
                                s.chars().next().is_some_and(char::is_alphabetic)
                            })
                        };
                        if literal {
                            found.push(format!("{path}:{}: {}", n + 1, line.trim()));
                        }
                    }
                }
                if let Some(at) = line.find("format!(\"") {
                    let rest = &line[at + 9..];
                    if rest.chars().next().is_some_and(char::is_uppercase) {
                        found.push(format!("{path}:{}: {}", n + 1, line.trim()));
                    }
                }
            }
        }
        assert!(found.is_empty(), "untranslated strings:\n{}", found.join("\n"));
    }

    #[test]
    fn arguments_are_filled_in_and_turkish_differs_from_english() {
        set(Lang::En);
        let en = crate::tr!("shell-tab-chats-unread", n = 3);
        set(Lang::Tr);
        let tr = crate::tr!("shell-tab-chats-unread", n = 3);
        set(Lang::En);
        assert!(en.contains('3') && tr.contains('3'), "{en} / {tr}");
        assert_ne!(en, tr);
    }

    #[test]
    fn locale_tags_pick_the_language() {
        assert_eq!(Lang::for_locale("tr-TR"), Lang::Tr);
        assert_eq!(Lang::for_locale("tr_TR.UTF-8"), Lang::Tr);
        assert_eq!(Lang::for_locale("en-GB"), Lang::En);
        assert_eq!(Lang::for_locale("de"), Lang::En);
        assert_eq!(Lang::for_locale(""), Lang::En);
    }
}
