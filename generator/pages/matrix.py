"""The package matrix (template matrix.html): each package's failure rate on each operating
system and on each Python version, latest attempts, as tables and heat maps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypedDict

import numpy as np

from generator.charts import TOP_N, Chart, HeatMap, clean_label, percent
from generator.coding import version_key
from generator.facts import (
    IN_VERSION_ORDER,
    BreakdownRow,
    Breakdowns,
    Facts,
    PackageRow,
    View,
    package_codes,
)
from generator.model import Page
from generator.periods import CHART_PERIODS, Period, WindowLink, period_links
from generator.slugs import period_path


class MatrixCell(TypedDict):
    column: str
    tested_users: int
    failing_users: int
    failure_rate: float | None  # None: nobody tested it there


class MatrixRow(TypedDict):
    name: str
    href: str
    cells: list[MatrixCell]  # in the order of the columns


class MatrixContext(TypedDict):
    window_days: int | None  # None: all time
    windows: list[WindowLink]
    systems: list[str]  # the columns of by_system, most people first
    python_versions: list[str]  # the columns of by_python
    by_system: list[MatrixRow]  # packages someone tested, most failing people first
    by_python: list[MatrixRow]


def column_order(facts: Facts, view: View, dim: str) -> list[str]:
    """The values of one dimension seen in the period, most people first (then by name;
    Python versions in version order)."""
    coded = facts.dims[dim]
    users = np.bincount(coded.codes[view.latest], minlength=len(coded))
    present = [(int(-users[i]), label) for i, label in enumerate(coded.labels) if users[i]]
    if dim == IN_VERSION_ORDER:
        return sorted((label for _, label in present), key=version_key)
    return [label for _, label in sorted(present)]


def matrix_page(
    facts: Facts, period: Period, rows: list[PackageRow], breakdowns: Breakdowns
) -> Page[MatrixContext]:
    view, days = period.view, period.days
    codes = package_codes(facts)
    tested = [row for row in rows if row["tested_users"]]
    systems = column_order(facts, view, "system")
    python_versions = column_order(facts, view, "python_version")
    context: MatrixContext = {
        "window_days": days,
        "windows": period_links("matrix.html"),
        "systems": systems,
        "python_versions": python_versions,
        "by_system": _table(tested, codes, breakdowns["system"], systems),
        "by_python": _table(tested, codes, breakdowns["python_version"], python_versions),
    }
    return Page(
        path=period_path("matrix.html", days),
        template="matrix.html",
        title="Package matrix" if days is None else f"Package matrix: last {days} days",
        context=context,
        tables={
            "by_system": _csv_rows(context["by_system"], systems),
            "by_python": _csv_rows(context["by_python"], python_versions),
        },
        charts=matrix_charts(context) if days in CHART_PERIODS else [],
    )


def column_cells(
    columns: Sequence[str], found: Mapping[str, BreakdownRow | MatrixCell]
) -> dict[str, object]:
    """A CSV row's cells for ``columns`` (a system or Python version each): its failure rate,
    failing and tested people, named "<column>: failure_rate" and so on, as the page reads."""
    cells: dict[str, object] = {}
    for column in columns:
        cell = found.get(column)
        cells[f"{column}: failure_rate"] = None if cell is None else cell["failure_rate"]
        cells[f"{column}: failing_users"] = 0 if cell is None else cell["failing_users"]
        cells[f"{column}: tested_users"] = 0 if cell is None else cell["tested_users"]
    return cells


def _csv_rows(rows: list[MatrixRow], columns: list[str]) -> list[dict[str, object]]:
    """The matrix as a spreadsheet reads it: a row per package, three cells per column."""
    return [
        {"name": row["name"], **column_cells(columns, {c["column"]: c for c in row["cells"]})}
        for row in rows
    ]


def _table(
    rows: list[PackageRow],
    codes: dict[str, int],
    breakdown: dict[int, list[BreakdownRow]],
    columns: list[str],
) -> list[MatrixRow]:
    """A row per package, a cell per column (empty where nobody tested it)."""
    table = []
    for row in rows:
        cells = {cell["value"]: cell for cell in breakdown.get(codes[row["name"]], [])}
        table.append(
            MatrixRow(
                name=row["name"],
                href=row["href"],
                cells=[_cell(column, cells.get(column)) for column in columns],
            )
        )
    return table


def _cell(column: str, found: BreakdownRow | None) -> MatrixCell:
    if found is None:
        return MatrixCell(column=column, tested_users=0, failing_users=0, failure_rate=None)
    return MatrixCell(
        column=column,
        tested_users=found["tested_users"],
        failing_users=found["failing_users"],
        failure_rate=found["failure_rate"],
    )


def matrix_charts(context: MatrixContext) -> list[Chart]:
    """A heat map per table, for a table with rows and columns."""
    return [
        _heat_map(name, label, rows, shown)
        for name, label, rows, shown in (
            ("by-system", "operating system", context["by_system"], context["systems"]),
            ("by-python", "Python version", context["by_python"], context["python_versions"]),
        )
        if rows and shown
    ]


def _heat_map(name: str, label: str, rows: list[MatrixRow], columns: list[str]) -> HeatMap:
    """The rates of ``rows`` under ``columns`` (the names shown); the alt text names the
    three worst cells."""
    worst = [
        (cell["failure_rate"], row["name"], columns[index])
        for row in rows
        for index, cell in enumerate(row["cells"])
        if cell["failure_rate"]
    ]
    worst.sort(key=lambda item: (-item[0], item[1], item[2]))
    summary = "; ".join(
        f"{clean_label(package, 80)} on {clean_label(column, 80)}: {percent(rate)}"
        for rate, package, column in worst[:3]
    )
    return HeatMap(
        name,
        f"Failure rate, package × {label}",
        f"Heat map: failure rate of the first {min(TOP_N, len(rows))} packages on each "
        f"{label}, darker is worse. "
        + (f"Highest: {summary}." if summary else "No failures recorded."),
        tuple(row["name"] for row in rows),
        tuple(columns),
        tuple(tuple(cell["failure_rate"] for cell in row["cells"]) for row in rows),
    )
