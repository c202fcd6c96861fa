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

Drawing is matplotlib's slow part, so the charts use little of it: no ``Axes`` (bars, cells,
labels, tick marks and legend are plain artists placed where an Axes would put them), one
path per series of bars, and texts, now most of the cost, only where they carry information.
A build draws the 43 charts of a 100,000-submission site in about 0.5 s of CPU. The first
chart of a process also pays matplotlib's import and font loading (about 0.5 s);
``warm_up()`` pays it ahead, e.g. in a worker process while other work runs.
"""

from __future__ import annotations

import functools
import io
import math
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.patches import PathPatch
    from matplotlib.transforms import Bbox, Transform

TOP_N = 20
"""Most rows a bar chart or heat map shows; the table beside it lists every row."""

_LABEL_CHARS = 32
_WIDTH = 6.0
_TICK_PAD = 3.5
"""Points between an axis and its labels (matplotlib's default ``ytick.major.pad``)."""
_LEGEND_FONT_SIZE = 8
_RC: dict[str, Any] = {
    "svg.hashsalt": "installation-results",
    "svg.fonttype": "none",
    "text.parse_math": False,
    "text.usetex": False,
    "font.family": "sans-serif",
    "font.size": 9,
}
# matplotlib writes these into <metadata> by default; None leaves them out (Date would make
# every build differ, Creator/Type/Format only add bytes and external URIs).
_METADATA = {"Date": None, "Creator": None, "Type": None, "Format": None}
_COLOURS = {"whole": "#a9c1dc", "part": "#c0392b"}
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


SYSTEM_NAMES = {"Darwin": "macOS"}
"""How an operating system is shown to readers; the JSON keeps what ``platform.system()``
said ("Darwin"), so scripts matching on it keep working."""


def system_name(system: str) -> str:
    return SYSTEM_NAMES.get(system, system)


def clean_label(text: object, limit: int = _LABEL_CHARS) -> str:
    """Make submission text safe and short for a chart label (the table keeps it whole)."""
    label = _UNSAFE.sub("", "" if text is None else str(text)).strip() or "(none)"
    return label if len(label) <= limit else label[: limit - 1] + "…"


def percent(rate: float | None) -> str:
    """``0.3`` -> ``"30%"``, as the alt texts state rates."""
    return "no data" if rate is None else f"{rate * 100:.0f}%"


def warm_up() -> None:
    """Pay the one-time costs of the first chart now, so that later charts are all cheap.

    The first chart of a process imports matplotlib (about half a second) and loads its fonts
    (about 0.1 s on the first text laid out). The build calls this once, while its readers
    work (``render.prepare``); the render workers it forks later inherit the result. It draws
    a tiny throwaway chart: the surest way to touch everything the real charts use.
    """
    horizontal_bars("warm-up", ["warm-up"], [("warm-up", _COLOURS["whole"], [1])], ["1 of 1"])


@contextmanager
def _style() -> Iterator[None]:
    """The charts' matplotlib settings, for the figure drawn inside.

    matplotlib is imported here, on the first drawing, not with this module: it takes about
    half a second, and a big build draws its charts in worker processes only. The settings
    apply inside this block only (``rc_context`` costs ~0.2 ms a chart), so other code in the
    process that uses matplotlib keeps its own.
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
) -> tuple[Figure, Bbox]:
    """A figure of ``width`` inches with room for one plot ``plot_height`` inches tall.

    Returns the figure and the plot's box in figure coordinates (0 to 1). Margins are in
    inches, so labels and titles keep their room whatever the number of rows: ``label_chars``
    sizes the left margin, ``top`` holds the title (and a legend under it).
    """
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

    left = 0.2 + 0.075 * label_chars if label_chars else 0.5
    height = top + plot_height + bottom
    figure = Figure(figsize=(width, height))
    FigureCanvasSVG(figure)
    figure.text(0.08 / width, 1 - 0.08 / height, title, va="top", fontsize=10, weight="bold")
    plot = Bbox.from_extents(left / width, bottom / height, 1 - right / width, 1 - top / height)
    return figure, plot


# The charts are drawn straight onto the figure, without an ``Axes``: creating one (axes,
# spines, tick objects) and drawing it was half the time of a small chart, and the charts
# need little of it: their limits are known, their labels are plain texts, and the weekly
# chart's two short scales are drawn by ``_axis`` as an Axes would draw them.


def _data_transform(
    figure: Figure, plot: Bbox, x: tuple[float, float], y: tuple[float, float]
) -> Transform:
    """Data coordinates -> the ``plot`` box, ``x`` and ``y`` giving the data at its edges
    (left to right, bottom to top): what an ``Axes`` calls ``transData``."""
    from matplotlib.transforms import Bbox, BboxTransform, TransformedBbox

    view = Bbox.from_extents(x[0], y[0], x[1], y[1])
    return BboxTransform(view, TransformedBbox(plot, figure.transFigure))


def _bars(
    bars: Sequence[tuple[float, float, float, float]], colour: str, transform: Transform
) -> PathPatch:
    """One series of bars, each (x, y, width, height) in data units, as a single path.

    ``axes.bar`` would make one ``Rectangle`` per bar and fold each into the data limits,
    segment by segment; with 100+ weeks that was most of a chart's drawing time. One path per
    series looks the same (bars of a series never overlap) and is one ``<path>`` in the SVG.
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
    return PathPatch(path, facecolor=colour, edgecolor="none", transform=transform)


_EDGES: dict[str, tuple[tuple[int, int], dict[str, str]]] = {
    # edge: (direction away from the plot, how an Axes aligns its tick labels there)
    "left": ((-1, 0), {"ha": "right", "va": "center_baseline"}),
    "bottom": ((0, -1), {"ha": "center", "va": "top"}),
    "top": ((0, 1), {"ha": "center", "va": "bottom"}),
}


def _edge_labels(
    figure: Figure,
    plot: Bbox,
    data: Transform,
    edge: str,
    positions: Sequence[float],
    labels: Sequence[str],
    gap: float = _TICK_PAD,
    **style: Any,
) -> None:
    """Labels outside one ``edge`` of the plot at ``positions`` (data units), ``gap`` points
    away: where an Axes puts tick labels, aligned as it does unless ``style`` says otherwise."""
    from matplotlib.transforms import ScaledTranslation, blended_transform_factory

    (away_x, away_y), alignment = _EDGES[edge]
    if edge == "left":
        along = blended_transform_factory(figure.transFigure, data)
        places = [(plot.x0, position) for position in positions]
    else:
        along = blended_transform_factory(data, figure.transFigure)
        y = plot.y0 if edge == "bottom" else plot.y1
        places = [(position, y) for position in positions]
    shift = ScaledTranslation(away_x * gap / 72, away_y * gap / 72, figure.dpi_scale_trans)
    for (x, y), label in zip(places, labels, strict=True):
        figure.text(x, y, label, transform=along + shift, **(alignment | style))


def _legend_under_title(figure: Figure, plot: Bbox, entries: Sequence[tuple[str, str]]) -> None:
    """A one-row legend of (colour, label) entries above the plot's top left corner.

    Laid out as ``axes.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=2, fontsize=8,
    borderaxespad=0.3)`` would (matplotlib's default paddings, in font sizes; the same to a
    fraction of a point), but made of one rectangle and one text per entry: the legend
    machinery, which measures and packs nested boxes, cost about 8 ms a chart, a third of
    drawing all the charts.
    """
    from matplotlib.patches import Rectangle
    from matplotlib.transforms import Affine2D, ScaledTranslation

    size = _LEGEND_FONT_SIZE
    # Coordinates in points from the plot's top left corner.
    points = (
        Affine2D().scale(1 / 72)
        + figure.dpi_scale_trans
        + ScaledTranslation(plot.x0, plot.y1, figure.transFigure)
    )
    border = (0.3 + 0.4) * size  # the legend's distance to the plot, then its own padding
    x = border
    for colour, label in entries:
        width, descent = _text_extent(label, size)
        baseline = border + descent  # swatches stand on the baseline of their label
        swatch = Rectangle((x, baseline), 2.0 * size, 0.7 * size, transform=points)
        swatch.set(facecolor=colour, edgecolor="none")
        figure.add_artist(swatch)
        x += (2.0 + 0.8) * size  # the swatch, then the gap to the label
        figure.text(x, baseline, label, fontsize=size, transform=points)
        x += width + 2.0 * size  # the label, then the gap to the next entry


@functools.cache
def _text_extent(text: str, size: float) -> tuple[float, float]:
    """Width and descent, in points, of one line of ``text`` as matplotlib lays it out in the
    charts' font (the descent at least that of "lp", as matplotlib's own text boxes use).

    Cached: legend labels are a handful of fixed words. Only valid inside ``_style()``,
    which fixes the font.
    """
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    font = FontProperties(size=size)
    width, _, descent = text_to_path.get_text_width_height_descent(text, font, ismath=False)
    _, _, line_descent = text_to_path.get_text_width_height_descent("lp", font, ismath=False)
    return width, max(descent, line_descent)


def horizontal_bars(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    notes: Sequence[str],
) -> bytes:
    """Overlaid horizontal bars, first label on top, each with a note of its numbers.

    ``series`` is (legend, colour, values); each is drawn over the previous one, so list the
    larger totals first (people tested, then people failing) and the darker bar reads as
    "this many of that many". The notes replace an x axis: cheaper to draw and exact.
    """
    shown = [clean_label(label) for label in labels[:TOP_N]]
    longest = max((max(values[:TOP_N], default=0) for _, _, values in series), default=0)
    with _style():
        figure, plot = _new_figure(
            title, _WIDTH, 0.26 * len(shown), label_chars=max(map(len, shown)), top=0.6
        )
        data = _data_transform(figure, plot, (0, (longest or 1) * 1.3), (len(shown) - 0.5, -0.5))
        for index, (_, colour, values) in enumerate(series):
            height = 0.75 if index == 0 else 0.45
            bars = [
                (0, row - height / 2, value, height) for row, value in enumerate(values[:TOP_N])
            ]
            figure.add_artist(_bars(bars, colour, data))
        for row, note in enumerate(notes[:TOP_N]):
            end = max(values[row] for _, _, values in series)
            figure.text(end + longest * 0.01, row, note, va="center", fontsize=8, transform=data)
        _edge_labels(figure, plot, data, "left", range(len(shown)), shown)
        _edge(figure, (plot.x0, plot.y0), (plot.x0, plot.y1))
        _legend_under_title(figure, plot, [(colour, legend) for legend, colour, _ in series])
        return _svg(figure)


def weekly_bars(
    title: str, weeks: Sequence[str], totals: Sequence[int], parts: Sequence[int]
) -> bytes:
    """Bars per week of a total, with the part that failed drawn over it in red.

    One axis only: a second one for the rate would double the drawing time, and "this much
    of that" already shows the share.
    """
    from matplotlib.ticker import MaxNLocator

    # As autoscaling would: from 0 with 5% headroom over the highest bar.
    top = (max(totals, default=0) or 1) * 1.05
    step = max(1, math.ceil(len(weeks) / 5))
    with _style():
        figure, plot = _new_figure(title, _WIDTH, 2.0, top=0.6, bottom=0.35)
        data = _data_transform(figure, plot, (-0.6, len(weeks) - 0.4), (0, top))
        for values, colour in ((totals, _COLOURS["whole"]), (parts, _COLOURS["part"])):
            bars = [(week - 0.45, 0, 0.9, value) for week, value in enumerate(values)]
            figure.add_artist(_bars(bars, colour, data))
        # Round counts, as an Axes' default locator with at most 4 steps would choose them.
        counts = MaxNLocator(nbins=4, integer=True, steps=[1, 2, 2.5, 5, 10]).tick_values(0, top)
        counts = [count for count in counts if count <= top]
        _axis(figure, plot, data, "left", counts, [f"{count:.0f}" for count in counts])
        shown = range(0, len(weeks), step)
        _axis(figure, plot, data, "bottom", shown, [clean_label(weeks[week]) for week in shown])
        _legend_under_title(
            figure,
            plot,
            [(_COLOURS["whole"], "submissions"), (_COLOURS["part"], "with a failure")],
        )
        return _svg(figure)


def _axis(
    figure: Figure,
    plot: Bbox,
    data: Transform,
    edge: str,
    ticks: Sequence[float],
    labels: Sequence[str],
) -> None:
    """The ``"left"`` or ``"bottom"`` edge of the plot drawn as an Axes would: a line, outward
    tick marks at ``ticks`` (data units) and a label at each."""
    from matplotlib.lines import Line2D
    from matplotlib.markers import TICKDOWN, TICKLEFT
    from matplotlib.transforms import blended_transform_factory

    size = 3.5  # points: matplotlib's default tick length
    if edge == "left":
        along = blended_transform_factory(figure.transFigure, data)
        marks = Line2D([plot.x0] * len(ticks), ticks, marker=TICKLEFT, transform=along)
        _edge(figure, (plot.x0, plot.y0), (plot.x0, plot.y1))
    else:
        along = blended_transform_factory(data, figure.transFigure)
        marks = Line2D(ticks, [plot.y0] * len(ticks), marker=TICKDOWN, transform=along)
        _edge(figure, (plot.x0, plot.y0), (plot.x1, plot.y0))
    marks.set(linestyle="none", color="black", markersize=size, markeredgewidth=0.8)
    figure.add_artist(marks)
    _edge_labels(figure, plot, data, edge, ticks, labels, gap=size + _TICK_PAD)


def _edge(figure: Figure, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A line along an edge of the plot (figure coordinates), as an Axes draws its spines."""
    from matplotlib.lines import Line2D

    line = Line2D([start[0], end[0]], [start[1], end[1]], transform=figure.transFigure)
    line.set(color="black", linewidth=0.8, solid_capstyle="projecting")
    figure.add_artist(line)


def heat_map(
    title: str, rows: Sequence[str], columns: Sequence[str], rates: Sequence[Sequence[float | None]]
) -> bytes:
    """Failure rate per (row, column) as coloured cells with the percentage written in."""
    from matplotlib import colormaps
    from matplotlib.collections import PolyCollection

    shown_rows = [clean_label(row) for row in rows[:TOP_N]]
    shown_columns = [clean_label(column, 14) for column in columns[:TOP_N]]
    grid = [list(line[:TOP_N]) for line in rates[:TOP_N]]
    label_chars = max(map(len, shown_rows))
    # Column names longer than a cell is wide go up at an angle instead of overlapping.
    column_chars = max(map(len, shown_columns))
    slanted = column_chars > 8
    slant = 0.055 * column_chars if slanted else 0.0
    top, right = 0.7 + slant, 0.1 + slant
    width = max(4.5, 0.2 + 0.075 * label_chars + 0.6 * len(shown_columns) + right)
    colours = colormaps["YlOrRd"]
    with _style():
        figure, plot = _new_figure(
            title, width, 0.3 * len(shown_rows), label_chars=label_chars, top=top, right=right
        )
        data = _data_transform(
            figure, plot, (-0.5, len(shown_columns) - 0.5), (len(shown_rows) - 0.5, -0.5)
        )
        # A cell without data stays blank, with a dash written in.
        cells = [(x, y, rate) for y, line in enumerate(grid) for x, rate in enumerate(line)]
        filled = [(x, y, rate) for x, y, rate in cells if rate is not None]
        figure.add_artist(
            PolyCollection(
                [
                    [(x - 0.5, y - 0.5), (x + 0.5, y - 0.5), (x + 0.5, y + 0.5), (x - 0.5, y + 0.5)]
                    for x, y, _ in filled
                ],
                facecolors=[colours(min(max(rate, 0.0), 1.0)) for _, _, rate in filled],
                edgecolors="none",
                transform=data,
            )
        )
        tilt = {"rotation": 45, "ha": "left", "rotation_mode": "anchor"} if slanted else {}
        _edge_labels(figure, plot, data, "top", range(len(shown_columns)), shown_columns, **tilt)
        _edge_labels(figure, plot, data, "left", range(len(shown_rows)), shown_rows)
        for x, y, rate in cells:
            text = "–" if rate is None else f"{rate * 100:.0f}%"
            colour = "white" if rate is not None and rate > 0.6 else "black"
            figure.text(
                x, y, text, ha="center", va="center", fontsize=8, color=colour, transform=data
            )
        return _svg(figure)


# -- what a page asks to have drawn ---------------------------------------------------------


@dataclass(frozen=True)
class BarSeries:
    """One series of a bar chart: its legend and a value per row."""

    legend: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class Bars:
    """Bars of "``part`` of ``whole``" per row (e.g. people failing of people tested), each
    noted with both numbers; drawn by ``horizontal_bars``. Make one with ``part_of_whole``."""

    name: str
    title: str
    alt: str
    labels: tuple[str, ...]
    whole: BarSeries
    part: BarSeries

    def svg(self) -> bytes:
        notes = [f"{p} of {w}" for w, p in zip(self.whole.values, self.part.values, strict=True)]
        series = [
            (self.whole.legend, _COLOURS["whole"], self.whole.values),
            (self.part.legend, _COLOURS["part"], self.part.values),
        ]
        return horizontal_bars(self.title, self.labels, series, notes)


@dataclass(frozen=True)
class WeeklyBars:
    """Submissions per week with the part that had a failure; drawn by ``weekly_bars``."""

    name: str
    title: str
    alt: str
    weeks: tuple[str, ...]
    totals: tuple[int, ...]
    parts: tuple[int, ...]

    def svg(self) -> bytes:
        return weekly_bars(self.title, self.weeks, self.totals, self.parts)


@dataclass(frozen=True)
class HeatMap:
    """A failure rate per (row, column), None where nothing was tested; drawn by ``heat_map``."""

    name: str
    title: str
    alt: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    rates: tuple[tuple[float | None, ...], ...]

    def svg(self) -> bytes:
        return heat_map(self.title, self.rows, self.columns, self.rates)


Chart = Bars | WeeklyBars | HeatMap
"""One chart of a page, written as ``<page stem>-<name>.svg`` and shown with ``alt``.

The page's builder decides its charts (cheap); ``svg()`` draws one (slow). A chart holds plain
data only, so the renderer can hand the drawing to another process.
"""


def part_of_whole(
    name: str,
    title: str,
    labels: Sequence[str],
    whole: BarSeries,
    part: BarSeries,
    rates: Sequence[float | None],
    about: str,
) -> Bars:
    """``Bars`` whose alt text states the first rows' figures in words (``rates``: the failure
    rate of each row); the table beside the chart has them all. ``about`` says what the bars
    show, e.g. "people per operating system and how many of them have a failing package"."""
    items = [
        f"{clean_label(label, 80)}: {part_value} {part.legend}, "
        f"{whole_value} {whole.legend} (failure rate {percent(share)})"
        for label, whole_value, part_value, share in zip(
            labels, whole.values, part.values, rates, strict=True
        )
    ]
    rest = f"; and {len(items) - 5} more, listed in the table" if len(items) > 5 else ""
    alt = f"Bar chart of {about}: {'; '.join(items[:5])}{rest}."
    return Bars(name, title, alt, tuple(labels), whole, part)
