-- kovan node schema, version 10: scheduled messages (I7).
-- Composed now, sent by the node when due (also on the first start after
-- the due time, then marked late). The content is sealed (SPEC.md §4.6).
CREATE TABLE scheduled (
    id              BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    conversation_id BLOB NOT NULL,
    content         BLOB NOT NULL,          -- sealed JSON of what to send
    due_at          INTEGER NOT NULL,       -- ms, by the node's clock
    created_at      INTEGER NOT NULL,
    -- 'scheduled' | 'sent' | 'cancelled' | 'failed'
    state           TEXT NOT NULL DEFAULT 'scheduled',
    sent_at         INTEGER,
    late            INTEGER NOT NULL DEFAULT 0,
    message_id      BLOB,                   -- the message it became
    error           TEXT
) WITHOUT ROWID;
CREATE INDEX scheduled_due ON scheduled (state, due_at);
