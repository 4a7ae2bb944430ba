from datetime import date

import polars as pl
import pytest

from stancewire.frames import QUANTITIES
from tasks.inputs.aliases import load_aliases
from tasks.link import entity_id
from tasks.quantities import extract_quantities
from tasks.quantities.meaning import read_meaning
from tasks.quantities.numbers import read_numbers

INF = float("inf")


def read(text: str, language: str) -> list[tuple]:
    return [
        (text[q.start : q.end], q.value, q.value_max, q.qualifier, q.unit, q.object)
        for q in read_numbers(text, language)[0]
    ]


def meanings(text: str, language: str, day: date = date(2025, 2, 20)) -> list[tuple]:
    """(figure, thing, role, estimated, first day, last day, date from) of every figure of one sentence."""
    numbers, _ = read_numbers(text, language)
    out = []
    for j, n in enumerate(numbers):
        previous_end = numbers[j - 1].end if j else 0
        next_start = numbers[j + 1].start if j + 1 < len(numbers) else len(text)
        m = read_meaning(n, text, previous_end, next_start, day)
        out.append((text[n.start : n.end], m.thing, m.role, m.estimated, m.refers_from, m.refers_to, m.date_from))
    return out


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


@pytest.mark.parametrize(
    "language, text, reason",
    [
        ("it", "Il dato 1.000,000.5 soldati", "mixed_separators"),
        ("en", "a 1,000.000,5 troops figure", "mixed_separators"),
        ("it", "ben 1234567890123456789012345678901234567890 soldati", "too_many_digits"),
        ("it", "tra 12 e 10 soldati", "range_reversed"),
    ],
)
def test_numbers_that_cannot_be_read_safely_are_skipped_with_the_reason(language, text, reason):
    found, skipped = read_numbers(text, language)
    assert found == [] and [s.reason for s in skipped] == [reason]


@pytest.mark.parametrize(
    "language, text",
    [
        ("it", "il 21.11.2026 alle 10:30 soldati"),
        ("en", "call +39 06 1234 5678 or see https://example.org/page/2024 for 3"),
        ("it", "la partita è finita 2-1 per i padroni di casa"),
        ("en", "the 3rd and 21st soldiers of the 2024 draft"),
        ("de", "der die Rückennummer 8 erhält"),
        ("it", "gli F-16 e il G7 nel 2024"),
    ],
)
def test_dates_phone_numbers_urls_scores_ordinals_and_labels_are_not_quantities(language, text):
    assert read(text, language) == [] and read_numbers(text, language)[1] == []


def test_word_numbers_count_before_a_counted_noun_only():
    assert read("ha ferito almeno nove persone", "it") == [("nove", 9, 9, "at_least", None, "persone")]
    assert read("sei tu? tre dei nostri", "it") == []


def test_a_figure_of_which_takes_the_unit_before_and_n_of_the_m_reads_the_noun():
    assert read("costerà 240 milioni di euro, di cui 95 milioni coperti", "it")[1][4] == "EUR"
    assert [r[5] for r in read("with 7,469 of the 15,212 registered voters", "en")] == ["registered", "registered"]


@pytest.mark.parametrize(
    "language, text, expected",
    [
        (
            "it",
            "circa 300 soldati nordcoreani erano stati uccisi e altri 2.700 feriti.",
            [("300", "killed", "total"), ("2.700", "wounded", "total")],
        ),
        ("it", "almeno 4.000 tra morti e feriti", [("4.000", "casualties", "total")]),
        ("it", "causando la morte di 14 persone", [("14", "killed", "total")]),
        (
            "it",
            "La Corea del Nord invia 3.000 soldati in Russia, portando il totale a 11.000.",
            [("3.000", "soldiers", "increment"), ("11.000", "soldiers", "total")],
        ),
        ("en", "North Korea sent 3,000 more troops", [("3,000", "soldiers", "increment")]),
        ("en", "a new report says 10,000 troops are in Russia", [("10,000", "soldiers", "total")]),
        ("en", "500 soldiers a day cross the border", [("500", "soldiers", "rate")]),
        ("it", "circa il 50% delle munizioni", [("50%", "ammunition", "rate")]),
        ("en", "a 2.5% pay rise", [("2.5%", "%", "rate")]),
        ("en", "raised €12 million to scale", [("12 million", "money", "total")]),
        ("de", "etwa 2 Millionen Franken jährlich", [("2 Millionen Franken", "money", "rate")]),
        ("en", "80 permanent dockworkers", [("80", "workers", "total")]),
        ("it", "potrebbe arrivare a circa 12000 soldati", [("12000", "soldiers", "forecast")]),
        ("it", "tre ore di trattative", [("tre", "hours", "total")]),
        ("en", "3 unusual gizmos", [("3", "unusu", "total")]),
    ],
)
def test_what_is_counted_and_its_role(language, text, expected):
    assert [(f, thing, role) for f, thing, role, *_ in meanings(text, language)] == expected


def test_estimates_are_marked():
    assert meanings("si stima che oltre 1.000 soldati", "it")[0][3] is True
    assert meanings("oltre 1.000 soldati", "it")[0][3] is False


@pytest.mark.parametrize(
    "text, day, first, last",
    [
        ("A ottobre 2024, circa 1.500 soldati erano a Vladivostok.", date(2025, 2, 14), "2024-10-01", "2024-10-31"),
        ("A metà gennaio, circa 300 soldati erano stati uccisi.", date(2025, 2, 14), "2025-01-11", "2025-01-20"),
        ("oltre 1.000 soldati inviati tra gennaio e febbraio.", date(2025, 2, 14), "2025-01-01", "2025-02-28"),
        ("In dicembre 500 soldati", date(2025, 2, 14), "2024-12-01", "2024-12-31"),  # the latest December
        ("si prevede che, a novembre, possa arrivare a 12000 soldati", date(2024, 10, 18), "2024-11-01", "2024-11-30"),
        ("une hausse de 4,2 % à partir du 1er janvier", date(2026, 11, 4), "2027-01-01", "2027-01-01"),
        ("il 26 aprile 2025 sono morti 500 soldati", date(2025, 4, 28), "2025-04-26", "2025-04-26"),
        ("chiude il 1° settembre: due settimane", date(2026, 8, 10), "2026-08-10", "2026-08-10"),
    ],
)
def test_the_days_a_figure_refers_to(text, day, first, last):
    *_, refers_from, refers_to, _ = meanings(text, "fr" if "hausse" in text else "it", day)[-1]
    assert (str(refers_from), str(refers_to)) == (first, last)


def test_without_a_date_in_its_sentence_a_figure_refers_to_the_article_day():
    assert meanings("circa 300 soldati", "it", date(2025, 2, 14))[0][4:] == (
        date(2025, 2, 14),
        date(2025, 2, 14),
        "article",
    )
    assert meanings("circa 300 soldati", "it", None)[0][4:] == (None, None, "article")


def _sentences(*texts: str) -> pl.DataFrame:
    starts = [sum(len(t) + 1 for t in texts[:i]) for i in range(len(texts))]
    return pl.DataFrame(
        {
            "sentence_id": [f"a:{i}" for i in range(len(texts))],
            "article_id": ["a"] * len(texts),
            "idx": list(range(len(texts))),
            "start": starts,
            "text": list(texts),
        },
        schema_overrides={"idx": pl.Int32, "start": pl.Int32},
    )


ARTICLES = pl.DataFrame({"article_id": ["a"], "language": ["it"], "day": [date(2025, 3, 27)]})


def _mentions(*rows: tuple) -> pl.DataFrame:
    """(sentence_id, start, entity_id, stands_for[, entity_type: LOC unless given])"""
    return pl.DataFrame(
        [{"article_id": "a", "sentence_id": s, "start": start, "entity_id": e, "stands_for": f,
          "entity_type": t[0] if t else "LOC"} for s, start, e, f, *t in rows],
        schema={"article_id": pl.String, "sentence_id": pl.String, "start": pl.Int32, "entity_id": pl.String,
                "stands_for": pl.String, "entity_type": pl.String},
    )  # fmt: skip


NK, RU, PY, KURSK = (entity_id(f"alias:{k}") for k in ("north-korea", "russia", "pyongyang", "kursk"))


def test_offsets_point_into_the_article_and_subjects_come_from_the_sentence():
    sentences = _sentences(
        "Nessun numero qui, davvero.", "La Corea del Nord ha inviato almeno 3.000 soldati in Russia."
    )
    mentions = _mentions(("a:1", 31, NK, None), ("a:1", 81, RU, None))
    found, named, skipped = extract_quantities(sentences, ARTICLES, mentions, load_aliases([]))
    assert found.schema == pl.Schema(QUANTITIES) and skipped.is_empty() and named.is_empty()
    row = found.row(0, named=True)
    assert (row["start"], row["end"], row["text"]) == (28 + 36, 28 + 41, "3.000")
    assert (row["value"], row["qualifier"], row["thing"], row["role"]) == (3000, "at_least", "soldiers", "total")
    assert (row["subjects"], row["subject_from"]) == ([NK, RU], "sentence")
    assert (row["refers_from"], row["refers_to"], row["date_from"]) == (date(2025, 3, 27),) * 2 + ("article",)


def test_a_metonym_counts_as_what_it_stands_for_and_a_demonym_of_the_thing_wins():
    sentences = _sentences(
        "Pyongyang ha schierato 10.000 soldati.",
        "A Kursk circa 300 soldati nordcoreani sono stati uccisi.",
    )
    mentions = _mentions(("a:0", 0, PY, NK), ("a:1", 41, KURSK, None))
    found, named, _ = extract_quantities(sentences, ARTICLES, mentions, load_aliases([]))
    assert found.select("text", "subjects", "subject_from").rows() == [
        ("10.000", [NK], "sentence"),
        ("300", [NK], "thing"),
    ]
    assert named["entity_id"].to_list() == [NK]  # the demonym's entity, for the store to hold


def test_a_demonym_after_a_place_word_names_where_not_whose():
    sentences = _sentences("Ha schierato 10.000 soldati sul territorio russo.")
    found, _, _ = extract_quantities(sentences, ARTICLES, _mentions(), load_aliases([]))
    assert found.select("subjects", "subject_from").rows() == [([RU], "sentence")]


def test_entities_that_say_where_a_figure_was_heard_are_not_its_subjects():
    seoul = entity_id("alias:seoul")
    sentences = _sentences("Secondo fonti di Seul, Mosca ha 3.000 soldati a Kursk.")
    mentions = _mentions(
        ("a:0", 16, seoul, entity_id("alias:south-korea")), ("a:0", 23, RU, None), ("a:0", 46, KURSK, None)
    )
    found, _, _ = extract_quantities(sentences, ARTICLES, mentions, load_aliases([]))
    assert found.select("subjects", "subject_from").rows() == [([RU, KURSK], "sentence")]


def test_a_sentence_without_entities_takes_the_article_lead_then_a_neighbour():
    lead = _sentences("La Corea del Nord invia truppe.", "Nessuno lo dice.", "Sono 3.000 soldati.")
    found, _, _ = extract_quantities(lead, ARTICLES, _mentions(("a:0", 3, NK, None)), load_aliases([]))
    assert found.select("subjects", "subject_from").rows() == [([NK], "article")]
    far = _sentences(*["Nulla."] * 3, "Lo dice Mosca.", "Sono 3.000 soldati.")
    found, _, _ = extract_quantities(far, ARTICLES, _mentions(("a:3", 36, RU, None)), load_aliases([]))
    assert found.select("subjects", "subject_from").rows() == [([RU], "neighbour")]
    alone = _sentences("Sono 3.000 soldati.")
    found, _, _ = extract_quantities(alone, ARTICLES, _mentions(), load_aliases([]))
    assert found.select("subjects", "subject_from").rows() == [([], None)]


def test_unreadable_numbers_become_quarantine_rows_that_say_where():
    sentences = _sentences("Il dato 1.000,000.5 soldati.")
    found, _, skipped = extract_quantities(sentences, ARTICLES, _mentions(), load_aliases([]))
    assert found.is_empty()
    row = skipped.row(0, named=True)
    assert (row["stage"], row["reason"]) == ("quantities", "mixed_separators")
    assert "'1.000,000.5' in sentence a:0" in row["detail"]


def test_an_organisation_that_is_only_the_setting_is_no_subject_but_a_place_is():
    texts = (
        "Luca Bertolini resta al Castelverde.",
        "La società smentisce la cessione.",
        "Il giocatore non è in vendita.",
        "Il centrocampista nella scorsa Serie B ha collezionato 36 presenze.",
        "Ieri 31 navi erano ancorate nel golfo di Fos.",
    )
    sentences = _sentences(*texts)
    at = dict(zip(sentences["sentence_id"], sentences["start"], strict=True))
    mentions = _mentions(
        ("a:0", 0, "bertolini", None, "PER"),
        ("a:3", at["a:3"] + texts[3].index("Serie B"), "serie-b", None, "ORG"),
        ("a:4", at["a:4"] + texts[4].index("golfo"), "gulf", None, "LOC"),
    )
    found, _, _ = extract_quantities(sentences, ARTICLES, mentions, load_aliases([]))
    by_value = {row["value"]: (row["subjects"], row["subject_from"]) for row in found.iter_rows(named=True)}
    assert by_value[36] == (["bertolini"], "article")
    assert by_value[31] == (["gulf"], "sentence")


@pytest.mark.parametrize(
    "text, value, counted",
    [("Circa duemila persone hanno sfilato.", 2000, "persone"), ("About two thousand people marched.", 2000, "people"),
     ("Environ deux mille personnes.", 2000, "personnes"), ("Rund zweitausend Menschen kamen.", 2000, "Menschen"),
     ("Almeno nove persone.", 9, "persone")],
)  # fmt: skip
def test_number_words_take_a_multiplier_written_apart_or_joined(text, value, counted):
    (number,) = read_numbers(text, "it")[0]
    assert (number.value, number.object) == (value, counted)
