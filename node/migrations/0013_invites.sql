-- Invite links (A5, SPEC.md §7.4.1): a request carrying a live token is
-- admitted under the "link" friend-request policy. The token and label are
-- sealed (SPEC.md §4.6); a row is found by the token's SHA-256.
CREATE TABLE invites (
    id          BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    token_hash  BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    token       BLOB NOT NULL,
    label       BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    max_uses    INTEGER,
    used        INTEGER NOT NULL DEFAULT 0,
    revoked     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
