import numpy as np
import polars as pl
import pytest

from stancewire.frames import STANCE
from tasks.stance import aggregate, score_stance


class ScriptedNli:
    """Returns fixed probabilities per premise text, so the aggregation can be checked exactly."""

    model_id = "scripted-nli"
    revision = "r1"

    def __init__(self, by_premise: dict[str, tuple[float, float, float]]):
        self.by_premise = by_premise
        self.calls: list[list[tuple[str, str]]] = []

    def __call__(self, pairs):
        self.calls.append(list(pairs))
        return np.array([self.by_premise[p] for p, _ in pairs], dtype=np.float64).reshape(-1, 3)


def sentences_of(article_id: str, texts: list[str]) -> pl.DataFrame:
    rows, pos = [], 0
    for i, t in enumerate(texts):
        rows.append({"sentence_id": f"{article_id}:{i}", "article_id": article_id, "start": pos, "end": pos + len(t), "text": t})
        pos += len(t) + 1
    return pl.DataFrame(rows)


CLAIMS = pl.DataFrame({"claim_id": ["c1"], "text": ["The dam was approved."]})


def run(probs_by_sentence: dict[str, tuple[float, float, float]]) -> dict:
    sentences = sentences_of("a1", list(probs_by_sentence))
    pairs = pl.DataFrame({"article_id": ["a1"], "claim_id": ["c1"]})
    out = score_stance(pairs, sentences, CLAIMS, ScriptedNli(probs_by_sentence))
    assert out.schema == pl.Schema(STANCE)
    assert out.height == 1
    return out.row(0, named=True)


def test_one_strong_support_wins_over_neutral_sentences():
    row = run({"Weather was fine.": (0.05, 0.9, 0.05), "Council approved the dam.": (0.92, 0.05, 0.03)})
    assert row["label"] == "SUPPORT"
    assert row["evidence_text"] == "Council approved the dam."
    assert row["evidence_start"] == len("Weather was fine.") + 1
    assert row["p_entailment"] == pytest.approx(0.92)
    assert row["sentences_scored"] == 2


def test_strong_refutation_beats_several_weak_supports():
    row = run({"Maybe approved.": (0.55, 0.4, 0.05), "Probably approved.": (0.52, 0.4, 0.08), "No, it was rejected.": (0.02, 0.08, 0.9)})
    assert row["label"] == "REFUTE"
    assert row["evidence_text"] == "No, it was rejected."


def test_below_threshold_is_neutral_with_least_neutral_evidence():
    row = run({"Unrelated.": (0.1, 0.85, 0.05), "Somewhat related.": (0.3, 0.4, 0.3)})
    assert row["label"] == "NEUTRAL"
    assert row["evidence_text"] == "Somewhat related."
    assert row["p_entailment"] + row["p_neutral"] + row["p_contradiction"] == pytest.approx(1.0)


def test_premise_is_sentence_and_hypothesis_is_claim_in_one_batched_call():
    sentences = sentences_of("a1", ["First.", "Second."]).vstack(sentences_of("a2", ["Third."]))
    pairs = pl.DataFrame({"article_id": ["a1", "a2"], "claim_id": ["c1", "c1"]})
    model = ScriptedNli({"First.": (0.1, 0.8, 0.1), "Second.": (0.1, 0.8, 0.1), "Third.": (0.7, 0.2, 0.1)})
    out = score_stance(pairs, sentences, CLAIMS, model)
    assert len(model.calls) == 1
    assert sorted(model.calls[0]) == sorted((s, "The dam was approved.") for s in ["First.", "Second.", "Third."])
    assert dict(out.select("article_id", "label").iter_rows()) == {"a1": "NEUTRAL", "a2": "SUPPORT"}
    assert set(out["model_id"]) == {"scripted-nli"} and set(out["model_revision"]) == {"r1"}


def test_articles_without_sentences_produce_no_rows_and_no_model_call():
    model = ScriptedNli({})
    pairs = pl.DataFrame({"article_id": ["empty"], "claim_id": ["c1"]})
    out = score_stance(pairs, sentences_of("other", ["x."]), CLAIMS, model)
    assert out.is_empty() and model.calls == []


def test_aggregate_ties_prefer_support_only_when_at_least_contradiction():
    scored = pl.DataFrame(
        {
            "article_id": ["a", "a"],
            "claim_id": ["c", "c"],
            "sentence_id": ["a:0", "a:1"],
            "text": ["s0", "s1"],
            "start": [0, 3],
            "end": [2, 5],
            "p_entailment": [0.6, 0.1],
            "p_neutral": [0.3, 0.2],
            "p_contradiction": [0.1, 0.7],
        }
    )
    assert aggregate(scored)["label"].to_list() == ["REFUTE"]


def test_articles_without_sentences_are_quarantined_for_stance():
    from tasks.stance import unscorable

    pairs = pl.DataFrame({"article_id": ["empty", "empty", "full"], "claim_id": ["c1", "c2", "c1"]})
    q = unscorable(pairs, sentences_of("full", ["x."]))
    assert q.select("item_id", "stage", "reason").rows() == [("empty", "stance", "no_sentences")]
