"""`stancewire validate`: the expectation suites over every row of the store, outside a run."""

import uuid
from typing import Annotated

import typer

from flows.cli.options import BAD_INPUT, VALIDATION_FAILED, DbOption, WaitOption, db_path, fail


def validate(
    full: Annotated[
        bool, typer.Option("--full", help="Every row of every table (the only scope outside a run)")
    ] = False,
    db: DbOption = None,
    wait_s: WaitOption = 30.0,
) -> None:
    """Validate every row of the store with every table's suite (runs validate only the rows they write); the
    outcome is recorded in validation_results. Nothing is published: the data is the published data."""
    from expectations import validate_all
    from stancewire.config import build_params
    from stancewire.snapshot import StoreBusy
    from stancewire.store import Store

    if not full:
        fail("outside a run there are no new rows to validate: pass --full to validate every row", BAD_INPUT)
    run_id = f"validate-{uuid.uuid4()}"
    try:
        with Store.open_run(db_path(db), wait_s=wait_s, memory_limit=build_params().store.memory_limit) as store:
            report = validate_all(store, run_id, scope="full")
            store.write_validation(report.rows, run_id)
    except StoreBusy as exc:
        fail(str(exc))
    typer.echo(report.markdown())
    if not report.success:
        raise typer.Exit(VALIDATION_FAILED)
