"""The files of one page: decided, checked and claimed before any is written, then written.

A page (``generator.model.Page``) becomes its HTML (``templates/<page.template>``), its JSON
twin (the context plus ``generated_at``), a CSV per table, an SVG per chart and maybe an
Atom feed, all beside it. ``plan`` decides those files and claims them (paths.py checks each
path), ``claim_batch`` does the same for the pages a ``PageBatch`` will build, and
``write_page`` writes a planned page's files but its charts (each a task of its own:
writer.py), keeping any that came out as the published site has them (keep.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.charts import Chart
from generator.model import Page, PageBatch
from generator.render.feed import atom_bytes
from generator.render.formats import csv_bytes, json_bytes, printable
from generator.render.keep import SiteFiles
from generator.render.paths import Targets, check_table_name
from generator.render.templates import environment, navigation, root_of

ALWAYS_WRITTEN = "index.html"
"""The page (and twin) never kept for differing from the published one only in the build
time: its ``generated_at`` says when the site was last built. Every other page that did not
change keeps its file and the time of the build that made it (keep.py)."""


@dataclass(frozen=True)
class Plan:
    """One page and the files it becomes, decided before anything is written."""

    page: Page
    target: Path
    csvs: dict[str, Path]  # table name -> file
    charts: list[tuple[Path, Chart]]
    of_batch: bool = False  # its HTML is its twin in a template (``generator.model.PageBatch``)

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


def plan(targets: Targets, page: Page) -> Plan:
    """Where ``page``'s files go, each checked and claimed (``ValueError`` if it cannot be)."""
    target = targets.of(page.path)
    for name in page.tables:
        check_table_name(name, page.path)
    if page.feed is not None:
        check_table_name(page.feed.name.removesuffix(".xml"), page.path)
    plan = Plan(
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
class Batch:
    """A ``PageBatch`` whose pages' files are claimed: each page path -> its HTML file."""

    batch: PageBatch
    targets: dict[str, Path]

    def plan(self, page: Page) -> Plan:
        """The plan of a page the batch built; ``ValueError`` if it is not what it announced."""
        target = self.targets.get(page.path)
        if target is None:
            raise ValueError(f"a page batch built a page it did not announce: {page.path!r}")
        if page.tables or page.charts or page.feed is not None:
            raise ValueError(f"a page of a batch has tables, charts or a feed: {page.path!r}")
        return Plan(page=page, target=target, csvs={}, charts=[], of_batch=True)


def claim_batch(targets: Targets, batch: PageBatch) -> Batch:
    """Check and claim every file of ``batch``'s pages (HTML and JSON twin), as ``_plan``."""
    files = {path: targets.of(path) for path in batch.paths}
    if len(files) < len(batch.paths):
        raise ValueError("a page batch announces one page path twice")
    targets.claim(
        [file for target in files.values() for file in (target.with_suffix(".json"), target)]
    )
    return Batch(batch, files)


def write_page(plan: Plan, files: SiteFiles, *, title: str, generated_at: str) -> int:
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
    unchanged = plan.of_batch and not written[-1] and files.rendered_alike
    if unchanged and files.keep_unread(plan.target):
        return written.count(False) + 1  # the twin and the HTML, kept unrendered (keep.py)
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
