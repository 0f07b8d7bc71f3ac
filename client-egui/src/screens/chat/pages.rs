//! One conversation's loaded history, oldest first: the newest page when
//! the chat opens, older pages as it is scrolled up, and whatever events
//! change in between.

use std::collections::HashMap;

use kovan_node::node::MessageView;

use crate::backend::PAGE;

/// One open conversation's loaded history, oldest first.
#[derive(Debug, Default)]
pub struct Pages {
    /// The messages, by `seq`.
    pub messages: Vec<MessageView>,
    /// Each message's height (with its day separator) when last laid out:
    /// messages far from the visible part are skipped over by it.
    pub heights: HashMap<String, f32>,
    /// An older page was asked for and has not come yet.
    pub loading_older: bool,
    /// The oldest page came back short: nothing older.
    pub complete: bool,
    /// The newest page came (before it, only what events brought).
    pub newest_loaded: bool,
}

impl Pages {
    /// Adds or replaces a message, in `seq` order.
    pub fn upsert(&mut self, m: MessageView) {
        match self.messages.iter_mut().find(|x| x.id == m.id) {
            Some(x) => *x = m,
            None => {
                let at = self.messages.partition_point(|x| x.seq < m.seq);
                self.messages.insert(at, m);
            }
        }
    }

    /// A page from the node (`older`: the one asked for on scrolling up).
    pub fn add_page(&mut self, messages: Vec<MessageView>, older: bool) {
        if older {
            self.loading_older = false;
        } else {
            self.newest_loaded = true;
        }
        if messages.len() < PAGE {
            self.complete = true;
        }
        for m in messages {
            self.upsert(m);
        }
    }

    /// A delivery tick.
    pub fn set_state(&mut self, id: &str, state: &'static str) {
        if let Some(m) = self.messages.iter_mut().find(|m| m.id == id) {
            m.state = state;
        }
    }

    /// A message deleted for everyone.
    pub fn mark_deleted(&mut self, id: &str) {
        if let Some(m) = self.messages.iter_mut().find(|m| m.id == id) {
            m.kind = "deleted";
            m.text = None;
            m.file = None;
            m.reactions.clear();
        }
    }
}
