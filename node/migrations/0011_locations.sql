-- kovan node schema, version 11: live locations (SPEC.md §6.5).
-- One row per live share, sent or received. Positions are sealed
-- (SPEC.md §4.6): 12 bytes each (lat_e7, lon_e7, accuracy_m, big-endian).
CREATE TABLE live_locations (
    conversation_id BLOB NOT NULL,
    message_id      BLOB NOT NULL,
    sender_account  BLOB NOT NULL,
    outgoing        INTEGER NOT NULL,
    live_until      INTEGER NOT NULL,       -- the sharer's clock, ms
    stopped_at      INTEGER,
    position        BLOB NOT NULL,          -- sealed: the latest position
    updated_at      INTEGER NOT NULL,       -- the sharer's clock when it was there
    every_ms        INTEGER,                -- sharer: interval between updates
    next_at         INTEGER,                -- sharer: when the next update is due
    track           BLOB,                   -- sharer: sealed positions still to send
    PRIMARY KEY (conversation_id, message_id)
) WITHOUT ROWID;
CREATE INDEX live_locations_due ON live_locations (outgoing, next_at);
