"""Expectations for `quantities`: numbers read from sentences, with their offsets, qualifier and range."""

import great_expectations.expectations as gxe
import polars as pl

from expectations.common import holds, not_null, structure
from stancewire import frames

TABLE = "quantities"
KEY = ["quantity_id"]
COLUMNS = {c: t for c, t in frames.QUANTITIES.items() if c != "entities"} | {"run_id": pl.String}
QUALIFIERS = ["exact", "about", "more_than", "at_least", "less_than", "at_most", "range"]

SQL = """
SELECT q.* EXCLUDE (entities),
    coalesce(se.article_id = q.article_id, false) AS chk_sentence_in_article,
    coalesce(q.start >= se.start AND q."end" <= se."end" AND q.start < q."end", false) AS chk_within_sentence,
    coalesce(substr(a.text, q.start + 1, q."end" - q.start) = q.text, false) AS chk_matches_span,
    coalesce(q.value_max >= q.value, false) AS chk_range_ordered,
    coalesce((q.qualifier = 'range') = (q.value_max > q.value), false) AS chk_range_iff_wider,
    q.object IS NOT NULL OR q.unit IS NOT NULL AS chk_measures_something
FROM quantities q
LEFT JOIN articles a ON a.article_id = q.article_id
LEFT JOIN sentences se ON se.sentence_id = q.sentence_id
"""


def expectations() -> list[gxe.Expectation]:
    return [
        *structure(COLUMNS, KEY),
        *not_null("article_id", "sentence_id", "value", "value_max", "qualifier", "run_id"),
        gxe.ExpectColumnValuesToBeInSet(column="qualifier", value_set=QUALIFIERS),
        holds("chk_sentence_in_article", "the sentence belongs to the article"),
        holds("chk_within_sentence", "the span lies inside its sentence"),
        holds("chk_matches_span", "text equals the article text between its offsets"),
        holds("chk_range_ordered", "value <= value_max"),
        holds("chk_range_iff_wider", "only ranges have value_max > value"),
        holds("chk_measures_something", "an object or a unit is known"),
    ]
