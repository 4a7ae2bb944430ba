"""Clean stage: documents → normalised articles without page furniture, with languages, sentence offsets and
duplicate links; removed lines → boilerplate_lines; unusable documents → quarantine."""

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import polars as pl
from lingua import LanguageDetector
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from stancewire.frames import ARTICLES, BOILERPLATE_LINES, QUARANTINE, SENTENCES, SOURCE_LINES, conform
from stancewire.ids import sha256_hex
from stancewire.results import CleanResult
from stancewire.urls import redact_url
from tasks.text.decode import NotTextError, decode_payload, normalise
from tasks.text.dedup import DuplicateIndex, DuplicateLookup, Fingerprint, fingerprint
from tasks.text.extract import Extracted, ExtractionError, extract_html, extract_json, extract_plain
from tasks.text.furniture import SOURCE_REPEAT_MIN_DOCS, Decision, body_text, classify_lines, source_line_hashes
from tasks.text.language import UNDETERMINED, build_language_detector, detect_language, line_languages
from tasks.text.sentences import split_sentences

__all__ = ["CleanResult", "build_language_detector", "clean_documents", "clean_task", "source_keys"]

# About 30,000 words, several times the longest news features: longer "articles" are dumps or junk, and every
# sentence costs NER and NLI time.
MAX_TEXT_CHARS = 200_000


@dataclass
class _Extracted:
    doc: dict[str, Any]
    extracted: Extracted
    text: str  # normalised extracted text, before boilerplate removal
    source_key: str


def clean_documents(
    documents: pl.DataFrame,
    *,
    detector: LanguageDetector,
    known: DuplicateLookup | None = None,
    source_lines: pl.DataFrame | None = None,
) -> CleanResult:
    """One article (plus its sentences and removed lines) per usable document, one quarantine row per unusable one.

    `known` looks up the canonical articles already stored (duplicates link to them; it is not modified);
    `source_lines` holds the stored per-source line counts (frames.SOURCE_LINES) of the documents' sites.
    Documents are taken in fetch order, so the first copy of an article is the canonical one.
    """
    quarantine: list[dict[str, Any]] = []
    extracted: list[_Extracted] = []
    seen: set[str] = set()
    for doc in documents.sort("fetched_at", "uri", "doc_id", nulls_last=True).iter_rows(named=True):
        if doc["doc_id"] in seen:
            continue
        seen.add(doc["doc_id"])
        try:
            extracted.append(_extract_document(doc))
        except ExtractionError as exc:
            quarantine.append(_quarantine_row(doc, exc.reason, exc.detail))
        except Exception as exc:  # one malformed document must not stop the batch
            quarantine.append(_quarantine_row(doc, "clean_failed", f"{type(exc).__name__}: {exc}"))
    batch_counts = _count_source_lines(extracted)
    repeated = _repeated_lines(batch_counts, source_lines)
    articles: list[dict[str, Any]] = []
    sentences: list[dict[str, Any]] = []
    removed: list[dict[str, Any]] = []
    for item in extracted:
        try:
            article, decisions = _clean_document(item, detector, repeated.get(item.source_key, frozenset()))
            removed.extend(_removed_rows(item.doc["doc_id"], decisions))
            if article is None:
                raise ExtractionError("only_boilerplate", "every line of the text was page furniture")
        except ExtractionError as exc:
            quarantine.append(_quarantine_row(item.doc, exc.reason, exc.detail))
            continue
        except Exception as exc:
            quarantine.append(_quarantine_row(item.doc, "clean_failed", f"{type(exc).__name__}: {exc}"))
            continue
        sentences.extend(_sentence_rows(article, detector))
        articles.append(article)
    fingerprints = [Fingerprint(a["text_hash_normalised"], a["minhash"]) for a in articles]
    stored, batch_index = known.index_for(fingerprints) if known is not None else None, DuplicateIndex()
    for article, fp in zip(articles, fingerprints, strict=True):
        _link_duplicate(article, fp, stored, batch_index)
    return CleanResult(
        articles=conform(pl.DataFrame(articles, schema=ARTICLES), ARTICLES),
        sentences=conform(pl.DataFrame(sentences, schema=SENTENCES), SENTENCES),
        quarantine=conform(pl.DataFrame(quarantine, schema=QUARANTINE), QUARANTINE),
        boilerplate_lines=conform(pl.DataFrame(removed, schema=BOILERPLATE_LINES), BOILERPLATE_LINES),
        source_lines=conform(_source_lines_frame(batch_counts), SOURCE_LINES),
    )


def _extract_document(doc: dict[str, Any]) -> _Extracted:
    extracted = _extract(doc)
    text = normalise(extracted.body)
    if not text:
        raise ExtractionError("empty_text", "no text left after extraction and normalisation")
    if len(text) > MAX_TEXT_CHARS:
        raise ExtractionError("too_long", f"{len(text)} characters of text exceed the limit of {MAX_TEXT_CHARS}")
    return _Extracted(doc, extracted, text, _source_key(doc))


def _source_key(doc: dict[str, Any]) -> str:
    """Where repeated lines are counted: the host of a fetched URL, else the source as given (a folder, a file)."""
    host = urlsplit(doc["uri"]).hostname if _is_http(doc["uri"]) else None
    return (host or doc["source"] or "").lower()


def source_keys(documents: pl.DataFrame) -> set[str]:
    """The source keys of `documents`, for fetching their stored line counts."""
    return {_source_key(doc) for doc in documents.select("uri", "source").iter_rows(named=True)}


def _count_source_lines(items: list[_Extracted]) -> dict[str, Counter[str]]:
    """Per source: in how many documents of this batch each short line occurs. Copies (exact or near) of a document
    already counted are not counted again: the paragraphs they share are the article, not the site's furniture."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    counted = DuplicateIndex()
    for n, item in enumerate(items):
        fp = fingerprint(item.text)
        if counted.match(fp) is not None:
            continue
        counted.add(str(n), fp)
        counts[item.source_key].update(source_line_hashes(item.text))
    return counts


def _repeated_lines(batch: dict[str, Counter[str]], stored: pl.DataFrame | None) -> dict[str, frozenset[str]]:
    totals = {key: Counter(counts) for key, counts in batch.items()}
    if stored is not None:
        for row in stored.filter(pl.col("source_key").is_in(list(batch))).iter_rows(named=True):
            totals[row["source_key"]][row["line_hash"]] += row["docs"]
    return {
        key: frozenset(h for h, n in counts.items() if n >= SOURCE_REPEAT_MIN_DOCS) for key, counts in totals.items()
    }


def _source_lines_frame(counts: dict[str, Counter[str]]) -> pl.DataFrame:
    rows = [(key, h, n) for key, per_key in counts.items() for h, n in per_key.items()]
    return pl.DataFrame(rows, schema=SOURCE_LINES, orient="row")


def _clean_document(
    item: _Extracted, detector: LanguageDetector, repeated: frozenset[str]
) -> tuple[dict[str, Any] | None, list[Decision]]:
    extracted, doc = item.extracted, item.doc
    decisions = classify_lines(
        item.text, title=_one_line(extracted.title), find_title=extracted.title is None, source_repeated=repeated
    )
    body = body_text(item.text, decisions)
    if not body:
        return None, decisions
    title = _one_line(extracted.title or next((d.line.text for d in decisions if d.kind == "title"), None))
    text = f"{title}\n\n{body}" if title else body
    language, confidence = detect_language(detector, text)
    if language == UNDETERMINED and extracted.language:
        language = _iso_639_1(extracted.language) or UNDETERMINED
    url = extracted.url or (doc["uri"] if _is_http(doc["uri"]) else None)
    url = redact_url(url) if url and _is_http(url) else url  # a JSON record's own url may carry credentials
    fp = fingerprint(text)
    article = {
        "article_id": doc["doc_id"],
        "doc_id": doc["doc_id"],
        "source": doc["source"],
        "url": url,
        "title": title,
        "author": _one_line(extracted.author),
        "published": extracted.published,
        "site": _one_line(extracted.site) or (urlsplit(url).hostname if url and _is_http(url) else None),
        "language": language,
        "language_confidence": confidence,
        "text": text,
        "text_hash": sha256_hex(text),
        "extractor": extracted.extractor,
        "text_hash_normalised": fp.text_hash_normalised,
        "minhash": fp.minhash,
        "duplicate_of": None,
        "duplicate_similarity": None,
    }
    return article, decisions


def _link_duplicate(
    article: dict[str, Any], fp: Fingerprint, known: DuplicateIndex | None, batch: DuplicateIndex
) -> None:
    """Point a duplicate at its canonical article (stored first, then earlier in this batch); index the others."""
    match = (known.match(fp) if known is not None else None) or batch.match(fp)
    if match is None:
        batch.add(article["article_id"], fp)
    elif match[0] != article["article_id"]:
        article["duplicate_of"], article["duplicate_similarity"] = match


def _removed_rows(article_id: str, decisions: list[Decision]) -> list[dict[str, Any]]:
    return [
        {
            "article_id": article_id,
            "line_no": d.line.no,
            "start": d.line.start,
            "end": d.line.end,
            "text": d.line.text,
            "reason": d.reason,
        }
        for d in decisions
        if d.kind == "furniture"
    ]


def _extract(doc: dict[str, Any]) -> Extracted:
    content_type = doc["content_type"]
    payload = doc["payload"] or b""
    if not payload.strip():
        raise ExtractionError("empty_payload", "the document is empty")
    try:
        decoded = decode_payload(payload, html=content_type == "text/html")
    except NotTextError as exc:
        raise ExtractionError("not_text", str(exc)) from exc
    if not decoded.strip():
        raise ExtractionError("empty_text", "the document holds only whitespace")
    if content_type == "text/html":
        return extract_html(decoded, url=doc["uri"] if _is_http(doc["uri"]) else None)
    if content_type == "application/json":
        return extract_json(decoded)
    if content_type == "text/plain":
        return extract_plain(decoded)
    raise ExtractionError("unsupported_content_type", f"no extractor for {content_type!r}")


def _sentence_rows(article: dict[str, Any], detector: LanguageDetector) -> list[dict[str, Any]]:
    text = article["text"]
    languages = line_languages(detector, text, article["language"])
    line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    rows = []
    line = 0
    for idx, (start, end) in enumerate(split_sentences(text)):
        while line + 1 < len(line_starts) and line_starts[line + 1] <= start:
            line += 1
        rows.append(
            {
                "sentence_id": f"{article['article_id']}:{idx}",
                "article_id": article["article_id"],
                "idx": idx,
                "start": start,
                "end": end,
                "text": text[start:end],
                "language": languages.get(line, article["language"]),
            }
        )
    return rows


def _quarantine_row(doc: dict[str, Any], reason: str, detail: str) -> dict[str, Any]:
    return {
        "item_id": doc["doc_id"],
        "stage": "clean",
        "source": doc["source"],
        "uri": doc["uri"],
        "reason": reason,
        "detail": detail,
    }


def _one_line(value: str | None) -> str | None:
    if not value:
        return None
    return " ".join(normalise(value).split()) or None


def _iso_639_1(code: str) -> str | None:
    """ "it", "it-IT", "it_IT" → "it"; anything else → None."""
    primary = code.strip().lower().replace("_", "-").split("-")[0]
    return primary if len(primary) == 2 and primary.isalpha() else None


def _is_http(uri: str | None) -> bool:
    return bool(uri) and uri.lower().startswith(("http://", "https://"))


@task(name="clean", cache_policy=NO_CACHE)
def clean_task(
    documents: pl.DataFrame,
    detector: LanguageDetector,
    known: DuplicateLookup | None = None,
    source_lines: pl.DataFrame | None = None,
) -> CleanResult:
    result = clean_documents(documents, detector=detector, known=known, source_lines=source_lines)
    duplicates = result.articles.filter(pl.col("duplicate_of").is_not_null()).height
    get_run_logger().info(
        "cleaned %d documents: %d articles (%d duplicates), %d sentences, %d furniture lines removed, %d quarantined",
        documents.height,
        result.articles.height,
        duplicates,
        result.sentences.height,
        result.boilerplate_lines.height,
        result.quarantine.height,
    )
    return result
