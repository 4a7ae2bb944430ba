"""A store of N articles built directly, for measuring what a run costs on a big store (bench/scale.py --stored).

A seed run puts S synthetic articles through the real flow (tiny models), so every table holds rows the product
wrote, with the models, claims, linker and extractor versions later runs will look for. The store is then grown to N
articles by copying the seed's per-article rows N/S - 1 times with bulk `INSERT ... SELECT` (fresh ids, the same
texts): no fetch, clean or model runs for the copies. Canonical entities, claims and source line counts are shared.
Copies get their own near-duplicate band keys and text hashes, so new articles find no false candidates among them.
"""

from pathlib import Path

import duckdb

_ID = "md5({col} || '#' || g.i)"  # a fresh 32-hex id per copy
_ARTICLE = _ID.format(col="article_id")

# Per table: the columns whose values name an article, sentence or row, and what a copy puts there.
COPIED = {
    "documents": {"doc_id": _ID.format(col="doc_id"), "uri": "uri || '#' || g.i"},
    "articles": {
        "article_id": _ARTICLE,
        "doc_id": _ID.format(col="doc_id"),
        "text_hash_normalised": "sha256(text_hash_normalised || '#' || g.i)",
        "duplicate_of": "CASE WHEN duplicate_of IS NOT NULL THEN md5(duplicate_of || '#' || g.i) END",
    },
    "sentences": {"sentence_id": f"{_ARTICLE} || ':' || idx", "article_id": _ARTICLE},
    "mentions": {
        "mention_id": _ID.format(col="mention_id"),
        "article_id": _ARTICLE,
        "sentence_id": f"{_ARTICLE} || ':' || split_part(sentence_id, ':', 2)",
    },
    "mentions_done": {"article_id": _ARTICLE},
    "mention_links": {"mention_id": _ID.format(col="mention_id"), "article_id": _ARTICLE},
    "stance": {
        "article_id": _ARTICLE,
        "evidence_sentence_id": f"{_ARTICLE} || ':' || split_part(evidence_sentence_id, ':', 2)",
        "opposing_sentence_id": f"{_ARTICLE} || ':' || split_part(opposing_sentence_id, ':', 2)",
    },
    "quantities": {
        "quantity_id": _ID.format(col="quantity_id"),
        "article_id": _ARTICLE,
        "sentence_id": f"{_ARTICLE} || ':' || split_part(sentence_id, ':', 2)",
    },
    "quantities_done": {"article_id": _ARTICLE},
    "sentence_embeddings": {
        "sentence_id": f"{_ARTICLE} || ':' || split_part(sentence_id, ':', 2)",
        "article_id": _ARTICLE,
    },
    "article_embeddings": {"article_id": _ARTICLE},
    "boilerplate_lines": {"article_id": _ARTICLE},
    "article_bands": {"article_id": _ARTICLE, "band_key": f"(hash({_ARTICLE} || band_key) >> 1)::BIGINT"},
}


def grow(db: Path, copies: int, chunk: int = 200) -> dict[str, int]:
    """Add `copies` copies of every seeded article's rows to the store file `db` (closed: no run may hold it);
    returns the rows per table afterwards."""
    with duckdb.connect(str(db)) as con:
        for table, replaced in COPIED.items():
            columns = [r[0] for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [table]
            ).fetchall()]  # fmt: skip
            select = ", ".join(replaced.get(c, f'"{c}"') for c in columns)
            con.execute(f"CREATE TEMP TABLE seed AS SELECT * FROM {table}")
            for lo in range(1, copies + 1, chunk):
                hi = min(lo + chunk - 1, copies)
                con.execute(f"INSERT INTO {table} SELECT {select} FROM seed CROSS JOIN range({lo}, {hi + 1}) g(i)")
            con.execute("DROP TABLE seed")
        con.execute("CHECKPOINT")
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COPIED}
