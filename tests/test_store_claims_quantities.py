"""Store methods for claims with translations, enabling, and incremental quantities; the quantity views."""

import json
from datetime import date

import polars as pl
import pytest

from flows.link_mentions import reapply_overrides
from stancewire import frames
from stancewire.results import QuantitiesResult
from stancewire.store import Store
from tasks.inputs.aliases import load_aliases
from tasks.link import alias_entities, entity_id, link_mentions, linker_fingerprint, override_row
from tasks.quantities import EXTRACTOR_VERSION, extract_quantities
from tests.test_store import AS_NER, make_articles, make_documents, make_entities, make_stance

TEXTS = {
    "a.txt": "Roma ha inviato circa 1.500 soldati. Mario Rossi vive a Milano.",
    "b.txt": "Nessun numero al Louvre. Niente.",
}


@pytest.fixture
def store(tmp_path):
    with Store.open_run(tmp_path / "s.duckdb") as opened:
        yield opened


def seed(store: Store, texts=TEXTS) -> tuple[pl.DataFrame, pl.DataFrame]:
    documents = make_documents(list(texts))
    articles, sentences = make_articles(documents, texts)
    store.write_documents(documents, "run-1")
    store.write_articles(articles, sentences, "run-1")
    return articles, sentences


def claim(claim_id="c1", translations=None, enabled=True) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "claim_id": claim_id,
                "text": "Rome sent soldiers",
                "language": "en",
                "enabled": enabled,
                "translations": json.dumps(translations) if translations else None,
            }
        ],
        schema=frames.CLAIMS,
    )


def test_claims_keep_translations_and_can_be_disabled(store):
    store.write_claims(claim(translations={"it": "Roma ha inviato soldati"}))
    assert json.loads(store.claims()["translations"][0]) == {"it": "Roma ha inviato soldati"}
    assert store.set_claims_enabled(["c1", "nope"], False) == ["nope"]
    assert store.claims(enabled_only=True).is_empty()
    assert store.claims(enabled_only=False)["enabled"].to_list() == [False]


def run_quantities(store: Store, run_id: str) -> list[str]:
    articles, sentences, mentions = store.pending_quantities(EXTRACTOR_VERSION)
    found, named, skipped = extract_quantities(sentences, articles, mentions, load_aliases([]))
    ids = articles["article_id"].to_list()
    store.save(QuantitiesResult(found, ids, EXTRACTOR_VERSION, named, skipped), run_id)
    return ids


def run_link(store: Store, run_id: str) -> None:
    aliases = load_aliases([])
    pending = store.pending_links(linker_fingerprint(aliases))
    store.save(link_mentions(pending, store.entities(), aliases, store.entity_overrides()), run_id)


def test_quantities_are_read_once_and_again_after_a_new_ner_run_or_a_text_change(store):
    articles, sentences = seed(store)
    ids = sorted(articles["article_id"])
    assert sorted(run_quantities(store, "run-1")) == ids
    q = store.query("SELECT text, value, qualifier, thing, role, subjects FROM quantities").rows()
    assert q == [("1.500", 1500.0, "about", "soldiers", "total", [])]  # no NER yet: no subject
    assert run_quantities(store, "run-2") == []  # nothing new, article without quantities included

    entities = make_entities(articles, sentences)
    store.write_mentions(entities, "run-3", articles["article_id"].to_list(), **AS_NER)
    run_link(store, "run-3")
    assert sorted(run_quantities(store, "run-3")) == ids  # entities changed: subjects are re-read
    assert store.query("SELECT subject, subject_from FROM v_quantities").rows() == [("Rome", "sentence")]

    changed = {"a.txt": "Roma ha inviato 300 soldati. Fine.", "b.txt": TEXTS["b.txt"]}
    new_articles, new_sentences = make_articles(make_documents(list(TEXTS)), changed)
    store.write_articles(new_articles, new_sentences, "run-4")
    assert store.query("SELECT count(*) AS n FROM quantities")["n"][0] == 0  # offsets pointed into the old text
    assert run_quantities(store, "run-4") == [new_articles["article_id"][0]]
    assert store.query("SELECT text, qualifier FROM quantities").rows() == [("300", "exact")]


def test_a_demonym_names_an_entity_no_mention_did_and_links_keep_it(store):
    seed(store, {"a.txt": "Secondo fonti, circa 300 soldati nordcoreani sono stati uccisi."})
    run_quantities(store, "run-1")
    assert store.query("SELECT subject, subject_from, thing FROM v_quantities").rows() == [
        ("North Korea", "thing", "killed")
    ]
    run_link(store, "run-2")
    store.con.execute("DELETE FROM mention_links")
    reapply_overrides(store)  # drops entities nothing refers to, but not a quantity's subject
    assert store.query("SELECT subject FROM v_quantities").rows() == [("North Korea",)]


def test_unreadable_numbers_are_quarantined_with_the_reason(store):
    seed(store, {"a.txt": "Il numero 1.000,000.5 e 1234567890123456789012345 soldati, tra 12 e 10 soldati."})
    run_quantities(store, "run-1")
    assert store.query("SELECT count(*) AS n FROM quantities")["n"][0] == 0
    reasons = store.query("SELECT reason FROM quarantine WHERE stage = 'quantities' ORDER BY reason")["reason"]
    assert reasons.to_list() == ["mixed_separators", "range_reversed", "too_many_digits"]


def test_quantities_suite_flags_a_span_that_does_not_match_the_text(store):
    from expectations import validate_all

    seed(store)
    run_quantities(store, "run-1")
    assert next(t for t in validate_all(store, "run-1").tables if t.table == "quantities").success
    store.con.execute("UPDATE quantities SET text = '2.500', qualifier = 'range'")
    failed = {f["column"] for t in validate_all(store, "run-1").tables if t.table == "quantities" for f in t.failures}
    assert failed == {"chk_matches_span", "chk_range_iff_wider"}


def test_changed_translations_make_the_claim_pending_again(store):
    seed(store)
    store.write_claims(claim())
    pairs, _ = store.pending_stance("m", "r")
    assert pairs.height == 2
    _, sentences = make_articles(make_documents(list(TEXTS)), TEXTS)
    store.write_stance(make_stance(sentences, pairs.rows(), model=("m", "r")), "run-1")
    assert store.pending_stance("m", "r")[0].is_empty()
    store.write_claims(claim())  # unchanged: still scored
    assert store.pending_stance("m", "r")[0].is_empty()
    store.write_claims(claim(translations={"it": "Roma ha inviato soldati"}))
    assert store.pending_stance("m", "r")[0].height == 2


DAY = date(2026, 10, 27)
SHIPS = {"a.txt": "Sono 18 navi.", "b.txt": "Sono 31 navi.", "c.txt": "Sono circa 30 navi.", "d.txt": "Sono 100 navi."}


def figure(article_id: str, value: float, **given) -> dict:
    row = {
        "quantity_id": f"{article_id[:6]}-{value}-{given.get('thing', 'ships')}-{given.get('role', 'total')}",
        "article_id": article_id,
        "sentence_id": f"{article_id}:0",
        "start": 5,
        "end": 7,
        "text": str(int(value)),
        "value": value,
        "value_max": value,
        "qualifier": "exact",
        "unit": None,
        "object": "navi",
        "object_key": "navi",
        "thing": "ships",
        "role": "total",
        "estimated": False,
        "subjects": [entity_id("alias:france")],
        "subject_from": "sentence",
        "refers_from": DAY,
        "refers_to": DAY,
        "date_from": "article",
    }
    return row | given


def conflicts(store: Store, *figures: dict) -> list[tuple]:
    store.write_entities(alias_entities([load_aliases([]).entries["france"]], load_aliases([])), "run-1")
    store.write_quantities(pl.DataFrame(list(figures), schema=frames.QUANTITIES), "run-1", [], EXTRACTOR_VERSION)
    return store.query("SELECT a_text, b_text, subjects, reason FROM v_quantity_conflicts ORDER BY a_text").rows()


def test_figures_that_cannot_both_hold_conflict_with_both_sides_and_a_reason(store):
    articles, _ = seed(store, SHIPS)
    a, b, c, _ = sorted(articles["article_id"], key=lambda i: articles.filter(article_id=i)["url"][0])
    rows = conflicts(store, figure(a, 18), figure(b, 31), figure(c, 30, qualifier="about"))
    assert {(r[0], r[1]) for r in rows} == {("18", "31"), ("18", "30")} or {(r[1], r[0]) for r in rows} == {
        ("18", "31"),
        ("18", "30"),
    }
    assert all(r[2] == ["France"] for r in rows)
    assert "total ships of France" in rows[0][3] and "the ranges do not meet" in rows[0][3]


@pytest.mark.parametrize(
    "other",
    [
        {"thing": "containers"},  # another counted thing
        {"role": "increment"},  # an addition is not a stock
        {"unit": "EUR"},
        {"subjects": [entity_id("alias:italy")]},  # nobody's figure in common
        {"refers_from": date(2026, 11, 10), "refers_to": date(2026, 11, 10)},  # other days
        {"qualifier": "more_than"},  # "more than 18" fits 31
    ],
)
def test_figures_that_differ_in_what_whose_when_or_fit_do_not_conflict(store, other):
    articles, _ = seed(store, SHIPS)
    a, b = sorted(articles["article_id"], key=lambda i: articles.filter(article_id=i)["url"][0])[:2]
    assert conflicts(store, figure(a, 18, **other), figure(b, 31)) == []


def test_a_gap_of_more_than_three_times_counts_something_else(store):
    articles, _ = seed(store, SHIPS)
    a, _, _, d = sorted(articles["article_id"], key=lambda i: articles.filter(article_id=i)["url"][0])
    assert conflicts(store, figure(a, 18), figure(d, 100)) == []


def test_increments_conflict_only_as_news_of_the_same_days(store):
    articles, _ = seed(store, SHIPS)
    a, b = sorted(articles["article_id"], key=lambda i: articles.filter(article_id=i)["url"][0])[:2]
    assert len(conflicts(store, figure(a, 18, role="increment"), figure(b, 31, role="increment"))) == 1
    dated = {"role": "increment", "date_from": "text"}
    assert conflicts(store, figure(a, 18, **dated), figure(b, 31, **dated)) == []


def test_one_article_never_conflicts_with_itself_and_the_timeline_orders_by_day(store):
    articles, _ = seed(store, SHIPS)
    a = sorted(articles["article_id"], key=lambda i: articles.filter(article_id=i)["url"][0])[0]
    late = {"refers_from": date(2026, 10, 29), "refers_to": date(2026, 10, 29), "quantity_id": "late"}
    assert conflicts(store, figure(a, 18, **late), figure(a, 31)) == []
    timeline = store.query("SELECT subject, thing, quantity_text FROM v_quantity_timeline").rows()
    assert timeline == [("France", "ships", "31"), ("France", "ships", "18")]


def test_overrides_are_reapplied_to_every_link_only_when_they_changed(store, monkeypatch):
    articles, sentences = seed(store)
    store.write_mentions(make_entities(articles, sentences), "run-1", articles["article_id"].to_list(), **AS_NER)
    run_link(store, "run-1")
    reapply_overrides(store)
    every_link = store.mention_links

    def refuse():
        raise AssertionError("every link loaded although the overrides did not change")

    monkeypatch.setattr(store, "mention_links", refuse)
    assert reapply_overrides(store) == 0
    rome, italy = entity_id("alias:rome"), entity_id("alias:italy")
    store.add_entity_override(override_row("merge", rome, italy, "the capital for the country, in this test"))
    monkeypatch.setattr(store, "mention_links", every_link)
    assert reapply_overrides(store) == 1  # changed: applied to every link, Roma's moved
    assert (italy,) in store.query("SELECT entity_id FROM mention_links").rows()


def test_a_link_batch_reads_only_the_entities_its_names_can_be(store):
    aliases = load_aliases([])
    entries = [aliases.entries["france"], aliases.entries["italy"]]
    store.write_entities(alias_entities(entries, aliases), "run-1")
    assert store.entities(keys={"alias:italy", "name:nowhere"})["name"].to_list() == ["Italy"]
    assert store.entities(keys=set()).is_empty()
    assert store.entities().height == 2
