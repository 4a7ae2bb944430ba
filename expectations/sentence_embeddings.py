"""Expectations for `sentence_embeddings`: one unit vector, or the reason there is none, per sentence and model."""

import great_expectations.expectations as gxe
import polars as pl

from expectations.common import holds, not_null, rows_where, structure
from stancewire import frames

TABLE = "sentence_embeddings"
KEY = ["sentence_id", "model_id", "model_revision"]
COLUMNS = {c: t for c, t in frames.SENTENCE_EMBEDDINGS.items() if c != "vector"} | {"run_id": pl.String}
NORM_TOLERANCE = 0.02  # stored as round(127 x component): the rounding moves the length a little

# The vectors stay in DuckDB: the checks on them are computed here, and only their outcomes reach the suite.
SQL = f"""
SELECT e.sentence_id, e.article_id, e.model_id, e.model_revision, e.unreadable, e.run_id,
    (e.vector IS NULL) <> (e.unreadable IS NULL) AS chk_vector_or_reason,
    e.vector IS NULL OR abs(sqrt(list_dot_product(CAST(e.vector AS FLOAT[]), CAST(e.vector AS FLOAT[]))) / 127 - 1)
        <= {NORM_TOLERANCE} AS chk_unit_length,
    e.vector IS NULL OR len(e.vector) = len(a.vector) AS chk_dimension_of_article_vector,
    coalesce(s.article_id = e.article_id, false) AS chk_sentence_of_article,
    e.vector IS NULL OR a.article_id IS NOT NULL AS chk_article_vector_exists
FROM sentence_embeddings e
LEFT JOIN {rows_where("sentences", "sentence_id IN (SELECT sentence_id FROM sentence_embeddings)")} s
    ON s.sentence_id = e.sentence_id
LEFT JOIN {rows_where("article_embeddings", "article_id IN (SELECT article_id FROM sentence_embeddings)")} a
    ON a.article_id = e.article_id AND a.model_id = e.model_id AND a.model_revision = e.model_revision
"""


def expectations() -> list[gxe.Expectation]:
    return [
        *structure(COLUMNS, KEY),
        *not_null("article_id", "run_id"),
        holds("chk_vector_or_reason", "a sentence has a vector or the reason it has none, never both"),
        holds("chk_unit_length", "vectors are L2-normalised"),
        holds("chk_dimension_of_article_vector", "a sentence vector has the dimension of its article's vector"),
        holds("chk_sentence_of_article", "the sentence exists in that article"),
        holds("chk_article_vector_exists", "an article with a sentence vector has an article vector"),
    ]
