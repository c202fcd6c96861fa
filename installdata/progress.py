"""Progress for the long steps of a build: counted always, shown as a bar on a terminal.

A thin wrapper so that callers need no ``if`` around every update, and tqdm is imported only
when a bar is shown. Counting starts at once and the bar may start later (``show``): a bar
runs a thread of tqdm's, and the build forks its worker processes before any bar starts.
``advance`` may be called from another thread (a process pool's result callbacks); tqdm
serialises its own output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from tqdm import tqdm


class Progress:
    """Units of work done so far (``done``), and the bar that shows them, once started."""

    def __init__(self) -> None:
        self.done = 0
        self._bar: tqdm[NoReturn] | None = None

    def show(self, enabled: bool, *, desc: str, unit: str, total: int | None = None) -> None:
        """Start the bar, counting from what is done already; later calls change nothing."""
        if enabled and self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=self.done, desc=desc, unit=unit, leave=False)

    def advance(self, count: int) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(count)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
