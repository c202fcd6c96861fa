"""Printing text that came from outside (file names, reasons quoting a file) safely.

Anyone may drop a file into the submissions folder, under any name: one with a newline in it
would forge a line of a command's output, and one that is not UTF-8 (Python holds such bytes
as lone surrogates) makes printing it raise under a strict UTF-8 stdout. Everything that
prints such text passes it through ``shown`` first.
"""

from __future__ import annotations

import os

_NAMED = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_FIRST_ESCAPED_BYTE, _LAST_ESCAPED_BYTE = 0xDC80, 0xDCFF  # os.fsdecode's surrogateescape


def shown(text: str | os.PathLike[str]) -> str:
    """``text`` as one line of printable ASCII, with Python's backslash escapes.

    A backslash is doubled, so an escape never stands for two different names: a byte that
    is not UTF-8 is ``\\xff``, a control or other non-printable character (a newline is
    ``\\n``) and any non-ASCII character is its code point, ``\\u00e9``. ASCII needs no
    stdout encoding, so printing never fails whatever the locale.
    """
    text = os.fspath(text)
    if text.isascii() and text.isprintable() and "\\" not in text:
        return text  # nearly every name: nothing to escape
    return "".join(map(_escaped, text))


def _escaped(char: str) -> str:
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0x20 <= code < 0x7F:
        return char
    if _FIRST_ESCAPED_BYTE <= code <= _LAST_ESCAPED_BYTE:
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x80:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
