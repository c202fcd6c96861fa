"""What the charts say in words: submission text made safe as labels, rates, counts.

Pages use these too, so that a table and the chart beside it say the same.
"""

from __future__ import annotations

import bisect
import re

TOP_N = 20
"""Most rows a bar chart or heat map shows; the table beside it lists every row."""

_LABEL_CHARS = 32
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


HEAT_STEPS = (0.01, 0.05, 0.10, 0.20, 0.40)
"""Upper bounds of the heat scale's shades; one shade more for 0% and one above 40%. Failure
rates are mostly small, so the scale is finest at the bottom: 0.2% and 11.6% are three shades
apart. The heat maps and the matrix's tables use the same shades (site.css: ``--heat-N``)."""

HEAT_COLOURS = ("#f4f4f4", "#fff3c4", "#fed976", "#fdae61", "#f46d43", "#b2182b", "#67001f")
"""The shades on white, lightest first (after ColorBrewer's YlOrRd and RdBu); text on them is
dark up to ``HEAT_DARK`` and white from there on, for WCAG AA contrast either way."""

HEAT_DARK = 5
"""The first shade dark enough for white text."""


def heat_step(rate: float) -> int:
    """The shade of a failure rate: 0 for none, then one per ``HEAT_STEPS`` range."""
    return 0 if rate <= 0 else 1 + bisect.bisect_left(HEAT_STEPS, rate)


def heat_legend() -> list[tuple[int, str]]:
    """(shade, what it means) for each shade, as the legends print them."""
    bounds = [f"{step * 100:.0f}%" for step in HEAT_STEPS]
    ranges = [f"≤{bound}" for bound in bounds]
    return list(enumerate(["0%", *ranges, f">{bounds[-1]}"]))


def number(value: int) -> str:
    """A count with thousands separators ("1,234"), as the tables print it."""
    return f"{value:,}"


def counted(value: int, legend: str) -> str:
    """``1, "people tested"`` -> "1 person tested"; ``1234, "people"`` -> "1,234 people"."""
    if value == 1 and legend.startswith("people"):
        legend = "person" + legend.removeprefix("people")
    return f"{number(value)} {legend}"


def clean_label(text: object, limit: int = _LABEL_CHARS) -> str:
    """Make submission text safe and short for a chart label (the table keeps it whole)."""
    label = _UNSAFE.sub("", "" if text is None else str(text)).strip() or "(none)"
    return label if len(label) <= limit else label[: limit - 1] + "…"


def percent(rate: float | None) -> str:
    """``0.3`` -> ``"30%"``, as the alt texts state rates."""
    return "no data" if rate is None else f"{rate * 100:.0f}%"
