//! Search inside one conversation (the desktop's Ctrl+F, `kovan chat
//! search`): the history is read newest first in pages, each message
//! opened as it is shown (bodies are sealed at rest, so the database
//! cannot be asked), and matched on its text, a file's name and caption,
//! a poll's question and options, or a place's label. Case and Turkish
//! dotted/dotless i are ignored. A locked sealed chat cannot be searched.

use super::Core;
use crate::control::{s, to_value};
use crate::node::views::MessageView;
use crate::node::{NodeError, NodeHandle, NodeResult};

/// The most hits one search returns.
pub const MAX_HITS: usize = 200;
/// How many messages a page read brings.
const PAGE: usize = 500;

/// Folds `s` for matching: lower case, and I, İ, ı and i alike.
pub fn fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .filter(|&c| c != '\u{307}')
        .map(|c| if c == 'ı' { 'i' } else { c })
        .collect()
}

/// Whether the message says `needle` (already folded) anywhere a user
/// would read it.
fn says(m: &MessageView, needle: &str) -> bool {
    let mut fields: Vec<&str> = Vec::new();
    fields.extend(m.text.as_deref());
    if let Some(f) = &m.file {
        fields.push(&f.name);
        fields.push(&f.caption);
    }
    if let Some(p) = &m.poll {
        fields.push(&p.question);
        fields.extend(p.options.iter().map(|o| o.text.as_str()));
    }
    if let Some(l) = &m.location {
        fields.push(&l.label);
    }
    fields.iter().any(|f| fold(f).contains(needle))
}

impl Core {
    pub(super) fn search_chat(
        &self,
        who: &str,
        query: &str,
        limit: usize,
    ) -> NodeResult<Vec<MessageView>> {
        let needle = fold(query.trim());
        if needle.is_empty() {
            return Err(NodeError::Invalid("type something to search for".into()));
        }
        if let Some(id) = self.no_trace_id(who) {
            let all = self.no_trace_history(&id, usize::MAX);
            return Ok(all.into_iter().filter(|m| says(m, &needle)).take(limit).collect());
        }
        let (conv, _) = self.find_conversation(who)?;
        self.readable(&conv)?;
        let history = self.history();
        let mut hits = Vec::new();
        let mut before = None;
        loop {
            let page = history.page(&conv, before, PAGE)?;
            let Some(last) = page.last() else { break };
            before = Some(last.seq);
            for m in &page {
                let view = self.view_of(&conv, m)?;
                if says(&view, &needle) {
                    hits.push(view);
                    if hits.len() >= limit {
                        return Ok(hits);
                    }
                }
            }
        }
        Ok(hits)
    }
}

impl NodeHandle {
    /// Messages of a conversation that say `query`, newest first (at most
    /// `limit`, capped at [`MAX_HITS`]).
    pub async fn search_chat(
        &self,
        conversation: &str,
        query: &str,
        limit: usize,
    ) -> NodeResult<Vec<MessageView>> {
        let (conversation, query) = (conversation.to_owned(), query.to_owned());
        let limit = limit.clamp(1, MAX_HITS);
        self.call(move |c| c.search_chat(&conversation, &query, limit)).await
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "chat_search" => {
        let limit = p["limit"].as_u64().unwrap_or(50) as usize;
        to_value(node.search_chat(s(p, "with")?, s(p, "query")?, limit).await?)
    }
});

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn folding_ignores_case_and_turkish_i() {
        assert_eq!(fold("İstanbul"), "istanbul");
        assert_eq!(fold("ISPARTA"), fold("ıspartA"));
        assert_eq!(fold("Çay"), "çay");
        assert!(fold("Kahve ve ÇAY").contains(&fold("çay")));
    }
}
