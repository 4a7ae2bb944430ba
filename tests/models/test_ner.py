import json
import random

import pytest

from models.batching import plan_batches
from models.ner import Mention, load_ner, parse_label, plan_windows
from stancewire.config import ModelSpec
from tests.models.tiny import make_tiny_ner

FILLER = "la città di provincia ha visto una giornata tranquilla e piena di sole"


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ner")
    return {kind: make_tiny_ner(root / kind, kind=kind) for kind in ("bert", "xlmr")}


@pytest.fixture(scope="module", params=["bert", "xlmr"])
def runner(request, model_dirs):
    return load_ner(ModelSpec(id=str(model_dirs[request.param])), device="cpu")


def spans(text: str, mentions: list[Mention]) -> list[tuple[str, str]]:
    return [(text[m.start : m.end], m.label) for m in mentions]


def test_parse_label():
    assert parse_label("O") == ("O", "")
    assert parse_label("B-PER") == ("B", "PER")
    assert parse_label("I_LOC") == ("I", "LOC")
    assert parse_label("MISC") == ("I", "MISC")


@pytest.mark.parametrize("n_tokens", [0, 1, 9, 10, 11, 17, 40, 123])
def test_windows_keep_every_token_once_from_the_window_farthest_from_a_cut(n_tokens):
    size, overlap = 10, 3
    windows = plan_windows(n_tokens, size, overlap)
    kept = [t for _, _, keep_start, keep_end in windows for t in range(keep_start, keep_end)]
    assert kept == list(range(n_tokens))
    for start, end, keep_start, keep_end in windows:
        assert end - start == min(size, n_tokens) and start <= keep_start <= keep_end <= end

    def context(t, start, end):  # distance to the nearest edge that cuts the text
        return min(t - start if start > 0 else n_tokens, end - 1 - t if end < n_tokens else n_tokens)

    for start, end, keep_start, keep_end in windows:
        for t in range(keep_start, keep_end):
            assert all(context(t, start, end) >= context(t, s, e) for s, e, _, _ in windows if s <= t < e)
    for (_, end, _, _), (start, _, _, _) in zip(windows, windows[1:], strict=False):
        assert end - start >= overlap


def test_batches_respect_the_padded_token_budget():
    lengths = [5, 30, 7, 7, 64, 1, 12, 30, 3]
    batches = plan_batches(lengths, token_budget=64)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert all(len(b) * max(lengths[i] for i in b) <= 64 for b in batches)
    assert plan_batches([100, 2], token_budget=64) == [[0], [1]]


def test_exact_offsets_on_accented_and_multilingual_text(runner):
    text = "Ieri  Mario Rossi è andato a Zürich,\tpoi a Москва e da Putin."
    assert spans(text, runner([text])[0]) == [
        ("Mario Rossi", "PER"),
        ("Zürich", "LOC"),
        ("Москва", "LOC"),
        ("Putin", "PER"),
    ]


def test_offsets_point_into_the_original_text_through_normalisation(model_dirs):
    runner = load_ner(ModelSpec(id=str(model_dirs["xlmr"])), device="cpu")
    text = "A\u00a0 Ｒｏｍａ c'è l'ONU."  # NFKC turns the full-width letters into "Roma"
    assert spans(text, runner([text])[0]) == [("Ｒｏｍａ", "LOC")]


def test_word_label_comes_from_its_first_piece(runner):
    text = "Arriva Gianfranco."
    [mention] = runner([text])[0]
    assert text[mention.start : mention.end] == "Gianfranco" and mention.label == "PER"
    assert 0.5 < mention.score <= 1.0


def test_punctuation_pieces_are_split_from_words(model_dirs):
    bert = load_ner(ModelSpec(id=str(model_dirs["bert"])), device="cpu")
    text = "Da Roma, all'ONU (Roma)."
    assert spans(text, bert([text])[0]) == [("Roma", "LOC"), ("ONU", "ORG"), ("Roma", "LOC")]


def test_bio_scheme(tmp_path):
    lexicon = {"Mario": "B-PER", "Rossi": "I-PER", "Verdi": "I-PER", "Roma": "I-LOC"}
    runner = load_ner(ModelSpec(id=str(make_tiny_ner(tmp_path / "bio", lexicon=lexicon))), device="cpu")
    text = "Mario Rossi e Mario Mario, poi Verdi Rossi Roma"
    assert spans(text, runner([text])[0]) == [
        ("Mario Rossi", "PER"),
        ("Mario", "PER"),  # B after B starts a new entity
        ("Mario", "PER"),
        ("Verdi Rossi", "PER"),  # I after O starts an entity
        ("Roma", "LOC"),  # I of another type starts another entity
    ]


def test_io_scheme(tmp_path):
    directory = make_tiny_ner(
        tmp_path / "io", labels=("O", "PER", "LOC"), lexicon={"Mario": "PER", "Rossi": "PER", "Roma": "LOC"}
    )
    runner = load_ner(ModelSpec(id=str(directory)), device="cpu")
    text = "Mario Rossi Roma e Rossi"
    assert spans(text, runner([text])[0]) == [("Mario Rossi", "PER"), ("Roma", "LOC"), ("Rossi", "PER")]


def test_empty_and_blank_texts(runner):
    assert runner([]) == []
    assert runner(["", "  \n\t", "Roma"])[:2] == [[], []]
    assert spans("Roma", runner(["Roma"])[0]) == [("Roma", "LOC")]


def test_long_text_is_windowed_without_losing_tokens(tmp_path):
    runner = load_ner(ModelSpec(id=str(make_tiny_ner(tmp_path / "m", max_position=32))), device="cpu")
    chunks = [f"{FILLER} {name} {FILLER}." for name in ["Mario Rossi", "Roma", "Putin", "Zürich", "ONU"] * 4]
    text = " ".join(chunks)
    mentions = runner([text])[0]
    assert len(mentions) == 20 and mentions[-1].start > 20 * 30  # far past the first 30-token window
    expected, offset = [], 0
    for chunk, chunk_mentions in zip(chunks, runner(chunks), strict=False):
        expected += [Mention(m.start + offset, m.end + offset, m.label, m.score) for m in chunk_mentions]
        offset += len(chunk) + 1
    assert mentions == expected


def test_entity_crossing_window_borders_is_one_mention(runner):
    text = f"{FILLER} Mario" + " Rossi" * 150 + f" {FILLER}"
    [mention] = runner([text])[0]
    assert text[mention.start : mention.end] == "Mario" + " Rossi" * 150


def test_input_order_is_restored_across_batches(model_dirs):
    runner = load_ner(ModelSpec(id=str(model_dirs["bert"])), device="cpu", token_budget=40)
    names = ["Roma", "Putin", "ONU", "Zürich", "Mario Rossi"]
    texts = [f"{FILLER * (i % 3)} {names[i % 5]} " + "x" * (7 * i) for i in range(15)]
    together = runner(texts)
    assert together == [runner([t])[0] for t in texts]
    assert [spans(t, m)[0][0] for t, m in zip(texts, together, strict=False)] == [names[i % 5] for i in range(15)]


def test_short_texts_share_one_forward_pass(model_dirs):
    runner = load_ner(ModelSpec(id=str(model_dirs["bert"])), device="cpu", token_budget=8192)
    calls = []
    hook = runner._loaded.model.register_forward_hook(lambda *args: calls.append(1))
    try:
        runner([f"Roma {i}" for i in range(50)])
    finally:
        hook.remove()
    assert len(calls) == 1


@pytest.mark.integration
def test_real_model_finds_entities_with_exact_surfaces(real_ner_model_dir):
    runner = load_ner(ModelSpec(id=str(real_ner_model_dir)), device="cpu")
    text = "Kim Jong-un è arrivato in Russia per incontrare Putin, ha detto l'ONU."
    found = set(spans(text, runner([text])[0]))
    assert {("Kim Jong-un", "PER"), ("Russia", "LOC"), ("Putin", "PER")} <= found
    assert runner.revision.startswith("local-")


@pytest.mark.integration
def test_real_model_agrees_with_the_transformers_pipeline(real_ner_model_dir):
    from transformers import pipeline

    runner = load_ner(ModelSpec(id=str(real_ner_model_dir)), device="cpu")
    texts = [
        "Il presidente Sergio Mattarella ha ricevuto al Quirinale il segretario della NATO.",
        "Ursula von der Leyen e Giorgia Meloni si sono incontrate a Bruxelles.",
    ]
    reference = pipeline("token-classification", model=str(real_ner_model_dir), aggregation_strategy="simple")
    for text, mentions in zip(texts, runner(texts), strict=False):
        expected = {(e["start"], e["end"], e["entity_group"]) for e in reference(text)}
        assert {(m.start, m.end, m.label) for m in mentions} == expected


@pytest.mark.parametrize("kind", ["bert", "xlmr"])
def test_position_limit_from_the_config_when_the_tokenizer_sets_none(tmp_path, kind):
    directory = make_tiny_ner(tmp_path / kind, kind=kind, max_position=32)
    config_file = directory / "tokenizer_config.json"
    tokenizer_config = json.loads(config_file.read_text())
    del tokenizer_config["model_max_length"]
    config_file.write_text(json.dumps(tokenizer_config))
    runner = load_ner(ModelSpec(id=str(directory)), device="cpu")
    text = f"{FILLER} Roma " * 10
    assert spans(text, runner([text])[0]) == [("Roma", "LOC")] * 10


def test_spans_are_well_formed_on_messy_text(runner):
    rng = random.Random(7)
    alphabet = "Roma Mario Rossi Москва Zürich ONU ,.;'()\"«»-–\t\n\r\u00a0\u200b\u0301😀漢字ﬁ\x00\x07 "
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400))) for _ in range(40)]
    texts += [f"{FILLER} Roma" * rng.randint(1, 12) + "".join(rng.sample(alphabet, 20)) for _ in range(10)]
    for text, mentions in zip(texts, runner(texts), strict=False):
        for m in mentions:
            surface = text[m.start : m.end]
            assert 0 <= m.start < m.end <= len(text) and surface == surface.strip() and 0 < m.score <= 1
        assert all(a.end <= b.start for a, b in zip(mentions, mentions[1:], strict=False))


def test_repeated_texts_run_through_the_model_once(model_dirs, monkeypatch):
    import models.ner

    runner = load_ner(ModelSpec(id=str(model_dirs["bert"])), device="cpu")
    seen = []
    forward = models.ner.forward_logits
    monkeypatch.setattr(
        models.ner, "forward_logits", lambda model, rows, *a: seen.append(len(rows)) or forward(model, rows, *a)
    )
    boilerplate, news = "Leggi anche: Mario Rossi a Roma", "Putin parla all'ONU."
    results = runner([boilerplate, news, "", boilerplate, " ", boilerplate])
    assert seen == [2]
    assert spans(news, results[1]) == [("Putin", "PER"), ("ONU", "ORG")]
    assert results[0] == results[3] == results[5] == runner([boilerplate])[0] != []
    assert results[2] == results[4] == []
    results[0].clear()  # each text gets its own list
    assert results[3]
