"""Expectations for `quantities`: figures read from sentences, with offsets, qualifier, range, role and dates."""

import great_expectations.expectations as gxe
import polars as pl

from expectations.common import holds, not_null, rows_where, structure
from stancewire import frames

TABLE = "quantities"
KEY = ["quantity_id"]
COLUMNS = {c: t for c, t in frames.QUANTITIES.items() if c != "subjects"} | {"run_id": pl.String}
QUALIFIERS = ["exact", "about", "more_than", "at_least", "less_than", "at_most", "range"]
ROLES = ["increment", "total", "rate", "forecast"]
SUBJECT_FROM = ["thing", "sentence", "neighbour", "article"]

SQL = f"""
SELECT q.* EXCLUDE (subjects),
    coalesce(se.article_id = q.article_id, false) AS chk_sentence_in_article,
    coalesce(q.start >= se.start AND q."end" <= se."end" AND q.start < q."end", false) AS chk_within_sentence,
    coalesce(substr(a.text, q.start + 1, q."end" - q.start) = q.text, false) AS chk_matches_span,
    coalesce(q.value_max >= q.value, false) AS chk_range_ordered,
    coalesce((q.qualifier = 'range') = (q.value_max > q.value), false) AS chk_range_iff_wider,
    q.object IS NOT NULL OR q.unit IS NOT NULL AS chk_measures_something,
    coalesce(q.refers_from <= q.refers_to, q.refers_from IS NULL AND q.refers_to IS NULL) AS chk_dates_ordered,
    (len(q.subjects) > 0) = (q.subject_from IS NOT NULL) AS chk_subjects_said_where
FROM quantities q
LEFT JOIN {rows_where("articles", "article_id IN (SELECT article_id FROM quantities)")} a
    ON a.article_id = q.article_id
LEFT JOIN {rows_where("sentences", "sentence_id IN (SELECT sentence_id FROM quantities)")} se
    ON se.sentence_id = q.sentence_id
"""


def expectations() -> list[gxe.Expectation]:
    return [
        *structure(COLUMNS, KEY),
        *not_null("article_id", "sentence_id", "value", "value_max", "qualifier", "run_id"),
        *not_null("thing", "role", "estimated"),
        gxe.ExpectColumnValuesToBeInSet(column="qualifier", value_set=QUALIFIERS),
        gxe.ExpectColumnValuesToBeInSet(column="role", value_set=ROLES),
        gxe.ExpectColumnValuesToBeInSet(column="subject_from", value_set=SUBJECT_FROM),
        holds("chk_sentence_in_article", "the sentence belongs to the article"),
        holds("chk_within_sentence", "the span lies inside its sentence"),
        holds("chk_matches_span", "text equals the article text between its offsets"),
        holds("chk_range_ordered", "value <= value_max"),
        holds("chk_range_iff_wider", "only ranges have value_max > value"),
        holds("chk_measures_something", "an object or a unit is known"),
        holds("chk_dates_ordered", "refers_from <= refers_to, both or neither known"),
        holds("chk_subjects_said_where", "subject_from is given exactly when there are subjects"),
    ]
