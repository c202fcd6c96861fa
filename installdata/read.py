"""Read the submission files (docs/file-format.md) into compact columns, on every core.

The folder may hold a million files, so reading is built for throughput: the listing
(installdata/listing.py) hands runs of paths (a folder's files, at most ``MAX_RUN`` of them) to
worker processes on every core while it is still going, each worker reads its files the one
safe way (installdata/folder.py: regular files only, never through a link, at most
``max_file_bytes`` each), parses them (installdata/parse.py) and hands back compact columns,
a ``ChunkColumns`` per chunk of files (small lists of distinct strings plus C integer codes),
instead of per-file objects, and keeps each run in the build cache (installdata/cache.py).
``installdata/load.py`` stitches the chunks into pandas tables.

This module imports neither numpy nor pandas, on purpose: the build starts the readers
first, as lean forked processes, and imports the rest of the pipeline while they work.
Nothing here ever writes to the submissions folder.
"""

from __future__ import annotations

import os
from array import array
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from itertools import chain
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, cast

from installdata.cache import ReadCache
from installdata.folder import MAX_FILE_BYTES, SubmissionFolder, UnusableFile
from installdata.listing import Listing
from installdata.parallel import Workers
from installdata.parse import CODED_SUBMISSION_COLUMNS, ROW, Entry, parse_file
from installdata.progress import Progress

if TYPE_CHECKING:  # pyarrow is imported only once the readers are forked
    from installdata.columnar import Kept

CODED_RESULT_COLUMNS = ("name", "version", "error")

CHUNK_SIZE = 500
"""Files a worker parses into one ``ChunkColumns``, and the least a worker task holds (whole
runs: a task of small day folders holds several): big enough to amortise pickling, small
enough to balance the cores."""

MAX_RUN = 5000
"""A folder's files in one run at most (the unit the cache keeps and a task reads whole): a
day folder, a few thousand files even at 3,000,000 submissions, stays one run, and a huge
flat folder is still read on every core."""

IN_PROCESS_BELOW = 3000
"""Below this many files a process pool costs more than it saves."""

MERGED_ROWS = 50_000
"""Rows of cached runs converted at once: one conversion for many small runs, but never a
second copy of a million rows' columns in memory (installdata/columnar.py ``merge``)."""

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


_Stat = tuple[str, "os.stat_result | None"]
"""A file's path and its stat (None if it vanished): what the cache keys a run by."""


def _read_chunk(folder: SubmissionFolder, paths: Sequence[str], stats: list[_Stat]) -> ChunkColumns:
    """Read and parse a chunk of files from ``folder``; return columns cheap to pickle, and
    add each file's stat to ``stats``.

    Package entries are coded whole (name, version and error at once, one dict lookup per
    entry): a chunk of 500 files lists some 9,500 entries but only a few hundred distinct
    ones, which are then split into the three columns.
    """
    rows: list[tuple[Any, ...]] = []
    entries: list[Entry] = []
    skipped: list[tuple[str, str]] = []
    for path in paths:
        try:
            raw, info = folder.read(path)
        except UnusableFile as exc:
            stats.append((path, folder.lstat(path)))  # maybe never opened: a stat of its own
            skipped.append((path, str(exc)))
            continue
        stats.append((path, info))
        try:
            row, listed = parse_file(raw, path, info.st_mtime_ns)
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


RunColumns = tuple["str | None", list[ChunkColumns]]
"""A run as read from its files: the cache file it was kept as (None if not), its chunks."""


@dataclass(frozen=True)
class _RunReader:
    """Reads a run of files, a chunk at a time, and keeps it in the cache (if there is one)
    under the key of the stats its reads gave: in the worker process that parsed it, so
    that keeping runs costs the main process nothing."""

    root: str
    max_file_bytes: int
    cache: ReadCache | None

    def __call__(self, paths: list[str]) -> RunColumns:
        stats: list[_Stat] = []
        with SubmissionFolder(self.root, self.max_file_bytes) as folder:
            pieces = [_read_chunk(folder, chunk, stats) for chunk in _chunks(paths, CHUNK_SIZE)]
        if self.cache is None or any(info is None for _, info in stats):
            return None, pieces  # a file vanished: no listing will ever give this run again
        entry = self.cache.entry(cast("list[tuple[str, os.stat_result]]", stats))
        used = _used(paths, pieces)
        return (entry if self.cache.write(entry, used, pieces) else None), pieces

    def runs(self, runs: list[list[str]]) -> list[RunColumns]:
        """A worker's task: several runs, each read on its own (the cache keeps runs)."""
        return [self(paths) for paths in runs]


# --- reading a whole folder -----------------------------------------------------------------


def _chunks(paths: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(paths), size):
        yield paths[start : start + size]


def _used(paths: list[str], pieces: Sequence[ChunkColumns]) -> list[str]:
    """``paths`` without the files the pieces skipped."""
    skipped = {path for piece in pieces for path, _ in piece["skipped"]}
    return [path for path in paths if path not in skipped] if skipped else paths


@dataclass
class _Run:
    """A folder's files as the listing gives them one after the other: what the cache keeps.

    ``entry``: the cache file name of these files' ``lstat``, if the listing looked it up;
    ``cached``: the cache holds that file.
    """

    paths: list[str]
    entry: str | None = None
    cached: bool = False


class Reading:
    """Every submission file below a folder (which must exist), being read.

    For a big folder, worker processes (one per core) are forked as soon as the listing has
    found ``IN_PROCESS_BELOW`` files to read, and read runs of files while the rest is still
    being listed and while the caller does something else; ``chunks`` hands them over in
    order. A small folder is read in this process by ``chunks``: a pool would cost more than
    it saves. Use it as a context manager, so that the workers are stopped whatever happens.
    ``workers``: processes to use (default: every core; 1 reads in-process); ``progress``:
    a bar on stderr; ``max_file_bytes``: larger files are skipped unread.

    ``cache`` (installdata/cache.py): each run of files whose listing is unchanged since it
    was kept is read from there instead (by ``chunks``); the others are kept by the process
    that reads them. Only a folder the cache holds a file of is ``lstat``-ed while listing
    (to look its runs up): a folder read for the first time is keyed by the reads' ``fstat``.

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
        cache: ReadCache | None = None,
    ) -> None:
        self._read_run = _RunReader(os.fspath(root), max_file_bytes, cache)
        self._workers: Workers[list[list[str]], list[RunColumns]] = Workers(
            self._read_run.runs, start_from=IN_PROCESS_BELOW, processes=workers
        )
        self._cache = cache
        self._progress = Progress()
        self._runs: list[_Run] = []
        self._pending: deque[list[str]] = deque()  # runs to read, not handed out yet
        self._pending_files = 0
        self._to_read = 0  # files listed that the cache does not hold
        listing = Listing(root)
        self.unlisted = listing.skipped
        try:
            self._list_and_hand_out(listing)
        except BaseException:  # Ctrl-C while listing: no worker may outlive the build
            self.__exit__()
            raise
        listed = sum(len(run.paths) for run in self._runs)
        self.files_read = listed + len(self.unlisted)
        # The bar starts now, after the workers are forked: tqdm runs a thread of its own.
        self._progress.show(progress, desc="reading", unit="file", total=listed)

    def _list_and_hand_out(self, listing: Listing) -> None:
        """List the files, a run at a time; hand out those to read as soon as workers run."""
        for run in listing.runs():  # while the run's folder is open: its stats need it
            for start in range(0, len(run), MAX_RUN):
                self._add_run(run[start : start + MAX_RUN], listing)
        if self._workers.running:
            self._hand_out(everything=True)

    def _add_run(self, files: list[tuple[str, os.DirEntry[str]]], listing: Listing) -> None:
        run = _Run([path for path, _ in files])
        cache = self._cache
        if cache is not None and cache.may_hold(run.paths[0].rpartition(os.sep)[0]):
            stats = listing.stats(files)
            if not stats:
                return  # every file vanished since it was listed (named in ``skipped``)
            entry = cache.entry(stats)
            run = _Run([path for path, _ in stats], entry, cached=cache.holds(entry))
        self._runs.append(run)
        if not run.cached:
            self._pending.append(run.paths)
            self._pending_files += len(run.paths)
            self._to_read += len(run.paths)
            if self._workers.started(self._to_read):
                self._hand_out()

    def _hand_out(self, *, everything: bool = False) -> None:
        """Submit the pending runs, several to a task of at least ``CHUNK_SIZE`` files."""
        while self._pending and (everything or self._pending_files >= CHUNK_SIZE):
            task, files = [], 0
            while self._pending and files < CHUNK_SIZE:
                task.append(self._pending.popleft())
                files += len(task[-1])
            self._pending_files -= files
            future = self._workers.submit(task)
            future.add_done_callback(partial(self._task_done, files))

    def _task_done(self, files: int, _: Future[list[RunColumns]]) -> None:
        self._progress.advance(files)  # runs on the pool's result thread

    def __enter__(self) -> Reading:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._workers.close()
        self._progress.close()

    def chunks(self) -> Iterator[Chunk]:
        """Every chunk, in path order, each as soon as it is read (or taken from the cache).

        A chunk's ``path`` (the files it holds rows for) is filled in here, from the listing:
        sending a million paths back from the workers would cost the memory of a second copy.
        Consecutive runs from the cache come as one chunk (of about ``MERGED_ROWS``); a run
        whose cache file turns out unusable is read here after all, and the cache files not
        used are removed at the end.
        """
        read = chain.from_iterable(self._workers.results()) if self._workers.running else None
        runs, self._runs = self._runs, []  # the tables hold the paths from here on
        cached = [(run.entry, run.paths) for run in runs if run.cached and run.entry]
        loaded = self._cache.load(cached) if self._cache else None
        kept: list[Kept] = []
        kept_rows = 0
        try:
            for run in runs:
                if loaded is not None and run.cached and (found := next(loaded)) is not None:
                    kept.append(found)
                    kept_rows += len(found.path)
                    if kept_rows >= MERGED_ROWS:
                        yield self._merged(kept)
                        kept, kept_rows = [], 0
                    continue
                if kept:
                    yield self._merged(kept)
                    kept, kept_rows = [], 0
                yield from self._read(run, read)
            if kept:
                yield self._merged(kept)
        finally:
            if loaded is not None:
                loaded.close()  # its threads end: the renderer forks its workers next
        self._workers.close()
        self._progress.close()
        if self._cache is not None:
            self._cache.finish()

    def _read(self, run: _Run, read: Iterator[RunColumns] | None) -> Iterator[Chunk]:
        """A run's chunks, read by the workers if they have it, else here (a small folder,
        or a cache file that turned out unusable)."""
        if read is not None and not run.cached:
            entry, pieces = next(read)
        else:
            entry, pieces = self._read_run(run.paths)
            self._progress.advance(len(run.paths))
        if entry is not None and self._cache is not None:
            self._cache.kept(entry)
        for paths, piece in zip(_chunks(run.paths, CHUNK_SIZE), pieces, strict=True):
            yield {**piece, "path": _used(paths, [piece])}

    def _merged(self, kept: list[Kept]) -> Chunk:
        from installdata.columnar import merge

        self._progress.advance(sum(len(run.path) + len(run.skipped) for run in kept))
        return merge(kept)
