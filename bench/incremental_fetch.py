"""Incremental fetching of registered feeds: requests and bytes of a first run and of a rerun after k new articles.

Serves N RSS feeds × M articles on loopback (ETag on every response), registers the feeds and runs the fetch stage
for registered sources twice against one store: the first run fetches every feed and article; between the runs k
articles are published (spread over the first feeds); the second run should request every feed (304 for those
that did not change), the k new articles and nothing else.

    python bench/incremental_fetch.py --feeds 20 --articles 50 --new 10
"""

import argparse
import hashlib
import http.server
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flows import stages  # noqa: E402
from stancewire.config import FetchOptions  # noqa: E402
from stancewire.store import Store  # noqa: E402
from tasks.inputs.sources import Source, sources_frame  # noqa: E402
from tasks.web.fetcher import PoliteFetcher  # noqa: E402

PARAGRAPH = "The regional council debated the water budget late into the night, and the vote was postponed again. "


class Site:
    def __init__(self, page_bytes: int) -> None:
        self.pages: dict[str, bytes] = {"/robots.txt": b"User-agent: *\nAllow: /\n"}
        self.items: dict[int, list[tuple[str, datetime]]] = {}
        self.page_bytes = page_bytes
        self.clock = datetime(2025, 6, 1, tzinfo=UTC)
        self.base = ""  # known once the server listens

    def publish(self, feed: int, n: int) -> None:
        path = f"/f{feed}/story-{n}.html"
        self.clock += timedelta(minutes=1)
        title = f"Feed {feed}, story {n}"
        body = (PARAGRAPH * (self.page_bytes // len(PARAGRAPH) + 1))[: self.page_bytes]
        self.pages[path] = (
            f"<html><head><title>{title}</title></head><body><h1>{title}</h1><p>{body}</p></body></html>".encode()
        )
        self.items.setdefault(feed, []).insert(0, (path, self.clock))
        items = "".join(
            f"<item><title>{p}</title><link>{self.base}{p}?utm_source=rss</link><pubDate>{format_datetime(d)}</pubDate></item>"
            for p, d in self.items[feed][:100]
        )
        self.pages[f"/feed/{feed}.xml"] = (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {feed}</title>{items}</channel></rss>'
        ).encode()


def serve(site: Site) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            body = site.pages.get(self.path.split("?")[0])
            if body is None:
                self.send_error(404)
                return
            etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", etag)
            self.send_header(
                "Content-Type", "application/rss+xml" if self.path.endswith(".xml") else "text/html; charset=utf-8"
            )
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def run(store: Store, options: FetchOptions, run_id: str) -> dict:
    fetcher = PoliteFetcher(
        host_delay_s=options.host_delay_s, host_concurrency=options.host_concurrency, allow_private_hosts=True
    )
    started = time.perf_counter()
    result = stages.fetch(store, run_id, options, fetcher)
    stats = fetcher.stats
    return {
        "run": run_id,
        "requests": stats.requests,
        "200": stats.statuses.get(200, 0),
        "304": stats.statuses.get(304, 0),
        "bytes": stats.bytes_received,
        "documents": result.rows_out,
        "seconds": round(time.perf_counter() - started, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--articles", type=int, default=50, help="articles per feed before the first run")
    parser.add_argument("--new", type=int, default=10, help="articles published between the two runs")
    parser.add_argument("--page-kb", type=int, default=30, help="size of an article page")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight to the (one) host")
    args = parser.parse_args()

    site = Site(args.page_kb * 1024)
    server = serve(site)
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    for n in range(args.articles):
        for f in range(args.feeds):
            site.publish(f, n)

    sources = [Source(id=f"feed-{f}", kind="rss", url=f"{site.base}/feed/{f}.xml") for f in range(args.feeds)]
    params = FetchOptions(sources=[], host_delay_s=0, host_concurrency=args.concurrency, allow_private_hosts=True)
    with tempfile.TemporaryDirectory() as tmp, Store.open_run(Path(tmp) / "bench.duckdb") as store:
        store.write_sources(sources_frame(sources))
        rows = [run(store, params, "first")]
        for n in range(args.new):
            site.publish(n % args.feeds, args.articles + n)
        rows.append(run(store, params, "second"))
        rows.append(run(store, params, "third (nothing new)"))
    server.shutdown()

    touched = min(args.new, args.feeds)
    print(
        f"{args.feeds} feeds x {args.articles} articles ({args.page_kb} KB pages), {args.new} new articles "
        f"in {touched} feeds between the first and second run; one host, {args.concurrency} requests in flight\n"
    )
    columns = ["run", "requests", "200", "304", "bytes", "documents", "seconds"]
    print(" | ".join(columns))
    print(" | ".join("---" for _ in columns))
    for row in rows:
        print(" | ".join(f"{row[c]:,}" if isinstance(row[c], int) else str(row[c]) for c in columns))
    first, second = rows[0], rows[1]
    print(
        f"\nsecond/first: requests {second['requests'] / first['requests']:.3f}, "
        f"bytes {second['bytes'] / first['bytes']:.4f}"
    )
    expected = 1 + args.feeds + args.new  # robots.txt, every feed (304 if untouched), the new articles
    print(
        f"second run expected {expected} requests ({args.feeds - touched} feeds answering 304): "
        f"{'ok' if second['requests'] == expected and second['304'] == args.feeds - touched else 'MISMATCH'}"
    )


if __name__ == "__main__":
    main()
