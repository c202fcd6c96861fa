"""Error messages with a chain of causes: grouped by the innermost cause, shown as a chain.

The Software Carpentry test script reports a failed check that failed because another did
as nested blocks, each cause indented two spaces deeper than the check it explains::

    check for command line shell (virtual-shell) failed:
      command line shell (virtual-shell) requires at least one of the following dependencies
      For instructions on installing an up-to-date version, see
      http://software-carpentry.org/setup/
      causes:
      check for Bourne Again Shell (bash) failed:
        could not find 'bash' executable for Bourne Again Shell (bash)
        ...

The outer lines are the same for every learner; what differs, and what a learner must fix, is
the innermost cause, so that block is what the message is grouped by. When several causes are
equally deep (each of the alternatives failed), the first one is taken: the script lists them
in a fixed order. docs/counting.md states the rule.
"""

from __future__ import annotations

import functools
import re
import textwrap
from typing import NamedTuple

_CHECK = re.compile(r"[ \t]*check for .+ failed:[ \t]*$")
CLUE = "causes:"
"""A text without it has no chain: the parsing is skipped."""


class _Check(NamedTuple):
    line: int  # where its "check for ... failed:" line is
    end: int  # one past its last line
    parent: int  # the enclosing check's place in the list, -1 for none
    depth: int


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _checks(lines: list[str]) -> list[_Check]:
    """Every check block, each with the check it is nested in."""
    checks: list[_Check] = []
    open_checks: list[int] = []  # places in ``checks`` of the blocks that enclose this line
    for number, line in enumerate(lines):
        if line.strip():
            while open_checks and _indent(line) <= _indent(lines[checks[open_checks[-1]].line]):
                place = open_checks.pop()
                checks[place] = checks[place]._replace(end=number)
        if _CHECK.match(line):
            parent = open_checks[-1] if open_checks else -1
            checks.append(_Check(number, len(lines), parent, len(open_checks)))
            open_checks.append(len(checks) - 1)
    return checks


@functools.lru_cache(maxsize=8192)
def _path(text: str) -> tuple[list[str], list[_Check]]:
    """The text's lines and its checks from the outermost to the innermost cause ([] when the
    text has no nested check). Cached: a build asks for a text's group and then its chain."""
    lines = text.splitlines()
    checks = _checks(lines)
    if not checks or max(check.depth for check in checks) == 0:
        return lines, []
    place = max(range(len(checks)), key=lambda at: (checks[at].depth, -at))
    path = []
    while place >= 0:
        path.append(checks[place])
        place = checks[place].parent
    return lines, path[::-1]


def innermost(text: str) -> str:
    """The innermost cause's block, dedented; the text itself when it has no chain."""
    if CLUE not in text:
        return text
    lines, path = _path(text)
    if not path:
        return text
    inner = path[-1]
    block = "\n".join(line for line in lines[inner.line : inner.end] if line.strip())
    return textwrap.dedent(block)


def chain(text: str) -> list[str]:
    """Each check from the outermost to the innermost cause, as one line: "check for X
    failed: <its first line>" ([] when the text has no chain)."""
    if CLUE not in text:
        return []
    lines, path = _path(text)
    steps = []
    for check in path:
        header = lines[check.line].strip()
        body = [line.strip() for line in lines[check.line + 1 : check.end] if line.strip()]
        first = body[0] if body and not _CHECK.match(body[0]) and body[0] != CLUE else ""
        steps.append(f"{header} {first}".strip())
    return steps
