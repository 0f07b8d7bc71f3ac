-- kovan node schema, version 8: files (SPEC.md §7.7).
-- One row per file sent or received. The key is sealed (SPEC.md §4.6); the
-- bytes live in the home's files/ directory: ciphertext for files we send
-- (served to peers and uploaded to the relay), plaintext for files we
-- received (written as NAME.part until complete and verified).
CREATE TABLE files (
    file_id         BLOB PRIMARY KEY NOT NULL CHECK (length(file_id) = 16),
    conversation_id BLOB NOT NULL,
    message_id      BLOB NOT NULL,
    outgoing        INTEGER NOT NULL,
    sender_device   TEXT NOT NULL,          -- the device that holds the ciphertext
    name            TEXT NOT NULL,
    mime            TEXT NOT NULL,
    size            INTEGER NOT NULL,       -- plaintext bytes
    sha256          BLOB NOT NULL,
    key             BLOB NOT NULL,          -- sealed
    relay           TEXT,                   -- the relay blob, if any
    blob_id         BLOB,
    -- incoming: 'offered' | 'downloading' | 'waiting' | 'complete' | 'failed' | 'cancelled'
    -- outgoing: 'ready' | 'cancelled'
    state           TEXT NOT NULL,
    -- outgoing: 'none' | 'needed' | 'uploading' | 'done' | 'failed'
    upload          TEXT NOT NULL DEFAULT 'none',
    done            INTEGER NOT NULL DEFAULT 0,  -- incoming: plaintext stored; outgoing: ciphertext uploaded
    wire_bytes      INTEGER NOT NULL DEFAULT 0,  -- ciphertext bytes that crossed the network, all attempts
    resumed_from    INTEGER NOT NULL DEFAULT 0,  -- ciphertext offset the last attempt started at
    path            TEXT NOT NULL,          -- incoming: where it lands; outgoing: the ciphertext
    source          TEXT,                   -- outgoing: the file the user picked
    error           TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX files_by_conversation ON files (conversation_id, created_at);
CREATE INDEX files_by_message ON files (conversation_id, message_id);
