"""The reader's two ways through a file give the same answer.

``parse.parse_file`` decodes files that follow the format with msgspec (fast, typed) and hands
anything else to ``parse._parse_checked`` (orjson plus every rule in Python, which names the
problem). Whatever the file holds, the two must agree: the same row and entries, or the same
reason to skip it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from installdata import parse
from installdata.listing import find_submission_files
from installdata.record import SYSTEM_INFO_FIELDS

ODD = st.one_of(
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
)
# Mostly what the format allows (text or null), sometimes not: most documents get through
# the type checks, so the rules after them are exercised too.
TEXT = st.one_of(st.none(), st.sampled_from(["", " ", "x"]), st.text(max_size=12), ODD)
NAME = st.one_of(st.sampled_from(["make", " make ", "git", "", "  ", "numpy"]), TEXT)
TIME = st.one_of(
    st.sampled_from(
        ["2026-11-01T10:00:00Z", "2026-11-01T10:00:00+02:00", "2026-11-01 10:00", "1500-01-01"]
    ),
    TEXT,
)
ENTRY = st.one_of(
    st.fixed_dictionaries(
        {"name": NAME}, optional={"version": TEXT, "error_description": TEXT, "other": TEXT}
    ),
    st.fixed_dictionaries({}, optional={"version": TEXT}),
    ODD,
)
INFO = st.one_of(
    st.fixed_dictionaries({}, optional={name: TEXT for name in (*SYSTEM_INFO_FIELDS, "other")}),
    st.none(),
    ODD,
)
ENTRIES = st.one_of(st.lists(ENTRY, max_size=5), st.none(), ODD)
DOCUMENT = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "submission_id": TEXT,
            "user_id": TEXT,
            "received_at": TIME,
            "user_system_info": INFO,
            "successful_installs": ENTRIES,
            "failed_installs": ENTRIES,
            "unknown": TEXT,
        },
    ),
    ODD,
)


def _outcome(way: Any, raw: bytes, path: str) -> tuple[str, Any]:
    try:
        return "read", way(raw, path, os.stat(path).st_mtime_ns)
    except parse.UnusableFile as exc:
        return "skipped", str(exc)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("files")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=DOCUMENT)
def test_the_fast_and_the_careful_way_agree_on_any_document(folder: Path, document: Any) -> None:
    path = folder / "one.json"
    raw = json.dumps(document).encode()
    path.write_bytes(raw)  # a missing received_at means the file's mtime
    assert _outcome(parse.parse_file, raw, str(path)) == _outcome(
        parse._parse_checked, raw, str(path)
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"{",
        b"[]",
        b'{"user_id": "\\ud800"}',  # a lone surrogate
        b'{"user_id": "\xff"}',  # not UTF-8
        b'{"unknown": "\xff"}',  # not UTF-8, in a field nobody reads
        b'{"unknown": "\xed\xa0\x80"}',  # an encoded surrogate
        b'{"user_id": NaN}',
        b"\xef\xbb\xbf{}",  # a byte-order mark
        b'{"user_id": "a", "user_id": 5}',  # repeated keys: the last one counts
        b'{"user_id": 5, "user_id": "a"}',
        b'{"x": ' + b"[" * 2000 + b"]" * 2000 + b"}",
        b'{"successful_installs": [{"name": "make"}, {"name": " make "}]}',
    ],
)
def test_the_fast_and_the_careful_way_agree_on_malformed_bytes(folder: Path, raw: bytes) -> None:
    path = folder / "malformed.json"
    path.write_bytes(raw)
    assert _outcome(parse.parse_file, raw, str(path)) == _outcome(
        parse._parse_checked, raw, str(path)
    )


def test_a_huge_number_in_a_field_nobody_reads_does_not_cost_the_file(folder: Path) -> None:
    """The one deliberate difference: orjson refuses 1e400 anywhere, msgspec skips it."""
    path = folder / "huge.json"
    raw = b'{"unknown": 1e400, "user_id": "u1"}'
    path.write_bytes(raw)
    row, _ = parse.parse_file(raw, str(path), 0)
    assert row[parse.ROW.index("user_id")] == "u1"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=DOCUMENT, at=st.integers(min_value=0), junk=st.binary(max_size=4))
def test_the_two_ways_agree_on_damaged_bytes(
    folder: Path, document: Any, at: int, junk: bytes
) -> None:
    """Any document with a few bytes overwritten: invalid UTF-8, broken syntax, odd escapes."""
    raw = json.dumps(document, ensure_ascii=False).encode()
    at %= len(raw) + 1
    raw = raw[:at] + junk + raw[at + len(junk) :]
    path = folder / "damaged.json"
    path.write_bytes(raw)
    fast, careful = (
        _outcome(parse.parse_file, raw, str(path)),
        _outcome(parse._parse_checked, raw, str(path)),
    )
    if careful[0] == "skipped" and "infinity" in careful[1]:
        return  # a number too big for a float: the deliberate difference above
    assert fast == careful


NAME_PART = st.text(alphabet="ab-._0", min_size=1, max_size=3).filter(
    lambda name: not name.startswith(".")
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=st.lists(st.lists(NAME_PART, min_size=1, max_size=3), min_size=1, max_size=12))
def test_files_are_found_in_sorted_path_order_folder_by_folder(
    tmp_path_factory: pytest.TempPathFactory, tree: list[list[str]]
) -> None:
    """Walking folder by folder (a folder sorted as its name plus "/") is a global sort."""
    root = tmp_path_factory.mktemp("tree")
    made = set()
    for parts in tree:
        folder = root.joinpath(*parts[:-1])
        target = folder / f"{parts[-1]}.json"
        if any(p.is_file() for p in [folder, *folder.parents] if p != root) or target.is_dir():
            continue  # a name already used the other way (file vs folder)
        folder.mkdir(parents=True, exist_ok=True)
        target.write_text("{}")
        made.add(str(target))
    assert [str(path) for path in find_submission_files(root)] == sorted(made)
