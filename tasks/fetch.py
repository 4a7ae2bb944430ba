"""Fetch stage: files, directories and http(s) URLs → raw documents; anything unusable → quarantine rows."""

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from stancewire.frames import DOCUMENTS, QUARANTINE, conform
from stancewire.ids import sha256_hex
from stancewire.results import FetchResult
from stancewire.urls import redact_url, scrub_urls
from tasks.web.download import Download, DownloadError
from tasks.web.fetcher import MAX_DOCUMENT_BYTES, PoliteFetcher

HTML, PLAIN, JSON = "text/html", "text/plain", "application/json"
JSON_LINES = "jsonl"  # split into one application/json document per line
_EXTENSIONS = {".txt": PLAIN, ".html": HTML, ".htm": HTML, ".json": JSON, ".jsonl": JSON_LINES}
_MEDIA_TYPES = {
    "text/html": HTML,
    "application/xhtml+xml": HTML,
    "text/plain": PLAIN,
    "application/json": JSON,
    "application/x-ndjson": JSON_LINES,
    "application/jsonl": JSON_LINES,
    "application/jsonlines": JSON_LINES,
}


def document_id(uri: str, content_hash: str) -> str:
    return sha256_hex(f"{uri}\0{content_hash}")[:32]


def fetch_sources(
    sources: Sequence[str],
    fetcher: PoliteFetcher | None = None,
    *,
    allow_files: bool = True,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    now: datetime | None = None,
) -> FetchResult:
    """Read every source; a source that fails yields quarantine rows, never an exception.

    URLs go through `fetcher`, the same polite fetcher (User-Agent, robots.txt, per-host spacing, size and time
    caps) that registered sources use; without one, a default one is made for the URLs. Files larger than
    `max_bytes` are refused. Directories are walked recursively (hidden files and folders skipped); .json files (one
    object or a list) and .jsonl files yield one document per record, with uri `<path>#<n>` (n counts from 0) or the
    record's own url.
    """
    if isinstance(sources, str):
        sources = [sources]
    batch = _Batch(now)
    own: PoliteFetcher | None = None
    try:
        for raw in sources:
            source = str(raw).strip()
            scheme = urlsplit(source).scheme.lower() if "://" in source else ""
            if scheme in ("http", "https") and fetcher is None:
                fetcher = own = PoliteFetcher()
            try:
                _fetch_source(batch, source, scheme, fetcher, allow_files, max_bytes)
            except Exception as exc:  # one broken source must not cost the others
                safe = redact_url(source) if scheme else source
                detail = scrub_urls(f"{type(exc).__name__}: {exc}".replace(source, safe))
                batch.reject(safe, safe, "fetch_failed", detail)
    finally:
        if own is not None:
            own.close()
    return batch.result()


def _fetch_source(
    batch: "_Batch", source: str, scheme: str, fetcher: PoliteFetcher | None, allow_files: bool, max_bytes: int
) -> None:
    if not source:
        batch.reject(source, source, "invalid_source", "empty source")
    elif scheme in ("http", "https"):
        assert fetcher is not None
        _fetch_url(batch, source, fetcher)
    elif scheme not in ("", "file"):
        safe = redact_url(source)
        batch.reject(safe, safe, "unsupported_scheme", f"cannot fetch {scheme!r} sources")
    elif not allow_files:
        batch.reject(source, source, "files_not_allowed", "local file sources are disabled for this run")
    else:
        path = Path(url2pathname(urlsplit(source).path)) if scheme == "file" else Path(source)
        _fetch_path(batch, source, path, max_bytes)


def _fetch_url(batch: "_Batch", url: str, fetcher: PoliteFetcher) -> None:
    source = uri = redact_url(url)
    try:
        got = fetcher.get(url)
    except DownloadError as exc:
        batch.reject(source, uri, exc.reason, exc.detail)
        return
    _add_download(batch, source, uri, got)


def documents_from_download(source: str, uri: str, got: Download, *, now: datetime | None = None) -> FetchResult:
    """The documents of one downloaded payload (typed by media type, else by extension), or its quarantine row."""
    batch = _Batch(now)
    _add_download(batch, source, uri, got)
    return batch.result()


def _add_download(batch: "_Batch", source: str, uri: str, got: Download) -> None:
    kind = _MEDIA_TYPES.get(got.media_type) or _EXTENSIONS.get(Path(urlsplit(uri).path).suffix.lower())
    if kind is None:
        batch.reject(source, uri, "unsupported_content_type", f"cannot read {got.media_type or 'untyped'} content")
        return
    body = got.body
    if got.charset and got.charset not in ("utf-8", "utf8", "us-ascii", "ascii"):
        # Keep the server's charset declaration, which the stored payload would otherwise lose.
        try:
            body = body.decode(got.charset, errors="replace").encode("utf-8")
        except LookupError:
            pass
    batch.add_payload(source, uri, kind, body)


def _fetch_path(batch: "_Batch", source: str, path: Path, max_bytes: int) -> None:
    try:
        if not path.exists():
            batch.reject(source, str(path), "not_found", "no such file or directory")
            return
        folder = path.resolve() if path.is_dir() else None
        if folder:
            files = sorted(p for p in path.rglob("*") if not _is_hidden(p.relative_to(path)) and not p.is_dir())
        else:
            files = [path]
    except OSError as exc:
        batch.reject(source, str(path), "unreadable", f"{type(exc).__name__}: {exc.strerror or exc}")
        return
    if not files:
        batch.reject(source, str(path), "empty_directory", "the directory holds no files")
    for file in files:
        try:
            if folder and not file.resolve().is_relative_to(folder):
                # A link inside a folder may point anywhere (another tree, /proc/self/environ): read only the folder.
                batch.reject(source, str(file), "link_outside_source", "a symbolic link to outside the source folder")
                continue
            _read_file(batch, source, file, max_bytes)
        except Exception as exc:  # one pathological file must not cost the rest of the folder
            batch.reject(source, str(file), "unreadable", f"{type(exc).__name__}: {str(exc)[:200]}")


def _is_hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _read_file(batch: "_Batch", source: str, path: Path, max_bytes: int) -> None:
    uri = str(path.resolve())
    kind = _EXTENSIONS.get(path.suffix.lower())
    if kind is None:
        batch.reject(source, uri, "unsupported_extension", f"cannot read {path.suffix or 'extensionless'} files")
        return
    try:
        if not path.is_file():
            batch.reject(source, uri, "not_a_file", "not a regular file")
            return
        size = path.stat().st_size
        if size > max_bytes:
            batch.reject(source, uri, "too_large", f"{size} bytes exceeds the {max_bytes}-byte limit")
            return
        body = path.read_bytes()
    except OSError as exc:
        batch.reject(source, uri, "unreadable", f"{type(exc).__name__}: {exc.strerror or exc}")
        return
    batch.add_payload(source, uri, kind, body)


def _json_error(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)[:200]


@dataclass
class _Batch:
    now: datetime | None
    documents: list[dict[str, Any]] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    rejected: set[tuple[str, str]] = field(default_factory=set)

    def add_payload(self, source: str, uri: str, kind: str, body: bytes) -> None:
        if kind in (HTML, PLAIN):
            self.add_document(source, uri, kind, body)
            return
        for record_uri, record in self._records(source, uri, kind, body):
            try:
                canonical = json.dumps(
                    record, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
                )
            except (ValueError, RecursionError) as exc:
                self.reject(source, record_uri, "invalid_record", f"not serialisable as JSON: {str(exc)[:200]}")
                continue
            self.add_document(source, record_uri, JSON, canonical.encode("utf-8"))

    def _records(self, source: str, uri: str, kind: str, body: bytes) -> Iterator[tuple[str, dict[str, Any]]]:
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self.reject(source, uri, "invalid_json", f"JSON must be UTF-8: {exc}")
            return
        if kind == JSON:
            try:
                parsed = json.loads(text)
            except (ValueError, RecursionError) as exc:  # also nesting too deep, numbers too long
                self.reject(source, uri, "invalid_json", _json_error(exc))
                return
            entries = list(enumerate(parsed if isinstance(parsed, list) else [parsed]))
        else:
            entries = []
            for n, line in enumerate(text.splitlines()):
                if not line.strip():
                    continue
                try:
                    entries.append((n, json.loads(line)))
                except (ValueError, RecursionError) as exc:
                    self.reject(source, f"{uri}#{n}", "invalid_json", f"line {n + 1}: {_json_error(exc)}")
        if not entries and (kind == JSON or not text.strip()):
            self.reject(source, uri, "no_records", "the file holds no records")
        for n, record in entries:
            if not isinstance(record, dict):
                self.reject(
                    source, f"{uri}#{n}", "invalid_record", f"expected a JSON object, got {type(record).__name__}"
                )
                continue
            url = record.get("url")
            is_web_url = isinstance(url, str) and url.lower().startswith(("http://", "https://"))
            yield (redact_url(url) if is_web_url else f"{uri}#{n}"), record

    def add_document(self, source: str, uri: str, content_type: str, payload: bytes) -> None:
        content_hash = sha256_hex(payload)
        doc_id = document_id(uri, content_hash)
        if doc_id in self.seen:
            return
        self.seen.add(doc_id)
        self.documents.append(
            {
                "doc_id": doc_id,
                "source": source,
                "uri": uri,
                "fetched_at": self.now or datetime.now(UTC),
                "content_type": content_type,
                "content_hash": content_hash,
                "size_bytes": len(payload),
                "payload": payload,
            }
        )

    def reject(self, source: str, uri: str, reason: str, detail: str) -> None:
        item_id = sha256_hex(uri)[:32]
        if (item_id, reason) in self.rejected:
            return
        self.rejected.add((item_id, reason))
        self.quarantine.append(
            {"item_id": item_id, "stage": "fetch", "source": source, "uri": uri, "reason": reason, "detail": detail}
        )

    def result(self) -> FetchResult:
        return FetchResult(
            documents=conform(pl.DataFrame(self.documents, schema=DOCUMENTS), DOCUMENTS),
            quarantine=conform(pl.DataFrame(self.quarantine, schema=QUARANTINE), QUARANTINE),
        )


@task(name="fetch", cache_policy=NO_CACHE)
def fetch_task(
    sources: Sequence[str], fetcher: PoliteFetcher, *, allow_files: bool = True, now: datetime | None = None
) -> FetchResult:
    result = fetch_sources(sources, fetcher, allow_files=allow_files, now=now)
    get_run_logger().info(
        "fetched %d documents from %d sources, %d quarantined",
        result.documents.height,
        len(sources),
        result.quarantine.height,
    )
    return result
