"""The kinds of chart: overlaid horizontal bars, bars per week, a rate per week with its
uncertainty, a heat map of rates.

Each draws its numbers, already chosen by a page's builder, onto a blank figure from the
pieces in ``primitives`` and returns the SVG's bytes.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from generator.charts.figure import COLOURS, new_figure, style, svg_bytes
from generator.charts.labels import (
    HEAT_COLOURS,
    HEAT_DARK,
    TOP_N,
    clean_label,
    heat_legend,
    heat_step,
    number,
    percent,
)
from generator.charts.primitives import (
    TextStyle,
    axis,
    bar_path,
    data_transform,
    edge_labels,
    legend_under_title,
    legend_width,
    spine,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox, Transform

_WIDTH = 6.0
"""Width of a bar chart, in inches (a heat map's grows with its columns)."""

EVENT_COLOUR = "#555555"
"""An event's line on a time chart: grey, so that it reads as a note, not as data."""


def warm_up() -> None:
    """Pay the one-time costs of the first chart now, so that later charts are all cheap.

    The first chart of a process imports matplotlib (about half a second) and loads its fonts
    (about 0.1 s on the first text laid out). The build calls this once, while its readers
    work (``render.prepare``); the render workers it forks later inherit the result. It draws
    a tiny throwaway chart: the surest way to touch everything the real charts use.
    """
    horizontal_bars("warm-up", ["warm-up"], [("warm-up", COLOURS["whole"], [1])], ["1 of 1"])


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
    with style():
        figure, plot = new_figure(
            title, _WIDTH, 0.26 * len(shown), label_chars=max(map(len, shown)), top=0.6
        )
        data = data_transform(figure, plot, (0, (longest or 1) * 1.3), (len(shown) - 0.5, -0.5))
        for index, (_, colour, values) in enumerate(series):
            height = 0.75 if index == 0 else 0.45
            bars = [
                (0, row - height / 2, value, height) for row, value in enumerate(values[:TOP_N])
            ]
            figure.add_artist(bar_path(bars, colour, data))
        for row, note in enumerate(notes[:TOP_N]):
            end = max(values[row] for _, _, values in series)
            figure.text(end + longest * 0.01, row, note, va="center", fontsize=8, transform=data)
        edge_labels(figure, plot, data, "left", range(len(shown)), shown)
        spine(figure, (plot.x0, plot.y0), (plot.x0, plot.y1))
        legend_under_title(figure, plot, [(colour, legend) for legend, colour, _ in series])
        return svg_bytes(figure)


def weekly_bars(
    title: str,
    weeks: Sequence[str],
    totals: Sequence[int],
    parts: Sequence[int],
    events: Sequence[tuple[str, str]] = (),
    partial: Sequence[bool] = (),
) -> bytes:
    """Bars per week of a total, with the part that failed drawn over it in red; a week only
    partly in the period (the current one) is drawn paler, as its count is still growing; a
    dashed line with its label at each event's date (``event_positions``).

    One axis only: a second one for the rate would double the drawing time, and "this much
    of that" already shows the share.
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    # As autoscaling would: from 0 with 5% headroom over the highest bar.
    top = (max(totals, default=0) or 1) * 1.05
    part_of = [bool(flag) for flag in partial] or [False] * len(weeks)
    with style():
        figure, plot = new_figure(title, _WIDTH, 2.0, top=0.6, bottom=0.35)
        data = data_transform(figure, plot, (-0.6, len(weeks) - 0.4), (0, top))
        for values, colour in ((totals, COLOURS["whole"]), (parts, COLOURS["part"])):
            for pale in (False, True):
                bars = [(week, value) for week, value in enumerate(values) if part_of[week] == pale]
                if bars:
                    patch = bar_path([(week - 0.45, 0, 0.9, v) for week, v in bars], colour, data)
                    patch.set_alpha(0.45 if pale else None)
                    figure.add_artist(patch)
        # Round counts, as an Axes' default locator with at most 4 steps would choose them.
        counts = MaxNLocator(nbins=4, integer=True, steps=[1, 2, 2.5, 5, 10]).tick_values(0, top)
        counts = [count for count in counts if count <= top]
        axis(figure, plot, data, "left", counts, [number(int(count)) for count in counts])
        _week_axis(figure, plot, data, weeks)
        for x, label in event_positions(weeks, events):
            figure.add_artist(
                Line2D(
                    [x, x],
                    [0, top],
                    color=EVENT_COLOUR,
                    linewidth=0.8,
                    linestyle="--",
                    transform=data,
                )
            )
            figure.text(x, top, f" {clean_label(label, 24)}", fontsize=7, va="top", transform=data)
        legend_under_title(
            figure,
            plot,
            [(COLOURS["whole"], "submissions"), (COLOURS["part"], "with a failure")]
            + ([(COLOURS["partial"], "pale: week so far")] if any(part_of) else []),
        )
        return svg_bytes(figure)


def event_positions(
    weeks: Sequence[str], events: Sequence[tuple[str, str]]
) -> list[tuple[float, str]]:
    """Where each event's date falls on a weekly axis (bar ``i`` spans ``i`` ± 0.45, its
    Monday at the left edge); events outside the weeks shown are left out."""
    from datetime import date

    if not weeks:
        return []
    mondays = [date.fromisoformat(week) for week in weeks]
    placed = []
    for day, label in events:
        when = date.fromisoformat(day)
        index = bisect.bisect_right(mondays, when) - 1
        if index < 0 or (when - mondays[-1]).days >= 7:
            continue
        days = min((when - mondays[index]).days, 7)
        placed.append((index - 0.45 + 0.9 * days / 7, label))
    return placed


def weekly_rate(
    title: str,
    weeks: Sequence[str],
    rates: Sequence[float | None],
    intervals: Sequence[tuple[float, float] | None],
    partial: Sequence[bool],
) -> bytes:
    """A rate per week as points on a line, each over its 95% interval drawn as a pale box.

    A week without attempts has no point and breaks the line, so a gap reads as "no data",
    never as 0%. A week only partly in the period (the current one) has a hollow point.
    """
    from matplotlib.lines import Line2D

    highs = [interval[1] for interval in intervals if interval is not None]
    top = min(1.0, max(highs, default=0.0) + 0.05) or 1.0
    with style():
        figure, plot = new_figure(title, _WIDTH, 2.0, top=0.6, bottom=0.35)
        data = data_transform(figure, plot, (-0.6, len(weeks) - 0.4), (0, top))
        boxes = [
            (week - 0.3, low, 0.6, high - low)
            for week, found in enumerate(intervals)
            if found is not None
            for low, high in [found]
        ]
        if boxes:
            figure.add_artist(bar_path(boxes, COLOURS["interval"], data))
        # Points as one path of small squares, not markers: SVG markers cost 10 ms a chart.
        points = [math.nan if value is None else value for value in rates]
        line = Line2D(range(len(weeks)), points, transform=data)
        line.set(color=COLOURS["part"], linewidth=1.2)
        figure.add_artist(line)
        side = top * 0.035
        hollow_shown = False
        for hollow, colour in ((False, COLOURS["part"]), (True, "white")):
            dots = [
                (week - 0.25, value - side / 2, 0.5, side)
                for week, value in enumerate(rates)
                if value is not None and bool(partial[week]) == hollow
            ]
            if dots:
                patch = bar_path(dots, colour, data)
                patch.set(edgecolor=COLOURS["part"], linewidth=0.8)
                figure.add_artist(patch)
                hollow_shown = hollow
        ticks = [tick / 100 for tick in range(0, 101, 25 if top > 0.5 else 10) if tick / 100 <= top]
        axis(figure, plot, data, "left", ticks, [percent(tick) for tick in ticks])
        _week_axis(figure, plot, data, weeks)
        legend_under_title(
            figure,
            plot,
            [(COLOURS["part"], "failure rate"), (COLOURS["interval"], "95% interval")]
            + ([(COLOURS["partial"], "hollow: week so far")] if hollow_shown else []),
        )
        return svg_bytes(figure)


def _week_axis(figure: Figure, plot: Bbox, data: Transform, weeks: Sequence[str]) -> None:
    """The weeks (every week present, so positions are dates) labelled about five times."""
    step = max(1, math.ceil(len(weeks) / 5))
    shown = range(0, len(weeks), step)
    axis(figure, plot, data, "bottom", shown, [clean_label(weeks[week]) for week in shown])


def heat_map(
    title: str, rows: Sequence[str], columns: Sequence[str], rates: Sequence[Sequence[float | None]]
) -> bytes:
    """Failure rate per (row, column) as coloured cells with the percentage written in, and
    the scale of shades under them."""
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
    legend = [(HEAT_COLOURS[step], label) for step, label in heat_legend()]
    with style():
        width = max(
            0.2 + 0.075 * label_chars + 0.6 * len(shown_columns) + right,
            legend_width(legend) / 72 + 0.2,
        )
        figure, plot = new_figure(
            title,
            width,
            0.3 * len(shown_rows),
            label_chars=label_chars,
            top=top,
            right=right,
            bottom=0.4,
        )
        data = data_transform(
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
                facecolors=[HEAT_COLOURS[heat_step(rate)] for _, _, rate in filled],
                edgecolors="none",
                transform=data,
            )
        )
        tilt: TextStyle = (
            {"rotation": 45, "ha": "left", "rotation_mode": "anchor"} if slanted else {}
        )
        edge_labels(figure, plot, data, "top", range(len(shown_columns)), shown_columns, **tilt)
        edge_labels(figure, plot, data, "left", range(len(shown_rows)), shown_rows)
        for x, y, rate in cells:
            text = "–" if rate is None else percent(rate)
            colour = "white" if rate is not None and heat_step(rate) >= HEAT_DARK else "black"
            figure.text(
                x, y, text, ha="center", va="center", fontsize=8, color=colour, transform=data
            )
        legend_under_title(figure, plot, legend, at=(0.0, 0.0))
        return svg_bytes(figure)
