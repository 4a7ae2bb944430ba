"""Store side of the clean stage: duplicates are never scored, removed lines and per-source line counts."""

import polars as pl
import pytest

from expectations import articles as articles_suite
from expectations import runner
from expectations.runner import validate_all
from stancewire import frames
from stancewire.lsh import BANDS
from stancewire.store import Store
from tasks.text.dedup import DuplicateIndex, fingerprint
from tests.test_store import NER, NLI, make_articles, make_claims, make_documents

TEXTS = {
    "a.txt": "Roma è la capitale d'Italia. Mario Rossi vive a Milano.",
    "copy.txt": "Roma è la capitale d'Italia.",
}


@pytest.fixture
def store(tmp_path):
    with Store.open_run(tmp_path / "stancewire.duckdb") as store:
        yield store


@pytest.fixture
def with_duplicate(store):
    docs = make_documents(["a.txt", "copy.txt"])
    articles, sentences = make_articles(docs, TEXTS)
    canonical, copy = (articles.filter(pl.col("url") == name)["article_id"][0] for name in TEXTS)
    articles = articles.with_columns(
        duplicate_of=pl.when(pl.col("article_id") == copy).then(pl.lit(canonical)),
        duplicate_similarity=pl.when(pl.col("article_id") == copy).then(pl.lit(0.9)),
        text_hash_normalised=pl.lit("0" * 64),
    )
    store.write_documents(docs, "run-1")
    store.write_articles(articles, sentences, "run-1")
    store.write_claims(make_claims())
    return canonical, copy


def test_duplicates_are_not_pending_for_ner_or_stance(store, with_duplicate):
    canonical, copy = with_duplicate
    articles, sentences = store.pending_ner(*NER)
    assert articles["article_id"].to_list() == [canonical]
    assert set(sentences["article_id"]) == {canonical}
    pairs, sentences = store.pending_stance(*NLI)
    assert pairs.rows() == [(canonical, "capital")]
    assert set(sentences["article_id"]) == {canonical}


def test_duplicate_candidates_are_canonical_articles_with_the_hash_or_a_shared_band(store, with_duplicate):
    canonical, _ = with_duplicate
    assert store.duplicate_candidates([("0" * 64, None)])["article_id"].to_list() == [canonical]
    assert store.duplicate_candidates([("1" * 64, None)]).is_empty()


def test_near_duplicates_are_found_by_band_and_the_index_follows_rewrites(store):
    base = " ".join(f"parola{i} numero{i % 7} testo{i % 3}" for i in range(60))
    near = base.replace("parola5 ", "parolina5 ")
    texts = {"a.txt": base, "b.txt": " ".join(f"altro{i} diverso{i % 5}" for i in range(50))}
    articles, sentences = make_articles(make_documents(list(texts)), texts)
    articles = articles.with_columns(
        text_hash_normalised=pl.Series([fingerprint(t).text_hash_normalised for t in texts.values()]),
        minhash=pl.Series([fingerprint(t).minhash for t in texts.values()]),
    )
    store.write_articles(articles, sentences, "run-1")
    fp = fingerprint(near)
    found = store.duplicate_candidates([(fp.text_hash_normalised, fp.minhash)])
    assert found["article_id"].to_list() == [articles["article_id"][0]]
    assert DuplicateIndex(found).match(fp)[1] >= 0.7
    bands = store.query("SELECT article_id, count(*) AS n FROM article_bands GROUP BY ALL ORDER BY ALL").rows()
    assert sorted(n for _, n in bands) == [BANDS, BANDS]
    store.write_articles(
        articles.head(1).with_columns(duplicate_of=pl.lit(articles["article_id"][1])), sentences.head(0), "run-2"
    )
    assert store.duplicate_candidates([(fp.text_hash_normalised, fp.minhash)]).is_empty()  # no longer canonical


def test_a_store_made_before_bands_is_indexed_once_and_a_killed_backfill_goes_on(store):
    texts = {f"{i}.txt": f"Articolo numero {i} " + " ".join(f"w{i}x{j}" for j in range(40)) for i in range(5)}
    articles, sentences = make_articles(make_documents(list(texts)), texts)
    articles = articles.with_columns(minhash=pl.Series([fingerprint(t).minhash for t in texts.values()]))
    store.write_articles(articles, sentences, "run-1")
    store.con.execute("DELETE FROM article_bands")  # as an older version left it
    store.con.execute("DELETE FROM store_jobs")
    store.con.execute(
        "INSERT INTO article_bands VALUES (1, ?)",
        [articles["article_id"][0]],
    )
    seen = []
    assert store.backfill_bands(chunk=2, progress=seen.append) == 4  # one was done before the kill
    assert seen[-1] == "near-duplicate index: 4 stored articles indexed"
    assert store.query("SELECT count(DISTINCT article_id) AS n FROM article_bands")["n"][0] == 5
    assert store.backfill_bands() == 0  # once


def test_articles_suite_checks_duplicate_links(store, with_duplicate, monkeypatch):
    monkeypatch.setattr(runner, "SUITES", [articles_suite])
    canonical, copy = with_duplicate
    assert validate_all(store, "run-1").success
    store.con.execute("UPDATE articles SET duplicate_of = 'missing' WHERE article_id = ?", [copy])
    store.con.execute("UPDATE articles SET duplicate_similarity = NULL WHERE article_id = ?", [copy])
    [articles] = validate_all(store, "run-1").tables
    failed = {f["column"] for f in articles.failures}
    assert {"chk_duplicate_of_canonical", "chk_duplicate_similarity_set"} <= failed


def removed(article_id: str, *line_nos: int) -> pl.DataFrame:
    rows = [
        {"article_id": article_id, "line_no": n, "start": n, "end": n + 4, "text": "Menu", "reason": "navigation"}
        for n in line_nos
    ]
    return pl.DataFrame(rows, schema=frames.BOILERPLATE_LINES)


def test_boilerplate_lines_are_replaced_per_article(store):
    store.write_boilerplate_lines(pl.concat([removed("a", 0, 3), removed("b", 1)]), "run-1")
    store.write_boilerplate_lines(removed("a", 5), "run-2")
    got = store.query("SELECT article_id, line_no, reason, run_id FROM boilerplate_lines ORDER BY ALL").rows()
    assert got == [("a", 5, "navigation", "run-2"), ("b", 1, "navigation", "run-1")]


def test_source_line_counts_add_up(store):
    batch = pl.DataFrame(
        {"source_key": ["site.example", "site.example", "other"], "line_hash": ["h1", "h2", "h1"], "docs": [2, 1, 1]},
        schema=frames.SOURCE_LINES,
    )
    store.add_source_lines(batch, "run-1")
    store.add_source_lines(batch.head(1), "run-2")
    got = store.source_line_counts(["site.example"]).sort("line_hash")
    assert got.schema == pl.Schema(frames.SOURCE_LINES)
    assert got.rows() == [("site.example", "h1", 4), ("site.example", "h2", 1)]
    assert store.source_line_counts([]).height == 0
