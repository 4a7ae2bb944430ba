"""Expectations for `claims`: the statements articles are scored against."""

import great_expectations.expectations as gxe

from expectations.common import LANGUAGE, holds, non_empty, not_null, structure
from stancewire import frames

TABLE = "claims"
KEY = ["claim_id"]
COLUMNS = frames.CLAIMS | {"added_at": frames.UTC_DATETIME, "updated_at": frames.UTC_DATETIME}

SQL = """
SELECT c.*,
    coalesce(c.added_at <= c.updated_at, false) AS chk_added_before_updated,
    c.translations IS NULL OR coalesce(json_valid(c.translations) AND json_type(c.translations) = 'OBJECT', false)
        AS chk_translations_object
FROM claims c
"""


def expectations() -> list[gxe.Expectation]:
    return [
        *structure(COLUMNS, KEY),
        *not_null("text", "language", "enabled", "added_at", "updated_at"),
        *non_empty("claim_id", "text"),
        gxe.ExpectColumnValuesToMatchRegex(column="language", regex=LANGUAGE),
        holds("chk_added_before_updated", "added_at <= updated_at"),
        holds("chk_translations_object", "translations is NULL or a JSON object {language: text}"),
    ]
