"""A newsroom on loopback for crawl tests: pages with ETag/Last-Modified validators, redirects, slow and broken
responses, and a log of every request it received."""

import hashlib
import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Page:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    location: str | None = None  # for 3xx
    etag: bool = True
    last_modified: str | None = None
    delay_s: float = 0.0
    broken: bool = False  # promises more bytes than it sends, then hangs up


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    status: int
    started: float
    finished: float = 0.0


@dataclass
class Newsroom:
    base: str = ""
    pages: dict[str, Page] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, path: str, body: str | bytes = b"", **kwargs) -> str:
        self.pages[path] = Page(body.encode() if isinstance(body, str) else body, **kwargs)
        return self.url(path)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def paths(self) -> list[str]:
        return [h.path for h in self.hits]

    def article(self, path: str, title: str, text: str = "") -> str:
        body = text or f"{title}. " + "The regional council met on Tuesday and discussed the budget at length. " * 6
        return self.put(
            path,
            f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"<p>{body}</p></article></body></html>",
        )


class _Handler(http.server.BaseHTTPRequestHandler):
    room: Newsroom

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        room = self.room
        hit = Hit(self.path, {k.lower(): v for k, v in self.headers.items()}, 0, time.monotonic())
        with room.lock:
            room.hits.append(hit)
            room.in_flight += 1
            room.max_in_flight = max(room.max_in_flight, room.in_flight)
        try:
            hit.status = self._respond(room.pages.get(self.path))
        except (BrokenPipeError, ConnectionResetError):  # the client gave up on a slow response
            hit.status = -1
        finally:
            hit.finished = time.monotonic()
            with room.lock:
                room.in_flight -= 1

    def _respond(self, page: Page | None) -> int:
        if page is None:
            self.send_error(404)
            return 404
        if page.delay_s:
            time.sleep(page.delay_s)
        etag = f'"{hashlib.sha256(page.body).hexdigest()[:16]}"' if page.etag else None
        unchanged = (etag and self.headers.get("If-None-Match") == etag) or (
            page.last_modified and self.headers.get("If-Modified-Since") == page.last_modified
        )
        status = 304 if unchanged and page.status == 200 else page.status
        self.send_response(status)
        if etag:
            self.send_header("ETag", etag)
        if page.last_modified:
            self.send_header("Last-Modified", page.last_modified)
        if page.location:
            self.send_header("Location", page.location)
        if status == 304:
            self.end_headers()
            return status
        self.send_header("Content-Type", page.content_type)
        self.send_header("Content-Length", str(len(page.body) + (1000 if page.broken else 0)))
        self.end_headers()
        self.wfile.write(page.body)
        if page.broken:
            self.wfile.flush()
            self.close_connection = True
        return status


@contextmanager
def serve() -> Iterator[Newsroom]:
    room = Newsroom()
    handler = type("Handler", (_Handler,), {"room": room})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    room.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield room
    finally:
        server.shutdown()
        server.server_close()


def rss(items: list[tuple[str, str]], *, language: str = "en") -> str:
    """RSS 2.0 with (link, pubDate) items."""
    entries = "".join(
        f"<item><title>{link}</title><link>{link}</link><pubDate>{date}</pubDate></item>" for link, date in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>/</link><language>{language}</language>{entries}</channel></rss>'
