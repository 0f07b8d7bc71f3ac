//! Drafts: what the user typed in a chat and has not sent, kept across
//! restarts (the desktop saves it as it is typed). Each is sealed at rest
//! (SPEC.md §4.6, context `drafts/text/` || conversation id) in the
//! settings table. A sealed chat's or a no-trace chat's draft is never
//! written: the device's storage key must not open what only the chat's
//! password (or nothing at all) may.

use rand_core::OsRng;

use super::Core;
use crate::control::{s, to_value};
use crate::node::{NodeError, NodeHandle, NodeResult};

/// The longest draft kept, in bytes (a message's own limit is lower).
pub const MAX_DRAFT: usize = 64 * 1024;

fn key(conv: &[u8]) -> String {
    format!("draft/{}", hex::encode(conv))
}

fn context(conv: &[u8]) -> Vec<u8> {
    let mut c = b"drafts/text/".to_vec();
    c.extend_from_slice(conv);
    c
}

impl Core {
    /// The draft of a conversation (none for a sealed chat).
    pub(super) fn draft_of(&self, conv: &[u8]) -> crate::Result<Option<String>> {
        let Some(sealed) = self.db.setting(&key(conv))? else { return Ok(None) };
        // A draft that does not open (another storage key) is dropped.
        Ok(self
            .field
            .open(&context(conv), &sealed)
            .ok()
            .map(|p| String::from_utf8_lossy(&p).into_owned()))
    }

    pub(super) fn set_draft(&mut self, who: &str, text: &str) -> NodeResult<()> {
        if text.len() > MAX_DRAFT {
            return Err(NodeError::Invalid(format!("a draft is at most {MAX_DRAFT} bytes")));
        }
        if self.no_trace_id(who).is_some() {
            return Err(NodeError::State("a no-trace chat keeps no draft".into()));
        }
        let (conv, _) = self.find_conversation(who)?;
        if self.is_sealed(&conv)? {
            return Err(NodeError::State("a sealed chat keeps no draft".into()));
        }
        if text.trim().is_empty() {
            self.db.remove_setting(&key(&conv))?;
        } else {
            let sealed = self.field.seal(&mut OsRng, &context(&conv), text.as_bytes());
            self.db.set_setting(&key(&conv), &sealed)?;
        }
        Ok(())
    }

    /// A chat was sealed: its draft goes.
    pub(super) fn drop_draft(&self, conv: &[u8]) -> crate::Result<()> {
        self.db.remove_setting(&key(conv))
    }
}

impl NodeHandle {
    /// Keeps `text` as the conversation's draft (empty: no draft).
    pub async fn set_draft(&self, conversation: &str, text: &str) -> NodeResult<()> {
        let (conversation, text) = (conversation.to_owned(), text.to_owned());
        self.call(move |c| c.set_draft(&conversation, &text)).await
    }
}

// ---------------------------------------------------------------------
// Control-socket methods (SPEC.md §10)
// ---------------------------------------------------------------------

crate::control::control_methods!(node, p => {
    "draft" => {
        node.set_draft(s(p, "with")?, p["text"].as_str().unwrap_or("")).await?;
        to_value(serde_json::json!({}))
    }
});
