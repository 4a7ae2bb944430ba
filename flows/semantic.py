"""Sentence embeddings in the flow: the embed stage over the store, and the semantic evidence stance batches carry.

The embedding model runs in the flow's process (it is small and fast next to NER and NLI). When it cannot load, the
embed stage is skipped with the reason, and the stance stage runs the lexical rule alone and records why on each
(article, claim) decision.
"""

from collections.abc import Sequence

import numpy as np
import polars as pl

from flows.batches import chunks
from flows.pipeline_run import StageOutcome
from models.embeddings import Embedder, load_embedder
from models.loading import ModelUnavailable
from stancewire.config import ModelOptions
from stancewire.store import Store
from tasks.embed import embed_claims, embed_task
from tasks.stance.relevance import CALIBRATED, SemanticEvidence, Thresholds, too_short

THRESHOLD_SETTING = "STANCEWIRE_SEMANTIC_THRESHOLD / --semantic-threshold"


def embedder(options: ModelOptions) -> Embedder | str:
    """The configured embedding model, or why it cannot be used."""
    try:
        return load_embedder(options.embedding, options.device or "auto", options.token_budget)
    except (ModelUnavailable, ValueError) as exc:
        return str(exc)


def identity(model: Embedder) -> str:
    return f"{model.model_id}@{model.revision}"


def thresholds(model: Embedder, options: ModelOptions) -> Thresholds | None:
    """The calibrated thresholds of the model, its article threshold replaced by the configured one if any."""
    calibrated = CALIBRATED.get(model.model_id)
    if options.semantic_threshold is not None:
        return Thresholds(article=options.semantic_threshold, sentence=calibrated.sentence if calibrated else -1.0)
    return calibrated


def embed(store: Store, run_id: str, options: ModelOptions) -> StageOutcome:
    """Embed the sentences of canonical articles this embedding model revision has not embedded."""
    model = embedder(options)
    if isinstance(model, str):
        return StageOutcome(skipped=model)
    store.record_run_model(run_id, "embedding", model.model_id, model.revision, model.kernel)
    sentences = store.pending_embeddings(model.model_id, model.revision)
    article_ids = sentences["article_id"].unique(maintain_order=True).to_list()
    outcome = StageOutcome(len(article_ids))
    for batch in chunks(article_ids, options.batch_size):
        result = embed_task(sentences.filter(pl.col("article_id").is_in(batch)), model)
        store.save(result, run_id)
        outcome.rows_out += result.sentences.height
    return outcome


class SemanticRule:
    """For the stance stage: the decision identity (`relevance_model`) and each batch's SemanticEvidence."""

    def __init__(self, store: Store, options: ModelOptions) -> None:
        self._store = store
        self.model = embedder(options)
        self.relevance_model: str | None = None
        self._unavailable: str | None = None
        if isinstance(self.model, str):
            self._unavailable = f"embedding model unavailable: {self.model}"
            return
        self._thresholds = thresholds(self.model, options)
        if self._thresholds is None:
            self._unavailable = f"no calibrated threshold for {self.model.model_id!r}: set {THRESHOLD_SETTING}"
            return
        self.relevance_model = identity(self.model)

    def prepare(self, claims: pl.DataFrame) -> None:
        """Embed the claims that have no vector from this model for their current text; note those it cannot use."""
        if self.relevance_model is None:
            return
        model = self.model
        stored = self._store.claim_embeddings(model.model_id, model.revision)
        current = claims.select("claim_id", "text").join(
            stored.select("claim_id", "text"), on=["claim_id", "text"], how="anti"
        )
        if current.height:
            fresh = embed_claims(current, model)
            self._store.write_claim_embeddings(fresh)
            stored = pl.concat([stored, fresh])
        stored = stored.join(claims.select("claim_id", "text"), on=["claim_id", "text"])
        self._claim_vectors = {
            cid: np.asarray(vector, np.float32)
            for cid, vector in stored.select("claim_id", "vector").iter_rows()
            if vector is not None
        }
        self._claim_notes = {
            cid: note
            for cid, text, unreadable in stored.select("claim_id", "text", "unreadable").iter_rows()
            if (note := too_short(text) or (f"claim written in a {unreadable}" if unreadable else None))
        }

    def evidence(self, article_ids: Sequence[str]) -> SemanticEvidence:
        if self.relevance_model is None:
            return SemanticEvidence.without(self._unavailable or "no embedding model")
        return SemanticEvidence(
            model=self.relevance_model,
            thresholds=self._thresholds,
            sentence_vectors=self._store.sentence_vectors(article_ids, self.model.model_id, self.model.revision),
            claim_vectors=self._claim_vectors,
            claim_notes=self._claim_notes,
        )
