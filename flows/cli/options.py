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


# Exit codes, the same for every command (README: "Exit codes"). 2 is also what typer gives a mistyped option.
FAILED = 1  # the command could not finish: the store is busy or broken, publishing or exporting failed
BAD_INPUT = 2  # a parameter, option, file or source given is wrong; nothing was written
VALIDATION_FAILED = 3  # the data failed its expectations; nothing was published
MODELS_MISSING = 4  # a model could not be loaded or pulled (with --require-models, the run's models)


def fail(message: str, code: int = FAILED) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)
