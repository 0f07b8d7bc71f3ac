-- kovan node schema, version 25: members locks whose holders' nodes release
-- by themselves (SPEC.md §6.10.4): not before a time, and/or once the
-- sender has been silent too long (a dead man's switch). One row per such
-- message on every device that holds it: when its sender was last heard
-- from (the message's time or its last check-in) and when it is due.
-- `waiting`: this account holds a share and will release it when due;
-- `watching`: it does not (the sender, other members); `released`, `failed`.
CREATE TABLE conditional_timers (
    conversation_id BLOB NOT NULL,
    message_id      BLOB NOT NULL,
    last_heard      INTEGER NOT NULL,
    due_at          INTEGER NOT NULL,
    state           TEXT NOT NULL,
    PRIMARY KEY (conversation_id, message_id)
) WITHOUT ROWID;
CREATE INDEX conditional_timers_due ON conditional_timers (state, due_at);
