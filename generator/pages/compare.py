"""Compare packages (template compare.html): two packages side by side, per operating system.

The page's script lets a reader pick the two; without it, the page is the full table.
"""

from __future__ import annotations

from typing import TypedDict

from generator.error_groups import ErrorGroup
from generator.facts import BreakdownRow, Breakdowns, Facts, PackageRow, package_codes
from generator.model import Page
from generator.pages.matrix import column_cells, column_order
from generator.periods import Period, WindowLink, period_links
from generator.slugs import period_path


class ComparePackage(TypedDict):
    name: str
    href: str
    tested_users: int
    failing_users: int
    failure_rate: float | None
    by_system: list[BreakdownRow]  # most tested first
    top_error: str | None  # the package's most common message group


class CompareContext(TypedDict):
    window_days: int | None  # None: all time
    windows: list[WindowLink]
    packages: list[ComparePackage]  # every package, by name
    systems: list[str]  # the matrix's column order, so the two pages read the same way


def compare_page(
    facts: Facts,
    period: Period,
    rows: list[PackageRow],
    breakdowns: Breakdowns,
    errors: dict[int, list[ErrorGroup]],
) -> Page[CompareContext]:
    days = period.days
    codes = package_codes(facts)
    systems = column_order(facts, period.view, "system")
    packages = []
    for row in sorted(rows, key=lambda r: r["name"]):
        code = codes[row["name"]]
        top = errors.get(code)
        packages.append(
            ComparePackage(
                name=row["name"],
                href=row["href"],
                tested_users=row["tested_users"],
                failing_users=row["failing_users"],
                failure_rate=row["failure_rate"],
                by_system=breakdowns["system"].get(code, []),
                top_error=top[0]["message"] if top else None,
            )
        )
    return Page(
        path=period_path("compare.html", days),
        template="compare.html",
        title="Compare packages" if days is None else f"Compare packages: last {days} days",
        context={
            "window_days": days,
            "windows": period_links("compare.html"),
            "packages": packages,
            "systems": systems,
        },
        tables={"packages": [_csv_row(package, systems) for package in packages]},
    )


def _csv_row(package: ComparePackage, systems: list[str]) -> dict[str, object]:
    """A package's figures, then three cells per system (the matrix's order), then its error."""
    overall = {k: v for k, v in package.items() if k not in ("href", "by_system", "top_error")}
    found = {row["value"]: row for row in package["by_system"]}
    return {**overall, **column_cells(systems, found), "top_error": package["top_error"]}
