"""Expectations for `mentions`: mentions found by a NER model, as spans of the article text."""

import great_expectations.expectations as gxe
import polars as pl

from expectations.common import HEX32, holds, non_empty, not_null, probability, rows_where, structure
from stancewire import frames

TABLE = "mentions"
KEY = ["mention_id"]
COLUMNS = frames.MENTIONS | {"run_id": pl.String}

SQL = f"""
SELECT e.*,
    a.article_id IS NOT NULL AS chk_article_exists,
    coalesce(e.start >= 0 AND e.start < e."end", false) AS chk_span_valid,
    coalesce(e."end" <= length(a.text), false) AS chk_end_within_text,
    coalesce(substr(a.text, e.start + 1, e."end" - e.start) = e.text, false) AS chk_text_matches_span,
    coalesce(s.article_id = e.article_id AND s.start <= e.start AND e."end" <= s."end", false)
        AS chk_within_sentence
FROM mentions e
LEFT JOIN {rows_where("articles", "article_id IN (SELECT article_id FROM mentions)")} a
    ON a.article_id = e.article_id
LEFT JOIN {rows_where("sentences", "sentence_id IN (SELECT sentence_id FROM mentions)")} s
    ON s.sentence_id = e.sentence_id
"""


def expectations() -> list[gxe.Expectation]:
    return [
        *structure(COLUMNS, KEY),
        *not_null("article_id", "sentence_id", "start", "end", "text", "label", "score", "model_id", "run_id"),
        *not_null("model_revision"),
        *non_empty("label", "model_id"),
        gxe.ExpectColumnValuesToMatchRegex(column="mention_id", regex=HEX32),
        gxe.ExpectColumnValuesToNotMatchRegex(
            column="label", regex=r"^[BIES]-", description="labels carry no B-/I- tag"
        ),
        *probability("score"),
        holds("chk_article_exists", "the mention's article exists"),
        holds("chk_span_valid", "0 <= start < end"),
        holds("chk_end_within_text", "end lies within the article text"),
        holds("chk_text_matches_span", "text equals the article text between start and end"),
        holds("chk_within_sentence", "the mention lies inside its sentence"),
    ]
