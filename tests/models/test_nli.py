import numpy as np
import pytest

from models.loading import ModelUnavailable
from models.nli import label_columns, load_nli
from stancewire.config import ModelSpec
from tests.models.tiny import make_tiny_nli

PAIRS = [
    ("Il governo ha detto sì alla riforma.", "yes"),
    ("Il ministro ha risposto no.", "la riforma passa"),
    ("Piove a Roma.", "la riforma passa"),
]
ENTAILMENT, NEUTRAL, CONTRADICTION = range(3)


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    return load_nli(ModelSpec(id=str(make_tiny_nli(tmp_path_factory.mktemp("nli") / "m"))), device="cpu")


def test_label_columns_read_from_id2label():
    assert label_columns({0: "ENTAILMENT", 1: "Neutral", 2: "contradiction"}) == [0, 1, 2]
    assert label_columns({0: "contradiction", 1: "entailment", 2: "neutral"}) == [1, 2, 0]
    assert label_columns({0: "not-entailment", 1: "entailment"}) == [1, -1, -1]
    with pytest.raises(ModelUnavailable, match="STANCEWIRE_NLI_MODEL"):
        label_columns({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})


def test_probabilities_follow_the_pair(runner):
    probs = runner(PAIRS)
    assert probs.dtype == np.float64 and probs.shape == (3, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert list(probs.argmax(axis=1)) == [ENTAILMENT, CONTRADICTION, NEUTRAL]


def test_empty_input(runner):
    assert runner([]).shape == (0, 3)


@pytest.mark.parametrize(
    "id2label",
    [{0: "contradiction", 1: "entailment", 2: "neutral"}, {0: "neutral", 1: "contradiction", 2: "entailment"}],
)
def test_columns_follow_id2label_order(tmp_path, runner, id2label):
    swapped = load_nli(ModelSpec(id=str(make_tiny_nli(tmp_path / "m", id2label=id2label))), device="cpu")
    np.testing.assert_allclose(swapped(PAIRS), runner(PAIRS), rtol=1e-5)


def test_two_way_model(tmp_path):
    two_way = make_tiny_nli(tmp_path / "m", id2label={0: "not_entailment", 1: "entailment"})
    probs = load_nli(ModelSpec(id=str(two_way)), device="cpu")(PAIRS)
    np.testing.assert_array_equal(probs[:, 2], 0.0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert list(probs.argmax(axis=1)) == [ENTAILMENT, NEUTRAL, NEUTRAL]


def test_unknown_labels_are_unavailable(tmp_path):
    directory = make_tiny_nli(tmp_path / "m", id2label={0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})
    with pytest.raises(ModelUnavailable, match="--nli-model"):
        load_nli(ModelSpec(id=str(directory)))


def test_premise_is_truncated_never_the_hypothesis(runner):
    long_premise = "la giornata è stata lunga " * 20 + "no"  # the contradicting word falls past the limit
    hypothesis = "la riforma passa " * 3 + "yes"  # 43 of the 64 tokens: longest_first would cut its end
    [probs] = runner([(long_premise, hypothesis)])
    assert probs.argmax() == ENTAILMENT


def test_hypothesis_longer_than_the_model_still_scores(runner):
    probs = runner([("sì", "la riforma " * 100), PAIRS[0]])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(probs[1], runner([PAIRS[0]])[0], rtol=1e-5)


def test_input_order_is_restored_across_batches(tmp_path):
    small_batches = load_nli(ModelSpec(id=str(make_tiny_nli(tmp_path / "m"))), device="cpu", token_budget=32)
    pairs = [(PAIRS[i % 3][0] + " e poi" * (i % 5), PAIRS[i % 3][1]) for i in range(12)]
    together = small_batches(pairs)
    np.testing.assert_allclose(together, np.vstack([small_batches([p]) for p in pairs]), rtol=1e-5)
    assert list(together.argmax(axis=1)) == [[ENTAILMENT, CONTRADICTION, NEUTRAL][i % 3] for i in range(12)]


def test_repeated_pairs_run_through_the_model_once(runner, monkeypatch):
    import models.nli

    seen = []
    forward = models.nli.forward_logits
    monkeypatch.setattr(
        models.nli, "forward_logits", lambda model, rows, *a: seen.append(len(rows)) or forward(model, rows, *a)
    )
    pairs = [PAIRS[0], PAIRS[1], PAIRS[0], list(PAIRS[1]), PAIRS[2]]
    probs = runner(pairs)
    assert seen == [3]
    np.testing.assert_allclose(probs, runner(PAIRS)[[0, 1, 0, 1, 2]])
