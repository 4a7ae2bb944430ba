"""Credentials for sources are named (${VARIABLE}), filled in by the fetcher alone, and never stored or logged."""

import httpx
import polars as pl
import pytest
from pydantic import ValidationError

from stancewire import frames
from stancewire.config import FetchOptions
from stancewire.urls import literal_credentials
from tasks.clean import build_language_detector, clean_documents
from tasks.fetch import fetch_sources
from tasks.inputs.sources import Source
from tasks.web.fetcher import PoliteFetcher


@pytest.mark.parametrize(
    ("url", "literal"),
    [
        ("https://news.example.com/a?id=1", False),
        ("https://bob:hunter2@news.example.com/a", True),
        ("https://bob@news.example.com/a", True),
        ("https://news.example.com/a?token=T0K", True),
        ("https://${FEED_USER}:${FEED_PASS}@news.example.com/a", False),
        ("https://news.example.com/a?api_key=${FEED_KEY}&page=2", False),
        ("/data/folder", False),
    ],
)
def test_literal_credentials_are_told_from_named_ones(url, literal):
    assert literal_credentials(url) is literal


def test_parameters_and_the_registry_refuse_literal_credentials_without_echoing_them():
    with pytest.raises(ValidationError) as refused:
        FetchOptions(sources=["https://bob:hunter2@news.example.com/a"])
    assert "${" in str(refused.value) and "hunter2" not in str(refused.value).split("input_value")[0]
    with pytest.raises(ValidationError):
        Source(id="desk", kind="rss", url="https://news.example.com/rss?token=T0K")
    assert Source(id="desk", kind="rss", url="https://news.example.com/rss?token=${DESK_TOKEN}").url.endswith("}")


def test_the_fetcher_fills_named_credentials_in_and_nothing_keeps_them(monkeypatch):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, html="<p>Una notizia riservata.</p>")

    monkeypatch.setenv("DESK_USER", "bob")
    monkeypatch.setenv("DESK_PASS", "hunter2")
    monkeypatch.setenv("DESK_TOKEN", "T0K3N")
    fetcher = PoliteFetcher(transport=httpx.MockTransport(handler), host_delay_s=0, respect_robots=False)
    url = "https://${DESK_USER}:${DESK_PASS}@news.example.com/a?token=${DESK_TOKEN}&page=1"
    result = fetch_sources([url, "https://news.example.com/b?token=${UNSET_TOKEN}"], fetcher)
    assert seen[0].url.params["token"] == "T0K3N" and seen[0].headers["authorization"].startswith("Basic ")
    assert result.documents["uri"].to_list() == ["https://news.example.com/a?page=1"]
    assert result.quarantine["reason"].to_list() == ["missing_secret"]
    assert "UNSET_TOKEN" in result.quarantine["detail"][0]
    stored = str(result.documents.drop("payload").to_dicts()) + str(result.quarantine.to_dicts())
    for secret in ("bob", "hunter2", "T0K3N"):
        assert secret not in stored


def test_a_json_records_own_url_is_stored_without_credentials():
    record = b'{"url": "https://bob:hunter2@news.example.com/a?api_key=K3Y&id=7", "text": "Una notizia vera."}'
    docs = pl.DataFrame(
        [
            {
                "doc_id": "d1",
                "source": "feed.jsonl",
                "uri": "feed.jsonl#0",
                "content_type": "application/json",
                "content_hash": "h",
                "size_bytes": len(record),
                "payload": record,
            }
        ],
        schema=frames.DOCUMENTS,
    )
    cleaned = clean_documents(docs, detector=build_language_detector())
    assert cleaned.articles["url"].to_list() == ["https://news.example.com/a?id=7"]
