"""Which package fails on which system in one workshop: the small table of a workshop page.

An instructor preparing the Windows corner of the room wants "make: 5 of 6 on Windows, 0 of
4 on macOS", not only "make: 5 failing". Counted on latest attempts, as the rest of the page.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np

from generator.coding import combined
from generator.facts import Facts, View


class SystemCount(TypedDict):
    system: str
    failing_participants: int
    tested_participants: int


class _Counts:
    """Participants per (workshop, package, system) code, kept sparse: a site has thousands of
    workshops, and most never see most packages."""

    def __init__(self, facts: Facts, subs: np.ndarray, packages: np.ndarray) -> None:
        self.sizes = len(facts.packages), len(facts.dims["system"])
        self.systems = facts.dims["system"]
        keys = self._keys(facts.workshop.codes[subs], packages, self.systems.codes[subs])
        self.keys, self.counts = np.unique(keys, return_counts=True)

    def _keys(self, workshop: np.ndarray, package: np.ndarray, system: np.ndarray) -> np.ndarray:
        return combined(combined(workshop, package, self.sizes[0]), system, self.sizes[1])

    def look_up(self, workshop: np.ndarray, package: np.ndarray, system: np.ndarray) -> np.ndarray:
        queries = self._keys(workshop, package, system)
        if not len(self.keys):
            return np.zeros(len(queries), np.int64)
        at = np.minimum(np.searchsorted(self.keys, queries), len(self.keys) - 1)
        return np.where(self.keys[at] == queries, self.counts[at], 0)


def failing_by_system(
    facts: Facts, view: View, packages: dict[int, list[str]], systems: dict[int, list[str]]
) -> dict[int, list[list[SystemCount]]]:
    """Per workshop code, per package of ``packages`` (its names, in the page's order): a
    ``SystemCount`` per system of ``systems`` (its labels, in the page's order), so the cells
    line up under the columns of the workshop's systems."""
    tested, failed = view.entry_latest, view.failure_latest
    testing = _Counts(facts, facts.sub[tested], facts.package[tested])
    failing = _Counts(facts, facts.failure_sub[failed], facts.failure_package[failed])
    system_codes = {label: code for code, label in enumerate(facts.dims["system"].labels)}
    package_codes = {label: code for code, label in enumerate(facts.packages.labels)}
    cells = [
        (workshop, package_codes[name], system_codes[system])
        for workshop, names in packages.items()
        for name in names
        for system in systems.get(workshop, [])
    ]
    if not cells:
        return {}
    workshop, package, system = (
        np.array([cell[index] for cell in cells], dtype=np.int64) for index in range(3)
    )
    counts = iter(
        zip(
            failing.look_up(workshop, package, system).tolist(),
            testing.look_up(workshop, package, system).tolist(),
            strict=True,
        )
    )
    # ``cells`` went workshop by workshop, package by package, system by system: read the
    # counts back in that order.
    return {
        code: [
            [
                SystemCount(system=label, failing_participants=fails, tested_participants=tests)
                for label, (fails, tests) in zip(systems.get(code, []), counts, strict=False)
            ]
            for _ in names
        ]
        for code, names in packages.items()
    }
