"""The periods every page kind is built for: all time, and the last 30, 90 and 365 days.

Each recent period is one ``View`` of the facts (``generator.facts.make_view``), with the
period of the same length just before it, which its pages compare their figures with, and
which of its weeks it covers only in part (the current week, and the week it starts in).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

import numpy as np
import pandas as pd

from generator.facts import Facts, View, make_view
from generator.slugs import period_path

WINDOWS = (30, 90, 365)
"""The recent periods, in days, that get pages of their own."""


CHART_PERIODS: tuple[int | None, ...] = (None,)
"""The periods whose package and matrix pages draw charts. A site has hundreds of packages and
a chart costs tens of milliseconds, so the recent pages show their figures as tables (the
matrix's cells coloured as its heat map is) and the all-time charts show every week."""


class WindowLink(TypedDict):
    label: str
    href: str


@dataclass(frozen=True)
class Period:
    """One period: its days (None: all time), its view, and the view of the period before."""

    days: int | None
    now: pd.Timestamp
    view: View
    previous: View | None  # the ``days`` days before; None for all time
    first_week: int  # code of the first week the period touches
    partial: np.ndarray  # per week code: the week is only partly inside the period


def make_periods(facts: Facts, now: pd.Timestamp) -> list[Period]:
    """All time, then each of ``WINDOWS``, ending at ``now`` (the build's time)."""
    mondays = pd.DatetimeIndex(facts.week.labels).tz_localize("UTC").as_unit("ns").asi8
    week_ns = pd.Timedelta(days=7).value
    periods = []
    for days in (None, *WINDOWS):
        if days is None:
            since = None
            view, previous = make_view(facts, None), None
        else:
            length = pd.Timedelta(days=days)
            since = (now - length).value
            view = make_view(facts, since)
            previous = make_view(facts, (now - 2 * length).value, since)
        start = 0 if since is None else int(np.searchsorted(mondays, since, side="right")) - 1
        partial = mondays + week_ns > now.value
        if since is not None:
            partial |= mondays < since
        periods.append(Period(days, now, view, previous, max(start, 0), partial))
    return periods


def period_links(path: str) -> list[WindowLink]:
    """The period switcher of the page whose all-time version is at ``path``."""
    return [
        WindowLink(
            label="All time" if days is None else f"Last {days} days", href=period_path(path, days)
        )
        for days in (None, *WINDOWS)
    ]
