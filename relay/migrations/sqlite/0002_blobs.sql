-- Blob store (SPEC.md §9.8): ciphertext of files, bytes on disk in the
-- relay's data directory, one row per blob here. Keep in step with the
-- other backend's 0002_blobs.sql.
ALTER TABLE accounts ADD COLUMN blob_bytes BIGINT NOT NULL DEFAULT 0;  -- sum of its blobs' sizes
CREATE TABLE blobs (
    id              TEXT PRIMARY KEY,              -- 16 random bytes, hex
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    size            BIGINT NOT NULL,               -- announced ciphertext size
    received        BIGINT NOT NULL DEFAULT 0,     -- bytes stored durably
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX blobs_by_account ON blobs (account_id);
CREATE INDEX blobs_by_expiry ON blobs (expires_at);
