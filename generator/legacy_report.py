"""What one ``import-legacy`` did, as the command prints it: the figures, and the odd rows
counted by kind, each kind worded for the operator (docs/deploy.md lists them)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from installdata.record import EARLIEST_RECEIVED_AT, LATEST_RECEIVED_AT

# The kinds of odd rows the report counts, worded for the printed summary.
ODD_EMPTY_ATTEMPT = "attempts without install rows (imported with system info only)"
ODD_NO_USER_ROW = "attempts whose user has no user_system_info row"
ODD_NO_TIME = "attempts without any readable time (not imported)"
ODD_BAD_ID = "attempts whose id is not a whole number (not imported)"
ODD_OUT_OF_ORDER = "attempts timed before an earlier attempt of the same user"
ODD_MISSING_ATTEMPT = "install rows pointing at a missing attempt (not imported)"
ODD_MISSING_USER = "install rows pointing at a missing user"
ODD_NO_NAME = "install rows without a package name (not imported)"
ODD_BAD_TIME = "unparseable times (ignored)"
ODD_NOT_UTF8 = "texts that are not UTF-8 (imported with U+FFFD for what is not)"
ODD_TIME_OUT_OF_RANGE = (
    f"times outside the years {EARLIEST_RECEIVED_AT.year} to {LATEST_RECEIVED_AT.year} (ignored)"
)


@dataclass
class ImportReport:
    """What one import did: the figures the command prints."""

    attempts_read: int = 0
    written: int = 0
    already_imported: int = 0
    odd: Counter[str] = field(default_factory=Counter)
    not_imported: list[Any] = field(default_factory=list)  # attempt ids, for the operator

    def lines(self) -> list[str]:
        lines = [
            f"import-legacy: {_count(self.attempts_read, 'attempt')} read, "
            f"{_count(self.written, 'file')} written, "
            f"{self.already_imported} skipped as already imported, "
            f"{_count(sum(self.odd.values()), 'odd row')}"
        ]
        lines += [f"  {count} {kind}" for kind, count in sorted(self.odd.items())]
        if self.not_imported:
            shown = ", ".join(_shown(attempt) for attempt in self.not_imported[:20])
            more = len(self.not_imported) - 20
            lines.append(
                f"  not imported: attempts.id {shown}{f' and {more} more' if more > 0 else ''}"
            )
        return lines


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def _shown(attempt_id: Any) -> str:
    """An id as the report prints it: a whole number plainly, anything else quoted and
    escaped (it may hold a line break or a terminal's control codes)."""
    return str(attempt_id) if isinstance(attempt_id, int) else repr(attempt_id)
