-- Nothing to change on PostgreSQL: its word forms carry their community's
-- key already (see 0007_community_search_buckets.sql); SQLite's index
-- gets them in ../sqlite/0008_community_fts_keys.sql.
SELECT 1;
