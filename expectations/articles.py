"""Expectations for `articles`: cleaned text and metadata (the text is checked in SQL, never loaded)."""

import great_expectations.expectations as gxe
import polars as pl

from expectations.common import HEX64, LANGUAGE, holds, not_null, probability, structure
from stancewire import frames

TABLE = "articles"
KEY = ["article_id"]
COLUMNS = {c: t for c, t in frames.ARTICLES.items() if c != "text"} | {"run_id": pl.String}

SQL = """
SELECT a.* EXCLUDE (text),
    coalesce(a.article_id = a.doc_id, false) AS chk_id_is_doc_id,
    d.doc_id IS NOT NULL AS chk_document_exists,
    coalesce(length(a.text) > 0, false) AS chk_text_not_empty,
    coalesce(sha256(a.text) = a.text_hash, false) AS chk_text_hash_matches
FROM articles a
LEFT JOIN documents d ON d.doc_id = a.doc_id
"""


def expectations() -> list[gxe.Expectation]:
    return [
        *structure(COLUMNS, KEY),
        *not_null("doc_id", "source", "language", "text_hash", "extractor", "run_id"),
        gxe.ExpectColumnValuesToMatchRegex(column="language", regex=LANGUAGE),
        *probability("language_confidence"),
        gxe.ExpectColumnValuesToMatchRegex(column="text_hash", regex=HEX64),
        gxe.ExpectColumnValuesToBeInSet(column="extractor", value_set=["trafilatura", "plain", "json"]),
        holds("chk_id_is_doc_id", "article_id equals doc_id"),
        holds("chk_document_exists", "the article's document exists"),
        holds("chk_text_not_empty", "text is not empty"),
        holds("chk_text_hash_matches", "text_hash is the sha256 of text"),
    ]
