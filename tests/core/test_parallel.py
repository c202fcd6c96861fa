"""The fork-pool policy that reading and rendering share (installdata/parallel.py)."""

from __future__ import annotations

import math
import multiprocessing
import os
import subprocess
import sys

import pytest

from installdata.parallel import Workers, cores
from support.processes import PROC, alive, kill_all, wait_until_gone


def test_cores_counts_the_cores_this_process_may_use() -> None:
    assert 1 <= cores() <= (os.cpu_count() or 1)


def test_no_worker_is_forked_below_the_threshold_or_on_one_core() -> None:
    with Workers(math.sqrt, start_from=10, processes=2) as small:
        assert not small.started(9)
        assert multiprocessing.active_children() == []
    with Workers(math.sqrt, start_from=0, processes=1) as one_core:
        assert not one_core.started(10**6)


def test_results_come_in_the_order_submitted_and_no_worker_outlives_close() -> None:
    with Workers(math.sqrt, start_from=10, processes=2) as workers:
        assert workers.started(10)
        for number in range(20):
            workers.submit(float(number * number))
        assert list(workers.results()) == [float(number) for number in range(20)]
    assert multiprocessing.active_children() == []
    assert not workers.started(10)  # closed: a pool is tried once


def test_a_bound_on_tasks_in_flight_raises_a_failed_task_at_the_next_submit() -> None:
    with Workers(math.sqrt, start_from=0, processes=2, in_flight=1) as workers:
        assert workers.started(0)
        workers.submit(4.0)
        workers.submit(-1.0)  # waits for the first; this one fails in its worker
        with pytest.raises(ValueError, match="math domain error"):
            workers.submit(9.0)  # waits for the failed one
    assert multiprocessing.active_children() == []


ORPHANED_POOL = """
import multiprocessing, sys, time
from installdata import parallel
if sys.argv[1] == "polling":  # what other systems get: no parent-death signal
    parallel._set_parent_death_signal = lambda: False
workers = parallel.Workers(time.sleep, start_from=0, processes=2)
workers.started(0)
workers.submit(60.0)  # one worker busy, the other waiting for a task
print(*[child.pid for child in multiprocessing.active_children()], flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not PROC.is_dir(), reason="needs /proc to see the workers")
@pytest.mark.parametrize("how", ["signal", "polling"])
def test_workers_end_when_their_parent_is_killed_outright(how: str) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", ORPHANED_POOL, how], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    workers = [int(pid) for pid in parent.stdout.readline().split()]
    try:
        assert len(workers) == 2 and all(alive(pid) for pid in workers)

        parent.kill()  # SIGKILL: no close(), no atexit, nothing of the parent runs
        parent.wait()

        assert wait_until_gone(workers) == []
    finally:
        kill_all(workers)
        parent.stdout.close()
