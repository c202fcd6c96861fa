"""Events (``generator.events``: a date and what happened then) and what they changed.

For each event, the ``EVENT_DAYS`` before its date are compared with the ``EVENT_DAYS`` from
it on (each person's latest attempt in each period, as every figure counts): the share of
people failing anything, and each package tested by enough people on both sides, flagged
"worse" or "better" only by the rule of ``generator.significance``. The after period ends at
the anchor of ``generator.changes`` (no later submission counts), so a recent event compares
what there is so far.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal, TypedDict

import numpy as np
import pandas as pd

from generator.changes import DAY_NS
from generator.coding import rate
from generator.facts import Facts, make_view, people_by_package, people_in
from generator.significance import MIN_PEOPLE, clearly_higher
from generator.slugs import package_path

EVENT_DAYS = 30

Verdict = Literal["worse", "better"] | None


class EventPackage(TypedDict):
    """One package's failure rate before and after an event."""

    package: str
    href: str
    tested_before: int
    failing_before: int
    rate_before: float | None
    tested_after: int
    failing_after: int
    rate_after: float | None
    change: Verdict  # None: no clear change


class EventComparison(TypedDict):
    """One event and the failure rates around it (``index.json["events"]``)."""

    date: str  # YYYY-MM-DD
    label: str
    days: int  # the length of each period compared
    people_before: int
    failing_before: int
    rate_before: float | None
    people_after: int
    failing_after: int
    rate_after: float | None
    change: Verdict
    packages: list[EventPackage]  # clear changes first, then by name


def _verdicts(
    failing: np.ndarray, tested: np.ndarray, failing_before: np.ndarray, tested_before: np.ndarray
) -> list[Verdict]:
    """Per element: "worse" or "better" where the rule sees a clear change, else None."""
    worse = clearly_higher(failing, tested, failing_before, tested_before).tolist()
    better = clearly_higher(failing_before, tested_before, failing, tested).tolist()
    return [
        "worse" if up else "better" if down else None
        for up, down in zip(worse, better, strict=True)
    ]


def event_comparisons(
    facts: Facts, events: Sequence[tuple[str, str]], anchor_ns: int | None
) -> list[EventComparison]:
    """Each event (date, label) with the comparison around it, newest first."""
    until = None if anchor_ns is None else anchor_ns + 1
    result = []
    for day, label in sorted(events, reverse=True):
        at = pd.Timestamp(date.fromisoformat(day), tz="UTC").value
        before = make_view(facts, at - EVENT_DAYS * DAY_NS, at)
        after = make_view(facts, at, min(at + EVENT_DAYS * DAY_NS, until or at + 1))
        people_before, failing_before = people_in(facts, before)
        people_after, failing_after = people_in(facts, after)
        tested_b, failing_b = people_by_package(facts, before)
        tested_a, failing_a = people_by_package(facts, after)
        verdicts = _verdicts(failing_a, tested_a, failing_b, tested_b)
        (overall,) = _verdicts(
            *(
                np.array([count])
                for count in (failing_after, people_after, failing_before, people_before)
            )
        )
        shown = np.flatnonzero((tested_b >= MIN_PEOPLE) & (tested_a >= MIN_PEOPLE)).tolist()
        packages = [
            EventPackage(
                package=facts.packages.labels[code],
                href=package_path(facts.package_keys[code]),
                tested_before=int(tested_b[code]),
                failing_before=int(failing_b[code]),
                rate_before=rate(failing_b[code], tested_b[code]),
                tested_after=int(tested_a[code]),
                failing_after=int(failing_a[code]),
                rate_after=rate(failing_a[code], tested_a[code]),
                change=verdicts[code],
            )
            for code in shown
        ]
        packages.sort(key=lambda row: (row["change"] is None, row["package"]))
        result.append(
            EventComparison(
                date=day,
                label=label,
                days=EVENT_DAYS,
                people_before=people_before,
                failing_before=failing_before,
                rate_before=rate(failing_before, people_before),
                people_after=people_after,
                failing_after=failing_after,
                rate_after=rate(failing_after, people_after),
                change=overall,
                packages=packages,
            )
        )
    return result
