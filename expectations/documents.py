"""Expectations for `documents`: raw payloads as fetched (the payload itself is not loaded)."""

import great_expectations.expectations as gxe
import polars as pl

from expectations.common import HEX32, HEX64, holds, non_empty, not_null, structure
from stancewire import frames

TABLE = "documents"
KEY = ["doc_id"]
COLUMNS = {c: t for c, t in frames.DOCUMENTS.items() if c != "payload"} | {"run_id": pl.String}

SQL = """
SELECT * EXCLUDE (payload),
    coalesce(octet_length(payload) = size_bytes, false) AS chk_size_matches_payload
FROM documents
"""


def expectations() -> list[gxe.Expectation]:
    return [
        *structure(COLUMNS, KEY),
        *not_null("source", "uri", "fetched_at", "content_type", "content_hash", "size_bytes", "run_id"),
        *non_empty("source", "uri"),
        gxe.ExpectColumnValuesToMatchRegex(column="doc_id", regex=HEX32),
        gxe.ExpectColumnValuesToMatchRegex(column="content_hash", regex=HEX64),
        gxe.ExpectColumnValuesToMatchRegex(column="content_type", regex=r"^[a-z]+/[a-z0-9.+-]+$"),
        gxe.ExpectColumnValuesToBeBetween(column="size_bytes", min_value=0),
        holds("chk_size_matches_payload", "size_bytes equals the payload length"),
    ]
