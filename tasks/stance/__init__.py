"""Stance stage: relevance prefilter, sentence-level NLI, aggregation to one stance per (article, claim).

1. The prefilter (tasks/stance/relevance.py) picks candidate sentences by shared words and by meaning (sentence
   embeddings); a pair without any is UNRELATED, with no NLI call.
2. Each candidate is a premise, the claim (in its own language: the model is cross-lingual) the hypothesis; the
   model gives (e, n, c) = P(entailment, neutral, contradiction). An optional temperature T rescales them
   (p ← softmax(log p / T)); T = 1 leaves them as the model gave them.
3. Each side gets a strength from its sentences, a noisy-or in which the strongest sentence counts fully and every
   other sentence at or above `threshold` counts with weight λ = `discount` (sentences of one article repeat each
   other, so they are not independent evidence):
       S = 1 − (1 − e_max) · Π_{other e_j ≥ threshold} (1 − λ·e_j)        R likewise from c.
4. Treating S and R as two detectors, the article-level probabilities are
       P(SUPPORT) = S(1 − R) + S·R · S/(S + R)
       P(REFUTE)  = R(1 − S) + S·R · R/(S + R)
       P(NEUTRAL) = (1 − S)(1 − R)
   (the mass where both fire is split in proportion), which sum to 1. The label is the most probable of the three
   (exact ties go to NEUTRAL) and `score` is its probability. So one strong refutation (c = 0.9) outweighs a few weak
   supports (e ≈ 0.55), while many sentences that clearly entail add up. The score is not calibrated on labelled
   data: it is a probability only as far as the model's are; fit T on labelled pairs to calibrate it.
5. Evidence: the sentence with the highest e (SUPPORT), the highest c (REFUTE) or the lowest n (NEUTRAL), with its
   three probabilities and offsets; for SUPPORT and REFUTE also the strongest sentence for the other side
   (`opposing_*`, with its c or e as `opposing_p`).
"""

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from stancewire.frames import QUARANTINE, STANCE, by_stable_group, conform, empty
from stancewire.results import StanceResult
from tasks.stance.relevance import MIN_SCORE, WINDOW, SemanticEvidence, select_candidates

DEFAULT_THRESHOLD = 0.5
DEFAULT_DISCOUNT = 0.5
DEFAULT_TEMPERATURE = 1.0
_LABELS = ("NEUTRAL", "REFUTE", "SUPPORT")  # argmax order: exact ties go to the first
_DECISION_COLUMNS = (
    "sentences_total",
    "relevance",
    "matched_terms",
    "relevance_method",
    "best_similarity",
    "relevance_model",
    "relevance_note",
)
_PAIR_COLUMNS = ("model_id", "model_revision", *_DECISION_COLUMNS)
_AGGREGATED = {c: t for c, t in STANCE.items() if c not in _PAIR_COLUMNS}  # what aggregate() returns


class NliModel(Protocol):
    model_id: str
    revision: str

    def __call__(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray: ...


def temper(probs: np.ndarray, temperature: float) -> np.ndarray:
    if temperature == 1.0:
        return probs
    logits = np.log(np.clip(probs, 1e-12, 1.0)) / temperature
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def side_strength(p: np.ndarray, threshold: float, discount: float) -> float:
    """Noisy-or of one side's sentence probabilities: the strongest fully, the others above threshold discounted."""
    if p.size == 0:
        return 0.0
    top = int(np.argmax(p))
    rest = np.delete(p, top)
    rest = rest[rest >= threshold]
    return float(1.0 - (1.0 - p[top]) * np.prod(1.0 - discount * rest))


def article_probabilities(s: float, r: float) -> tuple[float, float, float]:
    """(P(SUPPORT), P(REFUTE), P(NEUTRAL)) from the two side strengths."""
    both = s * r
    split = s / (s + r) if s + r > 0 else 0.5
    return s * (1 - r) + both * split, r * (1 - s) + both * (1 - split), (1 - s) * (1 - r)


def decide(
    probs: np.ndarray, *, threshold: float = DEFAULT_THRESHOLD, discount: float = DEFAULT_DISCOUNT
) -> tuple[str, float, int, int | None]:
    """(label, score, evidence row, opposing row or None) for one article's (k, 3) sentence probabilities."""
    s = side_strength(probs[:, 0], threshold, discount)
    r = side_strength(probs[:, 2], threshold, discount)
    p_support, p_refute, p_neutral = article_probabilities(s, r)
    label = _LABELS[int(np.argmax([p_neutral, p_refute, p_support]))]
    if label == "SUPPORT":
        return label, p_support, int(np.argmax(probs[:, 0])), int(np.argmax(probs[:, 2]))
    if label == "REFUTE":
        return label, p_refute, int(np.argmax(probs[:, 2])), int(np.argmax(probs[:, 0]))
    return label, p_neutral, int(np.argmin(probs[:, 1])), None


def aggregate(
    scored: pl.DataFrame,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    discount: float = DEFAULT_DISCOUNT,
    temperature: float = DEFAULT_TEMPERATURE,
) -> pl.DataFrame:
    """Sentence-level probabilities (article_id, claim_id, sentence_id, text, start, end, p_*) → one row per
    (article_id, claim_id) with label, score, evidence and opposing evidence, as the module docstring says."""
    rows = []
    for (aid, cid), group in scored.sort("start").partition_by(["article_id", "claim_id"], as_dict=True).items():
        raw = group.select("p_entailment", "p_neutral", "p_contradiction").to_numpy()
        label, score, ev, op = decide(temper(raw, temperature), threshold=threshold, discount=discount)
        evidence = group.row(ev, named=True)
        opposing = group.row(op, named=True) if op is not None else {}
        rows.append(
            {
                "article_id": aid,
                "claim_id": cid,
                "label": label,
                "score": score,
                "p_entailment": evidence["p_entailment"],
                "p_neutral": evidence["p_neutral"],
                "p_contradiction": evidence["p_contradiction"],
                "evidence_sentence_id": evidence["sentence_id"],
                "evidence_text": evidence["text"],
                "evidence_start": evidence["start"],
                "evidence_end": evidence["end"],
                "opposing_sentence_id": opposing.get("sentence_id"),
                "opposing_text": opposing.get("text"),
                "opposing_start": opposing.get("start"),
                "opposing_end": opposing.get("end"),
                "opposing_p": opposing.get("p_contradiction" if label == "SUPPORT" else "p_entailment"),
                "sentences_scored": group.height,
            }
        )
    return pl.DataFrame(rows, schema=_AGGREGATED).sort("article_id", "claim_id")


def score_stance(
    pairs: pl.DataFrame,
    sentences: pl.DataFrame,
    claims: pl.DataFrame,
    model: NliModel,
    *,
    languages: pl.DataFrame | None = None,
    entities: pl.DataFrame | None = None,
    semantic: SemanticEvidence | None = None,
    prefilter: bool = True,
    min_score: int = MIN_SCORE,
    window: int = WINDOW,
    threshold: float = DEFAULT_THRESHOLD,
    temperature: float = DEFAULT_TEMPERATURE,
) -> pl.DataFrame:
    """Score `pairs` (article_id, claim_id) using the articles' `sentences` and the `claims` (with translations).

    With `prefilter=False` every sentence is a candidate (min_score 0): the baseline the prefilter is measured
    against. `semantic` adds the embedding rule to the lexical one. Articles without sentences give no row (see
    `unscorable`).
    """
    candidates, decisions = select_candidates(
        pairs,
        sentences,
        claims,
        languages=languages,
        entities=entities,
        semantic=semantic,
        min_score=min_score if prefilter else 0,
        window=window,
    )
    stance = empty(_AGGREGATED)
    if candidates.height:
        hypotheses = dict(claims.select("claim_id", "text").iter_rows())
        probs = np.zeros((candidates.height, 3))
        for part in by_stable_group(candidates.with_row_index("row")):
            pairs_of_group = [(p, hypotheses[c]) for p, c in part.select("text", "claim_id").iter_rows()]
            probs[part["row"].to_numpy()] = model(pairs_of_group)
        scored = candidates.with_columns(
            p_entailment=pl.Series(probs[:, 0]),
            p_neutral=pl.Series(probs[:, 1]),
            p_contradiction=pl.Series(probs[:, 2]),
        )
        stance = aggregate(scored, threshold=threshold, temperature=temperature)
    unrelated = decisions.filter(pl.col("sentences_kept") == 0).select(
        "article_id", "claim_id", label=pl.lit("UNRELATED"), sentences_scored=pl.lit(0, pl.Int32)
    )
    return (
        pl.concat([stance, unrelated], how="diagonal_relaxed")
        .join(
            decisions.select("article_id", "claim_id", *_DECISION_COLUMNS),
            on=["article_id", "claim_id"],
        )
        .with_columns(model_id=pl.lit(model.model_id), model_revision=pl.lit(model.revision))
        .sort("article_id", "claim_id")
        .pipe(conform, STANCE)
    )


def unscorable(pairs: pl.DataFrame, sentences: pl.DataFrame) -> pl.DataFrame:
    """Quarantine rows for pending articles that have no sentence to use as a premise."""
    missing = (
        pairs.select("article_id").unique().join(sentences.select("article_id").unique(), on="article_id", how="anti")
    )
    return missing.select(
        item_id=pl.col("article_id"),
        stage=pl.lit("stance"),
        source=pl.lit(None, pl.String),
        uri=pl.lit(None, pl.String),
        reason=pl.lit("no_sentences"),
        detail=pl.lit("article has no sentences to score against the claims"),
    ).pipe(conform, QUARANTINE)


@task(name="stance", cache_policy=NO_CACHE)
def stance_task(
    pairs: pl.DataFrame,
    sentences: pl.DataFrame,
    claims: pl.DataFrame,
    model: NliModel,
    languages: pl.DataFrame | None = None,
    entities: pl.DataFrame | None = None,
    semantic: SemanticEvidence | None = None,
) -> StanceResult:
    stance = score_stance(pairs, sentences, claims, model, languages=languages, entities=entities, semantic=semantic)
    get_run_logger().info(
        "stance: %d (article, claim) pairs, %d NLI pairs → %s; kept by %s",
        stance.height,
        int(stance["sentences_scored"].sum() or 0),
        dict(stance.group_by("label").len().iter_rows()) if stance.height else {},
        dict(stance.group_by("relevance_method").len().iter_rows()) if stance.height else {},
    )
    return StanceResult(stance)
