"""Embed stage: one vector per sentence and embedding model revision, stored and reused by every claim and run; an
article's vector is the normalised mean of its readable sentences' (v_similar_articles). Claims are embedded when
the stance stage first meets them, or their text changed."""

from typing import Protocol

import numpy as np
import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from stancewire.frames import ARTICLE_EMBEDDINGS, CLAIM_EMBEDDINGS, SENTENCE_EMBEDDINGS, empty
from stancewire.results import EmbedResult
from stancewire.vectors import to_int8, unit_rows


class Embedder(Protocol):
    model_id: str
    revision: str
    dim: int

    def passages(self, texts: list[str]) -> np.ndarray: ...
    def queries(self, texts: list[str]) -> np.ndarray: ...
    def unreadable(self, text: str) -> str | None: ...


def _vectors(texts: list[str], embedder: Embedder, query: bool) -> tuple[list[list[float] | None], list[str | None]]:
    """(vector or None, why not) per text; texts the model cannot read are not embedded."""
    reasons = [embedder.unreadable(t) for t in texts]
    readable = [i for i, r in enumerate(reasons) if r is None]
    matrix = (embedder.queries if query else embedder.passages)([texts[i] for i in readable])
    vectors: list[list[float] | None] = [None] * len(texts)
    for i, row in zip(readable, matrix, strict=True):
        vectors[i] = row.tolist()
    return vectors, reasons


def embed_sentences(sentences: pl.DataFrame, embedder: Embedder) -> EmbedResult:
    """Vectors of `sentences` (sentence_id, article_id, text), stored as int8, and of their articles (the mean of the
    float vectors)."""
    if sentences.is_empty():
        return EmbedResult(empty(SENTENCE_EMBEDDINGS), empty(ARTICLE_EMBEDDINGS))
    vectors, reasons = _vectors(sentences["text"].to_list(), embedder, query=False)
    identity = {"model_id": pl.lit(embedder.model_id), "model_revision": pl.lit(embedder.revision)}
    rows = sentences.select("sentence_id", "article_id").with_columns(
        vector=pl.Series([to_int8(v) for v in vectors], dtype=pl.List(pl.Int8)),
        unreadable=pl.Series(reasons, dtype=pl.String),
        **identity,
    )
    by_article: dict[str, list[list[float]]] = {}
    for article_id, vector in zip(sentences["article_id"].to_list(), vectors, strict=True):
        if vector is not None:
            by_article.setdefault(article_id, []).append(vector)
    article_rows = pl.DataFrame(
        {
            "article_id": list(by_article),
            "vector": [unit_rows(np.mean(group, axis=0)).tolist() for group in by_article.values()],
        },
        schema={"article_id": pl.String, "vector": pl.List(pl.Float32)},
    )
    return EmbedResult(
        rows.select(list(SENTENCE_EMBEDDINGS)), article_rows.with_columns(**identity).select(list(ARTICLE_EMBEDDINGS))
    )


def embed_claims(claims: pl.DataFrame, embedder: Embedder) -> pl.DataFrame:
    """CLAIM_EMBEDDINGS rows of `claims` (claim_id, text)."""
    vectors, reasons = _vectors(claims["text"].to_list(), embedder, query=True)
    return (
        claims.select("claim_id", "text")
        .with_columns(
            model_id=pl.lit(embedder.model_id),
            model_revision=pl.lit(embedder.revision),
            vector=pl.Series(vectors, dtype=pl.List(pl.Float32)),
            unreadable=pl.Series(reasons, dtype=pl.String),
        )
        .select(list(CLAIM_EMBEDDINGS))
        if claims.height
        else empty(CLAIM_EMBEDDINGS)
    )


@task(name="embed", cache_policy=NO_CACHE)
def embed_task(sentences: pl.DataFrame, embedder: Embedder) -> EmbedResult:
    result = embed_sentences(sentences, embedder)
    unread = result.sentences.filter(pl.col("unreadable").is_not_null()).height
    get_run_logger().info(
        "embed: %d sentences of %d articles (%d not readable by %s)",
        result.sentences.height,
        sentences["article_id"].n_unique() if sentences.height else 0,
        unread,
        embedder.model_id,
    )
    return result
