"""Writing the site: ``Page``s, as they come, -> their files, in this process or on every core.

For every page this writes the HTML (``templates/<page.template>``), its JSON twin (the
context, so the public API and the HTML never disagree), a CSV per table and an SVG per chart,
all beside the page; then the shared ``assets/`` and the collector's JSON Schema. What files a
page becomes is decided (and the paths checked) before any of them is written: ``_plan``, and
``_claim_batch`` for the pages of a ``PageBatch``, which the workers build themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from generator.charts import Chart
from generator.charts import warm_up as warm_up_charts
from generator.model import Page, PageBatch
from generator.render.feed import atom_bytes
from generator.render.formats import csv_bytes, json_bytes, printable
from generator.render.keep import SiteFiles
from generator.render.paths import Targets, check_table_name
from generator.render.templates import environment, navigation, root_of
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


ALWAYS_WRITTEN = "index.html"
"""The page (and twin) never kept for differing from the published one only in the build
time: its ``generated_at`` says when the site was last built. Every other page that did not
change keeps its file and the time of the build that made it (keep.py)."""


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
    files = SiteFiles(out_dir, previous)
    with _Writer(_Job(title, generated_at, files), progress=progress) as writer:
        targets = Targets(out_dir)
        for item in pages:
            if isinstance(item, PageBatch):
                writer.add_batch(_claim_batch(targets, item))
            else:
                writer.add(_plan(targets, item))
        assets: list[tuple[Path, Traversable]] = [
            (out_dir / "assets" / asset.name, asset)
            for asset in sorted(STATIC_DIR.iterdir())
            if asset.is_file()
        ]
        assets.append((out_dir / SCHEMA_TARGET, SCHEMA))
        targets.claim([path for path, _ in assets])
        kept = sum(not files.write(path, source.read_bytes()) for path, source in assets)
        writer.finish()
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


# --- the files of one page ------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """One page and the files it becomes, decided before anything is written."""

    page: Page
    target: Path
    csvs: dict[str, Path]  # table name -> file
    charts: list[tuple[Path, Chart]]

    def feed(self) -> list[Path]:
        feed = self.page.feed
        return [] if feed is None else [self.target.with_name(feed.name)]

    def files(self) -> list[Path]:
        return [
            *self.csvs.values(),
            self.target.with_suffix(".json"),
            self.target,
            *(path for path, _ in self.charts),
            *self.feed(),
        ]


def _plan(targets: Targets, page: Page) -> _Plan:
    """Where ``page``'s files go, each checked and claimed (``ValueError`` if it cannot be)."""
    target = targets.of(page.path)
    for name in page.tables:
        check_table_name(name, page.path)
    if page.feed is not None:
        check_table_name(page.feed.name.removesuffix(".xml"), page.path)
    plan = _Plan(
        page=page,
        target=target,
        csvs={name: target.with_name(f"{target.stem}-{name}.csv") for name in page.tables},
        charts=[
            (target.with_name(f"{target.stem}-{chart.name}.svg"), chart) for chart in page.charts
        ],
    )
    targets.claim(plan.files())
    return plan


@dataclass(frozen=True)
class _Batch:
    """A ``PageBatch`` whose pages' files are claimed: each page path -> its HTML file."""

    batch: PageBatch
    targets: dict[str, Path]

    def plan(self, page: Page) -> _Plan:
        """The plan of a page the batch built; ``ValueError`` if it is not what it announced."""
        target = self.targets.get(page.path)
        if target is None:
            raise ValueError(f"a page batch built a page it did not announce: {page.path!r}")
        if page.tables or page.charts or page.feed is not None:
            raise ValueError(f"a page of a batch has tables, charts or a feed: {page.path!r}")
        return _Plan(page=page, target=target, csvs={}, charts=[])


def _claim_batch(targets: Targets, batch: PageBatch) -> _Batch:
    """Check and claim every file of ``batch``'s pages (HTML and JSON twin), as ``_plan``."""
    files = {path: targets.of(path) for path in batch.paths}
    if len(files) < len(batch.paths):
        raise ValueError("a page batch announces one page path twice")
    targets.claim(
        [file for target in files.values() for file in (target.with_suffix(".json"), target)]
    )
    return _Batch(batch, files)


def _write_page(plan: _Plan, files: SiteFiles, *, title: str, generated_at: str) -> int:
    """One page's CSVs, JSON twin and HTML (its charts are separate tasks); how many kept."""
    page, stem = plan.page, plan.target.stem
    stamp = None if page.path == ALWAYS_WRITTEN else generated_at
    written = [files.write(path, csv_bytes(page.tables[name])) for name, path in plan.csvs.items()]
    written.append(
        files.write(
            plan.target.with_suffix(".json"),
            json_bytes({**page.context, "generated_at": generated_at}),
            stamp,
        )
    )
    root = root_of(page.path)
    if page.feed is not None:
        feed = atom_bytes(page.feed, page_href=plan.target.name, root=root, author=title)
        written.append(files.write(plan.feed()[0], feed, generated_at))
    template = environment().get_template(page.template)
    html = template.render(
        page=page,
        context=page.context,
        root=root,
        site_title=title,
        generated_at=generated_at,
        navigation=navigation(page.path, root),
        json_href=f"{stem}.json",
        downloads=[
            {"label": name.replace("_", " "), "href": path.name} for name, path in plan.csvs.items()
        ],
        charts={chart.name: {"src": path.name, "alt": chart.alt} for path, chart in plan.charts},
    )
    written.append(files.write(plan.target, printable(html), stamp))
    return written.count(False)


# --- writing: in this process, or spread over worker processes ------------------------------

Task = tuple[str, Any]
"""``("pages", [plan, ...])`` renders those pages; ``("chart", (path, chart))`` draws one;
``("share", (share, shares))`` builds and renders that share of the worker's ``_Batch``.
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
    batch: _Batch | None = None  # set in the workers forked for one batch

    def run(self, task: Task) -> Done:
        kind, data = task
        if kind == "chart":
            path, chart = data
            return Done(0, int(not self.files.write(path, chart.svg())))
        if kind == "share":
            assert self.batch is not None, "share tasks go to the workers of a batch"
            data = [self.batch.plan(page) for page in self.batch.batch.build(*data)]
        kept = sum(
            _write_page(plan, self.files, title=self.title, generated_at=self.generated_at)
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
        self.batches: list[_Batch] = []  # came after the workers were forked
        self.adopted: _Batch | None = None  # the workers', when they are forked
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

    def add(self, plan: _Plan) -> None:
        self.pages += 1
        self.work += 1 + CHART_COST * len(plan.charts)
        self.waiting += [("chart", chart) for chart in plan.charts]
        self.waiting.append(("pages", [plan]))
        if self.workers.started(self.work):
            self._submit(final=False)

    def add_batch(self, batch: _Batch) -> None:
        self.pages += len(batch.targets)
        self.work += len(batch.targets)
        if self.workers.running or self.adopted is not None:
            self.batches.append(batch)
            return
        self.adopted, self.job = batch, replace(self.job, batch=batch)
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


def _shares(batch: _Batch) -> int:
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
