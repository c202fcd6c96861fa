"""Aggregation: the loaded tables -> every page of the site as a ``Page`` (docs/report-model.md).

One module per page kind, named as its template (``overview.py`` builds ``overview.html``
pages): each declares its context as a TypedDict and decides the charts its pages show. They
all read the same ``generator.facts``; ``iter_pages`` runs them in the order the renderer
works best with.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import pandas as pd

from generator.changes import anchor_of, by_page, changes_feed, recent_changes
from generator.error_groups import error_entries, error_groups
from generator.events import event_comparisons
from generator.facts import breakdowns, collect_facts, package_rows
from generator.help_urls import help_urls as fix_links
from generator.model import Page, PageBatch
from generator.pages.compare import compare_page
from generator.pages.matrix import matrix_page
from generator.pages.overview import News, overview_page
from generator.pages.package import package_pages, version_dates
from generator.pages.packages import packages_index_page
from generator.pages.submit import submit_page
from generator.pages.workshop import workshop_batch
from generator.pages.workshops import workshop_rows, workshops_index_page
from generator.periods import make_periods


def iter_pages(
    people: pd.DataFrame,
    results: pd.DataFrame,
    *,
    now: pd.Timestamp,
    generated_at: str,
    title: str,
    min_workshop_participants: int = 1,
    events: Sequence[tuple[str, str]] = (),
    collector_url: str | None = None,
    install_test: bool = False,
    package_aliases: Mapping[str, str] | None = None,
    help_urls: Mapping[str, str] | None = None,
) -> Iterator[Page | PageBatch]:
    """Every page of the site, as soon as each is ready. ``now`` anchors the recent periods.

    The overview, the package pages, the matrix and compare exist for all time and for each
    recent period (``generator.periods``). The thousands of workshop pages come first, as
    one ``PageBatch`` that the render workers build themselves, while this process computes
    the other pages (``generator.model.pages_of`` builds a batch here); then the pages with
    charts (overviews, matrices, packages). The package pages are computed together, as one
    list, then handed over page by page.
    The tables are read only before the first page comes. ``events``: the (date, label)
    pairs of ``generator.events``; ``package_aliases`` and ``help_urls`` are the config's
    (which names mean one package; fix instructions).
    """
    facts = collect_facts(people, results, now, package_aliases)
    del people, results  # everything below reads the facts: let the tables go (memory)
    periods = make_periods(facts, now)
    everything = periods[0].view
    error_texts = error_entries(facts)
    fixes = fix_links(facts, error_texts, help_urls or {})
    listed, hidden = workshop_rows(facts, everything, min_workshop_participants)
    yield workshop_batch(
        facts, everything, error_texts, listed, fixes.of, install_test=install_test
    )
    rows = [package_rows(facts, period.view, period.days) for period in periods]
    anchor = anchor_of(facts, now.value)
    found = recent_changes(facts, error_texts, anchor)
    news = News([item.change for item in found], event_comparisons(facts, events, anchor))
    feed = changes_feed(found, title=title, generated_at=generated_at)
    for period, period_rows in zip(periods, rows, strict=True):
        yield overview_page(
            facts,
            period,
            period_rows,
            title=title,
            generated_at=generated_at,
            news=news,
            feed=feed if period.days is None else None,
        )
    by_package = [breakdowns(facts, period.view) for period in periods]
    for period, period_rows, period_breakdowns in zip(periods, rows, by_package, strict=True):
        yield matrix_page(facts, period, period_rows, period_breakdowns)
    errors = [error_groups(facts, period.view, error_texts) for period in periods]
    dates = version_dates(facts)
    names = [row["name"] for row in rows[0]]
    changes = by_page(found)
    for period, period_rows, period_breakdowns, period_errors in zip(
        periods, rows, by_package, errors, strict=True
    ):
        previous = [] if period.previous is None else package_rows(facts, period.previous)
        yield from package_pages(
            facts,
            period,
            names,
            (period_rows, previous),
            period_breakdowns,
            period_errors,
            dates,
            changes,
            fixes,
        )
    yield packages_index_page(rows[0])
    for period, period_rows, period_breakdowns, period_errors in zip(
        periods, rows, by_package, errors, strict=True
    ):
        yield compare_page(facts, period, period_rows, period_breakdowns, period_errors)
    yield submit_page(collector_url, install_test)
    yield workshops_index_page(list(listed.values()), hidden)
