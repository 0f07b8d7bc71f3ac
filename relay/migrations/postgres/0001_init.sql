-- kovan relay schema v1 (PostgreSQL). Keep in step with ../sqlite/0001_init.sql.
CREATE TABLE accounts (
    id              BIGSERIAL PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,          -- lower-case
    account_key     BYTEA NOT NULL UNIQUE,          -- Ed25519, 32 bytes
    password_hash   TEXT NOT NULL,                 -- PHC string, Argon2id
    display_name    TEXT NOT NULL DEFAULT '',
    about           TEXT NOT NULL DEFAULT '',
    avatar          BYTEA,
    avatar_type     TEXT,
    discoverable    BIGINT NOT NULL DEFAULT 1,
    friend_policy   TEXT NOT NULL DEFAULT 'everyone',
    read_receipts   BIGINT NOT NULL DEFAULT 1,
    created_at      BIGINT NOT NULL
);
CREATE TABLE devices (
    peer_id         TEXT PRIMARY KEY,
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    certificate     BYTEA NOT NULL,
    mls_key         BYTEA NOT NULL,
    mailbox_seq     BIGINT NOT NULL DEFAULT 0,     -- last sequence given to an item
    created_at      BIGINT NOT NULL
);
CREATE INDEX devices_by_account ON devices (account_id);
CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,              -- public id, 16 random bytes hex
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    device_peer_id  TEXT NOT NULL REFERENCES devices (peer_id) ON DELETE CASCADE,
    token_hash      BYTEA NOT NULL UNIQUE,          -- SHA-256 of the token
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    user_agent      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_by_account ON sessions (account_id);
CREATE TABLE key_packages (
    id              BIGSERIAL PRIMARY KEY,
    device_peer_id  TEXT NOT NULL REFERENCES devices (peer_id) ON DELETE CASCADE,
    key_package     BYTEA NOT NULL,
    last_resort     BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL
);
CREATE INDEX key_packages_by_device ON key_packages (device_peer_id, last_resort, id);
CREATE TABLE mailbox (
    device_peer_id  TEXT NOT NULL REFERENCES devices (peer_id) ON DELETE CASCADE,
    seq             BIGINT NOT NULL,
    digest          BYTEA NOT NULL,                 -- SHA-256 of the envelope: idempotency
    envelope        BYTEA NOT NULL,
    size            BIGINT NOT NULL,
    received_at     BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    PRIMARY KEY (device_peer_id, seq),
    UNIQUE (device_peer_id, digest)
);
CREATE INDEX mailbox_by_expiry ON mailbox (expires_at);
