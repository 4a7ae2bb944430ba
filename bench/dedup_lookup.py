"""Near-duplicate lookup against N stored articles: the whole-store scan (every fingerprint loaded, compared with
each new article) against the LSH band lookup the clean stage uses, side by side, with their decisions compared.

    python bench/dedup_lookup.py                      # N = 20,000 and 200,000 stored, 1,000 new
    python bench/dedup_lookup.py --stored 1000000     # slower to build (about 1 min per 200,000 on 2 cores)

The store is synthetic: N canonical articles with random MinHash signatures (what unrelated texts give) written
through Store.write_articles (which indexes their bands), no fetch, clean or models. The new articles are half
near-copies of stored ones (a share of the 64 signature values replaced, so the true similarity spans 0.55-0.95
around the 0.7 threshold) and half unrelated. Per new article: the scan's time (loading the fingerprints included,
as each run did) and the band lookup's (one query per batch of 100, as the clean stage does), and how many
decisions differ.
"""

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stancewire import frames  # noqa: E402
from stancewire.store import Store  # noqa: E402
from tasks.text.dedup import NUM_PERM, DuplicateIndex, Fingerprint  # noqa: E402

BATCH = 100


def stored_frame(ids: range, signatures: np.ndarray) -> pl.DataFrame:
    n = len(ids)
    frame = pl.DataFrame(
        {
            "article_id": [f"a{i:09d}" for i in ids],
            "doc_id": [f"a{i:09d}" for i in ids],
            "source": ["synthetic"] * n,
            "published": [datetime(2026, 1, 1, tzinfo=UTC)] * n,
            "language": ["en"] * n,
            "text": ["x"] * n,
            "text_hash": [f"t{i}" for i in ids],
            "extractor": ["plain"] * n,
            "text_hash_normalised": [f"h{i}" for i in ids],
            "minhash": [row.astype("<u4").tobytes() for row in signatures],
        }
    )
    missing = {c: pl.lit(None, dtype=t) for c, t in frames.ARTICLES.items() if c not in frame.columns}
    return frames.conform(frame.with_columns(**missing), frames.ARTICLES)


def build(db: Path, stored: int, rng: np.random.Generator) -> np.ndarray:
    signatures = rng.integers(0, 1 << 32, size=(stored, NUM_PERM), dtype=np.uint64).astype(np.uint32)
    started = time.perf_counter()
    with Store.open_run(db) as store:
        for lo in range(0, stored, 50_000):
            chunk = range(lo, min(lo + 50_000, stored))
            store.write_articles(
                stored_frame(chunk, signatures[chunk.start : chunk.stop]), frames.empty(frames.SENTENCES), "bench"
            )
        store.con.execute("CHECKPOINT")
    print(f"built {stored:,} stored articles in {time.perf_counter() - started:.0f} s")
    return signatures


def new_articles(signatures: np.ndarray, new: int, rng: np.random.Generator) -> list[Fingerprint]:
    out = []
    for k in range(new):
        if k % 2 == 0:
            sig = signatures[rng.integers(len(signatures))].copy()
            replaced = rng.choice(NUM_PERM, size=int(rng.uniform(0.05, 0.45) * NUM_PERM), replace=False)
            sig[replaced] = rng.integers(0, 1 << 32, size=len(replaced), dtype=np.uint64).astype(np.uint32)
        else:
            sig = rng.integers(0, 1 << 32, size=NUM_PERM, dtype=np.uint64).astype(np.uint32)
        out.append(Fingerprint(f"new{k}", sig.astype("<u4").tobytes()))
    return out


def scan(db: Path, fps: list[Fingerprint]) -> tuple[list, float]:
    started = time.perf_counter()
    with Store.open_run(db) as store:
        known = DuplicateIndex(
            store.query("SELECT article_id, text_hash_normalised, minhash FROM articles WHERE duplicate_of IS NULL")
        )
        decisions = [known.match(fp) for fp in fps]
    return decisions, time.perf_counter() - started


def bands(db: Path, fps: list[Fingerprint]) -> tuple[list, float, int]:
    started = time.perf_counter()
    decisions, candidates = [], 0
    with Store.open_run(db) as store:
        for lo in range(0, len(fps), BATCH):
            batch = fps[lo : lo + BATCH]
            found = store.duplicate_candidates([(f.text_hash_normalised, f.minhash) for f in batch])
            candidates += found.height
            index = DuplicateIndex(found)
            decisions += [index.match(fp) for fp in batch]
    return decisions, time.perf_counter() - started, candidates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stored", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--new", type=int, default=1_000)
    args = parser.parse_args()
    rows = []
    for stored in args.stored:
        rng = np.random.default_rng(7)
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "dedup.duckdb"
            signatures = build(db, stored, rng)
            fps = new_articles(signatures, args.new, rng)
            by_scan, scan_s = scan(db, fps)
            by_bands, bands_s, candidates = bands(db, fps)
        differ = sum((a[0] if a else None) != (b[0] if b else None) for a, b in zip(by_scan, by_bands, strict=True))
        rows.append(
            f"| {stored:,} | {args.new:,} | {1000 * scan_s / args.new:.2f} | {1000 * bands_s / args.new:.2f} | "
            f"{scan_s / bands_s:.1f}× | {candidates / args.new:.2f} | {sum(map(bool, by_scan))}, "
            f"{sum(map(bool, by_bands))} | {differ} |"
        )
    print(
        "\n| stored | new | scan ms/article | bands ms/article | scan ÷ bands | candidates/article | duplicates found (scan, bands) | decisions differing |"
    )
    print("|--:|--:|--:|--:|--:|--:|--:|--:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
