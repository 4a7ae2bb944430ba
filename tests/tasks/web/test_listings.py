import gzip
import json
from datetime import UTC, datetime

import pytest

from tasks.web.listings import DiscoveryError, canonical_url, parse_feed, parse_sitemap, parse_url_list

BASE = "https://news.example.com/feeds/main.xml"


@pytest.mark.parametrize(
    "url, expected",
    [
        (
            "HTTPS://News.Example.COM:443/a/b?id=7&utm_source=rss&utm_medium=feed&fbclid=XYZ#comments",
            "https://news.example.com/a/b?id=7",
        ),
        ("http://news.example.com:80/x?gclid=1&page=2&msclkid=3&mc_cid=4", "http://news.example.com/x?page=2"),
        ("https://news.example.com:8443/x?ref=home", "https://news.example.com:8443/x?ref=home"),
        ("https://news.example.com", "https://news.example.com/"),
        ("/2025/06/story.html?utm_campaign=x", "https://news.example.com/2025/06/story.html"),
        ("ftp://news.example.com/a", None),
        ("mailto:desk@example.com", None),
        ("https://news.example.com:99999/", None),
    ],
)
def test_canonical_url(url, expected):
    assert canonical_url(url, BASE) == expected


def test_rss_entries_with_dates_relative_links_and_permalink_guids():
    feed = b"""<?xml version="1.0" encoding="utf-8"?>
    <rss version="2.0"><channel><title>Cronaca</title><language>it-IT</language>
      <item><title>Uno</title><link>/cronaca/uno.html?utm_source=rss</link>
            <pubDate>Tue, 10 Jun 2025 06:00:00 +0200</pubDate></item>
      <item><title>Due</title><guid isPermaLink="true">https://news.example.com/cronaca/due.html</guid></item>
      <item><title>No link</title><description>nothing to fetch</description></item>
    </channel></rss>"""
    listing = parse_feed(feed, BASE)
    assert listing.language == "it"
    assert [e.url for e in listing.entries] == [
        "https://news.example.com/cronaca/uno.html",
        "https://news.example.com/cronaca/due.html",
    ]
    first = listing.entries[0]
    assert first.published == datetime(2025, 6, 10, 4, tzinfo=UTC) and first.title == "Uno"
    assert listing.entries[1].published is None


def test_atom_published_and_updated():
    feed = b"""<?xml version="1.0" encoding="utf-8"?>
    <feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr"><title>Monde</title><id>urn:x</id>
      <updated>2025-06-11T08:00:00Z</updated>
      <entry><title>Article</title><id>urn:a</id><link rel="alternate" href="https://news.example.com/monde/a"/>
        <published>2025-06-10T08:00:00Z</published><updated>2025-06-11T07:30:00+02:00</updated></entry>
    </feed>"""
    [entry] = parse_feed(feed, BASE).entries
    assert entry.url == "https://news.example.com/monde/a"
    assert entry.published == datetime(2025, 6, 10, 8, tzinfo=UTC)
    assert entry.updated == datetime(2025, 6, 11, 5, 30, tzinfo=UTC)


def test_json_feed():
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Nachrichten",
        "language": "de-DE",
        "items": [
            {
                "id": "1",
                "url": "https://news.example.com/de/1?fbclid=a",
                "title": "Eins",
                "date_published": "2025-06-10T10:00:00+02:00",
                "date_modified": "2025-06-10T12:00:00+02:00",
            },
            {"id": "https://news.example.com/de/2", "content_text": "id is the permalink"},
            {"id": "3", "content_text": "no URL at all"},
            "not an item",
        ],
    }
    listing = parse_feed(json.dumps(feed).encode(), BASE)
    assert listing.language == "de"
    assert [e.url for e in listing.entries] == ["https://news.example.com/de/1", "https://news.example.com/de/2"]
    assert listing.entries[0].published == datetime(2025, 6, 10, 8, tzinfo=UTC)
    assert listing.entries[0].updated == datetime(2025, 6, 10, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    "body",
    [b"<html><body>a web page</body></html>", b"plain text", b'{"title": "no version"}', b"{broken"],
)
def test_what_is_not_a_feed_is_an_error(body):
    with pytest.raises(DiscoveryError) as err:
        parse_feed(body, BASE)
    assert err.value.reason == "invalid_feed"


NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>https://news.example.com/es/a?utm_source=x</loc>
    <news:news><news:publication><news:name>El Diario</news:name><news:language>es</news:language></news:publication>
      <news:publication_date>2025-06-10T09:00:00+02:00</news:publication_date><news:title>Titular</news:title>
    </news:news></url>
  <url><loc>https://news.example.com/es/b</loc><lastmod>2025-06-09</lastmod></url>
  <url><lastmod>2025-06-09</lastmod></url>
</urlset>"""


def test_news_sitemap():
    listing = parse_sitemap(NEWS_SITEMAP, BASE)
    assert listing.language == "es" and listing.sitemaps == []
    a, b = listing.entries
    assert (a.url, a.title, a.published) == (
        "https://news.example.com/es/a",
        "Titular",
        datetime(2025, 6, 10, 7, tzinfo=UTC),
    )
    assert (b.url, b.published, b.updated) == ("https://news.example.com/es/b", None, datetime(2025, 6, 9, tzinfo=UTC))


def test_sitemap_index_and_gzip():
    index = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>/sitemaps/2025-06.xml.gz</loc><lastmod>2025-06-10T00:00:00Z</lastmod></sitemap>
      <sitemap><loc>https://news.example.com/sitemaps/2025-05.xml</loc></sitemap></sitemapindex>"""
    listing = parse_sitemap(gzip.compress(index), BASE)
    assert listing.entries == []
    assert [(s.url, s.updated) for s in listing.sitemaps] == [
        ("https://news.example.com/sitemaps/2025-06.xml.gz", datetime(2025, 6, 10, tzinfo=UTC)),
        ("https://news.example.com/sitemaps/2025-05.xml", None),
    ]


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"<html><body/></html>", "invalid_sitemap"),
        (b"<urlset><url><loc>https://x.com/a</loc>", "invalid_sitemap"),
        (b"\x1f\x8bnot really gzip", "invalid_sitemap"),
    ],
)
def test_broken_sitemaps(body, reason):
    with pytest.raises(DiscoveryError) as err:
        parse_sitemap(body, BASE)
    assert err.value.reason == reason


def test_sitemap_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("https://attacker.example.com/leak")
    body = f"""<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file://{secret}">]>
    <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>&x;</loc></url>
    <url><loc>https://news.example.com/ok</loc></url></urlset>""".encode()
    assert [e.url for e in parse_sitemap(body, BASE).entries] == ["https://news.example.com/ok"]


def test_url_list():
    entries, bad = parse_url_list(
        "# morning list\nhttps://a.example.com/1?utm_medium=x\n\n  /relative\nnot a url\n", BASE
    )
    assert [e.url for e in entries] == ["https://a.example.com/1", "https://news.example.com/relative"]
    assert bad == ["not a url"]
    assert parse_url_list("relative/only")[1] == ["relative/only"]
