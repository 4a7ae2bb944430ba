import http.server
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import httpx
import polars as pl
import pytest

from stancewire.frames import DOCUMENTS, QUARANTINE
from stancewire.ids import sha256_hex
from tasks.fetch import FetchResult, document_id, fetch_sources
from tasks.web import download as dl
from tasks.web.fetcher import PoliteFetcher

NOW = datetime(2025, 5, 1, 12, tzinfo=UTC)


def fetch(sources, fetcher=None, **kwargs):
    result = fetch_sources([str(s) for s in sources], fetcher, now=NOW, **kwargs)
    assert result.documents.schema == pl.Schema(DOCUMENTS)
    assert result.quarantine.schema == pl.Schema(QUARANTINE)
    assert result.documents["doc_id"].is_unique().all()
    return result


def reasons(result: FetchResult) -> dict[str, str]:
    return dict(zip(result.quarantine["uri"], result.quarantine["reason"], strict=True))


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    (tmp_path / "a.txt").write_text("Titolo\nTesto.", encoding="utf-8")
    (tmp_path / "sub" / "b.html").write_text("<html><body><p>Ciao</p></body></html>", encoding="utf-8")
    (tmp_path / "sub" / "deeper" / "c.HTM").write_text("<p>Hallo</p>", encoding="utf-8")
    (tmp_path / "notes.md").write_text("# not an article", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("skip me", encoding="utf-8")
    (tmp_path / ".git" / "config.txt").write_text("skip me too", encoding="utf-8")
    return tmp_path


def test_directory_is_walked_recursively(corpus):
    result = fetch([corpus])
    docs = result.documents
    assert docs["uri"].to_list() == [
        str(corpus / "a.txt"),
        str(corpus / "sub/b.html"),
        str(corpus / "sub/deeper/c.HTM"),
    ]
    assert docs["content_type"].to_list() == ["text/plain", "text/html", "text/html"]
    assert set(docs["source"]) == {str(corpus)}
    assert reasons(result) == {str(corpus / "notes.md"): "unsupported_extension"}
    row = docs.row(0, named=True)
    assert row["payload"] == b"Titolo\nTesto."
    assert row["content_hash"] == sha256_hex(b"Titolo\nTesto.")
    assert (
        row["doc_id"]
        == sha256_hex(f"{row['uri']}\0{row['content_hash']}")[:32]
        == document_id(row["uri"], row["content_hash"])
    )
    assert row["size_bytes"] == 13 and row["fetched_at"] == NOW


def test_same_file_twice_is_one_document(corpus):
    assert fetch([corpus / "a.txt", corpus, f"file://{corpus / 'a.txt'}"]).documents.height == 3


def test_doc_id_changes_with_content(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("one", encoding="utf-8")
    first = fetch([path]).documents["doc_id"][0]
    assert fetch([path]).documents["doc_id"][0] == first
    path.write_text("two", encoding="utf-8")
    assert fetch([path]).documents["doc_id"][0] != first


def test_json_list_and_object_become_records(tmp_path):
    (tmp_path / "list.json").write_text(
        json.dumps(
            [
                {"title": "A", "text": "x", "url": "https://u:p@news.example.com/a?token=t"},
                {"text": "y", "b": 1, "a": 2},
                7,
            ]
        ),
        encoding="utf-8",
    )
    (tmp_path / "one.json").write_text('{"text": "solo"}', encoding="utf-8")
    result = fetch([tmp_path])
    docs = result.documents
    assert docs["uri"].to_list() == [
        "https://news.example.com/a",
        f"{tmp_path / 'list.json'}#1",
        f"{tmp_path / 'one.json'}#0",
    ]
    assert set(docs["content_type"]) == {"application/json"}
    assert docs["payload"][1] == b'{"a":2,"b":1,"text":"y"}'  # canonical: sorted keys, compact
    assert reasons(result) == {f"{tmp_path / 'list.json'}#2": "invalid_record"}


def test_jsonl_lines_become_records_and_bad_lines_are_quarantined(tmp_path):
    (tmp_path / "feed.jsonl").write_text(
        '{"text": "uno"}\n\n{broken\n["not", "object"]\n{"text": "quattro"}\n', encoding="utf-8"
    )
    result = fetch([tmp_path / "feed.jsonl"])
    base = str(tmp_path / "feed.jsonl")
    assert result.documents["uri"].to_list() == [f"{base}#0", f"{base}#4"]
    assert reasons(result) == {f"{base}#2": "invalid_json", f"{base}#3": "invalid_record"}
    assert "line 3" in result.quarantine.filter(pl.col("reason") == "invalid_json")["detail"][0]


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("bad.json", b"{nope", "invalid_json"),
        ("latin.json", '{"text": "citt\xe0"}'.encode("latin-1"), "invalid_json"),
        ("nan.json", b'{"text": NaN}', "invalid_record"),
    ],
)
def test_bad_json_files_are_quarantined(tmp_path, name, content, reason):
    (tmp_path / name).write_bytes(content)
    result = fetch([tmp_path])
    assert result.documents.height == 0
    assert list(reasons(result).values()) == [reason]


def test_missing_oversize_and_disallowed_files(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 100)
    result = fetch([tmp_path / "missing.txt", big, ""], max_bytes=50)
    assert reasons(result) == {str(tmp_path / "missing.txt"): "not_found", str(big): "too_large", "": "invalid_source"}
    assert reasons(fetch([big], allow_files=False)) == {str(big): "files_not_allowed"}


def test_empty_directory_and_single_string_source(tmp_path):
    assert reasons(fetch_sources(str(tmp_path))) == {str(tmp_path): "empty_directory"}


def test_unsupported_scheme_is_quarantined_without_credentials():
    result = fetch(["ftp://user:secret@example.com/a.txt"])
    assert reasons(result) == {"ftp://example.com/a.txt": "unsupported_scheme"}


def mock_fetcher(routes: dict[str, httpx.Response], **options) -> PoliteFetcher:
    def handler(request: httpx.Request) -> httpx.Response:
        return routes.get(request.url.path, httpx.Response(404))

    return PoliteFetcher(transport=httpx.MockTransport(handler), host_delay_s=0, **options)


def test_urls_are_fetched_and_typed(monkeypatch):
    monkeypatch.setattr(dl.time, "sleep", lambda s: None)
    fetcher = mock_fetcher(
        {
            "/page": httpx.Response(200, html="<p>Ciao</p>"),
            "/feed": httpx.Response(200, json=[{"text": "a"}, {"text": "b", "url": "https://news.example.com/b"}]),
            "/lines": httpx.Response(200, content=b'{"text": "c"}\n', headers={"content-type": "application/x-ndjson"}),
            "/latin": httpx.Response(
                200, content="città".encode("latin-1"), headers={"content-type": "text/plain; charset=iso-8859-1"}
            ),
            "/story.txt": httpx.Response(200, content=b"plain"),
            "/image": httpx.Response(200, content=b"\x89PNG", headers={"content-type": "image/png"}),
            "/down": httpx.Response(503),
        }
    )
    base = "https://news.example.com"
    sources = [
        f"{base}/page",
        f"{base}/feed",
        f"{base}/lines",
        f"{base}/latin",
        f"{base}/story.txt",
        f"{base}/image",
        f"{base}/down",
        f"{base}/gone",
    ]
    result = fetch(sources, fetcher)
    docs = dict(zip(result.documents["uri"], result.documents.iter_rows(named=True), strict=True))
    assert docs[f"{base}/page"]["content_type"] == "text/html"
    assert docs[f"{base}/feed#0"]["content_type"] == "application/json"
    assert docs[f"{base}/b"]["source"] == f"{base}/feed"
    assert docs[f"{base}/lines#0"]["payload"] == b'{"text":"c"}'
    assert docs[f"{base}/latin"]["payload"] == "città".encode()  # transcoded from the declared charset
    assert docs[f"{base}/story.txt"]["content_type"] == "text/plain"  # untyped response, typed by extension
    assert reasons(result) == {
        f"{base}/image": "unsupported_content_type",
        f"{base}/down": "http_503",
        f"{base}/gone": "http_404",
    }


def test_credentials_never_reach_the_frames():
    fetcher = mock_fetcher({"/a": httpx.Response(200, html="<p>x</p>"), "/b": httpx.Response(401)})
    result = fetch(
        ["https://bob:hunter2@news.example.com/a?id=1&api_key=K3Y", "https://news.example.com/b?token=T0K"],
        fetcher,
    )
    dumped = str(result.documents.drop("payload").to_dicts()) + str(result.quarantine.to_dicts())
    for secret in ("bob", "hunter2", "K3Y", "T0K"):
        assert secret not in dumped
    assert result.documents["uri"].to_list() == ["https://news.example.com/a?id=1"]
    assert reasons(result) == {"https://news.example.com/b": "http_401"}


def test_private_hosts_are_refused_by_default():
    routes = {"/": httpx.Response(200, html="<p>x</p>")}
    assert reasons(fetch(["http://127.0.0.1/"], mock_fetcher(routes))) == {"http://127.0.0.1/": "private_host"}
    assert fetch(["http://127.0.0.1/"], mock_fetcher(routes, allow_private_hosts=True)).documents.height == 1


def test_unexpected_client_failure_is_quarantined():
    def handler(request):
        raise RuntimeError("bug in a custom transport for https://u:pw@x.example.com/a")

    fetcher = PoliteFetcher(transport=httpx.MockTransport(handler), host_delay_s=0)
    result = fetch(["https://u:pw@x.example.com/a", "https://x.example.com/b"], fetcher)
    assert result.documents.height == 0
    assert set(result.quarantine["reason"]) == {"fetch_failed"}
    assert "pw" not in str(result.quarantine.to_dicts())


@pytest.fixture
def loopback_server(tmp_path):
    (tmp_path / "article.html").write_text("<html><body><p>Dal server locale.</p></body></html>", encoding="utf-8")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_real_loopback_server(loopback_server):
    local = PoliteFetcher(host_delay_s=0, allow_private_hosts=True)
    result = fetch([f"{loopback_server}/article.html", f"{loopback_server}/missing.html"], local)
    assert result.documents["content_type"].to_list() == ["text/html"]
    assert b"Dal server locale." in result.documents["payload"][0]
    assert reasons(result) == {f"{loopback_server}/missing.html": "http_404"}
    refused = fetch([f"{loopback_server}/article.html"])
    assert refused.documents.height == 0 and set(refused.quarantine["reason"]) == {"private_host"}


def test_task_wrapper_passes_options_and_logs_counts(monkeypatch, caplog, tmp_path):
    import logging

    import tasks.fetch

    monkeypatch.setattr(tasks.fetch, "get_run_logger", lambda: logging.getLogger("test.fetch"))
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="test.fetch"):
        result = tasks.fetch.fetch_task.fn([str(tmp_path)], PoliteFetcher(), allow_files=False, now=NOW)
    assert set(result.quarantine["reason"]) == {"files_not_allowed"}
    assert "fetched 0 documents from 1 sources, 1 quarantined" in caplog.text


def test_pathological_json_is_quarantined_and_the_rest_of_the_folder_kept(tmp_path):
    (tmp_path / "a_deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "b_long_number.json").write_text('{"text": "x", "n": ' + "9" * 5_000 + "}")
    (tmp_path / "c_good.txt").write_text("Una notizia vera.")
    lines = ['{"text": "riga buona"}', "[" * 100_000, '{"n": ' + "1" * 5_000 + "}", '{"text": "altra riga buona"}']
    (tmp_path / "d_mixed.jsonl").write_text("\n".join(lines) + "\n")
    result = fetch([tmp_path])
    assert sorted(Path(u).name for u in result.documents["uri"]) == ["c_good.txt", "d_mixed.jsonl#0", "d_mixed.jsonl#3"]
    assert {Path(u).name: r for u, r in zip(result.quarantine["uri"], result.quarantine["reason"], strict=True)} == {
        "a_deep.json": "invalid_json",
        "b_long_number.json": "invalid_json",
        "d_mixed.jsonl#1": "invalid_json",
        "d_mixed.jsonl#2": "invalid_json",
    }


def test_links_out_of_a_source_folder_are_not_followed(tmp_path):
    folder, elsewhere = tmp_path / "in", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    (elsewhere / "secret.txt").write_text("not for the pipeline")
    (folder / "article.txt").write_text("Una notizia.")
    (folder / "inside.txt").symlink_to(folder / "article.txt")
    (folder / "outside.txt").symlink_to(elsewhere / "secret.txt")
    (folder / "environ.txt").symlink_to("/proc/self/environ")
    result = fetch([folder])
    assert sorted(Path(u).name for u in result.documents["uri"]) == ["article.txt"]  # the inside link: same content
    assert dict(zip(result.quarantine["uri"], result.quarantine["reason"], strict=True)) == {
        str(folder / "environ.txt"): "link_outside_source",
        str(folder / "outside.txt"): "link_outside_source",
    }
    assert b"not for the pipeline" not in b"".join(result.documents["payload"])
