-- Shares of relay locks this relay keeps (SPEC.md §6.10.6). Keep in step
-- with ../sqlite/0009_trustee.sql and services/trustee/store.rs.
CREATE TABLE trustee_deposits (
    id              BYTEA PRIMARY KEY,              -- 16 bytes, the sender's
    owner           BYTEA NOT NULL,                 -- the sender's account key
    share           BYTEA,                          -- 33 bytes; NULL once cancelled
    release_at_ms   BIGINT NOT NULL,              -- 0: not set
    silence_ms      BIGINT NOT NULL,              -- 0: not set
    last_heard_ms   BIGINT NOT NULL,
    last_request_ms BIGINT NOT NULL,              -- the latest request's created_ms
    due_ms          BIGINT NOT NULL,
    state           TEXT NOT NULL,                 -- held | cancelled
    changed_ms      BIGINT NOT NULL
);
CREATE INDEX trustee_deposits_owner ON trustee_deposits (owner, due_ms);
CREATE INDEX trustee_deposits_due ON trustee_deposits (due_ms);
