-- kovan node schema, version 7: groups (SPEC.md §7.6).
-- Rights, names and members are read from the MLS group state, never from
-- these tables: they hold what MLS does not (invitations, local mutes, the
-- commit-order bookkeeping and the epoch snapshots that a rollback needs).

-- A group's title as last seen, sealed (SPEC.md §4.6), for the list once
-- the MLS state is gone (left, removed).
ALTER TABLE conversations ADD COLUMN title BLOB;
-- 'member' | 'left' | 'removed' | 'dissolved' for groups; NULL for 1:1.
ALTER TABLE conversations ADD COLUMN group_state TEXT;
-- Post-compromise security (SPEC.md §7.6.7): when this device last
-- refreshed its leaf keys here (ms; 0: not yet) and what it sent since.
ALTER TABLE conversations ADD COLUMN last_update INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN sent_since_update INTEGER NOT NULL DEFAULT 0;

CREATE TABLE group_invitations (
    invitation_id      BLOB PRIMARY KEY NOT NULL CHECK (length(invitation_id) = 16),
    group_id           BLOB NOT NULL,
    incoming           INTEGER NOT NULL,      -- 1: to us; 0: we invited
    account            BLOB NOT NULL,         -- the other side
    device_certificate BLOB NOT NULL,         -- the other side's device
    group_name         BLOB NOT NULL,         -- sealed
    members            INTEGER NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'joined', 'refused')),
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX group_invitations_by_group ON group_invitations (group_id);

-- Members this device muted (G7): local only.
CREATE TABLE group_mutes (
    group_id BLOB NOT NULL,
    account  BLOB NOT NULL,
    PRIMARY KEY (group_id, account)
) WITHOUT ROWID;

-- Devices that proposed to leave (SPEC.md §7.6.4): an admin commits their
-- removal, also after a rollback lost an earlier removal.
CREATE TABLE group_leaving (
    group_id BLOB NOT NULL,
    device   TEXT NOT NULL,
    at       INTEGER NOT NULL,
    PRIMARY KEY (group_id, device)
) WITHOUT ROWID;

-- The commit applied at each recent epoch (SPEC.md §7.6.3): its rank, its
-- digest, and for our own commits what it was meant to do (re-proposed if
-- it loses).
CREATE TABLE group_epochs (
    group_id BLOB NOT NULL,
    epoch    INTEGER NOT NULL,     -- the epoch the commit was made in
    rank     BLOB NOT NULL,
    digest   BLOB NOT NULL,
    intent   BLOB,                 -- JSON, own commits only
    PRIMARY KEY (group_id, epoch)
) WITHOUT ROWID;

-- Copies of a group's openmls rows as they were before the commit at
-- `epoch` was applied: a rollback restores them.
CREATE TABLE group_snapshots (
    group_id BLOB NOT NULL,
    epoch    INTEGER NOT NULL,
    tbl      TEXT NOT NULL,
    a        BLOB,
    b        BLOB,
    c        INTEGER,
    version  INTEGER NOT NULL
);
CREATE INDEX group_snapshots_by_epoch ON group_snapshots (group_id, epoch);

-- MLS messages for an epoch this device has not reached yet (SPEC.md
-- §7.6.5), with what is needed to apply them when it does.
CREATE TABLE group_parked (
    digest       BLOB PRIMARY KEY NOT NULL,
    group_id     BLOB NOT NULL,
    epoch        INTEGER NOT NULL,
    sender       BLOB NOT NULL,        -- the envelope sender's certificate
    envelope_id  BLOB NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    payload      BLOB NOT NULL,
    parked_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX group_parked_by_group ON group_parked (group_id, epoch);

-- Application messages this device sent in recent epochs, sealed: re-sent
-- if a rollback undoes the epoch they were encrypted in.
CREATE TABLE group_sent (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id  BLOB NOT NULL,
    epoch     INTEGER NOT NULL,
    plaintext BLOB NOT NULL
);
CREATE INDEX group_sent_by_group ON group_sent (group_id, epoch);

-- Delivery and read receipts per member (groups).
CREATE TABLE message_receipts (
    conversation_id BLOB NOT NULL,
    message_id      BLOB NOT NULL,
    account         BLOB NOT NULL,
    state           INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, message_id, account)
) WITHOUT ROWID;
