"""The pieces a chart is drawn from, placed straight on the figure where an ``Axes`` would put
them: bars as one path per series, labels along the plot's edges, a legend, axis lines.

The charts need little of an Axes (their limits are known, their labels are plain texts), and
leaving it out, with its spines, tick objects, data limits and legend machinery, is what makes
them cheap: the 43 charts of a 100,000-submission site took 1.98 s of CPU drawn on Axes and
take 0.56 s drawn from these pieces (min of 5 runs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, TypedDict, cast

from generator.charts.figure import text_extent

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.patches import PathPatch
    from matplotlib.transforms import Affine2DBase, Bbox, Transform
    from matplotlib.typing import MarkerType
    from typing_extensions import Unpack  # typing has it from 3.11

_TICK_PAD = 3.5
"""Points between an axis and its labels (matplotlib's default ``ytick.major.pad``)."""
_LEGEND_FONT_SIZE = 8

Edge = Literal["left", "bottom", "top"]
"""An edge of the plot that labels stand along."""


class TextStyle(TypedDict, total=False):
    """How a label is placed: keywords of ``Figure.text``, in matplotlib's names."""

    ha: Literal["left", "center", "right"]
    va: Literal["top", "bottom", "center", "baseline", "center_baseline"]
    rotation: float
    rotation_mode: Literal["default", "anchor"]


def data_transform(
    figure: Figure, plot: Bbox, x: tuple[float, float], y: tuple[float, float]
) -> Transform:
    """Data coordinates -> the ``plot`` box, ``x`` and ``y`` giving the data at its edges
    (left to right, bottom to top): what an ``Axes`` calls ``transData``."""
    from matplotlib.transforms import Bbox, BboxTransform, TransformedBbox

    view = Bbox.from_extents(x[0], y[0], x[1], y[1])
    return BboxTransform(view, TransformedBbox(plot, figure.transFigure))


def bar_path(
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


_EDGES: dict[Edge, tuple[tuple[int, int], TextStyle]] = {
    # edge: (direction away from the plot, how an Axes aligns its tick labels there)
    "left": ((-1, 0), {"ha": "right", "va": "center_baseline"}),
    "bottom": ((0, -1), {"ha": "center", "va": "top"}),
    "top": ((0, 1), {"ha": "center", "va": "bottom"}),
}


def edge_labels(
    figure: Figure,
    plot: Bbox,
    data: Transform,
    edge: Edge,
    positions: Sequence[float],
    labels: Sequence[str],
    gap: float = _TICK_PAD,
    **style: Unpack[TextStyle],
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


def legend_width(entries: Sequence[tuple[str, str]]) -> float:
    """The width, in points, of ``legend_under_title``'s row of ``entries``, its paddings
    included (inside ``style()``)."""
    size = _LEGEND_FONT_SIZE
    labels = sum(text_extent(label, size)[0] for _, label in entries)
    return 2 * (0.3 + 0.4) * size + labels + len(entries) * (2.0 + 0.8 + 2.0) * size


def legend_under_title(
    figure: Figure,
    plot: Bbox,
    entries: Sequence[tuple[str, str]],
    at: tuple[float, float] | None = None,
) -> None:
    """A one-row legend of (colour, label) entries above the plot's top left corner, or above
    the point ``at`` (figure coordinates; a heat map puts its scale at the bottom left).

    Laid out as ``axes.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=2, fontsize=8,
    borderaxespad=0.3)`` would (matplotlib's default paddings, in font sizes; the same to a
    fraction of a point), but made of one rectangle and one text per entry: the legend
    machinery, which measures and packs nested boxes, cost about 8 ms a chart, a third of
    drawing all the charts.
    """
    from matplotlib.patches import Rectangle
    from matplotlib.transforms import Affine2D, ScaledTranslation

    size = _LEGEND_FONT_SIZE
    # transFigure is a BboxTransformTo, an affine transform; Figure's stub only says Transform.
    to_figure = cast("Affine2DBase", figure.transFigure)
    # Coordinates in points from the plot's top left corner (or from ``at``).
    x0, y0 = at or (plot.x0, plot.y1)
    points = (
        Affine2D().scale(1 / 72) + figure.dpi_scale_trans + ScaledTranslation(x0, y0, to_figure)
    )
    border = (0.3 + 0.4) * size  # the legend's distance to the plot, then its own padding
    x = border
    for colour, label in entries:
        width, descent = text_extent(label, size)
        baseline = border + descent  # swatches stand on the baseline of their label
        swatch = Rectangle((x, baseline), 2.0 * size, 0.7 * size, transform=points)
        swatch.set(facecolor=colour, edgecolor="none")
        figure.add_artist(swatch)
        x += (2.0 + 0.8) * size  # the swatch, then the gap to the label
        figure.text(x, baseline, label, fontsize=size, transform=points)
        x += width + 2.0 * size  # the label, then the gap to the next entry


def axis(
    figure: Figure,
    plot: Bbox,
    data: Transform,
    edge: Literal["left", "bottom"],
    ticks: Sequence[float],
    labels: Sequence[str],
) -> None:
    """The ``"left"`` or ``"bottom"`` edge of the plot drawn as an Axes would: a line, outward
    tick marks at ``ticks`` (data units) and a label at each."""
    from matplotlib.lines import Line2D
    from matplotlib.markers import TICKDOWN, TICKLEFT
    from matplotlib.transforms import blended_transform_factory

    size = 3.5  # points: matplotlib's default tick length
    # The stubs type the TICK markers as int; they are among the ints MarkerType lists.
    marker = cast("MarkerType", TICKLEFT if edge == "left" else TICKDOWN)
    if edge == "left":
        along = blended_transform_factory(figure.transFigure, data)
        marks = Line2D([plot.x0] * len(ticks), ticks, marker=marker, transform=along)
        spine(figure, (plot.x0, plot.y0), (plot.x0, plot.y1))
    else:
        along = blended_transform_factory(data, figure.transFigure)
        marks = Line2D(ticks, [plot.y0] * len(ticks), marker=marker, transform=along)
        spine(figure, (plot.x0, plot.y0), (plot.x1, plot.y0))
    marks.set(linestyle="none", color="black", markersize=size, markeredgewidth=0.8)
    figure.add_artist(marks)
    edge_labels(figure, plot, data, edge, ticks, labels, gap=size + _TICK_PAD)


def spine(figure: Figure, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A line along an edge of the plot (figure coordinates), as an Axes draws its spines."""
    from matplotlib.lines import Line2D

    line = Line2D([start[0], end[0]], [start[1], end[1]], transform=figure.transFigure)
    line.set(color="black", linewidth=0.8, solid_capstyle="projecting")
    figure.add_artist(line)
