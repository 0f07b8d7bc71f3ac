-- kovan node schema, version 23: conditional messages (SPEC.md §6.10).
-- The text of a conditional message once this device opened it (or sent
-- it), sealed (SPEC.md §4.6); the message itself stays as it came.
CREATE TABLE conditional_opened (
    conversation_id BLOB NOT NULL,
    message_id      BLOB NOT NULL,
    text            BLOB NOT NULL,
    PRIMARY KEY (conversation_id, message_id)
) WITHOUT ROWID;
