import fcntl
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from stancewire import frames
from stancewire.ids import sha256_hex, stable_id
from stancewire.schema import SCHEMA_VERSION, StoreError
from stancewire.snapshot import StoreBusy, open_readonly, work_path
from stancewire.store import Store
from tasks.embed import embed_sentences

REPO_ROOT = Path(__file__).resolve().parent.parent
NER = ("tiny-ner", "r1")
AS_NER = {"model_id": NER[0], "model_revision": NER[1]}
NLI = ("tiny-nli", "r1")
TEXTS = {
    "a.txt": "Roma è la capitale d'Italia. Mario Rossi vive a Milano.",
    "b.txt": "Parigi è in Francia. Il Louvre è a Parigi.",
}
ENTITY_SPANS = {"a.txt": [("Roma", "LOC"), ("Mario Rossi", "PER"), ("Milano", "LOC")], "b.txt": [("Louvre", "ORG")]}
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def make_documents(names=TEXTS) -> pl.DataFrame:
    rows = []
    for name in names:
        payload = TEXTS.get(name, name).encode()
        rows.append(
            {
                "doc_id": stable_id(name, sha256_hex(payload)),
                "source": "corpus",
                "uri": name,
                "fetched_at": NOW,
                "content_type": "text/plain",
                "content_hash": sha256_hex(payload),
                "size_bytes": len(payload),
                "payload": payload,
            }
        )
    return pl.DataFrame(rows, schema=frames.DOCUMENTS)


def make_articles(documents: pl.DataFrame, texts: dict[str, str] = TEXTS) -> tuple[pl.DataFrame, pl.DataFrame]:
    articles, sentences = [], []
    for doc in documents.iter_rows(named=True):
        text = texts[doc["uri"]]
        articles.append(
            {
                "article_id": doc["doc_id"],
                "doc_id": doc["doc_id"],
                "source": doc["source"],
                "url": doc["uri"],
                "title": doc["uri"],
                "author": None,
                "published": NOW,
                "site": "example.org",
                "language": "it",
                "language_confidence": 0.99,
                "text": text,
                "text_hash": sha256_hex(text),
                "extractor": "plain",
            }
        )
        start = 0
        for idx, part in enumerate(text.split(". ")):
            sentence = part if part.endswith(".") else part + "."
            sentences.append(
                {
                    "sentence_id": f"{doc['doc_id']}:{idx}",
                    "article_id": doc["doc_id"],
                    "idx": idx,
                    "start": start,
                    "end": start + len(sentence),
                    "text": sentence,
                }
            )
            start += len(sentence) + 1
    return pl.DataFrame(articles, schema=frames.ARTICLES), pl.DataFrame(sentences, schema=frames.SENTENCES)


def make_entities(articles: pl.DataFrame, sentences: pl.DataFrame, model=NER) -> pl.DataFrame:
    rows = []
    for article in articles.iter_rows(named=True):
        for surface, label in ENTITY_SPANS.get(article["url"], []):
            start = article["text"].index(surface)
            end = start + len(surface)
            sentence = sentences.filter(
                (pl.col("article_id") == article["article_id"]) & (pl.col("start") <= start) & (pl.col("end") >= end)
            )
            rows.append(
                {
                    "mention_id": stable_id(article["article_id"], start, end, label, *model),
                    "article_id": article["article_id"],
                    "sentence_id": sentence["sentence_id"][0],
                    "start": start,
                    "end": end,
                    "text": surface,
                    "label": label,
                    "label_from": "model",
                    "score": 0.9,
                    "model_id": model[0],
                    "model_revision": model[1],
                }
            )
    return pl.DataFrame(rows, schema=frames.MENTIONS)


def make_claims(**changes) -> pl.DataFrame:
    claims = [
        {"claim_id": "capital", "text": "Roma è la capitale d'Italia", "language": "it", "enabled": True},
        {"claim_id": "off", "text": "Claim switched off", "language": "en", "enabled": False},
    ]
    claims[0].update(changes)
    return pl.DataFrame(claims, schema=frames.CLAIMS)


def make_stance(sentences: pl.DataFrame, pairs, model=NLI, label="SUPPORT") -> pl.DataFrame:
    rows = []
    for article_id, claim_id in pairs:
        evidence = sentences.filter((pl.col("article_id") == article_id) & (pl.col("idx") == 0)).row(0, named=True)
        rows.append(
            {
                "article_id": article_id,
                "claim_id": claim_id,
                "model_id": model[0],
                "model_revision": model[1],
                "label": label,
                "p_entailment": 0.8,
                "p_neutral": 0.15,
                "p_contradiction": 0.05,
                "evidence_sentence_id": evidence["sentence_id"],
                "evidence_text": evidence["text"],
                "evidence_start": evidence["start"],
                "evidence_end": evidence["end"],
                "sentences_scored": 2,
                "score": 0.75,
                "opposing_sentence_id": evidence["sentence_id"],
                "opposing_text": evidence["text"],
                "opposing_start": evidence["start"],
                "opposing_end": evidence["end"],
                "opposing_p": 0.05,
                "sentences_total": 2,
                "relevance": "candidates",
            }
        )
    return pl.DataFrame(rows, schema=frames.STANCE)


class ToyEmbedder:
    model_id, revision, dim = "toy", "1", 3

    def passages(self, texts):
        vectors = np.array([[len(t), 1.0, 2.0] for t in texts], np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def unreadable(self, text):
        return "unreadable on purpose" if text.startswith("Il") else None


def fill(store: Store, run_id: str = "run-1") -> dict[str, pl.DataFrame]:
    """Write a small, fully consistent data set; returns the frames written."""
    docs = make_documents()
    articles, sentences = make_articles(docs)
    entities = make_entities(articles, sentences)
    claims = make_claims()
    stance = make_stance(sentences, [(a, "capital") for a in articles["article_id"]])
    store.write_documents(docs, run_id)
    store.write_articles(articles, sentences, run_id)
    store.write_mentions(entities, run_id, articles["article_id"], **AS_NER)
    store.write_claims(claims)
    store.write_stance(stance, run_id)
    return {"documents": docs, "articles": articles, "sentences": sentences, "entities": entities, "stance": stance}


def counts(store: Store) -> dict[str, int]:
    tables = ["documents", "articles", "sentences", "mentions", "mentions_done", "claims", "stance", "quarantine"]
    return {t: store.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "data" / "stancewire.duckdb"


@pytest.fixture
def store(db):
    with Store.open_run(db) as store:
        yield store


def test_schema_is_created_once_and_versioned(db):
    for _ in range(2):
        with Store.open_run(db) as store:
            versions = [v for (v,) in store.con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()]
            names = {n for (n,) in store.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
            views = dict(
                store.con.execute("SELECT view_name, comment FROM duckdb_views() WHERE NOT internal").fetchall()
            )
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    assert {"runs", "stage_runs", "documents", "articles", "mentions", "stance", "validation_results"} <= names
    assert {"v_claim_support_by_source_day", "v_top_entities", "v_article_stance", "v_runs"} <= set(views)
    assert all(views.values()), "every view is documented"
    assert work_path(db).exists() and not db.exists()  # nothing is published until publish()


def test_newer_schema_is_refused(db):
    with Store.open_run(db) as store:
        store.con.execute("INSERT INTO schema_version VALUES (?)", [SCHEMA_VERSION + 1])
        store.publish()
    with pytest.raises(StoreError, match="upgrade stancewire"), Store.open_run(db):
        pass
    with pytest.raises(StoreError, match="upgrade stancewire"):
        open_readonly(db)


def store_at_version(db: Path, version: int) -> duckdb.DuckDBPyConnection:
    """The working database of `db` as an older stancewire left it: migrations 1..`version` applied, no views."""
    from stancewire.schema import MIGRATIONS

    con = duckdb.connect(str(work_path(db)))
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for number, sql in MIGRATIONS[:version]:
        con.execute(sql)
        con.execute("INSERT INTO schema_version VALUES (?)", [number])
    return con


def test_a_store_from_before_the_table_renames_keeps_its_rows_and_views(tmp_path):
    """A version-7 store (mentions in `entities`, canonical entities in `entity`, views bound to those names) comes
    out with the tables renamed, every row kept and the analysts' views answering from the renamed tables."""
    db = tmp_path / "old.duckdb"
    con = store_at_version(db, 7)
    con.execute("CREATE VIEW v_latest_entities AS SELECT * FROM entities")  # as version 7 defined its views
    con.execute(
        'INSERT INTO entities (mention_id, article_id, sentence_id, start, "end", text, label, score, model_id, '
        "model_revision, run_id) VALUES ('m1', 'a1', 'a1:0', 0, 4, 'Roma', 'LOC', 0.9, 'ner', '', 'r0')"
    )
    con.execute(
        "INSERT INTO ner_done (article_id, model_id, model_revision, run_id, done_at) VALUES ('a1', 'ner', '', 'r0', now())"
    )
    con.execute(
        "INSERT INTO entity (entity_id, entity_key, type, name, origin, run_id, updated_at) "
        "VALUES ('e1', 'LOC:roma', 'LOC', 'Roma', 'mentions', 'r0', now())"
    )
    con.execute(
        "INSERT INTO entity_mentions (mention_id, article_id, entity_id, rule_entity_id, method, name_key, linker, "
        "run_id, linked_at) VALUES ('m1', 'a1', 'e1', 'e1', 'name', 'roma', 'l', 'r0', now())"
    )
    con.close()

    with Store.open_run(db) as store:
        tables = {n for (n,) in store.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert {"mentions", "mentions_done", "entities", "mention_links"} <= tables
        assert not {"entity", "entity_mentions", "ner_done"} & tables
        assert store.query("SELECT text FROM mentions")["text"].to_list() == ["Roma"]
        assert store.query("SELECT entity_key FROM entities")["entity_key"].to_list() == ["name:roma"]  # 011 re-keyed
        assert store.query("SELECT mention_id FROM v_latest_entities")["mention_id"].to_list() == ["m1"]
        assert store.query("SELECT name FROM v_entities")["name"].to_list() == ["Roma"]


def test_writes_are_idempotent(store):
    fill(store)
    first = counts(store)
    fill(store)
    assert counts(store) == first
    assert first == {
        "documents": 2,
        "articles": 2,
        "sentences": 4,
        "mentions": 4,
        "mentions_done": 2,
        "claims": 2,
        "stance": 2,
        "quarantine": 0,
    }


def test_repeated_keys_in_one_frame_keep_the_last(store):
    docs = make_documents()
    twice = pl.concat([docs, docs.with_columns(source=pl.lit("second"))])
    assert store.write_documents(twice, "run-1") == 2
    assert store.query("SELECT DISTINCT source FROM documents")["source"].to_list() == ["second"]


def test_failed_write_rolls_back(store):
    written = fill(store)
    broken = written["entities"].with_columns(mention_id=pl.lit(None, pl.String))
    with pytest.raises(duckdb.ConstraintException):
        store.write_mentions(broken, "run-2", written["articles"]["article_id"], **AS_NER)
    assert counts(store)["mentions"] == 4


def test_sentences_of_other_articles_are_rejected(store):
    docs = make_documents()
    articles, sentences = make_articles(docs)
    with pytest.raises(ValueError, match="not in this batch"):
        store.write_articles(articles.head(1), sentences, "run-1")
    assert counts(store)["articles"] == 0


def test_pending_documents_skips_cleaned_and_quarantined(store):
    docs = make_documents(["a.txt", "b.txt", "c.txt"])
    store.write_documents(docs, "run-1")
    articles, sentences = make_articles(docs.head(1))
    store.write_articles(articles, sentences, "run-1")
    quarantine = pl.DataFrame(
        [
            {
                "item_id": docs["doc_id"][1],
                "stage": "clean",
                "source": "corpus",
                "uri": "b.txt",
                "reason": "empty_text",
                "detail": "no text left after cleaning",
            },
            {
                "item_id": docs["doc_id"][2],
                "stage": "fetch",
                "source": "corpus",
                "uri": "c.txt",
                "reason": "other_stage",
                "detail": "quarantined by another stage",
            },
        ],
        schema=frames.QUARANTINE,
    )
    store.write_quarantine(quarantine, "run-1")
    pending = store.pending_documents()
    assert pending.schema == pl.Schema(frames.DOCUMENTS)
    assert pending["uri"].to_list() == ["c.txt"]


def test_pending_ner_is_per_model_revision_and_remembers_empty_articles(store):
    docs = make_documents()
    articles, sentences = make_articles(docs)
    store.write_documents(docs, "run-1")
    store.write_articles(articles, sentences, "run-1")
    todo, todo_sentences = store.pending_ner(*NER)
    assert sorted(todo["article_id"]) == sorted(articles["article_id"]) and todo_sentences.height == 4

    only_a = make_entities(articles, sentences).filter(pl.col("article_id") == articles["article_id"][0])
    store.write_mentions(only_a, "run-1", articles["article_id"], **AS_NER)  # the second article has no mention
    assert store.pending_ner(*NER)[0].height == 0
    assert store.pending_ner(NER[0], "r2")[0].height == 2
    assert store.pending_ner(NER[0], None)[0].height == 2

    # Rewriting an article's mentions replaces them, leaving other model revisions alone.
    other = make_entities(articles, sentences, model=(NER[0], "r2"))
    store.write_mentions(other, "run-2", articles["article_id"], model_id=NER[0], model_revision="r2")
    store.write_mentions(only_a.head(1), "run-3", [articles["article_id"][0]], **AS_NER)
    per_model = store.query("SELECT model_revision, count(*) AS n FROM mentions GROUP BY 1 ORDER BY 1")
    assert per_model.rows() == [("r1", 1), ("r2", 4)]


def test_entities_from_another_model_are_rejected(store):
    docs = make_documents()
    articles, sentences = make_articles(docs)
    with pytest.raises(ValueError, match="not from model"):
        store.write_mentions(
            make_entities(articles, sentences), "run-1", [], model_id="other-model", model_revision=None
        )


def test_pending_stance_follows_claims_and_scores(store):
    written = fill(store)
    a1, a2 = written["articles"]["article_id"]
    assert store.pending_stance(*NLI)[0].height == 0

    store.con.execute("DELETE FROM stance WHERE article_id = ?", [a2])
    pairs, sentences = store.pending_stance(*NLI)
    assert pairs.rows() == [(a2, "capital")]  # the disabled claim is not scored
    assert set(sentences["article_id"]) == {a2} and sentences.height == 2
    assert store.pending_stance(NLI[0], "r2")[0].height == 2

    store.write_claims(make_claims(enabled=True))  # same text: nothing to re-score
    assert store.pending_stance(*NLI)[0].height == 1
    store.write_claims(make_claims(text="Roma è la capitale della Francia"))
    assert store.pending_stance(*NLI)[0].height == 2
    assert store.claims()["text"].to_list() == ["Roma è la capitale della Francia"]
    assert store.claims(enabled_only=False).height == 2


def test_pending_embeddings_are_the_articles_with_a_sentence_without_a_vector(store):
    written = fill(store)
    sentences = written["sentences"]
    assert store.pending_embeddings("toy", "1")["sentence_id"].to_list() == sentences["sentence_id"].to_list()
    first = sentences["article_id"][0]
    result = embed_sentences(sentences.select("sentence_id", "article_id", "text"), ToyEmbedder())
    store.write_embeddings(result.sentences.filter(pl.col("sentence_id") != f"{first}:1"), result.articles, "run-1")
    assert set(store.pending_embeddings("toy", "1")["article_id"]) == {first}  # every sentence of that article
    assert store.pending_embeddings("toy", "2").height == sentences.height  # another revision has none
    store.write_embeddings(result.sentences, result.articles, "run-1")
    assert store.pending_embeddings("toy", "1").is_empty()

    # The same text split again into one sentence fewer: the vector of the sentence it no longer has goes with it.
    article = written["articles"].filter(pl.col("article_id") == first)
    shorter = sentences.filter((pl.col("article_id") == first) & (pl.col("idx") == 0))
    store.write_articles(article, shorter, "run-2")
    vectors = store.con.execute("SELECT sentence_id FROM sentence_embeddings WHERE article_id = ?", [first]).fetchall()
    assert vectors == [(f"{first}:0",)]
    assert store.pending_embeddings("toy", "1").is_empty()


def test_changed_article_text_drops_its_derived_rows(store):
    written = fill(store)
    a1, a2 = written["articles"]["article_id"]
    texts = dict(TEXTS, **{"a.txt": "Roma è la capitale. Ed è grande. Molto."})
    articles, sentences = make_articles(written["documents"].head(1), texts)
    store.write_articles(articles, sentences, "run-2")

    def per_article(table):
        return set(store.query(f"SELECT DISTINCT article_id FROM {table}")["article_id"])

    assert per_article("mentions") == per_article("mentions_done") == per_article("stance") == {a2}
    assert store.query("SELECT count(*) AS n FROM sentences WHERE article_id = ?", [a1])["n"][0] == 3
    assert store.pending_ner(*NER)[0]["article_id"].to_list() == [a1]


def test_run_bookkeeping(store):
    store.begin_run("run-1", {"sources": ["x"]}, {"ner": {"id": NER[0], "revision": None}, "nli": None})
    store.begin_run("run-2", {}, {})  # run-1 never finished: it was interrupted
    store.record_stage("run-2", "fetch", "ok", rows_in=3, rows_out=2, started_at=NOW, finished_at=NOW)
    store.record_stage("run-2", "fetch", "failed", reason="boom")  # upsert
    store.finish_run("run-2", "validation_failed", {"documents": 2}, "# summary")
    runs = {r["run_id"]: r for r in store.query("SELECT * FROM v_runs").iter_rows(named=True)}
    assert runs["run-1"]["status"] == "failed" and runs["run-1"]["ner_model"] == NER[0]
    assert runs["run-2"]["status"] == "validation_failed" and runs["run-2"]["failed_stages"] == "fetch"
    assert json.loads(runs["run-2"]["counts"]) == {"documents": 2}
    with pytest.raises(StoreError, match="never begun"):
        store.finish_run("run-9", "succeeded", {}, "")
    with pytest.raises(ValueError):
        store.record_stage("run-2", "fetch", "fine")


def test_views_keep_the_latest_result_per_item(store):
    written = fill(store)
    a1, a2 = written["articles"]["article_id"]
    time.sleep(0.01)
    newer = make_stance(written["sentences"], [(a1, "capital")], model=("other-nli", "main"), label="REFUTE")
    store.write_stance(newer, "run-2")
    by_day = store.query("SELECT * FROM v_claim_support_by_source_day")
    assert by_day.select("claim_id", "site", "day", "n_support", "n_refute", "n_neutral", "n_articles").rows() == [
        ("capital", "example.org", NOW.date(), 1, 1, 0, 2)
    ]
    labels = dict(store.query("SELECT article_id, label FROM v_article_stance").rows())
    assert labels == {a1: "REFUTE", a2: "SUPPORT"}
    top = store.query("SELECT entity, label, mentions, articles FROM v_top_entities ORDER BY entity")
    assert top.rows() == [
        ("louvre", "ORG", 1, 1),
        ("mario rossi", "PER", 1, 1),
        ("milano", "LOC", 1, 1),
        ("roma", "LOC", 1, 1),
    ]


def test_crashed_run_is_continued_and_work_db_seeded_from_published(db):
    with pytest.raises(RuntimeError), Store.open_run(db) as store:
        store.write_documents(make_documents(), "run-1")
        raise RuntimeError("crash")
    assert not db.exists()
    with Store.open_run(db) as store:
        assert counts(store)["documents"] == 2
        store.publish()
    work_path(db).unlink()
    with Store.open_run(db) as store:
        assert counts(store)["documents"] == 2


def test_open_readonly_needs_a_published_stancewire_file(db):
    with pytest.raises(StoreError, match="does not exist"):
        open_readonly(db)
    db.parent.mkdir(parents=True)
    duckdb.connect(str(db)).close()
    with pytest.raises(StoreError, match="not a stancewire database"):
        open_readonly(db)


def _python(code: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r})\n{code}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_publish_is_not_blocked_by_readers_and_new_readers_see_it(db):
    with Store.open_run(db) as store:
        store.write_documents(make_documents(["a.txt"]), "run-1")
        store.publish()
        reader = _python(
            f"import duckdb\ncon = duckdb.connect({str(db)!r}, read_only=True)\n"
            "count = lambda: con.execute('SELECT count(*) FROM documents').fetchone()[0]\n"
            "print(count(), flush=True)\nsys.stdin.readline()\nprint(count(), flush=True)"
        )
        assert reader.stdout.readline().strip() == "1"  # the reader holds the published file open now
        started = time.monotonic()
        store.write_documents(make_documents(["b.txt", "c.txt"]), "run-1")
        store.publish()
        assert time.monotonic() - started < 1.5
        store.write_documents(make_documents(["d.txt"]), "run-1")  # the work DB stays open after publishing
        out, err = reader.communicate("go\n", timeout=30)
    assert reader.returncode == 0, err
    assert out.strip() == "1"  # the old reader kept its snapshot
    con = open_readonly(db)
    assert con.execute("SELECT count(*) FROM documents").fetchone()[0] == 3
    con.close()


def test_a_publish_that_would_fill_the_disk_refuses_before_copying_and_keeps_the_last_snapshot(db, monkeypatch):
    with Store.open_run(db) as store:
        store.write_documents(make_documents(["a.txt"]), "run-1")
        store.publish()
        store.write_documents(make_documents(["b.txt"]), "run-1")
        monkeypatch.setattr(fcntl, "ioctl", lambda *args: (_ for _ in ()).throw(OSError(95, "no clones here")))
        full = os.statvfs_result((4096, 4096, 100, 0, 0, 100, 0, 0, 0, 255))
        monkeypatch.setattr(os, "fstatvfs", lambda fd: full)
        with pytest.raises(StoreError, match=r"not enough disk space to publish: .* GB to copy, 0.00 GB free"):
            store.publish()
        assert store.unpublished_changes()
    assert not list(db.parent.glob("*.tmp-*"))
    con = open_readonly(db)
    assert con.execute("SELECT count(*) FROM documents").fetchone()[0] == 1
    con.close()


def test_second_writer_gets_store_busy(db):
    holder = _python(
        f"from stancewire.store import Store\nwith Store.open_run({str(db)!r}):\n"
        "    print('ready', flush=True)\n    sys.stdin.readline()"
    )
    assert holder.stdout.readline().strip() == "ready"
    started = time.monotonic()
    busy = rf"another run is in progress: process {holder.pid} .* since"
    with pytest.raises(StoreBusy, match=busy), Store.open_run(db, wait_s=0.5):
        pass
    assert 0.5 <= time.monotonic() - started < 3
    holder.communicate("done\n", timeout=30)
    with Store.open_run(db, wait_s=5) as store:  # free again once the other run ended
        assert store.work_path.exists()
        with pytest.raises(StoreBusy, match="this process already"), Store.open_run(db):
            pass


@pytest.mark.parametrize(
    "sql",
    [
        "COPY (SELECT 1) TO '{out}/copy.csv'",
        "EXPORT DATABASE '{out}/export'",
        "ATTACH '{db}.work' AS w (READ_WRITE)",
        "ATTACH '{out}/new.duckdb' AS n",
        "SELECT * FROM read_text('{secret}')",
        "SELECT * FROM read_csv('{secret}')",
        "SELECT * FROM glob('{out}/*')",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "CREATE TABLE t AS SELECT 1",
    ],
)
def test_an_analysts_query_is_read_only_and_blind_to_other_files(tmp_path, sql):
    from typer.testing import CliRunner

    from flows.cli import app

    db, out, secret = tmp_path / "q.duckdb", tmp_path / "out", tmp_path / "secret.txt"
    out.mkdir()
    secret.write_text("a,b\nsecret,1\n")
    with Store.open_run(db) as store:
        store.write_documents(make_documents(), "run-1")
        store.publish()
    allowed = CliRunner().invoke(app, ["query", "--db", str(db), "SELECT count(*) AS n FROM documents"])
    assert allowed.exit_code == 0 and "2" in allowed.output
    refused = CliRunner().invoke(app, ["query", "--db", str(db), sql.format(db=db, out=out, secret=secret)])
    assert refused.exit_code == 2 and "query failed" in refused.output
    assert "secret" not in refused.output.replace(str(secret), "")
    assert sorted(p.name for p in out.iterdir()) == []


def test_a_run_refuses_a_database_that_is_not_a_stancewire_store(tmp_path):
    other = tmp_path / "other-app.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("CREATE TABLE invoices AS SELECT 1 AS amount")
    before = other.read_bytes()
    with pytest.raises(StoreError, match="without a stancewire schema"), Store.open_run(other):
        pass
    assert other.read_bytes() == before and not work_path(other).exists()
    not_duckdb = tmp_path / "notes.duckdb"
    not_duckdb.write_text("just some notes")
    with pytest.raises(StoreError, match="not a database stancewire can use"), Store.open_run(not_duckdb):
        pass
    assert not_duckdb.read_text() == "just some notes"


def test_a_seeding_killed_midway_leaves_no_copy_behind(db):
    with Store.open_run(db) as store:
        store.publish()
    work_path(db).unlink()
    stale = Path(f"{work_path(db)}.tmp-99999")
    stale.write_bytes(db.read_bytes())
    with Store.open_run(db):
        pass
    assert not stale.exists()


def test_a_program_reading_the_work_copy_is_not_taken_for_another_run(db):
    with Store.open_run(db):
        pass
    reader = _python(
        f"import duckdb\ncon = duckdb.connect({str(work_path(db))!r}, read_only=True)\n"
        "print('ready', flush=True)\nsys.stdin.readline()"
    )
    assert reader.stdout.readline().strip() == "ready"
    with pytest.raises(StoreBusy) as busy, Store.open_run(db, wait_s=0.2):
        pass
    reader.communicate("done\n", timeout=30)
    assert "not a stancewire run" in str(busy.value) and f"process {reader.pid}" in str(busy.value)
    assert "another run is in progress" not in str(busy.value)


@pytest.mark.parametrize("broken", [(), ("ioctl",), ("ioctl", "copy_file_range")])
def test_publishing_copies_the_cheapest_way_the_file_system_allows(tmp_path, monkeypatch, broken):
    import fcntl
    import os

    from stancewire import snapshot

    def refuse(*args):
        raise OSError(95, "Operation not supported")

    if "ioctl" in broken:
        monkeypatch.setattr(fcntl, "ioctl", refuse)
    if "copy_file_range" in broken:
        monkeypatch.setattr(os, "copy_file_range", refuse)
    payload = os.urandom(3 << 20)
    (tmp_path / "src").write_bytes(payload)
    with open(tmp_path / "src", "rb") as src, open(tmp_path / "dst", "wb") as dst:
        how = snapshot.clone_file(src, dst)
    assert (tmp_path / "dst").read_bytes() == payload
    assert how in ({"clone", "kernel copy"} if not broken else {"kernel copy"} if len(broken) == 1 else {"copy"})


def test_entities_keyed_by_type_and_name_become_one_entity_per_name_with_overrides_kept(tmp_path):
    """A version-10 store: "Valmora" as LOC and as ORG were two entities, an analyst merged a third into the ORG
    one; after migration 011 they are one `name:` entity, every link and the override point at it."""
    from stancewire.ids import stable_id

    db = tmp_path / "old.duckdb"
    con = store_at_version(db, 10)
    old = {key: stable_id("entity", key) for key in ("LOC:valmora", "ORG:valmora", "PER:rossi")}
    for key, eid in old.items():
        con.execute(
            "INSERT INTO entities (entity_id, entity_key, type, name, origin, run_id, updated_at) "
            "VALUES (?, ?, ?, ?, 'mentions', 'r0', now())",
            [eid, key, key.split(":")[0], key.split(":")[1].title()],
        )
    for n, key in enumerate(("LOC:valmora", "LOC:valmora", "ORG:valmora", "PER:rossi")):
        con.execute(
            "INSERT INTO mention_links (mention_id, article_id, entity_id, rule_entity_id, method, name_key, linker, "
            "run_id, linked_at) VALUES (?, 'a1', ?, ?, 'name', ?, 'l', 'r0', now())",
            [f"m{n}", old[key], old[key], key.split(":")[1]],
        )
    con.execute(
        "INSERT INTO entity_overrides (override_id, action, entity_id, target_id, created_at) "
        "VALUES ('o1', 'merge', ?, ?, now())",
        [old["PER:rossi"], old["ORG:valmora"]],
    )
    con.close()

    valmora, rossi = stable_id("entity", "name:valmora"), stable_id("entity", "name:rossi")
    with Store.open_run(db) as store:
        keys = store.query("SELECT entity_key, type FROM entities ORDER BY entity_key").rows()
        assert keys == [("name:rossi", "PER"), ("name:valmora", "LOC")]  # the most linked of the two kept its type
        assert set(store.query("SELECT entity_id FROM mention_links")["entity_id"]) == {valmora, rossi}
        assert store.query("SELECT entity_id, target_id FROM entity_overrides").rows() == [(rossi, valmora)]


def data_token(store: Store):
    return store.con.execute("SELECT token FROM data_version").fetchall()[0][0]


def test_only_data_changes_make_a_new_snapshot_to_publish(db):
    with Store.open_run(db) as store:
        assert store.publish() is True  # no published file yet
        assert store.publish() is False
        empty = data_token(store)
        written = fill(store)
        assert data_token(store) != empty and store.unpublished_changes()
        assert store.publish() is True and not store.unpublished_changes()
        published = data_token(store)
        # writing the same rows again, or only the run's bookkeeping, changes no data
        store.write_claims(make_claims())
        store.write_documents(written["documents"], "run-2")
        store.begin_run("run-2", {}, {})
        store.record_stage("run-2", "fetch", "ok", 0, 0)
        store.finish_run("run-2", "succeeded", {}, "nothing new")
        assert data_token(store) == published and store.publish() is False
        assert store.set_claims_enabled(["capital"], False) == []
        assert data_token(store) != published and store.publish() is True
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT enabled FROM claims WHERE claim_id = 'capital'").fetchall() == [(False,)]


def test_a_published_file_another_program_wrote_to_is_replaced_even_without_new_data(db):
    with Store.open_run(db) as store:
        fill(store)
        store.publish()
    Path(f"{db}.wal").write_bytes(b"left by another program")
    with Store.open_run(db) as store:
        assert store.unpublished_changes() and store.publish() is True
    assert not Path(f"{db}.wal").exists()


def test_work_drained_by_a_complete_run_is_not_looked_for_again_until_the_data_changes(db):
    with Store.open_run(db) as store:
        fill(store)
        assert store.pending_documents().is_empty() and store.pending_ner(*NER)[0].is_empty()
        store.mark_drained()
        store.con.execute(  # a row that skips the store's writes leaves the data version as it was
            "INSERT INTO documents SELECT * REPLACE ('sneaked' AS doc_id, 'file:///sneaked.txt' AS uri) FROM documents "
            "LIMIT 1"
        )
        shortcut = store.pending_documents()
        assert shortcut.is_empty() and shortcut.columns == list(frames.DOCUMENTS)
        assert store.pending_ner(*NLI)[0].height == len(TEXTS)  # another model's work was never drained
        new = make_documents(["Una notizia arrivata dopo."])
        store.write_documents(new, "run-2")
        assert sorted(store.pending_documents()["doc_id"]) == sorted([new["doc_id"][0], "sneaked"])


def test_a_run_caps_duckdbs_memory_when_asked(db):
    with Store.open_run(db, memory_limit="300MB") as store:
        capped = store.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    with Store.open_run(db) as store:
        default = store.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert capped.startswith("286.") and capped != default  # 300 MB is 286.1 MiB
