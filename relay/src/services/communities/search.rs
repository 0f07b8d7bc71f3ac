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

/// Matches ranked together (SPEC.md §9.10.5): results are the newest
/// window of this many matches best first, then the next older window,
/// and so on, so that a word found in most items costs a bounded amount of
/// work per page and no match is out of reach.
pub const WINDOW: i64 = 250;

/// BM25's term saturation and length normalisation.
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// How often `forms` (one query word's) occur in `tokens`: an exact
/// (folded) occurrence counts 1, an occurrence of only a stem ½ (the
/// folded word carries its stems too, so an exact one counts 1½ in all).
fn frequency(tokens: &[&str], forms: &[String]) -> f64 {
    tokens
        .iter()
        .map(|t| match forms.iter().position(|f| f == t) {
            Some(0) => 1.0,
            Some(_) => 0.5,
            None => 0.0,
        })
        .sum()
}

/// Ranks one window of matches (`(n, index text)`, any order) for query
/// `q`: best first by BM25 without inverse document frequency (every item
/// of a window holds every word, and the same score on both backends),
/// then newest first. Returns the `n`s.
pub fn rank(window: Vec<(i64, String)>, q: &[Vec<String>]) -> Vec<i64> {
    let tokens: Vec<(i64, Vec<&str>)> = window
        .iter()
        .map(|(n, text)| (*n, text.split(' ').filter(|t| !t.is_empty()).collect()))
        .collect();
    let avg =
        tokens.iter().map(|(_, t)| t.len()).sum::<usize>() as f64 / tokens.len().max(1) as f64;
    let mut scored: Vec<(f64, i64)> = tokens
        .iter()
        .map(|(n, t)| {
            let norm = K1 * (1.0 - B + B * t.len() as f64 / avg.max(1.0));
            let score = q
                .iter()
                .map(|forms| {
                    let tf = frequency(t, forms);
                    tf * (K1 + 1.0) / (tf + norm)
                })
                .sum::<f64>();
            (score, *n)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
    scored.into_iter().map(|(_, n)| n).collect()
}

/// What SQLite's index puts before each word form of an item in
/// `community` (migration 0008): the id's last 8 hex digits and `x`, so
/// that a form's list in the index holds that community's items only.
pub fn fts5_key(community: &str) -> String {
    let tail = community.get(community.len().saturating_sub(8)..).unwrap_or(community);
    format!("{tail}x")
}

/// An item's row in SQLite's index: its index `text` with every form
/// prefixed by its community's [`fts5_key`] (as migration 0008 writes it
/// in SQL).
pub fn fts5_body(community: &str, text: &str) -> String {
    let key = fts5_key(community);
    text.split(' ')
        .filter(|f| !f.is_empty())
        .map(|f| format!("{key}{f}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The query in SQLite FTS5 syntax, inside `community`: `("Ka" OR "Kb")
/// AND ("Kc")` with `K` its [`fts5_key`]. Forms and ids hold only letters
/// and digits, so quoting them is enough.
pub fn fts5_query(community: &str, q: &[Vec<String>]) -> String {
    let key = fts5_key(community);
    q.iter()
        .map(|f| {
            let forms: Vec<String> = f.iter().map(|w| format!("\"{key}{w}\"")).collect();
            format!("({})", forms.join(" OR "))
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Items of a community per PostgreSQL search bucket (migration 0007): an
/// item's word forms carry its community's key and its bucket, its
/// number in the community (`seq`) divided by this, so that the index's
/// list for one key holds at most this many items.
pub const PG_BUCKET: i64 = 1024;

/// What PostgreSQL's index puts before each word form of an item in
/// `community`'s `bucket` (migration 0007): the id's last 8 hex digits,
/// the bucket in decimal, and `x`.
pub fn pg_key(community: &str, bucket: i64) -> String {
    let tail = community.get(community.len().saturating_sub(8)..).unwrap_or(community);
    format!("{tail}{bucket}x")
}

/// The query in PostgreSQL `to_tsquery('simple', …)` syntax, inside
/// `community`'s `buckets`: `(Ka | Kb | K'a | K'b) & (Kc | K'c)` with `K`,
/// `K'` the buckets' [`pg_key`]s (an item is in one bucket, so each word
/// is matched within the item's own).
pub fn tsquery(
    community: &str,
    buckets: std::ops::RangeInclusive<i64>,
    q: &[Vec<String>],
) -> String {
    let keys: Vec<String> = buckets.map(|b| pg_key(community, b)).collect();
    q.iter()
        .map(|forms| {
            let terms: Vec<String> =
                keys.iter().flat_map(|k| forms.iter().map(move |w| format!("{k}{w}"))).collect();
            format!("({})", terms.join(" | "))
        })
        .collect::<Vec<_>>()
        .join(" & ")
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
    fn more_and_exact_occurrences_in_shorter_items_rank_first_then_newer() {
        let q = query_forms("arılar");
        let window = vec![
            (1, index_text("arılar bal yapar")),
            (2, index_text("arılar arılar bal")),
            (3, index_text("arıları gördüm bugün")),
            (4, index_text("arılar bal yapar")),
            (5, index_text("arılar bal yapar ve kovanda yaşar ve çiçeklere gider")),
        ];
        // Twice beats once; exact beats another form; a tie goes to the
        // newer; a long item ranks below a short one.
        assert_eq!(rank(window, &q), [2, 4, 1, 5, 3]);
        assert!(rank(Vec::new(), &q).is_empty());
    }

    #[test]
    fn queries_are_quoted_and_bounded() {
        let q = query_forms("a\"b OR c) * NEAR d e f g h i j k");
        assert_eq!(q.len(), MAX_QUERY_WORDS);
        assert!(!fts5_query("00ff", &q).contains("\"\""));
        assert_eq!(
            fts5_query("00ff", &query_forms("arılar bal")),
            "(\"00ffxarilar\" OR \"00ffxari\") AND (\"00ffxbal\")"
        );
        assert_eq!(
            fts5_body("00ff00112233", "arilar ari  bal"),
            "00112233xarilar 00112233xari 00112233xbal"
        );
        assert!(query_forms("\"*() -").is_empty());
        let q = query_forms("arılar bal");
        assert_eq!(
            tsquery("00ff00112233", 7..=7, &q),
            "(001122337xarilar | 001122337xari) & (001122337xbal)"
        );
        assert_eq!(
            tsquery("00ff00112233", 11..=12, &q),
            "(0011223311xarilar | 0011223311xari | 0011223312xarilar | 0011223312xari) \
             & (0011223311xbal | 0011223312xbal)"
        );
    }
}
