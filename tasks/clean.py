"""Clean stage: documents → normalised articles with language and sentence offsets; unusable ones → quarantine."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import polars as pl
from lingua import LanguageDetector
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from stancewire.frames import ARTICLES, QUARANTINE, SENTENCES, conform
from stancewire.ids import sha256_hex
from tasks.extract import Extracted, ExtractionError, extract_html, extract_json, extract_plain
from tasks.language import UNDETERMINED, build_language_detector, detect_language
from tasks.sentences import split_sentences
from tasks.text import NotTextError, decode_payload, normalise

__all__ = ["CleanResult", "build_language_detector", "clean_documents", "clean_task"]


@dataclass
class CleanResult:
    articles: pl.DataFrame  # frames.ARTICLES
    sentences: pl.DataFrame  # frames.SENTENCES
    quarantine: pl.DataFrame  # frames.QUARANTINE


def clean_documents(documents: pl.DataFrame, *, detector: LanguageDetector) -> CleanResult:
    """One article (plus its sentences) per usable document, one quarantine row per unusable one."""
    articles: list[dict[str, Any]] = []
    sentences: list[dict[str, Any]] = []
    quarantine: list[dict[str, Any]] = []
    seen: set[str] = set()
    for doc in documents.iter_rows(named=True):
        if doc["doc_id"] in seen:
            continue
        seen.add(doc["doc_id"])
        try:
            article = _clean_document(doc, detector)
        except ExtractionError as exc:
            quarantine.append(_quarantine_row(doc, exc.reason, exc.detail))
            continue
        except Exception as exc:  # one malformed document must not stop the batch
            quarantine.append(_quarantine_row(doc, "clean_failed", f"{type(exc).__name__}: {exc}"))
            continue
        articles.append(article)
        sentences.extend(_sentence_rows(article))
    return CleanResult(
        articles=conform(pl.DataFrame(articles, schema=ARTICLES), ARTICLES),
        sentences=conform(pl.DataFrame(sentences, schema=SENTENCES), SENTENCES),
        quarantine=conform(pl.DataFrame(quarantine, schema=QUARANTINE), QUARANTINE),
    )


def _clean_document(doc: dict[str, Any], detector: LanguageDetector) -> dict[str, Any]:
    extracted = _extract(doc)
    text = normalise(extracted.body)
    if not text:
        raise ExtractionError("empty_text", "no text left after extraction and normalisation")
    language, confidence = detect_language(detector, text)
    if language == UNDETERMINED and extracted.language:
        language = _iso_639_1(extracted.language) or UNDETERMINED
    url = extracted.url or (doc["uri"] if _is_http(doc["uri"]) else None)
    return {
        "article_id": doc["doc_id"],
        "doc_id": doc["doc_id"],
        "source": doc["source"],
        "url": url,
        "title": _one_line(extracted.title),
        "author": _one_line(extracted.author),
        "published": extracted.published,
        "site": _one_line(extracted.site) or (urlsplit(url).hostname if url and _is_http(url) else None),
        "language": language,
        "language_confidence": confidence,
        "text": text,
        "text_hash": sha256_hex(text),
        "extractor": extracted.extractor,
    }


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
        return extract_plain(normalise(decoded))
    raise ExtractionError("unsupported_content_type", f"no extractor for {content_type!r}")


def _sentence_rows(article: dict[str, Any]) -> list[dict[str, Any]]:
    text = article["text"]
    return [
        {
            "sentence_id": f"{article['article_id']}:{idx}",
            "article_id": article["article_id"],
            "idx": idx,
            "start": start,
            "end": end,
            "text": text[start:end],
        }
        for idx, (start, end) in enumerate(split_sentences(text))
    ]


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
def clean_task(documents: pl.DataFrame, detector: LanguageDetector) -> CleanResult:
    result = clean_documents(documents, detector=detector)
    get_run_logger().info(
        "cleaned %d documents: %d articles, %d sentences, %d quarantined",
        documents.height,
        result.articles.height,
        result.sentences.height,
        result.quarantine.height,
    )
    return result
