"""The chart drawings themselves: what each SVG shows, safety of its text, determinism.

The site tests check charts through rendered pages; these look inside single drawings, which
are drawn without matplotlib's Axes for speed, so their placement is ours to get right.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from generator import charts
from generator.charts.figure import COLOURS

SVG = "{http://www.w3.org/2000/svg}"
WHOLE, PART = COLOURS["whole"], COLOURS["part"]


def _texts(svg: bytes) -> list[tuple[str, float, float]]:
    """(text, x, y) of every <text>, in document order."""
    return [
        (element.text or "", float(element.get("x")), float(element.get("y")))
        for element in ET.fromstring(svg).iter(f"{SVG}text")
    ]


def _filled_paths(svg: bytes, colour: str) -> list[str]:
    """The ``d`` of every path filled with ``colour``."""
    return [
        element.get("d", "")
        for element in ET.fromstring(svg).iter(f"{SVG}path")
        if f"fill: {colour}" in element.get("style", "")
    ]


def _bars(
    labels: list[str], whole: list[int], part: list[int], title: str = "People per system"
) -> bytes:
    notes = [f"{p} of {w}" for p, w in zip(part, whole, strict=True)]
    series = [("people", WHOLE, whole), ("with a failure", PART, part)]
    return charts.horizontal_bars(title, labels, series, notes)


def test_warm_up_draws_nothing_and_leaves_matplotlib_settings_alone() -> None:
    import matplotlib

    before = dict(matplotlib.rcParams)
    assert charts.warm_up() is None
    assert dict(matplotlib.rcParams) == before


def test_horizontal_bars_label_rows_top_down_with_notes_beside_their_bars() -> None:
    svg = _bars(["Linux", "macOS", "Windows"], [30, 20, 10], [3, 2, 1])
    texts = {text: (x, y) for text, x, y in _texts(svg)}
    rows = [texts[label] for label in ("Linux", "macOS", "Windows")]
    notes = [texts[note] for note in ("3 of 30", "2 of 20", "1 of 10")]
    assert [y for _, y in rows] == sorted(y for _, y in rows)  # first row on top
    # Same rows (labels sit on the baseline of a centred "lp", notes are centred as such).
    assert [y for _, y in notes] == pytest.approx([y for _, y in rows], abs=2)
    assert all(x < note_x for (x, _), (note_x, _) in zip(rows, notes, strict=True))
    assert {"People per system", "people", "with a failure"} <= texts.keys()


def test_horizontal_bars_draw_each_series_as_one_path_of_one_box_per_row() -> None:
    svg = _bars(["a", "b", "c"], [30, 20, 10], [3, 2, 1])
    for colour in (WHOLE, PART):
        # One path in the plot plus one in the legend; the plot's has a box per row.
        boxes = sorted(path.count("z") for path in _filled_paths(svg, colour))
        assert boxes == [1, 3], colour
    longest = max(_filled_paths(svg, WHOLE), key=lambda d: d.count("z"))
    widths = [_box_width(box) for box in longest.split("z")[:-1]]
    assert widths[0] == pytest.approx(3 * widths[2]) and widths[1] == pytest.approx(2 * widths[2])


def _box_width(box: str) -> float:
    xs = [float(x) for x in re.findall(r"[ML] ([-\d.]+) ", box)]
    return max(xs) - min(xs)


def test_horizontal_bars_show_the_top_rows_only() -> None:
    labels = [f"row-{i:02}" for i in range(charts.TOP_N + 5)]
    values = list(range(len(labels), 0, -1))
    texts = [text for text, _, _ in _texts(_bars(labels, values, values))]
    assert [text for text in texts if text.startswith("row-")] == labels[: charts.TOP_N]


@pytest.mark.parametrize(
    "hostile",
    ["$x^2$", r"\frac{1}{2}", "a\x00b", "\u202eevil", "<b>&amp;</b>", "🐍 snake"],
)
def test_text_from_submissions_is_written_as_is_once_cleaned(hostile: str) -> None:
    svg = _bars([hostile], [2], [1])
    texts = [text for text, _, _ in _texts(svg)]
    assert charts.clean_label(hostile) in texts  # not mathtext, not markup
    assert all("\x00" not in text and "\u202e" not in text for text in texts)


def test_the_same_data_gives_the_same_bytes() -> None:
    first = _bars(["x", "y"], [5, 4], [1, 0])
    assert _bars(["x", "y"], [5, 4], [1, 0]) == first
    assert b"<dc:date>" not in first


def test_weekly_bars_label_every_few_weeks_and_draw_one_path_per_series() -> None:
    weeks = [f"2026-W{week:02}" for week in range(1, 21)]
    svg = charts.weekly_bars("Per week", weeks, list(range(20, 40)), list(range(20)))
    texts = [text for text, _, _ in _texts(svg)]
    assert [text for text in texts if text.startswith("2026-")] == weeks[::4]
    assert sorted(path.count("z") for path in _filled_paths(svg, WHOLE)) == [1, 20]


def test_heat_map_writes_every_rate_and_leaves_missing_cells_blank() -> None:
    svg = charts.heat_map("Rates", ["a", "b"], ["Linux", "Windows"], [[0.25, None], [0.7, 1.0]])
    texts = [text for text, _, _ in _texts(svg)]
    legend = [label for _, label in charts.heat_legend()]
    assert [t for t in texts if t.endswith("%") or t == "–"] == ["25%", "–", "70%", "100%", *legend]
    assert {"a", "b", "Linux", "Windows", "Rates"} <= set(texts)
    fills = [e.get("style", "") for e in ET.fromstring(svg).iter(f"{SVG}path")]
    for rate in (0.25, 0.7, 1.0):
        assert any(charts.HEAT_COLOURS[charts.heat_step(rate)] in fill for fill in fills)


@pytest.mark.parametrize(
    ("rate", "step"),
    [(0.0, 0), (0.002, 1), (0.01, 1), (0.0101, 2), (0.05, 2), (0.08, 3), (0.116, 4), (0.3, 5),
     (0.41, 6), (1.0, 6)],
)  # fmt: skip
def test_the_heat_scale_tells_small_rates_apart(rate: float, step: int) -> None:
    assert charts.heat_step(rate) == step
    assert len(set(charts.HEAT_COLOURS)) == len(charts.heat_legend()) == 7


def test_part_of_whole_bars_note_each_row_and_state_five_rows_in_the_alt_text() -> None:
    labels = [f"pkg-{i}" for i in range(7)]
    whole = charts.BarSeries("people", tuple(range(20, 27)))
    part = charts.BarSeries("with a failure", tuple(range(7)))
    rates = [p / w for p, w in zip(part.values, whole.values, strict=True)]
    bars = charts.part_of_whole("x", "People per package", labels, whole, part, rates, "people")

    assert bars.svg() == _bars(labels, list(whole.values), list(part.values), "People per package")
    assert bars.alt.startswith("Bar chart of people: pkg-0: 0 with a failure, 20 people (failure")
    assert "pkg-4" in bars.alt and "pkg-5" not in bars.alt
    assert bars.alt.endswith("; and 2 more, listed in the table.")
