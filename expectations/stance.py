"""Expectations for `stance`: per article, claim and NLI model, the label and its evidence sentence."""

import great_expectations.expectations as gxe
import polars as pl

from expectations.common import holds, not_null, probability, structure
from stancewire import frames

TABLE = "stance"
KEY = ["article_id", "claim_id", "model_id", "model_revision"]
COLUMNS = frames.STANCE | {"run_id": pl.String, "scored_at": frames.UTC_DATETIME}
P_SUM_TOLERANCE = 1e-3

SQL = """
SELECT st.*,
    st.p_entailment + st.p_neutral + st.p_contradiction AS p_sum,
    a.article_id IS NOT NULL AS chk_article_exists,
    c.claim_id IS NOT NULL AS chk_claim_exists,
    coalesce(se.article_id = st.article_id, false) AS chk_evidence_sentence_in_article,
    coalesce(st.evidence_start >= 0 AND st.evidence_start < st.evidence_end
             AND st.evidence_end <= length(a.text), false) AS chk_evidence_within_text,
    coalesce(substr(a.text, st.evidence_start + 1, st.evidence_end - st.evidence_start) = st.evidence_text, false)
        AS chk_evidence_matches_span
FROM stance st
LEFT JOIN articles a ON a.article_id = st.article_id
LEFT JOIN claims c ON c.claim_id = st.claim_id
LEFT JOIN sentences se ON se.sentence_id = st.evidence_sentence_id
"""


def expectations() -> list[gxe.Expectation]:
    return [
        *structure(COLUMNS, KEY),
        *not_null(*(c for c in frames.STANCE if c not in KEY), "run_id", "scored_at", "p_sum"),
        gxe.ExpectColumnValuesToBeInSet(column="label", value_set=list(frames.STANCE_LABELS)),
        *probability("p_entailment", "p_neutral", "p_contradiction"),
        gxe.ExpectColumnValuesToBeBetween(
            column="p_sum",
            min_value=1 - P_SUM_TOLERANCE,
            max_value=1 + P_SUM_TOLERANCE,
            description="p_entailment + p_neutral + p_contradiction is 1",
        ),
        gxe.ExpectColumnValuesToBeBetween(column="sentences_scored", min_value=1),
        holds("chk_article_exists", "the article exists"),
        holds("chk_claim_exists", "the claim exists"),
        holds("chk_evidence_sentence_in_article", "the evidence sentence belongs to the article"),
        holds("chk_evidence_within_text", "0 <= evidence_start < evidence_end <= length of the article text"),
        holds("chk_evidence_matches_span", "evidence_text equals the article text between its offsets"),
    ]
