import json

import polars as pl
import pytest

from expectations import SUITES, validate_all
from stancewire.store import Store
from tasks.embed import embed_sentences
from tests.test_store import ToyEmbedder, fill


@pytest.fixture
def store(tmp_path):
    with Store.open_run(tmp_path / "stancewire.duckdb") as store:
        yield store


def test_every_table_has_a_suite():
    assert [s.TABLE for s in SUITES] == [
        "documents",
        "articles",
        "sentences",
        "mentions",
        "claims",
        "stance",
        "entities",
        "mention_links",
        "quantities",
        "sentence_embeddings",
    ]


def test_good_data_passes(store):
    fill(store)
    report = validate_all(store, "run-1")
    assert report.success, report.markdown()
    assert all(row["success"] and row["evaluated"] > 10 and row["failed"] == 0 for row in report.rows)
    assert "passed" in report.markdown()


def test_bad_values_fail_with_a_readable_report(store):
    written = fill(store)
    article = written["articles"]["article_id"][0]
    mention = written["entities"].filter(text="Milano")["mention_id"][0]
    store.con.execute("UPDATE stance SET p_entailment = 0.5 WHERE article_id = ?", [article])  # p sum 0.7
    store.con.execute("UPDATE stance SET label = 'MAYBE' WHERE article_id <> ?", [article])
    store.con.execute('UPDATE mentions SET "end" = 500 WHERE mention_id = ?', [mention])  # past the text end
    store.con.execute("UPDATE articles SET language = 'ita' WHERE article_id = ?", [article])
    store.con.execute("UPDATE claims SET language = NULL")

    report = validate_all(store, "run-1")

    assert not report.success
    failed = {(t.table, f["column"]) for t in report.tables for f in t.failures}
    assert {
        ("stance", "p_sum"),
        ("stance", "label"),
        ("mentions", "chk_end_within_text"),
        ("mentions", "chk_text_matches_span"),
        ("articles", "language"),
        ("claims", "language"),
    } <= failed
    assert [t.table for t in report.tables if t.success] == [
        "documents",
        "sentences",
        "entities",
        "mention_links",
        "quantities",
        "sentence_embeddings",
    ]

    md = report.markdown()
    assert "FAILED" in md and "### mentions" in md
    assert (
        f"end lies within the article text (`expect_column_values_to_be_in_set`): 1 of 4 rows; "
        f"e.g. mention_id `{mention}`" in md
    )
    assert (
        f"**language** (`expect_column_values_to_match_regex`): 1 of 2 rows; e.g. article_id `{article}`; "
        "values `ita`" in md
    )
    assert "**p_sum**: p_entailment + p_neutral + p_contradiction is 1" in md and "values `0.7`" in md

    store.write_validation(report.rows, "run-1")
    stored = store.query("SELECT table_name, success, failed, details FROM validation_results ORDER BY table_name")
    assert stored.height == len(SUITES)
    stance = stored.filter(table_name="stance").row(0, named=True)
    assert not stance["success"] and stance["failed"] == len(json.loads(stance["details"]))


def test_broken_tables_are_reported_not_raised(store):
    fill(store)
    store.con.execute("ALTER TABLE sentences RENAME COLUMN start TO begin_offset")
    store.con.execute("ALTER TABLE stance ALTER COLUMN sentences_scored TYPE BIGINT")
    report = validate_all(store.con, "run-1")
    failure = next(t for t in report.tables if t.table == "sentences").failures[0]
    assert failure["expectation"] == "query" and "start" in failure["error"]
    [wrong_type] = next(t for t in report.tables if t.table == "stance").failures
    assert (wrong_type["column"], wrong_type["observed"]) == ("sentences_scored", "int64")
    assert not report.success


def test_sentence_vectors_are_checked_where_they_are(store):
    written = fill(store)
    result = embed_sentences(written["sentences"].select("sentence_id", "article_id", "text"), ToyEmbedder())
    store.write_embeddings(result.sentences, result.articles, "run-1")
    assert validate_all(store, "run-1").success
    readable = result.sentences.filter(pl.col("vector").is_not_null())["sentence_id"].to_list()
    unreadable = result.sentences.filter(pl.col("vector").is_null())["sentence_id"].to_list()
    assert readable and unreadable
    store.con.execute("UPDATE sentence_embeddings SET vector = [50, 0, 0] WHERE sentence_id = ?", [readable[0]])
    store.con.execute("UPDATE sentence_embeddings SET vector = [127, 0] WHERE sentence_id = ?", [unreadable[0]])
    report = validate_all(store, "run-1")
    failed = {f["column"] for t in report.tables if t.table == "sentence_embeddings" for f in t.failures}
    assert failed == {"chk_unit_length", "chk_vector_or_reason", "chk_dimension_of_article_vector"}
