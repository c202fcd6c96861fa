"""One page per package (template package.html): who tests it, where it fails, and how.

A package page answers "is it me, or everyone on my system?": its figures broken down by
system, distribution, machine and Python, by version, per week, and its common errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

import numpy as np
import pandas as pd

from generator.change import PreviousPeriod, compared
from generator.changes import Change
from generator.charts import (
    BarSeries,
    Chart,
    WeeklyRate,
    clean_label,
    part_of_whole,
    percent,
)
from generator.coding import combined, pair_counts, rate, rates, rows_by_code
from generator.error_groups import ErrorGroup
from generator.facts import (
    BREAKDOWNS,
    BreakdownRow,
    Breakdowns,
    Facts,
    PackageFigures,
    PackageRow,
    package_codes,
)
from generator.help_urls import HelpUrls
from generator.intervals import wilson
from generator.model import Page
from generator.periods import CHART_PERIODS, Period, WindowLink, period_links
from generator.slugs import package_path


class VersionUsers(TypedDict):
    """People whose latest attempt saw this version, passing and failing; when any attempt
    (in all time) first and last saw it."""

    version: str
    passing_users: int
    failing_users: int
    tested_users: int
    failure_rate: float | None
    first_seen: str  # YYYY-MM-DD (UTC)
    last_seen: str


class PackageWeek(TypedDict):
    week: str  # the Monday of the ISO week
    attempts: int
    failed_attempts: int
    failure_rate: float | None  # failed attempts of attempts; None in a week without any
    rate_low: float | None  # the rate's 95% Wilson interval (docs/counting.md)
    rate_high: float | None
    partial: bool  # the week is only partly inside the period (the current week, say)


class PackageContext(PackageFigures):
    name: str
    window_days: int | None  # None: all time
    windows: list[WindowLink]
    previous: PreviousPeriod | None  # tested and failing people in the period before
    versions: list[VersionUsers]  # most people first
    breakdowns: dict[str, list[BreakdownRow]]  # BREAKDOWNS -> rows, most tested first
    weekly: list[PackageWeek]  # oldest first, from its first week in the period, empty too
    errors: list[ErrorGroup]  # most failed attempts first
    changes: list[Change]  # what changed recently for this package, newest first
    help_urls: list[str]  # fix instructions: the configured page first (generator/help_urls.py)


VersionDates = dict[int, tuple[str, str]]
"""(package, version) key -> the first and last day an attempt saw that version."""


def package_pages(
    facts: Facts,
    period: Period,
    names: list[str],
    figures: tuple[list[PackageRow], list[PackageRow]],
    breakdowns: Breakdowns,
    errors: dict[int, list[ErrorGroup]],
    dates: VersionDates,
    changes: Mapping[str, list[Change]],
    help_urls: HelpUrls,
) -> list[Page[PackageContext]]:
    """A page for each of ``names`` (every package ever seen, so that each period has a page
    for it) over ``period``; ``figures``: the ``package_rows`` of the period and the one before;
    ``changes``: what changed, per page path.
    """
    rows = {row["name"]: row for row in figures[0]}
    before = {row["name"]: row for row in figures[1]}
    versions = _versions(facts, period, dates)
    weekly = _package_weekly(facts, period)
    codes = package_codes(facts)
    pages = []
    for name in names:
        code = codes[name]
        row = rows.get(name) or _untested(name, facts.package_keys[code], period.days)
        previous = before.get(name)
        context: PackageContext = {
            "name": name,
            "window_days": period.days,
            "windows": period_links(package_path(facts.package_keys[code])),
            "tested_users": row["tested_users"],
            "failing_users": row["failing_users"],
            "failure_rate": row["failure_rate"],
            "failing_users_all_attempts": row["failing_users_all_attempts"],
            "attempts": row["attempts"],
            "failed_attempts": row["failed_attempts"],
            "previous": compared(
                period,
                previous["tested_users"] if previous else 0,
                previous["failing_users"] if previous else 0,
                row["failure_rate"],
            ),
            "versions": versions.get(code, []),
            "breakdowns": {dim: breakdowns[dim].get(code, []) for dim in BREAKDOWNS},
            "weekly": weekly.get(code, []),
            "errors": errors.get(code, []),
            "changes": changes.get(row["href"], []),
            "help_urls": help_urls.of(code),
        }
        page_title = name if period.days is None else f"{name}: last {period.days} days"
        pages.append(
            Page(
                path=row["href"],
                template="package.html",
                title=page_title,
                context=context,
                tables={
                    "versions": context["versions"],
                    "errors": [_error_csv_row(error) for error in context["errors"]],
                    "weekly": context["weekly"],
                },
                charts=package_charts(context) if period.days in CHART_PERIODS else [],
            )
        )
    return pages


def _untested(name: str, key: str, days: int | None) -> PackageRow:
    """The figures of a package nobody tested in the period (``key``: its package key)."""
    return PackageRow(
        name=name,
        href=package_path(key, days),
        tested_users=0,
        failing_users=0,
        failure_rate=None,
        failing_users_all_attempts=0,
        attempts=0,
        failed_attempts=0,
    )


def version_dates(facts: Facts) -> VersionDates:
    """The first and last day any attempt saw each (package, version): one groupby for all."""
    keys = combined(facts.package, facts.version, len(facts.versions))
    seen = pd.Series(facts.received[facts.sub]).groupby(keys).agg(["min", "max"])
    first = pd.to_datetime(seen["min"], utc=True).dt.strftime("%Y-%m-%d")
    last = pd.to_datetime(seen["max"], utc=True).dt.strftime("%Y-%m-%d")
    return dict(zip(seen.index.tolist(), zip(first, last, strict=True), strict=True))


def _versions(facts: Facts, period: Period, dates: VersionDates) -> dict[int, list[VersionUsers]]:
    """Per package code: users passing and failing it, by the version their latest run saw."""
    view = period.view
    latest = view.entry_latest
    n_versions = len(facts.versions)
    keys = combined(facts.package[latest], facts.version[latest], n_versions)
    users = pd.Series(keys).value_counts()
    failures = view.failure_latest
    failing = pd.Series(
        combined(facts.failure_package[failures], facts.failure_version[failures], n_versions)
    ).value_counts()
    result: dict[int, list[tuple[int, str, int, int]]] = {}  # package -> (users, version, ...)
    for key, count in zip(users.index.tolist(), users.tolist(), strict=True):
        package, version = divmod(key, n_versions)
        result.setdefault(package, []).append(
            (count, facts.versions[version], int(failing.get(key, 0)), key)
        )
    return {
        package: [
            VersionUsers(
                version=version,
                passing_users=count - fails,
                failing_users=fails,
                tested_users=count,
                failure_rate=rate(fails, count),
                first_seen=dates[key][0],
                last_seen=dates[key][1],
            )
            for count, version, fails, key in sorted(found, key=lambda item: (-item[0], item[1]))
        ]
        for package, found in result.items()
    }


def _package_weekly(facts: Facts, period: Period) -> dict[int, list[PackageWeek]]:
    """Per package code: its attempts per week of the period, from its first week with one
    to the last week, empty weeks included; all packages' cells in one pass."""
    view = period.view
    entries, failures = view.entry_in_window, view.failure_in_window
    n, n_weeks = len(facts.packages), len(facts.week)
    if not n_weeks:  # nothing submitted yet
        return {}
    attempts = pair_counts(facts.package[entries], facts.week.codes[facts.sub[entries]], n, n_weeks)
    failed = pair_counts(
        facts.failure_package[failures],
        facts.week.codes[facts.failure_sub[failures]],
        n,
        n_weeks,
    )
    tried = attempts > 0
    first = np.where(tried.any(axis=1), tried.argmax(axis=1), n_weeks)
    package, week = np.nonzero(np.arange(n_weeks)[None, :] >= first[:, None])
    tries, fails = attempts[package, week], failed[package, week]
    low, high = wilson(fails, tries)
    return rows_by_code(
        package,
        {
            "week": np.asarray(facts.week.labels, dtype=object)[week],
            "attempts": tries,
            "failed_attempts": fails,
            "failure_rate": rates(fails, tries),
            "rate_low": _where_tried(low, tries),
            "rate_high": _where_tried(high, tries),
            "partial": period.partial[week],
        },
    )


def _where_tried(values: np.ndarray, tries: np.ndarray) -> np.ndarray:
    """Plain floats where a week had attempts, None where it had none."""
    shown = [v if t else None for v, t in zip(values.tolist(), tries.tolist(), strict=True)]
    return np.array(shown, dtype=object)


def _error_csv_row(error: ErrorGroup) -> dict[str, object]:
    """An error group for the CSV: its systems as one readable cell ("Windows 410; macOS 3")."""
    systems = "; ".join(f"{found['system']} {found['users']}" for found in error["systems"])
    chain, links = " -> ".join(error["chain"]), " ".join(error["help_urls"])
    return {**error, "systems": systems, "chain": chain, "help_urls": links}


def package_charts(context: PackageContext) -> list[Chart]:
    """People tested and failing per operating system, and the failure rate per week, for a
    package someone failed in the period. A package nobody failed gets none (the tables say
    it all): a site can have hundreds of packages and a figure costs tens of milliseconds.
    """
    rows = context["breakdowns"]["system"]
    if not context["failed_attempts"] or not rows:
        return []
    name = clean_label(context["name"], 80)
    return [
        part_of_whole(
            "by-system",
            "People tested and failing, per operating system",
            [row["value"] for row in rows],
            BarSeries("people tested", tuple(row["tested_users"] for row in rows)),
            BarSeries("failing", tuple(row["failing_users"] for row in rows)),
            [row["failure_rate"] for row in rows],
            f"how many people's latest attempt tested {name} and failed it, per operating system",
        ),
        _weekly_chart(name, context["weekly"]),
    ]


def _weekly_chart(name: str, weekly: list[PackageWeek]) -> WeeklyRate:
    tried = [row for row in weekly if row["attempts"]]
    worst = max(tried, key=lambda row: (row["failure_rate"] or 0, row["week"]))
    latest = tried[-1]
    empty = len(weekly) - len(tried)
    return WeeklyRate(
        "weekly",
        "Share of attempts failing per week, with its 95% interval",
        f"Line chart of the share of attempts at {name} that failed, per week from "
        f"{weekly[0]['week']} to {weekly[-1]['week']}, each with a band of its 95% interval "
        f"(wide for weeks with few attempts){f'; {empty} weeks had no attempt' if empty else ''}. "
        f"The worst week, {worst['week']}: {percent(worst['failure_rate'])} of "
        f"{worst['attempts']} attempts; the latest week with attempts, {latest['week']}"
        f"{' (so far)' if latest['partial'] else ''}: {percent(latest['failure_rate'])} of "
        f"{latest['attempts']}.",
        tuple(row["week"] for row in weekly),
        tuple(row["failure_rate"] for row in weekly),
        tuple(
            None
            if row["rate_low"] is None or row["rate_high"] is None
            else (row["rate_low"], row["rate_high"])
            for row in weekly
        ),
        tuple(row["partial"] for row in weekly),
    )
