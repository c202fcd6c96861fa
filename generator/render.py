"""Rendering: a list of ``Page`` -> the files of the report site in one folder.

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
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

import orjson
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from generator.charts import Chart, charts_for
from generator.model import Page

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
SCHEMA_NAME = "submission.schema.json"
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

PARALLEL_CHARTS_FROM = 16
"""From this many charts on, worker processes draw them while the pages are written."""

_TABLE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def write_site(pages: list[Page], out_dir: Path, *, title: str, generated_at: str) -> int:
    """Write every page with its twins, plus the assets, into ``out_dir``; return files written.

    Raises ``ValueError`` for a page path that is absolute, contains ``..``, is not ``.html``
    or would land outside ``out_dir``, and for two pages that would write the same file.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    files = _Files()
    planned = [
        (page, _page_target(out_dir, page.path), charts_for(page.template, page.context))
        for page in pages
    ]
    charts = [
        (target.with_name(f"{target.stem}-{chart.name}.svg"), chart)
        for _, target, page_charts in planned
        for chart in page_charts
    ]
    with _drawn([chart for _, chart in charts]) as svgs:
        for page, target, page_charts in planned:
            _write_page(files, page, target, page_charts, title=title, generated_at=generated_at)
        for (path, _), svg in zip(charts, svgs, strict=True):
            files.write(path, svg)
    for asset in sorted(STATIC_DIR.iterdir()):
        if asset.is_file():
            files.write(out_dir / "assets" / asset.name, asset.read_bytes())
    schema = resources.files("collector") / SCHEMA_NAME
    if schema.is_file():
        files.write(out_dir / SCHEMA_TARGET, schema.read_bytes())
    return len(files.written)


class _Files:
    """Writes the site's files, refusing to write any file twice."""

    def __init__(self) -> None:
        self.written: set[Path] = set()
        self._folders: set[Path] = set()

    def write(self, target: Path, data: bytes) -> None:
        if target in self.written:
            raise ValueError(f"two pages would write the same file: {target}")
        self.written.add(target)
        if target.parent not in self._folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(target.parent)
        target.write_bytes(data)


def _write_page(
    files: _Files, page: Page, target: Path, charts: list[Chart], *, title: str, generated_at: str
) -> None:
    """One page's CSVs, JSON twin and HTML (its charts' SVGs are written by the caller)."""
    stem = target.stem
    downloads = []
    for name, rows in page.tables.items():
        if not _TABLE_NAME.fullmatch(name):
            raise ValueError(f"table name {name!r} of {page.path} is not a safe file name")
        files.write(target.with_name(f"{stem}-{name}.csv"), csv_bytes(rows))
        downloads.append({"label": name.replace("_", " "), "href": f"{stem}-{name}.csv"})
    files.write(
        target.with_suffix(".json"), json_bytes({**page.context, "generated_at": generated_at})
    )
    template = _environment().get_template(page.template)
    html = template.render(
        page=page,
        context=page.context,
        root=_root(page.path),
        site_title=title,
        generated_at=generated_at,
        navigation=_navigation(page.path),
        json_href=f"{stem}.json",
        downloads=downloads,
        charts={
            chart.name: {"src": f"{stem}-{chart.name}.svg", "alt": chart.alt} for chart in charts
        },
    )
    files.write(target, html.encode("utf-8"))


@contextmanager
def _drawn(charts: list[Chart]) -> Iterator[Iterable[bytes]]:
    """The charts' SVGs in order: drawn by worker processes meanwhile when there are many.

    Drawing is much of a big build's rendering time and needs nothing but the chart's own
    data, so from ``PARALLEL_CHARTS_FROM`` charts on, worker processes draw while this one
    writes the pages (as generator/load.py reads files). Fewer charts are drawn here, when the
    SVGs are asked for. Both ways run the same code and give the same bytes.
    """
    if len(charts) < PARALLEL_CHARTS_FROM:
        yield (chart.svg() for chart in charts)
        return
    pool = ProcessPoolExecutor(max(1, min(3, (os.cpu_count() or 2) - 1)))
    try:
        futures = [pool.submit(chart.draw, *chart.args) for chart in charts]
        yield (future.result() for future in futures)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


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


def _page_target(out_dir: Path, path: str) -> Path:
    """The file a page path names inside ``out_dir``, refusing anything that could escape it."""
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
    root = out_dir.resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root) or target == root:
        raise ValueError(f"page path leaves the site folder: {path!r}")
    return target


def _root(path: str) -> str:
    """Relative prefix from a page back to the site root: ``""``, ``"../"``, ..."""
    return "../" * (len(PurePosixPath(path).parts) - 1)


def _navigation(path: str) -> list[dict[str, str | None]]:
    """The site menu for one page, marking the page itself and the section it belongs to."""
    items = []
    for label, href, prefixes in NAVIGATION:
        if path == href:
            current = "page"
        elif path.startswith(prefixes):
            current = "true"
        else:
            current = None
        items.append({"label": label, "href": href, "current": current})
    return items


def _percentage(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


def _number(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def _printable(value: Any) -> Any:
    """Every printed value: control characters (NUL...) become U+FFFD, as a browser shows them.

    HTML forbids them, and a reader should see that something was there. Markup (the output
    of a macro) was built from values that already passed through here.
    """
    if isinstance(value, str) and not value.isprintable() and not isinstance(value, Markup):
        return _CONTROL.sub("\ufffd", value)
    return value


def _pretty_json(value: Any) -> str:
    """An example for the docs: strings are shown as given, anything else as indented JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2)


@functools.lru_cache(maxsize=1)
def _environment() -> Environment:
    """The one Jinja environment of a process; templates are compiled once and cached."""
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        finalize=_printable,
    )
    environment.filters["percentage"] = _percentage
    environment.filters["number"] = _number
    environment.filters["pretty_json"] = _pretty_json
    return environment
