-- Password-sealed chats (SPEC.md §7.9): every seal a conversation has had,
-- newest last (by rowid). Salts, parameters and key ids are public within
-- the conversation; the wrapped previous key opens only under the newer key.
CREATE TABLE chat_seals (
    conversation_id BLOB NOT NULL,
    key_id BLOB NOT NULL,
    salt BLOB NOT NULL,
    memory_kib INTEGER NOT NULL,
    passes INTEGER NOT NULL,
    lanes INTEGER NOT NULL,
    previous_key_id BLOB,
    previous_nonce BLOB,
    previous_key BLOB,
    set_by BLOB NOT NULL,
    set_at INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, key_id)
);
