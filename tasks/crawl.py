"""Fetch stage for registered sources: read each listing (feed, sitemap, URL list, folder), then fetch only the
article URLs that are new, changed according to the listing, or failed before — politely and concurrently."""

import re
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from stancewire.frames import DOCUMENTS, FETCH_STATE, QUARANTINE, SOURCE_HEALTH, conform
from stancewire.ids import sha256_hex
from stancewire.results import CrawlResult, FetchResult
from stancewire.urls import redact_url
from tasks.fetch import documents_from_download, fetch_sources
from tasks.inputs.sources import FEED_KINDS, Source
from tasks.web.download import Download, DownloadError
from tasks.web.fetcher import BudgetSpent, PoliteFetcher
from tasks.web.listings import DiscoveryError, Entry, Listing, canonical_url, parse_feed, parse_sitemap, parse_url_list

MAX_FAILURES = 3  # an article URL that failed this many runs in a row is not tried again until a listing changes it
MAX_SITEMAP_DEPTH = 2  # an index of indexes of urlsets
DEFERRED = "deferred"


class _Known:
    """Fetch state by URL. Only listings and failed URLs are held from the start; the rows of discovered URLs are
    looked up in the frame once discovery has named them, so a long history does not become millions of dicts."""

    def __init__(self, state: pl.DataFrame) -> None:
        self._frame = state
        self._lock = threading.Lock()
        self._rows = _by_url(state.filter((pl.col("role") == "listing") | (pl.col("status") == "failed")))

    def load(self, urls: list[str]) -> None:
        with self._lock:
            missing = [u for u in set(urls) if u not in self._rows]
        if missing:
            rows = _by_url(self._frame.filter(pl.col("url").is_in(missing)))
            with self._lock:
                self._rows.update(rows)

    def get(self, url: str) -> dict[str, Any] | None:
        return self._rows.get(url)

    def failed_articles(self) -> list[dict[str, Any]]:
        return [r for r in self._rows.values() if r["role"] == "article" and r["status"] == "failed"]


def _by_url(frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {row["url"]: row for row in frame.iter_rows(named=True)}


@dataclass
class _Candidate:
    source_id: str
    entry: Entry
    previous: dict[str, Any] | None


@dataclass
class _SourceRun:
    source: Source
    entries: list[Entry] = field(default_factory=list)
    states: list[dict[str, Any]] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    documents: list[pl.DataFrame] = field(default_factory=list)
    error: str | None = None
    attempted: int = 0
    failed: list[str] = field(default_factory=list)  # reasons
    listings: set[str] = field(default_factory=set)  # listing URLs requested this run
    capped: bool = False  # more listings were named than a run reads
    too_deep: bool = False  # an index nested deeper than MAX_SITEMAP_DEPTH
    deferred: int = 0  # requests left for the next run: the fetch time budget was spent

    def fail(self, uri: str, reason: str, detail: str) -> None:
        self.error = self.error or f"{reason}: {detail}"
        self.quarantine.append(_quarantine_row(self.source.source_id, uri, reason, detail))


def crawl_sources(
    sources: list[Source],
    state: pl.DataFrame,
    fetcher: PoliteFetcher,
    *,
    allow_files: bool = True,
    max_workers: int = 8,
    now: datetime | None = None,
) -> CrawlResult:
    """Discover and fetch the enabled `sources`; `state` (frames.FETCH_STATE) is what earlier runs recorded.

    Never raises for a broken source: its failure lands in quarantine and in its health row.
    """
    now = now or datetime.now(UTC)
    known = _Known(conform(state, FETCH_STATE))
    enabled = [s for s in sources if s.enabled]
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        runs = list(pool.map(lambda s: _discover(s, known, fetcher, allow_files, now), enabled))
        known.load([e.url for run in runs for e in run.entries])
        candidates = _candidates(runs, known, now)
        by_source = {run.source.source_id: run for run in runs}
        fetched = list(pool.map(lambda c: _fetch_article_safely(c, fetcher, now), candidates))
    for candidate, (result, states, reason) in zip(candidates, fetched, strict=True):
        run = by_source[candidate.source_id]
        if reason == DEFERRED:
            run.deferred += 1
            continue
        run.attempted += 1
        run.documents.append(result.documents)
        run.quarantine.extend(result.quarantine.iter_rows(named=True))
        run.states.extend(states)
        if reason:
            run.failed.append(reason)
    for run in runs:
        if run.deferred:  # forget the listings' validators, or the next run's 304 would hide what was left over
            for state in run.states:
                if state["role"] == "listing":
                    state.update(etag=None, last_modified=None)
    return _result(runs, now)


def _discover(source: Source, known: _Known, fetcher: PoliteFetcher, allow_files: bool, now: datetime) -> _SourceRun:
    run = _SourceRun(source)
    try:
        if source.kind == "folder":
            _read_folder(run, known, allow_files, now)
        elif source.kind == "urls" and not source.url.lower().startswith(("http://", "https://")):
            _read_local_list(run, allow_files)
        else:
            _read_listing(run, source.url, known, fetcher, now, depth=0)
    except Exception as exc:  # one broken source must not cost the others
        run.fail(redact_url(source.url), "discovery_failed", f"{type(exc).__name__}: {exc}")
    return run


def _read_listing(
    run: _SourceRun,
    url: str,
    known: _Known,
    fetcher: PoliteFetcher,
    now: datetime,
    *,
    depth: int,
) -> None:
    """Fetch a feed, sitemap or remote URL list conditionally and add its entries (none when unchanged). A listing
    is read once per run however often indexes name it, and a source reads at most `max_sitemaps` + 1 listings, so
    an index that lists itself or fans out cannot multiply the requests."""
    key = _listing_key(url)
    if key in run.listings:
        return
    if len(run.listings) > run.source.options.max_sitemaps:
        if not run.capped:
            run.capped = True
            run.fail(key, "too_many_listings", f"more than {run.source.options.max_sitemaps} sitemaps in one run")
        return
    run.listings.add(key)
    previous = known.get(key)
    got, state = _conditional_get(fetcher, url, key, run.source.source_id, "listing", previous, now)
    if isinstance(got, BudgetSpent):
        run.deferred += 1
        return
    run.states.append(state)
    if isinstance(got, DownloadError):
        run.fail(key, got.reason, got.detail)
        return
    if got.status == 304:
        return
    try:
        listing = _parse_listing(run, got.body, got.url or url)
    except DiscoveryError as exc:
        # Forget the validators, or the next run would get a 304 for the same broken listing and call it healthy.
        failures = (previous or {}).get("failures", 0) + 1
        state.update(status="failed", failures=failures, last_error=exc.reason, etag=None, last_modified=None)
        run.fail(key, exc.reason, exc.detail)
        return
    run.entries.extend(listing.entries)
    fresh: dict[str, Entry] = {}  # one child per listing, as first named, leaving out the ones read this run
    for child in listing.sitemaps:
        if (key := _listing_key(child.url)) not in run.listings:
            fresh.setdefault(key, child)
    children = sorted(fresh.values(), key=_newest_first)[: run.source.options.max_sitemaps]
    for child in children:
        seen = known.get(_listing_key(child.url))
        unchanged = (
            seen is not None
            and seen["status"] != "failed"
            and child.updated is not None
            and seen["last_fetched_at"] is not None
            and child.updated <= seen["last_fetched_at"]
        )
        if depth + 1 > MAX_SITEMAP_DEPTH:
            if not run.too_deep:  # once per source: the next hundred children say the same
                run.too_deep = True
                run.fail(child.url, "sitemap_too_deep", f"sitemap indexes nest deeper than {MAX_SITEMAP_DEPTH} levels")
        elif not unchanged:
            _read_listing(run, child.url, known, fetcher, now, depth=depth + 1)


def _listing_key(url: str) -> str:
    return redact_url(canonical_url(url) or url)


def _parse_listing(run: _SourceRun, body: bytes, url: str) -> Listing:
    if run.source.kind in FEED_KINDS:
        return parse_feed(body, url)
    if run.source.kind == "sitemap":
        return parse_sitemap(body, url)
    return Listing(entries=_url_list(run, body.decode("utf-8", errors="replace"), url))


def _read_local_list(run: _SourceRun, allow_files: bool) -> None:
    if not allow_files:
        run.fail(run.source.url, "files_not_allowed", "local file sources are disabled for this run")
        return
    try:
        text = Path(run.source.url).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        run.fail(run.source.url, "unreadable", f"{type(exc).__name__}: {exc}")
        return
    run.entries.extend(_url_list(run, text, None))


def _url_list(run: _SourceRun, text: str, base_url: str | None) -> list[Entry]:
    entries, bad = parse_url_list(text, base_url)
    for line in bad:
        run.quarantine.append(_quarantine_row(run.source.source_id, line[:500], "invalid_url", "not an http(s) URL"))
    return entries


def _read_folder(run: _SourceRun, known: _Known, allow_files: bool, now: datetime) -> None:
    """Every file of the folder is read; only files that are new or whose content changed become documents."""
    result = fetch_sources([run.source.url], allow_files=allow_files, now=now)
    docs = result.documents.with_columns(source=pl.lit(run.source.source_id))
    known.load(docs["uri"].to_list())
    fresh = [
        row["doc_id"]
        for row in docs.iter_rows(named=True)
        if (known.get(row["uri"]) or {}).get("content_hash") != row["content_hash"]
    ]
    docs = docs.filter(pl.col("doc_id").is_in(fresh))
    run.documents.append(docs)
    run.quarantine.extend(result.quarantine.with_columns(source=pl.lit(run.source.source_id)).iter_rows(named=True))
    for row in docs.iter_rows(named=True):
        run.states.append(_state(row["uri"], run.source.source_id, "article", now, content_hash=row["content_hash"]))
    run.attempted = docs.height
    bad = result.quarantine.filter(pl.col("reason").is_in(["not_found", "unreadable", "files_not_allowed"]))
    if bad.height:
        run.error = f"{bad['reason'][0]}: {bad['detail'][0]}"


def _candidates(runs: list[_SourceRun], known: _Known, now: datetime) -> list[_Candidate]:
    """Per source, newest first and at most max_items: URLs never fetched, URLs whose listing date moved past the
    last fetch, and URLs that failed fewer than MAX_FAILURES times. A URL two sources list is fetched once."""
    retries: dict[str, list[Entry]] = {}
    for row in known.failed_articles():
        if row["failures"] < MAX_FAILURES:
            retries.setdefault(row["source_id"], []).append(Entry(row["url"], row["published"]))
    taken: set[str] = set()
    chosen: list[_Candidate] = []
    for run in runs:
        options = run.source.options
        pattern = re.compile(options.url_pattern) if options.url_pattern else None
        oldest = now - timedelta(days=options.max_age_days) if options.max_age_days else None
        picked: list[_Candidate] = []
        for entry in sorted(_first_per_url([*run.entries, *retries.get(run.source.source_id, [])]), key=_newest_first):
            if entry.url in taken or (pattern and not pattern.search(entry.url)):
                continue
            if oldest and entry.date and entry.date < oldest:
                continue
            previous = known.get(entry.url)
            if _wanted(entry, previous):
                taken.add(entry.url)
                picked.append(_Candidate(run.source.source_id, entry, previous))
        chosen.extend(picked[: options.max_items])
    return chosen


def _wanted(entry: Entry, previous: dict[str, Any] | None) -> bool:
    if previous is None:
        return True
    if previous["status"] == "failed":
        return previous["failures"] < MAX_FAILURES or (
            entry.date is not None
            and previous["last_fetched_at"] is not None
            and entry.date > previous["last_fetched_at"]
        )
    fetched_at = previous["last_fetched_at"]
    return entry.updated is not None and (fetched_at is None or entry.updated > fetched_at)


def _fetch_article_safely(
    candidate: _Candidate, fetcher: PoliteFetcher, now: datetime
) -> tuple[FetchResult, list[dict[str, Any]], str | None]:
    try:
        return _fetch_article(candidate, fetcher, now)
    except Exception as exc:  # one broken article must not cost the run
        uri, detail = redact_url(candidate.entry.url), f"{type(exc).__name__}: {exc}"
        row = _quarantine_row(candidate.source_id, uri, "fetch_failed", detail)
        failures = (candidate.previous or {}).get("failures", 0) + 1
        state = _state(
            candidate.entry.url,
            candidate.source_id,
            "article",
            now,
            status="failed",
            failures=failures,
            last_error="fetch_failed",
        )
        return FetchResult(_empty(DOCUMENTS), pl.DataFrame([row], schema=QUARANTINE)), [state], "fetch_failed"


def _fetch_article(
    candidate: _Candidate, fetcher: PoliteFetcher, now: datetime
) -> tuple[FetchResult, list[dict[str, Any]], str | None]:
    """(documents or quarantine of the URL, its fetch-state rows, the failure reason if it failed)."""
    entry, previous, source_id = candidate.entry, candidate.previous, candidate.source_id
    uri = redact_url(entry.url)
    got, state = _conditional_get(fetcher, entry.url, entry.url, source_id, "article", previous, now)
    state["published"] = entry.published or entry.updated
    empty = FetchResult(_empty(DOCUMENTS), _empty(QUARANTINE))
    if isinstance(got, BudgetSpent):  # no state row: the next run wants the URL as if never tried
        return empty, [], DEFERRED
    if isinstance(got, DownloadError):
        row = _quarantine_row(source_id, uri, got.reason, got.detail)
        return FetchResult(empty.documents, pl.DataFrame([row], schema=QUARANTINE)), [state], got.reason
    if got.status == 304 or (previous and previous.get("content_hash") == state["content_hash"]):
        return empty, [state], None
    final = canonical_url(got.url) or entry.url
    states = [state] if final == entry.url else [state, {**state, "url": final}]
    return documents_from_download(source_id, redact_url(final), got, now=now), states, None


def _conditional_get(
    fetcher: PoliteFetcher,
    url: str,
    key: str,
    source_id: str,
    role: str,
    previous: dict[str, Any] | None,
    now: datetime,
) -> tuple[Download | DownloadError, dict[str, Any]]:
    """The response (or the error) and the fetch-state row it leads to."""
    previous = previous or {}
    try:
        got = fetcher.get(url, etag=previous.get("etag"), last_modified=previous.get("last_modified"))
    except DownloadError as exc:
        failed = {k: previous.get(k) for k in ("etag", "last_modified", "content_hash")}
        failures = previous.get("failures", 0) + 1
        return exc, _state(
            key, source_id, role, now, status="failed", failures=failures, last_error=exc.reason, **failed
        )
    if got.status == 304:
        kept = {k: previous.get(k) for k in ("etag", "last_modified", "content_hash")}
        kept["etag"] = got.etag or kept["etag"]
        return got, _state(key, source_id, role, now, status="unchanged", **kept)
    return got, _state(
        key, source_id, role, now, etag=got.etag, last_modified=got.last_modified, content_hash=sha256_hex(got.body)
    )


def _state(url: str, source_id: str, role: str, now: datetime, **values: Any) -> dict[str, Any]:
    row = dict.fromkeys(FETCH_STATE)
    row.update(url=url, source_id=source_id, role=role, last_fetched_at=now, status="fetched", failures=0)
    row.update(values)
    return row


def _result(runs: list[_SourceRun], now: datetime) -> CrawlResult:
    documents = [d for run in runs for d in run.documents if d.height]
    health = []
    for run in runs:
        articles = sum(d.height for d in run.documents)
        error = run.error
        all_failed = run.attempted > 0 and len(run.failed) == run.attempted
        if error is None and run.failed:
            error = f"{len(run.failed)} of {run.attempted} article fetches failed (first: {run.failed[0]})"
        if run.deferred:
            note = f"{run.deferred} requests left for the next run: the fetch time budget was spent"
            error = f"{error}; {note}" if error else note
        health.append(
            {
                "source_id": run.source.source_id,
                "checked_at": now,
                "ok": run.error is None and not all_failed,
                "error": error,
                "discovered": len(_first_per_url(run.entries)),
                "articles": articles,
            }
        )
    return CrawlResult(
        documents=conform(pl.concat(documents), DOCUMENTS) if documents else _empty(DOCUMENTS),
        quarantine=conform(pl.DataFrame([q for run in runs for q in run.quarantine], schema=QUARANTINE), QUARANTINE),
        fetch_state=conform(pl.DataFrame([s for run in runs for s in run.states], schema=FETCH_STATE), FETCH_STATE),
        health=conform(pl.DataFrame(health, schema=SOURCE_HEALTH), SOURCE_HEALTH),
    )


def _first_per_url(entries: Iterable[Entry]) -> list[Entry]:
    seen: dict[str, Entry] = {}
    for entry in entries:
        seen.setdefault(entry.url, entry)
    return list(seen.values())


def _newest_first(entry: Entry) -> tuple[bool, float]:
    return entry.date is None, -(entry.date.timestamp() if entry.date else 0.0)


def _quarantine_row(source_id: str, uri: str, reason: str, detail: str) -> dict[str, Any]:
    return {
        "item_id": sha256_hex(uri)[:32],
        "stage": "fetch",
        "source": source_id,
        "uri": uri,
        "reason": reason,
        "detail": detail,
    }


def _empty(schema: dict) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


@task(name="fetch registered sources", cache_policy=NO_CACHE)
def crawl_task(
    sources: list[Source],
    state: pl.DataFrame,
    fetcher: PoliteFetcher,
    *,
    allow_files: bool = True,
    now: datetime | None = None,
) -> CrawlResult:
    result = crawl_sources(sources, state, fetcher, allow_files=allow_files, now=now)
    get_run_logger().info(
        "registered sources: %d checked, %d failing, %d new or changed documents, %d requests, %d bytes",
        result.health.height,
        int((~result.health["ok"]).sum()),
        result.documents.height,
        fetcher.stats.requests,
        fetcher.stats.bytes_received,
    )
    return result
