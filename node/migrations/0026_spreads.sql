-- kovan node schema, version 26: spreading messages (SPEC.md §6.11).
-- One row per spread this node holds, keyed by a lookup tag of its
-- (author, id) so the author is not written in the clear; the Spread as
-- it came with the lowest hop seen is sealed under the storage key.
-- `from_conv`: the 1:1 conversation that copy came through (NULL for the
-- author's own). `pending`: seen by the user and still to be passed on at
-- `hop` (at most `hop_limit` passings in all). `author_tag`: a lookup tag
-- of the author, for its hourly limit.
CREATE TABLE spreads (
    tag          BLOB PRIMARY KEY,
    author_tag   BLOB NOT NULL,
    sealed       BLOB NOT NULL,
    hop          INTEGER NOT NULL,
    from_conv    BLOB,
    received_at  INTEGER NOT NULL,
    seen         INTEGER NOT NULL DEFAULT 0,
    pending      INTEGER NOT NULL DEFAULT 0,
    passed_hop   INTEGER,
    passes       INTEGER NOT NULL DEFAULT 0,
    retracted_at INTEGER
) WITHOUT ROWID;
CREATE INDEX spreads_received ON spreads (received_at);
-- The conversations each spread was passed into: its retraction follows.
CREATE TABLE spread_sent (
    tag             BLOB NOT NULL,
    conversation_id BLOB NOT NULL,
    PRIMARY KEY (tag, conversation_id)
) WITHOUT ROWID;
-- Rate limits: spreads kept (`kept`, with the conversation they came
-- through) and passed on (`passed`) in the last hour, by a lookup tag of
-- the author. Rows older than an hour are pruned.
CREATE TABLE spread_log (
    at     INTEGER NOT NULL,
    kind   TEXT NOT NULL,
    author BLOB NOT NULL,
    via    BLOB
);
CREATE INDEX spread_log_at ON spread_log (kind, at);
-- Friends who said they opted in, by their 1:1 conversation.
CREATE TABLE spread_friends (
    conversation_id BLOB PRIMARY KEY,
    enabled         INTEGER NOT NULL
) WITHOUT ROWID;
