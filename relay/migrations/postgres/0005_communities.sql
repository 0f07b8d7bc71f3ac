-- Communities (SPEC.md §9.10): forums whose every write is an action
-- signed by its author's account key, kept as signed (`*_tbs`, `*_sig`) so
-- clients verify them; the other columns are the relay's index of them.
-- Keep in step with ../sqlite/0005_communities.sql.
CREATE TABLE communities (
    id              TEXT PRIMARY KEY,              -- the create action's id, hex
    name            TEXT NOT NULL UNIQUE,
    owner_id        BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    create_tbs      BYTEA NOT NULL,
    create_sig      BYTEA NOT NULL,
    settings_tbs    BYTEA,                          -- the owner's latest settings action
    settings_sig    BYTEA,
    close_tbs       BYTEA,                          -- the archive action while archived
    close_sig       BYTEA,
    visibility      TEXT NOT NULL,                 -- public | private
    post_policy     TEXT NOT NULL,                 -- members | approved | moderators
    topic           TEXT NOT NULL,
    search_text     TEXT NOT NULL,                 -- name, topic and description, folded
    archived        BIGINT NOT NULL DEFAULT 0,
    posts           BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL
);
CREATE TABLE community_members (
    community_id    TEXT NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    state           TEXT NOT NULL,                 -- member | pending | invited | banned
    moderator       BIGINT NOT NULL DEFAULT 0,
    poster          BIGINT NOT NULL DEFAULT 0,     -- approved to post
    note            TEXT NOT NULL DEFAULT '',      -- a join request's note
    last_read       BIGINT NOT NULL DEFAULT 0,     -- newest post (n) seen
    since           BIGINT NOT NULL,
    PRIMARY KEY (community_id, account_id)
);
CREATE INDEX community_members_by_state ON community_members (community_id, state);
CREATE INDEX community_members_by_account ON community_members (account_id, state);
CREATE TABLE community_items (
    n               BIGSERIAL PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,          -- the action's id, hex
    community_id    TEXT NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    post_id         TEXT NOT NULL,                 -- itself for a post
    parent_id       TEXT,                          -- the comment answered
    is_post         BIGINT NOT NULL,
    author_id       BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    depth           BIGINT NOT NULL,               -- 0 a post, 1 a comment on it…
    path            TEXT NOT NULL,                 -- tree order within the post
    children        BIGINT NOT NULL DEFAULT 0,     -- answers made, for the next path
    tbs             BYTEA,                          -- NULL once deleted or removed
    sig             BYTEA,
    edit_tbs        BYTEA,                          -- the latest edit
    edit_sig        BYTEA,
    gone_tbs        BYTEA,                          -- the deletion or removal
    gone_sig        BYTEA,
    likes           BIGINT NOT NULL DEFAULT 0,
    comments        BIGINT NOT NULL DEFAULT 0,     -- a post's comments, all levels
    repost_of       TEXT,
    created_at      BIGINT NOT NULL,
    active_at       BIGINT NOT NULL,               -- a post's newest comment
    search_text     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX community_items_new ON community_items (community_id, is_post, n);
CREATE INDEX community_items_top ON community_items (community_id, is_post, likes, n);
CREATE INDEX community_items_active ON community_items (community_id, is_post, active_at);
CREATE INDEX community_items_thread ON community_items (post_id, path);
-- Search (SPEC.md §9.10.5): the words' forms as a stored tsvector, found
-- by GIN for rare words; common words are read newest first by the
-- community's (community_id, n) index.
ALTER TABLE community_items ADD COLUMN search_tsv tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED;
CREATE INDEX community_items_fts ON community_items USING GIN (search_tsv);
CREATE INDEX community_items_by_community ON community_items (community_id, n);
CREATE TABLE community_edits (
    item_id         TEXT NOT NULL REFERENCES community_items (id) ON DELETE CASCADE,
    n               BIGINT NOT NULL,
    tbs             BYTEA NOT NULL,
    sig             BYTEA NOT NULL,
    PRIMARY KEY (item_id, n)
);
CREATE TABLE community_likes (
    item_id         TEXT NOT NULL REFERENCES community_items (id) ON DELETE CASCADE,
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (item_id, account_id)
);
CREATE TABLE community_reports (
    id              BIGSERIAL PRIMARY KEY,
    community_id    TEXT NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    item_id         TEXT NOT NULL REFERENCES community_items (id) ON DELETE CASCADE,
    reporter_id     BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tbs             BYTEA NOT NULL,
    sig             BYTEA NOT NULL,
    open            BIGINT NOT NULL DEFAULT 1,
    created_at      BIGINT NOT NULL,
    UNIQUE (item_id, reporter_id)
);
CREATE INDEX community_reports_open ON community_reports (community_id, open, id);
CREATE TABLE community_modlog (
    n               BIGSERIAL PRIMARY KEY,
    community_id    TEXT NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    moderator_id    BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    tbs             BYTEA NOT NULL,
    sig             BYTEA NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX community_modlog_by_community ON community_modlog (community_id, n);
CREATE TABLE community_blobs (                 -- files of posts (§9.10.6)
    blob_id         TEXT PRIMARY KEY,
    item_id         TEXT NOT NULL REFERENCES community_items (id) ON DELETE CASCADE,
    community_id    TEXT NOT NULL REFERENCES communities (id) ON DELETE CASCADE
);
CREATE INDEX community_blobs_by_item ON community_blobs (item_id);
CREATE INDEX community_blobs_by_community ON community_blobs (community_id);
CREATE TABLE community_seen (
    id              TEXT PRIMARY KEY,              -- action ids inside the replay window
    at              BIGINT NOT NULL
);
CREATE INDEX community_seen_by_age ON community_seen (at);
