"""Polars schemas of the frames that flow between stages.

Every stage function takes and returns frames of these shapes; the store maps them onto tables and adds
`run_id` (and write timestamps) itself, so stage code never deals with run bookkeeping.
"""

import polars as pl

UTC_DATETIME = pl.Datetime("us", "UTC")

DOCUMENTS = {
    "doc_id": pl.String,  # sha256(uri + "\0" + content_hash)[:32]
    "source": pl.String,  # the source spec as the user gave it (path, URL)
    "uri": pl.String,  # file path, file path#record, or URL
    "fetched_at": UTC_DATETIME,
    "content_type": pl.String,  # "text/html", "text/plain", "application/json"
    "content_hash": pl.String,  # sha256 hex of payload
    "size_bytes": pl.Int64,
    "payload": pl.Binary,
}

QUARANTINE = {
    "item_id": pl.String,  # stable id of the bad item (doc_id, or hash of the uri when nothing was read)
    "stage": pl.String,  # fetch | clean | ner | stance | validate
    "source": pl.String,
    "uri": pl.String,
    "reason": pl.String,  # short machine-readable reason, e.g. "too_large", "http_404", "empty_text"
    "detail": pl.String,  # human-readable detail (never credentials)
}

ARTICLES = {
    "article_id": pl.String,  # == doc_id: one article per document
    "doc_id": pl.String,
    "source": pl.String,
    "url": pl.String,
    "title": pl.String,
    "author": pl.String,
    "published": UTC_DATETIME,
    "site": pl.String,
    "language": pl.String,  # ISO 639-1, or "und" when unknown
    "language_confidence": pl.Float64,
    "text": pl.String,  # cleaned, normalised text; all offsets point into it
    "text_hash": pl.String,  # sha256 hex of text
    "extractor": pl.String,  # "trafilatura" | "plain" | "json"
}

SENTENCES = {
    "sentence_id": pl.String,  # f"{article_id}:{idx}"
    "article_id": pl.String,
    "idx": pl.Int32,
    "start": pl.Int32,  # char offsets into articles.text, end exclusive
    "end": pl.Int32,
    "text": pl.String,
}

ENTITIES = {
    "mention_id": pl.String,  # sha256(article_id, start, end, label, model_id, model_revision)[:32]
    "article_id": pl.String,
    "sentence_id": pl.String,
    "start": pl.Int32,  # char offsets into articles.text, end exclusive
    "end": pl.Int32,
    "text": pl.String,  # == articles.text[start:end]
    "label": pl.String,  # PER | ORG | LOC | MISC | ... as the model names it, without B-/I-
    "score": pl.Float64,
    "model_id": pl.String,
    "model_revision": pl.String,
}

CLAIMS = {
    "claim_id": pl.String,
    "text": pl.String,
    "language": pl.String,
    "enabled": pl.Boolean,
}

STANCE = {
    "article_id": pl.String,
    "claim_id": pl.String,
    "model_id": pl.String,
    "model_revision": pl.String,
    "label": pl.String,  # SUPPORT | REFUTE | NEUTRAL
    "p_entailment": pl.Float64,  # of the evidence sentence; the three sum to 1
    "p_neutral": pl.Float64,
    "p_contradiction": pl.Float64,
    "evidence_sentence_id": pl.String,
    "evidence_text": pl.String,
    "evidence_start": pl.Int32,
    "evidence_end": pl.Int32,
    "sentences_scored": pl.Int32,
}

STANCE_LABELS = ("SUPPORT", "REFUTE", "NEUTRAL")


def empty(schema: dict) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def conform(df: pl.DataFrame, schema: dict) -> pl.DataFrame:
    """Select and cast `df` to exactly `schema` (column order included); missing columns are an error."""
    missing = [c for c in schema if c not in df.columns]
    if missing:
        raise ValueError(f"frame lacks columns {missing}")
    return df.select([pl.col(c).cast(t) for c, t in schema.items()])
