-- kovan node schema, version 28: conditional files (SPEC.md §6.10.5). Once
-- a conditional message with a file opens here, its file's key and what the
-- file is are kept (sealed at rest, as an encoded SealedFileKey) until its
-- sealed bytes, fetched as the transfer `file_id`, are opened into `path`.
CREATE TABLE conditional_files (
    conversation_id BLOB NOT NULL,
    message_id      BLOB NOT NULL,
    file_id         BLOB NOT NULL,
    sealed_key      BLOB NOT NULL,
    -- 'waiting' (its bytes are not all here), 'opening', 'open', 'failed'
    state           TEXT NOT NULL,
    path            TEXT,
    error           TEXT,
    PRIMARY KEY (conversation_id, message_id)
);
CREATE INDEX conditional_files_by_file ON conditional_files (file_id);
