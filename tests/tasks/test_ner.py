from dataclasses import dataclass

import polars as pl

from stancewire.frames import MENTIONS
from tasks.ner import extract_entities


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
