import json
from datetime import UTC, datetime

import polars as pl
import pytest

from stancewire.frames import ARTICLES, BOILERPLATE_LINES, DOCUMENTS, QUARANTINE, SENTENCES
from stancewire.ids import sha256_hex
from tasks.clean import CleanResult, build_language_detector, clean_documents, source_keys
from tasks.fetch import document_id, fetch_sources
from tasks.text.dedup import DuplicateIndex
from tests.tasks.text.test_extract import ARTICLE_HTML


@pytest.fixture(scope="module")
def detector():
    return build_language_detector(["it", "en", "de"])


def docs(*items: tuple[str, bytes] | tuple[str, bytes, str]) -> pl.DataFrame:
    rows = []
    for n, item in enumerate(items):
        content_type, payload = item[0], item[1]
        uri = item[2] if len(item) > 2 else f"/data/doc{n}"
        content_hash = sha256_hex(payload)
        rows.append(
            {
                "doc_id": document_id(uri, content_hash),
                "source": "/data",
                "uri": uri,
                "fetched_at": datetime(2025, 1, 1, tzinfo=UTC),
                "content_type": content_type,
                "content_hash": content_hash,
                "size_bytes": len(payload),
                "payload": payload,
            }
        )
    return pl.DataFrame(rows, schema=DOCUMENTS)


def assert_consistent(result: CleanResult) -> None:
    assert result.articles.schema == pl.Schema(ARTICLES)
    assert result.sentences.schema == pl.Schema(SENTENCES)
    assert result.quarantine.schema == pl.Schema(QUARANTINE)
    texts = dict(zip(result.articles["article_id"], result.articles["text"], strict=True))
    for row in result.sentences.iter_rows(named=True):
        assert texts[row["article_id"]][row["start"] : row["end"]] == row["text"] == row["text"].strip() != ""
        assert row["sentence_id"] == f"{row['article_id']}:{row['idx']}"
    for row in result.articles.iter_rows(named=True):
        assert row["text_hash"] == sha256_hex(row["text"])
        idxs = result.sentences.filter(pl.col("article_id") == row["article_id"])["idx"].to_list()
        assert idxs == list(range(len(idxs))) and idxs


PLAIN_IT = (
    b"Truppe nordcoreane in Russia\n"
    b"La Corea del Nord ha inviato altre truppe in Russia. Il Sig. Rossi ha commentato la notizia con i giornalisti.\n"
    b"Soldati nordcoreani in RussiaLa Corea del Nord ha intensificato il suo sostegno alla Russia, con 10.000 soldati."
)


def test_clean_plain_text(detector):
    result = clean_documents(docs(("text/plain", PLAIN_IT)), detector=detector)
    assert_consistent(result)
    article = result.articles.row(0, named=True)
    assert article["title"] == "Truppe nordcoreane in Russia"
    assert article["extractor"] == "plain"
    assert article["language"] == "it" and article["language_confidence"] > 0.9
    assert article["url"] is None and article["published"] is None
    assert article["text"].startswith("Truppe nordcoreane in Russia\n\nLa Corea del Nord")
    assert result.sentences["text"].to_list() == [
        "Truppe nordcoreane in Russia",  # the title is the text's first line: NER, quantities and stance see it
        "La Corea del Nord ha inviato altre truppe in Russia.",
        "Il Sig. Rossi ha commentato la notizia con i giornalisti.",
        "Soldati nordcoreani in Russia",
        "La Corea del Nord ha intensificato il suo sostegno alla Russia, con 10.000 soldati.",
    ]


def test_clean_html(detector):
    result = clean_documents(
        docs(("text/html", ARTICLE_HTML.encode(), "https://news.example.com/x?id=1")), detector=detector
    )
    assert_consistent(result)
    article = result.articles.row(0, named=True)
    assert article["extractor"] == "trafilatura"
    assert (article["title"], article["author"], article["site"]) == (
        "Truppe in Russia",
        "Mario Rossi",
        "Il Quotidiano",
    )
    assert article["url"] == "https://news.example.com/esteri/truppe"
    assert article["published"] == datetime(2025, 4, 28, 8, 15, tzinfo=UTC)
    assert article["language"] == "it"
    assert "Il Sig. Rossi ha commentato." in result.sentences["text"].to_list()


def test_clean_html_in_legacy_charset(detector):
    html = ARTICLE_HTML.replace('charset="utf-8"', 'charset="windows-1252"').encode("cp1252")
    result = clean_documents(docs(("text/html", html)), detector=detector)
    assert "comunità internazionale" in result.articles["text"][0]


def test_clean_json_record(detector):
    record = {
        "title": "Kurzmeldung",
        "body": "Die Regierung hat am 3. Oktober neue Maßnahmen beschlossen. Die Opposition kritisiert z.B. das.",
        "url": "https://de.example.org/a",
        "published": "2025-10-03T12:00:00+02:00",
        "author": "Anna Schmidt",
    }
    result = clean_documents(docs(("application/json", json.dumps(record).encode())), detector=detector)
    assert_consistent(result)
    article = result.articles.row(0, named=True)
    assert (article["language"], article["extractor"], article["site"]) == ("de", "json", "de.example.org")
    assert article["published"] == datetime(2025, 10, 3, 10, tzinfo=UTC)
    assert result.sentences["text"][0] == "Kurzmeldung" and result.sentences.height == 3


def test_declared_language_is_the_fallback_for_short_text(detector):
    record = {"title": "Breve", "text": "Sì, ok.", "language": "it-IT"}
    article = clean_documents(docs(("application/json", json.dumps(record).encode())), detector=detector).articles
    assert article["language"].to_list() == ["it"]


@pytest.mark.parametrize(
    "content_type, payload, reason",
    [
        ("text/plain", b"", "empty_payload"),
        ("text/plain", b"  \n\t \r\n", "empty_payload"),
        ("text/plain", "\u00a0\u200b\n".encode(), "empty_text"),
        ("text/plain", bytes(range(256)) * 8, "not_text"),
        ("text/plain", b"\xfd\xfc\xfb\xfa\xf9" * 40, "not_text"),
        ("text/html", b"%PDF-1.4 \x00\x01\x02", "not_text"),
        ("text/html", b"<html><head><title>Solo titolo</title></head><body></body></html>", "no_body"),
        ("text/html", b"<html><body><script>var a = 'tanto testo in uno script';</script></body></html>", "no_body"),
        ("application/json", b'{"title": "x", "text": 5}', "invalid_field"),
        ("application/json", b'{"title": "x"}', "missing_text"),
        ("application/json", b'{"text": "   "}', "empty_text"),
        ("application/pdf", b"whatever", "unsupported_content_type"),
    ],
)
def test_unusable_documents_are_quarantined(detector, content_type, payload, reason):
    frame = docs((content_type, payload))
    result = clean_documents(frame, detector=detector)
    assert_consistent(result)
    assert result.articles.height == 0 and result.sentences.height == 0
    row = result.quarantine.row(0, named=True)
    assert (row["reason"], row["stage"], row["item_id"], row["uri"]) == (
        reason,
        "clean",
        frame["doc_id"][0],
        "/data/doc0",
    )
    assert row["detail"]


def test_invalid_utf8_bytes_become_replacement_characters(detector):
    payload = "Perché la città è bella, più o meno così. Poi basta con le notizie di oggi.".encode() + b"\xff\xfe"
    result = clean_documents(docs(("text/plain", payload)), detector=detector)
    assert result.quarantine.height == 0
    assert "\ufffd" in result.articles["text"][0]


def test_bad_documents_do_not_stop_the_batch(detector):
    result = clean_documents(
        docs(("text/plain", b""), ("text/plain", PLAIN_IT), ("application/json", b"[1]")), detector=detector
    )
    assert result.articles.height == 1
    assert sorted(result.quarantine["reason"].to_list()) == ["empty_payload", "invalid_record"]


def test_empty_input_gives_empty_frames(detector):
    result = clean_documents(pl.DataFrame(schema=DOCUMENTS), detector=detector)
    assert_consistent(result)
    assert result.articles.height == result.sentences.height == result.quarantine.height == 0


@pytest.mark.integration
def test_seed_articles_clean_to_italian(seeds_dir, detector):
    fetched = fetch_sources([str(seeds_dir)])
    assert fetched.quarantine.height == 0
    result = clean_documents(fetched.documents, detector=detector)
    assert_consistent(result)
    assert result.quarantine.height == 0
    assert result.articles.height == fetched.documents.height >= 1
    assert set(result.articles["language"]) == {"it"}
    per_article = result.sentences.group_by("article_id").len()
    assert per_article["len"].min() >= 5
    sentences = result.sentences["text"].to_list()
    assert not any(s.endswith(("Sig.", "Dott.", " 1.", " 10.")) for s in sentences)
    assert not any("RussiaLa" in s for s in sentences)


def test_task_wrapper_logs_counts(monkeypatch, caplog, detector):
    import logging

    import tasks.clean

    monkeypatch.setattr(tasks.clean, "get_run_logger", lambda: logging.getLogger("test.clean"))
    with caplog.at_level(logging.INFO, logger="test.clean"):
        result = tasks.clean.clean_task.fn(docs(("text/plain", PLAIN_IT), ("text/plain", b"")), detector)
    assert result.articles.height == 1
    assert "cleaned 2 documents: 1 articles (0 duplicates), 5 sentences, 0 furniture lines removed, 1 quarantined" in (
        caplog.text
    )


LONG_IT = (
    "Titolo della notizia sul porto di Valmora\n"
    "Il porto di Valmora ha registrato un aumento del traffico merci del dodici per cento nel primo semestre, "
    "secondo i dati diffusi ieri dall'autorità portuale.\n"
    "Gran parte della crescita viene dai container diretti verso il nord Europa, mentre il traffico passeggeri "
    "resta stabile rispetto allo scorso anno.\n"
    "The port authority said the figures were the best since records began in the early nineteen nineties.\n"
    "Il presidente dell'autorità ha annunciato nuovi investimenti per ampliare le banchine entro il 2027.\n"
    "Read More\n"
    "Read More\n"
)


def test_furniture_lines_are_removed_and_kept_for_audit(detector):
    result = clean_documents(docs(("text/plain", LONG_IT.encode())), detector=detector)
    assert_consistent(result)
    article = result.articles.row(0, named=True)
    assert article["title"] == "Titolo della notizia sul porto di Valmora"
    assert "Read More" not in article["text"]
    assert article["text"].startswith("Titolo della notizia sul porto di Valmora\n\nIl porto di Valmora")
    removed = result.boilerplate_lines
    assert removed.schema == pl.Schema(BOILERPLATE_LINES)
    assert removed["line_no"].to_list() == [5, 6]
    assert set(removed["reason"]) == {"repeated_in_document"}
    assert all(LONG_IT[r["start"] : r["end"]] == r["text"] for r in removed.iter_rows(named=True))


def test_sentences_carry_the_language_of_their_line(detector):
    result = clean_documents(docs(("text/plain", LONG_IT.encode())), detector=detector)
    languages = dict(zip(result.sentences["text"], result.sentences["language"], strict=True))
    assert result.articles["language"][0] == "it"
    english = "The port authority said the figures were the best since records began in the early nineteen nineties."
    assert languages[english] == "en"
    assert {lang for text, lang in languages.items() if not text.startswith("The port")} == {"it"}


def test_duplicates_link_to_the_first_copy_and_to_stored_articles(detector):
    copy = LONG_IT.replace("ieri", "martedì") + "Con informazioni dell'ANSA.\n"
    frame = docs(("text/plain", LONG_IT.encode()), ("text/plain", copy.encode()), ("text/plain", PLAIN_IT))
    result = clean_documents(frame, detector=detector)
    first, second, other = (result.articles.filter(pl.col("doc_id") == d).row(0, named=True) for d in frame["doc_id"])
    assert first["duplicate_of"] is None and other["duplicate_of"] is None
    assert second["duplicate_of"] == first["article_id"] and 0.7 <= second["duplicate_similarity"] < 1.0

    known = DuplicateIndex(result.articles)
    elsewhere = docs(("text/plain", LONG_IT.encode(), "https://other.example/copy"))
    again = clean_documents(elsewhere, detector=detector, known=known)
    assert again.articles.row(0, named=True)["duplicate_of"] == first["article_id"]
    assert again.articles["duplicate_similarity"].to_list() == [1.0]


def test_lines_repeated_across_a_source_are_furniture(detector):
    footer = "Valmora Notizie fa parte del gruppo Editoriale Valle"
    paragraphs = [
        "Il porto di Valmora ha registrato un aumento del traffico merci del dodici per cento nel primo semestre.",
        "La giunta regionale ha approvato il nuovo piano dei trasporti con i voti della maggioranza e tre astenuti.",
        "Il festival del cinema di montagna torna a settembre con quaranta film in concorso e tre anteprime mondiali.",
        "Gli agricoltori della valle chiedono aiuti dopo la grandinata che ha distrutto metà del raccolto di mele.",
        "La nuova biblioteca comunale aprirà a marzo nell'ex convento dei cappuccini, restaurato con fondi europei.",
        "Le scuole medie della provincia avranno lezioni di programmazione a partire dal prossimo anno scolastico.",
    ]
    # The footer sits between paragraphs, where line context alone would keep it.
    bodies = [f"{paragraphs[i]}\n{footer}\n{paragraphs[i + 3]}" for i in range(3)]
    frame = docs(*(("text/plain", body.encode()) for body in bodies))
    result = clean_documents(frame, detector=detector)
    assert not any(footer in t for t in result.articles["text"])
    assert set(result.boilerplate_lines.filter(pl.col("text") == footer)["reason"]) == {"repeated_in_source"}
    counts = result.source_lines.filter(pl.col("docs") == 3)
    assert counts["source_key"].to_list() == ["/data"]
    same = docs(*(("text/plain", bodies[0].encode(), f"/copy{n}") for n in range(3)))
    copies = clean_documents(same, detector=detector)
    assert copies.source_lines["docs"].max() == 1  # copies of one article do not make its lines furniture

    # Two documents in this batch plus one stored earlier also make three.
    stored = counts.with_columns(docs=pl.lit(1, pl.Int64))
    two = clean_documents(frame.head(2), detector=detector)
    assert any(footer in t for t in two.articles["text"])
    two = clean_documents(frame.head(2), detector=detector, source_lines=stored)
    assert not any(footer in t for t in two.articles["text"])


def test_text_of_nothing_but_furniture_is_quarantined_with_its_lines(detector):
    furniture = b"Home | News | Sport | Weather\nwww.example.org\n12.03.2025, 14:20"
    result = clean_documents(docs(("text/plain", furniture)), detector=detector)
    assert result.articles.height == 0
    assert result.quarantine["reason"].to_list() == ["only_boilerplate"]
    assert result.boilerplate_lines["reason"].to_list() == ["navigation", "site_tag", "dateline"]


def test_source_keys_use_the_host_of_fetched_urls():
    frame = docs(("text/plain", b"a", "https://News.Example.org/a"), ("text/plain", b"b"))
    assert source_keys(frame) == {"news.example.org", "/data"}
