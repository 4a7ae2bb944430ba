import gzip
import json
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from stancewire.frames import DOCUMENTS, FETCH_STATE, QUARANTINE, SOURCE_HEALTH
from tasks import crawl as crawl_module
from tasks.crawl import MAX_FAILURES, CrawlResult, crawl_sources
from tasks.inputs.sources import Source
from tasks.web import download as dl
from tasks.web.fetcher import PoliteFetcher
from tests.tasks.newsroom import rss, serve

NOW = datetime(2025, 6, 12, 6, tzinfo=UTC)
DAY1, DAY2, DAY3 = "Tue, 10 Jun 2025 08:00:00 GMT", "Wed, 11 Jun 2025 08:00:00 GMT", "Thu, 12 Jun 2025 05:00:00 GMT"


@pytest.fixture
def room():
    with serve() as room:
        yield room


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(dl, "BACKOFF_BASE_S", 0.01)


def crawl(sources, state=None, *, now=NOW, **fetcher_kwargs) -> CrawlResult:
    fetcher_kwargs = {"host_delay_s": 0.0, "allow_private_hosts": True, **fetcher_kwargs}
    with PoliteFetcher(**fetcher_kwargs) as fetcher:
        result = crawl_sources(
            sources, state if state is not None else pl.DataFrame(schema=FETCH_STATE), fetcher, now=now
        )
    assert result.documents.schema == pl.Schema(DOCUMENTS)
    assert result.quarantine.schema == pl.Schema(QUARANTINE)
    assert result.fetch_state.schema == pl.Schema(FETCH_STATE)
    assert result.health.schema == pl.Schema(SOURCE_HEALTH)
    return result


def merge(state: pl.DataFrame, result: CrawlResult) -> pl.DataFrame:
    """What the store does: upsert the new rows by url."""
    return pl.concat([state, result.fetch_state]).unique("url", keep="last", maintain_order=True)


def health(result: CrawlResult) -> dict:
    return {row["source_id"]: row for row in result.health.iter_rows(named=True)}


def feed(id_="desk", url="", kind="rss", **options) -> Source:
    return Source(id=id_, kind=kind, url=url, options=options)


def test_feed_incremental_runs(room):
    for n in (1, 2, 3):
        room.article(f"/news/{n}.html", f"Story {n}")
    room.put("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    items = [
        (room.url("/news/1.html?utm_source=rss"), DAY1),
        (room.url("/news/2.html#comments"), DAY1),
        (room.url("/news/2.html?fbclid=abc"), DAY1),
        (room.url("/news/3.html"), DAY2),
    ]
    source = feed(url=room.put("/feed.xml", rss(items), content_type="application/rss+xml"))

    first = crawl([source])
    assert sorted(first.documents["uri"]) == [room.url(f"/news/{n}.html") for n in (1, 2, 3)]
    assert set(first.documents["source"]) == {"desk"} and first.quarantine.is_empty()
    assert health(first)["desk"] | {"checked_at": None} == {
        "source_id": "desk",
        "checked_at": None,
        "ok": True,
        "error": None,
        "discovered": 3,
        "articles": 3,
    }
    articles = first.fetch_state.filter(pl.col("role") == "article")
    assert (
        articles["published"].to_list()
        == [datetime(2025, 6, 11, 8, tzinfo=UTC)] + [datetime(2025, 6, 10, 8, tzinfo=UTC)] * 2
    )
    assert room.paths().count("/feed.xml") == 1 and room.paths().count("/robots.txt") == 1
    state = merge(pl.DataFrame(schema=FETCH_STATE), first)

    room.hits.clear()
    second = crawl([source], state)
    assert second.documents.is_empty() and health(second)["desk"]["ok"]
    assert [(h.path, h.status) for h in room.hits] == [("/robots.txt", 200), ("/feed.xml", 304)]
    state = merge(state, second)

    room.article("/news/4.html", "Story 4")
    room.put("/feed.xml", rss([(room.url("/news/4.html"), DAY3), *items]), content_type="application/rss+xml")
    room.hits.clear()
    third = crawl([source], state)
    assert third.documents["uri"].to_list() == [room.url("/news/4.html")]
    assert [(h.path, h.status) for h in room.hits] == [("/robots.txt", 200), ("/feed.xml", 200), ("/news/4.html", 200)]
    assert health(third)["desk"]["articles"] == 1


def test_updated_entry_is_fetched_conditionally(room):
    room.article("/a.html", "A")
    atom = """<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:f</id>
      <updated>{u}</updated><entry><title>A</title><id>urn:a</id><link href="/a.html"/>
      <published>2025-06-10T08:00:00Z</published><updated>{u}</updated></entry></feed>"""
    source = feed(kind="atom", url=room.put("/atom.xml", atom.format(u="2025-06-10T08:00:00Z")))
    first = crawl([source], respect_robots=False)
    state = merge(pl.DataFrame(schema=FETCH_STATE), first)

    room.put("/atom.xml", atom.format(u="2025-06-12T06:30:00Z"))  # the story was touched after our fetch
    room.hits.clear()
    second = crawl([source], state, now=NOW + timedelta(hours=1), respect_robots=False)
    assert [(h.path, h.status) for h in room.hits] == [("/atom.xml", 200), ("/a.html", 304)]
    assert "if-none-match" in room.hits[1].headers
    assert second.documents.is_empty()
    assert second.fetch_state.filter(pl.col("url") == room.url("/a.html"))["status"].to_list() == ["unchanged"]

    room.article("/a.html", "A", "A corrected version of the story, with a new paragraph about the budget vote.")
    room.put("/atom.xml", atom.format(u="2025-06-12T08:00:00Z"))
    third = crawl([source], merge(state, second), now=NOW + timedelta(hours=3), respect_robots=False)
    assert third.documents["uri"].to_list() == [room.url("/a.html")]


def test_json_feed_source(room):
    room.article("/de/1", "Eins")
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "t",
            "items": [{"id": "1", "url": "/de/1", "date_published": "2025-06-10T10:00:00Z"}],
        }
    )
    source = feed(kind="jsonfeed", url=room.put("/feed.json", body, content_type="application/feed+json"))
    result = crawl([source], respect_robots=False)
    assert result.documents["uri"].to_list() == [room.url("/de/1")]


def test_sitemap_index_children_are_skipped_when_their_lastmod_has_not_moved(room):
    for n in (1, 2, 3):
        room.article(f"/s/{n}", f"S{n}")
    news = f"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
      xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
      <url><loc>{room.url("/s/1")}</loc><news:news><news:publication_date>2025-06-11T09:00:00Z</news:publication_date>
      </news:news></url></urlset>"""
    older = f"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc>{room.url("/s/2")}</loc><lastmod>2025-05-20</lastmod></url>
      <url><loc>/s/3</loc><lastmod>2025-05-21</lastmod></url></urlset>"""
    room.put("/news.xml", news, content_type="application/xml")
    room.put("/2025-05.xml.gz", gzip.compress(older.encode()), content_type="application/gzip")
    index = """<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>/news.xml</loc><lastmod>{news}</lastmod></sitemap>
      <sitemap><loc>/2025-05.xml.gz</loc><lastmod>2025-05-31T00:00:00Z</lastmod></sitemap></sitemapindex>"""
    source = feed(kind="sitemap", url=room.put("/sitemap.xml", index.format(news="2025-06-11T09:00:00Z")))

    first = crawl([source], respect_robots=False)
    assert sorted(first.documents["uri"]) == [room.url(f"/s/{n}") for n in (1, 2, 3)]
    state = merge(pl.DataFrame(schema=FETCH_STATE), first)

    room.article("/s/4", "S4")
    room.put("/news.xml", news.replace("</urlset>", f"<url><loc>{room.url('/s/4')}</loc></url></urlset>"))
    room.put("/sitemap.xml", index.format(news="2025-06-12T07:00:00Z"))
    room.hits.clear()
    second = crawl([source], state, now=NOW + timedelta(hours=2), respect_robots=False)
    assert [(h.path, h.status) for h in room.hits] == [("/sitemap.xml", 200), ("/news.xml", 200), ("/s/4", 200)]
    assert second.documents["uri"].to_list() == [room.url("/s/4")]


def test_redirects_land_on_the_final_url(room):
    room.article("/story", "Moved")
    room.put("/go/1", status=301, location="/story")
    source = feed(url=room.put("/feed.xml", rss([(room.url("/go/1"), DAY1)])))
    result = crawl([source], respect_robots=False)
    assert result.documents["uri"].to_list() == [room.url("/story")]
    assert set(result.fetch_state.filter(pl.col("role") == "article")["url"]) == {room.url("/go/1"), room.url("/story")}


def test_broken_slow_and_missing_articles_are_quarantined_and_retried(room):
    room.article("/ok", "Fine")
    room.put("/broken", "<html>half", broken=True)
    room.put("/slow", "<html>late</html>", delay_s=1.0)
    room.put("/error", status=500)
    paths = ["/ok", "/broken", "/slow", "/error", "/gone"]
    source = feed(url=room.put("/feed.xml", rss([(room.url(p), DAY1) for p in paths])))
    first = crawl([source], respect_robots=False, timeout=0.2)
    assert first.documents["uri"].to_list() == [room.url("/ok")]
    reasons = dict(zip(first.quarantine["uri"], first.quarantine["reason"], strict=True))
    assert reasons == {
        room.url("/broken"): "connection_error",
        room.url("/slow"): "timeout",
        room.url("/error"): "http_500",
        room.url("/gone"): "http_404",
    }
    status = health(first)["desk"]
    assert status["ok"] and status["error"].startswith("4 of 5 article fetches failed")

    state = merge(pl.DataFrame(schema=FETCH_STATE), first)
    room.article("/gone", "Back")
    room.hits.clear()
    second = crawl([source], state, respect_robots=False, timeout=0.2)  # feed unchanged: 304, failures retried
    assert room.hits[0].status == 304
    assert set(room.paths()[1:]) == {"/broken", "/slow", "/error", "/gone"}
    assert second.documents["uri"].to_list() == [room.url("/gone")]
    failures = dict(zip(second.fetch_state["url"], second.fetch_state["failures"], strict=True))
    assert failures[room.url("/error")] == 2 and failures[room.url("/gone")] == 0

    state = merge(state, second)
    for _ in range(MAX_FAILURES - 2):
        state = merge(state, crawl([source], state, respect_robots=False, timeout=0.2))
    room.hits.clear()
    crawl([source], state, respect_robots=False)
    assert room.paths() == ["/feed.xml"]  # given up after MAX_FAILURES runs


def test_a_failing_source_does_not_cost_the_others(room):
    room.article("/a", "A")
    good = feed("good", room.put("/feed.xml", rss([(room.url("/a"), DAY1)])))
    missing = feed("missing", room.url("/nope.xml"))
    garbage = feed("garbage", room.put("/garbage.xml", "<html><body>not a feed</body></html>"))
    result = crawl([good, missing, garbage], respect_robots=False)
    assert result.documents["source"].to_list() == ["good"]
    status = health(result)
    assert status["good"]["ok"] and not status["missing"]["ok"] and not status["garbage"]["ok"]
    assert status["missing"]["error"].startswith("http_404") and status["garbage"]["error"].startswith("invalid_feed")
    assert set(result.quarantine["reason"]) == {"http_404", "invalid_feed"}

    state = merge(pl.DataFrame(schema=FETCH_STATE), result)
    room.hits.clear()
    again = crawl([garbage], state, respect_robots=False)
    assert room.hits[0].status == 200 and not health(again)["garbage"]["ok"]  # no 304 for a listing that failed


def test_robots_txt_is_honoured_unless_switched_off(room):
    room.put("/robots.txt", "User-agent: *\nDisallow: /premium/\n", content_type="text/plain")
    room.article("/free", "Free")
    room.article("/premium/x", "Paid")
    source = feed(url=room.put("/feed.xml", rss([(room.url("/free"), DAY1), (room.url("/premium/x"), DAY1)])))
    polite = crawl([source])
    assert polite.documents["uri"].to_list() == [room.url("/free")]
    assert polite.quarantine["reason"].to_list() == ["robots_disallowed"]
    assert "/premium/x" not in room.paths()
    assert crawl([source], respect_robots=False).documents.height == 2


def test_options_limit_what_is_fetched(room):
    dates = ["Mon, 09 Jun 2025 08:00:00 GMT", DAY1, DAY2, "Mon, 02 Jun 2025 08:00:00 GMT"]
    paths = ["/politics/1", "/politics/2", "/politics/3", "/sport/1"]
    for path in paths:
        room.article(path, path)
    url = room.put("/feed.xml", rss([(room.url(p), d) for p, d in zip(paths, dates, strict=True)]))
    result = crawl([feed(url=url, max_items=2, url_pattern="/politics/", max_age_days=5)], respect_robots=False)
    assert result.documents["uri"].to_list() == [room.url("/politics/3"), room.url("/politics/2")]


def test_the_same_article_in_two_feeds_is_fetched_once(room):
    room.article("/shared", "Shared")
    one = feed("one", room.put("/one.xml", rss([(room.url("/shared?utm_source=one"), DAY1)])))
    two = feed("two", room.put("/two.xml", rss([(room.url("/shared?utm_source=two"), DAY1)])))
    result = crawl([one, two], respect_robots=False)
    assert result.documents.height == 1 and room.paths().count("/shared") == 1


def test_private_hosts_are_refused_by_default(room):
    source = feed(url=room.put("/feed.xml", rss([])))
    result = crawl([source], allow_private_hosts=False)
    assert health(result)["desk"]["error"].startswith("private_host") and room.hits == []


def test_url_list_sources_local_and_remote(room, tmp_path):
    room.article("/x", "X")
    room.article("/y", "Y")
    local = tmp_path / "urls.txt"
    local.write_text(f"# picked by the desk\n{room.url('/x')}\nnot a url\n", encoding="utf-8")
    remote = room.put("/urls.txt", "/y\n", content_type="text/plain")
    result = crawl([feed("local", str(local), kind="urls"), feed("remote", remote, kind="urls")], respect_robots=False)
    assert sorted(result.documents["uri"]) == [room.url("/x"), room.url("/y")]
    assert result.quarantine.select("source", "reason").rows() == [("local", "invalid_url")]


def test_folder_source_yields_only_new_or_changed_files(tmp_path):
    (tmp_path / "a.txt").write_text("Titolo\nUno.", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Titolo\nDue.", encoding="utf-8")
    source = feed("archive", str(tmp_path), kind="folder")
    first = crawl([source])
    assert first.documents.height == 2 and set(first.documents["source"]) == {"archive"}
    state = merge(pl.DataFrame(schema=FETCH_STATE), first)
    assert crawl([source], state).documents.is_empty()
    (tmp_path / "b.txt").write_text("Titolo\nDue, corretto.", encoding="utf-8")
    (tmp_path / "c.txt").write_text("Titolo\nTre.", encoding="utf-8")
    assert sorted(crawl([source], state).documents["uri"]) == [str(tmp_path / "b.txt"), str(tmp_path / "c.txt")]
    missing = crawl([feed("gone", str(tmp_path / "nope"), kind="folder")])
    assert not health(missing)["gone"]["ok"]


def test_disabled_sources_are_not_crawled(room):
    source = Source(id="off", kind="rss", url=room.url("/feed.xml"), enabled=False)
    assert crawl([source]).health.is_empty() and room.hits == []


def test_an_unexpected_error_on_one_article_is_quarantined(room, monkeypatch):
    room.article("/a", "A")
    room.article("/b", "B")
    real = crawl_module.documents_from_download

    def fragile(source, uri, got, *, now=None):
        if uri.endswith("/b"):
            raise RuntimeError("boom")
        return real(source, uri, got, now=now)

    monkeypatch.setattr(crawl_module, "documents_from_download", fragile)
    source = feed(url=room.put("/feed.xml", rss([(room.url("/a"), DAY1), (room.url("/b"), DAY1)])))
    result = crawl([source], respect_robots=False)
    assert result.documents["uri"].to_list() == [room.url("/a")]
    assert result.quarantine.select("uri", "reason", "detail").rows() == [
        (room.url("/b"), "fetch_failed", "RuntimeError: boom")
    ]
    failed = result.fetch_state.filter(pl.col("status") == "failed")
    assert failed["url"].to_list() == [room.url("/b")] and failed["failures"].to_list() == [1]


def test_a_sitemap_index_that_names_itself_or_fans_out_cannot_multiply_requests(room):
    room.article("/s/1", "S1")
    page = f"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{room.url("/s/1")}</loc></url>
      </urlset>"""
    room.put("/page.xml", page, content_type="application/xml")
    children = "".join(f"<sitemap><loc>/part-{n}.xml</loc></sitemap>" for n in range(30))
    index = f"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      {"<sitemap><loc>/sitemap.xml</loc></sitemap>" * 50}<sitemap><loc>/page.xml</loc></sitemap>{children}
      </sitemapindex>"""
    for n in range(30):  # each part is an index of the whole site again
        room.put(f"/part-{n}.xml", index, content_type="application/xml")
    source = feed(kind="sitemap", url=room.put("/sitemap.xml", index, content_type="application/xml"), max_sitemaps=10)
    result = crawl([source], respect_robots=False)
    listing_hits = [h.path for h in room.hits if h.path.endswith(".xml")]
    assert len(listing_hits) == len(set(listing_hits)) <= 11  # the index itself and at most max_sitemaps more
    assert result.documents["uri"].to_list() == [room.url("/s/1")]
    assert result.quarantine["reason"].to_list().count("too_many_listings") == 1
    assert result.quarantine.height < 10


def test_a_spent_fetch_budget_leaves_the_rest_for_the_next_run(room):
    import time

    for n in (1, 2, 3):
        room.article(f"/b/{n}.html", f"Story {n}")
    room.put("/robots.txt", "User-agent: *\nCrawl-delay: 2\n", content_type="text/plain")
    source = feed(url=room.put("/feed.xml", rss([(room.url(f"/b/{n}.html"), DAY1) for n in (1, 2, 3)])))
    started = time.monotonic()
    first = crawl([source], budget_s=3.0)  # robots.txt at 0 s, the feed at 2 s, the first article would be at 4 s
    assert time.monotonic() - started < 3.5
    assert first.documents.is_empty() and first.quarantine.is_empty()
    assert first.fetch_state["role"].to_list() == ["listing"]  # the articles are not marked tried
    assert "3 requests left for the next run" in health(first)["desk"]["error"] and health(first)["desk"]["ok"]
    second = crawl([source], merge(pl.DataFrame(schema=FETCH_STATE), first), respect_robots=False)
    assert sorted(second.documents["uri"]) == [room.url(f"/b/{n}.html") for n in (1, 2, 3)]
