"""Run every table suite against the store and report which rows broke which expectation."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import duckdb
import great_expectations as gx
import pandas as pd
from great_expectations.core import ExpectationValidationResult
from great_expectations.data_context.types.base import ProgressBarsConfig

from expectations import (
    articles,
    claims,
    documents,
    entities,
    mention_links,
    mentions,
    quantities,
    sentence_embeddings,
    sentences,
    stance,
)
from expectations.common import rows_where

# Each suite module defines TABLE, KEY (the columns that identify a row), SQL (the frame to validate, with derived
# chk_* columns for what Great Expectations cannot express) and expectations().
SUITES: tuple[ModuleType, ...] = (
    documents,
    articles,
    sentences,
    mentions,
    claims,
    stance,
    entities,
    mention_links,
    quantities,
    sentence_embeddings,
)
SAMPLE_SIZE = 5


@dataclass
class TableResult:
    table: str
    rows: int
    evaluated: int
    failures: list[dict[str, Any]]
    input_checksum: str | None = None  # of the suite and everything its query reads; None when not computable
    reused_from: str | None = None  # the run whose successful result on identical inputs stands for this one
    scope: str = "full"  # full: every row of the table | new: the rows the run wrote

    @property
    def success(self) -> bool:
        return not self.failures


@dataclass
class ValidationReport:
    run_id: str
    tables: list[TableResult]

    @property
    def success(self) -> bool:
        return all(t.success for t in self.tables)

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One row per table for `Store.write_validation`."""
        return [
            {
                "table_name": t.table,
                "success": t.success,
                "evaluated": t.evaluated,
                "failed": len(t.failures),
                "details": t.failures,
                "input_checksum": t.input_checksum,
                "reused_from": t.reused_from,
                "scope": t.scope,
            }
            for t in self.tables
        ]

    def markdown(self) -> str:
        lines = [
            f"## Data validation of run {self.run_id}: {'passed' if self.success else 'FAILED'}",
            "",
            "| table | rows | expectations | failed |",
            "|---|--:|--:|--:|",
            *(f"| {t.table} | {t.rows} | {t.evaluated} | {len(t.failures)} |" for t in self.tables),
        ]
        if new_only := [t.table for t in self.tables if t.scope == "new"]:
            lines += [
                "",
                f"Rows this run wrote, of: {', '.join(new_only)} (keys are unique by the tables' primary keys; "
                "`stancewire validate --full` checks every row).",
            ]
        if reused := [t.table for t in self.tables if t.reused_from]:
            lines += [
                "",
                f"Unchanged since their last successful validation, not validated again: {', '.join(reused)}.",
            ]
        for t in self.tables:
            if t.failures:
                lines += ["", f"### {t.table}", "", *(f"- {_describe(f, t.rows)}" for f in t.failures)]
        return "\n".join(lines) + "\n"


def _code(values: list[Any]) -> str:
    return ", ".join(f"`{v:.6g}`" if isinstance(v, float) else f"`{v}`" for v in values)


def _describe(failure: dict[str, Any], rows: int) -> str:
    column = failure["column"]
    text = f"**{', '.join(column) if isinstance(column, list) else column or 'table'}**"
    if failure["description"]:
        text += f": {failure['description']}"
    text += f" (`{failure['expectation']}`)"
    if failure["error"]:
        return f"{text}: could not be evaluated: {failure['error']}"
    if failure["unexpected_count"] is not None:
        text += f": {failure['unexpected_count']} of {rows} rows"
    if failure["sample_ids"]:
        text += f"; e.g. {failure['key']} {_code(failure['sample_ids'])}"
    if failure["sample_values"]:
        text += f"; values {_code(failure['sample_values'])}"
    if failure["observed"] is not None:
        text += f"; observed {failure['observed']}"
    return text


def _plain(value: Any) -> Any:
    """JSON-safe copy (numpy scalars, pandas NA and timestamps become plain values or strings)."""
    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v)))


def _error(result: ExpectationValidationResult) -> str | None:
    info = result.exception_info or {}
    infos = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    messages = [i.get("exception_message") for i in infos if i.get("raised_exception")]
    return "; ".join(dict.fromkeys(str(m) for m in messages)) or None


def _failure(result: ExpectationValidationResult, key: list[str]) -> dict[str, Any]:
    config = result.expectation_config
    column = config.kwargs.get("column") or config.kwargs.get("column_list")
    found = result.result or {}
    indexed = found.get("partial_unexpected_index_list") or []
    ids = [row.get(key[0]) if len(key) == 1 else "|".join(str(row.get(k)) for k in key) for row in indexed]
    checks_a_flag = isinstance(column, str) and column.startswith("chk_")
    missing = found.get("details", {}).get("mismatched", {}).get("missing")
    observed = f"missing {', '.join(missing)}" if missing else found.get("observed_value")
    return _plain(
        {
            "expectation": config.type,
            "column": column,
            "description": config.description,
            "unexpected_count": found.get("unexpected_count"),
            "key": "|".join(key),
            "sample_ids": ids,
            "sample_values": [] if checks_a_flag else found.get("partial_unexpected_list", []),
            "observed": observed if "unexpected_count" not in found else None,
            "error": _error(result),
        }
    )


def _query_failure(exc: Exception) -> dict[str, Any]:
    return {
        "expectation": "query",
        "column": None,
        "description": "the suite's query runs",
        "unexpected_count": None,
        "key": "",
        "sample_ids": [],
        "sample_values": [],
        "observed": None,
        "error": str(exc).splitlines()[0],
    }


def _frame(source: Any, sql: str) -> pd.DataFrame:
    if isinstance(source, duckdb.DuckDBPyConnection):
        return source.execute(sql).df()
    return source.table_frame(sql)


# Functions whose value changes between runs on the same data: a suite using one must always run.
_VOLATILE = frozenset(
    "now current_timestamp get_current_timestamp transaction_timestamp current_date current_time today random "
    "uuid gen_random_uuid setseed".split()
)


def _tables_read(source: Any, sql: str) -> list[str]:
    """The tables a query reads, from DuckDB's own parse tree."""
    tree = json.loads(_frame(source, f"SELECT json_serialize_sql({_literal(sql)}) AS tree")["tree"][0])
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE":
                found.add(node["table_name"])
            names = node.get("column_names") or []
            called = node.get("function_name") or (names[0] if len(names) == 1 else None)  # current_date: a column
            if str(called or "").lower() in _VOLATILE:
                raise ValueError(f"the suite's query reads {called}: its outcome changes over time")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    if tree.get("error"):
        raise ValueError(f"cannot parse the suite's query: {tree.get('error_message')}")
    walk(tree)
    return sorted(found)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def input_checksum(source: Any, suite: ModuleType, tables: dict[str, tuple[str, int, str]] | None = None) -> str:
    """A checksum of what a suite's outcome depends on: its query and expectations, the Great Expectations and
    DuckDB versions, and the columns and content (row count, XOR and sum of 64-bit row hashes) of every table its
    query reads. `tables` caches table states across the suites of one validation (see `_table_state`). Raises
    ValueError for a query whose outcome also depends on time or chance."""
    definition = json.dumps([e.configuration.to_json_dict() for e in suite.expectations()], sort_keys=True, default=str)
    parts = [gx.__version__, duckdb.__version__, suite.TABLE, suite.SQL, definition]
    for table in _tables_read(source, suite.SQL):
        columns, rows, content = _table_state(source, table, {} if tables is None else tables)
        parts += [table, columns, f"{rows} {content}"]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _table_state(source: Any, table: str, known: dict[str, tuple[str, int, str]]) -> tuple[str, int, str]:
    """(columns with types, row count, XOR and sum of the row hashes) of a table, read once into `known`."""
    if table not in known:
        state = _frame(
            source,
            f"SELECT (SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_index) "
            f"FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = {_literal(table)}) AS columns, "
            f"count(*) AS n, coalesce(bit_xor(h), 0) || ' ' || coalesce(sum(h::HUGEINT), 0) AS content "
            f"FROM (SELECT hash(t) AS h FROM main.{table} t)",
        ).iloc[0]
        known[table] = (str(state["columns"]), int(state["n"]), str(state["content"]))
    return known[table]


def _validated(source: Any) -> dict[tuple[str, str], tuple[str, int]]:
    """(table, input checksum) → (run_id, expectations evaluated) of stored successful validations."""
    try:
        frame = _frame(
            source,
            "SELECT table_name, input_checksum, min(run_id) AS run_id, any_value(evaluated) AS evaluated "
            "FROM validation_results WHERE success AND input_checksum IS NOT NULL GROUP BY ALL",
        )
    except duckdb.Error:  # a database from before checksums were kept
        return {}
    return {(r.table_name, r.input_checksum): (r.run_id, int(r.evaluated)) for r in frame.itertuples()}


def _runs_never_validated(source: Any) -> list[str]:
    """Runs with no successful validation whose rows may still be in the store (a run killed after some batches)."""
    return _frame(
        source, "SELECT run_id FROM runs WHERE run_id NOT IN (SELECT run_id FROM validation_results WHERE success)"
    )["run_id"].tolist()


def _has_rows(source: Any, table: str, runs: str) -> bool:
    return not _frame(source, f"SELECT 1 FROM main.{table} WHERE run_id IN ({runs}) LIMIT 1").empty


def _rows_of_runs(suite: ModuleType, runs: str) -> str:
    """The suite's query over the rows the given runs wrote: its table's name is bound to those rows, so the filter
    reaches the table scan whatever the query joins (a check that needs the whole table names it main.<table>)."""
    return (
        f"WITH {suite.TABLE} AS {rows_where(f'main.{suite.TABLE}', f'run_id IN ({runs})')} SELECT * FROM ({suite.SQL})"
    )


def validate_all(source: Any, run_id: str, reuse: bool = True, scope: str = "full") -> ValidationReport:
    """Validate every table. `source` is a Store or a DuckDB connection.

    scope "new" validates the rows the run wrote (run_id = `run_id`, and the rows of earlier runs that were never
    validated: one killed before validating leaves its committed batches to the next run), with every check of the
    suite, joins to other tables included: the cost follows the run, not the store. Keys stay unique over whole
    tables by their primary keys. Rows a run changes in place without rewriting them (an entity's recomputed type or
    merge target) wait for a full validation.

    scope "full" validates every row. With `reuse`, a table whose suite already passed on identical inputs (same
    input checksum, see `input_checksum`) is not validated again: the outcome is a function of those inputs, so the
    earlier success stands. A table changed in any way (a new, changed or deleted row, in it or in a table its checks
    join) is validated in full.
    """
    if scope not in ("new", "full"):
        raise ValueError(f"scope must be 'new' or 'full', not {scope!r}")
    datasource = None
    validated = _validated(source) if reuse and scope == "full" else {}
    unvalidated = ", ".join(map(_literal, [run_id, *_runs_never_validated(source)])) if scope == "new" else ""
    states: dict[str, tuple[str, int, str]] = {}
    tables = []
    for suite in SUITES:
        checksum: str | None = None
        if scope == "full":
            try:
                checksum = input_checksum(source, suite, states)
            except (duckdb.Error, ValueError):
                checksum = None  # the query below reports what is wrong
        if checksum and (suite.TABLE, checksum) in validated:
            earlier, evaluated = validated[(suite.TABLE, checksum)]
            rows = _table_state(source, suite.TABLE, states)[1]
            tables.append(TableResult(suite.TABLE, rows, evaluated, [], checksum, earlier))
            continue
        table_scope = scope
        try:
            if scope == "new" and "run_id" not in _frame(source, f"SELECT * FROM ({suite.SQL}) LIMIT 0").columns:
                table_scope = "full"  # a table no run writes by rows (claims): small, validated whole
            if table_scope == "new" and not _has_rows(source, suite.TABLE, unvalidated):
                tables.append(TableResult(suite.TABLE, 0, 0, [], scope=table_scope))
                continue
            frame = _frame(source, suite.SQL if table_scope == "full" else _rows_of_runs(suite, unvalidated))
        except duckdb.Error as exc:
            tables.append(TableResult(suite.TABLE, 0, 1, [_query_failure(exc)], checksum, scope=table_scope))
            continue
        if datasource is None:
            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
            datasource = context.data_sources.add_pandas("stancewire")
        batch = (
            datasource.add_dataframe_asset(suite.TABLE)
            .add_batch_definition_whole_dataframe("all")
            .get_batch(batch_parameters={"dataframe": frame})
        )
        result = batch.validate(
            gx.ExpectationSuite(name=suite.TABLE, expectations=suite.expectations()),
            result_format={
                "result_format": "SUMMARY",
                "unexpected_index_column_names": suite.KEY,
                "partial_unexpected_count": SAMPLE_SIZE,
            },
        )
        failures = [_failure(r, suite.KEY) for r in result.results if not r.success]
        tables.append(TableResult(suite.TABLE, len(frame), len(result.results), failures, checksum, scope=table_scope))
    return ValidationReport(run_id, tables)
