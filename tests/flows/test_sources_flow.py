"""The source registry from the command line, and the registered-sources part of the fetch stage."""

import json
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from flows import stages
from flows.cli import app
from flows.run_summary import build_summary
from stancewire.config import build_params
from stancewire.store import Store
from tasks.web.fetcher import PoliteFetcher
from tests.tasks.newsroom import rss, serve

DAY1, DAY2 = "Tue, 10 Jun 2025 08:00:00 GMT", "Wed, 11 Jun 2025 08:00:00 GMT"


def cli(*args):
    result = CliRunner().invoke(app, ["sources", *map(str, args)])
    return result.exit_code, result.output


def test_sources_add_list_disable(tmp_path):
    db = tmp_path / "cli.duckdb"
    code, out = cli(
        "add",
        "ansa",
        "--kind",
        "rss",
        "--url",
        "https://news.example.it/rss.xml?token=${ANSA_TOKEN}",
        "--language",
        "it",
        "-o",
        "max_items=50",
        "--db",
        db,
    )
    assert code == 0, out
    code, out = cli(
        "add", "leaky", "--kind", "rss", "--url", "https://news.example.it/rss.xml?token=s3cret", "--db", db
    )
    assert code == 1 and "${" in out and "s3cret" not in out  # a literal token would be stored: refused
    yaml_file = tmp_path / "sources.yaml"
    yaml_file.write_text("sources:\n  - {id: lemonde, kind: sitemap, url: 'https://news.example.fr/sitemap.xml'}\n")
    assert cli("add", "--file", yaml_file, "--db", db)[0] == 0
    assert cli("disable", "lemonde", "--db", db) == (0, "lemonde: disabled\n")

    code, out = cli("list", "--format", "json", "--db", db)
    rows = {r["source_id"]: r for r in json.loads(out)}
    assert code == 0 and set(rows) == {"ansa", "lemonde"}
    assert rows["ansa"]["url"] == "https://news.example.it/rss.xml"  # the token is not printed
    assert (rows["ansa"]["language_hint"], json.loads(rows["ansa"]["options"])) == ("it", {"max_items": 50})
    assert rows["lemonde"]["enabled"] is False and rows["ansa"]["consecutive_failures"] == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["add", "x"], "needs an id, --kind and --url"),
        (["add", "Bad", "--kind", "rss", "--url", "https://x.com/f"], "cannot add source Bad"),
        (["add", "x", "--kind", "rss", "--url", "https://x.com/f", "-o", "nonsense"], "key=value"),
        (["disable", "nobody"], "no source 'nobody'"),
    ],
)
def test_sources_cli_refuses_bad_input(tmp_path, args, message):
    code, out = cli(*args, "--db", tmp_path / "cli.duckdb")
    assert code == 1 and message in out


def test_registered_sources_are_fetched_recorded_and_summarised(tmp_path, monkeypatch):
    """The registered-sources part of the fetch stage, as the flow calls it (here outside a flow run)."""
    monkeypatch.setenv("STANCEWIRE_ALLOW_PRIVATE_HOSTS", "true")  # the test's newsroom is on loopback
    with serve() as room:
        for n in (1, 2):
            room.article(f"/it/{n}.html", f"Notizia {n}")
        room.put("/rss.xml", rss([(room.url(f"/it/{n}.html?utm_source=rss"), DAY1) for n in (1, 2)], language="it"))
        sources = tmp_path / "sources.yaml"
        sources.write_text(
            f"sources:\n  - {{id: desk, kind: rss, url: '{room.url('/rss.xml')}', language: it}}\n"
            f"  - {{id: broken, kind: rss, url: '{room.url('/missing.xml')}'}}\n"
            f"  - {{id: paused, kind: rss, url: '{room.url('/paused.xml')}', enabled: false}}\n"
        )
        fetch = {"sources": [], "sources_file": str(sources), "host_delay_s": 0}
        options = build_params(overrides={"fetch": fetch}).fetch
        with Store.open_run(tmp_path / "flow.duckdb") as store:
            first = stages.fetch(store, "run-1", options)
            failing = store.query("SELECT count(*) FILTER (WHERE consecutive_failures > 0) n FROM sources")["n"][0]
            room.article("/it/3.html", "Notizia 3")
            room.put("/rss.xml", rss([(room.url(f"/it/{n}.html"), DAY2 if n == 3 else DAY1) for n in (3, 1, 2)]))
            room.hits.clear()
            fetcher = PoliteFetcher(host_delay_s=0, allow_private_hosts=True)
            second = stages.fetch(store, "run-2", options, fetcher)
            second_hits = sorted(h.path for h in room.hits)
            documents = store.query("SELECT source, uri, run_id FROM documents ORDER BY uri").rows()
            health = store.source_health().select("source_id", "consecutive_failures", "articles_last_run").rows()
            summary = build_summary(
                store, "run-2", [], SimpleNamespace(success=True, markdown=lambda: "ok"), tmp_path / "flow.duckdb"
            )
    assert (first.rows_in, first.rows_out, failing) == (2, 2, 1)
    assert (second.rows_out, fetcher.stats.requests) == (1, 4)
    assert second_hits == ["/it/3.html", "/missing.xml", "/robots.txt", "/rss.xml"]
    assert [d[1].rsplit("/", 1)[1] for d in documents] == ["1.html", "2.html", "3.html"]
    assert {d[0] for d in documents} == {"desk"} and documents[2][2] == "run-2"
    assert health == [("broken", 2, 0), ("desk", 0, 1), ("paused", 0, None)]
    assert "## Source health" in summary and "**source broken failing** (2 runs in a row): http_404" in summary
