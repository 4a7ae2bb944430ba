-- Nightly runs validate the rows they wrote; `stancewire validate --full` (and the weekly deployment) every row.
ALTER TABLE validation_results ADD COLUMN scope VARCHAR;
COMMENT ON COLUMN validation_results.scope IS 'new: the rows this run wrote were validated | full: every row (NULL: before scopes, full)';
