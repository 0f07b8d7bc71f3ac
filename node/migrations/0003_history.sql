-- kovan node schema, version 3: conversations and message history.
-- Message bodies are sealed field by field with the keystore's storage key
-- (SPEC.md §4.6); ids, times and states stay in clear for ordering.
CREATE TABLE conversations (
    id             BLOB PRIMARY KEY NOT NULL,      -- the MLS group id
    kind           TEXT NOT NULL CHECK (kind IN ('direct', 'group')),
    peer_account   BLOB,                           -- direct conversations
    created_at     INTEGER NOT NULL,
    last_activity  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE messages (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,  -- local order: the paging cursor
    conversation_id BLOB NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    message_id      BLOB NOT NULL CHECK (length(message_id) = 16),
    sender_account  BLOB NOT NULL,
    sender_device   TEXT NOT NULL,
    sent_at         INTEGER NOT NULL,
    received_at     INTEGER NOT NULL,
    outgoing        INTEGER NOT NULL,
    state           INTEGER NOT NULL,                   -- see history::State
    body            BLOB,                               -- sealed; NULL once deleted
    edited_at       INTEGER,
    deleted         INTEGER NOT NULL DEFAULT 0,
    UNIQUE (conversation_id, message_id)
);
CREATE INDEX messages_page ON messages (conversation_id, seq);
