"""Polite HTTP for crawling outlets: a clear User-Agent, robots.txt, per-host concurrency and request spacing,
conditional GETs, and a count of the requests made and bytes received."""

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from stancewire.config import USER_AGENT
from stancewire.urls import MissingSecret, expand, redact_url
from tasks.web.download import Download, DownloadError, capped_transport, check_url, download, hide_in_logs

ROBOTS_TOKEN = "stancewire"  # the product token robots.txt groups are matched against
MAX_ROBOTS_BYTES = 500 * 1024  # what RFC 9309 asks crawlers to read at least
MAX_CRAWL_DELAY_S = 60.0  # a larger Crawl-delay would stall a nightly run: the host is spaced at this instead
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
MAX_DOCUMENT_BYTES = 20_000_000


@dataclass
class TransferStats:
    """Every HTTP request this fetcher sent (robots.txt, redirects and retries included) and what came back."""

    requests: int = 0  # sent, whether or not a response came back
    bytes_received: int = 0  # response status lines, headers and bodies as sent on the wire (compressed or not)
    statuses: Counter = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, *, request: bool = False, status: int | None = None, nbytes: int = 0) -> None:
        with self._lock:
            self.requests += request
            if status is not None:
                self.statuses[status] += 1
            self.bytes_received += nbytes


class _CountingStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, stats: TransferStats) -> None:
        self._inner = inner
        self._stats = stats

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._stats.add(nbytes=len(chunk))
            yield chunk

    def close(self) -> None:
        self._inner.close()


class _CountingTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, stats: TransferStats) -> None:
        self._inner = inner
        self._stats = stats

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._stats.add(request=True)
        response = self._inner.handle_request(request)
        head = 15 + len(response.reason_phrase) + sum(len(k) + len(v) + 4 for k, v in response.headers.raw)
        self._stats.add(status=response.status_code, nbytes=head)
        response.stream = _CountingStream(response.stream, self._stats)  # type: ignore[arg-type]
        return response

    def close(self) -> None:
        self._inner.close()


class _Host:
    """Request spacing and a concurrency cap for one scheme://host:port."""

    def __init__(self, delay_s: float, concurrency: int) -> None:
        self.delay_s = delay_s
        self.slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._last_start = float("-inf")
        self.robots: RobotFileParser | None = None
        self.robots_error: str | None = None
        self.robots_lock = threading.Lock()

    def wait_turn(self, deadline: float) -> None:
        """Sleeps holding the lock: the host's requests start one at a time, delay_s apart (delay_s may grow once
        robots.txt is read). Raises BudgetSpent instead of a turn that would start after `deadline`."""
        with self._lock:
            wait = self._last_start + self.delay_s - time.monotonic()
            if time.monotonic() + max(wait, 0) > deadline:
                raise BudgetSpent()
            if wait > 0:
                time.sleep(wait)
            self._last_start = time.monotonic()


class BudgetSpent(DownloadError):
    """The run's fetch time budget is spent: the URL is left for the next run, neither fetched nor failed."""

    def __init__(self) -> None:
        super().__init__("fetch_budget_spent", "the run's fetch time budget is spent: left for the next run")


class PoliteFetcher:
    """Thread-safe: share one across the worker threads of a run."""

    def __init__(
        self,
        *,
        user_agent: str = USER_AGENT,
        host_delay_s: float = 1.0,
        host_concurrency: int = 2,
        respect_robots: bool = True,
        allow_private_hosts: bool = False,
        max_bytes: int = MAX_DOCUMENT_BYTES,
        budget_s: float = float("inf"),
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if host_concurrency < 1 or host_delay_s < 0:
            raise ValueError("host_concurrency must be >= 1 and host_delay_s >= 0")
        self.user_agent = user_agent
        self.host_delay_s = host_delay_s
        self.host_concurrency = host_concurrency
        self.respect_robots = respect_robots
        self.allow_private_hosts = allow_private_hosts
        self.max_bytes = max_bytes
        self._deadline = time.monotonic() + budget_s  # no request starts after it (BudgetSpent)
        self.stats = TransferStats()
        self._client = httpx.Client(
            transport=_CountingTransport(transport or capped_transport(), self.stats),
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": user_agent},
        )
        self._hosts: dict[str, _Host] = {}
        self._hosts_lock = threading.Lock()

    def __enter__(self) -> "PoliteFetcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Download:
        """GET `url` in its host's turn; with validators, a conditional GET (status 304 and an empty body when
        unchanged). Raises DownloadError, with reason "robots_disallowed" when robots.txt forbids the URL.

        Credentials the URL names as `${VARIABLE}` (tasks.web.secrets) are filled in here and nowhere else."""
        try:
            url, values = expand(url)
        except MissingSecret as exc:
            raise DownloadError("missing_secret", str(exc)) from None
        hide_in_logs(values)
        try:
            return self._get(url, etag, last_modified)
        except DownloadError as exc:
            for value in values:
                exc.detail = exc.detail.replace(value, "***")
            raise

    def _get(self, url: str, etag: str | None, last_modified: str | None) -> Download:
        check_url(url, allow_private_hosts=self.allow_private_hosts)  # before robots.txt is asked for
        origin = _origin(url)
        host = self._host(origin)
        if self.respect_robots:
            self._check_robots(host, origin, url)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return self._fetch(host, url, self.max_bytes, headers)

    def _fetch(self, host: _Host, url: str, max_bytes: int, headers: dict[str, str]) -> Download:
        with host.slots:
            host.wait_turn(self._deadline)
            return download(
                self._client, url, max_bytes=max_bytes, allow_private_hosts=self.allow_private_hosts, headers=headers
            )

    def _host(self, origin: str) -> _Host:
        with self._hosts_lock:
            if origin not in self._hosts:
                self._hosts[origin] = _Host(self.host_delay_s, self.host_concurrency)
            return self._hosts[origin]

    def _check_robots(self, host: _Host, origin: str, url: str) -> None:
        with host.robots_lock:
            if host.robots is None:
                host.robots, host.robots_error = self._read_robots(host, origin)
                delay = host.robots.crawl_delay(ROBOTS_TOKEN)
                if delay:
                    host.delay_s = max(host.delay_s, min(float(delay), MAX_CRAWL_DELAY_S))
        if not host.robots.can_fetch(ROBOTS_TOKEN, url):
            why = f"robots.txt could not be read ({host.robots_error})" if host.robots_error else "robots.txt"
            raise DownloadError("robots_disallowed", f"{why} disallows {redact_url(url)} for {ROBOTS_TOKEN}")

    def _read_robots(self, host: _Host, origin: str) -> tuple[RobotFileParser, str | None]:
        """RFC 9309: a 4xx robots.txt allows everything; an unreachable one (5xx, network) disallows everything."""
        robots = RobotFileParser(f"{origin}/robots.txt")
        try:
            got = self._fetch(host, f"{origin}/robots.txt", MAX_ROBOTS_BYTES, {})
        except DownloadError as exc:
            if exc.reason.startswith("http_4"):
                robots.allow_all = True
                return robots, None
            robots.disallow_all = True
            return robots, exc.reason
        robots.parse(got.body.decode("utf-8", errors="replace").splitlines())
        return robots, None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"
