"""Writing the site: ``Page``s, as they come, -> their files, in this process or on every core.

For every page this writes the HTML (``templates/<page.template>``), its JSON twin (the
context, so the public API and the HTML never disagree), a CSV per table and an SVG per chart,
all beside the page; then the shared ``assets/`` and the collector's JSON Schema. What files a
page becomes is decided (and the paths checked) before any of them is written: ``_plan``, and
``claim_batch`` for the pages of a ``PageBatch``, which the workers build themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from generator.charts import warm_up as warm_up_charts
from generator.model import Page, PageBatch
from generator.render.keep import RENDERER, SiteFiles
from generator.render.page_files import Batch, Plan, claim_batch, plan, write_page
from generator.render.paths import Targets
from generator.render.templates import environment, renderer
from installdata.parallel import Workers, cores
from installdata.progress import Progress
from installdata.record import SCHEMA

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
SCHEMA_TARGET = "schema.json"

PARALLEL_FROM = 400
"""From this much work on (pages + ``CHART_COST`` per chart), worker processes render."""

CHART_COST = 50
"""A chart costs matplotlib 25-100 ms to draw; a page about 1 ms to render and write."""

PAGES_PER_TASK = 50
"""Pages one worker task renders: small enough to balance the cores, big enough to be cheap."""

MAX_QUEUED = 32
"""Tasks handed to the workers and not yet done. Aggregation outruns rendering; the bound
keeps the pickled tasks waiting for a worker (and the pages they hold) to a few thousand."""


class Written(NamedTuple):
    """What ``write_site`` wrote: pages, and files in all (twins, CSVs, charts, assets), of
    which ``kept`` were unchanged and kept their published file (keep.py)."""

    pages: int
    files: int
    kept: int = 0


def write_site(
    pages: Iterable[Page | PageBatch],
    out_dir: Path,
    *,
    title: str,
    generated_at: str,
    progress: bool = False,
    previous: Path | None = None,
) -> Written:
    """Write every page with its twins, plus the assets, into ``out_dir``.

    ``pages`` may be a generator that is still computing later pages: each page is written (or
    handed to a worker process) as soon as it arrives, so a big site renders while it is
    being aggregated; a ``PageBatch``'s pages are built and written by the workers
    themselves (see ``_Writer``). ``progress``: show a bar of pages written on stderr.
    ``previous``: the published site, whose files that come out byte for byte the same are
    kept (keep.py).

    Raises ``ValueError`` for a page path that is absolute, contains ``..``, is not ``.html``
    or would land outside ``out_dir``, and for two pages that would write the same file; both
    are found when the page arrives, before any of its files is written (the caller throws
    the half-written folder away: see publish.py).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    rendered_by = renderer(title)
    files = SiteFiles(out_dir, previous, rendered_by)
    with _Writer(_Job(title, generated_at, files), progress=progress) as writer:
        targets = Targets(out_dir)
        for item in pages:
            if isinstance(item, PageBatch):
                writer.add_batch(claim_batch(targets, item))
            else:
                writer.add(plan(targets, item))
        assets: list[tuple[Path, Traversable]] = [
            (out_dir / "assets" / asset.name, asset)
            for asset in sorted(STATIC_DIR.iterdir())
            if asset.is_file()
        ]
        assets.append((out_dir / SCHEMA_TARGET, SCHEMA))
        targets.claim([path for path, _ in assets])
        kept = sum(not files.write(path, source.read_bytes()) for path, source in assets)
        writer.finish()
        # Last: what the pages were rendered with, once they all are (keep.py).
        targets.claim([out_dir / RENDERER])
        kept += not files.write(out_dir / RENDERER, rendered_by.encode())
        return Written(writer.pages, len(targets.files), kept + writer.kept)


def prepare() -> None:
    """Do the renderer's one-time work now: compile every template, load matplotlib.

    The build calls this while worker processes read the submissions, on a core that would
    otherwise wait; render workers forked later inherit the result instead of each paying
    for it again (about 0.7 s of CPU per process).
    """
    env = environment()
    for name in env.list_templates(filter_func=lambda name: name.endswith(".html")):
        env.get_template(name)
    warm_up_charts()


# --- writing: in this process, or spread over worker processes ------------------------------

Task = tuple[str, Any]
"""``("pages", [plan, ...])`` renders those pages; ``("chart", (path, chart))`` draws one;
``("share", (share, shares))`` builds and renders that share of the worker's ``Batch``.
Each task returns a ``Done``."""


class Done(NamedTuple):
    """What a task did: pages written, and files kept unchanged (keep.py)."""

    pages: int
    kept: int


@dataclass(frozen=True)
class _Job:
    """What every task needs besides its own data; worker processes inherit it when forked."""

    title: str
    generated_at: str
    files: SiteFiles
    batch: Batch | None = None  # set in the workers forked for one batch

    def run(self, task: Task) -> Done:
        kind, data = task
        if kind == "chart":
            path, chart = data
            return Done(0, int(not self.files.write(path, chart.svg())))
        if kind == "share":
            assert self.batch is not None, "share tasks go to the workers of a batch"
            data = [self.batch.plan(page) for page in self.batch.batch.build(*data)]
        kept = sum(
            write_page(plan, self.files, title=self.title, generated_at=self.generated_at)
            for plan in data
        )
        return Done(len(data), kept)


class _Writer:
    """Takes planned pages one by one and gets their files written, here or on every core.

    Small sites are written in this process when ``finish`` is called: a pool would cost more
    than it saves. Once the pages seen add up to ``PARALLEL_FROM`` units of work, worker
    processes are forked and every task goes to them as soon as it exists, charts (the slow,
    uneven part) on their own and pages in slices, while the caller computes the next pages;
    when ``MAX_QUEUED`` tasks are waiting, the caller waits for the oldest.
    Workers are forked, so they inherit the compiled templates and loaded matplotlib (see
    ``prepare``). Both ways run the same code and write the same bytes.

    A ``PageBatch`` is handed over as the recipe of its pages, never as pickled pages: the
    workers inherit it (and the tables it builds from) when they are forked, and each share
    of its pages (one per core) is a task. A batch that comes before the workers are forked
    is theirs, its shares the first tasks (so the workers build the workshop pages while the
    caller computes the rest); one that comes later waits for ``finish``, which forks fresh
    workers for it once every page before it is written.
    """

    def __init__(self, job: _Job, *, progress: bool) -> None:
        self.job = job
        self.show_progress = progress
        self.progress = Progress()
        self.waiting: list[Task] = []  # before the pool starts, or pages not yet a full slice
        self.batches: list[Batch] = []  # came after the workers were forked
        self.work = 0
        self.pages = 0
        self.kept = 0
        self.workers = self._pool(job, in_flight=MAX_QUEUED)

    @staticmethod
    def _pool(job: _Job, in_flight: int | None = None) -> Workers[Task, Done]:
        return Workers(
            _run_task,
            start_from=PARALLEL_FROM,
            in_flight=in_flight,
            initializer=_adopt,
            initargs=(job,),
        )

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.workers.close()
        self.progress.close()

    def add(self, planned: Plan) -> None:
        self.pages += 1
        self.work += 1 + CHART_COST * len(planned.charts)
        self.waiting += [("chart", chart) for chart in planned.charts]
        self.waiting.append(("pages", [planned]))
        if self.workers.started(self.work):
            self._submit(final=False)

    def add_batch(self, batch: Batch) -> None:
        self.pages += len(batch.targets)
        self.work += len(batch.targets)
        if self.workers.running or self.job.batch is not None:  # the workers have one
            self.batches.append(batch)
            return
        self.job = replace(self.job, batch=batch)
        self.workers = self._pool(self.job, in_flight=MAX_QUEUED)  # not forked yet
        shares = _shares(batch)
        self.waiting[:0] = [("share", (share, shares)) for share in range(shares)]
        if self.workers.started(self.work):
            self._submit(final=False)

    def finish(self) -> None:
        """Write whatever is still waiting, then the batches, and wait for the workers."""
        if not self.workers.running and not self.workers.started(self.work):
            self._show_progress()
            for task in _slices(self.waiting, final=True)[0]:
                self._done(self.job.run(task))
            for batch in self.batches:
                self._done(replace(self.job, batch=batch).run(("share", (0, 1))))
            return
        self._submit(final=True)
        self._wait()
        for batch in self.batches:  # each with workers of its own, forked once it is here
            self.workers.close()
            self.workers = self._pool(replace(self.job, batch=batch))
            self.workers.started(self.work)  # the same decision as for the pages before
            shares = _shares(batch)
            for share in range(shares):
                self._submit_task(("share", (share, shares)))
            self._wait()

    def _wait(self) -> None:
        for done in self.workers.results():  # re-raises a worker's exception here
            self.kept += done.kept

    def _submit(self, *, final: bool) -> None:
        ready, self.waiting = _slices(self.waiting, final=final)
        for task in ready:
            self._submit_task(task)

    def _submit_task(self, task: Task) -> None:
        future = self.workers.submit(task)  # the first submit forks the workers
        future.add_done_callback(self._task_done)
        self._show_progress()  # after the first submit (the fork): no bar thread is forked

    def _done(self, done: Done) -> None:
        self.kept += done.kept
        self.progress.advance(done.pages)

    def _task_done(self, future: Future[Done]) -> None:
        if future.exception() is None:  # runs on the pool's result thread
            self.progress.advance(future.result().pages)

    def _show_progress(self) -> None:
        self.progress.show(self.show_progress, desc="writing", unit=" pages")


def _shares(batch: Batch) -> int:
    """Into how many tasks a batch's pages are split: one per core."""
    return max(1, min(cores(), len(batch.targets)))


def _slices(tasks: list[Task], *, final: bool) -> tuple[list[Task], list[Task]]:
    """Charts and shares as they are; single pages joined into slices of ``PAGES_PER_TASK``.

    Returns (ready, still waiting): a slice that is not full waits for more pages unless
    ``final``.
    """
    ready = [task for task in tasks if task[0] != "pages"]
    plans = [plan for kind, data in tasks if kind == "pages" for plan in data]
    full = len(plans) if final else len(plans) - len(plans) % PAGES_PER_TASK
    ready += [
        ("pages", plans[start : min(start + PAGES_PER_TASK, full)])
        for start in range(0, full, PAGES_PER_TASK)
    ]
    return ready, [("pages", plans[full:])] if full < len(plans) else []


_worker_job: _Job | None = None


def _adopt(job: _Job) -> None:
    global _worker_job
    _worker_job = job


def _run_task(task: Task) -> Done:
    assert _worker_job is not None, "_adopt runs first in every worker"
    return _worker_job.run(task)
