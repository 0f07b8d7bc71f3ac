-- kovan node schema, version 22: verifiable polls (SPEC.md §6.4.1).
-- Signed ballots: those this device received (source 0; at most two
-- distinct per account, which prove a double vote) and those of the
-- creator's close (source 1 counted, source 2 void). `id` is SHA-256 of the
-- signature, which tells distinct ballots apart without saying what they
-- chose; the ballot itself (signature and choices) is sealed (SPEC.md §4.6).
CREATE TABLE poll_ballots (
    conversation_id BLOB NOT NULL,
    poll_id         BLOB NOT NULL,
    source          INTEGER NOT NULL,
    voter_account   BLOB NOT NULL,
    id              BLOB NOT NULL,
    ballot          BLOB NOT NULL,
    PRIMARY KEY (conversation_id, poll_id, source, voter_account, id)
) WITHOUT ROWID;
-- Whether a verifiable poll's voters and binding matched this device's MLS
-- state when it arrived: 1 they did, 0 it arrived in a later epoch and
-- could not be checked, -1 they did not.
CREATE TABLE poll_eligibility (
    conversation_id BLOB NOT NULL,
    poll_id         BLOB NOT NULL,
    checked         INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, poll_id)
) WITHOUT ROWID;
