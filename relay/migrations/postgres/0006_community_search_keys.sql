-- Search inside one community (SPEC.md §9.10.5): every word form in the
-- full-text index is prefixed with the last 8 hex digits of its
-- community's id and `x`, so the index's list for a word holds that
-- community's items only, not every community's. A word in a few percent
-- of the items used to cost a scan of every item of the community and of
-- every item holding the word anywhere. Keep in step with search.rs
-- (`pg_key`).
DROP INDEX community_items_fts;
ALTER TABLE community_items DROP COLUMN search_tsv;
ALTER TABLE community_items ADD COLUMN search_tsv tsvector
    GENERATED ALWAYS AS (to_tsvector('simple',
        regexp_replace(search_text, '(\S+)', right(community_id, 8) || 'x\1', 'g'))) STORED;
CREATE INDEX community_items_fts ON community_items USING GIN (search_tsv);
-- The relay picks how to search by the planner's estimate of a word's
-- matches (store.rs, `pg_window`): keep statistics on more word forms.
ALTER TABLE community_items ALTER COLUMN search_tsv SET STATISTICS 1000;
