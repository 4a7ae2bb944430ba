"""Time and size of `stancewire export` (Parquet, partitioned by date and source) and of reading it back.

Either exports an existing published database, or first builds one by running the flow with tiny generated models
on N generated articles (bench/synthetic.py: 15 sites, publication days spread over a year). Prints, per export
variant, wall time, rows, files and bytes, then how long counting every table through the views takes compared with
the database itself.

    python bench/lake_export.py --db data/stancewire.duckdb     # after `make demo`
    python bench/lake_export.py --articles 1000                  # builds a store first (a few minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
from pathlib import Path

import duckdb  # noqa: E402
import offline_env  # noqa: F401  (sets up sys.path and the environment before the imports below)

from stancewire.lake import create_views, export  # noqa: E402


def build_store(root: Path, count: int) -> Path:
    """Run the flow once on `count` generated articles with tiny models; returns the published database."""
    from prefect.testing.utilities import prefect_test_harness

    from bench import synthetic
    from flows.pipeline import stancewire_pipeline
    from stancewire.config import AnalystFiles, FetchOptions, ModelOptions, ModelSpec, RunParams, StoreOptions
    from tests.models.tiny import make_tiny_ner, make_tiny_nli

    corpus = root / "articles"
    synthetic.write_jsonl(corpus, count)
    params = RunParams(
        fetch=FetchOptions(sources=[str(corpus)], use_registered_sources=False),
        inputs=AnalystFiles(claims_file=str(synthetic.write_claims(root / "claims.yaml"))),
        models=ModelOptions(
            ner=ModelSpec(id=str(make_tiny_ner(root / "ner"))), nli=ModelSpec(id=str(make_tiny_nli(root / "nli")))
        ),
        store=StoreOptions(db_path=str(root / "store.duckdb")),
    )
    start = time.perf_counter()
    with prefect_test_harness(server_startup_timeout=120):
        stancewire_pipeline(params=params)
    print(f"built a store of {count:,} articles in {time.perf_counter() - start:.0f} s")
    return Path(params.store.db_path)


def count_all(con: duckdb.DuckDBPyConnection, tables: list[str]) -> float:
    start = time.perf_counter()
    for table in tables:
        con.execute(f'SELECT count(*) FROM "{table}"').fetchall()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--db", type=Path, help="a published stancewire database")
    source.add_argument("--articles", type=int, help="build a store of this many generated articles first")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lake-bench-")))
        db = args.db or build_store(root, args.articles)
        with duckdb.connect(str(db), read_only=True) as con:
            articles = con.execute("SELECT count(*) FROM articles").fetchall()[0][0]
        print(
            f"database {db}: {db.stat().st_size / 1e6:.1f} MB, {articles:,} articles; {os.cpu_count()} CPUs, "
            f"load {os.getloadavg()[0]:.1f}"
        )
        print(f"{'export':<34} {'seconds':>8} {'rows':>10} {'files':>7} {'MB':>8}")
        out = root / "lake"
        for label, payloads in (
            ("first, into a new directory", False),
            ("again, replacing it", False),
            ("with documents.payload", True),
        ):
            result = export(db, out, payloads=payloads)
            files = sum(t.files for t in result.tables)
            print(f"{label:<34} {result.seconds:>8.2f} {result.rows:>10,} {files:>7,} {result.bytes / 1e6:>8.2f}")
        result = export(db, out)
        views_db = root / "lake.duckdb"
        create_views(out, views_db)
        tables = [t.name for t in result.tables]
        with duckdb.connect(str(views_db), read_only=True) as lake, duckdb.connect(str(db), read_only=True) as store:
            print(
                f"count(*) of all {len(tables)} tables: {count_all(lake, tables):.2f} s through the views, "
                f"{count_all(store, tables):.2f} s in DuckDB"
            )


if __name__ == "__main__":
    main()
