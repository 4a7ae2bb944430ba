import polars as pl
import pytest

from stancewire.frames import QUANTITIES
from tasks.quantities import extract_quantities, parse_quantities

INF = float("inf")


def read(text: str, language: str) -> list[tuple]:
    return [
        (text[q.start : q.end], q.value, q.value_max, q.qualifier, q.unit, q.object)
        for q in parse_quantities(text, language)
    ]


@pytest.mark.parametrize(
    "language, text, expected",
    [
        (
            "it",
            "si stima che oltre 1.000 soldati siano stati inviati",
            [("1.000", 1000, 1000, "more_than", None, "soldati")],
        ),
        ("it", "circa 1.500 soldati delle forze speciali", [("1.500", 1500, 1500, "about", None, "soldati")]),
        ("it", "più di 10.000 soldati nordcoreani", [("10.000", 10000, 10000, "more_than", None, "soldati")]),
        (
            "it",
            "tra 10.000 e 12.000 soldati sul territorio",
            [("10.000 e 12.000", 10000, 12000, "range", None, "soldati")],
        ),
        ("it", "tra 10 e 12 mila persone", [("10 e 12 mila", 10000, 12000, "range", None, "persone")]),
        (
            "it",
            "ha inviato almeno 3.000 soldati in Russia, portando il totale delle truppe a 11.000.",
            [("3.000", 3000, 3000, "at_least", None, "soldati"), ("11.000", 11000, 11000, "exact", None, "truppe")],
        ),
        ("it", "un investimento di 1,5 milioni di euro", [("1,5 milioni di euro", 1.5e6, 1.5e6, "exact", "EUR", None)]),
        ("it", "il 25% dei fondi", [("25%", 25, 25, "exact", "%", "fondi")]),
        ("it", "nel 2024, il 24 ottobre, gli F-16 e il G7", []),
        ("it", "il 21.11.2026 alle 10:30", []),
        ("en", "more than 1,000 troops", [("1,000", 1000, 1000, "more_than", None, "troops")]),
        ("en", "about 1.5 million dollars", [("1.5 million dollars", 1.5e6, 1.5e6, "about", "USD", None)]),
        ("en", "at least 300 soldiers were killed in 2024", [("300", 300, 300, "at_least", None, "soldiers")]),
        (
            "en",
            "between 10 and 12 thousand soldiers",
            [("10 and 12 thousand", 10000, 12000, "range", None, "soldiers")],
        ),
        ("en", "3,000 more troops", [("3,000", 3000, 3000, "exact", None, "troops")]),
        ("en", "10-12 soldiers", [("10-12", 10, 12, "range", None, "soldiers")]),
        (
            "en",
            "up to 500 people and $5 million",
            [("500", 500, 500, "at_most", None, "people"), ("5 million", 5e6, 5e6, "exact", "USD", None)],
        ),
        ("fr", "plus de 10 000 soldats", [("10 000", 10000, 10000, "more_than", None, "soldats")]),
        (
            "de",
            "mehr als 10.000 Soldaten, etwa 2,5 Millionen Euro",
            [
                ("10.000", 10000, 10000, "more_than", None, "Soldaten"),
                ("2,5 Millionen Euro", 2.5e6, 2.5e6, "about", "EUR", None),
            ],
        ),
    ],
)
def test_parse_quantities(language, text, expected):
    assert read(text, language) == expected


def test_the_same_digits_read_by_locale():
    assert read("1.500 soldati", "it")[0][1] == 1500
    assert read("1.500 soldiers", "en")[0][1] == 1.5
    assert read("1,500 soldiers", "en")[0][1] == 1500


def test_extract_quantities_offsets_into_the_article_and_links_entities_of_the_sentence():
    sentences = pl.DataFrame(
        {
            "sentence_id": ["a:0", "a:1"],
            "article_id": ["a", "a"],
            "start": [0, 30],
            "text": ["Nessun numero qui, davvero.", "La Corea del Nord ha inviato almeno 3.000 soldati in Russia."],
        }
    )
    languages = pl.DataFrame({"article_id": ["a"], "language": ["it"]})
    entities = pl.DataFrame(
        {
            "sentence_id": ["a:1", "a:1", "a:1", "a:0"],
            "start": [83, 33, 83, 0],
            "text": ["Russia", "Corea del Nord", "Russia", "Nessun"],
        }
    )
    out = extract_quantities(sentences, languages, entities)
    assert out.schema == pl.Schema(QUANTITIES)
    row = out.row(0, named=True)
    assert out.height == 1
    assert (row["start"], row["end"], row["text"]) == (30 + 36, 30 + 41, "3.000")
    assert (row["value"], row["qualifier"], row["object"], row["object_key"]) == (3000, "at_least", "soldati", "solda")
    assert row["entities"] == ["Corea del Nord", "Russia"]
    assert extract_quantities(sentences, languages, None)["entities"].to_list() == [[]]
