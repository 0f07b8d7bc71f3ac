//! Spreading messages (SPEC.md §6.11) as shown.

use super::*;

/// A spreading message this node holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpreadView {
    /// Its id, hex (one spread, whatever path reached this node).
    pub id: String,
    /// The author's account key, hex.
    pub author: String,
    /// The author's name if a contact, else the short account id.
    pub author_name: String,
    /// This account wrote it.
    pub mine: bool,
    /// The text.
    pub text: String,
    /// How many hops from its author the copy kept here is (the lowest
    /// seen); 0 for the author's own.
    pub hop: u8,
    /// How far it may go.
    pub hop_limit: u8,
    /// The friend who passed that copy on (account hex); none for the
    /// author's own.
    pub from: Option<String>,
    /// That friend's name.
    pub from_name: Option<String>,
    /// The author's clock when written, ms.
    pub created_at: i64,
    /// When it reached this node, ms.
    pub received_at: i64,
    /// The user has seen it (this node passes it on from then).
    pub seen: bool,
    /// Into how many conversations this node passed it (or sent it, for
    /// the author).
    pub passed_to: u32,
    /// When its author took it back; its text is then hidden.
    pub retracted_at: Option<i64>,
}

/// Whether this node takes part in spreading messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpreadSettings {
    /// It receives spreads and passes them on once seen.
    pub enabled: bool,
    /// Friends who said they take part (accounts, hex): spreads go to them.
    pub friends: Vec<String>,
}
