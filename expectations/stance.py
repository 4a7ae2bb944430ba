"""Expectations for `stance`: per article, claim and NLI model, the label, its score and its evidence sentences."""

import great_expectations.expectations as gxe
import polars as pl

from expectations.common import holds, not_null, probability, rows_where, structure
from stancewire import frames

TABLE = "stance"
KEY = ["article_id", "claim_id", "model_id", "model_revision"]
COLUMNS = frames.STANCE | {"run_id": pl.String, "scored_at": frames.UTC_DATETIME}
P_SUM_TOLERANCE = 1e-3
RELEVANCE = ["candidates", "no_overlap"]
RELEVANCE_METHODS = ["lexical", "semantic", "lexical+semantic", "none"]  # NULL on rows scored before they existed

# UNRELATED rows were never sent to the model: no probabilities, score or evidence. Every other row has them all.
SQL = f"""
SELECT st.*,
    st.p_entailment + st.p_neutral + st.p_contradiction AS p_sum,
    a.article_id IS NOT NULL AS chk_article_exists,
    c.claim_id IS NOT NULL AS chk_claim_exists,
    coalesce(CASE WHEN st.label = 'UNRELATED'
        THEN st.sentences_scored = 0 AND st.score IS NULL AND st.p_entailment IS NULL AND st.p_neutral IS NULL
             AND st.p_contradiction IS NULL AND st.evidence_sentence_id IS NULL AND st.opposing_sentence_id IS NULL
        ELSE st.sentences_scored >= 1 AND st.score IS NOT NULL AND st.p_entailment IS NOT NULL
             AND st.p_neutral IS NOT NULL AND st.p_contradiction IS NOT NULL AND st.evidence_sentence_id IS NOT NULL
        END, false) AS chk_scored_unless_unrelated,
    coalesce(st.sentences_scored <= st.sentences_total, false) AS chk_scored_within_total,
    st.label = 'UNRELATED' OR coalesce(se.article_id = st.article_id, false) AS chk_evidence_sentence_in_article,
    st.label = 'UNRELATED' OR coalesce(st.evidence_start >= 0 AND st.evidence_start < st.evidence_end
             AND st.evidence_end <= length(a.text), false) AS chk_evidence_within_text,
    st.label = 'UNRELATED' OR coalesce(substr(a.text, st.evidence_start + 1, st.evidence_end - st.evidence_start)
             = st.evidence_text, false) AS chk_evidence_matches_span,
    st.opposing_sentence_id IS NULL OR coalesce(op.article_id = st.article_id
             AND substr(a.text, st.opposing_start + 1, st.opposing_end - st.opposing_start) = st.opposing_text
             AND st.opposing_p IS NOT NULL, false) AS chk_opposing_matches_span,
    (st.opposing_sentence_id IS NOT NULL) = (st.label IN ('SUPPORT', 'REFUTE')) AS chk_opposing_iff_decided
FROM stance st
LEFT JOIN {rows_where("articles", "article_id IN (SELECT article_id FROM stance)")} a
    ON a.article_id = st.article_id
LEFT JOIN claims c ON c.claim_id = st.claim_id
LEFT JOIN {rows_where("sentences", "sentence_id IN (SELECT evidence_sentence_id FROM stance)")} se
    ON se.sentence_id = st.evidence_sentence_id
LEFT JOIN {rows_where("sentences", "sentence_id IN (SELECT opposing_sentence_id FROM stance)")} op
    ON op.sentence_id = st.opposing_sentence_id
"""


def expectations() -> list[gxe.Expectation]:
    return [
        *structure(COLUMNS, KEY),
        *not_null("label", "sentences_total", "sentences_scored", "relevance", "run_id", "scored_at"),
        gxe.ExpectColumnValuesToBeInSet(column="label", value_set=list(frames.STANCE_LABELS)),
        gxe.ExpectColumnValuesToBeInSet(column="relevance", value_set=RELEVANCE),
        gxe.ExpectColumnValuesToBeInSet(column="relevance_method", value_set=RELEVANCE_METHODS),
        gxe.ExpectColumnValuesToBeBetween(column="best_similarity", min_value=-1.0001, max_value=1.0001),
        *probability("score", "p_entailment", "p_neutral", "p_contradiction", "opposing_p"),
        gxe.ExpectColumnValuesToBeBetween(
            column="p_sum",
            min_value=1 - P_SUM_TOLERANCE,
            max_value=1 + P_SUM_TOLERANCE,
            description="p_entailment + p_neutral + p_contradiction is 1 (rows sent to the model)",
        ),
        gxe.ExpectColumnValuesToBeBetween(column="sentences_scored", min_value=0),
        holds("chk_article_exists", "the article exists"),
        holds("chk_claim_exists", "the claim exists"),
        holds("chk_scored_unless_unrelated", "UNRELATED rows have no scores or evidence, every other row has them"),
        holds("chk_scored_within_total", "sentences_scored <= sentences_total"),
        holds("chk_evidence_sentence_in_article", "the evidence sentence belongs to the article"),
        holds("chk_evidence_within_text", "0 <= evidence_start < evidence_end <= length of the article text"),
        holds("chk_evidence_matches_span", "evidence_text equals the article text between its offsets"),
        holds("chk_opposing_matches_span", "opposing evidence belongs to the article and matches its offsets"),
        holds("chk_opposing_iff_decided", "opposing evidence exactly for SUPPORT and REFUTE rows"),
    ]
