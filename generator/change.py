"""How a headline figure moved against the period before: the one place a change is worked out.

A page for the last N days states its failure rate beside the rate of the N days before it
("21.1% failing, +6.3 points vs the 90 days before"). Both rates are the rounded ones the
pages show, so that the change is the difference a reader can check by subtracting.
"""

from __future__ import annotations

from typing import TypedDict

import pandas as pd

from generator.coding import rate
from generator.periods import Period


class PreviousPeriod(TypedDict):
    """The same figures for the period just before, and the change of the rate since."""

    days: int
    start: str  # first day of the period before (YYYY-MM-DD, UTC)
    end: str  # the day the page's own period starts (the period before ends there)
    tested_users: int
    failing_users: int
    failure_rate: float | None
    change_points: float | None  # this period's rate minus that one, in percentage points


def change_points(current: float | None, previous: float | None) -> float | None:
    """``0.211`` against ``0.148`` -> ``6.3`` (percentage points, one decimal); None when
    either rate is missing (nobody was tested in one of the periods)."""
    if current is None or previous is None:
        return None
    return round((current - previous) * 100, 1)


def compared(
    period: Period, tested: int, failing: int, current: float | None
) -> PreviousPeriod | None:
    """The period before ``period`` (``tested`` and ``failing`` people in it) against the
    ``current`` rate; None for all time, which has no period before."""
    if period.days is None:
        return None
    length = pd.Timedelta(days=period.days)
    before = rate(failing, tested)
    return PreviousPeriod(
        days=period.days,
        start=(period.now - 2 * length).strftime("%Y-%m-%d"),
        end=(period.now - length).strftime("%Y-%m-%d"),
        tested_users=tested,
        failing_users=failing,
        failure_rate=before,
        change_points=change_points(current, before),
    )
