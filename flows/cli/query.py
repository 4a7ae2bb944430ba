"""`stancewire query`: read-only SQL on the published database."""

from typing import Annotated

import polars as pl
import typer

from flows.cli.options import DbOption, db_path, fail


def query(
    sql: Annotated[str, typer.Argument(help="SQL to run read-only against the published database")],
    db: DbOption = None,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table",
    max_rows: Annotated[int, typer.Option(help="Rows to show in table format")] = 50,
) -> None:
    """Run a read-only SQL query and print the result."""
    import duckdb

    from stancewire.schema import StoreError
    from stancewire.snapshot import open_readonly

    try:
        with open_readonly(db_path(db), sandboxed=True) as con:
            frame = con.sql(sql).pl()
    except (duckdb.Error, StoreError) as exc:
        fail(f"query failed: {exc}")
    if fmt == "csv":
        typer.echo(frame.write_csv(), nl=False)
    elif fmt == "json":
        typer.echo(frame.write_json())
    else:
        with pl.Config(tbl_rows=max_rows, tbl_cols=-1, fmt_str_lengths=80, tbl_width_chars=200):
            typer.echo(frame)
