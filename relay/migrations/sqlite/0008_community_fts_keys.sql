-- Search inside one community on SQLite (SPEC.md §9.10.5): every word form
-- in the FTS5 index is prefixed with the last 8 hex digits of its
-- community's id and `x`, as on PostgreSQL, so a form's list holds that
-- community's items only; the rows no longer start with a community token
-- whose list (every item of the community) each query had to read. Keep
-- in step with search.rs (`fts5_body`). search_text is forms joined by
-- single spaces.
DELETE FROM community_fts;
INSERT INTO community_fts (rowid, body)
    SELECT n, substr(community_id, -8) || 'x' ||
        replace(search_text, ' ', ' ' || substr(community_id, -8) || 'x')
    FROM community_items WHERE search_text != '';
