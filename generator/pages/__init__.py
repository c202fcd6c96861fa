"""Aggregation: the loaded tables -> every page of the site as a ``Page`` (docs/report-model.md).

One module per page kind, named as its template (``overview.py`` builds ``overview.html``
pages): each declares its context as a TypedDict and decides the charts its pages show. They
all read the same ``generator.facts``; ``iter_pages`` runs them in the order the renderer
works best with.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pandas as pd

from generator.error_groups import error_entries, error_groups
from generator.facts import breakdowns, collect_facts, make_view, package_rows
from generator.help_urls import help_urls as fix_links
from generator.model import Page
from generator.pages.compare import compare_page
from generator.pages.matrix import matrix_page
from generator.pages.overview import WINDOWS, overview_page
from generator.pages.package import package_pages
from generator.pages.packages import packages_index_page
from generator.pages.submit import submit_page
from generator.pages.workshop import workshop_pages
from generator.pages.workshops import workshop_rows, workshops_index_page


def iter_pages(
    people: pd.DataFrame,
    results: pd.DataFrame,
    *,
    now: pd.Timestamp,
    generated_at: str,
    title: str,
    min_workshop_participants: int = 1,
    package_aliases: Mapping[str, str] | None = None,
    help_urls: Mapping[str, str] | None = None,
) -> Iterator[Page]:
    """Every page of the site, as soon as each is ready. ``now`` anchors the recent windows.

    The order keeps a renderer that works alongside busy: the pages with charts come first
    (overviews, matrix, packages: drawing is the slow part), and the thousands of chartless
    workshop pages last, small tasks that end the work evenly. Each kind of page is computed
    together (the package and workshop pages as one list each), then handed over page by
    page. The tables are read only before the first page comes. ``package_aliases`` and
    ``help_urls`` are the config's (which names mean one package; fix instructions).
    """
    facts = collect_facts(people, results, package_aliases)
    del people, results  # everything below reads the facts: let the tables go (memory)
    everything = make_view(facts, None)
    rows = package_rows(facts, everything)
    yield overview_page(
        facts, everything, rows, title=title, generated_at=generated_at, window_days=None
    )
    for days in WINDOWS:
        recent = make_view(facts, (now - pd.Timedelta(days=days)).value)
        yield overview_page(
            facts,
            recent,
            package_rows(facts, recent),
            title=title,
            generated_at=generated_at,
            window_days=days,
        )
    by_package = breakdowns(facts, everything)
    yield matrix_page(facts, everything, rows, by_package)
    error_texts = error_entries(facts)
    errors = error_groups(facts, everything, error_texts)
    help = fix_links(facts, error_texts, help_urls or {})
    yield from package_pages(facts, everything, rows, by_package, errors, help)
    yield packages_index_page(rows)
    yield compare_page(facts, everything, rows, by_package, errors)
    yield submit_page()
    listed, hidden = workshop_rows(facts, everything, min_workshop_participants)
    yield workshops_index_page(list(listed.values()), hidden)
    yield from workshop_pages(facts, everything, error_texts, listed)
