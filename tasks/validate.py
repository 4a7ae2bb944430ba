"""Validate stage: every table's Great Expectations suite over the rows the run wrote (or every row), results kept in
`validation_results`."""

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from expectations import ValidationReport, validate_all
from stancewire.store import Store


@task(name="validate", cache_policy=NO_CACHE)
def validate_task(store: Store, run_id: str, scope: str = "new") -> ValidationReport:
    report = validate_all(store, run_id, scope=scope)
    store.write_validation(report.rows, run_id)
    log = get_run_logger()
    (log.info if report.success else log.error)(
        "validation of %s %s",
        "every row" if scope == "full" else "this run's rows",
        "passed" if report.success else "FAILED",
    )
    return report
