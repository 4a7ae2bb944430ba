"""What every command shares: the --db option, where it points by default, and the one-line failure."""

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from stancewire.config import build_params

DbOption = Annotated[
    Path | None, typer.Option("--db", help="DuckDB file (default: STANCEWIRE_DB_PATH or data/stancewire.duckdb)")
]
WaitOption = Annotated[float, typer.Option(help="Seconds to wait for a run in progress")]


def db_path(db: Path | None) -> Path:
    return Path(db or build_params().store.db_path)


def fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(1)
