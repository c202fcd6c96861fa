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

The package, by job:

    spec        what a page asks to have drawn: Bars, WeeklyBars, WeeklyRate, HeatMap (Charts)
    labels      text in charts and beside them: clean_label, percent, number, counted,
                heat_step, heat_legend, TOP_N
    kinds       the kinds drawn: horizontal_bars, weekly_bars, weekly_rate, heat_map; warm_up;
                event_positions
    primitives  the pieces they are drawn from, without matplotlib's Axes (the speed-up)
    figure      a blank figure in the charts' style, and its SVG bytes

Importing it does not import matplotlib (``figure`` says why).
"""

from generator.charts.kinds import (
    event_positions,
    heat_map,
    horizontal_bars,
    warm_up,
    weekly_bars,
    weekly_rate,
)
from generator.charts.labels import (
    HEAT_COLOURS,
    TOP_N,
    clean_label,
    counted,
    heat_legend,
    heat_step,
    number,
    percent,
)
from generator.charts.spec import (
    Bars,
    BarSeries,
    Chart,
    HeatMap,
    WeeklyBars,
    WeeklyRate,
    part_of_whole,
)

__all__ = [
    "HEAT_COLOURS",
    "TOP_N",
    "BarSeries",
    "Bars",
    "Chart",
    "HeatMap",
    "WeeklyBars",
    "WeeklyRate",
    "clean_label",
    "counted",
    "event_positions",
    "heat_legend",
    "heat_map",
    "heat_step",
    "horizontal_bars",
    "number",
    "part_of_whole",
    "percent",
    "warm_up",
    "weekly_bars",
    "weekly_rate",
]
