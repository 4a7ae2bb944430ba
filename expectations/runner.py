"""Run every table suite against the store and report which rows broke which expectation."""

from __future__ import annotations

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
    canonical_entities,
    claims,
    documents,
    entities,
    entity_links,
    quantities,
    sentences,
    stance,
)

# Each suite module defines TABLE, KEY (the columns that identify a row), SQL (the frame to validate, with derived
# chk_* columns for what Great Expectations cannot express) and expectations().
SUITES: tuple[ModuleType, ...] = (
    documents, articles, sentences, entities, claims, stance, canonical_entities, entity_links, quantities
)
SAMPLE_SIZE = 5


@dataclass
class TableResult:
    table: str
    rows: int
    evaluated: int
    failures: list[dict[str, Any]]

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


def validate_all(source: Any, run_id: str) -> ValidationReport:
    """Validate every table in full. `source` is a Store or a DuckDB connection."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    datasource = context.data_sources.add_pandas("stancewire")
    tables = []
    for suite in SUITES:
        try:
            frame = _frame(source, suite.SQL)
        except duckdb.Error as exc:
            tables.append(TableResult(suite.TABLE, 0, 1, [_query_failure(exc)]))
            continue
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
        tables.append(TableResult(suite.TABLE, len(frame), len(result.results), failures))
    return ValidationReport(run_id, tables)
