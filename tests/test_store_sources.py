from datetime import UTC, datetime

import polars as pl

from stancewire.frames import FETCH_STATE, SOURCE_HEALTH
from stancewire.store import Store
from tasks.inputs.sources import Source, sources_frame

T1, T2, T3 = (datetime(2025, 6, d, 6, tzinfo=UTC) for d in (10, 11, 12))


def health(source_id, at, ok, error=None, articles=0):
    return pl.DataFrame(
        [
            {
                "source_id": source_id,
                "checked_at": at,
                "ok": ok,
                "error": error,
                "discovered": articles,
                "articles": articles,
            }
        ],
        schema=SOURCE_HEALTH,
    )


def test_registry_health_and_fetch_state(tmp_path):
    with Store.open_run(tmp_path / "db.duckdb") as store:
        store.write_sources(
            sources_frame(
                [
                    Source(id="a", kind="rss", url="https://x.com/f"),
                    Source(id="b", kind="sitemap", url="https://y.com/s.xml"),
                ]
            )
        )
        store.record_source_health(health("a", T1, True, articles=5))
        store.record_source_health(health("a", T2, False, "http_503: down"))
        store.record_source_health(health("a", T3, False, "http_503: down"))
        # updating the definition keeps added_at and health
        store.write_sources(sources_frame([Source(id="a", kind="atom", url="https://x.com/atom", language="fr")]))
        assert store.set_source_enabled("b", False) and not store.set_source_enabled("zzz", False)

        assert store.sources(enabled_only=True)["source_id"].to_list() == ["a"]
        row = store.source_health().row(0, named=True)
        assert (
            row["source_id"],
            row["kind"],
            row["last_success_at"],
            row["consecutive_failures"],
            row["last_error"],
            row["articles_last_run"],
        ) == ("a", "atom", T1, 2, "http_503: down", 0)
        store.record_source_health(health("a", T3, True, articles=1))
        assert store.source_health().row(0, named=True)["consecutive_failures"] == 0

        state = pl.DataFrame(
            [
                {
                    "url": "https://x.com/1",
                    "source_id": "a",
                    "role": "article",
                    "etag": '"e1"',
                    "last_fetched_at": T1,
                    "status": "fetched",
                    "failures": 0,
                }
            ],
            schema=FETCH_STATE,
        )
        store.write_fetch_state(state, "run-1")
        store.write_fetch_state(state.with_columns(status=pl.lit("unchanged"), last_fetched_at=pl.lit(T2)), "run-2")
        stored = store.fetch_state()
        assert stored.height == 1 and stored.row(0, named=True)["status"] == "unchanged"
        assert stored.row(0, named=True)["etag"] == '"e1"'


def test_source_articles_view_takes_the_listing_date_when_the_page_has_none(tmp_path):
    with Store.open_run(tmp_path / "db.duckdb") as store:
        store.write_sources(sources_frame([Source(id="a", kind="rss", url="https://x.com/f", language="it")]))
        state = pl.DataFrame(
            [
                {
                    "url": "https://x.com/1",
                    "source_id": "a",
                    "role": "article",
                    "published": T1,
                    "last_fetched_at": T2,
                    "status": "fetched",
                    "failures": 0,
                }
            ],
            schema=FETCH_STATE,
        )
        store.write_fetch_state(state, "run-1")
        store.con.execute(
            "INSERT INTO documents (doc_id, uri, fetched_at, run_id) VALUES ('d1', 'https://x.com/1', ?, 'r')", [T2]
        )
        store.con.execute(
            "INSERT INTO articles (article_id, doc_id, url, run_id) VALUES ('d1', 'd1', 'https://x.com/1', 'r')"
        )
        rows = store.query("SELECT source_id, article_id, published, language_hint FROM v_source_articles").rows()
    assert rows == [("a", "d1", T1, "it")]
