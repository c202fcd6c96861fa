"""One page per package (template package.html): who tests it, where it fails, and how.

A package page answers "is it me, or everyone on my system?": its figures broken down by
system, distribution, machine and Python, by version, per week, and its common errors.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np
import pandas as pd

from generator.charts import BarSeries, Chart, clean_label, part_of_whole, system_name
from generator.coding import combined, pair_counts
from generator.error_groups import ErrorGroup
from generator.facts import (
    BREAKDOWNS,
    BreakdownRow,
    Breakdowns,
    Facts,
    PackageFigures,
    PackageRow,
    View,
    package_codes,
)
from generator.help_urls import HelpUrls
from generator.model import Page


class VersionUsers(TypedDict):
    """People whose latest attempt saw this version, passing and failing."""

    version: str
    passing_users: int
    failing_users: int


class PackageWeek(TypedDict):
    week: str
    attempts: int
    failed_attempts: int


class PackageContext(PackageFigures):
    name: str
    versions: list[VersionUsers]  # most people first
    breakdowns: dict[str, list[BreakdownRow]]  # BREAKDOWNS -> rows, most tested first
    weekly: list[PackageWeek]  # oldest first
    errors: list[ErrorGroup]  # most failed attempts first
    help_urls: list[str]  # fix instructions: the configured page first (generator/help_urls.py)


def package_pages(
    facts: Facts,
    view: View,
    rows: list[PackageRow],
    breakdowns: Breakdowns,
    errors: dict[int, list[ErrorGroup]],
    help_urls: HelpUrls,
) -> list[Page[PackageContext]]:
    versions = _versions(facts, view)
    weekly = _package_weekly(facts)
    codes = package_codes(facts)
    pages = []
    for row in rows:
        code = codes[row["name"]]
        context: PackageContext = {
            "name": row["name"],
            "tested_users": row["tested_users"],
            "failing_users": row["failing_users"],
            "failure_rate": row["failure_rate"],
            "failing_users_all_attempts": row["failing_users_all_attempts"],
            "attempts": row["attempts"],
            "failed_attempts": row["failed_attempts"],
            "versions": versions.get(code, []),
            "breakdowns": {dim: breakdowns[dim].get(code, []) for dim in BREAKDOWNS},
            "weekly": weekly.get(code, []),
            "errors": errors.get(code, []),
            "help_urls": help_urls.of(code),
        }
        pages.append(
            Page(
                path=row["href"],
                template="package.html",
                title=row["name"],
                context=context,
                tables={
                    "versions": context["versions"],
                    "errors": [_error_csv_row(error) for error in context["errors"]],
                },
                charts=package_charts(context),
            )
        )
    return pages


def _versions(facts: Facts, view: View) -> dict[int, list[VersionUsers]]:
    """Per package code: users passing and failing it, by the version their latest run saw."""
    latest = view.entry_latest
    n_versions = len(facts.versions)
    keys = combined(facts.package[latest], facts.version[latest], n_versions)
    users = pd.Series(keys).value_counts()
    failures = view.failure_latest
    failing = pd.Series(
        combined(facts.failure_package[failures], facts.failure_version[failures], n_versions)
    ).value_counts()
    result: dict[int, list[tuple[int, str, int]]] = {}  # package -> (users, version, failing)
    for key, count in zip(users.index.tolist(), users.tolist(), strict=True):
        package, version = divmod(key, n_versions)
        result.setdefault(package, []).append(
            (count, facts.versions[version], int(failing.get(key, 0)))
        )
    return {
        package: [
            VersionUsers(version=version, passing_users=count - fails, failing_users=fails)
            for count, version, fails in sorted(found, key=lambda item: (-item[0], item[1]))
        ]
        for package, found in result.items()
    }


def _package_weekly(facts: Facts) -> dict[int, list[PackageWeek]]:
    weeks = facts.week.codes[facts.sub]
    n = len(facts.packages)
    attempts = pair_counts(facts.package, weeks, n, len(facts.week))
    failed = pair_counts(
        facts.failure_package, facts.week.codes[facts.failure_sub], n, len(facts.week)
    )
    result: dict[int, list[PackageWeek]] = {}
    for package, week in np.argwhere(attempts).tolist():
        result.setdefault(package, []).append(
            PackageWeek(
                week=facts.week.labels[week],
                attempts=int(attempts[package, week]),
                failed_attempts=int(failed[package, week]),
            )
        )
    return result


def _error_csv_row(error: ErrorGroup) -> dict[str, object]:
    """An error group for the CSV: its systems as one readable cell ("Windows 410; Darwin 3"),
    its chain and links one cell each too."""
    systems = "; ".join(f"{found['system']} {found['users']}" for found in error["systems"])
    chain, links = " -> ".join(error["chain"]), " ".join(error["help_urls"])
    return {**error, "systems": systems, "chain": chain, "help_urls": links}


def package_charts(context: PackageContext) -> list[Chart]:
    """People tested and failing per operating system, for a package someone failed.

    One chart per package page at most: a site can have hundreds of packages and a figure
    costs tens of milliseconds. A package nobody failed gets none (the tables say it all).
    """
    rows = context["breakdowns"]["system"]
    if not context["failed_attempts"] or not rows:
        return []
    name = clean_label(context["name"], 80)
    return [
        part_of_whole(
            "by-system",
            "People tested and failing, per operating system",
            [system_name(row["value"]) for row in rows],
            BarSeries("people tested", tuple(row["tested_users"] for row in rows)),
            BarSeries("failing", tuple(row["failing_users"] for row in rows)),
            [row["failure_rate"] for row in rows],
            f"how many people's latest attempt tested {name} and failed it, per operating system",
        )
    ]
