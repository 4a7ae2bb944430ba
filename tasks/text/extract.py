"""Decoded document → article body and metadata, one extractor per content type (HTML, JSON record, plain text)."""

import email.utils
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.settings import set_date_params

_HEADLINE_SEARCH_LINES = 3
# Real news pages have a few thousand elements; trafilatura's time grows faster than linearly (65 s for 100,000
# paragraphs, minutes for a million), so one hostile page could stall a run.
MAX_HTML_ELEMENTS = 25_000
_START_TAG = re.compile(r"<[A-Za-z]")
# trafilatura writes tables as Markdown rows ("| cell | cell |"); its rule lines and empty rows are not text.
_TABLE_FILLER = re.compile(r"^[ \t]*\|(?:[ \t]*:?-*:?[ \t]*\|)+[ \t]*$\n?", re.MULTILINE)


class ExtractionError(ValueError):
    """The document holds no usable article; `reason` is the quarantine reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass
class Extracted:
    body: str  # raw, not yet normalised
    extractor: str
    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    site: str | None = None
    url: str | None = None
    language: str | None = None  # as declared by the source, if at all


# trafilatura's defaults, tables included (they become "cell | cell" rows), comments left out: its recall modes
# extract less on some pages and more furniture on others (bench/peer_extraction.py measures them); the line-level
# furniture pass that follows (tasks.text.furniture) removes what these settings let through.
TRAFILATURA_OPTIONS: dict[str, Any] = {"include_comments": False, "include_tables": True}


def extract_html(html: str, url: str | None = None, options: Mapping[str, Any] | None = None) -> Extracted:
    """Main text and metadata with trafilatura; `options` (bare_extraction arguments) replace TRAFILATURA_OPTIONS."""
    elements = len(_START_TAG.findall(html))
    if elements > MAX_HTML_ELEMENTS:
        raise ExtractionError("too_complex", f"{elements} HTML elements exceed the limit of {MAX_HTML_ELEMENTS}")
    date_params = {**set_date_params(extensive=True), "outputformat": "%Y-%m-%dT%H:%M:%S%z"}
    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            date_extraction_params=date_params,
            **(TRAFILATURA_OPTIONS if options is None else options),
        )
    except (ValueError, TypeError) as exc:  # trafilatura signals unparsable trees with ValueError
        raise ExtractionError("extraction_failed", f"trafilatura: {exc or type(exc).__name__}") from exc
    if doc is None or not (doc.text or "").strip():
        raise ExtractionError("no_body", "trafilatura found no article body in the HTML")
    return Extracted(
        body=_drop_headline(_TABLE_FILLER.sub("", doc.text), doc.title),
        extractor="trafilatura",
        title=doc.title,
        author=doc.author,
        published=parse_published(doc.date),
        site=doc.sitename or doc.hostname,
        url=doc.url,
        language=doc.language,
    )


def _drop_headline(body: str, title: str | None) -> str:
    """The body without the repeated <h1> headline and any kicker ("Ports · Europe") standing above it."""
    lines = body.split("\n", _HEADLINE_SEARCH_LINES)
    for i, line in enumerate(lines[:_HEADLINE_SEARCH_LINES]):
        if title and line.strip() == title.strip():
            return "\n".join(lines[i + 1 :])
    return body


_TEXT_FIELDS = ("text", "body", "content")
_MARKUP = re.compile(
    r"<(?:p|br|div|span|a|em|strong|b|i|h[1-6]|ul|ol|li|blockquote|figure|img|script|style)\b[^>]*>", re.I
)
_BLOCK_TAGS = ("p", "br", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "figure", "tr", "ul", "ol")
_STRING_FIELDS = ("title", "url", "language", "lang", "text", "body", "content")
_PUBLISHED_FIELDS = ("published", "published_at", "publishedAt", "date")


def extract_json(raw: str) -> Extracted:
    """One article object: title, text|body|content, url, published|published_at|publishedAt|date, language|lang,
    author (string or list of strings), site|source (string, or an object with a "name" as news APIs send)."""
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ExtractionError("invalid_json", f"not JSON: {exc}") from exc
    if not isinstance(record, dict):
        raise ExtractionError("invalid_record", f"expected a JSON object, got {type(record).__name__}")
    wrong = [
        f"{k}: {type(record[k]).__name__}"
        for k in _STRING_FIELDS
        if record.get(k) is not None and not isinstance(record[k], str)
    ]
    author = record.get("author")
    if isinstance(author, list) and all(isinstance(a, str) for a in author):
        author = "; ".join(a.strip() for a in author if a.strip()) or None
    elif author is not None and not isinstance(author, str):
        wrong.append(f"author: {type(author).__name__}")
    site = _first(record, ("site", "source"))
    if isinstance(site, dict) and isinstance(site.get("name"), str | None):
        site = site.get("name")
    elif site is not None and not isinstance(site, str):
        wrong.append(f"site: {type(site).__name__}")
    published = _first(record, _PUBLISHED_FIELDS)
    if published is not None and (isinstance(published, bool) or not isinstance(published, (str, int, float))):
        wrong.append(f"published: {type(published).__name__}")
    if wrong:
        raise ExtractionError("invalid_field", "fields of the wrong type: " + ", ".join(wrong))
    body = _first(record, _TEXT_FIELDS)
    if body is None:
        raise ExtractionError("missing_text", f"record has none of the fields {', '.join(_TEXT_FIELDS)}")
    return Extracted(
        body=html_fragment_text(body) if _MARKUP.search(body) else body,
        extractor="json",
        title=record.get("title"),
        author=author,
        published=parse_published(published),
        site=site,
        url=record.get("url"),
        language=_first(record, ("language", "lang")),
    )


def html_fragment_text(fragment: str) -> str:
    """Text of an HTML snippet (as feeds put in "content"), one line per block element, scripts and styles dropped."""
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return fragment
    for element in root.iter("script", "style", "noscript", "template"):
        element.drop_tree()
    for element in root.iter(*_BLOCK_TAGS):
        element.tail = "\n" + (element.tail or "")
    return root.text_content()


def _first(record: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((record[k] for k in keys if record.get(k) is not None), None)


def extract_plain(text: str) -> Extracted:
    """Plain text as it is: its title and furniture are told apart line by line later (tasks.text.furniture)."""
    return Extracted(body=text, extractor="plain")


_EPOCH_MS_THRESHOLD = 1e11  # larger epoch numbers are milliseconds


def parse_published(value: str | int | float | None) -> datetime | None:
    """ISO 8601, RFC 2822 or epoch seconds/milliseconds → aware UTC datetime; naive times are taken as UTC."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            seconds = value / 1000 if abs(value) > _EPOCH_MS_THRESHOLD else value
            parsed = datetime.fromtimestamp(seconds, UTC)
        else:
            parsed = _parse_date_string(value.strip())
    except (ValueError, OverflowError, OSError):
        return None
    if parsed is None or not 1900 <= parsed.year <= 2200:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _parse_date_string(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(re.sub(r"\s*UTC$|\s*GMT$", "+00:00", value))
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
