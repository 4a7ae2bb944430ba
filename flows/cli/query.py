"""`stancewire query`: read-only SQL on the published database."""

import json
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

    if fmt not in ("table", "csv", "json"):
        fail(f"query failed: --format must be table, csv or json, not {fmt!r}")
    if not sql.strip():
        fail("query failed: the SQL is empty")
    try:
        with open_readonly(db_path(db), sandboxed=True) as con:
            relation = con.sql(sql)
            if relation is None:
                fail("query failed: the statement returns no rows; give a SELECT")
            frame = relation.pl()
    except (duckdb.Error, StoreError) as exc:
        fail(f"query failed: {str(exc).splitlines()[0]}")
    if fmt == "csv":
        typer.echo(as_text(frame, nested_as_json=True).write_csv(), nl=False)
    elif fmt == "json":
        typer.echo(as_text(frame, nested_as_json=False).write_json())
    else:
        with pl.Config(tbl_rows=max_rows, tbl_cols=-1, fmt_str_lengths=80, tbl_width_chars=200):
            typer.echo(frame)


def as_text(frame: pl.DataFrame, *, nested_as_json: bool) -> pl.DataFrame:
    """Binary columns as base64 (raw payloads are bytes), and for CSV nested ones (lists, structs) as JSON text."""
    columns = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Binary:
            columns.append(pl.col(name).bin.encode("base64"))
        elif nested_as_json and dtype.is_nested():
            values = [
                None if v is None else json.dumps(v, ensure_ascii=False, default=str) for v in frame[name].to_list()
            ]
            columns.append(pl.Series(name, values, dtype=pl.String))
    return frame.with_columns(columns) if columns else frame
