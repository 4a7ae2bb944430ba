"""Parquet export of the published store: every table read back through the views equals the table it came from."""

import json
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import duckdb
import pytest
from typer.testing import CliRunner

import stancewire.lake as lake
from flows.cli import app
from flows.pipeline import stancewire_pipeline
from stancewire.config import REPO_ROOT
from stancewire.lake import ExportError, create_views, export
from stancewire.snapshot import work_path
from stancewire.store import Store
from tests.flows.test_pipeline import params_for, tiny_models  # noqa: F401  (tiny_models is a fixture)

pytestmark = pytest.mark.usefixtures("prefect_backend")

PARTITIONED = {
    "documents",
    "articles",
    "sentences",
    "boilerplate_lines",
    "mentions",
    "mentions_done",
    "mention_links",
    "stance",
    "quantities",
    "quantities_done",
}
ONE_FILE = {
    "runs",
    "stage_runs",
    "claims",
    "validation_results",
    "quarantine",
    "source_lines",
    "sources",
    "fetch_state",
    "entities",
    "entity_overrides",
}


@pytest.fixture(scope="module")
def published(tmp_path_factory, tiny_models):  # noqa: F811
    """The demo corpus run once, with the flow's export stage on: (database, its export directory)."""
    root = tmp_path_factory.mktemp("lake")
    db, lake_dir = root / "store.duckdb", root / "flow-lake"
    result = stancewire_pipeline(params=params_for(db, tiny_models, export_dir=str(lake_dir)))
    assert result.status == "succeeded"
    return db, lake_dir


def store_tables(db) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE table_name NOT IN ('schema_version', 'data_version') "
                "ORDER BY 1"
            ).fetchall()
        ]


@contextmanager
def lake_and_store(views_db, db) -> Iterator[duckdb.DuckDBPyConnection]:
    """The lake views, with the store attached as `src`."""
    with duckdb.connect(str(views_db), read_only=True) as con:
        con.execute(f"ATTACH '{db}' AS src (READ_ONLY)")
        con.execute("SET TimeZone = 'UTC'")
        yield con


def differences(con, lake_sql: str, store_sql: str) -> tuple[int, int, int, int]:
    """(lake rows, store rows, rows only in the lake, rows only in the store), rows compared whole."""
    return con.execute(
        f"SELECT (SELECT count(*) FROM ({lake_sql})), (SELECT count(*) FROM ({store_sql})), "
        f"(SELECT count(*) FROM ({lake_sql} EXCEPT ALL {store_sql})), "
        f"(SELECT count(*) FROM ({store_sql} EXCEPT ALL {lake_sql}))"
    ).fetchall()[0]


def column_types(con, relation: str) -> dict[str, str]:
    return {name: kind for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}


def test_every_table_reads_back_identical_through_the_views(published, tmp_path):
    db, _ = published
    out, views_db = tmp_path / "lake", tmp_path / "lake.duckdb"
    result = export(db, out, payloads=True)
    names = create_views(out, views_db)
    tables = store_tables(db)
    assert [t.name for t in result.tables] == tables
    assert PARTITIONED <= {t.name for t in result.tables if t.partitioned}
    assert ONE_FILE <= {t.name for t in result.tables if not t.partitioned}
    assert set(tables) <= set(names)
    exported_rows, partitioned_tables = 0, {t.name for t in result.tables if t.partitioned}
    with lake_and_store(views_db, db) as con:
        for table in tables:
            lake_types, store_types = column_types(con, table), column_types(con, f"src.{table}")
            partitioned = table in partitioned_tables
            if partitioned:
                assert lake_types.pop("date") == "DATE" and lake_types.pop("source_key") == "VARCHAR"
            assert lake_types == store_types, table
            lake_sql = f"SELECT * {'EXCLUDE (date, source_key)' if partitioned else ''} FROM {table}"
            n_lake, n_store, only_lake, only_store = differences(con, lake_sql, f"SELECT * FROM src.{table}")
            assert (n_lake, only_lake, only_store) == (n_store, 0, 0), table
            exported_rows += n_store
    assert result.rows == exported_rows
    assert exported_rows > 300  # the demo corpus, not an empty store
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["payloads"] is True
    assert {name: t["rows"] for name, t in manifest["tables"].items()} == {t.name: t.rows for t in result.tables}


def test_partitions_are_the_publication_day_and_the_source(published, tmp_path):
    db, _ = published
    out, views_db = tmp_path / "lake", tmp_path / "lake.duckdb"
    export(db, out)
    create_views(out, views_db)
    expected = (
        "SELECT a.article_id, CAST(timezone('UTC', coalesce(a.published, d.fetched_at)) AS DATE) AS date "
        "FROM src.articles a JOIN src.documents d ON d.doc_id = a.doc_id"
    )
    with lake_and_store(views_db, db) as con:
        _, n, only_lake, only_store = differences(con, "SELECT article_id, date FROM sentences GROUP BY ALL", expected)
        assert (only_lake, only_store) == (0, 0) and n > 10
        dates = con.execute(
            "SELECT count(DISTINCT date), count(*) FILTER (WHERE date IS NULL) FROM articles"
        ).fetchall()
        keys = dict(
            con.execute("SELECT d.uri, a.source_key FROM articles a JOIN documents d USING (doc_id)").fetchall()
        )
        sources = dict(con.execute("SELECT uri, source FROM documents").fetchall())
    assert dates[0][0] > 1 and dates[0][1] == 0
    hosts = {uri: urlsplit(uri).hostname for uri in keys if uri.startswith("http")}
    assert len(hosts) > 1 and len(hosts) < len(keys)  # the demo has pages with and without a URL
    sanitised = {uri: re.sub(r"[^a-z0-9._-]+", "_", source.lower()).strip("_.") for uri, source in sources.items()}
    assert keys == {uri: hosts.get(uri) or sanitised[uri] for uri in keys}
    day_dirs = {p.name for p in (out / "stance").iterdir()}
    assert all(d.startswith("date=") for d in day_dirs) and len(day_dirs) == dates[0][0]
    assert all(p.parent.name.startswith("source_key=") for p in (out / "stance").rglob("*.parquet"))
    # the payload column is left out unless asked for
    with duckdb.connect(str(views_db), read_only=True) as con:
        assert "payload" not in column_types(con, "documents")


def test_source_key_is_the_host_or_the_source_as_a_path_component():
    cases = {
        ("https://user@WWW.Example.COM:8443/a/b?x=1", "feed-x"): "www.example.com",
        ("http://news.example.it", None): "news.example.it",
        ("/data/News Dump/a.txt", "/data/News Dump"): "data_news_dump",
        ("C:\\dump\\x.html", "C:\\dump/..//"): "c_dump",
        ("file:///srv/a.txt", "ansa-politica"): "ansa-politica",
        (None, None): None,
        ("x", "///"): None,
    }
    with duckdb.connect() as con:
        for (uri, source), key in cases.items():
            got = con.execute(
                f"SELECT {lake._source_key('$uri', '$source')}", {"uri": uri, "source": source}
            ).fetchall()
            assert got[0][0] == key, (uri, source)


def test_analyst_views_give_the_same_answers_on_the_lake(published, tmp_path):
    db, _ = published
    out, views_db = tmp_path / "lake", tmp_path / "lake.duckdb"
    export(db, out)
    names = create_views(out, views_db)
    assert {"v_article_stance", "v_entity_mentions", "v_claim_support_by_source_day"} <= set(names)
    with lake_and_store(views_db, db) as con:
        for view in ("v_article_stance", "v_claim_support_by_source_day", "v_entity_mentions", "v_runs"):
            n_lake, n_store, only_lake, only_store = differences(
                con, f"SELECT * FROM {view}", f"SELECT * FROM src.{view}"
            )
            assert (n_lake, only_lake, only_store) == (n_store, 0, 0), view
    assert n_store > 0


def test_flow_stage_exports_the_published_tables_and_records_itself(published):
    db, lake_dir = published
    manifest = json.loads((lake_dir / "manifest.json").read_text())
    with duckdb.connect(str(db), read_only=True) as con:
        run_id = con.execute("SELECT run_id FROM runs").fetchall()[0][0]
        articles = con.execute("SELECT count(*) FROM articles").fetchall()[0][0]
    assert manifest["last_run"]["run_id"] == run_id and manifest["tables"]["articles"]["rows"] == articles
    with duckdb.connect(str(work_path(db)), read_only=True) as con:  # the stage ran after publishing
        stage = con.execute("SELECT status, rows_in, rows_out FROM stage_runs WHERE stage = 'export'").fetchall()
    assert stage == [("ok", len(manifest["tables"]), sum(t["rows"] for t in manifest["tables"].values()))]
    views = (lake_dir / "views.sql").read_text()
    assert f"read_parquet('{lake_dir}/articles/**/*.parquet', hive_partitioning = true" in views


def test_the_flow_exports_again_only_when_the_data_changed_or_the_export_is_gone(tmp_path, tiny_models):  # noqa: F811
    db, lake_dir = tmp_path / "store.duckdb", tmp_path / "lake"
    params = params_for(db, tiny_models, export_dir=str(lake_dir))
    stancewire_pipeline(params=params)
    manifest = (lake_dir / "manifest.json").read_text()
    assert json.loads(manifest)["data_version"]
    unchanged = stancewire_pipeline(params=params)
    assert (lake_dir / "manifest.json").read_text() == manifest
    shutil.rmtree(lake_dir)
    restored = stancewire_pipeline(params=params)
    assert json.loads((lake_dir / "manifest.json").read_text())["data_version"] == json.loads(manifest)["data_version"]
    with duckdb.connect(str(work_path(db)), read_only=True) as con:
        exports = dict(
            con.execute("SELECT run_id, count(*) FROM stage_runs WHERE stage = 'export' GROUP BY 1").fetchall()
        )
    assert unchanged.run_id not in exports and exports[restored.run_id] == 1


def test_cli_exports_selected_tables_and_replaces_the_previous_export(published, tmp_path):
    db, _ = published
    out, views_db = tmp_path / "lake", tmp_path / "views.duckdb"
    runner = CliRunner()
    first = runner.invoke(app, ["export", str(out), "--db", str(db)])
    assert first.exit_code == 0, first.output
    assert "stance" in first.output and "by date/source" in first.output and "views.sql" in first.output
    second = runner.invoke(
        app, ["export", str(out), "--db", str(db), "-t", "claims", "-t", "stance", "--views-db", str(views_db)]
    )
    assert second.exit_code == 0, second.output
    assert sorted(p.name for p in out.iterdir()) == ["claims", "manifest.json", "stance", "views.sql"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".lake.export-")] == []
    with lake_and_store(views_db, db) as con:
        counts = con.execute(
            "SELECT (SELECT count(*) FROM claims), (SELECT count(*) FROM src.claims), "
            "(SELECT count(*) FROM stance), (SELECT count(*) FROM src.stance)"
        ).fetchall()[0]
    assert counts[0] == counts[1] > 1 and counts[2] == counts[3] > 1


def test_cli_refuses_bad_input_clearly(published, tmp_path):
    db, _ = published
    runner = CliRunner()
    missing = runner.invoke(app, ["export", str(tmp_path / "out"), "--db", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 1 and "does not exist" in missing.output
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    as_file = runner.invoke(app, ["export", str(a_file), "--db", str(db)])
    assert as_file.exit_code == 1 and "is not a directory" in as_file.output and a_file.read_text() == "x"
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_text("meow")
    refused = runner.invoke(app, ["export", str(foreign), "--db", str(db)])
    assert refused.exit_code == 1 and "refusing to replace" in refused.output
    assert [p.name for p in foreign.iterdir()] == ["cat.jpg"]
    unknown = runner.invoke(app, ["export", str(tmp_path / "out"), "--db", str(db), "-t", "nope"])
    assert unknown.exit_code == 1 and "no table nope" in unknown.output and not (tmp_path / "out").exists()
    into_store = runner.invoke(app, ["export", str(tmp_path / "out"), "--db", str(db), "--views-db", str(db)])
    assert into_store.exit_code == 1 and "is the stancewire database itself" in into_store.output


def test_a_failed_export_leaves_the_previous_one_in_place(published, tmp_path, monkeypatch):
    db, _ = published
    out = tmp_path / "lake"
    export(db, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    real = lake._export_table
    done = []

    def fail_on_third(con, table, *args, **kwargs):
        if len(done) == 2:
            raise OSError(28, "No space left on device")
        done.append(table)
        return real(con, table, *args, **kwargs)

    monkeypatch.setattr(lake, "_export_table", fail_on_third)
    with pytest.raises(ExportError, match="previous export there is unchanged: .*No space left"):
        export(db, out)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lake.export.lock", "lake"]


def test_an_empty_store_exports_readable_empty_views(tmp_path):
    db = tmp_path / "empty.duckdb"
    with Store.open_run(db) as store:
        store.publish()
    out, views_db = tmp_path / "lake", tmp_path / "lake.duckdb"
    result = export(db, out)
    assert result.rows == 0 and len(result.tables) == len(store_tables(db))
    create_views(out, views_db)
    with duckdb.connect(str(views_db), read_only=True) as con:
        for table in store_tables(db):
            assert con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0] == 0
        types = column_types(con, "stance")
        assert (types["date"], types["source_key"], types["p_entailment"]) == ("DATE", "VARCHAR", "DOUBLE")
        assert con.execute("SELECT count(*) FROM v_article_stance").fetchall()[0][0] == 0


def test_export_runs_while_another_process_holds_the_run(published, tmp_path):
    db = tmp_path / "busy.duckdb"
    db.write_bytes(published[0].read_bytes())
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, time
            from stancewire.store import Store
            with Store.open_run({str(db)!r}) as store:
                store.con.execute("UPDATE claims SET enabled = false")  # a run in progress, not yet published
                print("holding", flush=True)
                sys.stdin.read()
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        result = CliRunner().invoke(app, ["export", str(tmp_path / "lake"), "--db", str(db), "-t", "claims"])
        assert result.exit_code == 0, result.output
        with duckdb.connect() as con:
            enabled = con.execute(f"SELECT bool_and(enabled) FROM '{tmp_path}/lake/claims/*.parquet'").fetchall()
        assert enabled == [(True,)]  # the published snapshot, not the run's working state
    finally:
        holder.communicate("", timeout=30)
    assert holder.returncode == 0


def test_query_reads_a_lake_through_its_views_and_writes_nothing(published, tmp_path):
    db, _ = published
    out, secret = tmp_path / "lake", tmp_path / "secret.csv"
    secret.write_text("a\nsecret\n")
    runner = CliRunner()
    assert runner.invoke(app, ["export", str(out), "--db", str(db)]).exit_code == 0
    sql = "SELECT (SELECT count(*) FROM stance) s, (SELECT count(*) FROM v_article_stance) v"
    from_lake = runner.invoke(app, ["query", "--lake", str(out), "--format", "csv", sql])
    from_db = runner.invoke(app, ["query", "--db", str(db), "--format", "csv", sql])
    assert from_lake.exit_code == 0, from_lake.output
    assert from_lake.output == from_db.output and from_lake.output.splitlines()[1] != "0,0"
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    for bad in (
        f"COPY (SELECT 1) TO '{out}/stance/x.parquet'",
        f"SELECT * FROM read_csv('{secret}')",
        "CREATE TABLE t AS SELECT 1",
    ):
        refused = runner.invoke(app, ["query", "--lake", str(out), bad])
        assert refused.exit_code == 2 and refused.output.startswith("query failed:"), (bad, refused.output)
        assert "secret" not in refused.output.replace(str(secret), "")
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    nothing = runner.invoke(app, ["query", "--lake", str(tmp_path), "SELECT 1"])
    assert nothing.exit_code == 1 and "holds no stancewire export" in nothing.output
