-- kovan node schema, version 1.
-- Envelope ids already processed: a replayed envelope is dropped (SPEC.md §5.5).
CREATE TABLE seen_envelopes (
    envelope_id BLOB PRIMARY KEY NOT NULL CHECK (length(envelope_id) = 16),
    seen_at     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX seen_envelopes_by_time ON seen_envelopes (seen_at);
