"""Linking against the store, the entity views, and `stancewire entities` corrections that survive reruns."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

import expectations
import flows.link_mentions
from flows.cli import app
from flows.link_mentions import link_pending
from stancewire import frames
from stancewire.ids import sha256_hex, stable_id
from stancewire.store import Store
from tasks.inputs.aliases import load_aliases
from tasks.link import entity_id, link_mentions

# (article, source, published, text, [(surface, label[, label_from])]) — surfaces are found in order in the text.
ARTICLES = [
    (
        "a1",
        "agency-it",
        datetime(2025, 2, 10, 9, tzinfo=UTC),
        "Volodymyr Zelensky ha parlato delle truppe della Corea del Nord. Zelensky era a Kiev.",
        [("Volodymyr Zelensky", "PER"), ("Corea del Nord", "ORG"), ("Zelensky", "PER"), ("Kiev", "LOC")],
    ),
    (
        "a2",
        "paper-de",
        datetime(2025, 2, 12, 9, tzinfo=UTC),
        "Nordkorea schickt Soldaten. Selenskyj warnt. Wolodymyr Selenskyj sprach in Kiew.",
        [("Nordkorea", "LOC"), ("Selenskyj", "PER"), ("Wolodymyr Selenskyj", "PER"), ("Kiew", "LOC")],
    ),
    (
        "a3",
        "paper-en",
        datetime(2025, 2, 20, 9, tzinfo=UTC),
        "Zelensky met Pyongyang envoys.",
        [("Zelensky", "PER"), ("Pyongyang", "ORG")],
    ),
    (
        "a5",
        "paper-en",
        datetime(2025, 2, 21, 9, tzinfo=UTC),
        "Oleksandr Zelensky, a farmer, sold his harvest.",
        [("Oleksandr Zelensky", "PER")],
    ),
]
NEW_ARTICLE = (
    "a4",
    "paper-en",
    datetime(2025, 3, 3, 9, tzinfo=UTC),
    "Zelensky spoke about North Korean troops and North Korea.",
    [("Zelensky", "PER"), ("North Korea", "LOC")],
)
MODEL = {"model_id": "test-ner", "model_revision": ""}


# The example in docs/stance-and-entities.md: which sources mention Zelensky together with North Korean troops, per week.
ZELENSKY_WITH_NORTH_KOREAN_TROOPS = """
SELECT CAST(date_trunc('week', z.day) AS DATE) AS week, coalesce(z.site, z.source) AS source,
       count(DISTINCT z.article_id) AS articles
FROM v_entity_mentions z
WHERE z.entity_name = 'Volodymyr Zelensky'
  AND EXISTS (
    SELECT 1 FROM v_entity_mentions k JOIN sentences s USING (sentence_id)
    WHERE k.article_id = z.article_id
      AND 'North Korea' IN (k.entity_name, k.stands_for_name)
      AND regexp_matches(s.text, '(?i)troop|truppe|soldat|tropas|troupes|militari')
  )
GROUP BY ALL
ORDER BY week, source
"""


def frames_for(articles):
    arts, sents, ents, docs = [], [], [], []
    for title, source, published, text, surfaces in articles:
        article_id = stable_id("article", title)
        docs.append(
            {
                "doc_id": article_id,
                "source": source,
                "uri": f"{source}/{article_id}",
                "fetched_at": published,
                "content_type": "text/plain",
                "content_hash": sha256_hex(text),
                "size_bytes": len(text),
                "payload": text.encode(),
            }
        )
        arts.append(
            {
                "article_id": article_id,
                "doc_id": article_id,
                "source": source,
                "url": None,
                "title": title,
                "author": None,
                "published": published,
                "site": None,
                "language": "it",
                "language_confidence": 1.0,
                "text": text,
                "text_hash": sha256_hex(text),
                "extractor": "plain",
            }
        )
        sentence_id = f"{article_id}:0"
        sents.append(
            {"sentence_id": sentence_id, "article_id": article_id, "idx": 0, "start": 0, "end": len(text), "text": text}
        )
        at = 0
        for surface, label, *stated in surfaces:
            start = text.index(surface, at)
            at = start + len(surface)
            ents.append(
                {
                    "mention_id": stable_id(article_id, start),
                    "article_id": article_id,
                    "sentence_id": sentence_id,
                    "start": start,
                    "end": at,
                    "text": surface,
                    "label": label,
                    "label_from": stated[0] if stated else "model",
                    "score": 0.9,
                    **MODEL,
                }
            )
    return (
        pl.DataFrame(docs, schema=frames.DOCUMENTS),
        pl.DataFrame(arts, schema=frames.ARTICLES),
        pl.DataFrame(sents, schema=frames.SENTENCES),
        pl.DataFrame(ents, schema=frames.MENTIONS),
    )


def land(store: Store, articles, run_id: str) -> None:
    docs, arts, sents, ents = frames_for(articles)
    store.write_documents(docs, run_id)
    store.write_articles(arts, sents, run_id)
    store.write_mentions(ents, run_id, arts["article_id"], **MODEL)


@pytest.fixture(autouse=True)
def no_prefect_engine(monkeypatch):
    monkeypatch.setattr(flows.link_mentions, "link_task", link_mentions)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "entities.duckdb"
    with Store.open_run(path) as store:
        land(store, ARTICLES, "run-1")
        counts = link_pending(store, "run-1", load_aliases([]))
        assert (counts.articles, counts.mentions) == (4, 11)
        store.publish()
    return path


def skip_validation(monkeypatch):
    """Great Expectations takes seconds per call: the CLI validates for real once, in the split test."""
    monkeypatch.setattr(expectations, "validate_all", lambda store, run_id, **kw: SimpleNamespace(success=True))


def read(db, sql):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).pl()


def cli(*args):
    result = CliRunner().invoke(app, ["entities", *args])
    return result.exit_code, result.output


def entity_of(db) -> dict[str, str]:
    rows = read(
        db,
        "SELECT a.title, m.text, m.entity_name FROM v_entity_mentions m JOIN articles a USING (article_id) "
        "ORDER BY a.title, m.start",
    ).rows()
    return {f"{a}:{t}": n for a, t, n in rows}


def test_links_views_and_the_one_query(db):
    assert entity_of(db) == {
        "a1:Volodymyr Zelensky": "Volodymyr Zelensky",
        "a1:Corea del Nord": "North Korea",
        "a1:Zelensky": "Volodymyr Zelensky",
        "a1:Kiev": "Kyiv",
        "a2:Nordkorea": "North Korea",
        "a2:Selenskyj": "Volodymyr Zelensky",
        "a2:Wolodymyr Selenskyj": "Volodymyr Zelensky",
        "a2:Kiew": "Kyiv",
        "a3:Zelensky": "Zelensky",
        "a3:Pyongyang": "Pyongyang",
        "a5:Oleksandr Zelensky": "Oleksandr Zelensky",
    }
    weekly = read(db, ZELENSKY_WITH_NORTH_KOREAN_TROOPS).rows()
    assert weekly == [(date(2025, 2, 10), "agency-it", 1), (date(2025, 2, 10), "paper-de", 1)]
    pairs = read(
        db,
        "SELECT entity_name, other_name, articles FROM v_entity_cooccurrence_article "
        "WHERE entity_name = 'Volodymyr Zelensky' ORDER BY other_name",
    ).rows()
    assert pairs == [("Volodymyr Zelensky", "Kyiv", 2), ("Volodymyr Zelensky", "North Korea", 2)]
    timeline = read(
        db,
        "SELECT source, day, mentions FROM v_entity_mentions_by_source_day "
        "WHERE entity_name = 'Volodymyr Zelensky' ORDER BY day",
    ).rows()
    assert [(s, m) for s, _, m in timeline] == [("agency-it", 2), ("paper-de", 2)]
    aliases = read(db, "SELECT aliases FROM entities WHERE name = 'Volodymyr Zelensky'")["aliases"][0]
    assert {"Selenskyj", "Zelensky", "Volodymyr Zelenskyy"} <= set(aliases)
    pyongyang = read(db, "SELECT stands_for_name FROM v_entities WHERE name = 'Pyongyang'")["stands_for_name"][0]
    assert pyongyang == "North Korea"


def test_top_entities_per_claim_stance(db):
    with Store.open_run(db) as store:
        store.write_claims(
            pl.DataFrame(
                [
                    {
                        "claim_id": "nk-troops",
                        "text": "North Korea sent troops to Russia.",
                        "language": "en",
                        "enabled": True,
                    }
                ],
                schema=frames.CLAIMS,
            )
        )
        stance = [
            {
                "article_id": stable_id("article", title),
                "claim_id": "nk-troops",
                "model_id": "nli",
                "model_revision": "",
                "label": label,
            }
            for title, label in (("a1", "SUPPORT"), ("a2", "SUPPORT"), ("a3", "NEUTRAL"))
        ]
        store.write_stance(pl.DataFrame(stance, schema=frames.STANCE), "run-1")
        top = store.query(
            "SELECT stance, rank, entity_name, articles FROM v_top_entities_by_stance "
            "WHERE claim_id = 'nk-troops' AND rank <= 2 ORDER BY stance, rank"
        ).rows()
    assert top == [
        ("NEUTRAL", 1, "Pyongyang", 1),
        ("NEUTRAL", 2, "Zelensky", 1),
        ("SUPPORT", 1, "Volodymyr Zelensky", 2),
        ("SUPPORT", 2, "Kyiv", 2),
    ]  # 4 mentions, then 2 and by name


def test_merge_and_split_are_kept_across_reruns_and_apply_to_new_articles(db, monkeypatch):
    with monkeypatch.context() as patched:
        skip_validation(patched)
        code, out = cli("merge", "Volodymyr Zelensky", "name:zelensky", "--db", str(db), "--note", "bare surname = him")
    assert code == 0, out
    assert entity_of(db)["a3:Zelensky"] == "Volodymyr Zelensky"
    code, out = cli(
        "split",
        "Volodymyr Zelensky",
        "--surface",
        "Selenskyj",
        "--article",
        stable_id("article", "a2"),
        "--new",
        "Selenskyj (unclear)",
        "--db",
        str(db),
    )
    assert code == 0 and "published" in out, out  # validated for real: merged and analyst entities included
    skip_validation(monkeypatch)
    after = entity_of(db)
    assert after["a2:Selenskyj"] == "Selenskyj (unclear)"
    assert after["a2:Wolodymyr Selenskyj"] == "Volodymyr Zelensky"  # other spelling, same article: untouched

    with Store.open_run(db) as store:  # a later run: new article, and a changed alias list relinks everything
        land(store, [NEW_ARTICLE], "run-2")
        assert link_pending(store, "run-2", load_aliases([])).articles == 1
        assert link_pending(store, "run-2", load_aliases([])).articles == 0
        store.con.execute("UPDATE mention_links SET linker = 'old'")
        assert link_pending(store, "run-3", load_aliases([])).articles == 5
        store.publish()
    after = entity_of(db)
    assert after["a4:Zelensky"] == after["a3:Zelensky"] == "Volodymyr Zelensky"
    assert read(db, ZELENSKY_WITH_NORTH_KOREAN_TROOPS).rows()[-1] == (date(2025, 3, 3), "paper-en", 1)
    assert after["a2:Selenskyj"] == "Selenskyj (unclear)"
    assert read(db, "SELECT merged_into FROM entities WHERE entity_key = 'name:zelensky'")["merged_into"][
        0
    ] == entity_id("alias:volodymyr-zelensky")

    code, out = cli("overrides", "--db", str(db))
    assert code == 0 and "merge" in out and "split" in out and "bare surname = him" in out
    merge_id = read(db, "SELECT override_id FROM entity_overrides WHERE action = 'merge'")["override_id"][0]
    code, out = cli("overrides", "--remove", merge_id, "--db", str(db))
    assert code == 0, out
    assert entity_of(db)["a3:Zelensky"] == "Zelensky"


def test_show_list_and_clear_errors(db):
    code, out = cli("show", "Selenskyj", "--db", str(db))  # found by alias
    assert code == 0, out
    assert "Volodymyr Zelensky  [PER]" in out and "short_form" in out and "alias" in out
    code, out = cli("list", "--search", "zel", "--db", str(db))
    assert code == 0 and "Oleksandr Zelensky" in out
    code, out = cli("show", "Atlantis", "--db", str(db))
    assert code == 1 and "no entity is named 'Atlantis'" in out
    code, out = cli("merge", "Kyiv", "Kyiv", "--db", str(db))
    assert code == 1 and "nothing to merge" in out
    code, out = cli("split", "Kyiv", "--surface", "Kiev", "--into", "Kyiv", "--new", "X", "--db", str(db))
    assert code == 1 and "exactly one of --into" in out
    code, out = cli("split", "Kyiv", "--new", "X", "--db", str(db))
    assert code == 1 and "which mentions" in out


def test_a_later_stated_type_retypes_a_name_the_model_guessed_wrong(tmp_path):
    guessed = [
        (f"t{n}", "paper-en", datetime(2025, 2, 10 + n, 9, tzinfo=UTC), "Turin start-ups grow.", [("Turin", "ORG")])
        for n in range(2)
    ]
    dateline = ("t9", "paper-en", datetime(2025, 3, 1, 9, tzinfo=UTC), "TURIN — Rain.", [("TURIN", "LOC", "dateline")])
    with Store.open_run(tmp_path / "turin.duckdb") as store:
        land(store, guessed, "run-1")
        link_pending(store, "run-1", load_aliases([]))
        assert store.query("SELECT type FROM entities WHERE entity_key = 'name:turin'").rows() == [("ORG",)]
        land(store, [dateline], "run-2")
        link_pending(store, "run-2", load_aliases([]))
        assert store.query("SELECT type FROM entities WHERE entity_key = 'name:turin'").rows() == [("LOC",)]
