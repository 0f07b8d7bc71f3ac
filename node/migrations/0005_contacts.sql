-- kovan node schema, version 5: contacts, reactions, settings (SPEC.md §7.4).
CREATE TABLE contacts (
    account             BLOB PRIMARY KEY NOT NULL CHECK (length(account) = 32),
    username            TEXT,
    display_name        TEXT NOT NULL DEFAULT '',
    state               TEXT NOT NULL CHECK (state IN ('none', 'outgoing', 'incoming', 'friend', 'declined', 'removed')),
    device_certificate  BLOB,          -- the contact's device (its envelope key, PeerId)
    peer_id             TEXT,
    addrs               TEXT NOT NULL DEFAULT '[]',  -- JSON list of multiaddrs
    request_id          BLOB,
    request_key_package BLOB,          -- an incoming request's KeyPackage, until answered
    request_note        BLOB,          -- sealed (SPEC.md §4.6)
    conversation_id     BLOB,
    blocked             INTEGER NOT NULL DEFAULT 0,
    verified            INTEGER NOT NULL DEFAULT 0,
    identity_changed    INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX contacts_by_peer ON contacts (peer_id);
CREATE INDEX contacts_by_username ON contacts (username);

-- One row per (message, sender, emoji). The emoji is sealed; its tag keeps
-- the row unique without revealing it.
CREATE TABLE reactions (
    conversation_id BLOB NOT NULL,
    target          BLOB NOT NULL,
    sender_account  BLOB NOT NULL,
    emoji_tag       BLOB NOT NULL,
    emoji           BLOB NOT NULL,
    at              INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, target, sender_account, emoji_tag)
) WITHOUT ROWID;

ALTER TABLE conversations ADD COLUMN closed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN next_sequence INTEGER NOT NULL DEFAULT 1;
ALTER TABLE conversations ADD COLUMN last_read_seq INTEGER NOT NULL DEFAULT 0;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) WITHOUT ROWID;

-- The outbox sends oldest first per recipient.
CREATE INDEX outbox_by_recipient ON outbox (recipient_device, id);
