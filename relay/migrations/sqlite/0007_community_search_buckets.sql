-- Every item's number in its community (`seq`, from `communities.items`),
-- as on PostgreSQL, whose search buckets are made of it (migration 0007
-- there). FTS5 needs no buckets: it reads a community's matches newest
-- first and stops.
ALTER TABLE communities ADD COLUMN items INTEGER NOT NULL DEFAULT 0;
ALTER TABLE community_items ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE community_items SET seq = r.rn
    FROM (SELECT n, ROW_NUMBER() OVER (PARTITION BY community_id ORDER BY n) AS rn
          FROM community_items) AS r
    WHERE r.n = community_items.n;
UPDATE communities SET items =
    (SELECT COUNT(*) FROM community_items i WHERE i.community_id = communities.id);
