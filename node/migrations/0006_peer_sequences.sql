-- kovan node schema, version 6: the last application-message sequence
-- number applied per (conversation, sender device), so a direct delivery
-- that would overtake messages still in the mailbox is deferred
-- (SPEC.md §7.5).
CREATE TABLE peer_sequences (
    conversation_id BLOB NOT NULL,
    sender_device   TEXT NOT NULL,
    last_sequence   INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, sender_device)
) WITHOUT ROWID;

-- The message an envelope carried, so a mailbox copy of an envelope that
-- was already applied (its direct acknowledgement lost) still gets its
-- delivery receipt.
ALTER TABLE seen_envelopes ADD COLUMN conversation_id BLOB;
ALTER TABLE seen_envelopes ADD COLUMN message_id BLOB;
