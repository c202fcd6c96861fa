"""The report's charts: small, deterministic SVGs drawn with matplotlib, each with alt text.

Every chart repeats numbers that a table beside it lists in full, so a chart only has to be
glanceable: it shows at most ``TOP_N`` rows and its alt text states the leading figures.

Three rules keep the charts safe and reproducible:

- Text from submissions is never interpreted: mathtext and TeX are off (a package called
  ``$x^2$`` stays those five characters), and control characters (NUL, bidi overrides) are
  removed before a label reaches matplotlib or the SVG's XML.
- The same numbers give byte-identical files: a fixed ``svg.hashsalt``, no date or creator in
  the metadata, text kept as ``<text>`` (``svg.fonttype: none``) instead of glyph paths.
- Figures are built with the object-oriented API (``Figure`` + ``FigureCanvasSVG``), never
  pyplot's global state, so nothing leaks between pages and nothing needs ``plt.close``.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

TOP_N = 20
"""Most rows a bar chart or heat map shows; the table beside it lists every row."""

_LABEL_CHARS = 32
_WIDTH = 6.0
_RC: dict[str, Any] = {
    "svg.hashsalt": "installation-results",
    "svg.fonttype": "none",
    "text.parse_math": False,
    "text.usetex": False,
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "legend.frameon": False,
}
# matplotlib writes these into <metadata> by default; None leaves them out (Date would make
# every build differ, Creator/Type/Format only add bytes and external URIs).
_METADATA = {"Date": None, "Creator": None, "Type": None, "Format": None}
_COLOURS = {"latest": "#c0392b", "all": "#f1a89f", "total": "#9db4cf", "rate": "#1f4e79"}
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Chart:
    """One chart of a page: written as ``<page stem>-<name>.svg`` and shown with ``alt``."""

    name: str
    svg: bytes
    alt: str


def clean_label(text: object, limit: int = _LABEL_CHARS) -> str:
    """Make submission text safe and short for a chart label (the table keeps it whole)."""
    label = _UNSAFE.sub("", "" if text is None else str(text)).strip() or "(none)"
    return label if len(label) <= limit else label[: limit - 1] + "…"


def percent(rate: float | None) -> str:
    """``0.3`` -> ``"30%"``, as the alt texts state rates."""
    return "no data" if rate is None else f"{rate * 100:.0f}%"


def _svg(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # Emoji and rare scripts have no glyph in matplotlib's font; with text kept as text
        # the browser draws them anyway, so the warning is noise.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure.savefig(buffer, format="svg", metadata=_METADATA)
    return buffer.getvalue()


def _new_figure(width: float, height: float, label_chars: int = 0) -> Figure:
    """A figure with room on the left for labels of ``label_chars`` characters."""
    figure = Figure(figsize=(width, height))
    FigureCanvasSVG(figure)
    left = min(0.45, (0.3 + 0.065 * label_chars) / width) if label_chars else 0.1
    bottom = min(0.4, 0.55 / height)
    figure.subplots_adjust(left=left, right=0.97, top=1 - 0.45 / height, bottom=bottom)
    return figure


def horizontal_bars(
    title: str, labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[float]]]
) -> bytes:
    """Overlaid horizontal bars, first label on top; ``series`` = (legend, colour, values).

    Each series is drawn over the previous one, so list the larger totals first (people
    tested, then people failing): the darker bar reads as "this many of that many".
    """
    shown = [clean_label(label) for label in labels[:TOP_N]]
    with matplotlib.rc_context(_RC):
        figure = _new_figure(_WIDTH, 0.9 + 0.26 * len(shown), max(map(len, shown)))
        axes = figure.add_subplot()
        for index, (legend, colour, values) in enumerate(series):
            height = 0.75 if index == 0 else 0.45
            axes.barh(range(len(shown)), values[:TOP_N], height=height, color=colour, label=legend)
        axes.set_yticks(range(len(shown)), shown)
        axes.set_ylim(len(shown) - 0.5, -0.5)
        axes.set_title(title)
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.grid(axis="x", color="#dddddd", linewidth=0.6)
        axes.set_axisbelow(True)
        axes.tick_params(axis="y", length=0)
        if len(series) > 1:
            axes.legend(
                loc="lower right",
                bbox_to_anchor=(1, 1),
                ncols=len(series),
                fontsize=8,
                borderaxespad=0.2,
            )
        return _svg(figure)


def weekly_counts_and_rate(
    title: str, weeks: Sequence[str], counts: Sequence[int], rates: Sequence[float | None]
) -> bytes:
    """Bars of a weekly count with its failure rate as a line on a 0-100 % axis beside it."""
    with matplotlib.rc_context(_RC):
        figure = _new_figure(_WIDTH, 3.2)
        figure.subplots_adjust(right=0.9)
        axes = figure.add_subplot()
        positions = range(len(weeks))
        axes.bar(positions, counts, color=_COLOURS["total"], label="submissions")
        axes.set_title(title)
        axes.yaxis.get_major_locator().set_params(integer=True)
        step = max(1, math.ceil(len(weeks) / 8))
        axes.set_xticks(positions[::step], [clean_label(week) for week in weeks[::step]])
        rate_axes = axes.twinx()
        rate_axes.spines["right"].set_visible(True)
        rate_axes.plot(
            positions,
            [math.nan if rate is None else rate * 100 for rate in rates],
            color=_COLOURS["rate"],
            marker="o",
            markersize=3,
            label="failure rate",
        )
        rate_axes.set_ylim(0, 100)
        rate_axes.set_ylabel("failure rate (%)")
        axes.set_ylabel("submissions")
        return _svg(figure)


def heat_map(
    title: str, rows: Sequence[str], columns: Sequence[str], rates: Sequence[Sequence[float | None]]
) -> bytes:
    """Failure rate per (row, column) as coloured cells with the percentage written in."""
    shown_rows = [clean_label(row) for row in rows[:TOP_N]]
    shown_columns = [clean_label(column, 14) for column in columns[:TOP_N]]
    grid = [[math.nan if rate is None else rate for rate in line[:TOP_N]] for line in rates[:TOP_N]]
    with matplotlib.rc_context(_RC):
        label_chars = max(map(len, shown_rows))
        height = 1.0 + 0.3 * len(shown_rows)
        figure = _new_figure(
            min(_WIDTH + 2, 0.5 + 0.065 * label_chars + 0.8 * len(shown_columns)),
            height,
            label_chars,
        )
        figure.subplots_adjust(bottom=0.1 / height, top=1 - 0.8 / height)
        axes = figure.add_subplot()
        axes.imshow(grid, cmap="YlOrRd", vmin=0, vmax=1, aspect="auto")
        axes.set_xticks(range(len(shown_columns)), shown_columns)
        axes.xaxis.tick_top()
        axes.set_yticks(range(len(shown_rows)), shown_rows)
        axes.tick_params(length=0)
        for spine in axes.spines.values():
            spine.set_visible(False)
        for y, line in enumerate(grid):
            for x, rate in enumerate(line):
                text = "–" if math.isnan(rate) else f"{rate * 100:.0f}%"
                colour = "white" if not math.isnan(rate) and rate > 0.6 else "black"
                axes.text(x, y, text, ha="center", va="center", fontsize=8, color=colour)
        axes.set_title(title, pad=24)
        return _svg(figure)


# -- the charts of each page kind ------------------------------------------------------------


def _list_alt(kind: str, intro: str, items: Sequence[str], total: int) -> str:
    shown = "; ".join(items[:5])
    rest = f"; and {total - 5} more, listed in the table" if total > 5 else ""
    return f"{kind}: {intro}: {shown}{rest}."


def _overview_charts(context: dict[str, Any]) -> list[Chart]:
    charts = []
    failing = [row for row in context["failing_packages"] if row["failing_users_all_attempts"]]
    if failing:
        charts.append(
            Chart(
                "failing-packages",
                horizontal_bars(
                    f"Packages failing most (top {min(TOP_N, len(failing))})",
                    [row["name"] for row in failing],
                    [
                        (
                            "any attempt",
                            _COLOURS["all"],
                            [r["failing_users_all_attempts"] for r in failing],
                        ),
                        (
                            "latest attempt",
                            _COLOURS["latest"],
                            [r["failing_users"] for r in failing],
                        ),
                    ],
                ),
                _list_alt(
                    "Bar chart",
                    "people whose latest attempt failed each package, most first",
                    [
                        f"{clean_label(r['name'], 80)} fails for {r['failing_users']} of "
                        f"{r['tested_users']} people ({percent(r['failure_rate'])}), "
                        f"{r['failing_users_all_attempts']} on any attempt"
                        for r in failing
                    ],
                    len(failing),
                ),
            )
        )
    for name, key, what in (
        ("systems", "users_by_system", "system"),
        ("python", "users_by_python", "python_version"),
    ):
        rows = context[key]
        if not rows:
            continue
        label = "operating system" if what == "system" else "Python version"
        charts.append(
            Chart(
                name,
                horizontal_bars(
                    f"People per {label}",
                    [row[what] for row in rows],
                    [
                        ("people", _COLOURS["total"], [row["users"] for row in rows]),
                        (
                            "with failures",
                            _COLOURS["latest"],
                            [r["users_with_failures"] for r in rows],
                        ),
                    ],
                ),
                _list_alt(
                    "Bar chart",
                    f"people per {label}, and how many of them have failures",
                    [
                        f"{clean_label(row[what], 80)}: {row['users']} people, "
                        f"{row['users_with_failures']} with failures "
                        f"({percent(row['failure_rate'])})"
                        for row in rows
                    ],
                    len(rows),
                ),
            )
        )
    weekly = context["weekly"]
    if weekly:
        busiest = max(weekly, key=lambda row: (row["submissions"], row["week"]))
        charts.append(
            Chart(
                "weekly",
                weekly_counts_and_rate(
                    "Submissions per week and their failure rate",
                    [row["week"] for row in weekly],
                    [row["submissions"] for row in weekly],
                    [row["failure_rate"] for row in weekly],
                ),
                f"Bar and line chart: submissions per week from {weekly[0]['week']} to "
                f"{weekly[-1]['week']}, with the share that had a failure. The busiest week "
                f"({busiest['week']}) had {busiest['submissions']} submissions; the latest week "
                f"had {weekly[-1]['submissions']} with a failure rate of "
                f"{percent(weekly[-1]['failure_rate'])}.",
            )
        )
    return charts


def _package_charts(context: dict[str, Any]) -> list[Chart]:
    # One chart per package page at most: a site can have hundreds of packages, and matplotlib
    # costs ~35 ms a figure. A package nobody failed gets none (the tables say it all).
    rows = context["breakdowns"]["system"]
    if not context["failed_attempts"] or not rows:
        return []
    return [
        Chart(
            "by-system",
            horizontal_bars(
                "People tested and failing, per operating system",
                [row["value"] for row in rows],
                [
                    ("tested", _COLOURS["total"], [row["tested_users"] for row in rows]),
                    ("failing", _COLOURS["latest"], [row["failing_users"] for row in rows]),
                ],
            ),
            _list_alt(
                "Bar chart",
                f"people whose latest attempt tested {clean_label(context['name'], 80)}, "
                "and how many of them failed it, per operating system",
                [
                    f"{clean_label(row['value'], 80)}: fails for {row['failing_users']} of "
                    f"{row['tested_users']} ({percent(row['failure_rate'])})"
                    for row in rows
                ],
                len(rows),
            ),
        )
    ]


def _matrix_charts(context: dict[str, Any]) -> list[Chart]:
    charts = []
    for name, rows_key, columns_key, label in (
        ("by-system", "by_system", "systems", "operating system"),
        ("by-python", "by_python", "python_versions", "Python version"),
    ):
        rows, columns = context[rows_key], context[columns_key]
        if not rows or not columns:
            continue
        rates = [[cell["failure_rate"] for cell in row["cells"]] for row in rows]
        worst = [
            (cell["failure_rate"], row["name"], cell["column"])
            for row in rows
            for cell in row["cells"]
            if cell["failure_rate"]
        ]
        worst.sort(key=lambda item: (-item[0], item[1], item[2]))
        summary = "; ".join(
            f"{clean_label(package, 80)} on {clean_label(column, 80)}: {percent(rate)}"
            for rate, package, column in worst[:3]
        )
        charts.append(
            Chart(
                name,
                heat_map(
                    f"Failure rate, package × {label}",
                    [row["name"] for row in rows],
                    columns,
                    rates,
                ),
                f"Heat map: failure rate of the first {min(TOP_N, len(rows))} packages on each "
                f"{label}, darker is worse. "
                + (f"Highest: {summary}." if summary else "No failures recorded."),
            )
        )
    return charts


_CHARTS_BY_TEMPLATE: dict[str, Callable[[dict[str, Any]], list[Chart]]] = {
    "overview.html": _overview_charts,
    "package.html": _package_charts,
    "matrix.html": _matrix_charts,
}


def charts_for(template: str, context: dict[str, Any]) -> list[Chart]:
    """The charts a page of this template shows (none for pages without charts)."""
    make = _CHARTS_BY_TEMPLATE.get(template)
    return make(context) if make else []
