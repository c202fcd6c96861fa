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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

TOP_N = 20
"""Most rows a bar chart or heat map shows; the table beside it lists every row."""

_LABEL_CHARS = 32
_WIDTH = 6.0
_TICK_PAD = 3.5
"""Points between an axis and its labels (matplotlib's default ``ytick.major.pad``)."""
_RC: dict[str, Any] = {
    "svg.hashsalt": "installation-results",
    "svg.fonttype": "none",
    "text.parse_math": False,
    "text.usetex": False,
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
}
# matplotlib writes these into <metadata> by default; None leaves them out (Date would make
# every build differ, Creator/Type/Format only add bytes and external URIs).
_METADATA = {"Date": None, "Creator": None, "Type": None, "Format": None}
_COLOURS = {"whole": "#a9c1dc", "part": "#c0392b"}
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Chart:
    """One chart of a page: written as ``<page stem>-<name>.svg`` and shown with ``alt``.

    Deciding a page's charts and their alt texts is cheap; drawing is not. So a ``Chart`` is
    a plan: ``draw(*args)`` makes the SVG, and since ``draw`` is a module-level function and
    ``args`` plain data, the renderer can hand the drawing to another process.
    """

    name: str
    alt: str
    draw: Callable[..., bytes]
    args: tuple[Any, ...]

    def svg(self) -> bytes:
        return self.draw(*self.args)


SYSTEM_NAMES = {"Darwin": "macOS"}
"""How an operating system is shown to readers; the JSON keeps what ``platform.system()``
said ("Darwin"), so scripts matching on it keep working."""


def system_name(system: str) -> str:
    return SYSTEM_NAMES.get(system, system)


def _shown_systems(rows: Sequence[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [{**row, key: system_name(row[key])} for row in rows]


def clean_label(text: object, limit: int = _LABEL_CHARS) -> str:
    """Make submission text safe and short for a chart label (the table keeps it whole)."""
    label = _UNSAFE.sub("", "" if text is None else str(text)).strip() or "(none)"
    return label if len(label) <= limit else label[: limit - 1] + "…"


def percent(rate: float | None) -> str:
    """``0.3`` -> ``"30%"``, as the alt texts state rates."""
    return "no data" if rate is None else f"{rate * 100:.0f}%"


@contextmanager
def _style() -> Iterator[None]:
    """The charts' matplotlib settings, for the figure drawn inside.

    matplotlib is imported here, on the first drawing, not with this module: it takes about
    half a second, and a big build draws its charts in worker processes only.
    """
    import matplotlib

    with matplotlib.rc_context(_RC):
        yield


def _svg(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # Emoji and rare scripts have no glyph in matplotlib's font; with text kept as text
        # the browser draws them anyway, so the warning is noise.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure.savefig(buffer, format="svg", metadata=_METADATA)
    return buffer.getvalue()


def _new_figure(
    title: str,
    width: float,
    plot_height: float,
    *,
    label_chars: int = 0,
    top: float = 0.35,
    bottom: float = 0.1,
    right: float = 0.1,
) -> tuple[Figure, Axes]:
    """A figure of ``width`` inches with one plot ``plot_height`` inches tall.

    Margins are in inches, so labels and titles keep their room whatever the number of rows:
    ``label_chars`` sizes the left margin, ``top`` holds the title (and a legend under it).
    """
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    left = 0.2 + 0.075 * label_chars if label_chars else 0.5
    height = top + plot_height + bottom
    figure = Figure(figsize=(width, height))
    FigureCanvasSVG(figure)
    figure.subplots_adjust(
        left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height
    )
    figure.text(0.08 / width, 1 - 0.08 / height, title, va="top", fontsize=10, weight="bold")
    return figure, figure.add_subplot()


def _legend_under_title(axes: Axes) -> None:
    axes.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=2, fontsize=8, borderaxespad=0.3)


def _add_bars(
    axes: Axes, bars: Sequence[tuple[float, float, float, float]], colour: str, legend: str
) -> None:
    """Draw one series of bars, each (x, y, width, height) in data units, as a single path.

    ``axes.bar`` would make one ``Rectangle`` per bar and fold each into the data limits,
    segment by segment; with 100+ weeks that was most of a chart's drawing time. One path per
    series looks the same (bars of a series never overlap), is drawn in one go and is one
    ``<path>`` in the SVG. ``add_artist`` skips the data limits: every chart sets its own.
    """
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path

    corners = [Path.MOVETO, Path.LINETO, Path.LINETO, Path.LINETO, Path.CLOSEPOLY]
    vertices = [
        corner
        for x, y, width, height in bars
        for corner in ((x, y), (x + width, y), (x + width, y + height), (x, y + height), (x, y))
    ]
    path = Path(vertices, corners * len(bars))
    axes.add_artist(PathPatch(path, facecolor=colour, edgecolor="none", label=legend))


def _row_labels(axes: Axes, labels: Sequence[str]) -> None:
    """Write ``labels`` left of the rows ``0, 1, ...`` where y tick labels would go.

    Plain texts instead of ``set_yticks``: a tick is five artists (two marks, a grid line,
    two labels), which made labels the costliest part of a small chart. The y axis is hidden.
    """
    transform, va, ha = axes.get_yaxis_text1_transform(_TICK_PAD)
    for row, label in enumerate(labels):
        axes.text(0, row, label, transform=transform, va=va, ha=ha)
    axes.yaxis.set_visible(False)


def horizontal_bars(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    notes: Sequence[str],
) -> bytes:
    """Overlaid horizontal bars, first label on top, each with a note of its numbers.

    ``series`` is (legend, colour, values); each is drawn over the previous one, so list the
    larger totals first (people tested, then people failing) and the darker bar reads as
    "this many of that many". The notes replace an x axis: cheaper to draw (ticks are most
    of matplotlib's time) and exact.
    """
    shown = [clean_label(label) for label in labels[:TOP_N]]
    with _style():
        figure, axes = _new_figure(
            title, _WIDTH, 0.26 * len(shown), label_chars=max(map(len, shown)), top=0.6
        )
        for index, (legend, colour, values) in enumerate(series):
            height = 0.75 if index == 0 else 0.45
            bars = [
                (0, row - height / 2, value, height) for row, value in enumerate(values[:TOP_N])
            ]
            _add_bars(axes, bars, colour, legend)
        longest = max((max(values[:TOP_N], default=0) for _, _, values in series), default=0)
        for row, note in enumerate(notes[:TOP_N]):
            end = max(values[row] for _, _, values in series)
            axes.text(end + longest * 0.01, row, note, va="center", fontsize=8)
        axes.set_xlim(0, (longest or 1) * 1.3)
        axes.set_ylim(len(shown) - 0.5, -0.5)
        _row_labels(axes, shown)
        axes.xaxis.set_visible(False)
        axes.spines["bottom"].set_visible(False)
        _legend_under_title(axes)
        return _svg(figure)


def weekly_bars(
    title: str, weeks: Sequence[str], totals: Sequence[int], parts: Sequence[int]
) -> bytes:
    """Bars per week of a total, with the part that failed drawn over it in red.

    One axis only: a second one for the rate would double the drawing time, and "this much
    of that" already shows the share.
    """
    with _style():
        figure, axes = _new_figure(title, _WIDTH, 2.0, top=0.6, bottom=0.35)
        for values, colour, legend in (
            (totals, _COLOURS["whole"], "submissions"),
            (parts, _COLOURS["part"], "with a failure"),
        ):
            _add_bars(
                axes,
                [(week - 0.45, 0, 0.9, value) for week, value in enumerate(values)],
                colour,
                legend,
            )
        positions = range(len(weeks))
        # As autoscaling would: from 0 with 5% headroom over the highest bar.
        axes.set_ylim(0, (max(totals, default=0) or 1) * 1.05)
        axes.yaxis.get_major_locator().set_params(integer=True, nbins=4)
        step = max(1, math.ceil(len(weeks) / 5))
        axes.set_xticks(positions[::step], [clean_label(week) for week in weeks[::step]])
        axes.set_xlim(-0.6, len(weeks) - 0.4)
        _legend_under_title(axes)
        return _svg(figure)


def heat_map(
    title: str, rows: Sequence[str], columns: Sequence[str], rates: Sequence[Sequence[float | None]]
) -> bytes:
    """Failure rate per (row, column) as coloured cells with the percentage written in."""
    shown_rows = [clean_label(row) for row in rows[:TOP_N]]
    shown_columns = [clean_label(column, 14) for column in columns[:TOP_N]]
    grid = [[math.nan if rate is None else rate for rate in line[:TOP_N]] for line in rates[:TOP_N]]
    label_chars = max(map(len, shown_rows))
    # Column names longer than a cell is wide go up at an angle instead of overlapping.
    column_chars = max(map(len, shown_columns))
    slanted = column_chars > 8
    slant = 0.055 * column_chars if slanted else 0.0
    top, right = 0.7 + slant, 0.1 + slant
    width = max(4.5, 0.2 + 0.075 * label_chars + 0.6 * len(shown_columns) + right)
    with _style():
        figure, axes = _new_figure(
            title, width, 0.3 * len(shown_rows), label_chars=label_chars, top=top, right=right
        )
        axes.imshow(grid, cmap="YlOrRd", vmin=0, vmax=1, aspect="auto")
        axes.set_xticks(
            range(len(shown_columns)),
            shown_columns,
            rotation=45 if slanted else 0,
            ha="left" if slanted else "center",
            rotation_mode="anchor",
        )
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
        return _svg(figure)


# -- the charts of each page kind ------------------------------------------------------------


def _part_of_whole(
    name: str,
    title: str,
    rows: Sequence[dict[str, Any]],
    label: str,
    whole: tuple[str, str],
    part: tuple[str, str],
    alt_intro: str,
) -> Chart:
    """Bars of "``part`` of ``whole``" per row, e.g. people failing of people tested.

    ``whole`` and ``part`` are (row key, legend); rows also carry ``failure_rate``. The alt
    text states the first rows' figures in words; the table beside the chart has them all.
    """
    (whole_key, whole_legend), (part_key, part_legend) = whole, part
    notes = [f"{row[part_key]} of {row[whole_key]}" for row in rows]
    args = (
        title,
        [row[label] for row in rows],
        [
            (whole_legend, _COLOURS["whole"], [row[whole_key] for row in rows]),
            (part_legend, _COLOURS["part"], [row[part_key] for row in rows]),
        ],
        notes,
    )
    items = [
        f"{clean_label(row[label], 80)}: {row[part_key]} {part_legend}, "
        f"{row[whole_key]} {whole_legend} (failure rate {percent(row['failure_rate'])})"
        for row in rows
    ]
    rest = f"; and {len(rows) - 5} more, listed in the table" if len(rows) > 5 else ""
    alt = f"Bar chart of {alt_intro}: {'; '.join(items[:5])}{rest}."
    return Chart(name, alt, horizontal_bars, args)


def _overview_charts(context: dict[str, Any]) -> list[Chart]:
    charts = []
    failing = context["failing_packages"]
    if failing:
        charts.append(
            _part_of_whole(
                "failing-packages",
                f"Packages failing most (top {min(TOP_N, len(failing))}), latest attempts",
                failing,
                "name",
                ("failing_users_all_attempts", "failed on any attempt"),
                ("failing_users", "still failing"),
                "the packages that fail for most people: how many still fail on their latest "
                "attempt, and how many failed on any attempt",
            )
        )
    for name, key, label, what in (
        ("systems", "users_by_system", "system", "operating system"),
        ("python", "users_by_python", "python_version", "Python version"),
    ):
        if context[key]:
            rows = _shown_systems(context[key], label) if label == "system" else context[key]
            charts.append(
                _part_of_whole(
                    name,
                    f"People per {what}",
                    rows,
                    label,
                    ("users", "people"),
                    ("users_with_failures", "with a failure"),
                    f"people per {what} and how many of them have a failing package",
                )
            )
    weekly = context["weekly"]
    if weekly:
        busiest = max(weekly, key=lambda row: (row["submissions"], row["week"]))
        latest = weekly[-1]
        charts.append(
            Chart(
                "weekly",
                f"Bar chart of submissions per week from {weekly[0]['week']} to "
                f"{latest['week']}, each with the part that had a failure. The busiest week, "
                f"{busiest['week']}, had {busiest['submissions']} submissions "
                f"({busiest['failing_submissions']} with a failure); the latest week had "
                f"{latest['submissions']} ({latest['failing_submissions']} with a failure, "
                f"{percent(latest['failure_rate'])}).",
                weekly_bars,
                (
                    "Submissions per week, and those with a failure",
                    [row["week"] for row in weekly],
                    [row["submissions"] for row in weekly],
                    [row["failing_submissions"] for row in weekly],
                ),
            )
        )
    return charts


def _package_charts(context: dict[str, Any]) -> list[Chart]:
    # One chart per package page at most: a site can have hundreds of packages and a figure
    # costs tens of milliseconds. A package nobody failed gets none (the tables say it all).
    rows = context["breakdowns"]["system"]
    if not context["failed_attempts"] or not rows:
        return []
    name = clean_label(context["name"], 80)
    return [
        _part_of_whole(
            "by-system",
            "People tested and failing, per operating system",
            _shown_systems(rows, "value"),
            "value",
            ("tested_users", "people tested"),
            ("failing_users", "failing"),
            f"how many people's latest attempt tested {name} and failed it, per operating system",
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
        if columns_key == "systems":
            columns = [system_name(column) for column in columns]
        rates = [[cell["failure_rate"] for cell in row["cells"]] for row in rows]
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
        charts.append(
            Chart(
                name,
                f"Heat map: failure rate of the first {min(TOP_N, len(rows))} packages on each "
                f"{label}, darker is worse. "
                + (f"Highest: {summary}." if summary else "No failures recorded."),
                heat_map,
                (f"Failure rate, package × {label}", [row["name"] for row in rows], columns, rates),
            )
        )
    return charts


_CHARTS_BY_TEMPLATE: dict[str, Callable[[dict[str, Any]], list[Chart]]] = {
    "overview.html": _overview_charts,
    "package.html": _package_charts,
    "matrix.html": _matrix_charts,
}


def charts_for(template: str, context: dict[str, Any]) -> list[Chart]:
    """The charts a page of this template shows (none for pages without charts), undrawn."""
    make = _CHARTS_BY_TEMPLATE.get(template)
    return make(context) if make else []
