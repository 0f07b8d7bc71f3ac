-- Delivered receipts this device owes for messages that came through its
-- mailbox (SPEC.md §7.5). A row is written in the transaction that stores
-- the message and removed in the one that queues the receipt, so a crash
-- in between loses no receipt: the next start sends it.
CREATE TABLE owed_receipts (
    conversation_id BLOB NOT NULL,
    message_id      BLOB NOT NULL,
    PRIMARY KEY (conversation_id, message_id)
) WITHOUT ROWID;
