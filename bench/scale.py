"""Scale and incremental cost of the whole flow: full runs of N generated articles, then reruns with 0 and k new.

For each corpus size N and each Dask setting, in a fresh database: a full run over N articles (JSONL files of 1,000,
see bench/synthetic.py), a rerun with nothing new, then reruns after adding k = 1 % and 10 % of N articles as a new
file. Runs call the real flow (`flows.pipeline.stancewire_pipeline`) in this process against a temporary Prefect
server. Stage seconds come from the `stage_runs` table; the run summary and the publish copy, which are not stages,
are timed around their calls; "other" is the rest of the wall time (Prefect, opening the store, the run record).

    python bench/scale.py                                   # tiny models, N = 1,000 and 10,000
    python bench/scale.py --sizes 200 1000                  # a quick check
    python bench/scale.py --size base --sizes 1000 --device cuda   # base-size random-weight models
    python bench/scale.py --dask-workers 0 1 2              # in-process, then local Dask clusters of 1 and 2 workers
    python bench/scale.py --size base --sizes 100 --new --precision fp32 bf16 int8   # articles/s per precision

Tiny models measure the pipeline's plumbing; `--size base` gives both models the XLM-R base shape (12 layers,
hidden 768, random weights, built as bench/model_runtime.py builds them), which is what model time costs.

    python bench/scale.py --stored 100000 1000000 --new 1000   # what K new articles cost on a store of N

With --stored, a store of N articles is built directly (bench/synthetic_store.py: a seed run of 1,000 articles
through the flow, its rows then copied with bulk inserts: no fetch, clean or models for the copies), K new articles
are run on it and on an empty store, each run in its own process (tiny models), and one line per N is printed:
`stored N new K: time ratio R, memory ratio M, publish s S` (R, M: the big store's wall time and peak memory over the
empty store's; S: the publish step's seconds on the big store), then the wall time of a rerun with nothing new.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb  # noqa: E402
import offline_env  # noqa: F401  (sets up sys.path and the environment before the imports below)

import flows.pipeline  # noqa: E402
import flows.pipeline_run  # noqa: E402
from bench import synthetic  # noqa: E402
from models.loading import run_precision  # noqa: E402
from models.precision import BACKENDS, PRECISIONS  # noqa: E402
from stancewire.config import (  # noqa: E402
    AnalystFiles,
    DaskOptions,
    FetchOptions,
    ModelOptions,
    ModelSpec,
    RunParams,
    StoreOptions,
)
from stancewire.snapshot import work_path  # noqa: E402
from stancewire.store import Store  # noqa: E402

NOT_STAGES = ("summary", "publish", "other")  # timed around their calls; "other" is the rest of the wall time


@dataclass
class Run:
    label: str
    wall: float
    stages: list[str] = field(default_factory=list)  # as the run recorded them, in order
    seconds: dict[str, float] = field(default_factory=dict)  # stage or NOT_STAGES entry → seconds
    rows_in: dict[str, int] = field(default_factory=dict)
    rows_out: dict[str, int] = field(default_factory=dict)


class _Timers:
    """Seconds spent in the run summary and the publish copy, which the stage records do not hold."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, name: str, fn: Callable) -> Callable:
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

        return timed


@contextlib.contextmanager
def _timed_calls() -> Iterator[_Timers]:
    timers = _Timers()
    summary, publish = flows.pipeline_run.build_summary, Store.publish
    flows.pipeline_run.build_summary = timers.wrap("summary", summary)
    Store.publish = timers.wrap("publish", publish)
    try:
        yield timers
    finally:
        flows.pipeline_run.build_summary, Store.publish = summary, publish


def run_once(label: str, params: RunParams) -> Run:
    with _timed_calls() as timers:
        start = time.perf_counter()
        result = flows.pipeline.stancewire_pipeline(params=params)
        wall = time.perf_counter() - start
    if result.status != "succeeded":
        raise RuntimeError(f"run ended {result.status}")
    run = Run(label, wall)
    with duckdb.connect(str(work_path(params.store.db_path)), read_only=True) as con:  # holds runs not published
        rows = con.execute(
            "SELECT stage, epoch(finished_at) - epoch(started_at), rows_in, rows_out FROM stage_runs WHERE run_id = ? "
            "ORDER BY started_at",
            [result.run_id],
        ).fetchall()
        try:
            validated = con.execute(
                "SELECT count(*) FROM validation_results WHERE run_id = ? AND reused_from IS NULL", [result.run_id]
            ).fetchall()[0][0]
        except duckdb.Error:  # a schema from before validation results were reused
            validated = None
    for stage, seconds, rows_in, rows_out in rows:
        run.stages.append(stage)
        run.seconds[stage], run.rows_in[stage], run.rows_out[stage] = seconds or 0.0, rows_in or 0, rows_out or 0
    run.rows_in["fetch"] = run.rows_out.get("fetch", 0)  # documents read, rather than sources
    if validated is not None:
        run.rows_in["validate"] = validated  # tables validated, rather than tables checked
    run.seconds |= timers.seconds
    run.seconds["other"] = wall - sum(run.seconds.values())
    return run


def models(root: Path, size: str) -> tuple[ModelSpec, ModelSpec]:
    if size == "tiny":
        from tests.models.tiny import make_tiny_ner, make_tiny_nli

        ner, nli = make_tiny_ner(root / "ner"), make_tiny_nli(root / "nli")
    else:
        from bench.model_runtime import build_models

        texts = [a["text"] for a in synthetic.articles(200, seed=99)]
        ner, nli, _ = build_models(root, texts)
    return ModelSpec(id=str(ner)), ModelSpec(id=str(nli))


def scenario(root: Path, n: int, workers: int, new: list[float], base: RunParams) -> list[Run]:
    """Full run of n articles, a rerun with nothing new, then one rerun per share of new articles."""
    corpus = root / "articles"
    synthetic.write_jsonl(corpus, n)
    params = RunParams(
        fetch=base.fetch.model_copy(update={"sources": [str(corpus)]}),
        inputs=AnalystFiles(claims_file=str(synthetic.write_claims(root / "claims.yaml"))),
        models=base.models.model_copy(update={"dask": DaskOptions(workers=workers) if workers else None}),
        store=base.store.model_copy(update={"db_path": str(root / "scale.duckdb")}),
    )
    runs = [run_once(f"full, {n:,} articles", params), run_once("rerun, 0 new", params)]
    added = n
    for share in new:
        k = max(1, round(n * share))
        synthetic.write_jsonl(corpus, k, start=added)
        added += k
        runs.append(run_once(f"rerun, {k:,} new ({share:.0%})", params))
    return runs


SEED = 1_000  # articles the seed run puts through the flow before the store is grown by copying


def _own_peak_mb() -> float:
    """This process's peak resident memory. Linux carries ru_maxrss over from the parent's memory at fork, and the
    parent that grew the store holds gigabytes, so read the peak of this process's own address space instead."""
    import resource

    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _one_run(args: list[str]) -> None:
    """In a process of its own: run the flow once on DB over SOURCE and print wall, publish seconds and peak RSS."""
    import json

    from prefect.testing.utilities import prefect_test_harness

    db, source, claims, ner, nli = args
    params = RunParams(
        fetch=FetchOptions(sources=[source], use_registered_sources=False),
        inputs=AnalystFiles(claims_file=claims),
        models=ModelOptions(ner=ModelSpec(id=ner), nli=ModelSpec(id=nli), device="cpu", batch_size=256),
        store=StoreOptions(db_path=db, lock_wait_s=5),
    )
    with prefect_test_harness(server_startup_timeout=120):
        run = run_once("one", params)
    peak_mb = _own_peak_mb()
    seconds = {k: round(v, 2) for k, v in run.seconds.items()}
    print(
        json.dumps(
            {"wall": run.wall, "publish": run.seconds.get("publish", 0.0), "peak_mb": peak_mb, "seconds": seconds}
        )
    )


def _child(db: Path, source: Path, claims: Path, ner: ModelSpec, nli: ModelSpec) -> dict:
    import json
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, __file__, "--one-run", str(db), str(source), str(claims), ner.id, nli.id],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"run failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def stored_scenario(root: Path, stored: int, new: int, ner: ModelSpec, nli: ModelSpec) -> None:
    import shutil

    from bench.synthetic_store import grow

    claims = synthetic.write_claims(root / "claims.yaml")
    seed_db = root / "seed" / "store.duckdb"
    if not seed_db.exists():
        synthetic.write_jsonl(root / "seed-articles", SEED)
        _child(seed_db, root / "seed-articles", claims, ner, nli)
    big = root / f"stored-{stored}" / "store.duckdb"
    big.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    shutil.copyfile(work_path(seed_db), work_path(big))
    rows = grow(work_path(big), copies=stored // SEED - 1)
    shutil.copyfile(work_path(big), big)
    size_gb = big.stat().st_size / 1e9
    print(
        f"built a store of {rows['articles']:,} articles ({rows['sentences']:,} sentences, {rows['mentions']:,} "
        f"mentions, {rows['stance']:,} stance rows; {size_gb:.2f} GB) in {time.perf_counter() - started:.0f} s"
    )
    fresh = root / "new-articles"
    if not fresh.exists():
        synthetic.write_jsonl(fresh, new, start=10 * SEED)  # serials the seed never used
    on_big = _child(big, fresh, claims, ner, nli)
    on_empty = _child(root / f"empty-{stored}" / "store.duckdb", fresh, claims, ner, nli)
    rerun = _child(big, fresh, claims, ner, nli)
    print(
        f"stored {stored} new {new}: time ratio {on_big['wall'] / on_empty['wall']:.2f}, "
        f"memory ratio {on_big['peak_mb'] / on_empty['peak_mb']:.2f}, publish s {on_big['publish']:.2f}"
    )
    print(
        f"  (big store {on_big['wall']:.1f} s, {on_big['peak_mb']:.0f} MB; empty store {on_empty['wall']:.1f} s, "
        f"{on_empty['peak_mb']:.0f} MB; rerun with 0 new on the big store {rerun['wall']:.1f} s, "
        f"publish {rerun['publish']:.2f} s)"
    )
    for label, run in (("big store", on_big), ("empty store", on_empty), ("rerun, 0 new", rerun)):
        print(f"  {label}: " + ", ".join(f"{k} {v:.1f} s" for k, v in run["seconds"].items()))
    shutil.rmtree(big.parent)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


def print_precisions(full_runs: dict[tuple[str, int, int], Run]) -> None:
    print("\n### Full runs per precision\n")
    print("| precision | workers | N | articles/s | ner s | stance s | wall s |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for (precision, workers, n), run in full_runs.items():
        print(
            f"| {precision} | {workers or 'in-process'} | {n:,} | {n / run.wall:.2f} | "
            f"{run.seconds.get('ner', 0.0):.1f} | {run.seconds.get('stance', 0.0):.1f} | {run.wall:.1f} |"
        )


def print_scenario(n: int, workers: int, runs: list[Run]) -> None:
    full = runs[0]
    stages = list(dict.fromkeys(stage for run in runs for stage in run.stages))
    timed = [*stages, *NOT_STAGES]
    dask = f"Dask, {workers} worker{'s' * (workers > 1)}" if workers else "in-process"
    print(f"\n### N = {n:,}, {dask} (load average 1/5/15 min: {_load()})\n")
    print("| run | wall s | % of full | articles/s | ms/article | " + " | ".join(timed) + " |")
    print("|---|--:|--:|--:|--:|" + "--:|" * len(timed))
    for run in runs:
        new_articles = run.rows_out.get("clean", 0)
        rate = f"{new_articles / run.wall:.1f}" if new_articles else "–"
        per = f"{1000 * run.wall / new_articles:.1f}" if new_articles else "–"
        cells = " | ".join(f"{run.seconds.get(s, 0.0):.2f}" for s in timed)
        print(f"| {run.label} | {run.wall:.2f} | {100 * run.wall / full.wall:.1f} % | {rate} | {per} | {cells} |")
    print(
        "\nrows in per stage (what each run had to work on; fetch: documents read, validate: tables whose suite ran):\n"
    )
    print("| run | " + " | ".join(stages) + " |")
    print("|---|" + "--:|" * len(stages))
    for run in runs:
        print(f"| {run.label} | " + " | ".join(str(run.rows_in.get(s, "–")) for s in stages) + " |")


def main() -> None:
    import sys

    if sys.argv[1:2] == ["--one-run"]:
        _one_run(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000], help="corpus sizes N")
    parser.add_argument("--size", choices=("tiny", "base"), default="tiny", help="model size")
    parser.add_argument(
        "--dask-workers", type=int, nargs="+", default=[0], help="0 = in-process; w = local Dask cluster"
    )
    parser.add_argument("--new", type=float, nargs="*", default=[0.01, 0.10], help="shares of N added for reruns")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--precision", nargs="+", default=["auto"], choices=PRECISIONS, help="one scenario set per precision"
    )
    parser.add_argument("--backend", default="auto", choices=BACKENDS)
    parser.add_argument("--keep", type=Path, help="keep corpora and databases under this directory")
    parser.add_argument("--stored", type=int, nargs="+", help="stores of N articles built directly; --new K counts")
    args = parser.parse_args()
    for noisy in ("great_expectations", "distributed"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.stored:
        new = int(args.new[0]) if args.new and args.new[0] >= 1 else 1_000
        with contextlib.ExitStack() as stack:
            root = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="stancewire-stored-")))
            root.mkdir(parents=True, exist_ok=True)
            ner, nli = models(root / "models", "tiny")
            print(f"# stancewire at N stored articles, {new:,} new, tiny models; load average {_load()}")
            for stored in args.stored:
                stored_scenario(root, stored, new, ner, nli)
        return

    from prefect.testing.utilities import prefect_test_harness

    with contextlib.ExitStack() as stack:
        root = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="stancewire-scale-")))
        root.mkdir(parents=True, exist_ok=True)
        ner, nli = models(root / "models", args.size)
        stack.enter_context(prefect_test_harness(server_startup_timeout=120))
        print(
            f"# stancewire scale benchmark: {args.size} models, batch size {args.batch_size}, device {args.device}, "
            f"backend {args.backend}"
        )
        print(f"CPUs usable: {len(os.sched_getaffinity(0))}; load average at the start: {_load()}")
        per_article: dict[tuple[int, int], float] = {}
        full_runs: dict[tuple[str, int, int], Run] = {}
        for precision in args.precision:
            options = ModelOptions(
                ner=ner,
                nli=nli,
                device=args.device,
                batch_size=args.batch_size,
                precision=precision,
                backend=args.backend,
            )
            chosen = run_precision(options)
            print(f"\n## precision {precision}: {chosen.describe()}")
            base = RunParams(
                fetch=FetchOptions(use_registered_sources=False), models=options, store=StoreOptions(lock_wait_s=5)
            )
            for workers in args.dask_workers:
                for n in args.sizes:
                    try:
                        runs = scenario(root / f"{precision}-n{n}-w{workers}", n, workers, args.new, base)
                    except Exception as exc:  # one configuration failing must not cost the others
                        print(f"\n### N = {n:,}, dask workers {workers}: FAILED: {type(exc).__name__}: {exc}")
                        traceback.print_exc(limit=3)
                        continue
                    print_scenario(n, workers, runs)
                    per_article[(workers, n)] = runs[0].wall / n
                    full_runs[(chosen.describe(), workers, n)] = runs[0]
        if len(args.precision) > 1:
            print_precisions(full_runs)
        if per_article and len(args.precision) == 1:  # one precision: the table would mix them
            print("\n### Linearity: full-run wall time per article\n")
            print("| workers | " + " | ".join(f"N = {n:,}" for n in args.sizes) + " | ratio largest/smallest |")
            print("|---|" + "--:|" * (len(args.sizes) + 1))
            for workers in args.dask_workers:
                cells = [per_article.get((workers, n)) for n in args.sizes]
                ratio = f"{cells[-1] / cells[0]:.2f}" if cells[0] and cells[-1] else "–"
                print(
                    f"| {workers or 'in-process'} | "
                    + " | ".join(f"{1000 * c:.1f} ms" if c else "–" for c in cells)
                    + f" | {ratio} |"
                )
        print(f"\nload average at the end: {_load()}")


if __name__ == "__main__":
    main()
