-- kovan node schema, version 9: polls (SPEC.md §6.4).
-- One row per voting account and poll: a later vote replaces it. The
-- choices are sealed (SPEC.md §4.6); which account voted stays in clear,
-- as it does for reactions.
CREATE TABLE poll_votes (
    conversation_id BLOB NOT NULL,
    poll_id         BLOB NOT NULL,
    voter_account   BLOB NOT NULL,
    choices         BLOB NOT NULL,          -- sealed: one byte per option index
    voted_at        INTEGER NOT NULL,       -- the voter's clock, ms
    vote_id         BLOB NOT NULL,          -- breaks ties between equal times
    PRIMARY KEY (conversation_id, poll_id, voter_account)
) WITHOUT ROWID;
CREATE TABLE poll_closed (
    conversation_id BLOB NOT NULL,
    poll_id         BLOB NOT NULL,
    closed_at       INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, poll_id)
) WITHOUT ROWID;
