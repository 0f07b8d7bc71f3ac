-- SQLite's word forms get their community's key in this step
-- (../sqlite/0008_community_fts_keys.sql); PostgreSQL's have it already
-- (0007). Here the full-text index stops keeping a pending list: with
-- `fastupdate` on (the default), new items' words wait in an unsorted list
-- of up to gin_pending_list_limit (4 MB) that every search reads in full
-- and matches against each of its keys until a vacuum merges it, which put
-- tens to hundreds of milliseconds on searches after a burst of posting.
-- Each item's forms now go straight into the index's lists (a little more
-- work per post, none per search). Keep in step with search.rs.
ALTER INDEX community_items_fts SET (fastupdate = off);
SELECT gin_clean_pending_list('community_items_fts'::regclass);
