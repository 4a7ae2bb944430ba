"""Crash, overlap, reader, hostile-input, data-quality and fetch guarantees: the fast subset.

bench/reliability.py measures the full set (kill -9 at every stage through the command line, 1,000+ bad inputs).
"""

import http.server
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

import tasks.fetch
import tasks.stance
from bench.harness import good_articles, table_rows
from bench.reliability import generate_hostile, hostile_outcomes
from flows.cli import app
from flows.pipeline import ValidationFailed, stancewire_pipeline
from stancewire import frames
from stancewire.config import DEMO_DIR, FetchOptions, ModelOptions, ModelSpec, RunParams, StoreOptions
from stancewire.results import CleanResult, FetchResult
from stancewire.snapshot import open_readonly
from stancewire.store import Store
from tasks.clean import build_language_detector, clean_documents
from tasks.fetch import fetch_sources, fetch_task
from tasks.web import download as dl
from tasks.web.fetcher import PoliteFetcher
from tests.models.tiny import make_tiny_ner, make_tiny_nli
from tests.test_store import make_documents

REPO_ROOT = Path(__file__).resolve().parent.parent
HITS: dict[str, int] = {}  # requests per path on the loopback server


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return ModelSpec(id=str(make_tiny_ner(root / "ner"))), ModelSpec(id=str(make_tiny_nli(root / "nli")))


def params_for(db, tiny_models, sources, **fetch) -> RunParams:
    ner, nli = tiny_models
    return RunParams(
        fetch=FetchOptions(sources=[str(s) for s in sources], **fetch),
        models=ModelOptions(ner=ner, nli=nli),
        store=StoreOptions(db_path=str(db), lock_wait_s=5),
    )


def python(code: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r})\n{code}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )


def count(db: Path, table: str) -> int:
    con = open_readonly(db)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    finally:
        con.close()


# -- crash safety


def test_kill_before_a_commit_loses_only_that_write_and_the_next_run_continues(tmp_path):
    db = tmp_path / "k.duckdb"
    code = (
        "from stancewire.store import Store\nfrom tests.test_store import make_documents\n"
        f"with Store.open_run({str(db)!r}) as store:\n"
        "    store.write_documents(make_documents(['a.txt']), 'run-1')\n"
        "    store.publish()\n"
        "    store.write_documents(make_documents(['b.txt']), 'run-1')\n"  # killed before this commits
        "    print('not reached')"
    )
    victim = python(code, STANCEWIRE_FAULT_AT="documents:2")
    out, err = victim.communicate(timeout=60)
    assert victim.returncode == -signal.SIGKILL, err
    assert "not reached" not in out
    assert count(db, "documents") == 1  # the published snapshot is whole
    with Store.open_run(db, wait_s=5) as store:  # the killed process's lock is gone with it
        assert store.query("SELECT uri FROM documents")["uri"].to_list() == ["a.txt"]
        for _ in range(2):  # redoing the lost write, twice, lands each row once
            store.write_documents(make_documents(["a.txt", "b.txt"]), "run-2")
        assert store.query("SELECT count(*) n FROM documents")["n"][0] == 2


def test_kill_during_publish_keeps_the_old_snapshot_and_leaves_nothing_behind(tmp_path):
    db = tmp_path / "p.duckdb"
    code = (
        "from stancewire.store import Store\nfrom tests.test_store import make_documents\n"
        f"with Store.open_run({str(db)!r}) as store:\n"
        "    store.write_documents(make_documents(['a.txt']), 'run-1')\n"
        "    store.publish()\n"
        "    store.write_documents(make_documents(['b.txt']), 'run-1')\n"
        "    store.publish()"  # killed between copying the snapshot and renaming it into place
    )
    victim = python(code, STANCEWIRE_FAULT_AT="publish:2")
    _, err = victim.communicate(timeout=60)
    assert victim.returncode == -signal.SIGKILL, err
    assert count(db, "documents") == 1
    assert [p.name for p in tmp_path.glob("p.duckdb.tmp-*")]  # the half-published copy
    with Store.open_run(db, wait_s=5) as store:
        assert not list(tmp_path.glob("p.duckdb.tmp-*"))  # cleared by the next run
        store.publish()
    assert count(db, "documents") == 2


def test_a_killed_load_leaves_all_of_its_batch_or_none(tmp_path):
    db = tmp_path / "l.duckdb"
    code = (
        "import polars as pl\nfrom stancewire import frames\nfrom stancewire.store import Store\n"
        "from stancewire.results import FetchResult\nfrom tests.test_store import make_documents\n"
        "quarantine = pl.DataFrame([{'item_id': 'x', 'stage': 'fetch', 'reason': 'r'}], schema=frames.QUARANTINE)\n"
        f"with Store.open_run({str(db)!r}) as store:\n"
        "    store.save(FetchResult(make_documents(['a.txt']), quarantine.clear()), 'run-1')\n"
        "    store.save(FetchResult(make_documents(['b.txt']), quarantine), 'run-1')"
    )
    victim = python(code, STANCEWIRE_FAULT_AT="quarantine:2")  # the documents of that call are written by then
    _, err = victim.communicate(timeout=60)
    assert victim.returncode == -signal.SIGKILL, err
    with Store.open_run(db, wait_s=5) as store:
        assert store.query("SELECT uri FROM documents")["uri"].to_list() == ["a.txt"]
        assert store.query("SELECT count(*) n FROM quarantine")["n"][0] == 0


def test_a_failed_load_rolls_back_all_of_its_batch(tmp_path):
    from tests.test_store import make_articles

    docs = make_documents()
    articles, sentences = make_articles(docs)
    bad = pl.DataFrame([{"item_id": "x", "stage": "clean", "reason": "r"}], schema=frames.QUARANTINE)

    def cleaned(articles):
        return CleanResult(
            articles,
            sentences,
            bad,
            pl.DataFrame(schema=frames.BOILERPLATE_LINES),
            pl.DataFrame(schema=frames.SOURCE_LINES),
        )

    with Store.open_run(tmp_path / "f.duckdb") as store:
        store.save(FetchResult(docs, bad.clear()), "run-1")
        with pytest.raises(ValueError, match="sentences belong to articles not in this batch"):
            store.save(cleaned(articles.head(1)), "run-1")
        assert store.query("SELECT count(*) n FROM quarantine")["n"][0] == 0  # written before the failing part
        store.save(cleaned(articles), "run-1")  # usable
        assert store.query("SELECT count(*) n FROM articles")["n"][0] == 2


def test_fault_spec_is_checked():
    from stancewire.faults import _target

    assert _target("stance:3") == ("stance", 3)
    assert _target(None) is None
    for bad in ("stance", "stance:0", ":2", "stance:x"):
        with pytest.raises(ValueError, match="STANCEWIRE_FAULT_AT"):
            _target(bad)


# -- the flow: overlap, readers, hostile input, data quality


@pytest.fixture(scope="module")
def articles(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("articles")
    good_articles(root / "first", 4, seed=1)
    good_articles(root / "more", 3, seed=2)
    for path in (root / "more").iterdir():
        path.rename(path.with_name("more-" + path.name))
    return root / "first", root / "more"


HOLD_WORK_DB = (
    "import time\nfrom stancewire.store import Store\n"
    "with Store.open_run({db!r}):\n"
    "    print('holding', flush=True)\n"
    "    sys.stdin.readline()\n"
    "    time.sleep({hold})"
)


def test_second_run_refuses_with_a_clear_message_then_waits_when_allowed(
    prefect_backend, tmp_path, tiny_models, articles, monkeypatch
):
    db = tmp_path / "o.duckdb"
    ner, nli = tiny_models
    command = ["run", "--db", str(db), "--source", str(articles[0]), "--ner-model", ner.id, "--nli-model", nli.id]
    holder = python(HOLD_WORK_DB.format(db=str(db), hold=0))
    assert holder.stdout.readline().strip() == "holding"
    monkeypatch.setenv("STANCEWIRE_LOCK_WAIT_S", "0.5")
    refused = CliRunner().invoke(app, command)
    assert refused.exit_code == 1
    assert f"another run is in progress: process {holder.pid}" in refused.output
    assert "Traceback" not in refused.output
    holder.communicate("release\n", timeout=30)

    waiter = python(HOLD_WORK_DB.format(db=str(db), hold=2))  # another run that ends 2 s from now
    assert waiter.stdout.readline().strip() == "holding"
    waiter.stdin.write("go\n")
    waiter.stdin.flush()
    monkeypatch.setenv("STANCEWIRE_LOCK_WAIT_S", "60")
    started = time.monotonic()
    ran = CliRunner().invoke(app, command)
    assert ran.exit_code == 0, ran.output
    assert time.monotonic() - started >= 1.5  # it waited for the other one
    waiter.communicate(timeout=30)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT status, count(*) FROM runs GROUP BY ALL").fetchall() == [("succeeded", 1)]
        assert con.execute("SELECT count(*) FROM articles").fetchall()[0][0] == 4


READER = """
import json, time
import duckdb
from typer.testing import CliRunner
from flows.cli import app
db = {db!r}
held = duckdb.connect(db, read_only=True)
stats = {{"held": [], "cli": [], "errors": []}}
print("ready", flush=True)
while not __import__("os").path.exists({stop!r}):
    try:
        stats["held"].append(held.execute("SELECT count(*) FROM articles").fetchall()[0][0])
        out = CliRunner().invoke(app, ["query", "--db", db, "--format", "csv", "SELECT count(*) AS n FROM articles"])
        if out.exit_code:
            stats["errors"].append(out.output)
        else:
            stats["cli"].append(int(out.output.split()[-1]))
    except Exception as exc:
        stats["errors"].append(repr(exc))
    time.sleep(0.05)
print(json.dumps(stats), flush=True)
"""


def test_readers_keep_working_through_a_whole_run_and_then_see_the_new_data(
    prefect_backend, tmp_path, tiny_models, articles
):
    db = tmp_path / "r.duckdb"
    assert stancewire_pipeline(params=params_for(db, tiny_models, [articles[0]])).status == "succeeded"
    stop = tmp_path / "stop"
    reader = python(READER.format(db=str(db), stop=str(stop)))
    assert reader.stdout.readline().strip() == "ready"  # holds the published file open from here on
    result = stancewire_pipeline(params=params_for(db, tiny_models, list(articles)))
    stop.touch()
    out, err = reader.communicate(timeout=60)
    assert result.status == "succeeded"
    assert reader.returncode == 0, err
    stats = json.loads(out.splitlines()[-1])
    assert stats["errors"] == []
    assert len(stats["held"]) >= 3 and set(stats["held"]) == {4}  # the open connection keeps its snapshot
    assert set(stats["cli"]) <= {4, 7} and len(stats["cli"]) >= 3  # `stancewire query` during the run works
    assert count(db, "articles") == 7  # a new reader sees the new run


def test_hostile_inputs_are_quarantined_with_a_reason_and_good_ones_processed(
    prefect_backend, tmp_path, tiny_models, loopback, monkeypatch
):
    items = generate_hostile(tmp_path / "in", count=80, good=6, giants=False)
    for name, value in {"HOSTILE_TOKEN": "T0K3N", "HOSTILE_USER": "bob", "HOSTILE_PASS": "hunter2"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("STANCEWIRE_ALLOW_PRIVATE_HOSTS", "true")  # a deployment-level switch
    secret_urls = [
        f"{loopback}/article.html?token=${{HOSTILE_TOKEN}}",
        f"{loopback.replace('://', '://${HOSTILE_USER}:${HOSTILE_PASS}@')}/gone.html",
    ]
    db = tmp_path / "h.duckdb"
    params = params_for(db, tiny_models, [tmp_path / "in", *secret_urls], host_delay_s=0, respect_robots=False)
    result = stancewire_pipeline(params=params)
    assert result.status == "succeeded"
    outcome = hostile_outcomes(db, items)
    assert outcome["lost"] == 0 and outcome["unexpected"] == []
    assert outcome["categories"]["good article"]["processed"] == 6
    assert outcome["categories"]["right-to-left text"]["processed"] > 0
    assert sum(row["quarantined"] for row in outcome["categories"].values()) > 60
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM quarantine WHERE coalesce(reason, '') = ''").fetchall()[0][0] == 0
        assert con.execute("SELECT count(*) FROM stance").fetchall()[0][0] > 0
        languages = {r[0] for r in con.execute("SELECT language FROM articles").fetchall()}
    assert "ar" in languages
    dump = json.dumps({t: sorted(rows) for t, rows in table_rows(db).items()}, ensure_ascii=False)
    with duckdb.connect(str(db), read_only=True) as con:
        dump += json.dumps(con.execute("SELECT params, summary_md FROM runs").fetchall())
    assert "article.html" in dump and "gone.html" in dump
    for secret in ("T0K3N", "hunter2", "bob:"):
        assert secret not in dump


def test_failed_suite_names_expectation_and_rows_and_keeps_the_last_good_snapshot(
    prefect_backend, tmp_path, tiny_models, articles, monkeypatch
):
    db = tmp_path / "v.duckdb"
    stancewire_pipeline(params=params_for(db, tiny_models, [articles[0]]))
    published = table_rows(db)
    real_aggregate = tasks.stance.aggregate

    def corrupt(scored, **kw):
        return real_aggregate(scored, **kw).with_columns(p_entailment=pl.col("p_entailment") + 0.3)

    monkeypatch.setattr(tasks.stance, "aggregate", corrupt)
    with pytest.raises(ValidationFailed) as failed:
        stancewire_pipeline(params=params_for(db, tiny_models, [articles[0], DEMO_DIR / "articles"]))
    report = str(failed.value)
    assert "### stance" in report and "nothing was published" in report
    assert "expect_column_values_to_be_between" in report or "expect_column_values_to_be_in_set" in report
    assert "**p_sum**" in report
    rejected = next(tmp_path.glob("v.duckdb.rejected-*"))
    assert str(rejected) in report and not Path(f"{db}.work").exists()
    with duckdb.connect(str(rejected), read_only=True) as con:
        bad = con.execute(
            "SELECT article_id, claim_id FROM stance WHERE abs(p_entailment + p_neutral + p_contradiction - 1) > 1e-3"
        ).fetchall()
        statuses = [s for (s,) in con.execute("SELECT status FROM runs ORDER BY started_at").fetchall()]
    assert bad and any(f"`{a}|{c}|" in report for a, c in bad)  # sample keys of offending rows are named
    assert statuses == ["succeeded", "validation_failed"]
    assert table_rows(db) == published  # the published snapshot still holds the last good run only


# -- fetch safety against a real loopback server


@pytest.fixture(scope="module")
def loopback(tmp_path_factory):
    """Paths: /redirect/<n> (n hops), /drip (a slow body), /big (chunked, 50 kB), /flaky (503 twice, then 200),
    /down (always 503), /gone (404), /article.html. Counts requests per path."""
    root = tmp_path_factory.mktemp("www")
    (root / "article.html").write_text(
        "<html><body><article><p>Il consiglio comunale di Valmora ha approvato il bilancio con dodici voti favorevoli "
        "e tre contrari dopo una lunga discussione.</p></article></body></html>",
        encoding="utf-8",
    )

    class Handler(http.server.SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

        def do_GET(self):
            path = self.path.split("?")[0]
            HITS[path] = HITS.get(path, 0) + 1
            if path.startswith("/redirect/"):
                n = int(path.rsplit("/", 1)[1])
                self._send(302, b"", location="/article.html" if n == 0 else f"/redirect/{n - 1}?token=T0K3N")
            elif path == "/drip":
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "20")
                self.end_headers()
                for _ in range(20):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.1)
            elif path == "/drip-headers":
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                for n in range(40):
                    self.wfile.write(f"X-Slow-{n}: y\r\n".encode())
                    self.wfile.flush()
                    time.sleep(0.1)
                self.wfile.write(b"Content-Length: 0\r\n\r\n")
            elif path == "/big":
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for _ in range(50):
                    self.wfile.write(b"400\r\n" + b"y" * 1024 + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            elif path == "/flaky":
                self._send(503 if HITS[path] <= 2 else 200, b"ok now")
            elif path == "/down":
                self._send(503, b"")
            else:
                super().do_GET()

        def _send(self, status, body, location=None):
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def fetch_reasons(urls, **kwargs) -> dict[str, str]:
    result = fetch_sources(urls, PoliteFetcher(allow_private_hosts=True, host_delay_s=0, **kwargs))
    reasons = dict(zip(result.quarantine["uri"], result.quarantine["reason"], strict=True))
    return reasons | {uri: "ok" for uri in result.documents["uri"]}


def test_loopback_redirects_are_bounded(loopback):
    most = f"{loopback}/redirect/{dl.MAX_REDIRECTS - 1}"  # /redirect/n takes n + 1 hops
    assert fetch_reasons([most]) == {most: "ok"}
    too_many = f"{loopback}/redirect/{dl.MAX_REDIRECTS}"
    assert fetch_reasons([too_many]) == {too_many: "too_many_redirects"}


def test_loopback_size_and_time_caps(loopback, monkeypatch):
    assert fetch_reasons([f"{loopback}/big"], max_bytes=10_000) == {f"{loopback}/big": "too_large"}
    assert fetch_reasons([f"{loopback}/big"], max_bytes=100_000) == {f"{loopback}/big": "ok"}
    monkeypatch.setattr(dl, "MAX_DOWNLOAD_S", 0.5)
    started = time.monotonic()
    assert fetch_reasons([f"{loopback}/drip"]) == {f"{loopback}/drip": "timeout"}
    assert time.monotonic() - started < 1.5  # the 2 s body was cut off, not retried


def test_loopback_response_headers_dripped_slowly_are_cut_off_too(loopback, monkeypatch):
    monkeypatch.setattr(dl, "MAX_DOWNLOAD_S", 0.5)
    started = time.monotonic()
    assert fetch_reasons([f"{loopback}/drip-headers"]) == {f"{loopback}/drip-headers": "timeout"}
    assert time.monotonic() - started < 1.5  # 4 s of headers, cut at the cap and not retried


def test_loopback_private_address_needs_the_allowance(loopback):
    result = fetch_sources([f"{loopback}/article.html"])
    assert result.documents.height == 0 and result.quarantine["reason"].to_list() == ["private_host"]


def test_loopback_transient_errors_are_retried_with_backoff_permanent_ones_recorded_once(loopback, monkeypatch):
    sleeps: list[float] = []
    clock = SimpleNamespace(sleep=sleeps.append, monotonic=time.monotonic, time=time.time)
    monkeypatch.setattr(dl, "time", clock)  # this module's clock only: the server's threads sleep for real
    reasons = fetch_reasons([f"{loopback}/flaky", f"{loopback}/down", f"{loopback}/gone"])
    hits = {path: n for path, n in HITS.items() if path in ("/flaky", "/down", "/gone")}
    assert reasons == {f"{loopback}/flaky": "ok", f"{loopback}/down": "http_503", f"{loopback}/gone": "http_404"}
    assert hits == {"/flaky": 3, "/down": dl.MAX_ATTEMPTS, "/gone": 1}
    backoff = [dl.BACKOFF_BASE_S, dl.BACKOFF_BASE_S * 2]
    assert sleeps == backoff * 2  # flaky and down back off alike; the 404 is not retried


def test_credentials_never_reach_logs(loopback, caplog, monkeypatch):
    monkeypatch.setattr(tasks.fetch, "get_run_logger", lambda: logging.getLogger("test.fetch"))
    urls = [
        f"{loopback.replace('://', '://bob:hunter2@')}/article.html?api_key=K3Y&page=1",
        f"{loopback}/redirect/2?token=T0K3N",
        f"{loopback}/gone?sig=S1G",
    ]
    with caplog.at_level(logging.DEBUG):
        result = fetch_task.fn(urls, PoliteFetcher(allow_private_hosts=True, host_delay_s=0))
    assert "HTTP Request" in caplog.text  # httpx did log every request, redacted
    for secret in ("hunter2", "bob", "K3Y", "T0K3N", "S1G"):
        assert secret not in caplog.text
        assert secret not in str(result.documents.drop("payload").to_dicts()) + str(result.quarantine.to_dicts())


def test_html_and_text_size_limits_quarantine_instead_of_stalling():
    import tasks.clean
    import tasks.text.extract

    docs = make_documents(["ok.txt"])
    big_html = "<html><body>" + "<span>x</span>" * (tasks.text.extract.MAX_HTML_ELEMENTS + 1) + "</body></html>"
    long_text = "Roma è grande. " * (tasks.clean.MAX_TEXT_CHARS // 15 + 1)
    rows = [
        {**docs.row(0, named=True), "doc_id": "html", "content_type": "text/html", "payload": big_html.encode()},
        {**docs.row(0, named=True), "doc_id": "text", "payload": long_text.encode()},
    ]
    result = clean_documents(pl.DataFrame(rows, schema=docs.schema), detector=build_language_detector())
    reasons = dict(zip(result.quarantine["item_id"], result.quarantine["reason"], strict=True))
    assert reasons == {"html": "too_complex", "text": "too_long"}


def test_a_foreign_writers_wal_never_bricks_the_published_store(tmp_path):
    db = tmp_path / "w.duckdb"
    with Store.open_run(db) as store:
        store.write_documents(make_documents(["a.txt"]), "run-1")
        store.publish()
    foreign = (  # as `duckdb w.duckdb` would: opened read-write, written, then killed
        f"import duckdb, os, signal\ncon = duckdb.connect({str(db)!r})\n"
        "con.execute('CREATE TABLE scratch AS SELECT 1 AS x')\nos.kill(os.getpid(), signal.SIGKILL)"
    )
    victim = python(foreign)
    victim.communicate(timeout=60)
    assert Path(f"{db}.wal").exists()
    with Store.open_run(db, wait_s=5) as store:
        store.write_documents(make_documents(["b.txt"]), "run-2")
        store.publish()
    assert not Path(f"{db}.wal").exists()
    con = open_readonly(db)
    assert con.execute("SELECT count(*) FROM documents").fetchone()[0] == 2
    con.close()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="the watchdog reads /proc (Linux)")
def test_a_killed_command_takes_its_temporary_prefect_server_with_it(tmp_path, tiny_models):
    from bench.hardening import temporary_server_left_behind

    ner, nli = tiny_models
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"), "HF_HUB_OFFLINE": "1"}
    env.pop("PREFECT_API_URL", None)  # no server configured: the run starts a temporary one
    command = [sys.executable, "-c", "from flows.cli import app; app()", "run", "--db", str(tmp_path / "k.duckdb")]
    command += ["--ner-model", ner.id, "--nli-model", nli.id, "--device", "cpu"]
    assert temporary_server_left_behind(command, env) is None
