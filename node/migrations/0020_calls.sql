-- The call log (SPEC.md §6.9): one row per call this device took part in
-- or missed.
CREATE TABLE calls (
    id BLOB PRIMARY KEY,
    conversation_id BLOB NOT NULL,
    peer_account BLOB NOT NULL,
    outgoing INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    answered_at INTEGER,
    ended_at INTEGER NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX calls_by_end ON calls (ended_at);
