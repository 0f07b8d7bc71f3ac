-- Search inside one community (SPEC.md §9.10.5) in buckets: every item
-- gets its number in its community (`seq`, from `communities.items`), and
-- each word form in the full-text index is prefixed with the last 8 hex
-- digits of the community's id, the item's bucket (seq / 1024) and `x`.
-- The index's list for one key then holds at most 1,024 items, and the
-- relay asks for the newest buckets first (store.rs, `pg_window`): a word
-- in a few percent of a big community's items no longer costs reading
-- every one of them. Keep in step with search.rs (`pg_key`, `PG_BUCKET`).
ALTER TABLE communities ADD COLUMN items BIGINT NOT NULL DEFAULT 0;
ALTER TABLE community_items ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
DROP INDEX community_items_fts;
ALTER TABLE community_items DROP COLUMN search_tsv;
UPDATE community_items i SET seq = r.rn
    FROM (SELECT n, ROW_NUMBER() OVER (PARTITION BY community_id ORDER BY n) AS rn
          FROM community_items) r
    WHERE r.n = i.n;
UPDATE communities c SET items =
    (SELECT COUNT(*) FROM community_items i WHERE i.community_id = c.id);
ALTER TABLE community_items ADD COLUMN search_tsv tsvector
    GENERATED ALWAYS AS (to_tsvector('simple',
        regexp_replace(search_text, '(\S+)',
            right(community_id, 8) || (seq / 1024)::text || 'x\1', 'g'))) STORED;
CREATE INDEX community_items_fts ON community_items USING GIN (search_tsv);
