-- kovan node schema, version 30: relay locks (SPEC.md §6.10.6). The shares
-- relays released that match their commitments (share x = place + 1), when
-- this device asks a message's relays next, and the cancellations of this
-- account's deleted messages that did not reach their relays yet.
CREATE TABLE conditional_relay_shares (
    conversation_id BLOB NOT NULL,
    message_id      BLOB NOT NULL,
    place           INTEGER NOT NULL,
    share           BLOB NOT NULL,
    PRIMARY KEY (conversation_id, message_id, place)
);
CREATE TABLE conditional_relay_fetches (
    conversation_id BLOB NOT NULL,
    message_id      BLOB NOT NULL,
    next_at         INTEGER NOT NULL,        -- ms; while asking, a lease
    retry_ms        INTEGER NOT NULL DEFAULT 0,
    give_up_at      INTEGER NOT NULL,
    state           TEXT NOT NULL,           -- waiting | released | cancelled | failed
    PRIMARY KEY (conversation_id, message_id)
);
CREATE INDEX conditional_relay_fetches_due ON conditional_relay_fetches (state, next_at);
CREATE TABLE conditional_relay_cancels (
    relay           TEXT NOT NULL,
    deposit         BLOB NOT NULL,
    next_at         INTEGER NOT NULL,
    retry_ms        INTEGER NOT NULL,
    give_up_at      INTEGER NOT NULL,
    PRIMARY KEY (relay, deposit)
);
