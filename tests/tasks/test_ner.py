from dataclasses import dataclass

import polars as pl

from stancewire.frames import MENTIONS
from tasks.ner import extract_entities, tidy_spans


@dataclass(frozen=True)
class M:
    start: int
    end: int
    label: str
    score: float


class GazetteerNer:
    """Marks every occurrence of known names: enough to check offset bookkeeping exactly."""

    model_id = "gazetteer"
    revision = "v1"
    names = {"Marta Ricci": "PER", "Valmora": "LOC"}

    def __call__(self, texts):
        out = []
        for t in texts:
            found = []
            for name, label in self.names.items():
                i = t.find(name)
                while i >= 0:
                    found.append(M(i, i + len(name), label, 0.9))
                    i = t.find(name, i + 1)
            out.append(found)
        return out


def test_mentions_are_mapped_to_article_offsets():
    text = "Ieri a Valmora.\nMarta Ricci ha parlato a Valmora."
    s2 = text.index("Marta")
    sentences = pl.DataFrame(
        {
            "sentence_id": ["a:0", "a:1"],
            "article_id": ["a", "a"],
            "start": [0, s2],
            "end": [15, len(text)],
            "text": [text[:15], text[s2:]],
        }
    )
    ents = extract_entities(sentences, GazetteerNer())
    assert ents.schema == pl.Schema(MENTIONS)
    assert sorted(ents.select("text", "label", "sentence_id").iter_rows()) == [
        ("Marta Ricci", "PER", "a:1"),
        ("Valmora", "LOC", "a:0"),
        ("Valmora", "LOC", "a:1"),
    ]
    for row in ents.iter_rows(named=True):
        assert text[row["start"] : row["end"]] == row["text"]
    assert ents["mention_id"].n_unique() == 3
    assert set(ents["model_id"]) == {"gazetteer"}


def test_a_type_the_text_states_replaces_the_model_label_and_says_where_it_comes_from():
    text = "VALMORA — Il comitato «Marta Ricci» protesta. Valmora resta divisa."
    sentences = pl.DataFrame(
        {"sentence_id": ["a:0"], "article_id": ["a"], "start": [0], "end": [len(text)], "text": [text]}
    )
    ner = GazetteerNer()
    ner.names = {"VALMORA": "PER", "Marta Ricci": "PER", "Valmora": "PER"}
    ents = extract_entities(sentences, ner)
    assert sorted(ents.select("text", "label", "label_from").iter_rows()) == [
        ("Marta Ricci", "ORG", "cue comitato"),
        ("VALMORA", "LOC", "dateline"),
        ("Valmora", "PER", "model"),
    ]


def test_ids_are_stable_across_calls_and_empty_input_is_empty():
    sentences = pl.DataFrame(
        {"sentence_id": ["a:0"], "article_id": ["a"], "start": [0], "end": [7], "text": ["Valmora"]}
    )
    first = extract_entities(sentences, GazetteerNer())
    assert first["mention_id"].to_list() == extract_entities(sentences, GazetteerNer())["mention_id"].to_list()
    assert extract_entities(sentences.clear(), GazetteerNer()).is_empty()


def test_a_rerun_after_a_kill_runs_the_lost_articles_with_the_same_companions():
    """Bit-identical reruns: the model sees the same batches for the articles a killed run lost."""
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.batches import split
    from stancewire.ids import sha256_hex

    class Recording:
        model_id, revision = "rec", "1"

        def __init__(self):
            self.calls = []

        def __call__(self, texts):
            self.calls.append(tuple(texts))
            return [[] for _ in texts]

    ids = [sha256_hex(f"article {n}")[:32] for n in range(120)]
    sentences = pl.DataFrame(
        [
            {"sentence_id": f"{a}:{k}", "article_id": a, "start": 0, "text": f"{a} frase {k}"}
            for a in ids
            for k in range(3)
        ]
    )

    def run(pending, model):
        batches = split(pending, 40, ThreadPoolTaskRunner(max_workers=1))
        for batch in batches:
            extract_entities(sentences.filter(pl.col("article_id").is_in(batch)), model)
        return batches

    first = Recording()
    batches = run(ids, first)
    assert len(batches) > 2
    saved = {a for batch in batches[::2] for a in batch}  # the kill lost every other batch
    rerun = Recording()
    run([a for a in ids if a not in saved], rerun)
    assert rerun.calls and set(rerun.calls) <= set(first.calls)


def spans_of(text, *pieces):
    """M spans for (surface, label) pieces, found left to right in text."""
    out, at = [], 0
    for surface, label in pieces:
        i = text.index(surface, at)
        out.append(M(i, i + len(surface), label, 0.8 if label == "ORG" else 0.9))
        at = i + len(surface)
    return out


def test_a_name_cut_at_a_particle_is_one_mention_again():
    text = "La Corea del Nord e il Banco de España; Ursula von der Leyen; Stati Uniti di Trump."
    found = tidy_spans(
        text,
        spans_of(
            text,
            ("Corea del", "LOC"),
            ("Nord", "ORG"),
            ("Banco", "ORG"),
            ("de España", "LOC"),
            ("Ursula von", "PER"),
            ("der Leyen", "PER"),
            ("Stati Uniti", "LOC"),
            ("Trump", "PER"),
        ),
    )
    assert [(text[s.start : s.end], s.label, s.score) for s in found] == [
        ("Corea del Nord", "LOC", 0.8),  # the first part's label, the weaker score
        ("Banco de España", "ORG", 0.8),
        ("Ursula von der Leyen", "PER", 0.9),
        ("Stati Uniti", "LOC", 0.9),  # "di" stands between two names: they stay two
        ("Trump", "PER", 0.9),
    ]


def test_spans_that_are_no_name_are_dropped():
    text = "Secondo l'Iran, ' Ucraina e Il governo di Kim. Poi Roma."
    found = tidy_spans(
        text,
        spans_of(text, ("l'", "ORG"), ("Iran", "ORG"), ("'", "LOC"), ("Ucraina", "LOC"), ("Il", "ORG"), ("Kim", "PER")),
    )
    assert [text[s.start : s.end] for s in found] == ["Iran", "Ucraina", "Kim"]


def test_descriptions_elisions_possessives_and_abbreviation_pieces_are_tidied():
    text = "La regional government, d'Istres e Lumetra's board; Idroalpi S.p.A. e la Volkswagen AG."
    found = tidy_spans(
        text,
        spans_of(
            text,
            ("regional government", "ORG"),
            ("d'Istres", "LOC"),
            ("Lumetra's", "ORG"),
            ("Idroalpi", "PER"),
            ("S", "ORG"),
            ("Volkswagen", "ORG"),
            ("AG", "ORG"),
        ),
    )
    assert [(text[s.start : s.end], s.label) for s in found] == [
        ("Istres", "LOC"),
        ("Lumetra", "ORG"),
        ("Idroalpi S.p.A.", "ORG"),  # a legal form makes it an organisation's name
        ("Volkswagen AG", "ORG"),
    ]


def test_a_name_cut_short_takes_the_longer_name_the_article_spells_elsewhere():
    class Cutting:
        model_id, revision = "cutting", "v1"

        def __call__(self, texts):
            return [
                spans_of(t, ("Centro ucraino per le comunicazioni strategiche", "ORG"))
                if "diffuso" in t
                else spans_of(t, ("Centro ucraino", "ORG"))
                for t in texts
            ]

    texts = [
        "Un video diffuso dal Centro ucraino per le comunicazioni strategiche.",
        "Il Centro ucraino per le comunicazioni strategiche lo conferma.",
    ]
    sentences = pl.DataFrame(
        {
            "sentence_id": ["a:0", "a:1"],
            "article_id": ["a", "a"],
            "start": [0, 80],
            "end": [len(texts[0]), 80 + len(texts[1])],
            "text": texts,
        }
    )
    found = extract_entities(sentences, Cutting())["text"].to_list()
    assert found == ["Centro ucraino per le comunicazioni strategiche"] * 2


def test_a_hyphenated_name_cut_at_its_hyphen_is_one_mention_only_where_the_article_spells_it_whole():
    class Hyphen:
        model_id, revision = "hyphen", "v1"

        def __call__(self, texts):
            whole, cut = (("Marseille-Fos", "LOC"),), (("Russia", "LOC"), ("Marseille", "ORG"), ("Fos", "ORG"))
            return [spans_of(t, *(whole if "port of" in t else [(n, x) for n, x in cut if n in t])) for t in texts]

    texts = [
        "Marseille-Fos strike enters second week.",
        "The strike at the port of Marseille-Fos goes on.",
        "Russia-Fos talks begin.",
    ]
    sentences = pl.DataFrame(
        {
            "sentence_id": ["a:0", "a:1", "b:0"],
            "article_id": ["a", "a", "b"],
            "start": [0, 50, 0],
            "end": [len(t) for t in texts],
            "text": texts,
        }
    )
    found = extract_entities(sentences, Hyphen())
    assert found.filter(pl.col("article_id") == "a")["text"].to_list() == ["Marseille-Fos"] * 2
    # article b never spells the joined name as one span: its pieces stay apart
    assert found.filter(pl.col("article_id") == "b")["text"].to_list() == ["Russia", "Fos"]


def test_a_sentence_opening_word_the_article_also_writes_in_lower_case_is_no_name():
    class Opening:
        model_id, revision = "opening", "v1"

        def __call__(self, texts):
            return [
                spans_of(t, *((n, label) for n, label in (("Union", "ORG"), ("Roma", "LOC")) if n in t)) for t in texts
            ]

    texts = ["Union denies the reports.", "Roma agrees; the union's demand stands.", "Union Pacific, said Roma."]
    sentences = pl.DataFrame(
        {
            "sentence_id": ["a:0", "a:1", "b:0"],
            "article_id": ["a", "a", "b"],
            "start": [0, 30, 0],
            "end": [25, 69, 25],
            "text": texts,
        }
    )
    found = extract_entities(sentences, Opening()).select("article_id", "text").rows()
    assert found == [("a", "Roma"), ("b", "Union"), ("b", "Roma")]  # article b never writes "union"


def test_the_stage_stores_the_tidied_spans():
    class Fragmenting:
        model_id, revision = "fragmenting", "v1"

        def __call__(self, texts):
            return [spans_of(t, ("Corea del", "LOC"), ("Nord", "ORG"), ("l'", "ORG")) for t in texts]

    text = "Corea del Nord e l'esercito."
    sentences = pl.DataFrame(
        {"sentence_id": ["a:0"], "article_id": ["a"], "start": [0], "end": [len(text)], "text": [text]}
    )
    assert extract_entities(sentences, Fragmenting()).select("text", "label").rows() == [("Corea del Nord", "LOC")]
