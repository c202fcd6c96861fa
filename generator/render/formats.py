"""The site's file formats: deterministic JSON, CSV that spreadsheets cannot run, printable HTML.

The same data always gives the same bytes, and text from submissions stays text wherever
it is opened: in a browser, in a spreadsheet, in a JSON client.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_ASCII_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_CONTROL_C1_UTF8 = re.compile(b"\xc2[\x80-\x9f]")  # U+0080...U+009F, encoded


def json_bytes(value: Any) -> bytes:
    """Deterministic JSON: sorted keys, UTF-8 as is (no \\u escapes), trailing newline."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)


def csv_bytes(rows: Sequence[Mapping[str, object]]) -> bytes:
    """Rows as UTF-8 CSV; columns in first-seen order, so the same rows give the same bytes.

    Text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` first) gets a
    leading apostrophe, the usual defence against CSV injection; nested values become JSON.
    """
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if columns:
        writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.get(column)) for column in columns])
    return buffer.getvalue().encode("utf-8")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_START) else value
    return str(value)


def printable(html: str) -> bytes:
    """The finished page as UTF-8, control characters (NUL...) shown as U+FFFD, as browsers do.

    HTML forbids them, and a reader should see that something was there. Only data can hold
    them (the templates have none), so one pass over the finished page covers every printed
    value; a Jinja ``finalize`` hook did the same at the cost of a Python call per value.
    Pages almost never hold one, so the encoded page is checked first: deleting bytes and
    searching for a two-byte sequence are several times faster than a search for a character
    class in the text. In UTF-8 the bytes 0x00-0x1F and 0x7F are only ever those characters.
    """
    data = html.encode("utf-8")
    ascii_control = len(data.translate(None, _CONTROL_ASCII_BYTES)) != len(data)
    if not ascii_control and not _CONTROL_C1_UTF8.search(data):
        return data
    return _CONTROL.sub("\ufffd", html).encode("utf-8")
