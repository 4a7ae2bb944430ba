import json

import numpy as np
import polars as pl
import pytest

from stancewire.frames import STANCE
from tasks.stance import aggregate, article_probabilities, score_stance, side_strength, unscorable


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
        rows.append(
            {"sentence_id": f"{article_id}:{i}", "article_id": article_id, "start": pos, "end": pos + len(t), "text": t}
        )
        pos += len(t) + 1
    return pl.DataFrame(rows)


def claims(text="The dam was approved.", translations=None, claim_id="c1") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "claim_id": [claim_id],
            "text": [text],
            "language": ["en"],
            "translations": [json.dumps(translations) if translations else None],
        }
    )


def run(probs_by_sentence: dict[str, tuple[float, float, float]], **kw) -> dict:
    sentences = sentences_of("a1", list(probs_by_sentence))
    pairs = pl.DataFrame({"article_id": ["a1"], "claim_id": ["c1"]})
    out = score_stance(pairs, sentences, claims(), ScriptedNli(probs_by_sentence), prefilter=False, **kw)
    assert out.schema == pl.Schema(STANCE)
    assert out.height == 1
    return out.row(0, named=True)


def test_strength_is_a_discounted_noisy_or_and_probabilities_sum_to_one():
    assert side_strength(np.array([0.9]), 0.5, 0.5) == pytest.approx(0.9)
    # strongest fully, the other above threshold at half weight, the one below threshold not at all
    assert side_strength(np.array([0.55, 0.52, 0.4]), 0.5, 0.5) == pytest.approx(1 - 0.45 * (1 - 0.26))
    s, r, n = article_probabilities(0.6, 0.7)
    assert (s, r, n) == pytest.approx((0.6 * 0.3 + 0.42 * 0.6 / 1.3, 0.7 * 0.4 + 0.42 * 0.7 / 1.3, 0.4 * 0.3))
    assert s + r + n == pytest.approx(1.0)
    assert article_probabilities(0.0, 0.0) == (0.0, 0.0, 1.0)


def test_one_strong_support_wins_over_neutral_sentences():
    row = run({"Weather was fine.": (0.05, 0.9, 0.05), "Council approved the dam.": (0.92, 0.05, 0.03)})
    assert row["label"] == "SUPPORT"
    assert row["evidence_text"] == "Council approved the dam."
    assert row["evidence_start"] == len("Weather was fine.") + 1
    assert row["p_entailment"] == pytest.approx(0.92)
    assert row["score"] == pytest.approx(0.92 * 0.95 + 0.92 * 0.05 * 0.92 / 0.97)
    assert (row["opposing_text"], row["opposing_p"]) == ("Weather was fine.", pytest.approx(0.05))
    assert row["sentences_scored"] == row["sentences_total"] == 2


def test_one_strong_refutation_beats_several_weak_supports():
    probs = {
        "Maybe approved.": (0.55, 0.4, 0.05),
        "Probably approved.": (0.52, 0.4, 0.08),
        "Likely approved.": (0.51, 0.4, 0.09),
        "No, it was rejected.": (0.02, 0.08, 0.9),
    }
    row = run(probs)
    s = 1 - 0.45 * (1 - 0.5 * 0.52) * (1 - 0.5 * 0.51)
    assert row["label"] == "REFUTE"
    assert row["score"] == pytest.approx(0.9 * (1 - s) + s * 0.9 * 0.9 / (s + 0.9))
    assert row["evidence_text"] == "No, it was rejected."
    assert (row["opposing_text"], row["opposing_p"]) == ("Maybe approved.", pytest.approx(0.55))


def test_several_clear_supports_outweigh_one_refutation_of_similar_strength():
    row = run(
        {
            "Approved.": (0.6, 0.3, 0.1),
            "Approved again.": (0.6, 0.3, 0.1),
            "Approved thrice.": (0.6, 0.3, 0.1),
            "Not approved.": (0.1, 0.2, 0.7),
        }
    )
    assert row["label"] == "SUPPORT"
    assert row["score"] == pytest.approx(article_probabilities(1 - 0.4 * 0.7 * 0.7, 0.7)[0])
    assert row["opposing_text"] == "Not approved."


def test_below_threshold_is_neutral_with_least_neutral_evidence_and_no_opposing():
    row = run({"Unrelated.": (0.1, 0.85, 0.05), "Somewhat related.": (0.3, 0.4, 0.3)})
    assert row["label"] == "NEUTRAL"
    assert row["score"] == pytest.approx(0.7 * 0.7)
    assert row["evidence_text"] == "Somewhat related."
    assert row["opposing_sentence_id"] is None and row["opposing_p"] is None
    assert row["p_entailment"] + row["p_neutral"] + row["p_contradiction"] == pytest.approx(1.0)


def test_exact_tie_is_neutral():
    assert run({"Half.": (0.5, 0.5, 0.0)})["label"] == "NEUTRAL"


def test_temperature_above_one_lowers_the_score_without_touching_stored_probabilities():
    plain = run({"Approved.": (0.6, 0.3, 0.1)})
    softer = run({"Approved.": (0.6, 0.3, 0.1)}, temperature=2.0)
    assert plain["label"] == softer["label"] == "SUPPORT"
    assert softer["score"] < plain["score"]
    assert softer["p_entailment"] == plain["p_entailment"] == pytest.approx(0.6)


def test_aggregate_keeps_one_row_per_pair():
    scored = pl.DataFrame(
        {
            "article_id": ["a", "a", "b"],
            "claim_id": ["c", "c", "c"],
            "sentence_id": ["a:0", "a:1", "b:0"],
            "text": ["s0", "s1", "t0"],
            "start": [0, 3, 0],
            "end": [2, 5, 2],
            "p_entailment": [0.6, 0.1, 0.2],
            "p_neutral": [0.3, 0.2, 0.7],
            "p_contradiction": [0.1, 0.7, 0.1],
        }
    )
    assert aggregate(scored).select("article_id", "label").rows() == [("a", "REFUTE"), ("b", "NEUTRAL")]


def test_prefilter_skips_pairs_without_overlap_and_scores_only_candidates_and_their_window():
    texts = [
        "The weather was fine.",
        "Nobody talked.",
        "The council approved the Valmora dam.",
        "It was late.",
        "Fish swim.",
        "Birds fly.",
    ]
    model = ScriptedNli({t: (0.8, 0.1, 0.1) for t in texts})
    sentences = sentences_of("a1", texts).vstack(sentences_of("a2", ["Cats sleep.", "Dogs bark."]))
    pairs = pl.DataFrame({"article_id": ["a1", "a2"], "claim_id": ["c1", "c1"]})
    out = score_stance(pairs, sentences, claims("The Valmora dam was approved."), model)
    assert [p for p, _ in model.calls[0]] == texts[1:4]  # candidate ± 1 sentence
    a1, a2 = out.rows(named=True)
    assert (a1["label"], a1["sentences_scored"], a1["sentences_total"], a1["relevance"]) == (
        "SUPPORT",
        3,
        6,
        "candidates",
    )
    assert a1["matched_terms"] == "appro dam valmo"
    assert (a2["label"], a2["sentences_scored"], a2["sentences_total"], a2["relevance"]) == (
        "UNRELATED",
        0,
        2,
        "no_overlap",
    )
    assert a2["score"] is None and a2["p_entailment"] is None and a2["evidence_sentence_id"] is None


def test_translations_let_the_prefilter_match_other_languages():
    it = sentences_of("a1", ["La Corea del Nord ha inviato soldati in Russia."])
    pairs = pl.DataFrame({"article_id": ["a1"], "claim_id": ["c1"]})
    languages = pl.DataFrame({"article_id": ["a1"], "language": ["it"]})
    model = ScriptedNli({it["text"][0]: (0.9, 0.05, 0.05)})
    english_only = score_stance(pairs, it, claims("North Korea sent troops to Russia."), model, languages=languages)
    assert english_only["label"].to_list() == ["UNRELATED"] and model.calls == []
    both = claims("North Korea sent troops to Russia.", {"it": "La Corea del Nord ha inviato truppe in Russia."})
    out = score_stance(pairs, it, both, model, languages=languages)
    assert out["label"].to_list() == ["SUPPORT"]
    assert model.calls == [[(it["text"][0], "North Korea sent troops to Russia.")]]  # hypothesis: the claim itself


def test_entity_mentions_that_the_claim_names_count_towards_relevance():
    sentences = sentences_of("a1", ["Pyongyang confirmed it on Monday."])
    pairs = pl.DataFrame({"article_id": ["a1"], "claim_id": ["c1"]})
    model = ScriptedNli({"Pyongyang confirmed it on Monday.": (0.7, 0.2, 0.1)})
    claim = claims("Pyongyang sent soldiers.")  # one shared term: below the minimum of two
    assert score_stance(pairs, sentences, claim, model)["label"].to_list() == ["UNRELATED"]
    entities = pl.DataFrame({"sentence_id": ["a1:0"], "text": ["Pyongyang"]})
    assert score_stance(pairs, sentences, claim, model, entities=entities)["label"].to_list() == ["SUPPORT"]


def test_premise_is_sentence_and_hypothesis_is_claim_in_one_batched_call():
    sentences = sentences_of("a1", ["First.", "Second."]).vstack(sentences_of("a2", ["Third."]))
    pairs = pl.DataFrame({"article_id": ["a1", "a2"], "claim_id": ["c1", "c1"]})
    model = ScriptedNli({"First.": (0.1, 0.8, 0.1), "Second.": (0.1, 0.8, 0.1), "Third.": (0.7, 0.2, 0.1)})
    out = score_stance(pairs, sentences, claims(), model, prefilter=False)
    assert len(model.calls) == 1
    assert sorted(model.calls[0]) == sorted((s, "The dam was approved.") for s in ["First.", "Second.", "Third."])
    assert dict(out.select("article_id", "label").iter_rows()) == {"a1": "NEUTRAL", "a2": "SUPPORT"}
    assert set(out["model_id"]) == {"scripted-nli"} and set(out["model_revision"]) == {"r1"}


def test_articles_without_sentences_produce_no_rows_and_no_model_call():
    model = ScriptedNli({})
    pairs = pl.DataFrame({"article_id": ["empty"], "claim_id": ["c1"]})
    out = score_stance(pairs, sentences_of("other", ["x."]), claims(), model)
    assert out.is_empty() and model.calls == []


def test_articles_without_sentences_are_quarantined_for_stance():
    pairs = pl.DataFrame({"article_id": ["empty", "empty", "full"], "claim_id": ["c1", "c2", "c1"]})
    q = unscorable(pairs, sentences_of("full", ["x."]))
    assert q.select("item_id", "stage", "reason").rows() == [("empty", "stance", "no_sentences")]
