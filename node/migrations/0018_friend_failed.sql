-- kovan node schema, version 18: the `failed` friend state (SPEC.md §7.4:
-- an acceptance whose Welcome the requester refused). SQLite cannot change
-- a CHECK constraint in place, so the table is rebuilt with the same rows.
CREATE TABLE contacts_v18 (
    account             BLOB PRIMARY KEY NOT NULL CHECK (length(account) = 32),
    username            TEXT,
    display_name        TEXT NOT NULL DEFAULT '',
    state               TEXT NOT NULL CHECK (state IN ('none', 'outgoing', 'incoming', 'friend', 'declined', 'removed', 'failed')),
    device_certificate  BLOB,          -- the contact's device (its envelope key, PeerId)
    peer_id             TEXT,
    addrs               TEXT NOT NULL DEFAULT '[]',  -- JSON list of multiaddrs
    request_id          BLOB,          -- a pending request's id; a friend's accepted one
    request_key_package BLOB,          -- an incoming request's KeyPackage, until answered
    request_note        BLOB,          -- sealed (SPEC.md §4.6)
    conversation_id     BLOB,
    blocked             INTEGER NOT NULL DEFAULT 0,
    verified            INTEGER NOT NULL DEFAULT 0,
    identity_changed    INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO contacts_v18 SELECT * FROM contacts;
DROP TABLE contacts;
ALTER TABLE contacts_v18 RENAME TO contacts;
CREATE INDEX contacts_by_peer ON contacts (peer_id);
CREATE INDEX contacts_by_username ON contacts (username);
