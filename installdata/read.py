"""Read the submission files (docs/file-format.md) into compact columns, on every core.

The folder may hold a million files, so reading is built for throughput: the listing
(installdata/listing.py) hands chunks of paths to worker processes on every core while it is
still going, each worker reads its files the one safe way (installdata/folder.py: regular
files only, never through a link, at most ``max_file_bytes`` each), parses them
(installdata/parse.py) and hands back compact columns, a ``ChunkColumns`` (small lists of
distinct strings plus C integer codes), instead of per-file objects. ``installdata/load.py``
stitches the chunks into pandas tables.

This module imports neither numpy nor pandas, on purpose: the build starts the readers
first, as lean forked processes, and imports the rest of the pipeline while they work.
Nothing here ever writes to the submissions folder.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from functools import partial
from operator import attrgetter
from pathlib import Path
from typing import Any, TypedDict

from installdata.folder import MAX_FILE_BYTES, SubmissionFolder, UnusableFile
from installdata.listing import Listing
from installdata.parallel import Workers
from installdata.parse import CODED_SUBMISSION_COLUMNS, ROW, Entry, parse_file
from installdata.progress import Progress

CODED_RESULT_COLUMNS = ("name", "version", "error")

CHUNK_SIZE = 500
"""Paths per worker task: big enough to amortise pickling, small enough to balance cores."""

IN_PROCESS_BELOW = 3000
"""Below this many files a process pool costs more than it saves."""

Coded = tuple[list[Any], "array[int]"]
"""A column as (its distinct values, C int codes: positions in that list)."""


class ChunkColumns(TypedDict):
    """What a reader sends back for a chunk of files: a row per file it used, as columns.

    A text column travels as its distinct values and a C int code per row, a number column as
    a C array: neither costs a Python object per row to pickle, nor needs numpy to build.
    """

    submission_id: list[str]
    received_ns: array[int]  # nanoseconds since the epoch, UTC
    n_successful: array[int]
    n_failed: array[int]
    coded_subs: dict[str, Coded]  # each of CODED_SUBMISSION_COLUMNS
    coded_results: dict[str, Coded]  # each of CODED_RESULT_COLUMNS: a row per package entry
    skipped: list[tuple[str, str]]  # (path, why) of each file not used


class Chunk(ChunkColumns):
    """A chunk as ``Reading.chunks`` hands it over: its columns, and ``path``, the files it
    holds rows for, which come from the listing (the workers do not send them back)."""

    path: list[str]


# --- a chunk of files -> compact columns (runs in worker processes) ------------------------

_VERSION, _ERROR = attrgetter("version"), attrgetter("error_description")


def _code(values: Sequence[Any]) -> Coded:
    """Code a column with a dict: cheaper than a pandas factorize of a fresh object array."""
    index: dict[Any, int] = {}
    codes = array("i", [index.setdefault(value, len(index)) for value in values])
    return list(index), codes


def _read_chunk(root: str, max_file_bytes: int, paths: Sequence[str]) -> ChunkColumns:
    """Read and parse a chunk of files below ``root``; return columns cheap to pickle.

    Package entries are coded whole (name, version and error at once, one dict lookup per
    entry): a chunk of 500 files lists some 9,500 entries but only a few hundred distinct
    ones, which are then split into the three columns.
    """
    rows: list[tuple[Any, ...]] = []
    entries: list[Entry] = []
    skipped: list[tuple[str, str]] = []
    with SubmissionFolder(root, max_file_bytes) as folder:
        for path in paths:
            try:
                raw, mtime_ns = folder.read(path)
                row, listed = parse_file(raw, path, mtime_ns)
            except UnusableFile as exc:
                skipped.append((path, str(exc)))
                continue
            rows.append(row)
            entries += listed
    columns: dict[str, Sequence[Any]] = dict.fromkeys(ROW, ())
    if rows:
        columns.update(zip(ROW, zip(*rows, strict=True), strict=True))
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


# --- reading a whole folder -----------------------------------------------------------------


def _chunks(paths: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(paths), size):
        yield paths[start : start + size]


class Reading:
    """Every submission file below a folder (which must exist), being read.

    For a big folder, worker processes (one per core) are forked as soon as the listing has
    found ``IN_PROCESS_BELOW`` files, and read chunks of files while the rest is still being
    listed and while the caller does something else; ``chunks`` hands them over in order. A
    small folder is read in this process by ``chunks``: a pool would cost more than it saves.
    Use it as a context manager, so that the workers are stopped whatever happens.
    ``workers``: processes to use (default: every core; 1 reads in-process); ``progress``: a
    bar on stderr; ``max_file_bytes``: larger files are skipped unread.

    ``unlisted``: ``(path, why)`` of the entries the listing skipped (a folder it could not
    list, a link, a FIFO); ``files_read`` counts them with the files listed.
    """

    def __init__(
        self,
        root: Path,
        workers: int | None = None,
        *,
        progress: bool = False,
        max_file_bytes: int = MAX_FILE_BYTES,
    ) -> None:
        self._read_chunk = partial(_read_chunk, os.fspath(root), max_file_bytes)
        self._workers: Workers[list[str], ChunkColumns] = Workers(
            self._read_chunk, start_from=IN_PROCESS_BELOW, processes=workers
        )
        self._progress = Progress()
        self.paths: list[str] = []
        listing = Listing(root)
        try:
            self._list_and_hand_out(listing)
        except BaseException:  # Ctrl-C while listing: no worker may outlive the build
            self.__exit__()
            raise
        self.unlisted = listing.skipped
        self.files_read = len(self.paths) + len(self.unlisted)
        # The bar starts now, after the workers are forked: tqdm runs a thread of its own.
        self._progress.show(progress, desc="reading", unit="file", total=len(self.paths))

    def _list_and_hand_out(self, listing: Listing) -> None:
        handed_out = 0  # paths before this one are in a submitted chunk
        for path in listing:
            self.paths.append(path)
            listed = len(self.paths)
            while listed - handed_out >= CHUNK_SIZE and self._workers.started(listed):
                self._submit(self.paths[handed_out : handed_out + CHUNK_SIZE])
                handed_out += CHUNK_SIZE
        if self._workers.running and handed_out < len(self.paths):
            self._submit(self.paths[handed_out:])

    def _submit(self, paths: list[str]) -> None:
        future = self._workers.submit(paths)
        future.add_done_callback(partial(self._chunk_done, len(paths)))

    def _chunk_done(self, files: int, _: Future[ChunkColumns]) -> None:
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
                yield _with_paths(self._read_chunk(paths), paths)
                self._progress.advance(len(paths))
        else:
            for paths, chunk in zip(tasks, self._workers.results(), strict=True):
                yield _with_paths(chunk, paths)
            self._workers.close()
        self._progress.close()


def _with_paths(chunk: ChunkColumns, paths: list[str]) -> Chunk:
    """``chunk`` with ``path``: ``paths`` without the files it skipped."""
    skipped = {path for path, _ in chunk["skipped"]}
    return {**chunk, "path": [path for path in paths if path not in skipped] if skipped else paths}
