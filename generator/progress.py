"""Progress bars for the long steps of a build: shown on a terminal, nothing otherwise.

A thin wrapper so that callers need no ``if`` around every update: a disabled ``Progress``
does nothing, and tqdm is imported only when a bar is shown. ``advance`` may be called from
another thread (a process pool's result callbacks); tqdm serialises its own output.
"""

from __future__ import annotations

from typing import Any


class Progress:
    """A bar counting ``unit``s towards ``total`` (or just counting, when the total is unknown)."""

    def __init__(self, enabled: bool, *, desc: str, unit: str, total: int | None = None) -> None:
        self.done = 0
        self._bar: Any = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit=unit, leave=False)

    def advance(self, count: int) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(count)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
