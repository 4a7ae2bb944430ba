-- A table's suite is not run again while everything it reads is unchanged since it last passed.
ALTER TABLE validation_results ADD COLUMN input_checksum VARCHAR;
ALTER TABLE validation_results ADD COLUMN reused_from VARCHAR;
COMMENT ON COLUMN validation_results.input_checksum IS 'sha256 of the suite (query, expectations, Great Expectations version) and of the columns and content of every table its query reads';
COMMENT ON COLUMN validation_results.reused_from IS 'When the inputs were unchanged: the run whose successful validation of them stands for this one; NULL when validated in this run';
