"""Guarded HTTP(S) downloads: scheme and host checks, bounded redirects, retries with backoff, a streamed size cap."""

import ipaddress
import logging
import re
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from stancewire.urls import is_secret_param, redact_url, scrub_urls

MAX_ATTEMPTS = 3
BACKOFF_BASE_S = 0.5
MAX_BACKOFF_S = 30.0
MAX_REDIRECTS = 5
MAX_DOWNLOAD_S = 60.0  # the whole body: the client's timeouts bound each read, not a server dripping bytes
_TRANSIENT_STATUS = frozenset({408, 425, 429}) | frozenset(range(500, 600))


class DownloadError(Exception):
    """A URL that could not be fetched; `reason` is the quarantine reason, `detail` never holds credentials."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass
class Download:
    media_type: str  # lowercased, without parameters; "" when the server sent none
    charset: str | None
    body: bytes
    status: int = 200  # 304 (empty body) when a conditional request found the resource unchanged
    url: str = ""  # after redirects
    etag: str | None = None
    last_modified: str | None = None


def download(
    client: httpx.Client,
    url: str,
    *,
    max_bytes: int,
    allow_private_hosts: bool,
    headers: Mapping[str, str] | None = None,
) -> Download:
    """GET `url`, following at most MAX_REDIRECTS redirects, each hop checked like the first.

    `headers` go with every hop (e.g. If-None-Match / If-Modified-Since for a conditional GET). The whole download,
    hops, retries, response headers and body, gets MAX_DOWNLOAD_S on a transport from `capped_transport`.
    """
    _deadline.at = time.monotonic() + MAX_DOWNLOAD_S
    try:
        for _ in range(MAX_REDIRECTS + 1):
            check_url(url, allow_private_hosts=allow_private_hosts)
            result = _get_with_retries(client, url, max_bytes, headers)
            if isinstance(result, Download):
                result.url = url
                return result
            url = result
        raise DownloadError("too_many_redirects", f"more than {MAX_REDIRECTS} redirects")
    finally:
        _deadline.at = None


_deadline = threading.local()  # when the download in progress on this thread must end


def _left(timeout: float | None) -> float | None:
    """The socket timeout for the next step of this thread's download: what its time cap leaves, at most `timeout`."""
    at = getattr(_deadline, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout(f"the download took longer than {MAX_DOWNLOAD_S:g} s")
    return left if timeout is None else min(timeout, left)


class _CappedStream(httpcore.NetworkStream):
    """A connection whose every read and write waits no longer than the download's time cap allows, so a server
    that drips its response headers byte by byte is cut off like one that drips its body."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:  # noqa: ANN001
        return _CappedStream(self._inner.start_tls(ssl_context, server_hostname, _left(timeout)))

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


class _CappedBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # noqa: ANN001
        return _CappedStream(self._inner.connect_tcp(host, port, _left(timeout), local_address, socket_options))

    def connect_unix_socket(self, path, timeout=None, socket_options=None):  # noqa: ANN001
        return _CappedStream(self._inner.connect_unix_socket(path, _left(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def capped_transport() -> httpx.HTTPTransport:
    """An HTTP transport on which `download` bounds the whole request in time, response headers included (httpx's
    own timeouts bound each read, so a byte every few seconds would hold a request open for ever)."""
    transport = httpx.HTTPTransport()
    pool = transport._pool  # httpx exposes no network backend option; httpcore's pool takes one
    pool._network_backend = _CappedBackend(pool._network_backend)
    return transport


def check_url(url: str, *, allow_private_hosts: bool) -> None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise DownloadError("invalid_url", f"malformed URL: {exc}") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise DownloadError("unsupported_scheme", f"only http and https URLs are fetched, not {parts.scheme!r}")
    if not host:
        raise DownloadError("invalid_url", "URL has no host")
    if not allow_private_hosts and _is_private_host(host):
        raise DownloadError("private_host", f"{host} is a loopback, private or link-local address")


def _is_private_host(host: str) -> bool:
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError):
            return False  # unresolvable: the request itself fails and is reported as such
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    return any(_is_private_address(a) for a in addresses)


def _is_private_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def _get_with_retries(
    client: httpx.Client, url: str, max_bytes: int, headers: Mapping[str, str] | None = None
) -> Download | str:
    """The download, or the absolute URL a redirect points to."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        last = attempt == MAX_ATTEMPTS
        try:
            with client.stream("GET", url, follow_redirects=False, headers=headers) as response:
                if response.has_redirect_location:  # not 304, nor a 3xx without Location
                    return urljoin(url, response.headers["location"])
                if response.status_code in _TRANSIENT_STATUS and not last:
                    time.sleep(_retry_delay(attempt, response.headers.get("retry-after")))
                    continue
                if response.status_code >= 400:
                    raise DownloadError(
                        f"http_{response.status_code}",
                        f"HTTP {response.status_code} {response.reason_phrase} after {attempt} attempt(s)",
                    )
                return _read_body(response, max_bytes)
        except httpx.TransportError as exc:
            reason = "timeout" if isinstance(exc, httpx.TimeoutException) else "connection_error"
            if last or _deadline.at is not None and time.monotonic() >= _deadline.at:
                raise DownloadError(
                    reason, f"{type(exc).__name__} after {attempt} attempt(s): {_scrub(exc, url)}"
                ) from exc
            time.sleep(_retry_delay(attempt, None))
        except httpx.HTTPError as exc:  # not retried: decoding errors, invalid URLs
            raise DownloadError("http_error", f"{type(exc).__name__}: {_scrub(exc, url)}") from exc
    raise AssertionError("unreachable")  # pragma: no cover


def _read_body(response: httpx.Response, max_bytes: int) -> Download:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise DownloadError("too_large", f"Content-Length {declared} exceeds the {max_bytes}-byte limit")
    chunks, size = [], 0
    deadline = time.monotonic() + MAX_DOWNLOAD_S
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise DownloadError("too_large", f"body exceeds the {max_bytes}-byte limit")
        if time.monotonic() > deadline:
            raise DownloadError("timeout", f"body took longer than {MAX_DOWNLOAD_S:g} s")
        chunks.append(chunk)
    media_type, _, params = response.headers.get("content-type", "").partition(";")
    charset = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", params, re.IGNORECASE)
    return Download(
        media_type.strip().lower(),
        charset.group(1).lower() if charset else None,
        b"".join(chunks),
        status=response.status_code,
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
    )


def _retry_delay(attempt: int, retry_after: str | None) -> float:
    delay = BACKOFF_BASE_S * 2 ** (attempt - 1)
    if retry_after:
        if retry_after.strip().isdigit():
            delay = float(retry_after)
        else:
            try:
                delay = parsedate_to_datetime(retry_after).timestamp() - time.time()
            except (TypeError, ValueError):
                pass
    return min(max(delay, 0.0), MAX_BACKOFF_S)


def _scrub(exc: Exception, url: str) -> str:
    return scrub_urls(str(exc).replace(url, redact_url(url)))


_QUERY_PARAM = re.compile(r"(?<=[?&;])([^=&;\s'\"#]+)=([^&;\s'\"#]*)")


_hidden: set[str] = set()  # credential values filled into URLs (stancewire.urls.expand), never to be logged


def hide_in_logs(values: list[str]) -> None:
    _hidden.update(v for v in values if v)


def _scrub_log_text(text: str) -> str:
    """Redacted URLs, secret-looking query parameters of relative ones (as in a logged Location header), and every
    credential value filled into a URL."""
    text = _QUERY_PARAM.sub(
        lambda m: f"{m.group(1)}=REDACTED" if is_secret_param(m.group(1)) else m.group(0), scrub_urls(text)
    )
    for value in _hidden:
        text = text.replace(value, "***")
    return text


class _RedactUrls(logging.Filter):
    """httpx logs every request's full URL at INFO level and httpcore the response headers at DEBUG level: strip
    credentials before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_scrub_log_text(str(a)) if isinstance(a, str | httpx.URL) else a for a in record.args)
        record.msg = _scrub_log_text(record.msg) if isinstance(record.msg, str) else record.msg
        return True


for _name in ("httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy", "httpcore.socks"):
    logging.getLogger(_name).addFilter(_RedactUrls())
