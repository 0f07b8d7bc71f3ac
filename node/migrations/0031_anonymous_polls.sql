-- kovan node schema, version 31: anonymous polls (SPEC.md §6.4.2).
-- Ballot-key registrations this device accepted, the first of each account.
CREATE TABLE poll_registrations (
    conversation_id BLOB NOT NULL,
    poll_id         BLOB NOT NULL,
    account         BLOB NOT NULL,
    ballot_key      BLOB NOT NULL,
    signature       BLOB NOT NULL,
    PRIMARY KEY (conversation_id, poll_id, account)
) WITHOUT ROWID;
-- The ring the poll's creator published (an encoded PollRing), the first
-- one only.
CREATE TABLE poll_rings (
    conversation_id BLOB NOT NULL,
    poll_id         BLOB NOT NULL,
    ring            BLOB NOT NULL,
    PRIMARY KEY (conversation_id, poll_id)
) WITHOUT ROWID;
-- Ring ballots this device holds (at most two distinct per key image, which
-- prove a double vote), sealed (SPEC.md §4.6); `id` is SHA-256 of the
-- encoded ballot. `cast_here` marks the one this device cast.
CREATE TABLE poll_ring_ballots (
    conversation_id BLOB NOT NULL,
    poll_id         BLOB NOT NULL,
    key_image       BLOB NOT NULL,
    id              BLOB NOT NULL,
    ballot          BLOB NOT NULL,
    cast_here       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, poll_id, key_image, id)
) WITHOUT ROWID;
-- The creator's close of an anonymous poll: its counted key images with
-- their choices and its void ones, sealed (SPEC.md §4.6).
CREATE TABLE poll_ring_closes (
    conversation_id BLOB NOT NULL,
    poll_id         BLOB NOT NULL,
    close           BLOB NOT NULL,
    PRIMARY KEY (conversation_id, poll_id)
) WITHOUT ROWID;
-- Anonymous polls this device knows: whether its account's registration is
-- still to go from here (0), went (1) or is not this device's to send (2:
-- not a voter, no account key, or too late), whether this account created
-- the poll (its ring goes out from here once all have registered), and
-- whether this device still owes the members its word on which ring it
-- holds (seen_said 0).
CREATE TABLE poll_anonymous (
    conversation_id BLOB NOT NULL,
    poll_id         BLOB NOT NULL,
    registered      INTEGER NOT NULL DEFAULT 0,
    created         INTEGER NOT NULL DEFAULT 0,
    seen_said       INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (conversation_id, poll_id)
) WITHOUT ROWID;
-- Which ring each member said it holds (its first RingSeen): a digest
-- other than this device's ring's means the creator showed voters
-- different rings.
CREATE TABLE poll_ring_seen (
    conversation_id BLOB NOT NULL,
    poll_id         BLOB NOT NULL,
    account         BLOB NOT NULL,
    ring            BLOB NOT NULL,
    PRIMARY KEY (conversation_id, poll_id, account)
) WITHOUT ROWID;
