-- kovan node schema, version 29: sealed polls (SPEC.md §6.4.3). This
-- account's opening and choices for the sealed ballot it cast in a poll
-- (sealed at rest), revealed once the poll is closed; and the reveals
-- received, one per voter account, kept when they open a sealed ballot
-- this device holds.
CREATE TABLE poll_openings (
    conversation_id BLOB NOT NULL,
    poll_id         BLOB NOT NULL,
    sealed          BLOB NOT NULL,
    revealed        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, poll_id)
);
CREATE TABLE poll_reveals (
    conversation_id BLOB NOT NULL,
    poll_id         BLOB NOT NULL,
    voter_account   BLOB NOT NULL,
    sealed          BLOB NOT NULL,
    PRIMARY KEY (conversation_id, poll_id, voter_account)
);
