"""Which package fails on which system in one workshop: the small table of a workshop page.

An instructor preparing the Windows corner of the room wants "make: 5 of 6 on Windows, 0 of
4 on macOS", not only "make: 5 failing". Counted on latest attempts, as the rest of the page.
"""

from __future__ import annotations

import itertools
from typing import TypedDict

import numpy as np

from generator.coding import combined
from generator.facts import Facts, View


class SystemCount(TypedDict):
    system: str
    failing_participants: int
    tested_participants: int


def _counts(keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """How often each of ``queries`` occurs in ``keys`` (sorting, not np.unique's hashing,
    which is far slower on these int64 keys)."""
    keys = np.sort(keys)
    return np.searchsorted(keys, queries, side="right") - np.searchsorted(keys, queries)


def failing_by_system(
    facts: Facts, view: View, packages: dict[int, list[str]], systems: dict[int, list[str]]
) -> dict[int, list[list[SystemCount]]]:
    """Per workshop code, per package of ``packages`` (its names, in the page's order): a
    ``SystemCount`` per system of ``systems`` (its labels, in the page's order), so the cells
    line up under the columns of the workshop's systems."""
    n_packages, n_systems = len(facts.packages), len(facts.dims["system"])
    package_codes = {label: code for code, label in enumerate(facts.packages.labels)}
    system_codes = {label: code for code, label in enumerate(facts.dims["system"].labels)}
    # A row per (workshop, package) of the pages, and per row one cell per workshop system.
    row_workshop = np.array([c for c, names in packages.items() for _ in names], np.int64)
    row_package = np.array(
        [package_codes[name] for names in packages.values() for name in names], np.int64
    )
    widths = {code: len(systems.get(code, [])) for code in packages}
    row_width = np.array([widths[c] for c in row_workshop.tolist()], np.int64)
    cell_row = np.repeat(np.arange(len(row_workshop)), row_width)
    column = np.arange(len(cell_row)) - np.repeat(np.cumsum(row_width) - row_width, row_width)
    first_column = {code: 0 for code in packages}
    flat_systems: list[str] = []
    for code in packages:
        first_column[code] = len(flat_systems)
        flat_systems += systems.get(code, [])
    starts = np.array([first_column[c] for c in row_workshop.tolist()], np.int64)
    labels = np.asarray(flat_systems, dtype=object)[starts[cell_row] + column]
    system = np.array([system_codes[label] for label in flat_systems], np.int64)[
        starts[cell_row] + column
    ]
    pair = combined(row_workshop, row_package, n_packages)
    cell = combined(pair[cell_row], system, n_systems)

    def keys(subs: np.ndarray, package: np.ndarray) -> np.ndarray:
        pairs = combined(facts.workshop.codes[subs], package, n_packages)
        shown = np.isin(pairs, pair)  # only the pages' rows: far fewer than all entries
        return combined(pairs[shown], facts.dims["system"].codes[subs[shown]], n_systems)

    tested, failed = view.entry_latest, view.failure_latest
    testing = _counts(keys(facts.sub[tested], facts.package[tested]), cell).tolist()
    failing = _counts(keys(facts.failure_sub[failed], facts.failure_package[failed]), cell)
    cells = zip(labels.tolist(), failing.tolist(), testing, strict=True)
    result: dict[int, list[list[SystemCount]]] = {}
    for code, width in zip(row_workshop.tolist(), row_width.tolist(), strict=True):
        result.setdefault(code, []).append(
            [
                SystemCount(system=label, failing_participants=fails, tested_participants=tests)
                for label, fails, tests in itertools.islice(cells, width)
            ]
        )
    return result
