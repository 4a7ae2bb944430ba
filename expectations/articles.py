"""Expectations for `articles`: cleaned text and metadata (the text is checked in SQL, never loaded)."""

import great_expectations.expectations as gxe
import polars as pl

from expectations.common import HEX64, LANGUAGE, holds, not_null, probability, structure
from stancewire import frames

TABLE = "articles"
KEY = ["article_id"]
COLUMNS = {c: t for c, t in frames.ARTICLES.items() if c not in ("text", "minhash")} | {"run_id": pl.String}
MINHASH_BYTES = 256  # tasks.text.dedup.NUM_PERM uint32 values

SQL = f"""
SELECT a.* EXCLUDE (text, minhash),
    coalesce(a.article_id = a.doc_id, false) AS chk_id_is_doc_id,
    d.doc_id IS NOT NULL AS chk_document_exists,
    coalesce(length(a.text) > 0, false) AS chk_text_not_empty,
    coalesce(sha256(a.text) = a.text_hash, false) AS chk_text_hash_matches,
    a.minhash IS NULL OR octet_length(a.minhash) = {MINHASH_BYTES} AS chk_minhash_size,
    a.duplicate_of IS NULL OR (c.article_id IS NOT NULL AND c.duplicate_of IS NULL
        AND a.duplicate_of <> a.article_id) AS chk_duplicate_of_canonical,
    (a.duplicate_of IS NULL) = (a.duplicate_similarity IS NULL) AS chk_duplicate_similarity_set
FROM articles a
LEFT JOIN documents d ON d.doc_id = a.doc_id
LEFT JOIN main.articles c ON c.article_id = a.duplicate_of
"""


def expectations() -> list[gxe.Expectation]:
    return [
        *structure(COLUMNS, KEY),
        *not_null("doc_id", "source", "language", "text_hash", "extractor", "run_id"),
        gxe.ExpectColumnValuesToMatchRegex(column="language", regex=LANGUAGE),
        *probability("language_confidence", "duplicate_similarity"),
        gxe.ExpectColumnValuesToMatchRegex(column="text_hash", regex=HEX64),
        gxe.ExpectColumnValuesToMatchRegex(column="text_hash_normalised", regex=HEX64),
        gxe.ExpectColumnValuesToBeInSet(column="extractor", value_set=["trafilatura", "plain", "json"]),
        holds("chk_id_is_doc_id", "article_id equals doc_id"),
        holds("chk_document_exists", "the article's document exists"),
        holds("chk_text_not_empty", "text is not empty"),
        holds("chk_text_hash_matches", "text_hash is the sha256 of text"),
        holds("chk_minhash_size", f"minhash is {MINHASH_BYTES} bytes when present"),
        holds("chk_duplicate_of_canonical", "duplicate_of names another article that is itself no duplicate"),
        holds("chk_duplicate_similarity_set", "duplicate_similarity is set exactly when duplicate_of is"),
    ]
