-- kovan node schema, version 4: the outbox. An outgoing envelope is written
-- here (already sealed) before any attempt to send it, and removed only when
-- the recipient or its relay mailbox has acknowledged it: at-least-once
-- delivery, with the receiver deduplicating.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient_device TEXT NOT NULL,
    envelope         BLOB NOT NULL,
    conversation_id  BLOB,
    message_id       BLOB,
    created_at       INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id);
