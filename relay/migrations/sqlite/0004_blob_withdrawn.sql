-- A blob its uploader withdrew (SPEC.md §9.8): the row stays until it
-- expires, its bytes are gone and its size refunded, and reading it
-- answers 410, so a receiver can tell "withdrawn" from "not uploaded" (404).
-- Keep in step with the other backend's 0004_blob_withdrawn.sql.
ALTER TABLE blobs ADD COLUMN withdrawn BIGINT NOT NULL DEFAULT 0;
