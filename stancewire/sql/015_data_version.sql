-- Publishing copies the whole working database over the published file. A run that changed no data (nothing new
-- fetched, no claim or override edited) need not: every write that changes rows of a data table gives this one row
-- a new token in the same transaction, and a run publishes only when the published file's token differs
-- (stancewire/snapshot.py). Run bookkeeping (runs, stage_runs, validation_results, fetch state, source health) does
-- not count as data.
CREATE TABLE data_version (
    token UUID NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL
);
INSERT INTO data_version VALUES (uuid(), now());
COMMENT ON TABLE data_version IS 'One row: a token that changes with every change to the store''s data, and when it last changed.';
