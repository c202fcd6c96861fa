"""Read the submission files (CONTRACT 5) into compact columns, on every core.

The folder may hold a million files, so reading is built for throughput: msgspec decodes
and type-checks (orjson and Python checks only for files it refuses), a process pool spreads
chunks of paths over every core, and each worker hands back compact columns (small lists of
distinct strings plus C integer codes) instead of per-file objects.
``installdata/load.py`` stitches the chunks into pandas tables.

This module imports neither numpy nor pandas, on purpose: the build starts the readers
first, as lean forked processes, and imports the rest of the pipeline while they work.

Readers are lenient where the meaning is clear (absent lists are empty, a missing
``received_at`` is the file's mtime, ...) and strict otherwise: a file that is not a JSON
object with fields of the right types is skipped as a whole and reported, never guessed at.
Nothing here ever writes to the submissions folder.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from datetime import datetime, timedelta, timezone
from functools import partial
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any

import msgspec
import orjson

from installdata.parallel import Workers
from installdata.progress import Progress
from installdata.record import SYSTEM_INFO_FIELDS

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
CODED_RESULT_COLUMNS = ("name", "version", "error")

CHUNK_SIZE = 500
"""Paths per worker task: big enough to amortise pickling, small enough to balance cores."""

IN_PROCESS_BELOW = 3000
"""Below this many files a process pool costs more than it saves."""

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
# Times are held as int64 nanoseconds (pandas' datetime64[ns]): about 1677 to 2262.
_FIRST_TIME = datetime(1678, 1, 1, tzinfo=timezone.utc)
_LAST_TIME = datetime(2261, 12, 31, tzinfo=timezone.utc)


class UnusableFile(ValueError):
    """A file is unusable; the message says why, in words for the build summary."""


# --- finding files --------------------------------------------------------------------------


def _submission_files(root: Path) -> Iterator[str]:
    """Every ``*.json`` below ``root`` (dot-folders and dot-files skipped), in sorted order.

    Each folder's entries are sorted on their own, a subfolder by its name plus ``/``: that
    walks the tree in exactly the order of sorting all the paths at once, so files can be
    handed to the readers while the rest of the tree is still being listed.
    """

    def walk(folder: str) -> Iterator[str]:
        with os.scandir(folder) as scan:
            entries = [
                (f"{entry.name}/" if entry.is_dir(follow_symlinks=False) else entry.name, entry)
                for entry in scan
                if not entry.name.startswith(".")
            ]
        for key, entry in sorted(entries, key=itemgetter(0)):
            if key.endswith("/"):
                yield from walk(entry.path)
            elif key.endswith(".json") and entry.is_file():
                yield entry.path

    return walk(os.fspath(root))


def find_submission_files(root: Path) -> list[Path]:
    """Every ``*.json`` below ``root``, skipping dot-folders and dot-files, sorted."""
    return [Path(path) for path in _submission_files(root)]


# --- parsing one file (runs in worker processes) --------------------------------------------


def _optional_str(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise UnusableFile(f"{where} is not a string")


def _parse_time(value: Any, path: str) -> int:
    """``received_at`` as nanoseconds since the epoch (UTC); the file's mtime if absent."""
    if value is None:
        return os.stat(path).st_mtime_ns
    if not isinstance(value, str):
        raise UnusableFile("received_at is not a string")
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise UnusableFile(f"received_at is not an ISO 8601 time: {value[:40]!r}") from None
    if moment.tzinfo is None:  # no zone written: the file-drop format's times are UTC
        moment = moment.replace(tzinfo=timezone.utc)
    if not _FIRST_TIME <= moment <= _LAST_TIME:
        raise UnusableFile(f"received_at is out of range: {value[:40]!r}")
    return (moment - _EPOCH) // _MICROSECOND * 1000


_TEXT_TYPES = {str, type(None)}

_ROW = (
    "path",
    "submission_id",
    "received_ns",
    "n_successful",
    "n_failed",
    *CODED_SUBMISSION_COLUMNS,
)
"""The scalar fields of one parsed file, in the order ``_parse`` returns them."""


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
        if type(name) is not str or not name.strip():
            return f"{key}[{number}].name is not a non-empty string"
        for field_name in ("version", "error_description"):
            if type(entry.get(field_name)) not in _TEXT_TYPES:
                return f"{key}[{number}].{field_name} is not a string"
    return None


class _Entry(msgspec.Struct, frozen=True):
    """One package entry. Frozen, so hashable: a chunk codes whole entries (see _read_chunk)."""

    name: str
    version: str | None = None
    error_description: str | None = None


# The user_system_info values the reader checks: each text or null.
_Info = msgspec.defstruct("_Info", [(name, str | None, None) for name in SYSTEM_INFO_FIELDS])


class _File(msgspec.Struct):
    """The fields of the file-drop format that the report reads; others are ignored."""

    submission_id: str | None = None
    user_id: str | None = None
    received_at: str | None = None
    user_system_info: _Info | None = None
    successful_installs: list[_Entry] | None = None
    failed_installs: list[_Entry] | None = None


_DECODER = msgspec.json.Decoder(_File)
_SYSTEM_VALUES = attrgetter(*SYSTEM_FIELDS)
_NO_SYSTEM = (None,) * len(SYSTEM_FIELDS)
_NAME, _VERSION, _ERROR = attrgetter("name"), attrgetter("version"), attrgetter("error_description")


def _parse(raw: bytes, path: str) -> tuple[tuple[Any, ...], list[_Entry]]:
    """One file -> its ``_ROW`` values and its package entries (successful ones first).

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
        return _parse_checked(raw, path)
    received_ns = _parse_time(file.received_at, path)
    successful = file.successful_installs or []
    listed = successful + (file.failed_installs or [])
    names = list(map(str.strip, map(_NAME, listed)))
    if not all(names):
        return _parse_checked(raw, path)  # to name the entry without a name
    info = file.user_system_info
    fields = (file.submission_id, file.user_id, received_ns)
    system = _NO_SYSTEM if info is None else _SYSTEM_VALUES(info)
    return _row(path, fields, system, names, listed, len(successful))


def _row(
    path: str,
    fields: tuple[str | None, str | None, int],
    system: tuple[str | None, ...],
    names: list[str],
    listed: list[_Entry],
    n_successful: int,
) -> tuple[tuple[Any, ...], list[_Entry]]:
    """Both ways' last step: defaults, repeated packages, the ``_ROW`` values."""
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


def _parse_checked(raw: bytes, path: str) -> tuple[tuple[Any, ...], list[_Entry]]:
    """``_parse`` for any bytes: orjson, then every rule in Python; ``UnusableFile`` says why."""
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
    received_ns = _parse_time(data.get("received_at"), path)
    successful = _install_list(data, "successful_installs")
    failed = _install_list(data, "failed_installs")
    problem = _problem(successful, "successful_installs") or _problem(failed, "failed_installs")
    if problem:
        raise UnusableFile(problem)
    listed = [
        _Entry(entry["name"], entry.get("version"), entry.get("error_description"))
        for entry in successful + failed
    ]
    names = [entry.name.strip() for entry in listed]
    fields = (submission_id, user_id, received_ns)
    system = tuple(map(info.get, SYSTEM_FIELDS))
    return _row(path, fields, system, names, listed, len(successful))


def _drop_repeats(
    names: list[str], listed: list[_Entry], n_successful: int
) -> tuple[list[_Entry], int]:
    """A package listed more than once counts once: as failed if any of its listings failed."""
    keep: dict[str, int] = {}  # name -> index of the listing that stands for it
    for index, name in enumerate(names):
        if name not in keep or (index >= n_successful > keep[name]):
            keep[name] = index
    kept = sorted(keep.values())
    return [listed[index] for index in kept], sum(1 for index in kept if index < n_successful)


# --- a chunk of files -> compact columns ------------------------------------------------------

Coded = tuple[list[Any], array]
"""A column as (its distinct values, C int codes: positions in that list)."""


def _code(values: Sequence[Any]) -> Coded:
    """Code a column with a dict: cheaper than a pandas factorize of a fresh object array."""
    index: dict[Any, int] = {}
    codes = array("i", [index.setdefault(value, len(index)) for value in values])
    return list(index), codes


def _read_file(path: str) -> bytes:
    """A file's bytes by plain system calls: half the time of a buffered ``open().read()``."""
    handle = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        parts = []
        while part := os.read(handle, 1 << 16):
            parts.append(part)
    finally:
        os.close(handle)
    return b"".join(parts)


def _read_chunk(paths: Sequence[str]) -> Chunk:
    """Parse a chunk of files; return column data small enough to pickle cheaply.

    Package entries are coded whole (name, version and error at once, one dict lookup per
    entry): a chunk of 500 files lists some 9,500 entries but only a few hundred distinct
    ones, which are then split into the three columns.
    """
    rows: list[tuple[Any, ...]] = []
    entries: list[_Entry] = []
    skipped: list[tuple[str, str]] = []
    for path in paths:
        try:
            row, listed = _parse(_read_file(path), path)
        except UnusableFile as exc:
            skipped.append((path, str(exc)))
            continue
        except OSError as exc:
            skipped.append((path, f"cannot read: {exc.strerror or exc}"))
            continue
        rows.append(row)
        entries += listed
    columns = dict.fromkeys(_ROW, ())
    if rows:
        columns.update(zip(_ROW, zip(*rows, strict=True), strict=True))
    distinct, codes = _code(entries)
    return {
        "submission_id": list(columns["submission_id"]),
        "received_ns": array("q", columns["received_ns"]),
        "n_successful": array("i", columns["n_successful"]),
        "n_failed": array("i", columns["n_failed"]),
        "coded_subs": {name: _code(columns[name]) for name in CODED_SUBMISSION_COLUMNS},
        "coded_results": {
            "name": ([entry.name.strip() for entry in distinct], codes),
            "version": (list(map(_VERSION, distinct)), codes),
            "error": (list(map(_ERROR, distinct)), codes),
        },
        "skipped": skipped,
    }


Chunk = dict[str, Any]
"""What ``_read_chunk`` returns for its files (see the keys at its end), plus ``path``, the
files it holds rows for, which ``Reading.chunks`` adds from the listing."""


# --- reading a whole folder -----------------------------------------------------------------


def _chunks(paths: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(paths), size):
        yield paths[start : start + size]


class Reading:
    """Every submission file below a folder (which must exist), being read.

    For a big folder, worker processes (one per core) are forked as soon as the listing has
    found ``IN_PROCESS_BELOW`` files, and read chunks of files while the rest is still being
    listed and while the caller does something else; ``chunks`` hands them over in order. A
    small folder is read in this process by ``chunks``: a pool would cost more than it saves. Use it
    as a context manager, so that the workers are stopped whatever happens. ``workers``:
    processes to use (default: every core; 1 reads in-process); ``progress``: a bar on stderr.
    """

    def __init__(self, root: Path, workers: int | None = None, *, progress: bool = False) -> None:
        self._workers: Workers[list[str], Chunk] = Workers(
            _read_chunk, start_from=IN_PROCESS_BELOW, processes=workers
        )
        self._progress = Progress()
        self.paths: list[str] = []
        try:
            self._list_and_hand_out(root)
        except BaseException:  # Ctrl-C while listing: no worker may outlive the build
            self.__exit__()
            raise
        self.files_read = len(self.paths)
        # The bar starts now, after the workers are forked: tqdm runs a thread of its own.
        self._progress.show(progress, desc="reading", unit="file", total=self.files_read)

    def _list_and_hand_out(self, root: Path) -> None:
        handed_out = 0  # paths before this one are in a submitted chunk
        for path in _submission_files(root):
            self.paths.append(path)
            while len(self.paths) - handed_out >= CHUNK_SIZE and self._workers.started(
                len(self.paths)
            ):
                self._submit(self.paths[handed_out : handed_out + CHUNK_SIZE])
                handed_out += CHUNK_SIZE
        if self._workers.running and handed_out < len(self.paths):
            self._submit(self.paths[handed_out:])

    def _submit(self, paths: list[str]) -> None:
        future = self._workers.submit(paths)
        future.add_done_callback(partial(self._chunk_done, len(paths)))

    def _chunk_done(self, files: int, _: Future[Chunk]) -> None:
        self._progress.advance(files)  # runs on the pool's result thread

    def __enter__(self) -> Reading:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._workers.close()
        self._progress.close()

    def chunks(self) -> Iterator[Chunk]:
        """Every chunk, in path order, each as soon as it is read.

        A chunk's ``path`` (the files it holds rows for) is filled in here, from the listing:
        sending a million paths back from the workers would cost the memory of a second copy.
        """
        tasks = _chunks(self.paths, CHUNK_SIZE)
        self.paths = []  # the tables hold the paths from here on; a second list is not needed
        if not self._workers.running:
            for paths in tasks:
                yield _with_paths(_read_chunk(paths), paths)
                self._progress.advance(len(paths))
        else:
            for paths, chunk in zip(tasks, self._workers.results(), strict=True):
                yield _with_paths(chunk, paths)
            self._workers.close()
        self._progress.close()


def _with_paths(chunk: Chunk, paths: list[str]) -> Chunk:
    """``chunk`` with ``path``: ``paths`` without the files it skipped."""
    skipped = {path for path, _ in chunk["skipped"]}
    chunk["path"] = [path for path in paths if path not in skipped] if skipped else paths
    return chunk
