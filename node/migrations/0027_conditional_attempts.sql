-- kovan node schema, version 27: how many times a timed release failed for
-- a reason that may pass (SPEC.md §6.10.4); it is given up after a day of
-- tries.
ALTER TABLE conditional_timers ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
