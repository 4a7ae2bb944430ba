"""`stancewire export`: the published tables as Parquet for lake use, with DuckDB views to read them back."""

from pathlib import Path
from typing import Annotated

import typer

from flows.cli.options import DbOption, db_path, fail


def export(
    out_dir: Annotated[Path, typer.Argument(help="Directory to write (replaced as a whole by each export)")],
    db: DbOption = None,
    table: Annotated[list[str] | None, typer.Option("--table", "-t", help="Export only this table; repeatable")] = None,
    views_db: Annotated[
        Path | None, typer.Option("--views-db", help="DuckDB file to create (or update) with a view per table")
    ] = None,
    payloads: Annotated[
        bool, typer.Option("--payloads", help="Include documents.payload, the raw fetched bytes")
    ] = False,
) -> None:
    """Write the published tables as Parquet, partitioned by date and source; read them back with OUT_DIR/views.sql."""
    from stancewire.lake import VIEWS_FILE, ExportError, create_views
    from stancewire.lake import export as export_tables
    from stancewire.schema import StoreError

    try:
        result = export_tables(db_path(db), out_dir, table, payloads=payloads)
        views = create_views(result.out_dir, views_db) if views_db else []
    except (ExportError, StoreError) as exc:
        fail(f"export failed: {exc}")
    width = max(len(t.name) for t in result.tables)
    for t in result.tables:
        layout = "by date/source" if t.partitioned else "one file"
        typer.echo(f"{t.name:<{width}}  {t.rows:>10,} rows  {t.files:>6,} files  {t.bytes / 1e6:>9.2f} MB  {layout}")
    typer.echo(
        f"exported {result.rows:,} rows of {len(result.tables)} tables to {result.out_dir} "
        f"({result.bytes / 1e6:.2f} MB) in {result.seconds:.2f} s; views: {result.out_dir / VIEWS_FILE}"
    )
    if views_db:
        typer.echo(f"{len(views)} views in {views_db}")
