-- Where a received file's last attempt fetched it from (SPEC.md §7.7.4):
-- `call` (the call's data channel, §6.9.1), `direct` (`/kovan/file/1`) or
-- `relay` (the blob); empty before the first attempt.
ALTER TABLE files ADD COLUMN via TEXT NOT NULL DEFAULT '';
