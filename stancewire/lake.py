"""Parquet export of the published database for lake use, and DuckDB views that read it back.

Layout of an export directory:

    OUT_DIR/manifest.json                    what was exported, from which database and run, rows and bytes per table
    OUT_DIR/views.sql                        one CREATE OR REPLACE VIEW per table (and the analyst views)
    OUT_DIR/<table>/data_0.parquet           small tables (claims, runs, sources, entities, ...)
    OUT_DIR/<table>/date=YYYY-MM-DD/source_key=<host>/data_0.parquet   tables with a row per article or document

Tables that hold rows of articles (a NOT NULL `article_id` column) and `documents` are hive-partitioned by `date`, the
article's UTC publication day (fetch day when unknown), and `source_key`, the host of the fetched URL or else the
source as given, lowercased and reduced to [a-z0-9._-]. `source_key` is not named `source` because `articles` and
`documents` already have a `source` column. The export reads a read-only connection to the published file, so it
never blocks and is never blocked by a run; it is written beside OUT_DIR and swapped in whole.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import functools
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from stancewire.schema import StoreError, schema_version
from stancewire.snapshot import SANDBOX, fsync_dir, open_readonly, work_path

PARTITION_COLUMNS = ("date", "source_key")
MANIFEST = "manifest.json"
VIEWS_FILE = "views.sql"
FORMAT_VERSION = 1
PAYLOAD = ("documents", "payload")  # raw fetched bytes: most of a store's size, left out unless asked for
_HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
_HIVE_TYPES = "{'date': DATE, 'source_key': VARCHAR}"
_WORKERS = 4  # threads writing or deleting files at once


class ExportError(RuntimeError):
    """The export cannot be done as asked; any previous export is left as it was."""


@dataclass(frozen=True)
class TableExport:
    name: str
    rows: int
    partitioned: bool
    files: int
    bytes: int


@dataclass(frozen=True)
class ExportResult:
    out_dir: Path
    tables: list[TableExport]
    seconds: float

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    @property
    def bytes(self) -> int:
        return sum(t.bytes for t in self.tables)


def _sql_str(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _source_key(uri: str, source: str) -> str:
    """SQL: the host of an http(s) `uri`, else `source`, as a safe path component (NULL when neither is known)."""
    host = rf"regexp_extract(lower({uri}), '^https?://(?:[^@/?#]*@)?([^/:?#]+)', 1)"
    raw = f"coalesce(nullif({host}, ''), lower({source}))"
    return f"nullif(left(trim(regexp_replace({raw}, '[^a-z0-9._-]+', '_', 'g'), '_.'), 100), '')"


_KEY_VIEWS = f"""
CREATE OR REPLACE TEMP VIEW _lake_article_keys AS
SELECT a.article_id,
       CAST(timezone('UTC', coalesce(a.published, d.fetched_at)) AS DATE) AS date,
       {_source_key("coalesce(d.uri, a.url)", "coalesce(d.source, a.source)")} AS source_key
FROM articles a LEFT JOIN documents d ON d.doc_id = a.doc_id;
CREATE OR REPLACE TEMP VIEW _lake_document_keys AS
SELECT d.doc_id,
       CAST(timezone('UTC', coalesce(k.published, d.fetched_at)) AS DATE) AS date,
       {_source_key("d.uri", "d.source")} AS source_key
FROM documents d LEFT JOIN (SELECT doc_id, max(published) AS published FROM articles GROUP BY doc_id) k USING (doc_id);
"""


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, bool]]]:
    """Base tables of the store (its version records aside) → [(column, nullable)] in order."""
    rows = con.execute(
        "SELECT c.table_name, c.column_name, c.is_nullable FROM duckdb_columns() c JOIN duckdb_tables() t "
        "ON t.table_oid = c.table_oid WHERE c.schema_name = 'main' AND NOT t.temporary "
        "AND c.table_name NOT IN ('schema_version', 'data_version') ORDER BY c.table_name, c.column_index"
    ).fetchall()
    tables: dict[str, list[tuple[str, bool]]] = {}
    for table, column, nullable in rows:
        tables.setdefault(table, []).append((column, nullable))
    return tables


def _key_view(table: str, columns: list[tuple[str, bool]]) -> tuple[str, str] | None:
    """(key view, join column) for a table partitioned by article or document; None for a small table."""
    if table == "documents":
        return "_lake_document_keys", "doc_id"
    if ("article_id", False) in columns:
        return "_lake_article_keys", "article_id"
    return None


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*.parquet") if p.is_file())


def _export_table(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[tuple[str, bool]], directory: Path, payloads: bool
) -> TableExport:
    names = [c for c, _ in columns if payloads or (table, c) != PAYLOAD]
    select = ", ".join(f"t.{_ident(c)}" for c in names)
    options = "FORMAT parquet, COMPRESSION zstd"
    key = _key_view(table, columns)
    if key is None:
        directory.mkdir()
        rows = con.execute(
            f"COPY (SELECT {select} FROM {_ident(table)} t) TO {_sql_str(directory / 'data_0.parquet')} ({options})"
        ).fetchall()[0][0]
    else:
        clash = set(PARTITION_COLUMNS) & set(names)
        if clash:
            raise ExportError(f"table {table} has a column named {sorted(clash)[0]}, which the export partitions by")
        view, on = key
        rows = con.execute(
            f"COPY (SELECT {select}, k.date, k.source_key FROM {_ident(table)} t LEFT JOIN {view} k "
            f"ON k.{on} = t.{on}) TO {_sql_str(directory)} ({options}, PARTITION_BY (date, source_key))"
        ).fetchall()[0][0]
        if rows == 0:  # nothing written: one empty file keeps the table readable, partition columns included
            empty = directory / f"date={_HIVE_NULL}" / f"source_key={_HIVE_NULL}"
            empty.mkdir(parents=True)
            con.execute(
                f"COPY (SELECT {select} FROM {_ident(table)} t LIMIT 0) TO {_sql_str(empty / 'data_0.parquet')} "
                f"({options})"
            )
    files = _files(directory)
    return TableExport(table, int(rows), key is not None, len(files), sum(p.stat().st_size for p in files))


def _export_all(
    con: duckdb.DuckDBPyConnection, tables: dict[str, list[tuple[str, bool]]], staging: Path, payloads: bool
) -> list[TableExport]:
    """Export several tables at once, each on its own cursor: writing many small files is bound by file system
    latency more than by CPU."""

    def one(table: str) -> TableExport:
        with con.cursor() as cursor:  # temporary views belong to a cursor
            cursor.execute(_KEY_VIEWS)
            return _export_table(cursor, table, tables[table], staging / table, payloads)

    with ThreadPoolExecutor(_WORKERS) as pool:
        return list(pool.map(one, tables))


def _read_parquet(out_dir: Path, table: TableExport) -> str:
    glob = _sql_str(out_dir / table.name / "**" / "*.parquet")
    if table.partitioned:
        return f"read_parquet({glob}, hive_partitioning = true, hive_types = {_HIVE_TYPES})"
    return f"read_parquet({glob}, hive_partitioning = false)"


def views_sql(out_dir: Path, tables: Sequence[TableExport], analyst_views: Sequence[tuple[str, str]] = ()) -> str:
    """One view per exported table over its Parquet files (absolute paths: the file works from any directory),
    then the store's analyst views (`v_*`), which read the table views by name."""
    lines = [
        f"-- stancewire lake views over {out_dir}; run in DuckDB: .read {out_dir / VIEWS_FILE}",
        "-- Partitioned tables carry two more columns: date (DATE) and source_key (VARCHAR).",
    ]
    lines += [f"CREATE OR REPLACE VIEW {_ident(t.name)} AS SELECT * FROM {_read_parquet(out_dir, t)};" for t in tables]
    lines += [f"{sql.rstrip().rstrip(';')};" for _, sql in analyst_views]
    return "\n".join(lines) + "\n"


def _analyst_views(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(name, CREATE OR REPLACE VIEW statement) of the store's views, each after the views it reads."""
    rows = con.execute(
        "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal AND NOT temporary AND schema_name = 'main' "
        "ORDER BY view_name"
    ).fetchall()
    pending = {name: sql.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1) for name, sql in rows}
    reads = {n: {m for m in pending if m != n and re.search(rf"\b{m}\b", sql)} for n, sql in pending.items()}
    ordered: list[tuple[str, str]] = []
    while pending:
        ready = [n for n in pending if not reads[n] & pending.keys()] or list(pending)  # views never form a cycle
        for name in ready:
            ordered.append((name, pending.pop(name)))
    return ordered


@functools.cache
def _linux_call(name: str) -> Callable[..., int] | None:
    """A libc function only Linux has (renameat2, syncfs), or None."""
    if not sys.platform.startswith("linux"):
        return None
    return getattr(ctypes.CDLL(None, use_errno=True), name, None)


def _flush(root: Path) -> None:
    """Make every file under `root` durable, so a crash after the swap cannot leave a half-written export in place:
    one syncfs of its filesystem on Linux (one fsync per file costs milliseconds, and exports have thousands)."""
    syncfs = _linux_call("syncfs")
    if syncfs is not None:
        fd = os.open(root, os.O_RDONLY)
        try:
            if syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    for directory, _, files in os.walk(root):
        for name in [*files, "."]:
            fd = os.open(os.path.join(directory, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one step (Linux renameat2 RENAME_EXCHANGE); False where that is unsupported."""
    renameat2 = _linux_call("renameat2")
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _remove(root: Path) -> None:
    """Delete an export tree, a table per thread: it holds a file per table, day and source, and deleting them one
    after the other is what replacing an export mostly costs."""
    if not root.exists():
        return
    with ThreadPoolExecutor(_WORKERS) as pool:
        tables = [entry.path for entry in os.scandir(root) if entry.is_dir()]
        list(pool.map(functools.partial(shutil.rmtree, ignore_errors=True), tables))
    shutil.rmtree(root, ignore_errors=True)


def _swap_in(new: Path, out_dir: Path, old: Path) -> None:
    """Put `new` at `out_dir` and delete what was there. Readers see the old export or the new one, never a mix."""
    if not out_dir.exists():
        os.rename(new, out_dir)
    elif _exchange(new, out_dir):
        _remove(new)  # now holds the previous export
    else:  # two renames: for an instant out_dir is absent, but never partial
        os.rename(out_dir, old)
        os.rename(new, out_dir)
        _remove(old)
    fsync_dir(out_dir.parent)


@contextmanager
def _export_lock(out_dir: Path) -> Iterator[None]:
    """One export per directory at a time; the holder removes what exports killed midway left beside it."""
    with open(out_dir.parent / f".{out_dir.name}.export.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        for stale in out_dir.parent.glob(f".{out_dir.name}.export-*"):
            _remove(stale)
        yield


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.is_symlink():
        raise ExportError(f"{out_dir} is a symbolic link: give the directory it points to")
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} exists and is not a directory: choose a directory for the export")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MANIFEST).is_file():
        raise ExportError(
            f"{out_dir} is not empty and holds no stancewire export ({MANIFEST}): refusing to replace it; "
            "choose a new or empty directory"
        )


def _last_run(con: duckdb.DuckDBPyConnection) -> dict[str, str] | None:
    row = con.execute(
        "SELECT run_id, CAST(finished_at AS VARCHAR) FROM runs WHERE status = 'succeeded' "
        "ORDER BY finished_at DESC LIMIT 1"
    ).fetchall()
    return {"run_id": row[0][0], "finished_at": row[0][1]} if row else None


def _data_version(con: duckdb.DuckDBPyConnection) -> str | None:
    """The store's data_version token (None in a store older than it)."""
    if not con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = 'data_version'").fetchall():
        return None
    return con.execute("SELECT CAST(token AS VARCHAR) FROM data_version").fetchall()[0][0]


def exported(out_dir: str | Path, db_path: str | Path) -> bool:
    """Whether `out_dir` holds a whole export of the published database's current data, so exporting again
    would write the same files."""
    try:
        manifest = json.loads((Path(out_dir) / MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("database") != os.path.abspath(db_path) or manifest.get("data_version") is None:
            return False
        with open_readonly(db_path) as con:
            return manifest["data_version"] == _data_version(con)
    except (OSError, ValueError, StoreError, duckdb.Error):
        return False


def export(
    db_path: str | Path,
    out_dir: str | Path,
    tables: Sequence[str] | None = None,
    *,
    payloads: bool = False,
) -> ExportResult:
    """Write the published database's tables (all, or `tables`) as Parquet under `out_dir`, replacing a previous
    export there as a whole, with `manifest.json` and `views.sql`. `payloads` includes documents.payload.

    Raises StoreError when the database cannot be read and ExportError when the export cannot be written.
    """
    started = time.perf_counter()
    out = Path(os.path.abspath(out_dir))
    _check_out_dir(out)
    with open_readonly(db_path) as con:
        available = _tables(con)
        chosen = list(dict.fromkeys(tables)) if tables else list(available)
        unknown = [t for t in chosen if t not in available]
        if unknown:
            raise ExportError(f"no table {', '.join(unknown)} in {db_path}; tables: {', '.join(available)}")
        out.parent.mkdir(parents=True, exist_ok=True)
        with _export_lock(out):
            _check_out_dir(out)  # again: another export may have created it while we waited
            staging = out.parent / f".{out.name}.export-{os.getpid()}"
            try:
                staging.mkdir()
                written = _export_all(con, {t: available[t] for t in chosen}, staging, payloads)
                analyst = _analyst_views(con) if not tables else []
                (staging / VIEWS_FILE).write_text(views_sql(out, written, analyst), encoding="utf-8")
                manifest = {
                    "format_version": FORMAT_VERSION,
                    "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "database": os.path.abspath(db_path),
                    "schema_version": schema_version(con),
                    "last_run": _last_run(con),
                    "data_version": None if tables else _data_version(con),
                    "partition_columns": list(PARTITION_COLUMNS),
                    "payloads": payloads,
                    "tables": {
                        t.name: {"rows": t.rows, "partitioned": t.partitioned, "files": t.files, "bytes": t.bytes}
                        for t in written
                    },
                }
                (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
                _flush(staging)
                _swap_in(staging, out, out.parent / f".{out.name}.export-old-{os.getpid()}")
            except (OSError, duckdb.Error) as exc:
                raise ExportError(f"export to {out} failed; any previous export there is unchanged: {exc}") from exc
            finally:
                _remove(staging)
    return ExportResult(out, written, time.perf_counter() - started)


def create_views(out_dir: str | Path, views_db: str | Path) -> list[str]:
    """Run an export's views.sql in the DuckDB file `views_db` (created if missing); returns the view names."""
    out = Path(os.path.abspath(out_dir))
    script = out / VIEWS_FILE
    if not script.is_file():
        raise ExportError(f"{script} not found: {out} holds no stancewire export")
    target = Path(os.path.abspath(views_db))
    if out in target.parents:
        raise ExportError(f"{target} is inside the export directory, which the next export replaces")
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    store = Path(manifest["database"])
    if target in (store, work_path(store)):
        raise ExportError(f"{target} is the stancewire database itself: give another file for the views")
    try:
        with duckdb.connect(str(target)) as con:
            con.execute(script.read_text(encoding="utf-8"))
            return [
                name
                for (name,) in con.execute(
                    "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main' ORDER BY view_name"
                ).fetchall()
            ]
    except duckdb.Error as exc:
        raise ExportError(f"cannot create the views in {target}: {exc}") from exc


def open_lake(out_dir: str | Path) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with the export's views (its tables and v_* views, read from its Parquet files),
    then blinded to every file outside the export and to extensions, like the store's sandbox. DuckDB's
    allowed_directories also lets COPY write into the export, so callers run only SELECT statements
    (`only_selects`)."""
    out = Path(os.path.abspath(out_dir))
    script = out / VIEWS_FILE
    if not script.is_file():
        raise ExportError(f"{script} not found: {out} holds no stancewire export (stancewire export {out_dir})")
    con = duckdb.connect(":memory:")
    try:
        con.execute(script.read_text(encoding="utf-8"))
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET allowed_directories = ?", [[f"{out}/"]])
        for setting in SANDBOX:
            con.execute(f"SET {setting} = false")
        con.execute("SET lock_configuration = true")
    except duckdb.Error as exc:
        con.close()
        raise ExportError(f"cannot read the export in {out}: {str(exc).splitlines()[0]}") from exc
    return con


def only_selects(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse any statement but SELECT (ValueError naming it)."""
    for statement in con.extract_statements(sql):
        if statement.type != duckdb.StatementType.SELECT:
            raise ValueError(f"only SELECT runs on a lake, not {statement.type.name}")
