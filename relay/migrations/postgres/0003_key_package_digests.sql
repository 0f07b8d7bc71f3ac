-- Keep in step with the other backend's 0003_key_package_digests.sql.
-- A KeyPackage is handed out once: the same one uploaded twice for a device
-- is refused (SPEC.md §9.4). Rows from before have no digest.
ALTER TABLE key_packages ADD COLUMN digest BYTEA;
CREATE UNIQUE INDEX key_packages_unique ON key_packages (device_peer_id, digest);
