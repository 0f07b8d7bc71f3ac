//! Search text for communities (SPEC.md §9.10.5): the same folding on both
//! backends, so that "Arılar" is found by "arilar" and by "arıları".
//!
//! Every word is lower-cased with Turkish rules (İ → i, I → ı), then kept
//! in up to three forms: folded (diacritics and dotless ı removed), and the
//! folded Turkish and English Snowball stems. A post's index text is every
//! form of every word; a query matches when each of its words matches one
//! of its forms. SQLite FTS5 and PostgreSQL's `simple` configuration then
//! only split on spaces.

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::UnicodeNormalization;

/// Words of a query used; more are ignored.
pub const MAX_QUERY_WORDS: usize = 8;
/// Longest word indexed, in bytes; longer ones are cut.
const MAX_WORD: usize = 64;

fn lower(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        match c {
            'I' => out.push('ı'),
            'İ' => out.push('i'),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Removes diacritics and the dot-less i; keeps only letters and digits.
pub fn fold(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.nfd() {
        match c {
            'ı' => out.push('i'),
            c if c.is_alphanumeric() => out.push(c),
            _ => {}
        }
    }
    out
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty())
}

/// The forms of one word: folded, folded Turkish stem, folded English stem
/// (distinct, none empty).
pub fn forms(word: &str) -> Vec<String> {
    let mut w = lower(word);
    if w.len() > MAX_WORD {
        let mut end = MAX_WORD;
        while !w.is_char_boundary(end) {
            end -= 1;
        }
        w.truncate(end);
    }
    let mut out = vec![fold(&w)];
    for alg in [Algorithm::Turkish, Algorithm::English] {
        let stem = fold(&Stemmer::create(alg).stem(&w));
        if !stem.is_empty() && !out.contains(&stem) {
            out.push(stem);
        }
    }
    out.retain(|f| !f.is_empty());
    out
}

/// The index text of `text`: every form of every word, space-separated.
pub fn index_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for w in words(text) {
        for f in forms(w) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&f);
        }
    }
    out
}

/// A query: for each word (at most [`MAX_QUERY_WORDS`]), its forms. Empty
/// when nothing searchable is left.
pub fn query_forms(q: &str) -> Vec<Vec<String>> {
    words(q).take(MAX_QUERY_WORDS).map(forms).filter(|f| !f.is_empty()).collect()
}

/// Matches searched for in one community: at most this many of the
/// newest are ranked (SPEC.md §9.10.5).
pub const RANKED: i64 = 1000;

/// The token that puts an item's index text in its community (SQLite).
pub fn community_token(community: &str) -> String {
    format!("kc{community}")
}

/// The query in SQLite FTS5 syntax, inside `community`: `"kc…" AND ("a"
/// OR "b") AND ("c")`. Forms and ids hold only letters and digits, so
/// quoting them is enough.
pub fn fts5_query(community: &str, q: &[Vec<String>]) -> String {
    let mut parts = vec![format!("\"{}\"", community_token(community))];
    parts.extend(q.iter().map(|f| {
        format!("({})", f.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(" OR "))
    }));
    parts.join(" AND ")
}

/// The query in PostgreSQL `to_tsquery('simple', …)` syntax: `(a | b) & (c)`.
pub fn tsquery(q: &[Vec<String>]) -> String {
    q.iter().map(|f| format!("({})", f.join(" | "))).collect::<Vec<_>>().join(" & ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(text: &str, q: &str) -> bool {
        let idx: Vec<String> = index_text(text).split(' ').map(str::to_owned).collect();
        query_forms(q).iter().all(|f| f.iter().any(|w| idx.contains(w)))
    }

    #[test]
    fn turkish_words_are_found_without_diacritics_and_in_other_forms() {
        assert!(matches("Arılar bal yapar", "arilar"));
        assert!(matches("Arılar bal yapar", "arıları"));
        assert!(matches("Arılar bal yapar", "ARILAR"));
        assert!(matches("İstanbul'da güneş", "istanbul gunes"));
        assert!(matches("The bees were flying", "bee fly"));
        assert!(!matches("Arılar bal yapar", "kovan"));
    }

    #[test]
    fn queries_are_quoted_and_bounded() {
        let q = query_forms("a\"b OR c) * NEAR d e f g h i j k");
        assert_eq!(q.len(), MAX_QUERY_WORDS);
        assert!(!fts5_query("00ff", &q).contains("\"\""));
        assert!(fts5_query("00ff", &q).starts_with("\"kc00ff\" AND ("));
        assert!(query_forms("\"*() -").is_empty());
    }
}
