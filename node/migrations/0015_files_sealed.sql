-- A file's name, media type, path, source and error are sealed (SPEC.md
-- §4.6) like every column derived from message content or the user's
-- files. Rows written before this have `sealed` = 0 and are sealed by the
-- node when it opens the database.
ALTER TABLE files ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;
