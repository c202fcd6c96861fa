"""The page model: what aggregation hands to rendering (see docs/report-model.md).

Aggregation decides *what* every page says; rendering decides only *how* it looks. The
contract between them is this one small dataclass, so either side can change freely as long
as a ``Page`` keeps its shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Page:
    """One HTML page of the site, with everything needed to write it and its twins.

    ``context`` is JSON-able (str, int, float, bool, None, list, dict only) and is written
    verbatim (plus ``generated_at``) as the page's JSON twin, so the HTML and the public API
    never disagree. ``tables`` maps a name to rows, each written as CSV beside the page
    (``<page stem>-<name>.csv``).
    """

    path: str
    template: str
    title: str
    context: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
