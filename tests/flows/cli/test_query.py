import base64
import csv
import io
import json

import duckdb
import pytest
from typer.testing import CliRunner

from flows.cli import app
from stancewire.store import Store
from tests.test_store import fill


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    db = tmp_path_factory.mktemp("query") / "q.duckdb"
    with Store.open_run(db) as store:
        fill(store)
        store.publish()
    return db


def query(db, *args):
    result = CliRunner().invoke(app, ["query", "--db", str(db), *args])
    return result.exit_code, result.output


def relations(db):
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [n for (n,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT internal").fetchall()]
        views = [n for (n,) in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()]
    return tables + views


def test_every_table_and_view_exports_as_csv_and_json(published):
    names = relations(published)
    assert {"documents", "articles", "mentions", "quantities", "v_entities"} <= set(names)
    for name in names:
        for fmt in ("csv", "json"):
            code, out = query(published, "--format", fmt, f"SELECT * FROM {name}")
            assert code == 0, (name, fmt, out)


def test_binary_is_base64_and_nested_values_json_in_csv(published):
    code, out = query(published, "--format", "csv", "SELECT payload, [1, 2] AS xs, {'a': 1} AS s FROM documents")
    assert code == 0
    row = next(csv.DictReader(io.StringIO(out)))
    assert base64.b64decode(row["payload"])  # the raw bytes, decodable
    assert json.loads(row["xs"]) == [1, 2] and json.loads(row["s"]) == {"a": 1}
    code, out = query(published, "--format", "json", "SELECT payload FROM documents")
    assert code == 0 and base64.b64decode(json.loads(out)[0]["payload"])


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("", "the SQL is empty"),
        ("   ", "the SQL is empty"),
        ("SELEC 1", "Parser Error"),
        ("SELECT * FROM nope", "nope"),
    ],
)
def test_bad_sql_gets_one_line(published, sql, message):
    code, out = query(published, sql)
    assert code == 2 and out.startswith("query failed:") and message in out
    assert len(out.strip().splitlines()) == 1 and "Traceback" not in out


def test_parquet_and_files_and_a_vertical_view_for_wide_rows(published, tmp_path):
    import polars as pl

    out = tmp_path / "documents.parquet"
    code, said = query(published, "--format", "parquet", "--output", str(out), "SELECT * FROM documents")
    assert code == 0 and said.strip() == f"2 rows written to {out}"
    assert pl.read_parquet(out)["payload"].dtype == pl.Binary and pl.read_parquet(out).height == 2
    assert query(published, "--format", "parquet", "SELECT 1")[0] == 2  # bad input: a file is needed
    csv_file = tmp_path / "a.csv"
    assert query(published, "--format", "csv", "-o", str(csv_file), "SELECT 1 AS one")[0] == 0
    assert csv_file.read_text() == "one\n1\n"
    code, said = query(published, "--vertical", "SELECT 'x' || repeat('y', 300) AS long, 2 AS n")
    lines = said.splitlines()
    assert code == 0 and lines[0].startswith("-- row 1") and lines[2] == "   n: 2"
    assert lines[1].startswith("long: xyyy") and lines[1].endswith("…") and len(lines[1]) < 120
