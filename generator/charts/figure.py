"""A blank chart in the charts' style, and the SVG bytes it is saved as.

matplotlib is imported inside the functions that draw, never with this package: it costs
about half a second of CPU, and importing the charts (the pages and the page model do) must
stay cheap. The build pays it once, in ``warm_up`` while its reader processes work, before it
forks the render workers, which inherit it.
"""

from __future__ import annotations

import functools
import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox
    from matplotlib.typing import RcKeyType

_RC: dict[RcKeyType, str | bool | int] = {
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

COLOURS = {"whole": "#a9c1dc", "part": "#c0392b", "interval": "#f2c4bf", "partial": "#d5dde6"}
"""The bars of "part of whole": the whole pale blue, the part (what failed) red over it; a
rate's interval pale red; the legend's mark of a week only partly counted, pale grey."""


@contextmanager
def style() -> Iterator[None]:
    """The charts' matplotlib settings, for the figure drawn inside.

    The settings apply inside this block only (``rc_context`` costs ~0.2 ms a chart), so
    other code in the process that uses matplotlib keeps its own.
    """
    import matplotlib

    with matplotlib.rc_context(_RC):
        yield


def svg_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # Emoji and rare scripts have no glyph in matplotlib's font; with text kept as text
        # the browser draws them anyway, so the warning is noise.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure.savefig(buffer, format="svg", metadata=_METADATA)
    return buffer.getvalue()


def new_figure(
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


@functools.cache
def text_extent(text: str, size: float) -> tuple[float, float]:
    """Width and descent, in points, of one line of ``text`` as matplotlib lays it out in the
    charts' font (the descent at least that of "lp", as matplotlib's own text boxes use).

    Cached: legend labels are a handful of fixed words. Only valid inside ``style()``,
    which fixes the font.
    """
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    font = FontProperties(size=size)
    width, _, descent = text_to_path.get_text_width_height_descent(text, font, ismath=False)
    _, _, line_descent = text_to_path.get_text_width_height_descent("lp", font, ismath=False)
    return width, max(descent, line_descent)
