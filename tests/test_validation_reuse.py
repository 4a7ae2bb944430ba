"""A table's suite is skipped while everything it reads is unchanged since it passed, and only then."""

import shutil
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

import expectations.runner
from expectations import SUITES, validate_all
from expectations import claims as claims_suite
from stancewire.store import Store
from tests.test_store import NOW, fill, make_documents


def validated(store: Store, run_id: str):
    report = validate_all(store, run_id)
    store.write_validation(report.rows, run_id)
    return report


@pytest.fixture(scope="module")
def passed(tmp_path_factory) -> tuple[Path, dict[str, pl.DataFrame], list]:
    """A published database whose tables passed validation in run-1 (validating in full once per module)."""
    db = tmp_path_factory.mktemp("passed") / "stancewire.duckdb"
    with Store.open_run(db) as store:
        written = fill(store)
        tables = validated(store, "run-1").tables
        store.publish()
    return db, written, tables


@pytest.fixture
def store(tmp_path, passed):
    db = tmp_path / "stancewire.duckdb"
    shutil.copyfile(passed[0], db)
    with Store.open_run(db) as store:
        yield store


def reused(report) -> dict[str, str | None]:
    return {t.table: t.reused_from for t in report.tables}


def test_unchanged_tables_are_not_validated_again(store, passed, monkeypatch):
    first = passed[2]
    assert all(t.success and t.reused_from is None and t.input_checksum for t in first)

    def no_validation(*args, **kwargs):
        raise AssertionError("a suite ran on unchanged tables")

    monkeypatch.setattr(expectations.runner.gx, "get_context", no_validation)
    second = validated(store, "run-2")
    assert second.success and reused(second) == {s.TABLE: "run-1" for s in SUITES}
    assert [(t.rows, t.evaluated) for t in second.tables] == [(t.rows, t.evaluated) for t in first]
    assert "not validated again" in second.markdown()
    stored = store.query("SELECT reused_from, input_checksum FROM validation_results WHERE run_id = 'run-2'")
    assert stored["reused_from"].to_list() == ["run-1"] * len(SUITES) and stored["input_checksum"].null_count() == 0
    assert validated(store, "run-3").tables[0].reused_from == "run-1"  # any earlier success on these inputs counts


def test_a_changed_table_and_the_suites_joining_it_are_validated_again(store):
    store.con.execute(
        "UPDATE articles SET title = 'Another title' WHERE article_id = (SELECT min(article_id) FROM articles)"
    )
    report = validated(store, "run-2")
    assert report.success
    again = {table for table, earlier in reused(report).items() if earlier is None}
    # every suite whose query reads `articles`; documents, claims and the canonical entity tables are untouched
    assert again == {"articles", "sentences", "mentions", "stance", "quantities"}


def test_a_corrupted_row_is_still_caught(store, passed):
    article = passed[1]["articles"]["article_id"][0]
    store.con.execute("UPDATE stance SET p_entailment = 0.5 WHERE article_id = ?", [article])
    report = validated(store, "run-2")
    assert not report.success
    stance = next(t for t in report.tables if t.table == "stance")
    assert stance.reused_from is None and {f["column"] for f in stance.failures} == {"p_sum"}
    # a failure is never reused: the next validation runs the suite again and fails again
    assert not next(t for t in validated(store, "run-3").tables if t.table == "stance").success


def test_a_deleted_row_changes_the_checksum(store):
    store.con.execute("DELETE FROM mentions WHERE mention_id = (SELECT min(mention_id) FROM mentions)")
    assert reused(validated(store, "run-2"))["mentions"] is None


def test_a_changed_column_type_is_validated_again(store):
    store.con.execute("ALTER TABLE stance ALTER COLUMN sentences_scored TYPE BIGINT")
    stance = next(t for t in validated(store, "run-2").tables if t.table == "stance")
    assert stance.reused_from is None and not stance.success


def test_a_suite_that_reads_the_clock_always_runs(store, monkeypatch):
    monkeypatch.setattr(
        claims_suite, "SQL", claims_suite.SQL.replace("FROM claims c", "FROM claims c WHERE now() > c.added_at")
    )
    for run_id in ("run-2", "run-3"):
        report = validated(store, run_id)
        assert report.success and reused(report)["claims"] is None and reused(report)["documents"] == "run-1"


def test_refetching_a_stored_document_rewrites_nothing(tmp_path):
    docs = make_documents()
    with Store.open_run(tmp_path / "docs.duckdb") as store:
        store.write_documents(docs, "run-1")
        store.write_documents(docs.with_columns(fetched_at=pl.lit(NOW + timedelta(days=1))), "run-2")
        assert store.query("SELECT DISTINCT run_id, fetched_at FROM documents").rows() == [("run-1", NOW)]
        store.write_documents(docs.with_columns(source=pl.lit("elsewhere")), "run-3")  # a real change is applied
        assert store.query("SELECT DISTINCT run_id, source FROM documents").rows() == [("run-3", "elsewhere")]


def test_a_run_validates_the_rows_it_wrote_and_those_no_run_validated(store, passed):
    store.con.execute("UPDATE documents SET size_bytes = -1")  # a fault in rows run-1 wrote and validated
    store.begin_run("run-k", {}, {})  # a run killed after writing, before validating
    docs = make_documents(["k.txt"]).with_columns(fetched_at=pl.lit(NOW + timedelta(days=1)))
    store.write_documents(docs, "run-k")
    store.write_documents(make_documents(["new.txt"]), "run-2")
    report = validate_all(store, "run-2", scope="new")
    documents = next(t for t in report.tables if t.table == "documents")
    assert (documents.rows, documents.scope, documents.success) == (2, "new", True)  # k.txt and new.txt only
    assert next(t for t in report.tables if t.table == "articles").rows == 0  # run-2 wrote none
    claims = next(t for t in report.tables if t.table == "claims")
    assert (claims.scope, claims.success, claims.rows) == ("full", True, 2)  # no run_id: small, validated whole
    assert "Rows this run wrote" in report.markdown()
    store.write_validation(report.rows, "run-2")
    scopes = store.query("SELECT table_name, scope FROM validation_results WHERE run_id = 'run-2'").rows()
    assert {scope for table, scope in scopes if table != "claims"} == {"new"}
    full = next(t for t in validate_all(store, "run-3", reuse=False).tables if t.table == "documents")
    assert not full.success and full.scope == "full"  # the weekly full validation finds the old fault


def test_validate_full_from_the_command_line(tmp_path, passed):
    from typer.testing import CliRunner

    from flows.cli import app

    db = tmp_path / "stancewire.duckdb"
    shutil.copyfile(passed[0], db)
    runner = CliRunner()
    refused = runner.invoke(app, ["validate", "--db", str(db)])
    assert refused.exit_code == 2 and "--full" in refused.output
    done = runner.invoke(app, ["validate", "--full", "--db", str(db)])
    assert done.exit_code == 0, done.output
    assert "Data validation of run validate-" in done.output
