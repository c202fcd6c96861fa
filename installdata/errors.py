"""The one exception type that command-line entry points turn into a one-line message.

Anything raised as ``UserError`` is the user's to fix (a bad config, a missing file) and is
printed as ``error: ...`` with exit status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


class UserError(Exception):
    """A problem the person running the command can fix, stated in one line."""


def run_cli(command: Callable[[], int]) -> int:
    """Run a command-line action, turning ``UserError`` into ``error: ...`` on stderr."""
    try:
        return command()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
