-- A file is found by the id of the message that announced it too (what
-- `kovan history` shows), whatever its conversation.
CREATE INDEX files_by_message_id ON files (message_id);
