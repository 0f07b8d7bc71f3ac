-- Conversation modes (SPEC.md §7.8): what an invitation said about the
-- group's mode, so the invitee knows what it agrees to and a Welcome that
-- says otherwise is refused.
ALTER TABLE group_invitations ADD COLUMN mode TEXT NOT NULL DEFAULT 'normal';
ALTER TABLE group_invitations ADD COLUMN pair INTEGER NOT NULL DEFAULT 0;
