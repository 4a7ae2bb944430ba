import time

import pytest
from prefect import task
from prefect.task_runners import ThreadPoolTaskRunner

from flows.batches import run_batches, split

pytestmark = pytest.mark.usefixtures("prefect_backend")
started: list[int] = []


@task
def slow_echo(n: int) -> int:
    started.append(n)
    time.sleep(0.05 * (3 - n % 3))  # later batches finish first
    if n == 4:
        raise ValueError("batch 4 is bad")
    return n


def test_split_spreads_a_small_load_and_caps_a_large_one():
    ids = [str(i) for i in range(40)]  # two stable groups of 20 (stancewire.ids)
    with ThreadPoolTaskRunner(max_workers=1) as runner:  # two batches in flight
        small = split(ids, 256, runner)
        assert [len(b) for b in small] == [20, 20]  # spread over both slots, a group never split
        capped = split(ids, 3, runner)
        assert len(capped) >= 14 and max(len(b) for b in capped) <= 3
        for batches in (small, capped):
            assert sorted(i for b in batches for i in b) == sorted(ids)  # each id once
        assert split([], 3, runner) == []


def test_results_come_back_in_submission_order_and_a_failure_stops_submitting():
    started.clear()
    with ThreadPoolTaskRunner(max_workers=2) as runner:
        results = run_batches(runner, slow_echo, ({"n": n} for n in range(10)))
        assert [next(results) for _ in range(4)] == [0, 1, 2, 3]
        with pytest.raises(ValueError, match="batch 4"):
            next(results)
    assert max(started) <= 4 + 2  # no more than the in-flight window past the failed batch
