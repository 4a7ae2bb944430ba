"""The DuckDB store: the one module that owns the schema and every write.

The user-facing database file is a published snapshot the pipeline never opens for writing. A run writes to a
working database `<db>.work` next to it and `publish()` atomically replaces the published file with a checkpointed
copy, so readers never see a half-written run and never block one. Every write is an idempotent upsert: a run that
crashed leaves the working database behind and the next run simply continues from it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl

from stancewire import frames


class StoreError(RuntimeError):
    """The database cannot be used as asked."""


class StoreBusy(StoreError):
    """Another run holds the working database."""


def _load_migrations() -> list[tuple[int, str]]:
    files = sorted(f for f in resources.files("stancewire").joinpath("sql").iterdir() if f.name.endswith(".sql"))
    migrations = [(int(f.name.split("_", 1)[0]), f.read_text(encoding="utf-8")) for f in files]
    if [v for v, _ in migrations] != list(range(1, len(migrations) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n: {[f.name for f in files]}")
    return migrations


MIGRATIONS = _load_migrations()
SCHEMA_VERSION = MIGRATIONS[-1][0]

_open_here: set[Path] = set()  # working databases this process has open
_open_here_lock = threading.Lock()

_STAGE_STATUSES = ("ok", "skipped", "failed")
_RUN_STATUSES = ("running", "succeeded", "failed", "validation_failed")


def work_path(db_path: str | Path) -> Path:
    return Path(f"{db_path}.work")


def _now() -> datetime:
    return datetime.now(UTC)


def _q(column: str) -> str:
    return f'"{column}"'


def _columns(schema: Mapping[str, Any], alias: str = "") -> str:
    return ", ".join(f"{alias}{_q(c)}" for c in schema)


def _connect(path: Path, read_only: bool, wait_s: float) -> duckdb.DuckDBPyConnection:
    """Connect, retrying with backoff for up to wait_s while another process holds the file's lock."""
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            left = deadline - time.monotonic()
            if "lock" not in str(exc).lower() or left <= 0:
                raise
            time.sleep(min(delay, left))
            delay = min(delay * 2, 2.0)
        else:
            con.execute("SET TimeZone = 'UTC'")
            return con


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> Any:
    return con.execute(sql, params).fetchall()[0][0]  # fetchone() would leave the result open (DuckDB 2)


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The schema version of the database; 0 when it has no stancewire schema."""
    exists = _scalar(
        con, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'schema_version'"
    )
    return (_scalar(con, "SELECT max(version) FROM schema_version") or 0) if exists else 0


def _check_not_newer(version: int, path: Path) -> None:
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has schema version {version} but this stancewire knows only up to {SCHEMA_VERSION}: "
            "upgrade stancewire to use it"
        )


def migrate(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Apply the migrations the database lacks, each in its own transaction."""
    current = schema_version(con)
    _check_not_newer(current, path)
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


def open_readonly(db_path: str | Path, wait_s: float = 10.0) -> duckdb.DuckDBPyConnection:
    """Open the published database for reading.

    DuckDB shares one database instance per file within a process: close an old connection before opening again
    to see a newer snapshot.
    """
    path = Path(db_path)
    if not path.is_file():
        raise StoreError(f"{path} does not exist: no run has been published there yet")
    try:
        con = _connect(path, read_only=True, wait_s=wait_s)
    except duckdb.IOException as exc:
        why = "is locked for writing by another process" if "lock" in str(exc).lower() else "cannot be opened"
        raise StoreError(f"{path} {why}: {exc}") from exc
    version = schema_version(con)
    try:
        if version == 0:
            raise StoreError(f"{path} is not a stancewire database")
        _check_not_newer(version, path)
    except StoreError:
        con.close()
        raise
    return con


def _owner_file(work: Path) -> Path:
    return Path(f"{work}.owner")


def _busy_message(work: Path, exc: Exception, wait_s: float) -> str:
    match = re.search(r"PID (\d+)", str(exc))
    pid = int(match.group(1)) if match else None
    since = None
    try:
        owner = json.loads(_owner_file(work).read_text())
        if owner.get("pid") == pid:
            since = owner.get("since")
    except (OSError, ValueError):
        pass
    who = f"process {pid}" if pid else "another process"
    return (
        f"another run is in progress: {who} holds {work}"
        + (f" since {since}" if since else "")
        + f" (waited {wait_s:g} s). Try again when it has finished, or wait longer."
    )


def _seed_work(db: Path, work: Path) -> None:
    """Start the working database from a copy of the published one, unless another process just created it."""
    tmp = Path(f"{work}.tmp-{os.getpid()}")
    shutil.copyfile(db, tmp)
    try:
        os.link(tmp, work)  # atomic: fails instead of replacing a working database another run created meanwhile
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def _fsync_dir(directory: Path) -> None:
    if os.name == "posix":
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _revision(revision: str | None) -> str:
    """Model revisions are part of primary keys, which cannot be NULL: an unpinned revision is stored as ''."""
    return revision or ""


def _unique(df: pl.DataFrame, key: Sequence[str]) -> pl.DataFrame:
    """One row per key, the last one given."""
    return df.unique(subset=list(key), keep="last", maintain_order=True)


def _model(spec: Any) -> tuple[str | None, str | None]:
    """(id, revision) of a ModelSpec, a {"id", "revision"} mapping, a bare id or None."""
    if spec is None or isinstance(spec, str):
        return spec, None
    if isinstance(spec, Mapping):
        return spec.get("id"), spec.get("revision")
    return spec.id, spec.revision


class Store:
    """Read-write access to the working database of one run. Create it with `Store.open_run`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, db_path: Path) -> None:
        self.con = con
        self.db_path = db_path
        self.work_path = work_path(db_path)
        self._lock = threading.RLock()

    @classmethod
    @contextmanager
    def open_run(cls, db_path: str | Path, wait_s: float = 0.0) -> Iterator[Store]:
        """Open (creating and migrating as needed) the working database of `db_path` for one run.

        Raises StoreBusy when another process still holds it after `wait_s` seconds.
        """
        db = Path(db_path)
        db.parent.mkdir(parents=True, exist_ok=True)
        work = work_path(db)
        with _open_here_lock:  # DuckDB's file lock does not stop a second connection from the same process
            if work.resolve() in _open_here:
                raise StoreBusy(f"this process already has a run open on {work}")
            _open_here.add(work.resolve())
        try:
            if not work.exists() and db.exists():
                _seed_work(db, work)
            try:
                con = _connect(work, read_only=False, wait_s=wait_s)
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise
                raise StoreBusy(_busy_message(work, exc, wait_s)) from exc
            owner = _owner_file(work)
            try:
                owner.write_text(json.dumps({"pid": os.getpid(), "since": _now().isoformat(timespec="seconds")}))
                migrate(con, work)
                yield cls(con, db)
            finally:
                owner.unlink(missing_ok=True)  # before close: once closed, the file may belong to the next run
                con.close()
        finally:
            with _open_here_lock:
                _open_here.discard(work.resolve())

    def publish(self) -> Path:
        """Atomically replace the published database with a snapshot of the working one.

        The copy is taken after a checkpoint while this connection still holds the working database's lock, so no
        other run can change it mid-copy; readers holding the old published file keep reading it.
        """
        with self._lock:
            self.con.execute("CHECKPOINT")
            wal = Path(f"{self.work_path}.wal")
            if wal.exists() and wal.stat().st_size:
                raise StoreError(f"{wal} is not empty after a checkpoint: refusing to publish a partial copy")
            tmp = Path(f"{self.db_path}.tmp-{os.getpid()}")
            try:
                with open(self.work_path, "rb") as src, open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                    dst.flush()
                    os.fsync(dst.fileno())
                os.replace(tmp, self.db_path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            _fsync_dir(self.db_path.parent)
        return self.db_path

    # -- plumbing

    @contextmanager
    def _transaction(self, **batches: pl.DataFrame) -> Iterator[None]:
        """One transaction, with the frames registered as views by name (outside it: unregistering fails in an
        aborted transaction)."""
        with self._lock:
            self.con.complete()  # an unread execute() result on this connection would make register() fail
            for name, df in batches.items():
                self.con.register(name, df.to_arrow())
            try:
                self.con.execute("BEGIN TRANSACTION")
                try:
                    yield
                except BaseException:
                    self.con.execute("ROLLBACK")
                    raise
                self.con.execute("COMMIT")
            finally:
                for name in batches:
                    self.con.unregister(name)

    def _upsert(self, table: str, batch: str, columns: Sequence[str], key: Sequence[str]) -> None:
        """Insert the registered batch (unique by key); existing keys get every other column updated."""
        cols = _columns(columns)
        updates = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in columns if c not in key)
        action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
        self.con.execute(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {batch} ON CONFLICT ({_columns(key)}) {action}"
        )

    def _write(self, table: str, df: pl.DataFrame, key: Sequence[str]) -> int:
        df = _unique(df, key)
        with self._transaction(_batch=df):
            self._upsert(table, "_batch", df.columns, key)
        return df.height

    def _frame(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> pl.DataFrame:
        with self._lock:
            relation = self.con.sql(sql, params=params or None)
            return relation.pl() if relation is not None else pl.DataFrame()

    # -- runs

    def begin_run(self, run_id: str, params: Mapping[str, Any], models: Mapping[str, Any]) -> None:
        """Record a run as running. `models` maps "ner"/"nli" to a ModelSpec, {"id", "revision"} or an id.

        Any other run still marked running was interrupted (this process holds the working database) and is marked
        failed.
        """
        ner_id, ner_rev = _model(models.get("ner"))
        nli_id, nli_rev = _model(models.get("nli"))
        with self._transaction():
            self.con.execute(
                "UPDATE runs SET status = 'failed', summary_md = coalesce(summary_md || '\n\n', '') "
                "|| 'Interrupted: the process ended before the run finished.' "
                "WHERE status = 'running' AND run_id <> ?",
                [run_id],
            )
            self.con.execute(
                "INSERT INTO runs (run_id, started_at, status, params, ner_model, ner_revision, nli_model, "
                "nli_revision) VALUES (?, ?, 'running', ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET "
                "status = 'running', finished_at = NULL, params = excluded.params, ner_model = excluded.ner_model, "
                "ner_revision = excluded.ner_revision, nli_model = excluded.nli_model, "
                "nli_revision = excluded.nli_revision",
                [run_id, _now(), json.dumps(dict(params), default=str), ner_id, ner_rev, nli_id, nli_rev],
            )

    def finish_run(self, run_id: str, status: str, counts: Mapping[str, Any], summary_md: str) -> None:
        if status not in _RUN_STATUSES:
            raise ValueError(f"run status must be one of {_RUN_STATUSES}, not {status!r}")
        with self._transaction():
            updated = _scalar(
                self.con,
                "UPDATE runs SET status = ?, finished_at = ?, counts = ?, summary_md = ? WHERE run_id = ?",
                [status, _now(), json.dumps(dict(counts), default=str), summary_md, run_id],
            )
        if not updated:
            raise StoreError(f"run {run_id} was never begun")

    def record_stage(
        self,
        run_id: str,
        stage: str,
        status: str,
        rows_in: int | None = None,
        rows_out: int | None = None,
        reason: str | None = None,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
    ) -> None:
        if status not in _STAGE_STATUSES:
            raise ValueError(f"stage status must be one of {_STAGE_STATUSES}, not {status!r}")
        row = pl.DataFrame(
            [[run_id, stage, status, rows_in, rows_out, reason, started_at, finished_at]],
            schema={
                "run_id": pl.String,
                "stage": pl.String,
                "status": pl.String,
                "rows_in": pl.Int64,
                "rows_out": pl.Int64,
                "reason": pl.String,
                "started_at": frames.UTC_DATETIME,
                "finished_at": frames.UTC_DATETIME,
            },
            orient="row",
        )
        self._write("stage_runs", row, ["run_id", "stage"])

    # -- writes

    def write_documents(self, df: pl.DataFrame, run_id: str) -> int:
        rows = frames.conform(df, frames.DOCUMENTS).with_columns(run_id=pl.lit(run_id))
        return self._write("documents", rows, ["doc_id"])

    def write_quarantine(self, df: pl.DataFrame, run_id: str) -> int:
        rows = frames.conform(df, frames.QUARANTINE).with_columns(
            run_id=pl.lit(run_id), recorded_at=pl.lit(_now(), frames.UTC_DATETIME)
        )
        return self._write("quarantine", rows, ["item_id", "stage"])

    def write_articles(self, articles: pl.DataFrame, sentences: pl.DataFrame, run_id: str) -> int:
        """Upsert articles and replace all their sentences.

        An article whose text changed loses its entities, NER marks and stance: their offsets point into the old text.
        """
        arts = _unique(frames.conform(articles, frames.ARTICLES), ["article_id"])
        sents = _unique(frames.conform(sentences, frames.SENTENCES), ["sentence_id"]).with_columns(
            run_id=pl.lit(run_id)
        )
        strays = sents.filter(~pl.col("article_id").is_in(arts["article_id"]))
        if strays.height:
            raise ValueError(f"{strays.height} sentences belong to articles not in this batch")
        arts = arts.with_columns(run_id=pl.lit(run_id))
        changed = (
            "SELECT a.article_id FROM articles a JOIN _articles n ON n.article_id = a.article_id "
            "WHERE a.text_hash IS DISTINCT FROM n.text_hash"
        )
        with self._transaction(_articles=arts, _sentences=sents):
            for table in ("entities", "ner_done", "stance"):
                self.con.execute(f"DELETE FROM {table} WHERE article_id IN ({changed})")
            self.con.execute("DELETE FROM sentences WHERE article_id IN (SELECT article_id FROM _articles)")
            self._upsert("sentences", "_sentences", sents.columns, ["sentence_id"])
            self._upsert("articles", "_articles", arts.columns, ["article_id"])
        return arts.height

    def write_entities(
        self,
        df: pl.DataFrame,
        run_id: str,
        article_ids: Iterable[str],
        *,
        model_id: str,
        model_revision: str | None,
    ) -> int:
        """Replace this model revision's mentions of the given articles and mark them done (even with no mention)."""
        revision = _revision(model_revision)
        rows = frames.conform(df, frames.ENTITIES).with_columns(pl.col("model_revision").fill_null(""))
        foreign = rows.filter((pl.col("model_id") != model_id) | (pl.col("model_revision") != revision))
        if foreign.height:
            raise ValueError(f"{foreign.height} mentions are not from model {model_id}@{revision or '(default)'}")
        ids = sorted(set(article_ids) | set(rows["article_id"].to_list()))
        now = _now()
        done = pl.DataFrame({"article_id": ids}, schema={"article_id": pl.String}).with_columns(
            model_id=pl.lit(model_id),
            model_revision=pl.lit(revision),
            run_id=pl.lit(run_id),
            done_at=pl.lit(now, frames.UTC_DATETIME),
        )
        mentions = _unique(rows, ["mention_id"]).with_columns(run_id=pl.lit(run_id))
        with self._transaction(_mentions=mentions, _done=done):
            self.con.execute(
                "DELETE FROM entities WHERE model_id = ? AND model_revision = ? "
                "AND article_id IN (SELECT article_id FROM _done)",
                [model_id, revision],
            )
            self._upsert("entities", "_mentions", mentions.columns, ["mention_id"])
            self._upsert("ner_done", "_done", done.columns, ["article_id", "model_id", "model_revision"])
        return mentions.height

    def write_claims(self, df: pl.DataFrame) -> int:
        """Upsert claims (never deleting any); updated_at moves only when the text or language changes."""
        rows = _unique(frames.conform(df, frames.CLAIMS), ["claim_id"])
        rows = rows.with_columns(now=pl.lit(_now(), frames.UTC_DATETIME))
        with self._transaction(_claims=rows):
            self.con.execute(
                "INSERT INTO claims (claim_id, text, language, enabled, added_at, updated_at) "
                "SELECT claim_id, text, language, enabled, now, now FROM _claims "
                "ON CONFLICT (claim_id) DO UPDATE SET enabled = excluded.enabled, text = excluded.text, "
                "language = excluded.language, updated_at = CASE WHEN claims.text IS DISTINCT FROM excluded.text "
                "OR claims.language IS DISTINCT FROM excluded.language THEN excluded.updated_at "
                "ELSE claims.updated_at END"
            )
        return rows.height

    def write_stance(self, df: pl.DataFrame, run_id: str) -> int:
        rows = frames.conform(df, frames.STANCE).with_columns(
            pl.col("model_revision").fill_null(""),
            run_id=pl.lit(run_id),
            scored_at=pl.lit(_now(), frames.UTC_DATETIME),
        )
        return self._write("stance", rows, ["article_id", "claim_id", "model_id", "model_revision"])

    def write_validation(self, rows: Sequence[Mapping[str, Any]], run_id: str) -> int:
        """Rows as `ValidationReport.rows` gives them: table_name, success, evaluated, failed, details."""
        df = pl.DataFrame(
            [
                {
                    "run_id": run_id,
                    "table_name": r["table_name"],
                    "success": bool(r["success"]),
                    "evaluated": r["evaluated"],
                    "failed": r["failed"],
                    "details": json.dumps(r.get("details"), default=str),
                }
                for r in rows
            ],
            schema={
                "run_id": pl.String,
                "table_name": pl.String,
                "success": pl.Boolean,
                "evaluated": pl.Int32,
                "failed": pl.Int32,
                "details": pl.String,
            },
        )
        return self._write("validation_results", df, ["run_id", "table_name"])

    # -- reads for incremental work

    def pending_documents(self) -> pl.DataFrame:
        """Documents without an article that the clean stage has not quarantined."""
        return frames.conform(
            self._frame(
                f"SELECT {_columns(frames.DOCUMENTS, 'd.')} FROM documents d "
                "WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.doc_id = d.doc_id) "
                "AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.item_id = d.doc_id AND q.stage = 'clean') "
                "ORDER BY d.doc_id"
            ),
            frames.DOCUMENTS,
        )

    def pending_ner(self, model_id: str, revision: str | None) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(articles, their sentences) this model revision has not processed and the ner stage has not quarantined."""
        pending = (
            "SELECT a.article_id FROM articles a "
            "WHERE NOT EXISTS (SELECT 1 FROM ner_done n WHERE n.article_id = a.article_id "
            "AND n.model_id = $model AND n.model_revision = $revision) "
            "AND NOT EXISTS (SELECT 1 FROM entities e WHERE e.article_id = a.article_id "
            "AND e.model_id = $model AND e.model_revision = $revision) "
            "AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.item_id = a.article_id AND q.stage = 'ner')"
        )
        params = {"model": model_id, "revision": _revision(revision)}
        articles = self._frame(
            f"SELECT {_columns(frames.ARTICLES)} FROM articles WHERE article_id IN ({pending}) ORDER BY article_id",
            params,
        )
        return frames.conform(articles, frames.ARTICLES), self._sentences_of(pending, params)

    def pending_stance(self, model_id: str, revision: str | None) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(article_id, claim_id) pairs of enabled claims this model revision has not scored since the claim text
        last changed, skipping articles the stance stage quarantined; and the sentences of those articles."""
        pairs_sql = (
            "SELECT a.article_id, c.claim_id FROM articles a CROSS JOIN claims c WHERE c.enabled "
            "AND NOT EXISTS (SELECT 1 FROM stance s WHERE s.article_id = a.article_id AND s.claim_id = c.claim_id "
            "AND s.model_id = $model AND s.model_revision = $revision AND s.scored_at >= c.updated_at) "
            "AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.item_id = a.article_id AND q.stage = 'stance')"
        )
        params = {"model": model_id, "revision": _revision(revision)}
        pairs = self._frame(f"{pairs_sql} ORDER BY a.article_id, c.claim_id", params)
        pairs = frames.conform(pairs, {"article_id": pl.String, "claim_id": pl.String})
        return pairs, self._sentences_of(f"SELECT article_id FROM ({pairs_sql})", params)

    def _sentences_of(self, article_ids_sql: str, params: Mapping[str, Any]) -> pl.DataFrame:
        sentences = self._frame(
            f"SELECT {_columns(frames.SENTENCES)} FROM sentences WHERE article_id IN ({article_ids_sql}) "
            "ORDER BY article_id, idx",
            params,
        )
        return frames.conform(sentences, frames.SENTENCES)

    def claims(self, enabled_only: bool = True) -> pl.DataFrame:
        where = "WHERE enabled" if enabled_only else ""
        return frames.conform(
            self._frame(f"SELECT {_columns(frames.CLAIMS)} FROM claims {where} ORDER BY claim_id"), frames.CLAIMS
        )

    # -- ad hoc reads

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> pl.DataFrame:
        return self._frame(sql, params)

    def table_frame(self, sql: str) -> pd.DataFrame:
        """A pandas frame, as Great Expectations validates them."""
        with self._lock:
            return self.con.execute(sql).df()
