"""The overview (template overview.html): all time at index.html, the same for recent windows.

What an organiser checks first: how many people ran the tests, how many still fail, which
packages and versions fail most, and on which systems and Pythons.
"""

from __future__ import annotations

from typing import NamedTuple, TypedDict

import numpy as np
import pandas as pd

from generator.change import PreviousPeriod, compared
from generator.changes import Change
from generator.charts import (
    TOP_N,
    Bars,
    BarSeries,
    Chart,
    WeeklyBars,
    event_positions,
    number,
    part_of_whole,
    percent,
)
from generator.coding import combined, distinct_pairs, is_known_version, rate, version_key
from generator.events import EventComparison
from generator.facts import IN_VERSION_ORDER, Facts, PackageRow, View, people_in, without_href
from generator.model import Feed, Page
from generator.periods import Period, WindowLink, period_links
from generator.slugs import package_path, period_path

TOP_VERSIONS = 50


class Totals(TypedDict):
    submissions: int
    users: int
    users_with_failures: int
    workshops: int
    packages: int
    share_users_failing: float | None


class VersionRow(TypedDict):
    """People failing one version of a package (latest attempts), and on any attempt."""

    name: str
    href: str
    version: str
    failing_users: int
    failing_users_all_attempts: int


class UsersBySystem(TypedDict):
    system: str
    users: int
    users_with_failures: int
    failure_rate: float | None


class UsersByPython(TypedDict):
    python_version: str
    users: int
    users_with_failures: int
    failure_rate: float | None


class WeekRow(TypedDict):
    week: str  # the Monday of the ISO week
    submissions: int
    users: int
    failing_submissions: int
    failure_rate: float | None
    partial: bool  # the week is only partly inside the period (the current week, say)


class OverviewContext(TypedDict):
    generated_at: str
    window_days: int | None  # None: all time
    windows: list[WindowLink]
    totals: Totals
    previous: PreviousPeriod | None  # people and their share failing in the period before
    failing_packages: list[PackageRow]
    failing_package_versions: list[VersionRow]  # "unknown" versions included
    failing_known_versions: list[VersionRow]  # the page's table
    users_by_system: list[UsersBySystem]
    users_by_python: list[UsersByPython]
    weekly: list[WeekRow]  # oldest first, every week of the period (empty ones too)
    changes: list[Change]  # what changed recently, newest first (generator/changes.py)
    events: list[EventComparison]  # newest first (generator/events.py)


class News(NamedTuple):
    """What every overview tells besides its period's figures: the same on each."""

    changes: list[Change]
    events: list[EventComparison]


def overview_page(
    facts: Facts,
    period: Period,
    rows: list[PackageRow],
    *,
    title: str,
    generated_at: str,
    news: News,
    feed: Feed | None = None,
) -> Page[OverviewContext]:
    """The overview of one period; ``rows`` are its ``package_rows``; ``feed`` (the changes
    as Atom) is written beside it."""
    view, window_days = period.view, period.days
    users, failing_users = people_in(facts, view)
    versions = _failing_versions(facts, view, window_days)
    before = period.previous
    context: OverviewContext = {
        "generated_at": generated_at,
        "window_days": window_days,
        "windows": period_links("index.html"),
        "totals": {
            "submissions": int(view.in_window.sum()),
            "users": users,
            "users_with_failures": failing_users,
            "workshops": _workshop_count(facts, view),
            "packages": len(rows),
            "share_users_failing": rate(failing_users, users),
        },
        "previous": None
        if before is None
        else compared(
            period,
            *people_in(facts, before),
            rate(failing_users, users),
        ),
        "failing_packages": [row for row in rows if row["failing_users"]],
        "failing_package_versions": versions[:TOP_VERSIONS],
        "failing_known_versions": [row for row in versions if is_known_version(row["version"])][
            :TOP_VERSIONS
        ],
        "users_by_system": [
            UsersBySystem(
                system=value, users=people, users_with_failures=failing, failure_rate=share
            )
            for value, people, failing, share in _users_by(facts, view, "system")
        ],
        "users_by_python": [
            UsersByPython(
                python_version=value, users=people, users_with_failures=failing, failure_rate=share
            )
            for value, people, failing, share in _users_by(facts, view, "python_version")
        ],
        "weekly": _weekly(facts, period),
        "changes": news.changes,
        "events": news.events,
    }
    page_title = title if window_days is None else f"{title}: last {window_days} days"
    return Page(
        path=period_path("index.html", window_days),
        template="overview.html",
        title=page_title,
        context=context,
        tables={
            "failing_packages": [without_href(row) for row in context["failing_packages"]],
            "weekly": context["weekly"],
        },
        charts=overview_charts(context),
        feed=feed,
    )


def _users_by(facts: Facts, view: View, dim: str) -> list[tuple[str, int, int, float | None]]:
    """(value, people, people with a failure, their share) per value of one dimension, for
    the latest attempts; most people first (Python versions: in version order)."""
    coded = facts.dims[dim]
    users = np.bincount(coded.codes[view.latest], minlength=len(coded)).tolist()
    failing = np.bincount(coded.codes[view.latest & facts.failing], minlength=len(coded)).tolist()
    rows = [
        (label, users[i], failing[i], rate(failing[i], users[i]))
        for i, label in enumerate(coded.labels)
        if users[i]
    ]
    if dim == IN_VERSION_ORDER:
        return sorted(rows, key=lambda row: version_key(row[0]))
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def _weekly(facts: Facts, period: Period) -> list[WeekRow]:
    view = period.view
    weeks = facts.week.codes[view.in_window]
    n = len(facts.week)
    submissions = np.bincount(weeks, minlength=n).tolist()
    failing = np.bincount(facts.week.codes[view.in_window & facts.failing], minlength=n).tolist()
    active_weeks, _ = distinct_pairs(weeks, facts.person[view.in_window], len(facts.person) + 1)
    users = np.bincount(active_weeks, minlength=n).tolist()
    return [
        WeekRow(
            week=label,
            submissions=submissions[i],
            users=users[i],
            failing_submissions=failing[i],
            failure_rate=rate(failing[i], submissions[i]),
            partial=partial,
        )
        for i, (label, partial) in enumerate(
            zip(facts.week.labels, period.partial.tolist(), strict=True)
        )
        if i >= period.first_week
    ]


def _failing_versions(facts: Facts, view: View, days: int | None) -> list[VersionRow]:
    n_versions = len(facts.versions)
    package, version = facts.failure_package, facts.failure_version
    latest = view.failure_latest
    latest_counts = pd.Series(combined(package[latest], version[latest], n_versions)).value_counts()
    window = view.failure_in_window
    keys = combined(package[window], version[window], n_versions)
    _, distinct_keys = distinct_pairs(
        facts.person[facts.failure_sub[window]], keys, len(facts.packages) * n_versions
    )
    all_counts = pd.Series(distinct_keys).value_counts()
    rows = []
    for key, failing in zip(latest_counts.index.tolist(), latest_counts.tolist(), strict=True):
        code, version_code = divmod(key, n_versions)
        name = facts.packages.labels[code]
        rows.append(
            VersionRow(
                name=name,
                href=package_path(facts.package_keys[code], days),
                version=facts.versions[version_code],
                failing_users=failing,
                failing_users_all_attempts=int(all_counts.get(key, 0)),
            )
        )
    rows.sort(key=lambda row: (-row["failing_users"], row["name"], row["version"]))
    return rows


def _workshop_count(facts: Facts, view: View) -> int:
    codes = pd.unique(facts.workshop.codes[view.in_window])
    return int(np.count_nonzero(codes != facts.no_workshop))


def overview_charts(context: OverviewContext) -> list[Chart]:
    """The failing packages, people per system and per Python, and the weekly submissions;
    each only when it has rows."""
    charts: list[Chart] = []
    failing = context["failing_packages"]
    if failing:
        charts.append(
            part_of_whole(
                "failing-packages",
                f"Packages failing most (top {min(TOP_N, len(failing))}), latest attempts",
                [row["name"] for row in failing],
                BarSeries(
                    "failed on any attempt",
                    tuple(row["failing_users_all_attempts"] for row in failing),
                ),
                BarSeries("still failing", tuple(row["failing_users"] for row in failing)),
                [row["failure_rate"] for row in failing],
                "the packages that fail for most people: how many still fail on their latest "
                "attempt, and how many failed on any attempt",
            )
        )
    by_system, by_python = context["users_by_system"], context["users_by_python"]
    if by_system:
        labels = [row["system"] for row in by_system]
        charts.append(_people_chart("systems", "operating system", labels, by_system))
    if by_python:
        labels = [row["python_version"] for row in by_python]
        charts.append(_people_chart("python", "Python version", labels, by_python))
    weekly = context["weekly"]
    if context["totals"]["submissions"]:
        events = tuple((event["date"], event["label"]) for event in context["events"])
        charts.append(_weekly_chart(weekly, events))
    return charts


def _people_chart(
    name: str, what: str, labels: list[str], rows: list[UsersBySystem] | list[UsersByPython]
) -> Bars:
    return part_of_whole(
        name,
        f"People per {what}",
        labels,
        BarSeries("people", tuple(row["users"] for row in rows)),
        BarSeries("with a failure", tuple(row["users_with_failures"] for row in rows)),
        [row["failure_rate"] for row in rows],
        f"people per {what} and how many of them have a failing package",
    )


def _weekly_chart(weekly: list[WeekRow], events: tuple[tuple[str, str], ...]) -> WeeklyBars:
    weeks = tuple(row["week"] for row in weekly)
    events = tuple(event for event in events if event_positions(weeks, [event]))
    busiest = max(weekly, key=lambda row: (row["submissions"], row["week"]))
    latest = weekly[-1]
    so_far = " (so far)" if latest["partial"] else ""
    empty = sum(1 for row in weekly if not row["submissions"])
    return WeeklyBars(
        "weekly",
        "Submissions per week, and those with a failure",
        f"Bar chart of submissions per week from {weekly[0]['week']} to "
        f"{latest['week']}, each with the part that had a failure"
        f"{f'; {empty} weeks had none' if empty else ''}. The busiest week, "
        f"{busiest['week']}, had {number(busiest['submissions'])} submissions "
        f"({number(busiest['failing_submissions'])} with a failure); the latest week{so_far} had "
        f"{number(latest['submissions'])} ({number(latest['failing_submissions'])} with a failure, "
        f"{percent(latest['failure_rate'])}).{_marked(events)}",
        weeks,
        tuple(row["submissions"] for row in weekly),
        tuple(row["failing_submissions"] for row in weekly),
        events,
        tuple(row["partial"] for row in weekly),
    )


def _marked(events: tuple[tuple[str, str], ...]) -> str:
    """The alt text's note of the events a weekly chart marks."""
    if not events:
        return ""
    return " Dashed lines mark " + "; ".join(f"{day}: {label}" for day, label in events) + "."
