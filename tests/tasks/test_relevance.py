"""The semantic relevance rule next to the lexical one, with hand-set vectors so the decisions are known."""

import numpy as np
import polars as pl

from tasks.stance import score_stance
from tasks.stance.relevance import SemanticEvidence, Thresholds, select_candidates, semantic_keep, too_short
from tests.tasks.test_stance import ScriptedNli, claims, sentences_of

ITALIAN = [
    "Il comune ha presentato il bilancio.",
    "La Corea del Nord ha inviato truppe in Russia.",
    "Lo ha detto un funzionario.",
    "Il tempo sarà sereno domani.",
    "La biblioteca riapre lunedì.",
]
GERMAN_CLAIM = "Nordkorea hat Truppen nach Russland geschickt."
RULE = Thresholds(article=0.5, sentence=0.3)


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, np.float32)
    return vector / np.linalg.norm(vector)


def evidence(sentence_sims: list[float | None], **kw) -> SemanticEvidence:
    """Vectors whose cosine with the claim vector (1, 0) is the given similarity (None: no vector)."""
    vectors = {f"a1:{i}": unit(s, float(np.sqrt(1 - s * s))) for i, s in enumerate(sentence_sims) if s is not None}
    return SemanticEvidence(
        model="toy@1", thresholds=RULE, sentence_vectors=vectors, claim_vectors={"c1": unit(1, 0)}, **kw
    )


def decide(semantic: SemanticEvidence | None, claim: str = GERMAN_CLAIM, texts=ITALIAN):
    pairs = pl.DataFrame({"article_id": ["a1"], "claim_id": ["c1"]})
    candidates, decisions = select_candidates(
        pairs, sentences_of("a1", texts), claims(claim), semantic=semantic, window=0
    )
    return candidates["text"].to_list(), decisions.row(0, named=True)


def test_a_claim_in_another_language_finds_its_sentence_by_meaning_only():
    kept, decision = decide(None)
    assert kept == [] and decision["relevance_method"] == "none"  # no shared word: lexical finds nothing
    kept, decision = decide(evidence([0.1, 0.8, 0.35, 0.0, 0.2]))
    assert kept == [ITALIAN[1], ITALIAN[2]]
    assert decision["relevance_method"] == "semantic" and decision["relevance_model"] == "toy@1"
    assert abs(decision["best_similarity"] - 0.8) < 1e-6
    assert decision["relevance_note"] is None


def test_an_article_that_no_sentence_makes_about_the_claim_keeps_nothing():
    kept, decision = decide(evidence([0.45, 0.4, 0.35, 0.0, 0.2]))
    assert kept == [] and decision["relevance"] == "no_overlap"
    assert abs(decision["best_similarity"] - 0.45) < 1e-6


def test_both_rules_together_say_so():
    texts = ["Russia and North Korea signed a treaty.", "Troops from North Korea arrived in Russia."]
    kept, decision = decide(evidence([0.2, 0.9]), claim="North Korea sent troops to Russia.", texts=texts)
    assert kept == texts and decision["relevance_method"] == "lexical+semantic"


def test_sentences_without_a_vector_never_pass_the_semantic_rule():
    assert semantic_keep(np.array([np.nan, 0.9, 0.1]), RULE).tolist() == [False, True, False]
    assert semantic_keep(np.array([np.nan, np.nan]), RULE).tolist() == [False, False]


def test_a_too_short_claim_is_left_to_the_lexical_rule_with_the_reason():
    note = too_short("Russia")
    assert note == "claim of 1 word: too short for semantic relevance"
    kept, decision = decide(evidence([0.1, 0.9, 0.1, 0.1, 0.1], claim_notes={"c1": note}))
    assert kept == [] and decision["relevance_note"] == note and decision["best_similarity"] is None
    assert too_short(GERMAN_CLAIM) is None


def test_without_the_embedding_model_the_lexical_rule_runs_and_each_decision_says_why():
    texts = ["Troops from North Korea arrived in Russia.", "Weather."]
    semantic = SemanticEvidence.without("embedding model unavailable: no such directory")
    kept, decision = decide(semantic, claim="North Korea sent troops to Russia.", texts=texts)
    assert kept == texts[:1] and decision["relevance_method"] == "lexical"
    assert decision["relevance_note"] == "embedding model unavailable: no such directory"
    assert decision["relevance_model"] is None


def test_stance_rows_record_how_relevance_was_decided():
    pairs = pl.DataFrame({"article_id": ["a1"], "claim_id": ["c1"]})
    nli = ScriptedNli({t: (0.9, 0.05, 0.05) for t in ITALIAN})
    out = score_stance(
        pairs, sentences_of("a1", ITALIAN), claims(GERMAN_CLAIM), nli, semantic=evidence([0.1, 0.8, 0.1, 0.0, 0.2])
    ).row(0, named=True)
    assert out["label"] == "SUPPORT" and out["relevance_method"] == "semantic"
    # the kept sentence and its neighbours (window 1) went to NLI, nothing else
    assert [p for p, _ in nli.calls[0]] == ITALIAN[:3]
