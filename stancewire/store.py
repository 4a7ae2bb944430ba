"""The DuckDB store: the one module that writes the schema's tables, and the reads the stages' incremental work
starts from.

Every write is an idempotent upsert, and a stage's batch result (stancewire.results) is saved in one transaction:
a run that crashed leaves the working database behind and the next run simply continues from it. Opening the files
(working copy, run lock, publish, reject) is stancewire.snapshot's; the schema is stancewire.schema's.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from stancewire import frames
from stancewire.faults import fault_point
from stancewire.lsh import band_keys
from stancewire.results import (
    CleanResult,
    CrawlResult,
    EmbedResult,
    FetchResult,
    LinkResult,
    NerResult,
    QuantitiesResult,
    StageResult,
    StanceResult,
)
from stancewire.schema import StoreError, migrate
from stancewire.snapshot import WorkingCopy, open_working_copy
from stancewire.vectors import from_int8

_STAGE_STATUSES = ("ok", "skipped", "failed")
# Rows whose offsets or content come from an article's text: an article whose text changed loses them.
_DERIVED_FROM_TEXT = (
    "mentions",
    "mentions_done",
    "stance",
    "quantities",
    "quantities_done",
    "sentence_embeddings",
    "article_embeddings",
)
_RUN_STATUSES = ("running", "succeeded", "failed", "validation_failed")
# Tables a run writes every time without changing the data analysts read: writing them alone leaves the published
# snapshot current (see data_version).
_BOOKKEEPING = frozenset({"runs", "stage_runs", "validation_results", "fetch_state", "source_health", "drained_work"})


def _drainable(method: Callable) -> Callable:
    """A query for work still to do. Its key (name and arguments) is remembered for mark_drained; when the last fully
    completed run asked the same and the data has not changed since, the answer is empty and is given without
    scanning the store (the same queries with LIMIT 0, so the frames keep their columns)."""

    @functools.wraps(method)
    def ask(self: Store, *args: Any, **kwargs: Any) -> Any:
        self._empty_reads = self._is_drained(self._work_key(method.__name__, args, kwargs))
        try:
            return method(self, *args, **kwargs)
        finally:
            self._empty_reads = False

    return ask


def _now() -> datetime:
    return datetime.now(UTC)


def _q(column: str) -> str:
    return f'"{column}"'


def _columns(schema: Mapping[str, Any], alias: str = "") -> str:
    return ", ".join(f"{alias}{_q(c)}" for c in schema)


def _matching_rows(table: str, columns: str, where: str) -> str:
    """SQL selecting `columns` of the rows of `table` that match `where`, found first by the narrow columns `where`
    reads: a plain filtered scan reads the wide columns (texts, vectors) of every stored row."""
    return f"SELECT {columns} FROM {table} WHERE rowid IN (SELECT rowid FROM {table} WHERE {where})"


def _revision(revision: str | None) -> str:
    """Model revisions are part of primary keys, which cannot be NULL: an unpinned revision is stored as ''."""
    return revision or ""


def _band_rows(articles: pl.DataFrame) -> pl.DataFrame:
    """The LSH band keys of the canonical articles with a MinHash signature."""
    rows = [
        (key, aid)
        for aid, minhash, duplicate_of in articles.select("article_id", "minhash", "duplicate_of").iter_rows()
        if minhash is not None and duplicate_of is None
        for key in band_keys(minhash)
    ]
    return pl.DataFrame(rows, schema={"band_key": pl.Int64, "article_id": pl.String}, orient="row")


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

    def __init__(self, copy: WorkingCopy) -> None:
        self._copy = copy
        self.con = copy.con
        self.db_path = copy.db_path
        self.work_path = copy.work_path
        self._lock = threading.RLock()
        self._atomic: list[str] | None = None  # inside atomic(): views to unregister when its transaction ends
        self._rows_changed = 0  # rows inserted, updated or deleted through _dml
        self._work_keys: set[str] = set()  # the drainable queries this run asked
        self._empty_reads = False  # inside a drainable query known to be empty

    @classmethod
    @contextmanager
    def open_run(cls, db_path: str | Path, wait_s: float = 0.0, memory_limit: str | None = None) -> Iterator[Store]:
        """Open (creating and migrating as needed) the working database of `db_path` for one run, DuckDB's memory
        capped at `memory_limit` (e.g. "2GB").

        Raises StoreBusy when another process still holds it after `wait_s` seconds.
        """
        with open_working_copy(db_path, wait_s, memory_limit) as copy:
            migrate(copy.con, copy.work_path)
            yield cls(copy)

    def reject(self, run_id: str) -> Path:
        """Set this run's working database aside when the run ends (see WorkingCopy.reject)."""
        return self._copy.reject(run_id)

    def unpublished_changes(self) -> bool:
        """Whether the working database holds data the published one lacks (see WorkingCopy.is_published)."""
        with self._lock:
            return not self._copy.is_published()

    def publish(self) -> bool:
        """Atomically replace the published database with a snapshot of the working one, unless it already holds
        the same data; returns whether it was replaced."""
        with self._lock:
            if self._copy.is_published():
                return False
            self._copy.publish()
            return True

    def save(self, result: StageResult, run_id: str) -> None:
        """Write one stage batch's result in one transaction: after an error or a crash all of it is there or none
        (a batch's articles committed without its line counts would never be completed by a rerun)."""
        with self.atomic():
            match result:
                case FetchResult() | CrawlResult():
                    self.write_documents(result.documents, run_id)
                    self.write_quarantine(result.quarantine, run_id)
                    if isinstance(result, CrawlResult):
                        self.write_fetch_state(result.fetch_state, run_id)
                        self.record_source_health(result.health)
                case CleanResult():
                    self.write_quarantine(result.quarantine, run_id)
                    self.write_articles(result.articles, result.sentences, run_id)
                    self.write_boilerplate_lines(result.boilerplate_lines, run_id)
                    self.add_source_lines(result.source_lines, run_id)
                case NerResult():
                    self.write_mentions(
                        result.mentions,
                        run_id,
                        result.article_ids,
                        model_id=result.model_id,
                        model_revision=result.model_revision,
                    )
                case LinkResult():
                    self.write_entities(result.entities, run_id)
                    self.write_mention_links(result.links, result.article_ids, run_id)
                    self.write_quarantine(result.quarantine, run_id)
                case QuantitiesResult():
                    self.write_entities(result.entities, run_id)
                    self.write_quarantine(result.quarantine, run_id)
                    self.write_quantities(result.quantities, run_id, result.article_ids, result.extractor_version)
                case StanceResult():
                    self.write_quarantine(result.quarantine, run_id)
                    self.write_stance(result.stance, run_id)
                case EmbedResult():
                    self.write_embeddings(result.sentences, result.articles, run_id)
                case _:
                    raise TypeError(f"not a stage result: {type(result).__name__}")

    # -- plumbing

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Make every write inside one transaction: after an error or a crash all of them are there or none (a
        batch's articles committed without its line counts would never be completed by a rerun)."""
        with self._lock:
            if self._atomic is not None:
                yield
                return
            self.con.complete()
            self._atomic = []
            self.con.execute("BEGIN TRANSACTION")
            try:
                yield
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            else:
                self.con.execute("COMMIT")
            finally:
                names, self._atomic = self._atomic, None
                for name in names:
                    self.con.unregister(name)

    @contextmanager
    def _transaction(self, table: str, **batches: pl.DataFrame) -> Iterator[None]:
        """One transaction writing `table` (or a part of the one `atomic()` holds open), with the frames registered
        as views by name (outside it: unregistering fails in an aborted transaction)."""
        with self._lock:
            self.con.complete()  # an unread execute() result on this connection would make register() fail
            for name, df in batches.items():
                self.con.register(name, df.to_arrow())
            changed_before = self._rows_changed
            if self._atomic is not None:
                try:
                    yield
                    self._new_data_version(table, changed_before)
                except BaseException:
                    self._atomic.extend(batches)
                    raise
                fault_point(table)
                for name in batches:
                    self.con.unregister(name)
                return
            try:
                self.con.execute("BEGIN TRANSACTION")
                try:
                    yield
                    self._new_data_version(table, changed_before)
                except BaseException:
                    self.con.execute("ROLLBACK")
                    raise
                fault_point(table)
                self.con.execute("COMMIT")
            finally:
                for name in batches:
                    self.con.unregister(name)

    def _dml(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> int:
        """Run one INSERT, UPDATE or DELETE and return the rows it changed."""
        changed = self.con.execute(sql, params or ()).fetchall()[0][0]
        self._rows_changed += changed
        return changed

    def _new_data_version(self, table: str, changed_before: int) -> None:
        """Give the data a new version token when this transaction changed rows of a data table, so the next
        publish knows the published snapshot is behind (migration 015)."""
        if table not in _BOOKKEEPING and self._rows_changed > changed_before:
            self.con.execute("UPDATE data_version SET token = uuid(), changed_at = now()")

    def _upsert(
        self, table: str, batch: str, columns: Sequence[str], key: Sequence[str], when: str | None = None
    ) -> None:
        """Insert the registered batch (unique by key); existing keys get every other column updated (only the rows
        matching the SQL condition `when`, if given)."""
        cols = _columns(columns)
        updates = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in columns if c not in key)
        action = f"DO UPDATE SET {updates}" + (f" WHERE {when}" if when else "") if updates else "DO NOTHING"
        self._dml(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {batch} ON CONFLICT ({_columns(key)}) {action}")

    def _write(self, table: str, df: pl.DataFrame, key: Sequence[str], when: str | None = None) -> int:
        df = _unique(df, key)
        with self._transaction(table, _batch=df):
            self._upsert(table, "_batch", df.columns, key, when)
        return df.height

    def _frame(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> pl.DataFrame:
        if self._empty_reads:
            sql = f"SELECT * FROM ({sql}) LIMIT 0"
        with self._lock:
            relation = self.con.sql(sql, params=params or None)
            return relation.pl() if relation is not None else pl.DataFrame()

    # -- work already done

    def _work_key(self, name: str, *args: Any) -> str:
        key = f"{name}:{json.dumps(args, default=str, sort_keys=True)}"
        self._work_keys.add(key)
        return key

    def _is_drained(self, key: str) -> bool:
        with self._lock:
            return bool(
                self.con.execute(
                    "SELECT 1 FROM drained_work w JOIN data_version v USING (token) WHERE w.work_key = ?", [key]
                ).fetchall()
            )

    def mark_drained(self) -> None:
        """Record that every drainable query this run asked would now answer empty: call it only when every stage
        ran to the end over all its pending work (a later stage never adds work to an earlier one)."""
        with self._transaction("drained_work"):
            self.con.execute("DELETE FROM drained_work")
            self.con.execute(
                "INSERT INTO drained_work SELECT v.token, k.work_key FROM data_version v, "
                "(SELECT unnest(?) AS work_key) k",
                [sorted(self._work_keys)],
            )

    # -- runs

    def begin_run(self, run_id: str, params: Mapping[str, Any], models: Mapping[str, Any]) -> None:
        """Record a run as running. `models` maps "ner"/"nli" to a ModelSpec, {"id", "revision"} or an id.

        Any other run still marked running was interrupted (this process holds the working database) and is marked
        failed.
        """
        ner_id, ner_rev = _model(models.get("ner"))
        nli_id, nli_rev = _model(models.get("nli"))
        with self._transaction("runs"):
            self._dml(
                "UPDATE runs SET status = 'failed', summary_md = coalesce(summary_md || '\n\n', '') "
                "|| 'Interrupted: the process ended before the run finished.' "
                "WHERE status = 'running' AND run_id <> ?",
                [run_id],
            )
            self._dml(
                "INSERT INTO runs (run_id, started_at, status, params, ner_model, ner_revision, nli_model, "
                "nli_revision) VALUES (?, ?, 'running', ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET "
                "status = 'running', finished_at = NULL, params = excluded.params, ner_model = excluded.ner_model, "
                "ner_revision = excluded.ner_revision, nli_model = excluded.nli_model, "
                "nli_revision = excluded.nli_revision",
                [run_id, _now(), json.dumps(dict(params), default=str), ner_id, ner_rev, nli_id, nli_rev],
            )

    def record_run_model(self, run_id: str, kind: str, model_id: str, revision: str | None, kernel: str) -> None:
        """The model a stage resolved ("ner", "nli" or "embedding"): its id and revision, as derived rows record them,
        and the precision and kernel it ran with."""
        if kind not in ("ner", "nli", "embedding"):
            raise ValueError(f"model kind must be ner, nli or embedding, not {kind!r}")
        with self._transaction("runs"):
            self._dml(
                f"UPDATE runs SET {kind}_model = ?, {kind}_revision = ?, {kind}_kernel = ? WHERE run_id = ?",
                [model_id, revision, kernel, run_id],
            )

    def finish_run(self, run_id: str, status: str, counts: Mapping[str, Any], summary_md: str) -> None:
        if status not in _RUN_STATUSES:
            raise ValueError(f"run status must be one of {_RUN_STATUSES}, not {status!r}")
        with self._transaction("runs"):
            updated = self._dml(
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
        """Upsert documents. One stored already (its key hashes uri and content) keeps its first fetch's time and
        run unless its source or content type changed, so a rerun over the same files rewrites nothing."""
        rows = frames.conform(df, frames.DOCUMENTS).with_columns(run_id=pl.lit(run_id))
        changed = (
            "documents.source IS DISTINCT FROM excluded.source "
            "OR documents.content_type IS DISTINCT FROM excluded.content_type"
        )
        return self._write("documents", rows, ["doc_id"], when=changed)

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
        with self._transaction("articles", _articles=arts, _sentences=sents, _bands=_band_rows(arts)):
            for table in _DERIVED_FROM_TEXT:
                self._dml(f"DELETE FROM {table} WHERE article_id IN ({changed})")
            self._dml("DELETE FROM sentences WHERE article_id IN (SELECT article_id FROM _articles)")
            self._upsert("sentences", "_sentences", sents.columns, ["sentence_id"])
            # Vectors of sentences a new split no longer has: every vector stays one of a stored sentence.
            self._dml(
                "DELETE FROM sentence_embeddings WHERE article_id IN (SELECT article_id FROM _articles) "
                "AND sentence_id NOT IN (SELECT sentence_id FROM _sentences)"
            )
            self._upsert("articles", "_articles", arts.columns, ["article_id"])
            self._dml("DELETE FROM article_bands WHERE article_id IN (SELECT article_id FROM _articles)")
            self._dml("INSERT INTO article_bands SELECT band_key, article_id FROM _bands")
        return arts.height

    def duplicate_candidates(self, fingerprints: Sequence[tuple[str, bytes | None]]) -> pl.DataFrame:
        """article_id, text_hash_normalised, minhash of the canonical articles that may be what one of the given
        (normalised text hash, MinHash) fingerprints duplicates: the same hash, or a shared LSH band."""
        return self._frame(
            "SELECT article_id, text_hash_normalised, minhash FROM articles WHERE duplicate_of IS NULL "
            "AND text_hash_normalised IS NOT NULL AND (text_hash_normalised IN (SELECT unnest($hashes)) "
            "OR article_id IN (SELECT article_id FROM article_bands WHERE band_key IN (SELECT unnest($keys)))) "
            "ORDER BY article_id",
            {
                "hashes": [h for h, _ in fingerprints],
                "keys": [k for _, m in fingerprints if m is not None for k in band_keys(m)],
            },
        )

    def backfill_bands(self, chunk: int = 50_000, progress: Callable[[str], None] | None = None) -> int:
        """Fill article_bands for the canonical articles a store made before it holds (once; a killed backfill
        goes on from where it stopped, each chunk being committed whole). Returns the articles indexed."""
        if self.job_done("article_bands"):
            return 0
        done = 0
        while True:
            rows = self._frame(
                "SELECT article_id, minhash, duplicate_of FROM articles a WHERE duplicate_of IS NULL "
                "AND minhash IS NOT NULL AND NOT EXISTS (SELECT 1 FROM article_bands b WHERE b.article_id = a.article_id) "
                f"LIMIT {int(chunk)}"
            )
            if rows.is_empty():
                break
            with self._transaction("article_bands", _bands=_band_rows(rows)):
                self._dml("INSERT INTO article_bands SELECT band_key, article_id FROM _bands")
            done += rows.height
            if progress:
                progress(f"near-duplicate index: {done} stored articles indexed")
        self.mark_job_done("article_bands")
        return done

    def job_done(self, job: str) -> bool:
        """Whether the one-off maintenance job `job` has completed in this store."""
        return bool(self._frame("SELECT 1 FROM store_jobs WHERE job = $job", {"job": job}).height)

    def mark_job_done(self, job: str) -> None:
        with self._lock:
            self.con.execute("INSERT OR REPLACE INTO store_jobs VALUES ($job, now())", {"job": job})

    def write_boilerplate_lines(self, df: pl.DataFrame, run_id: str) -> int:
        """Replace the removed lines of the articles in `df` (an article cleaned again gets its new decisions)."""
        rows = _unique(frames.conform(df, frames.BOILERPLATE_LINES), ["article_id", "line_no"])
        rows = rows.with_columns(run_id=pl.lit(run_id))
        with self._transaction("boilerplate_lines", _lines=rows):
            self._dml("DELETE FROM boilerplate_lines WHERE article_id IN (SELECT article_id FROM _lines)")
            self._upsert("boilerplate_lines", "_lines", rows.columns, ["article_id", "line_no"])
        return rows.height

    def add_source_lines(self, df: pl.DataFrame, run_id: str) -> int:
        """Add per-source line document counts (frames.SOURCE_LINES) to the stored ones."""
        rows = frames.conform(df, frames.SOURCE_LINES).group_by("source_key", "line_hash").agg(pl.col("docs").sum())
        rows = rows.with_columns(run_id=pl.lit(run_id))
        with self._transaction("source_lines", _counts=rows):
            self._dml(
                "INSERT INTO source_lines SELECT source_key, line_hash, docs, run_id FROM _counts "
                "ON CONFLICT (source_key, line_hash) DO UPDATE SET docs = source_lines.docs + excluded.docs, "
                "run_id = excluded.run_id"
            )
        return rows.height

    def source_line_counts(self, source_keys: Iterable[str]) -> pl.DataFrame:
        """Stored line counts (frames.SOURCE_LINES) of the given sites or sources."""
        counts = self._frame(
            "SELECT source_key, line_hash, docs FROM source_lines WHERE list_contains($keys, source_key)",
            {"keys": sorted(set(source_keys))},
        )
        return frames.conform(counts, frames.SOURCE_LINES)

    def write_mentions(
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
        rows = frames.conform(df, frames.MENTIONS).with_columns(pl.col("model_revision").fill_null(""))
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
        with self._transaction("mentions", _mentions=mentions, _done=done):
            self._dml(
                "DELETE FROM mentions WHERE model_id = ? AND model_revision = ? "
                "AND article_id IN (SELECT article_id FROM _done)",
                [model_id, revision],
            )
            self._upsert("mentions", "_mentions", mentions.columns, ["mention_id"])
            self._upsert("mentions_done", "_done", done.columns, ["article_id", "model_id", "model_revision"])
        return mentions.height

    def write_claims(self, df: pl.DataFrame) -> int:
        """Upsert claims (never deleting any); updated_at moves only when the text, language or translations (which
        steer the relevance prefilter) change, so their stance is scored again."""
        rows = _unique(frames.conform(df, frames.CLAIMS), ["claim_id"])
        rows = rows.with_columns(now=pl.lit(_now(), frames.UTC_DATETIME))
        with self._transaction("claims", _claims=rows):
            self._dml(
                "INSERT INTO claims (claim_id, text, language, enabled, translations, added_at, updated_at) "
                "SELECT claim_id, text, language, enabled, translations, now, now FROM _claims "
                "ON CONFLICT (claim_id) DO UPDATE SET enabled = excluded.enabled, text = excluded.text, "
                "language = excluded.language, translations = excluded.translations, updated_at = CASE WHEN claims.text IS DISTINCT FROM excluded.text "
                "OR claims.language IS DISTINCT FROM excluded.language "
                "OR claims.translations IS DISTINCT FROM excluded.translations THEN excluded.updated_at "
                "ELSE claims.updated_at END WHERE claims.enabled IS DISTINCT FROM excluded.enabled "
                "OR claims.text IS DISTINCT FROM excluded.text OR claims.language IS DISTINCT FROM excluded.language "
                "OR claims.translations IS DISTINCT FROM excluded.translations"
            )
        return rows.height

    def set_claims_enabled(self, claim_ids: Sequence[str], enabled: bool) -> list[str]:
        """Enable or disable claims (their stance rows stay); returns the ids that do not exist."""
        known = set(self.claims(enabled_only=False)["claim_id"].to_list())
        with self._transaction("claims"):
            self._dml("UPDATE claims SET enabled = ? WHERE claim_id IN (SELECT unnest(?))", [enabled, list(claim_ids)])
        return [c for c in claim_ids if c not in known]

    def write_stance(self, df: pl.DataFrame, run_id: str) -> int:
        rows = frames.conform(df, frames.STANCE).with_columns(
            pl.col("model_revision").fill_null(""),
            run_id=pl.lit(run_id),
            scored_at=pl.lit(_now(), frames.UTC_DATETIME),
        )
        return self._write("stance", rows, ["article_id", "claim_id", "model_id", "model_revision"])

    def write_embeddings(self, sentences: pl.DataFrame, articles: pl.DataFrame, run_id: str) -> int:
        """Add sentence vectors (frames.SENTENCE_EMBEDDINGS) and the article vectors made from them."""
        sents = frames.conform(sentences, frames.SENTENCE_EMBEDDINGS).with_columns(run_id=pl.lit(run_id))
        arts = frames.conform(articles, frames.ARTICLE_EMBEDDINGS).with_columns(run_id=pl.lit(run_id))
        with self._transaction("sentence_embeddings", _sentence_vectors=sents, _article_vectors=arts):
            key = ["model_id", "model_revision"]
            self._upsert("sentence_embeddings", "_sentence_vectors", sents.columns, ["sentence_id", *key])
            self._upsert("article_embeddings", "_article_vectors", arts.columns, ["article_id", *key])
        return sents.height

    def write_claim_embeddings(self, df: pl.DataFrame) -> int:
        return self._write(
            "claim_embeddings", frames.conform(df, frames.CLAIM_EMBEDDINGS), ["claim_id", "model_id", "model_revision"]
        )

    def write_quantities(
        self, df: pl.DataFrame, run_id: str, article_ids: Iterable[str], extractor_version: str
    ) -> int:
        """Replace the quantities of the given articles and mark them read (even with none found)."""
        rows = _unique(frames.conform(df, frames.QUANTITIES), ["quantity_id"]).with_columns(run_id=pl.lit(run_id))
        ids = sorted(set(article_ids) | set(rows["article_id"].to_list()))
        done = pl.DataFrame({"article_id": ids}, schema={"article_id": pl.String}).with_columns(
            extractor_version=pl.lit(extractor_version),
            run_id=pl.lit(run_id),
            done_at=pl.lit(_now(), frames.UTC_DATETIME),
        )
        with self._transaction("quantities", _quantities=rows, _done=done):
            self._dml("DELETE FROM quantities WHERE article_id IN (SELECT article_id FROM _done)")
            self._upsert("quantities", "_quantities", rows.columns, ["quantity_id"])
            self._upsert("quantities_done", "_done", done.columns, ["article_id"])
        return rows.height

    def write_validation(self, rows: Sequence[Mapping[str, Any]], run_id: str) -> int:
        """Rows as `ValidationReport.rows` gives them: table_name, success, evaluated, failed, details, and optionally
        input_checksum, reused_from and scope."""
        df = pl.DataFrame(
            [
                {
                    "run_id": run_id,
                    "table_name": r["table_name"],
                    "success": bool(r["success"]),
                    "evaluated": r["evaluated"],
                    "failed": r["failed"],
                    "details": json.dumps(r.get("details"), default=str),
                    "input_checksum": r.get("input_checksum"),
                    "reused_from": r.get("reused_from"),
                    "scope": r.get("scope", "full"),
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
                "input_checksum": pl.String,
                "reused_from": pl.String,
                "scope": pl.String,
            },
        )
        return self._write("validation_results", df, ["run_id", "table_name"])

    # -- reads for incremental work

    @_drainable
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

    @_drainable
    def pending_ner(self, model_id: str, revision: str | None) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(articles, their sentences) this model revision has not processed and the ner stage has not quarantined;
        duplicates of other articles are never processed."""
        pending = (
            "SELECT a.article_id FROM articles a "
            "WHERE a.duplicate_of IS NULL AND NOT EXISTS (SELECT 1 FROM mentions_done n WHERE n.article_id = a.article_id "
            "AND n.model_id = $model AND n.model_revision = $revision) "
            "AND NOT EXISTS (SELECT 1 FROM mentions e WHERE e.article_id = a.article_id "
            "AND e.model_id = $model AND e.model_revision = $revision) "
            "AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.item_id = a.article_id AND q.stage = 'ner')"
        )
        params = {"model": model_id, "revision": _revision(revision)}
        articles = self._frame(
            _matching_rows("articles", _columns(frames.ARTICLES), f"article_id IN ({pending})")
            + " ORDER BY article_id",
            params,
        )
        return frames.conform(articles, frames.ARTICLES), self._sentences_of(pending, params)

    @_drainable
    def pending_stance(
        self, model_id: str, revision: str | None, relevance_model: str | None = None
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(article_id, claim_id) pairs of enabled claims this model revision has not scored since the claim text
        last changed, skipping duplicates and articles the stance stage quarantined; and their sentences. With an
        embedding model (`relevance_model`, id@revision), pairs left UNRELATED without it are decided again."""
        pairs_sql = (
            "SELECT a.article_id, c.claim_id FROM articles a CROSS JOIN claims c "
            "WHERE c.enabled AND a.duplicate_of IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM stance s WHERE s.article_id = a.article_id AND s.claim_id = c.claim_id "
            "AND s.model_id = $model AND s.model_revision = $revision AND s.scored_at >= c.updated_at "
            "AND (s.label <> 'UNRELATED' OR $relevance IS NULL OR s.relevance_model = $relevance)) "
            "AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.item_id = a.article_id AND q.stage = 'stance')"
        )
        params = {"model": model_id, "revision": _revision(revision), "relevance": relevance_model}
        pairs = self._frame(f"{pairs_sql} ORDER BY a.article_id, c.claim_id", params)
        pairs = frames.conform(pairs, {"article_id": pl.String, "claim_id": pl.String})
        return pairs, self._sentences_of(f"SELECT article_id FROM ({pairs_sql})", params)

    @_drainable
    def pending_embeddings(self, model_id: str, revision: str) -> pl.DataFrame:
        """Sentences (sentence_id, article_id, text) of the canonical articles with a sentence this embedding model
        revision has not embedded, every sentence of such an article (its article vector is made from them all)."""
        # Every vector is one of a stored sentence (write_articles), so an article has a sentence without a vector
        # when it has fewer vectors than sentences: counting per article is far cheaper than joining the sentences.
        pending = (
            "WITH have AS (SELECT article_id, count(*) AS n FROM sentences GROUP BY article_id), "
            "done AS (SELECT article_id, count(*) AS n FROM sentence_embeddings "
            "WHERE model_id = $model AND model_revision = $revision GROUP BY article_id) "
            "SELECT h.article_id FROM have h JOIN articles a USING (article_id) LEFT JOIN done d USING (article_id) "
            "WHERE a.duplicate_of IS NULL AND coalesce(d.n, 0) < h.n"
        )
        sentences = self._sentences_of(pending, {"model": model_id, "revision": revision})
        return sentences.select("sentence_id", "article_id", "text")

    def sentence_vectors(self, article_ids: Sequence[str], model_id: str, revision: str) -> dict[str, np.ndarray]:
        """sentence_id → vector of the given articles' readable sentences."""
        frame = self._frame(
            _matching_rows(
                "sentence_embeddings",
                "sentence_id, vector",
                "article_id IN (SELECT unnest($ids)) AND model_id = $model AND model_revision = $revision "
                "AND vector IS NOT NULL",
            ),
            {"ids": list(article_ids), "model": model_id, "revision": revision},
        )
        if frame.is_empty():
            return {}
        matrix = from_int8(frame["vector"].list.to_array(len(frame["vector"][0])).to_numpy())
        return dict(zip(frame["sentence_id"].to_list(), matrix, strict=True))

    def claim_embeddings(self, model_id: str, revision: str) -> pl.DataFrame:
        frame = self._frame(
            f"SELECT {_columns(frames.CLAIM_EMBEDDINGS)} FROM claim_embeddings "
            "WHERE model_id = $model AND model_revision = $revision ORDER BY claim_id",
            {"model": model_id, "revision": revision},
        )
        return frames.conform(frame, frames.CLAIM_EMBEDDINGS) if frame.height else frames.empty(frames.CLAIM_EMBEDDINGS)

    @_drainable
    def pending_quantities(self, extractor_version: str) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """(article_id + language + day, sentences, latest mentions with their entities) of articles the quantity
        extractor has not read with this version, or read before their latest NER run."""
        pending = (
            "SELECT a.article_id FROM articles a LEFT JOIN quantities_done q USING (article_id) "
            "WHERE q.article_id IS NULL OR q.extractor_version <> $version "
            "OR q.done_at < (SELECT max(n.done_at) FROM mentions_done n WHERE n.article_id = a.article_id)"
        )
        params = {"version": extractor_version}
        articles = self._frame(
            "SELECT a.article_id, a.language, "
            "CAST(timezone('UTC', coalesce(a.published, d.fetched_at)) AS DATE) AS day "
            f"FROM articles a LEFT JOIN documents d USING (doc_id) WHERE a.article_id IN ({pending}) "
            "ORDER BY a.article_id",
            params,
        )
        articles = frames.conform(articles, {"article_id": pl.String, "language": pl.String, "day": pl.Date})
        ids = articles["article_id"].to_list()
        mentions = self._frame(
            "SELECT article_id, sentence_id, start, entity_id, entity_type, stands_for FROM v_entity_mentions "
            "WHERE article_id IN (SELECT unnest($ids)) ORDER BY article_id, start",
            {"ids": ids},
        )
        schema = {
            "article_id": pl.String,
            "sentence_id": pl.String,
            "start": pl.Int32,
            "entity_id": pl.String,
            "entity_type": pl.String,
            "stands_for": pl.String,
        }
        mentions = frames.conform(mentions, schema) if mentions.height else pl.DataFrame(schema=schema)
        return articles, self._sentences_of(pending, params), mentions

    def latest_mentions(self, article_ids: Sequence[str]) -> pl.DataFrame:
        """Mentions (article_id, sentence_id, start, text, label) of the latest NER run of the given articles."""
        frame = self._frame(
            "SELECT article_id, sentence_id, start, text, label FROM v_latest_entities "
            "WHERE article_id IN (SELECT unnest($ids)) ORDER BY article_id, start",
            {"ids": list(article_ids)},
        )
        schema = {
            "article_id": pl.String,
            "sentence_id": pl.String,
            "start": pl.Int32,
            "text": pl.String,
            "label": pl.String,
        }
        return frames.conform(frame, schema) if frame.height else pl.DataFrame(schema=schema)

    def article_languages(self, article_ids: Sequence[str]) -> pl.DataFrame:
        frame = self._frame(
            "SELECT article_id, language FROM articles WHERE article_id IN (SELECT unnest($ids)) ORDER BY article_id",
            {"ids": list(article_ids)},
        )
        schema = {"article_id": pl.String, "language": pl.String}
        return frames.conform(frame, schema) if frame.height else pl.DataFrame(schema=schema)

    def _sentences_of(self, article_ids_sql: str, params: Mapping[str, Any]) -> pl.DataFrame:
        sentences = self._frame(
            _matching_rows("sentences", _columns(frames.SENTENCES), f"article_id IN ({article_ids_sql})")
            + " ORDER BY article_id, idx",
            params,
        )
        return frames.conform(sentences, frames.SENTENCES)

    def claims(self, enabled_only: bool = True) -> pl.DataFrame:
        where = "WHERE enabled" if enabled_only else ""
        return frames.conform(
            self._frame(f"SELECT {_columns(frames.CLAIMS)} FROM claims {where} ORDER BY claim_id"), frames.CLAIMS
        )

    # -- source registry and fetch state

    def write_sources(self, df: pl.DataFrame) -> int:
        """Add or update registered sources (frames.SOURCES), keeping their added_at and health."""
        rows = _unique(frames.conform(df, frames.SOURCES), ["source_id"])
        rows = rows.with_columns(now=pl.lit(_now(), frames.UTC_DATETIME))
        with self._transaction("sources", _sources=rows):
            self._dml(
                "INSERT INTO sources (source_id, kind, url, language_hint, options, enabled, added_at) "
                "SELECT source_id, kind, url, language_hint, options, enabled, now FROM _sources "
                "ON CONFLICT (source_id) DO UPDATE SET kind = excluded.kind, url = excluded.url, "
                "language_hint = excluded.language_hint, options = excluded.options, enabled = excluded.enabled"
            )
        return rows.height

    def set_source_enabled(self, source_id: str, enabled: bool) -> bool:
        """False when no such source is registered."""
        with self._transaction("sources"):
            updated = self._dml("UPDATE sources SET enabled = ? WHERE source_id = ?", [enabled, source_id])
        return bool(updated)

    def sources(self, enabled_only: bool = False) -> pl.DataFrame:
        where = "WHERE enabled" if enabled_only else ""
        return frames.conform(
            self._frame(f"SELECT {_columns(frames.SOURCES)} FROM sources {where} ORDER BY source_id"), frames.SOURCES
        )

    def source_health(self) -> pl.DataFrame:
        """Registry rows with their health columns, failing sources first."""
        return self._frame(
            "SELECT source_id, kind, enabled, last_success_at, consecutive_failures, articles_last_run, last_error "
            "FROM sources ORDER BY consecutive_failures DESC, source_id"
        )

    def fetch_state(self) -> pl.DataFrame:
        return frames.conform(
            self._frame(f"SELECT {_columns(frames.FETCH_STATE)} FROM fetch_state"), frames.FETCH_STATE
        )

    def write_fetch_state(self, df: pl.DataFrame, run_id: str) -> int:
        rows = frames.conform(df, frames.FETCH_STATE).with_columns(run_id=pl.lit(run_id))
        return self._write("fetch_state", rows, ["url"])

    def record_source_health(self, df: pl.DataFrame) -> int:
        """One frames.SOURCE_HEALTH row per checked source: failures count up until a success resets them."""
        rows = _unique(frames.conform(df, frames.SOURCE_HEALTH), ["source_id"])
        with self._transaction("source_health", _health=rows):
            self._dml(
                "UPDATE sources SET last_checked_at = h.checked_at, "
                "last_success_at = CASE WHEN h.ok THEN h.checked_at ELSE sources.last_success_at END, "
                "consecutive_failures = CASE WHEN h.ok THEN 0 ELSE sources.consecutive_failures + 1 END, "
                "last_error = h.error, articles_last_run = h.articles "
                "FROM _health h WHERE sources.source_id = h.source_id"
            )
        return rows.height

    # -- canonical entities

    @_drainable
    def pending_links(self, linker: str) -> pl.DataFrame:
        """All latest-model mentions (frames.MENTIONS) of the articles holding a mention that `linker` (the link
        rules and alias list fingerprint) has not linked and the link stage has not quarantined."""
        pending = (
            "SELECT e.article_id FROM v_latest_entities e WHERE NOT EXISTS (SELECT 1 FROM mention_links l "
            "WHERE l.mention_id = e.mention_id AND l.linker = $linker) "
            "AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.item_id = e.mention_id AND q.stage = 'link')"
        )
        mentions = self._frame(
            f"SELECT {_columns(frames.MENTIONS)} FROM v_latest_entities WHERE article_id IN ({pending}) "
            "ORDER BY article_id, start, mention_id",
            {"linker": linker},
        )
        return frames.conform(mentions, frames.MENTIONS)

    def entities(self, keys: Iterable[str] | None = None) -> pl.DataFrame:
        """Canonical entities; only those with one of `keys` when given (what one link batch can produce)."""
        where, params = (
            ("WHERE entity_key IN (SELECT unnest($keys))", {"keys": sorted(set(keys))})
            if keys is not None
            else ("", None)
        )
        return frames.conform(
            self._frame(f"SELECT {_columns(frames.ENTITIES)} FROM entities {where} ORDER BY entity_id", params),
            frames.ENTITIES,
        )

    def mention_links(self) -> pl.DataFrame:
        return frames.conform(
            self._frame(f"SELECT {_columns(frames.MENTION_LINKS)} FROM mention_links ORDER BY mention_id"),
            frames.MENTION_LINKS,
        )

    def entity_overrides(self) -> pl.DataFrame:
        return frames.conform(
            self._frame(f"SELECT {_columns(frames.ENTITY_OVERRIDES)} FROM entity_overrides ORDER BY created_at"),
            frames.ENTITY_OVERRIDES,
        )

    def write_entities(self, df: pl.DataFrame, run_id: str) -> int:
        """Upsert canonical entities (frames.ENTITIES); merged_into and aliases are the store's to maintain. A stored
        entity keeps its run_id and updated_at unless one of its columns changes."""
        rows = _unique(frames.conform(df, frames.ENTITIES), ["entity_id"]).with_columns(
            run_id=pl.lit(run_id), updated_at=pl.lit(_now(), frames.UTC_DATETIME)
        )
        changed = " OR ".join(f"entities.{_q(c)} IS DISTINCT FROM excluded.{_q(c)}" for c in frames.ENTITIES)
        with self._transaction("entities", _entities=rows):
            self._upsert("entities", "_entities", rows.columns, ["entity_id"], when=changed)
            # A new entity starts with the aliases the link stage's tidying would give it before any mention links to
            # it, so that tidying changes nothing on a run with nothing new.
            self._dml(
                "UPDATE entities SET aliases = list_sort(list_distinct(coalesce(declared_aliases, []))) "
                "WHERE aliases IS NULL AND entity_id IN (SELECT entity_id FROM _entities)"
            )
        return rows.height

    def write_mention_links(self, links: pl.DataFrame, article_ids: Iterable[str], run_id: str) -> int:
        """Replace the links of the given articles with `links` (frames.MENTION_LINKS)."""
        rows = _unique(frames.conform(links, frames.MENTION_LINKS), ["mention_id"]).with_columns(
            run_id=pl.lit(run_id), linked_at=pl.lit(_now(), frames.UTC_DATETIME)
        )
        articles = pl.DataFrame({"article_id": sorted(set(article_ids))}, schema={"article_id": pl.String})
        with self._transaction("mention_links", _links=rows, _linked=articles):
            self._dml("DELETE FROM mention_links WHERE article_id IN (SELECT article_id FROM _linked)")
            self._upsert("mention_links", "_links", rows.columns, ["mention_id"])
        return rows.height

    def add_entity_override(self, override: pl.DataFrame) -> None:
        self._write("entity_overrides", frames.conform(override, frames.ENTITY_OVERRIDES), ["override_id"])

    def remove_entity_override(self, override_id: str) -> bool:
        with self._transaction("entity_overrides"):
            return bool(self._dml("DELETE FROM entity_overrides WHERE override_id = ?", [override_id]))

    def apply_entity_overrides(self, changed: pl.DataFrame, merged_into: Mapping[str, str]) -> int:
        """Set entity_id and override_id of the `changed` links (mention_id, entity_id, override_id) and merged_into
        of every entity; then drop links to vanished mentions, refresh each entity's aliases (listed spellings and
        those its mentions use) and drop entities nothing refers to."""
        # Tidying alone is idempotent: on a store unchanged since a run that did it, it changes nothing (the entities
        # the quantities stage adds after it are written tidy: see write_entities).
        tidy = self._work_key("tidy_entities", sorted(merged_into.items()))
        if changed.is_empty() and self._is_drained(tidy):
            return 0
        changed = _unique(changed.select("mention_id", "entity_id", "override_id"), ["mention_id"])
        merged = pl.DataFrame(
            {"entity_id": list(merged_into), "merged_into": list(merged_into.values())},
            schema={"entity_id": pl.String, "merged_into": pl.String},
        )
        with self._transaction("entities", _changed=changed, _merged=merged):
            self._dml(
                "UPDATE mention_links SET entity_id = c.entity_id, override_id = c.override_id "
                "FROM _changed c WHERE mention_links.mention_id = c.mention_id"
            )
            self._dml(
                "DELETE FROM mention_links l WHERE NOT EXISTS (SELECT 1 FROM mentions e WHERE e.mention_id = l.mention_id)"
            )
            self._dml(
                "UPDATE entities SET merged_into = m.merged_into FROM (SELECT n.entity_id, g.merged_into FROM entities n "
                "LEFT JOIN _merged g USING (entity_id)) m "
                "WHERE entities.entity_id = m.entity_id AND entities.merged_into IS DISTINCT FROM m.merged_into"
            )
            self._dml(
                "DELETE FROM entities n WHERE NOT EXISTS (SELECT 1 FROM mention_links l "
                "WHERE n.entity_id IN (l.entity_id, l.rule_entity_id)) "
                "AND NOT EXISTS (SELECT 1 FROM entity_overrides o WHERE n.entity_id IN (o.entity_id, o.target_id)) "
                "AND NOT EXISTS (SELECT 1 FROM entities s WHERE s.stands_for = n.entity_id) "
                "AND NOT EXISTS (SELECT 1 FROM quantities q WHERE list_contains(q.subjects, n.entity_id))"
            )
            self._dml(
                "UPDATE entities SET aliases = a.aliases FROM (SELECT n.entity_id, list_sort(list_distinct(list_concat("
                "coalesce(n.declared_aliases, []), coalesce(list(trim(e.text)) FILTER (WHERE e.text IS NOT NULL), [])"
                "))) AS aliases FROM entities n LEFT JOIN mention_links l ON l.entity_id = n.entity_id "
                "LEFT JOIN mentions e ON e.mention_id = l.mention_id GROUP BY n.entity_id, n.declared_aliases) a "
                "WHERE entities.entity_id = a.entity_id AND entities.aliases IS DISTINCT FROM a.aliases"
            )
            self._dml(  # a name's type: the label most of its mentions carry in the whole store, stated ones first
                "UPDATE entities SET type = t.label FROM (SELECT l.entity_id, e.label FROM mention_links l "
                "JOIN mentions e USING (mention_id) GROUP BY l.entity_id, e.label "
                "QUALIFY row_number() OVER (PARTITION BY l.entity_id ORDER BY "
                "count(*) FILTER (WHERE e.label_from <> 'model') DESC, count(*) DESC, e.label) = 1) t "
                "WHERE entities.entity_id = t.entity_id AND entities.origin = 'mentions' AND entities.type <> t.label"
            )
        return changed.height

    # -- ad hoc reads

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> pl.DataFrame:
        return self._frame(sql, params)

    def table_frame(self, sql: str) -> pd.DataFrame:
        """A pandas frame, as Great Expectations validates them."""
        with self._lock:
            return self.con.execute(sql).df()
