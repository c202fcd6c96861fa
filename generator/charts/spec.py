"""What a page asks to have drawn: a small frozen dataclass per kind of chart, the ``Chart``s
that the page builders in ``generator/pages/`` return with their pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from generator.charts.figure import COLOURS
from generator.charts.kinds import heat_map, horizontal_bars, weekly_bars, weekly_rate
from generator.charts.labels import clean_label, counted, number, percent


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
        notes = [
            f"{number(p)} of {number(w)}"
            for w, p in zip(self.whole.values, self.part.values, strict=True)
        ]
        series = [
            (self.whole.legend, COLOURS["whole"], self.whole.values),
            (self.part.legend, COLOURS["part"], self.part.values),
        ]
        return horizontal_bars(self.title, self.labels, series, notes)


@dataclass(frozen=True)
class WeeklyBars:
    """Submissions per week with the part that had a failure, every week of the period (empty
    ones too); ``partial`` marks the weeks only partly counted, ``events`` are (YYYY-MM-DD,
    label) pairs marked where their date falls among the weeks. Drawn by ``weekly_bars``."""

    name: str
    title: str
    alt: str
    weeks: tuple[str, ...]
    totals: tuple[int, ...]
    parts: tuple[int, ...]
    events: tuple[tuple[str, str], ...] = ()
    partial: tuple[bool, ...] = ()

    def svg(self) -> bytes:
        return weekly_bars(
            self.title, self.weeks, self.totals, self.parts, self.events, self.partial
        )


@dataclass(frozen=True)
class WeeklyRate:
    """A rate per week (None: no data that week) with its 95% interval (low, high), every week
    of the period; ``partial`` marks the weeks only partly counted. Drawn by ``weekly_rate``."""

    name: str
    title: str
    alt: str
    weeks: tuple[str, ...]
    rates: tuple[float | None, ...]
    intervals: tuple[tuple[float, float] | None, ...]
    partial: tuple[bool, ...]

    def svg(self) -> bytes:
        return weekly_rate(self.title, self.weeks, self.rates, self.intervals, self.partial)


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


Chart = Bars | WeeklyBars | WeeklyRate | HeatMap
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
        f"{clean_label(label, 80)}: {counted(part_value, part.legend)}, "
        f"{counted(whole_value, whole.legend)} (failure rate {percent(share)})"
        for label, whole_value, part_value, share in zip(
            labels, whole.values, part.values, rates, strict=True
        )
    ]
    rest = f"; and {number(len(items) - 5)} more, listed in the table" if len(items) > 5 else ""
    alt = f"Bar chart of {about}: {'; '.join(items[:5])}{rest}."
    return Bars(name, title, alt, tuple(labels), whole, part)
