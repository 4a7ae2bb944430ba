"""Stance stage: every (article, claim) pair scored sentence by sentence with NLI, then aggregated.

Aggregation rule (per article and claim, over its sentences as premises and the claim as hypothesis):
- SUPPORT when the most entailing sentence has P(entailment) ≥ threshold and at least the best P(contradiction);
- REFUTE when the most contradicting sentence has P(contradiction) ≥ threshold (and did not lose to support);
- NEUTRAL otherwise, with the sentence that is least neutral as evidence.
The stored probabilities are the evidence sentence's, so they always sum to 1.
"""

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from stancewire.frames import QUARANTINE, STANCE, conform, empty

DEFAULT_THRESHOLD = 0.5


class NliModel(Protocol):
    model_id: str
    revision: str

    def __call__(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray: ...


def score_stance(
    pairs: pl.DataFrame,
    sentences: pl.DataFrame,
    claims: pl.DataFrame,
    model: NliModel,
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> pl.DataFrame:
    """Score `pairs` (article_id, claim_id) using the articles' `sentences` and the `claims` texts."""
    candidates = (
        pairs.join(sentences.select("sentence_id", "article_id", "start", "end", "text"), on="article_id")
        .join(claims.select("claim_id", pl.col("text").alias("claim_text")), on="claim_id")
        .sort("article_id", "claim_id", "start")
    )
    if candidates.is_empty():
        return empty(STANCE)
    probs = model(list(zip(candidates["text"].to_list(), candidates["claim_text"].to_list(), strict=True)))
    scored = candidates.with_columns(
        p_entailment=pl.Series(probs[:, 0]),
        p_neutral=pl.Series(probs[:, 1]),
        p_contradiction=pl.Series(probs[:, 2]),
    )
    return aggregate(scored, threshold=threshold).with_columns(
        model_id=pl.lit(model.model_id), model_revision=pl.lit(model.revision)
    ).pipe(conform, STANCE)


def unscorable(pairs: pl.DataFrame, sentences: pl.DataFrame) -> pl.DataFrame:
    """Quarantine rows for pending articles that have no sentence to use as a premise."""
    missing = pairs.select("article_id").unique().join(sentences.select("article_id").unique(), on="article_id", how="anti")
    return missing.select(
        item_id=pl.col("article_id"),
        stage=pl.lit("stance"),
        source=pl.lit(None, pl.String),
        uri=pl.lit(None, pl.String),
        reason=pl.lit("no_sentences"),
        detail=pl.lit("article has no sentences to score against the claims"),
    ).pipe(conform, QUARANTINE)


def aggregate(scored: pl.DataFrame, *, threshold: float = DEFAULT_THRESHOLD) -> pl.DataFrame:
    """Sentence-level probabilities → one row per (article_id, claim_id) with label and evidence."""
    keys = ["article_id", "claim_id"]
    best_e = scored.sort("p_entailment", descending=True).group_by(keys, maintain_order=True).first()
    best_c = scored.sort("p_contradiction", descending=True).group_by(keys, maintain_order=True).first()
    least_neutral = scored.sort("p_neutral").group_by(keys, maintain_order=True).first()
    counts = scored.group_by(keys).agg(sentences_scored=pl.len())
    peaks = (
        counts.join(best_e.select(*keys, e_peak="p_entailment"), on=keys)
        .join(best_c.select(*keys, c_peak="p_contradiction"), on=keys)
        .with_columns(
            label=pl.when((pl.col("e_peak") >= threshold) & (pl.col("e_peak") >= pl.col("c_peak")))
            .then(pl.lit("SUPPORT"))
            .when(pl.col("c_peak") >= threshold)
            .then(pl.lit("REFUTE"))
            .otherwise(pl.lit("NEUTRAL"))
        )
    )
    evidence_cols = ["sentence_id", "text", "start", "end", "p_entailment", "p_neutral", "p_contradiction"]
    parts = []
    for label, source in (("SUPPORT", best_e), ("REFUTE", best_c), ("NEUTRAL", least_neutral)):
        chosen = peaks.filter(pl.col("label") == label).select(*keys, "label", "sentences_scored")
        parts.append(chosen.join(source.select(*keys, *evidence_cols), on=keys))
    return (
        pl.concat(parts)
        .rename(
            {
                "sentence_id": "evidence_sentence_id",
                "text": "evidence_text",
                "start": "evidence_start",
                "end": "evidence_end",
            }
        )
        .sort(keys)
    )


@task(name="stance", cache_policy=NO_CACHE)
def stance_task(pairs: pl.DataFrame, sentences: pl.DataFrame, claims: pl.DataFrame, model: NliModel) -> pl.DataFrame:
    stance = score_stance(pairs, sentences, claims, model)
    get_run_logger().info(
        "stance: %d (article, claim) pairs → %s",
        stance.height,
        dict(stance.group_by("label").len().iter_rows()) if stance.height else {},
    )
    return stance
