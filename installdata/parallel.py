"""Work spread over forked worker processes, or done in this process where that is cheaper.

Reading the submissions (``installdata/read.py``) and rendering the site
(``generator/render/writer.py``) share one policy, kept here:

- one worker per core this process may run on (``cores``: a CPU affinity limit counts);
- workers are forked, never spawned: a new interpreter would spend longer importing than
  working, and a forked one inherits what its parent has loaded already (the renderer's
  compiled templates and matplotlib). On one core, or where fork is not available, there is
  no pool and the caller does the work itself;
- the pool starts only once the work seen reaches a threshold: below it, a pool costs more
  than it saves;
- optionally, at most so many tasks wait for a worker: what a waiting task holds is memory;
- just before forking, every object the parent has is frozen out of the cyclic garbage
  collector's sight (``gc.freeze``, as the ``gc`` module's documentation advises for a fork
  without exec): a collection in a worker then never touches them, so the pages it would
  write to (each object's GC header) stay shared with the parent instead of being copied,
  and each collection scans only what the worker made itself;
- the workers are stopped whatever happens (``close``, also on leaving a ``with`` block after
  an error or Ctrl-C): none outlives the caller. Nor when the caller is killed outright
  (SIGKILL, the OOM killer), where nothing of it runs: each worker dies with its parent
  (``_die_with_parent``). A worker left behind would wait for tasks forever, or block
  writing a result into a pipe nobody reads.

This module imports only the standard library, on purpose: the build forks its readers
before pandas, Jinja and matplotlib are imported, so that they stay lean.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Generic, TypeVar

Task = TypeVar("Task")
Result = TypeVar("Result")

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PARENT_POLL = 0.5
"""Seconds between a worker's checks that its parent still runs, where no signal tells it."""


def cores() -> int:
    """The cores this process may run on (a CPU affinity limit counts, unlike cpu_count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _set_parent_death_signal() -> bool:
    """Have the kernel SIGKILL this process when its parent ends; False where it cannot."""
    if not sys.platform.startswith("linux"):
        return False
    arguments = (ctypes.c_ulong(signal.SIGKILL), *[ctypes.c_ulong(0)] * 3)
    return int(ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, *arguments)) == 0


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL)
    os._exit(1)


def _die_with_parent(parent: int) -> None:
    """Make this freshly forked worker end when ``parent`` does, however that ends.

    On Linux the kernel sends SIGKILL when the *thread* that forked the worker ends
    (PR_SET_PDEATHSIG): the pool forks every worker at the first ``submit``, so that must be
    called from a thread that lives as long as the pool (both callers use the main thread).
    Elsewhere, best effort: a thread of the worker looks every ``PARENT_POLL`` seconds
    whether it has been orphaned (its parent's id changed) and then ends it.
    Either way, a parent that died before this ran sends nothing: end now.
    """
    if not _set_parent_death_signal():
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:
        os._exit(1)


def _start_worker(
    parent: int, initializer: Callable[..., object] | None, initargs: tuple[Any, ...]
) -> None:
    _die_with_parent(parent)
    if initializer is not None:
        initializer(*initargs)


class Workers(Generic[Task, Result]):
    """``run`` applied to tasks by forked worker processes, once there is enough work for them.

    The caller reports the work seen so far to ``started``, which forks nothing until it
    reaches ``start_from`` and then says whether workers run; if they do not, the caller
    does the work in-process. ``processes``: how many (default: every core; 1 means none).
    ``in_flight``: tasks submitted and not done that ``submit`` allows before it waits for
    the oldest (default: no bound). ``initializer(*initargs)`` runs first in each worker.
    Results come back in the order the tasks were submitted (``results``).
    """

    def __init__(
        self,
        run: Callable[[Task], Result],
        *,
        start_from: int,
        processes: int | None = None,
        in_flight: int | None = None,
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        self._run = run
        self._start_from = start_from
        self._processes = processes or cores()
        self._in_flight = in_flight
        self._initializer = initializer
        self._initargs = initargs
        self._decided = False  # the pool is tried once: cores and fork do not change
        self._pool: ProcessPoolExecutor | None = None
        self._futures: deque[Future[Result]] = deque()  # submitted, result not yet taken
        self._waited = 0  # the first this many of ``_futures`` are done

    def __enter__(self) -> Workers[Task, Result]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self._pool is not None

    def started(self, work: int) -> bool:
        """Start the workers once ``work`` (so far) reaches ``start_from``; say if they run."""
        if not self._decided and work >= self._start_from:
            self._decided = True
            if self._processes > 1 and "fork" in mp.get_all_start_methods():
                # The processes are forked by the first submit, right after this.
                gc.freeze()
                self._pool = ProcessPoolExecutor(
                    self._processes,
                    mp_context=mp.get_context("fork"),
                    initializer=_start_worker,
                    initargs=(os.getpid(), self._initializer, self._initargs),
                )
        return self._pool is not None

    def submit(self, task: Task) -> Future[Result]:
        """Hand ``task`` to the workers, first waiting while ``in_flight`` tasks are not done.

        A task waited for here that failed raises its exception here, not only at the end.
        """
        assert self._pool is not None, "submit only after started() said the workers run"
        if self._in_flight is not None:
            while len(self._futures) - self._waited >= self._in_flight:
                self._futures[self._waited].result()  # the oldest not done yet
                self._waited += 1
        future = self._pool.submit(self._run, task)
        self._futures.append(future)
        return future

    def results(self) -> Iterator[Result]:
        """Every task's result, in the order submitted, each as soon as it is done.

        A task's exception is raised here. Each task is let go once its result is taken: it
        holds that result.
        """
        while self._futures:
            self._waited = max(self._waited - 1, 0)
            yield self._futures.popleft().result()

    def close(self) -> None:
        """Cancel the tasks no worker has begun and wait for the workers to exit."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._futures.clear()
        self._waited = 0
