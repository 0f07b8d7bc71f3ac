-- Shares of relay locks this relay keeps (SPEC.md §6.10.6). Keep in step
-- with ../postgres/0009_trustee.sql and services/trustee/store.rs.
CREATE TABLE trustee_deposits (
    id              BLOB PRIMARY KEY,              -- 16 bytes, the sender's
    owner           BLOB NOT NULL,                 -- the sender's account key
    share           BLOB,                          -- 33 bytes; NULL once cancelled
    release_at_ms   INTEGER NOT NULL,              -- 0: not set
    silence_ms      INTEGER NOT NULL,              -- 0: not set
    last_heard_ms   INTEGER NOT NULL,
    last_request_ms INTEGER NOT NULL,              -- the latest request's created_ms
    due_ms          INTEGER NOT NULL,
    state           TEXT NOT NULL,                 -- held | cancelled
    changed_ms      INTEGER NOT NULL
);
CREATE INDEX trustee_deposits_owner ON trustee_deposits (owner, due_ms);
CREATE INDEX trustee_deposits_due ON trustee_deposits (due_ms);
