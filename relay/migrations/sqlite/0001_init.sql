-- kovan relay schema v1 (SQLite). Keep in step with ../postgres/0001_init.sql.
CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    username        TEXT NOT NULL UNIQUE,          -- lower-case
    account_key     BLOB NOT NULL UNIQUE,          -- Ed25519, 32 bytes
    password_hash   TEXT NOT NULL,                 -- PHC string, Argon2id
    display_name    TEXT NOT NULL DEFAULT '',
    about           TEXT NOT NULL DEFAULT '',
    avatar          BLOB,
    avatar_type     TEXT,
    discoverable    INTEGER NOT NULL DEFAULT 1,
    friend_policy   TEXT NOT NULL DEFAULT 'everyone',
    read_receipts   INTEGER NOT NULL DEFAULT 1,
    created_at      BIGINT NOT NULL
);
CREATE TABLE devices (
    peer_id         TEXT PRIMARY KEY,
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    certificate     BLOB NOT NULL,
    mls_key         BLOB NOT NULL,
    mailbox_seq     BIGINT NOT NULL DEFAULT 0,     -- last sequence given to an item
    created_at      BIGINT NOT NULL
);
CREATE INDEX devices_by_account ON devices (account_id);
CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,              -- public id, 16 random bytes hex
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    device_peer_id  TEXT NOT NULL REFERENCES devices (peer_id) ON DELETE CASCADE,
    token_hash      BLOB NOT NULL UNIQUE,          -- SHA-256 of the token
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    user_agent      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_by_account ON sessions (account_id);
CREATE TABLE key_packages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    device_peer_id  TEXT NOT NULL REFERENCES devices (peer_id) ON DELETE CASCADE,
    key_package     BLOB NOT NULL,
    last_resort     INTEGER NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL
);
CREATE INDEX key_packages_by_device ON key_packages (device_peer_id, last_resort, id);
CREATE TABLE mailbox (
    device_peer_id  TEXT NOT NULL REFERENCES devices (peer_id) ON DELETE CASCADE,
    seq             BIGINT NOT NULL,
    digest          BLOB NOT NULL,                 -- SHA-256 of the envelope: idempotency
    envelope        BLOB NOT NULL,
    size            BIGINT NOT NULL,
    received_at     BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    PRIMARY KEY (device_peer_id, seq),
    UNIQUE (device_peer_id, digest)
);
CREATE INDEX mailbox_by_expiry ON mailbox (expires_at);
