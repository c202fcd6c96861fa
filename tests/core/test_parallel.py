"""The fork-pool policy that reading and rendering share (installdata/parallel.py)."""

from __future__ import annotations

import math
import multiprocessing
import os

import pytest

from installdata.parallel import Workers, cores


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
