"""`stancewire query`: read-only SQL on the published database."""

import json
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from flows.cli.options import BAD_INPUT, DbOption, db_path, fail


def query(
    sql: Annotated[str, typer.Argument(help="SQL to run read-only against the published database")],
    db: DbOption = None,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json | parquet (with --output)")] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the result to this file")] = None,
    vertical: Annotated[bool, typer.Option(help="Table format: one 'column: value' line each, row by row")] = False,
    max_rows: Annotated[int, typer.Option(help="Rows to show in table format")] = 50,
    lake: Annotated[
        Path | None,
        typer.Option(help="Query a Parquet export (stancewire export DIR) through its views instead of the database"),
    ] = None,
) -> None:
    """Run a read-only SQL query and print the result."""
    import duckdb

    from stancewire.lake import ExportError, only_selects, open_lake
    from stancewire.schema import StoreError
    from stancewire.snapshot import open_readonly

    if fmt not in ("table", "csv", "json", "parquet"):
        fail(f"query failed: --format must be table, csv, json or parquet, not {fmt!r}", BAD_INPUT)
    if fmt == "parquet" and output is None:
        fail("query failed: --format parquet writes a file: give it with --output FILE", BAD_INPUT)
    if not sql.strip():
        fail("query failed: the SQL is empty", BAD_INPUT)
    try:
        with open_lake(lake) if lake else open_readonly(db_path(db), sandboxed=True) as con:
            if lake:
                only_selects(con, sql)
            relation = con.sql(sql)
            if relation is None:
                fail("query failed: the statement returns no rows; give a SELECT", BAD_INPUT)
            frame = relation.pl()
    except (StoreError, ExportError) as exc:
        fail(f"query failed: {str(exc).splitlines()[0]}")
    except ValueError as exc:
        fail(f"query failed: {exc}", BAD_INPUT)
    except duckdb.Error as exc:  # the SQL: syntax, unknown names, refused statements
        fail(f"query failed: {str(exc).splitlines()[0]}", BAD_INPUT)
    if fmt == "parquet":
        frame.write_parquet(output)
        typer.echo(f"{frame.height} rows written to {output}")
        return
    if fmt == "csv":
        text = as_text(frame, nested_as_json=True).write_csv()
    elif fmt == "json":
        text = as_text(frame, nested_as_json=False).write_json() + "\n"
    elif vertical:
        text = as_vertical(frame.head(max_rows))
    else:
        with pl.Config(tbl_rows=max_rows, tbl_cols=-1, fmt_str_lengths=60, tbl_width_chars=200):
            text = f"{frame}\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"{frame.height} rows written to {output}")


def as_vertical(frame: pl.DataFrame, width: int = 100) -> str:
    """Each row as `column: value` lines (long values cut at `width` characters): readable for wide views."""
    name_width = max((len(c) for c in frame.columns), default=0)
    blocks = []
    for n, row in enumerate(as_text(frame, nested_as_json=True).iter_rows(named=True), start=1):
        lines = [f"-- row {n} " + "-" * 20]
        for column, value in row.items():
            shown = "" if value is None else " ".join(str(value).split())
            lines.append(f"{column:>{name_width}}: {shown[:width] + ('…' if len(shown) > width else '')}")
        blocks.append("\n".join(lines))
    return "\n".join(blocks) + ("\n" if blocks else "(no rows)\n")


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
