"""Expectations for `sentences`: spans of the article text."""

import great_expectations.expectations as gxe
import polars as pl

from expectations.common import holds, not_null, rows_where, structure
from stancewire import frames

TABLE = "sentences"
KEY = ["sentence_id"]
COLUMNS = frames.SENTENCES | {"run_id": pl.String}

SQL = f"""
SELECT s.*,
    a.article_id IS NOT NULL AS chk_article_exists,
    coalesce(s.sentence_id = s.article_id || ':' || s.idx, false) AS chk_id_format,
    coalesce(s.start >= 0 AND s.start < s."end", false) AS chk_span_valid,
    coalesce(s."end" <= length(a.text), false) AS chk_end_within_text,
    coalesce(substr(a.text, s.start + 1, s."end" - s.start) = s.text, false) AS chk_text_matches_span
FROM sentences s
LEFT JOIN {rows_where("articles", "article_id IN (SELECT article_id FROM sentences)")} a
    ON a.article_id = s.article_id
"""


def expectations() -> list[gxe.Expectation]:
    return [
        *structure(COLUMNS, KEY),
        *not_null("article_id", "idx", "start", "end", "text", "run_id"),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["article_id", "idx"]),
        gxe.ExpectColumnValuesToBeBetween(column="idx", min_value=0),
        holds("chk_article_exists", "the sentence's article exists"),
        holds("chk_id_format", "sentence_id is article_id:idx"),
        holds("chk_span_valid", "0 <= start < end"),
        holds("chk_end_within_text", "end lies within the article text"),
        holds("chk_text_matches_span", "text equals the article text between start and end"),
    ]
