"""Validate stage: every table's Great Expectations suite, results kept in `validation_results`."""

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from expectations import ValidationReport, validate_all
from stancewire.store import Store


@task(name="validate", cache_policy=NO_CACHE)
def validate_task(store: Store, run_id: str) -> ValidationReport:
    report = validate_all(store, run_id)
    store.write_validation(report.rows, run_id)
    log = get_run_logger()
    (log.info if report.success else log.error)("validation %s", "passed" if report.success else "FAILED")
    return report
