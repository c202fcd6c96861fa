"""What the charts say in words: submission text made safe as labels, rates, system names.

Pages use these too, so that a table and the chart beside it say the same.
"""

from __future__ import annotations

import re

TOP_N = 20
"""Most rows a bar chart or heat map shows; the table beside it lists every row."""

_LABEL_CHARS = 32
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
