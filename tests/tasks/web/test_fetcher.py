import threading
import time

import httpx
import pytest

from stancewire.config import USER_AGENT
from tasks.web import download as dl
from tasks.web.download import DownloadError
from tasks.web.fetcher import PoliteFetcher
from tests.tasks.newsroom import serve


@pytest.fixture
def room():
    with serve() as room:
        yield room


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(dl, "BACKOFF_BASE_S", 0.01)


def fetcher(**kwargs) -> PoliteFetcher:
    kwargs.setdefault("host_delay_s", 0.0)
    kwargs.setdefault("allow_private_hosts", True)
    return PoliteFetcher(**kwargs)


def test_user_agent_and_robots_read_once_per_host(room):
    room.put("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    room.put("/a", "a")
    room.put("/private/b", "b")
    with fetcher() as f:
        assert f.get(room.url("/a")).body == b"a"
        assert f.get(room.url("/a")).status == 200  # no validators sent: not a conditional GET
        with pytest.raises(DownloadError) as err:
            f.get(room.url("/private/b"))
    assert err.value.reason == "robots_disallowed"
    assert room.paths() == ["/robots.txt", "/a", "/a"]
    assert {h.headers["user-agent"] for h in room.hits} == {USER_AGENT}


def test_robots_group_for_stancewire_and_switch_off(room):
    room.put(
        "/robots.txt", "User-agent: stancewire\nDisallow: /\n\nUser-agent: *\nAllow: /\n", content_type="text/plain"
    )
    room.put("/a", "a")
    with fetcher() as f, pytest.raises(DownloadError):
        f.get(room.url("/a"))
    with fetcher(respect_robots=False) as f:
        assert f.get(room.url("/a")).body == b"a"
    assert "/robots.txt" not in room.paths()[1:]


def test_missing_robots_allows_and_unreachable_robots_disallows(room):
    room.put("/a", "a")
    with fetcher() as f:
        assert f.get(room.url("/a")).body == b"a"  # robots.txt is a 404
    room.put("/robots.txt", status=500)
    with fetcher() as f, pytest.raises(DownloadError) as err:
        f.get(room.url("/a"))
    assert err.value.reason == "robots_disallowed" and "http_500" in err.value.detail


def test_conditional_get_by_etag_and_by_last_modified(room):
    room.put("/feed", "<rss/>")
    room.put("/page", "page", etag=False, last_modified="Tue, 10 Jun 2025 08:00:00 GMT")
    with fetcher(respect_robots=False) as f:
        first = f.get(room.url("/feed"))
        assert first.status == 200 and first.etag
        again = f.get(room.url("/feed"), etag=first.etag)
        assert (again.status, again.body, again.etag) == (304, b"", first.etag)
        page = f.get(room.url("/page"))
        assert page.last_modified == "Tue, 10 Jun 2025 08:00:00 GMT" and page.etag is None
        assert f.get(room.url("/page"), last_modified=page.last_modified).status == 304
        room.put("/feed", "<rss>changed</rss>")
        assert f.get(room.url("/feed"), etag=first.etag).body == b"<rss>changed</rss>"
    assert room.hits[1].headers["if-none-match"] == first.etag
    assert room.hits[3].headers["if-modified-since"] == page.last_modified


class Clocked(httpx.HTTPTransport):
    """Notes when each request leaves: spacing is measured where the fetcher controls it, not at a busy server."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[float] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(time.monotonic())
        return super().handle_request(request)


def test_requests_to_one_host_are_spaced(room):
    room.put("/a", "a")
    clock = Clocked()
    with fetcher(respect_robots=False, host_delay_s=0.15, host_concurrency=4, transport=clock) as f:
        threads = [threading.Thread(target=f.get, args=(room.url("/a"),)) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(clock.sent) == 3
    # >= 0.15 s between turns; a loaded machine may still delay one send after its turn by a few milliseconds
    assert all(later - earlier >= 0.12 for earlier, later in zip(clock.sent, clock.sent[1:], strict=False))


@pytest.mark.parametrize("concurrency", [1, 2])
def test_concurrency_per_host_is_capped(room, concurrency):
    room.put("/slow", "s", delay_s=0.3)
    with fetcher(respect_robots=False, host_concurrency=concurrency) as f:
        threads = [threading.Thread(target=f.get, args=(room.url("/slow"),)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(room.hits) == 4 and room.max_in_flight == concurrency


def test_crawl_delay_from_robots_spaces_requests(room):
    room.put("/robots.txt", "User-agent: *\nCrawl-delay: 1\n", content_type="text/plain")
    room.put("/a", "a")
    clock = Clocked()
    with fetcher(transport=clock) as f:
        f.get(room.url("/a"))
    assert room.paths() == ["/robots.txt", "/a"]
    assert clock.sent[1] - clock.sent[0] >= 0.95


def test_slow_and_broken_responses_fail_cleanly(room):
    room.put("/slow", "s", delay_s=1.0)
    room.put("/broken", "half a page", broken=True)
    with fetcher(respect_robots=False, timeout=0.2) as f:
        with pytest.raises(DownloadError) as slow:
            f.get(room.url("/slow"))
        with pytest.raises(DownloadError) as broken:
            f.get(room.url("/broken"))
    assert slow.value.reason == "timeout"
    assert broken.value.reason == "connection_error"
    assert room.paths().count("/broken") == dl.MAX_ATTEMPTS
    assert f.stats.requests == 2 * dl.MAX_ATTEMPTS  # attempts without a response count too


def test_private_hosts_need_permission(room):
    room.put("/a", "a")
    with PoliteFetcher(host_delay_s=0) as f, pytest.raises(DownloadError) as err:
        f.get(room.url("/a"))
    assert err.value.reason == "private_host"
    assert room.hits == []


def test_transfer_is_counted(room):
    room.put("/a", "x" * 1000)
    with fetcher(respect_robots=False) as f:
        got = f.get(room.url("/a"))
        f.get(room.url("/a"), etag=got.etag)
    assert f.stats.requests == 2 and dict(f.stats.statuses) == {200: 1, 304: 1}
    assert 1000 < f.stats.bytes_received < 1600
