//! Emoji (M3): `:shortcode:` expansion and emoji-only detection, from the
//! Unicode emoji table with GitHub's shortcodes (the `emojis` crate, which
//! tracks each Unicode release).

/// Longest emoji sequence in bytes (family and flag sequences are ≈ 35).
const MAX_EMOJI_BYTES: usize = 64;
/// Longest shortcode looked up (`:woman_in_motorized_wheelchair_facing_right:`).
const MAX_SHORTCODE: usize = 64;

/// Replaces every `:shortcode:` that names an emoji with the emoji; other
/// text between colons (times like `12:30:00`, unknown codes) is kept.
pub fn expand_shortcodes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(':') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let code_end = after
            .char_indices()
            .take_while(|(i, c)| {
                *i <= MAX_SHORTCODE && (c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-'))
            })
            .last()
            .map(|(i, c)| i + c.len_utf8());
        match code_end {
            Some(end) if after[end..].starts_with(':') => {
                if let Some(e) = emojis::get_by_shortcode(&after[..end]) {
                    out.push_str(e.as_str());
                    rest = &after[end + 1..];
                    continue;
                }
                out.push(':');
                rest = after;
            }
            _ => {
                out.push(':');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether `s` is exactly one emoji that Unicode's emoji data lists
/// (fully qualified, minimally qualified or unqualified; skin tones and
/// ZWJ sequences included): what a reaction must be (SPEC.md §6.2).
pub fn is_one_emoji(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_EMOJI_BYTES && emojis::get(s).is_some()
}

/// Whether `text` is nothing but emoji (and spaces), at most `max` of them:
/// a UI shows such messages large.
pub fn is_emoji_only(text: &str, max: usize) -> bool {
    let mut rest = text.trim_start();
    let mut count = 0;
    while !rest.is_empty() {
        let mut found = None;
        let limit = rest.len().min(MAX_EMOJI_BYTES);
        for end in (1..=limit).rev() {
            if rest.is_char_boundary(end) && emojis::get(&rest[..end]).is_some() {
                found = Some(end);
                break;
            }
        }
        let Some(end) = found else { return false };
        count += 1;
        if count > max {
            return false;
        }
        rest = rest[end..].trim_start();
    }
    count > 0
}

/// Shortcodes starting with `prefix`, for completion (at most `limit`).
pub fn complete(prefix: &str, limit: usize) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    for e in emojis::iter() {
        for code in e.shortcodes() {
            if code.starts_with(prefix) {
                out.push((code, e.as_str()));
                if out.len() >= limit {
                    return out;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcodes_expand_and_other_colons_stay() {
        assert_eq!(expand_shortcodes("hi :wave: :tada:!"), "hi 👋 🎉!");
        assert_eq!(expand_shortcodes("at 12:30:00"), "at 12:30:00");
        assert_eq!(expand_shortcodes(":not_an_emoji_code: ok"), ":not_an_emoji_code: ok");
        assert_eq!(expand_shortcodes("::smile:"), ":😄");
        assert_eq!(expand_shortcodes(":+1: done"), "👍 done");
        assert_eq!(expand_shortcodes("ends with :"), "ends with :");
        assert_eq!(expand_shortcodes("türkçe :heart: çok"), "türkçe ❤️ çok");
    }

    #[test]
    fn emoji_only_messages_are_detected() {
        assert!(is_emoji_only("👍", 3));
        assert!(is_emoji_only(" 🎉 🎉 ", 3));
        assert!(is_emoji_only("👨‍👩‍👧‍👦", 3), "a family sequence is one emoji");
        assert!(is_emoji_only("🇹🇷", 3), "a flag is one emoji");
        assert!(!is_emoji_only("👍 ok", 3));
        assert!(!is_emoji_only("", 3));
        assert!(!is_emoji_only("😀😀😀😀", 3));
    }

    #[test]
    fn completion_finds_codes() {
        let c = complete("thumbs", 10);
        assert!(c.iter().any(|(code, e)| *code == "thumbsup" && *e == "👍"), "{c:?}");
    }
}
