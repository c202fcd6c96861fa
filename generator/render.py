"""Rendering: ``Page``s, as they come, -> the files of the report site in one folder.

For every page this writes the HTML (``templates/<page.template>``), its JSON twin (the
context, so the public API and the HTML never disagree), a CSV per table and an SVG per chart,
all beside the page; then the shared ``assets/`` and the collector's JSON Schema.

Data is only ever passed to templates as values: autoescaping is on for every template,
undefined names are errors, and no text from a submission is ever compiled as a template.
Every link is relative (``root`` is ``""`` or ``"../"``), so the site works from any base path
and straight from disk.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import re
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

import orjson
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from generator.charts import Chart, charts_for, system_name
from generator.charts import warm_up as warm_up_charts
from generator.model import Page
from installdata.parallel import Workers
from installdata.progress import Progress
from installdata.record import SCHEMA

_PACKAGE_DIR = Path(__file__).resolve().parent
# In a checkout the templates sit at the repository's top (templates/), where people editing
# the site look for them; a wheel installs the same folder as generator/templates/.
TEMPLATES_DIR = next(
    (
        folder
        for folder in (_PACKAGE_DIR.parent / "templates", _PACKAGE_DIR / "templates")
        if (folder / "base.html").is_file()
    ),
    _PACKAGE_DIR / "templates",
)
STATIC_DIR = _PACKAGE_DIR / "static"
SCHEMA_TARGET = "schema.json"

NAVIGATION = (
    ("Overview", "index.html", ("index.html", "recent/")),
    ("Packages", "packages/index.html", ("packages/",)),
    ("Workshops", "workshops/index.html", ("workshops/",)),
    ("Matrix", "matrix.html", ("matrix.html",)),
    ("Compare", "compare.html", ("compare.html",)),
    ("How to submit", "submit.html", ("submit.html",)),
)
"""(label, site-relative target, path prefixes of the pages that belong to the section)."""

PARALLEL_FROM = 400
"""From this much work on (pages + ``CHART_COST`` per chart), worker processes render."""

CHART_COST = 50
"""A chart costs matplotlib 25-100 ms to draw; a page about 1 ms to render and write."""

PAGES_PER_TASK = 50
"""Pages one worker task renders: small enough to balance the cores, big enough to be cheap."""

MAX_QUEUED = 32
"""Tasks handed to the workers and not yet done. Aggregation outruns rendering; the bound
keeps the pickled tasks waiting for a worker (and the pages they hold) to a few thousand."""

_TABLE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_ASCII_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_CONTROL_C1_UTF8 = re.compile(b"\xc2[\x80-\x9f]")  # U+0080...U+009F, encoded


@dataclass(frozen=True)
class _Plan:
    """One page and the files it becomes, decided before anything is written."""

    page: Page
    target: Path
    csvs: dict[str, Path]  # table name -> file
    charts: list[tuple[Path, Chart]]

    def files(self) -> list[Path]:
        return [
            *self.csvs.values(),
            self.target.with_suffix(".json"),
            self.target,
            *(path for path, _ in self.charts),
        ]


class Written(NamedTuple):
    """What ``write_site`` wrote: pages, and files in all (twins, CSVs, charts, assets)."""

    pages: int
    files: int


def write_site(
    pages: Iterable[Page],
    out_dir: Path,
    *,
    title: str,
    generated_at: str,
    progress: bool = False,
) -> Written:
    """Write every page with its twins, plus the assets, into ``out_dir``.

    ``pages`` may be a generator that is still computing later pages: each page is written (or
    handed to a worker process) as soon as it arrives, so a big site renders while it is
    being aggregated. ``progress``: show a bar of pages written on stderr.

    Raises ``ValueError`` for a page path that is absolute, contains ``..``, is not ``.html``
    or would land outside ``out_dir``, and for two pages that would write the same file; both
    are found when the page arrives, before any of its files is written (the caller throws
    the half-written folder away: see publish.py).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    with _Writer(_Job(title, generated_at), progress=progress) as writer:
        targets = _Targets(out_dir)
        for page in pages:
            writer.add(_plan(targets, page))
        assets = [
            (out_dir / "assets" / asset.name, asset)
            for asset in sorted(STATIC_DIR.iterdir())
            if asset.is_file()
        ]
        assets.append((out_dir / SCHEMA_TARGET, SCHEMA))
        writer.claim([path for path, _ in assets])
        for path, source in assets:
            _write_file(path, source.read_bytes())
        return Written(writer.pages, writer.finish())


def prepare() -> None:
    """Do the renderer's one-time work now: compile every template, load matplotlib.

    The build calls this while worker processes read the submissions, on a core that would
    otherwise wait; render workers forked later inherit the result instead of each paying
    for it again (about 0.7 s of CPU per process).
    """
    environment = _environment()
    for name in environment.list_templates(filter_func=lambda name: name.endswith(".html")):
        environment.get_template(name)
    warm_up_charts()


def _plan(targets: _Targets, page: Page) -> _Plan:
    target = targets.of(page.path)
    for name in page.tables:
        if not _TABLE_NAME.fullmatch(name):
            raise ValueError(f"table name {name!r} of {page.path} is not a safe file name")
    return _Plan(
        page=page,
        target=target,
        csvs={name: target.with_name(f"{target.stem}-{name}.csv") for name in page.tables},
        charts=[
            (target.with_name(f"{target.stem}-{chart.name}.svg"), chart)
            for chart in charts_for(page.template, page.context)
        ],
    )


# --- writing: in this process, or spread over worker processes ------------------------------

Task = tuple[str, Any]
"""``("pages", [plan, ...])`` renders those pages; ``("chart", (path, chart))`` draws one."""


@dataclass(frozen=True)
class _Job:
    """What every task needs besides its own data; worker processes inherit it when forked."""

    title: str
    generated_at: str

    def run(self, task: Task) -> None:
        kind, data = task
        if kind == "chart":
            path, chart = data
            _write_file(path, chart.svg())
            return
        for plan in data:
            _write_page(plan, title=self.title, generated_at=self.generated_at)


class _Writer:
    """Takes planned pages one by one and gets their files written, here or on every core.

    Small sites are written in this process when ``finish`` is called: a pool would cost more
    than it saves. Once the pages seen add up to ``PARALLEL_FROM`` units of work, worker
    processes are forked and every task goes to them as soon as it exists, charts (the slow,
    uneven part) on their own and pages in slices, while the caller computes the next pages;
    when ``MAX_QUEUED`` tasks are waiting, the caller waits for the oldest.
    Workers are forked, so they inherit the compiled templates and loaded matplotlib (see
    ``prepare``). Both ways run the same code and write the same bytes.
    """

    def __init__(self, job: _Job, *, progress: bool) -> None:
        self.job = job
        self.show_progress = progress
        self.progress = Progress()
        self.files: set[Path] = set()
        self.folders: set[Path] = set()
        self.waiting: list[Task] = []  # before the pool starts, or pages not yet a full slice
        self.work = 0
        self.pages = 0
        self.workers: Workers[Task, None] = Workers(
            _run_task,
            start_from=PARALLEL_FROM,
            in_flight=MAX_QUEUED,
            initializer=_adopt,
            initargs=(job,),
        )

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.workers.close()
        self.progress.close()

    def claim(self, files: list[Path]) -> None:
        """Reserve ``files`` and create their folders; two claims of one file are an error."""
        for path in files:
            if path in self.files:
                raise ValueError(f"two pages would write the same file: {path}")
            self.files.add(path)
            if path.parent not in self.folders:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.folders.add(path.parent)

    def add(self, plan: _Plan) -> None:
        self.claim(plan.files())
        self.pages += 1
        self.work += 1 + CHART_COST * len(plan.charts)
        self.waiting += [("chart", chart) for chart in plan.charts]
        self.waiting.append(("pages", [plan]))
        if self.workers.started(self.work):
            self._submit(final=False)

    def finish(self) -> int:
        """Write whatever is still waiting, wait for the workers; return the files claimed."""
        if not self.workers.running:
            self._show_progress()
            for task in _slices(self.waiting, final=True)[0]:
                self.job.run(task)
                self.progress.advance(_pages_in(task))
        else:
            self._submit(final=True)
            for _ in self.workers.results():  # re-raises a worker's exception here
                pass
        return len(self.files)

    def _submit(self, *, final: bool) -> None:
        ready, self.waiting = _slices(self.waiting, final=final)
        for task in ready:
            future = self.workers.submit(task)  # the first submit forks the workers
            future.add_done_callback(partial(self._task_done, _pages_in(task)))
            self._show_progress()  # after the first submit (the fork): no bar thread is forked

    def _task_done(self, pages: int, _: Future[None]) -> None:
        self.progress.advance(pages)  # runs on the pool's result thread

    def _show_progress(self) -> None:
        self.progress.show(self.show_progress, desc="writing", unit=" pages")


def _pages_in(task: Task) -> int:
    kind, data = task
    return len(data) if kind == "pages" else 0


def _slices(tasks: list[Task], *, final: bool) -> tuple[list[Task], list[Task]]:
    """Charts as they are; single pages joined into slices of ``PAGES_PER_TASK``.

    Returns (ready, still waiting): a slice that is not full waits for more pages unless
    ``final``.
    """
    ready = [task for task in tasks if task[0] == "chart"]
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


def _run_task(task: Task) -> None:
    assert _worker_job is not None, "_adopt runs first in every worker"
    _worker_job.run(task)


def _write_file(path: Path, data: bytes) -> None:
    """Create ``path`` with ``data``: one open, one write, one close (thousands of files).

    A symbolic link in its place is refused (``O_NOFOLLOW``), never written through.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
    handle = os.open(path, flags, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view) :]
    finally:
        os.close(handle)


def _write_page(plan: _Plan, *, title: str, generated_at: str) -> None:
    """One page's CSVs, JSON twin and HTML (its charts are separate tasks)."""
    page, stem = plan.page, plan.target.stem
    for name, path in plan.csvs.items():
        _write_file(path, csv_bytes(page.tables[name]))
    _write_file(
        plan.target.with_suffix(".json"),
        json_bytes({**page.context, "generated_at": generated_at}),
    )
    template = _environment().get_template(page.template)
    root = _root(page.path)
    html = template.render(
        page=page,
        context=page.context,
        root=root,
        site_title=title,
        generated_at=generated_at,
        navigation=_navigation(page.path, root),
        json_href=f"{stem}.json",
        downloads=[
            {"label": name.replace("_", " "), "href": path.name} for name, path in plan.csvs.items()
        ],
        charts={chart.name: {"src": path.name, "alt": chart.alt} for path, chart in plan.charts},
    )
    _write_file(plan.target, _printable(html))


def json_bytes(value: Any) -> bytes:
    """Deterministic JSON: sorted keys, UTF-8 as is (no \\u escapes), trailing newline."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)


def csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    """Rows as UTF-8 CSV; columns in first-seen order, so the same rows give the same bytes.

    Text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` first) gets a
    leading apostrophe, the usual defence against CSV injection; nested values become JSON.
    """
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if columns:
        writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.get(column)) for column in columns])
    return buffer.getvalue().encode("utf-8")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_START) else value
    return str(value)


class _Targets:
    """Where page paths land inside ``out_dir``, refusing anything that could escape it.

    Each distinct folder is resolved (symbolic links followed) once, not every page: a site
    has thousands of pages in a handful of folders, and resolving costs a system call per
    path component. The file itself is never followed: ``_write_file`` opens it with
    ``O_NOFOLLOW``.
    """

    def __init__(self, out_dir: Path) -> None:
        self.root = out_dir.resolve()
        self.folders: dict[PurePosixPath, Path] = {}

    def of(self, path: str) -> Path:
        relative = PurePosixPath(path)
        if (
            not path
            or "\\" in path
            or "\x00" in path
            or relative.is_absolute()
            or ".." in relative.parts
            or relative.suffix != ".html"
        ):
            raise ValueError(f"unsafe page path: {path!r}")
        folder = self.folders.get(relative.parent)
        if folder is None:
            folder = (self.root / relative.parent).resolve()
            if not folder.is_relative_to(self.root):
                raise ValueError(f"page path leaves the site folder: {path!r}")
            self.folders[relative.parent] = folder
        return folder / relative.name


def _root(path: str) -> str:
    """Relative prefix from a page back to the site root: ``""``, ``"../"``, ..."""
    return "../" * (len(PurePosixPath(path).parts) - 1)


def _navigation(path: str, root: str) -> list[dict[str, str | None]]:
    """The site menu for one page, marking the page itself and the section it belongs to.

    Each ``href`` is relative to the page already (``root`` put before it here, once per link,
    rather than printed as a second value in the template).
    """
    items = []
    for label, href, prefixes in NAVIGATION:
        if path == href:
            current = "page"
        elif path.startswith(prefixes):
            current = "true"
        else:
            current = None
        items.append({"label": label, "href": root + href, "current": current})
    return items


def _percentage(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


def _number(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def _printable(html: str) -> bytes:
    """The finished page as UTF-8, control characters (NUL...) shown as U+FFFD, as browsers do.

    HTML forbids them, and a reader should see that something was there. Only data can hold
    them (the templates have none), so one pass over the finished page covers every printed
    value; a Jinja ``finalize`` hook did the same at the cost of a Python call per value.
    Pages almost never hold one, so the encoded page is checked first: deleting bytes and
    searching for a two-byte sequence are several times faster than a search for a character
    class in the text. In UTF-8 the bytes 0x00-0x1F and 0x7F are only ever those characters.
    """
    data = html.encode("utf-8")
    ascii_control = len(data.translate(None, _CONTROL_ASCII_BYTES)) != len(data)
    if not ascii_control and not _CONTROL_C1_UTF8.search(data):
        return data
    return _CONTROL.sub("\ufffd", html).encode("utf-8")


def _pretty_json(value: Any) -> str:
    """An example for the docs: strings are shown as given, anything else as indented JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2)


class _DataEnvironment(Environment):
    """An environment for templates that read plain data: ``row.name`` looks in the dict first.

    Jinja's ``a.b`` tries the attribute ``b`` and then the item ``"b"``; every value a page
    prints is an item of a dict, so the failed attribute lookup (an exception) was paid on each
    of them. Trying the item first gives the same value for every key that is not also a dict
    method, and the templates use ``.get`` only as a method.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


@functools.lru_cache(maxsize=1)
def _environment() -> Environment:
    """The one Jinja environment of a process; templates are compiled once and cached."""
    environment = _DataEnvironment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    environment.filters["percentage"] = _percentage
    environment.filters["number"] = _number
    environment.filters["system"] = system_name
    environment.filters["pretty_json"] = _pretty_json
    return environment
