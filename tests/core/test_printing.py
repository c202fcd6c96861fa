"""``shown``: any name as one line of printable ASCII that says which name it was."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from installdata.printing import shown


@pytest.mark.parametrize(
    ("name", "printed"),
    [
        ("2026-11-22/20261122T101502123456Z-3f9c2a1b7d5e4c60.json", None),  # unchanged
        ("two\nlines.json", "two\\nlines.json"),
        ("tab\tand\rreturn", "tab\\tand\\rreturn"),
        ("\x1b[2Jclear.json", "\\x1b[2Jclear.json"),
        (os.fsdecode(b"not-utf8-\xff.json"), "not-utf8-\\xff.json"),
        ("caf\u00e9 \u202eevil", "caf\\u00e9 \\u202eevil"),  # bidi override: not shown as is
        ("emoji-\U0001f600", "emoji-\\U0001f600"),
        ("back\\slash", "back\\\\slash"),
        (Path("a/b.json"), "a/b.json"),
    ],
)
def test_names_are_shown_escaped(name: str | Path, printed: str | None) -> None:
    assert shown(name) == (printed if printed is not None else name)


def read_back(text: str) -> str:
    """``shown``'s inverse: every escape back to the character (or byte) it stands for."""

    def one(match: re.Match[str]) -> str:
        escape = match.group()
        if escape[1] == "x" and int(escape[2:], 16) >= 0x80:  # a byte that is not UTF-8
            return os.fsdecode(bytes([int(escape[2:], 16)]))
        return escape.encode().decode("unicode_escape")

    return re.sub(r"\\(x..|u....|U........|.)", one, text)


@given(st.binary(max_size=20))
def test_any_name_is_one_printable_ascii_line_that_reads_back(raw: bytes) -> None:
    name = os.fsdecode(raw)
    text = shown(name)
    assert text.isascii() and text.isprintable()
    assert os.fsencode(read_back(text)) == raw  # unambiguous: no two names look the same


@given(st.text(max_size=20))
def test_any_text_reads_back(text: str) -> None:
    assert read_back(shown(text)) == text
