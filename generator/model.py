"""The page model: what aggregation hands to rendering (see docs/report-model.md).

Aggregation decides *what* every page says and which charts it shows; rendering decides only
*how* it looks. The contract between them is this one small dataclass, so either side can
change freely as long as a ``Page`` keeps its shape. Each page kind's context is a TypedDict
declared beside its builder (``generator/pages/<template name>.py``): ``Page[OverviewContext]``
says which.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic

from typing_extensions import TypeVar  # a default for the context type (typing has it from 3.13)

from generator.charts import Chart

Context = TypeVar(
    "Context", bound=Mapping[str, object], covariant=True, default=Mapping[str, object]
)
"""A page kind's context TypedDict; a bare ``Page`` is a page of any kind."""


@dataclass(frozen=True)
class Page(Generic[Context]):
    """One HTML page of the site, with everything needed to write it and its twins.

    ``context`` is JSON-able (str, int, float, bool, None, list, dict only) and is written
    verbatim (plus ``generated_at``) as the page's JSON twin, so the HTML and the public API
    never disagree. ``tables`` maps a name to rows, each written as CSV beside the page
    (``<page stem>-<name>.csv``); ``charts`` are drawn as SVGs beside it; a ``feed`` is
    written beside it too. Everything is plain
    data, so a page can be handed to a worker process.
    """

    path: str
    template: str
    title: str
    context: Context
    tables: Mapping[str, Sequence[Mapping[str, object]]] = field(default_factory=dict)
    charts: Sequence[Chart] = ()
    feed: Feed | None = None


@dataclass(frozen=True)
class PageBatch:
    """Many pages of one kind, handed over as the recipe that builds them, not as pages.

    A site has thousands of workshop pages, each cheap to build and to render: pickling each
    built page to a worker process would cost as much as building it there, and building them
    all in the aggregating process would leave the other cores waiting. So a batch names its
    ``paths`` (each page's, known in advance, so that every file is claimed before any is
    written) and ``build(share, shares)``, which builds one share of the pages (every
    ``shares``-th, from the ``share``-th): the renderer forks workers that inherit the batch
    (nothing is pickled) and builds and writes one share in each, or builds them all here
    (``pages_of``). A batch's pages have no tables, charts or feed: their JSON twin is their
    data, and their HTML is that twin in their template (a page's title and template follow
    from its context), so a page whose twin did not change is not rendered again
    (render/keep.py). ``build`` must give the same page, whatever the shares.
    """

    paths: tuple[str, ...]
    build: Callable[[int, int], Iterable[Page]]


def pages_of(items: Iterable[Page | PageBatch]) -> Iterator[Page]:
    """Every page of ``items``, batches built here, in this process."""
    for item in items:
        if isinstance(item, PageBatch):
            yield from item.build(0, 1)
        else:
            yield item


@dataclass(frozen=True)
class FeedEntry:
    """One entry of an Atom feed: ``link`` is site-relative, ``updated`` an RFC 3339 time."""

    id: str
    title: str
    updated: str
    link: str
    summary: str


@dataclass(frozen=True)
class Feed:
    """An Atom feed written beside its page as ``name`` (generator/render/feed.py); the page
    is the feed's ``alternate`` link."""

    name: str
    id: str
    title: str
    updated: str
    entries: tuple[FeedEntry, ...]
