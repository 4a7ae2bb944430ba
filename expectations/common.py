"""Building blocks shared by the table suites."""

import great_expectations.expectations as gxe
import polars as pl

HEX32 = r"^[0-9a-f]{32}$"


def rows_where(table: str, where: str) -> str:
    """A subquery of the rows of `table` matching `where`, found first by the narrow columns `where` reads: a plain
    filtered scan reads the wide columns (texts, vectors) of every stored row, which a check of one run's rows
    against a store of millions cannot afford."""
    return f"(SELECT * FROM {table} WHERE rowid IN (SELECT rowid FROM {table} WHERE {where}))"


HEX64 = r"^[0-9a-f]{64}$"
LANGUAGE = r"^(?:[a-z]{2}|und)$"  # ISO 639-1, or "und" when unknown

# The dtype names Great Expectations observes on the pandas frames DuckDB returns.
_GX_TYPES = {pl.String: "str", pl.Int32: "int32", pl.Int64: "int64", pl.Float64: "float64", pl.Boolean: "bool"}


def _gx_type(dtype: pl.DataType) -> str:
    if dtype == pl.Date:
        return "datetime64"  # DuckDB hands DATE to pandas as naive datetime64
    return "Timestamp" if isinstance(dtype, pl.Datetime) else _GX_TYPES[dtype]


def structure(columns: dict[str, pl.DataType], key: list[str]) -> list[gxe.Expectation]:
    """Columns present with their types; key columns not null and unique together."""
    unique = (
        gxe.ExpectColumnValuesToBeUnique(column=key[0])
        if len(key) == 1
        else gxe.ExpectCompoundColumnsToBeUnique(column_list=key)
    )
    return [
        gxe.ExpectTableColumnsToMatchSet(column_set=list(columns), exact_match=False, description="has every column"),
        *(
            gxe.ExpectColumnValuesToBeOfType(column=c, type_=_gx_type(t), description=f"of type {_gx_type(t)}")
            for c, t in columns.items()
        ),
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in key),
        unique,
    ]


def not_null(*columns: str) -> list[gxe.Expectation]:
    return [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in columns]


def non_empty(*columns: str) -> list[gxe.Expectation]:
    return [gxe.ExpectColumnValueLengthsToBeBetween(column=c, min_value=1) for c in columns]


def probability(*columns: str) -> list[gxe.Expectation]:
    return [gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, max_value=1) for c in columns]


def holds(column: str, description: str) -> gxe.Expectation:
    """A boolean check column computed in the suite's SQL (NULL counts as false there) must be true on every row."""
    return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=[True], description=description)
