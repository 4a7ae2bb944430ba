"""The store's schema: numbered migrations (tables only), then every view, defined once in sql/views.sql and
applied each time a run opens the store."""

from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb


class StoreError(RuntimeError):
    """The database cannot be used as asked."""


def _load_migrations() -> list[tuple[int, str]]:
    files = sorted(f for f in resources.files("stancewire").joinpath("sql").iterdir() if f.name[:3].isdigit())
    migrations = [(int(f.name.split("_", 1)[0]), f.read_text(encoding="utf-8")) for f in files]
    if [v for v, _ in migrations] != list(range(1, len(migrations) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n: {[f.name for f in files]}")
    return migrations


MIGRATIONS = _load_migrations()
SCHEMA_VERSION = MIGRATIONS[-1][0]
VIEWS = resources.files("stancewire").joinpath("sql", "views.sql").read_text(encoding="utf-8")


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> Any:
    return con.execute(sql, params).fetchall()[0][0]  # fetchone() would leave the result open (DuckDB 2)


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The schema version of the database; 0 when it has no stancewire schema."""
    exists = scalar(
        con, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'schema_version'"
    )
    return (scalar(con, "SELECT max(version) FROM schema_version") or 0) if exists else 0


def check_not_newer(version: int, path: Path) -> None:
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has schema version {version} but this stancewire knows only up to {SCHEMA_VERSION}: "
            "upgrade stancewire to use it"
        )


def migrate(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Apply the migrations the database lacks, each in its own transaction, then (re)define every view."""
    current = schema_version(con)
    check_not_newer(current, path)
    for version, sql in MIGRATIONS[current:]:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            con.execute(sql)
            con.execute("INSERT INTO schema_version VALUES (?)", [version])
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    con.execute(VIEWS)
