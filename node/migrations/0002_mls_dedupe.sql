-- kovan node schema, version 2.
-- SHA-256 of every MLS message processed: a duplicate (the same message by
-- another path, or re-wrapped in a new envelope) is dropped before
-- decryption, so it never turns the original into an error.
CREATE TABLE seen_mls_messages (
    digest   BLOB PRIMARY KEY NOT NULL CHECK (length(digest) = 32),
    seen_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX seen_mls_messages_by_time ON seen_mls_messages (seen_at);
