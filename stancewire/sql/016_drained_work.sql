-- What the last fully completed run asked the store for (its pending-work queries, with their models and versions)
-- and the data_version token it left. Each of those answers was empty when that run ended, so while the token is the
-- same they still are: a run with nothing new answers them without scanning the store (Store.mark_drained).
CREATE TABLE drained_work (
    token UUID NOT NULL,
    work_key VARCHAR NOT NULL
);
COMMENT ON TABLE drained_work IS 'Pending-work queries known to be empty while data_version keeps this token.';
