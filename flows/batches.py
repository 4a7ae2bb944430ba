"""Where the model stages' batches run, and how their results come back to the one DuckDB writer.

In-process, one batch computes while the flow writes the previous one. On Dask (prefect-dask's DaskTaskRunner, a
local cluster or an existing one by address) every worker loads each model once (models.resident) and computes
batches; the flow keeps a bounded number in flight and writes each result as it arrives, so a crash loses at most
the batches in flight and a rerun picks them up.
"""

import math
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from prefect import Task
from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from models.loading import usable_cpus
from stancewire.config import DaskOptions
from stancewire.ids import stable_groups

# Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which also freezes glibc's mmap threshold at
# 128 KiB: every activation tensor is then mapped and unmapped per forward pass, and inference runs ~15 % slower
# (measured on the NER runner). These keep tensors up to 32 MiB on the heap and still give memory back past 128 MiB
# free. glibc reads them at process start, so they go in the environment set before the spawn, not in `env`.
WORKER_MALLOC = {"MALLOC_TRIM_THRESHOLD_": str(128 << 20), "MALLOC_MMAP_THRESHOLD_": str(32 << 20)}


def model_task_runner(dask: DaskOptions | None) -> TaskRunner:
    """A task runner for the NER and stance batches; a Dask cluster starts only when the first batch is submitted."""
    if dask is None:
        return ThreadPoolTaskRunner(max_workers=1)
    try:
        from dask import config as dask_config
        from prefect_dask import DaskTaskRunner
    except ImportError as exc:
        raise RuntimeError("running on Dask needs prefect-dask: pip install 'stancewire[dask]'") from exc
    if dask.address:
        return DaskTaskRunner(address=dask.address)
    threads = str(max(1, usable_cpus() // dask.workers))  # torch threads per worker: the cores, shared out
    dask_config.set({f"distributed.nanny.pre-spawn-environ.{name}": value for name, value in WORKER_MALLOC.items()})
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": dask.workers,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": None,
            "env": {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads},
        }
    )


def in_flight_limit(runner: TaskRunner) -> int:
    """Batches submitted ahead: enough to keep every worker busy, few enough to bound the memory they hold."""
    client = getattr(runner, "client", None)  # a DaskTaskRunner connects here, on first use
    if client is None:
        return 2
    return 2 * max(1, sum(client.nthreads().values()))


def split(ids: list[str], size: int, runner: TaskRunner) -> list[list[str]]:
    """Batches of at most `size` ids made of whole stable groups (stancewire.ids), the units the model stages run
    together, so a rerun after a kill recomputes the lost batches with the same companions and lands bit-identical
    results. A small night's work is spread over as many batches as the runner keeps in flight, as far as whole
    groups allow (so it reaches every worker, and in-process writing one batch overlaps computing the next)."""
    groups = stable_groups(ids)
    spread = math.ceil(len(ids) / in_flight_limit(runner))
    target = max(1, min(size, max(spread, max((len(g) for g in groups), default=1))))
    batches: list[list[str]] = []
    for group in groups:
        if batches and len(batches[-1]) + len(group) <= target:
            batches[-1].extend(group)
        else:  # a group larger than `size` itself is cut into runs of `size`, the same in every run
            batches.extend(chunks(group, target))
    return batches


def chunks(ids: list[str], size: int) -> list[list[str]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def run_batches(runner: TaskRunner, task: Task, batches: Iterable[dict[str, Any]]) -> Iterator[Any]:
    """Submit `task` once per parameter dict in `batches`, keeping a bounded number in flight, and yield the results
    in submission order. A failed batch raises its exception here, after which nothing more is submitted."""
    in_flight: deque[PrefectFuture] = deque()
    limit = 0
    for parameters in batches:
        in_flight.append(runner.submit(task, parameters))
        limit = limit or in_flight_limit(runner)
        if len(in_flight) >= limit:
            yield in_flight.popleft().result()
    while in_flight:
        yield in_flight.popleft().result()
