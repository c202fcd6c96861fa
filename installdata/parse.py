"""Parsing one submission file (docs/file-format.md): its bytes -> a row and package entries.

There are two ways through a file, a fast one for files that follow the format exactly and a
careful one that names what is wrong with the others (see ``parse_file``). Both are lenient
where the meaning is clear (absent lists are empty, a missing ``received_at`` is the file's
mtime, a missing ``submission_id`` is the file's name, a package listed twice counts once)
and strict otherwise: a file that is not a JSON object with fields of the right types is
skipped as a whole and reported, never guessed at.

This runs in the reader processes (installdata/read.py): it imports neither numpy nor
pandas.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from operator import attrgetter
from pathlib import Path
from typing import Any

import msgspec
import orjson

from installdata.folder import UnusableFile
from installdata.record import (
    EARLIEST_RECEIVED_AT,
    LATEST_RECEIVED_AT,
    SYSTEM_INFO_FIELDS,
    is_name,
)

SYSTEM_FIELDS = (
    "system",
    "distribution_name",
    "distribution_version",
    "machine",
    "python_version",
    "workshop_id",
    "email_id",
)
"""The ``user_system_info`` values the report uses; the others are type-checked only."""

CODED_SUBMISSION_COLUMNS = ("user_id", *SYSTEM_FIELDS)

ROW = (
    "path",
    "submission_id",
    "received_ns",
    "n_successful",
    "n_failed",
    *CODED_SUBMISSION_COLUMNS,
)
"""The scalar fields of one parsed file, in the order ``parse_file`` returns them."""

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def _optional_str(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise UnusableFile(f"{where} is not a string")


def _parse_time(value: Any, mtime_ns: int) -> int:
    """``received_at`` as nanoseconds since the epoch (UTC); the file's mtime if absent."""
    if value is None:
        return mtime_ns
    if not isinstance(value, str):
        raise UnusableFile("received_at is not a string")
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise UnusableFile(f"received_at is not an ISO 8601 time: '{value[:40]}'") from None
    if moment.tzinfo is None:  # no zone written: the file-drop format's times are UTC
        moment = moment.replace(tzinfo=timezone.utc)
    if not EARLIEST_RECEIVED_AT <= moment <= LATEST_RECEIVED_AT:
        raise UnusableFile(f"received_at is out of range: '{value[:40]}'")
    return (moment - _EPOCH) // _MICROSECOND * 1000


_TEXT_TYPES = {str, type(None)}


def _install_list(data: dict[str, Any], key: str) -> list[Any]:
    raw = data.get(key)
    if raw is None:
        return []
    if type(raw) is not list:
        raise UnusableFile(f"{key} is not a list")
    return raw


def _problem(entries: list[Any], key: str) -> str | None:
    """Why the first bad entry of one install list is unusable, or None if all are fine."""
    for number, entry in enumerate(entries):
        if type(entry) is not dict:
            return f"{key}[{number}] is not an object"
        name = entry.get("name")
        if type(name) is not str or not is_name(name):
            return f"{key}[{number}].name is not a non-empty string"
        for field_name in ("version", "error_description"):
            if type(entry.get(field_name)) not in _TEXT_TYPES:
                return f"{key}[{number}].{field_name} is not a string"
    return None


class Entry(msgspec.Struct, frozen=True):
    """One package entry. Frozen, so hashable: a chunk of files codes whole entries."""

    name: str
    version: str | None = None
    error_description: str | None = None


Parsed = tuple[tuple[Any, ...], list[Entry]]
"""One file's ``ROW`` values and its package entries, successful ones first."""


# The user_system_info values the reader checks: each text or null.
_Info = msgspec.defstruct("_Info", [(name, str | None, None) for name in SYSTEM_INFO_FIELDS])


class _File(msgspec.Struct):
    """The fields of the file-drop format that the report reads; others are ignored."""

    submission_id: str | None = None
    user_id: str | None = None
    received_at: str | None = None
    # _Info is made by defstruct from SYSTEM_INFO_FIELDS; mypy cannot use such a class as a type.
    user_system_info: _Info | None = None  # type: ignore[valid-type]
    successful_installs: list[Entry] | None = None
    failed_installs: list[Entry] | None = None


_DECODER = msgspec.json.Decoder(_File)
_SYSTEM_VALUES = attrgetter(*SYSTEM_FIELDS)
_NO_SYSTEM = (None,) * len(SYSTEM_FIELDS)
_NAME = attrgetter("name")


def parse_file(raw: bytes, path: str, mtime_ns: int) -> Parsed:
    """One file's bytes (read from ``path``, last modified at ``mtime_ns``) -> its row and
    entries; ``UnusableFile`` if unusable. Reasons quote the file raw: print them ``shown``.

    Nearly every file follows the format exactly, and msgspec decodes and type-checks such a
    file in C, at half the cost of orjson plus checks in Python. Whatever msgspec refuses
    takes the careful way, ``_parse_checked``: the same rules, written out, naming the problem
    (a test holds the two to the same results on generated files). One difference is on
    purpose: a number too big for a float, in a field the report does not read, no longer
    makes orjson refuse the whole file.
    """
    try:
        if not raw.isascii():
            raw.decode()  # msgspec does not check the text of the fields it skips
        file = _DECODER.decode(raw)
    except (ValueError, RecursionError):  # msgspec's errors, bad UTF-8, deep nesting
        return _parse_checked(raw, path, mtime_ns)
    received_ns = _parse_time(file.received_at, mtime_ns)
    successful = file.successful_installs or []
    listed = successful + (file.failed_installs or [])
    names = list(map(str.strip, map(_NAME, listed)))
    if not all(names):  # a stripped name is "" exactly when it fails is_name (cheaper here)
        return _parse_checked(raw, path, mtime_ns)  # to name the entry without a name
    info: msgspec.Struct | None = file.user_system_info
    fields = (file.submission_id, file.user_id, received_ns)
    system = _NO_SYSTEM if info is None else _SYSTEM_VALUES(info)
    return _row(path, fields, system, names, listed, len(successful))


def _row(
    path: str,
    fields: tuple[str | None, str | None, int],
    system: tuple[str | None, ...],
    names: list[str],
    listed: list[Entry],
    n_successful: int,
) -> Parsed:
    """Both ways' last step: defaults, repeated packages, the ``ROW`` values."""
    submission_id, user_id, received_ns = fields
    if len(set(names)) < len(names):
        listed, n_successful = _drop_repeats(names, listed, n_successful)
    row = (
        path,
        submission_id or Path(path).stem,
        received_ns,
        n_successful,
        len(listed) - n_successful,
        user_id or None,
        *system,
    )
    return row, listed


def _parse_checked(raw: bytes, path: str, mtime_ns: int) -> Parsed:
    """``parse_file`` for any bytes: orjson, then every rule in Python; ``UnusableFile`` why."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UnusableFile(f"not valid UTF-8 JSON ({str(exc).split(':')[0]})") from None
    if type(data) is not dict:
        raise UnusableFile(f"not a JSON object (top level is {type(data).__name__})")
    info = data.get("user_system_info")
    if info is None:
        info = {}
    elif type(info) is not dict:
        raise UnusableFile("user_system_info is not an object")
    values = list(map(info.get, SYSTEM_INFO_FIELDS))
    if not set(map(type, values)) <= _TEXT_TYPES:
        field_name = next(
            f for f, v in zip(SYSTEM_INFO_FIELDS, values, strict=True) if type(v) not in _TEXT_TYPES
        )
        raise UnusableFile(f"user_system_info.{field_name} is not a string")
    submission_id = _optional_str(data.get("submission_id"), "submission_id")
    user_id = _optional_str(data.get("user_id"), "user_id")
    received_ns = _parse_time(data.get("received_at"), mtime_ns)
    successful = _install_list(data, "successful_installs")
    failed = _install_list(data, "failed_installs")
    problem = _problem(successful, "successful_installs") or _problem(failed, "failed_installs")
    if problem:
        raise UnusableFile(problem)
    listed = [
        Entry(entry["name"], entry.get("version"), entry.get("error_description"))
        for entry in successful + failed
    ]
    names = [entry.name.strip() for entry in listed]
    fields = (submission_id, user_id, received_ns)
    system = tuple(map(info.get, SYSTEM_FIELDS))
    return _row(path, fields, system, names, listed, len(successful))


def _drop_repeats(
    names: list[str], listed: list[Entry], n_successful: int
) -> tuple[list[Entry], int]:
    """A package listed more than once counts once: as failed if any of its listings failed."""
    keep: dict[str, int] = {}  # name -> index of the listing that stands for it
    for index, name in enumerate(names):
        if name not in keep or (index >= n_successful > keep[name]):
            keep[name] = index
    kept = sorted(keep.values())
    return [listed[index] for index in kept], sum(1 for index in kept if index < n_successful)
