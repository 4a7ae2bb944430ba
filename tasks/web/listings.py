"""Article discovery: feeds (RSS 2.0, Atom, JSON Feed), sitemaps (indexes and news sitemaps) and URL lists → article
URLs with their dates, under one canonical form so that the same article is recognised whatever tracking it carries.
"""

import calendar
import io
import json
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser
from lxml import etree

from tasks.text.extract import parse_published

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit for one uncompressed sitemap

_TRACKING_PARAM = re.compile(
    r"^(?:utm_\w+|fbclid|gclid|gclsrc|dclid|gbraid|wbraid|msclkid|yclid|twclid|igshid|mc_cid|mc_eid|_ga|_gl|"
    r"_hsenc|_hsmi|mkt_tok|oly_anon_id|oly_enc_id|vero_id|ref_src|cmpid|wt\.mc_id|at_medium|at_campaign|at_link|"
    r"at_xtor|xtor|ito|s_cid|ncid|ocid|sr_share|__twitter_impression)$",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


class DiscoveryError(ValueError):
    """A listing (feed, sitemap, URL list) that cannot be read; `reason` is the quarantine reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Entry:
    url: str  # canonical
    published: datetime | None = None
    updated: datetime | None = None  # last modification the listing reports (lastmod, <updated>); else published
    title: str | None = None

    @property
    def date(self) -> datetime | None:
        return self.updated or self.published


@dataclass
class Listing:
    entries: list[Entry] = field(default_factory=list)
    sitemaps: list[Entry] = field(default_factory=list)  # children of a sitemap index, lastmod as `updated`
    language: str | None = None  # as the feed declares it


def canonical_url(url: str, base: str | None = None) -> str | None:
    """The URL resolved against `base`, with scheme and host lowercased, default port, fragment and tracking
    parameters (utm_*, fbclid, gclid...) dropped; None when it is not an http(s) URL."""
    url = url.strip()
    if base:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING_PARAM.match(k)]
    )
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def parse_feed(body: bytes, base_url: str) -> Listing:
    """RSS 0.9x/1.0/2.0 and Atom via feedparser; JSON Feed (1.0, 1.1) read directly, as feedparser does not."""
    if body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return _parse_json_feed(body, base_url)
    parsed = feedparser.parse(io.BytesIO(body))  # a stream: given bytes, feedparser would try them as a file name
    if not parsed.version:
        why = parsed.get("bozo_exception") or "no RSS, Atom or JSON Feed document found"
        raise DiscoveryError("invalid_feed", f"not a feed: {why}")
    listing = Listing(language=_language(parsed.feed.get("language")))
    for item in parsed.entries:
        link = item.get("link") or _permalink_id(item)
        url = canonical_url(link, base_url) if link else None
        if url:
            published = _struct_time(item.get("published_parsed"))
            updated = _struct_time(item.get("updated_parsed"))
            listing.entries.append(Entry(url, published, updated or published, item.get("title")))
    return listing


def _permalink_id(item: feedparser.FeedParserDict) -> str | None:
    return _absolute(item.get("id"))


def _absolute(value: object) -> str | None:
    """An id that is an absolute http(s) URL (a permalink), else None: ids like "1234" are not links."""
    return value if isinstance(value, str) and value.lower().startswith(("http://", "https://")) else None


def _struct_time(value: object) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)  # feedparser normalises to UTC
    except (TypeError, ValueError, OverflowError):
        return None


def _parse_json_feed(body: bytes, base_url: str) -> Listing:
    try:
        feed = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DiscoveryError("invalid_feed", f"not a JSON Feed: {exc}") from exc
    version = feed.get("version") if isinstance(feed, dict) else None
    if not (isinstance(version, str) and version.startswith("https://jsonfeed.org/version/")):
        raise DiscoveryError("invalid_feed", "JSON without a https://jsonfeed.org/version/ version field")
    items = feed.get("items")
    if not isinstance(items, list):
        raise DiscoveryError("invalid_feed", "JSON Feed without an items list")
    listing = Listing(language=_language(feed.get("language")))
    for item in items:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url") or _absolute(item.get("id"))
        url = canonical_url(link, base_url) if isinstance(link, str) else None
        if url:
            published = _date(item.get("date_published"))
            updated = _date(item.get("date_modified")) or published
            title = item.get("title") if isinstance(item.get("title"), str) else None
            listing.entries.append(Entry(url, published, updated, title))
    return listing


def parse_sitemap(body: bytes, base_url: str) -> Listing:
    """A `<urlset>` (with Google News `<news:publication_date>`, `<news:title>`, `<news:language>` when present)
    or a `<sitemapindex>`; gzip-compressed sitemaps are inflated (up to MAX_SITEMAP_BYTES)."""
    body = _gunzip(body) if body[:2] == b"\x1f\x8b" else body
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise DiscoveryError("invalid_sitemap", f"not XML: {exc}") from exc
    kind = etree.QName(root).localname
    if kind not in ("urlset", "sitemapindex"):
        raise DiscoveryError("invalid_sitemap", f"expected <urlset> or <sitemapindex>, found <{kind}>")
    listing = Listing()
    child = "url" if kind == "urlset" else "sitemap"
    for node in root.iterchildren():
        if not isinstance(node.tag, str) or etree.QName(node).localname != child:
            continue
        fields = _fields(node)
        url = canonical_url(fields["loc"], base_url) if fields.get("loc") else None
        if not url:
            continue
        lastmod = _date(fields.get("lastmod"))
        if kind == "sitemapindex":
            listing.sitemaps.append(Entry(url, updated=lastmod))
            continue
        published = _date(fields.get("publication_date"))
        listing.entries.append(Entry(url, published, lastmod or published, fields.get("title")))
        listing.language = listing.language or _language(fields.get("language"))
    return listing


def _fields(node: etree._Element) -> dict[str, str]:
    """Text of the descendants by local name (loc, lastmod, and the news: extension's publication_date...)."""
    fields: dict[str, str] = {}
    for element in node.iter():
        if element is not node and isinstance(element.tag, str) and element.text and element.text.strip():
            fields.setdefault(etree.QName(element).localname, element.text.strip())
    return fields


def _gunzip(body: bytes) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, MAX_SITEMAP_BYTES + 1)
    except zlib.error as exc:
        raise DiscoveryError("invalid_sitemap", f"broken gzip data: {exc}") from exc
    if len(out) > MAX_SITEMAP_BYTES:
        raise DiscoveryError("too_large", f"sitemap inflates beyond {MAX_SITEMAP_BYTES} bytes")
    return out


def parse_url_list(text: str, base_url: str | None = None) -> tuple[list[Entry], list[str]]:
    """One URL per line (blank lines and # comments skipped) → (entries, lines that are not http(s) URLs)."""
    entries, bad = [], []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        url = None if any(c.isspace() for c in line) else canonical_url(line, base_url)
        if url:
            entries.append(Entry(url))
        else:
            bad.append(line)
    return entries, bad


def _date(value: object) -> datetime | None:
    return parse_published(value) if isinstance(value, str) else None


def _language(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if re.fullmatch(r"[a-z]{2}", code) else None
