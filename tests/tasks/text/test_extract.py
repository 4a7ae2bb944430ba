import json
from datetime import UTC, datetime

import pytest

from tasks.text.extract import (
    TRAFILATURA_OPTIONS,
    ExtractionError,
    extract_html,
    extract_json,
    extract_plain,
    parse_published,
)

ARTICLE_HTML = """<html lang="it"><head><meta charset="utf-8"><title>Truppe in Russia - Il Quotidiano</title>
<meta name="author" content="Mario Rossi"><meta property="og:site_name" content="Il Quotidiano">
<meta property="article:published_time" content="2025-04-28T10:15:00+02:00">
<link rel="canonical" href="https://news.example.com/esteri/truppe"></head><body>
<nav><a href="/">Home</a> <a href="/esteri">Esteri</a> <a href="/sport">Sport</a></nav>
<article><h1>Truppe in Russia</h1>
<p>La Corea del Nord ha inviato altre truppe in Russia, secondo l'intelligence di Seul. Il Sig. Rossi ha commentato.</p>
<p>Il presidente ha chiesto una reazione forte della comunità internazionale. Sono arrivati almeno 1.000 soldati.</p>
<p>La collaborazione tra Russia e Corea del Nord si è intensificata nel corso del conflitto, con munizioni e armi.</p>
</article><footer>Cookie policy. Tutti i diritti riservati.</footer><script>var tracking = 1;</script></body></html>"""


def test_extract_html_body_and_metadata():
    got = extract_html(ARTICLE_HTML)
    assert got.extractor == "trafilatura"
    assert got.title == "Truppe in Russia"
    assert got.author == "Mario Rossi"
    assert got.site == "Il Quotidiano"
    assert got.url == "https://news.example.com/esteri/truppe"
    assert got.published == datetime(2025, 4, 28, 8, 15, tzinfo=UTC)
    assert got.body.startswith("La Corea del Nord ha inviato")  # the repeated <h1> is not part of the body
    assert "Cookie policy" not in got.body and "tracking" not in got.body and "Home" not in got.body


@pytest.mark.parametrize(
    "html",
    ["<html><body></body></html>", "<html><body><script>alert(1)</script><style>p{}</style></body></html>", "<html>"],
)
def test_extract_html_without_body_raises(html):
    with pytest.raises(ExtractionError) as err:
        extract_html(html)
    assert err.value.reason in {"no_body", "extraction_failed"}


def test_extract_html_drops_kicker_and_repeated_headline():
    html = ARTICLE_HTML.replace("<h1>", '<p class="kicker">Esteri · Asia</p><h1>')
    assert extract_html(html).body.startswith("La Corea del Nord ha inviato")


def test_extract_json_fields_and_aliases():
    got = extract_json(
        json.dumps(
            {
                "title": "T",
                "content": "Corpo.",
                "url": "https://x.example/a",
                "date": "2025-01-02T03:04:05Z",
                "lang": "it-IT",
                "author": ["Anna", " Bruno "],
                "source": "X",
            }
        )
    )
    assert (got.title, got.body, got.url, got.language, got.author, got.site) == (
        "T", "Corpo.", "https://x.example/a", "it-IT", "Anna; Bruno", "X",
    )  # fmt: skip
    assert got.published == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert got.extractor == "json"


def test_extract_json_markup_in_text_is_reduced_to_lines():
    got = extract_json(
        json.dumps({"content": "<p>Primo <b>paragrafo</b>.</p><script>x()</script><p>Secondo.<br>Riga</p> e coda"})
    )
    assert got.body.split("\n") == ["Primo paragrafo.", "Secondo.", "Riga", " e coda"]
    assert extract_json('{"text": "a < b and c > d"}').body == "a < b and c > d"


def test_extract_json_news_api_shape():
    got = extract_json(
        json.dumps({"source": {"id": None, "name": "Wire"}, "publishedAt": "2025-01-02T03:04:05Z", "content": "Testo."})
    )
    assert (got.site, got.published) == ("Wire", datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))


def test_extract_json_prefers_text_over_body_and_content():
    assert extract_json('{"text": "A", "body": "B", "content": "C"}').body == "A"
    assert extract_json('{"text": null, "body": "B"}').body == "B"


@pytest.mark.parametrize(
    "raw, reason",
    [
        ('{"text": 42}', "invalid_field"),
        ('{"text": "ok", "title": ["a"]}', "invalid_field"),
        ('{"text": "ok", "author": {"name": "x"}}', "invalid_field"),
        ('{"text": "ok", "published": true}', "invalid_field"),
        ('{"text": "ok", "url": 7}', "invalid_field"),
        ('{"text": "ok", "source": ["a"]}', "invalid_field"),
        ('{"text": "ok", "site": {"name": 3}}', "invalid_field"),
        ('{"title": "only a title"}', "missing_text"),
        ("[1, 2]", "invalid_record"),
        ("{not json", "invalid_json"),
    ],
)
def test_extract_json_rejects_bad_records(raw, reason):
    with pytest.raises(ExtractionError) as err:
        extract_json(raw)
    assert err.value.reason == reason


def test_extract_plain_keeps_the_text_for_the_line_classifier():
    text = "La Corea del Nord invia truppe in Russia: Seul\n\nPrimo paragrafo. Altro."
    got = extract_plain(text)
    assert (got.body, got.title, got.extractor) == (text, None, "plain")


def test_extract_html_takes_trafilatura_options():
    html = ARTICLE_HTML.replace("</article>", "<ul><li>Prima voce di un elenco di fatti</li></ul></article>")
    assert extract_html(html).body == extract_html(html, options=TRAFILATURA_OPTIONS).body
    with pytest.raises(ExtractionError):
        extract_html(html, options={"no_such_option": True})


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2025-04-28T10:15:00+0200", datetime(2025, 4, 28, 8, 15, tzinfo=UTC)),
        ("2025-04-28", datetime(2025, 4, 28, tzinfo=UTC)),
        ("2025-04-28 10:15:00", datetime(2025, 4, 28, 10, 15, tzinfo=UTC)),
        ("2025-04-28T10:15:00Z", datetime(2025, 4, 28, 10, 15, tzinfo=UTC)),
        ("Mon, 28 Apr 2025 10:15:00 +0200", datetime(2025, 4, 28, 8, 15, tzinfo=UTC)),
        (1745828100, datetime(2025, 4, 28, 8, 15, tzinfo=UTC)),
        (1745828100000, datetime(2025, 4, 28, 8, 15, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        (None, None),
        ("0001-01-01", None),
    ],
)
def test_parse_published(value, expected):
    assert parse_published(value) == expected
