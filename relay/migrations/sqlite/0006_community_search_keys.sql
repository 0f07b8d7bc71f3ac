-- Nothing to change on SQLite: its index rows already start with the
-- community's token (see ../postgres/0006_community_search_keys.sql).
SELECT 1;
