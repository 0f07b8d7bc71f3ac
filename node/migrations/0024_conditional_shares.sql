-- kovan node schema, version 24: members locks of conditional messages
-- (SPEC.md §6.10.3). The shares holders released into the conversation,
-- one per holder account (the first one kept), sealed (SPEC.md §4.6);
-- checked against the message's commitments when they are used.
CREATE TABLE conditional_shares (
    conversation_id BLOB NOT NULL,
    message_id      BLOB NOT NULL,
    account         BLOB NOT NULL,
    share           BLOB NOT NULL,
    received_at     INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, message_id, account)
) WITHOUT ROWID;
