"""The build cache: each folder's parsed files, kept between builds (docs/generator.md).

Parsing a million files costs minutes, yet from one build to the next only today's folder
changes. So the reader process that parsed a *run* of files (a folder's files as the
listing gives them one after the other: in practice, one day folder; installdata/read.py)
keeps what it parsed in a Parquet file (installdata/columnar.py), and a later build reads
that file instead of the run's files whenever the run's listing is exactly the same.

The key of a run is a digest of, for each file, its name, size, mtime, ctime, inode and
mode, plus this code's version and ``generator.max_file_bytes``. The ctime and inode are
what catch an edit that kept the size and the mtime (``touch -r``, or two writes within one
tick of the file system's clock): nobody can set a ctime, and a file replaced by a rename
has a new inode. A chmod changes the ctime too, so a file made unreadable is read (and
skipped) again. A copied or restored folder merely misses the cache once.

Layout: ``<cache_dir>/<digest of the submissions folder's real path>/<digest of the run's
folder>-<key>.parquet``. The key is in the name, so whether a run is cached is one lookup
in a set of names listed once, and the readers are forked before pyarrow is imported. A
build removes the files of its folder that it did not use (the runs that changed or
vanished); ``forget_folders`` removes every file of a folder at once, for ``collector
forget`` and ``prune``.

The cache is derived data: a file that is missing, corrupt, unreadable or of another code
version is ignored (and written anew), a file that cannot be written is not written; none
of these ever fails a build. It holds e-mail addresses, so its files get the submissions'
mode (``FILE_MODE``), its folders 0750, and it may never live inside the submissions folder
(which the build never writes) or the site folder (which is published).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import time
from array import array
from collections import deque
from collections.abc import Generator, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import chain
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING

from installdata.errors import UserError
from installdata.parallel import cores
from installdata.printing import shown
from installdata.storage import FILE_MODE, STALE_TEMP_SECONDS

if TYPE_CHECKING:  # the readers are forked before pyarrow is imported: only when used
    from installdata.columnar import Kept
    from installdata.read import ChunkColumns

FORMAT = 2
"""The layout of the cache files; part of every key, with the source of the modules below."""

_DECIDING = ("cache.py", "columnar.py", "folder.py", "parse.py", "read.py", "record.py")
"""The modules that decide what a run's files parse to and how that is kept: a change to
any of them is another code version, whose cache files are not used."""

FOLDER_MODE = 0o750
SUFFIX = ".parquet"

_TIMES = attrgetter("st_mtime_ns", "st_ctime_ns")
_OTHERS = attrgetter("st_size", "st_ino", "st_mode")


def _digest(data: bytes, size: int) -> str:
    return hashlib.blake2b(data, digest_size=size).hexdigest()


def code_version() -> str:
    """A digest of the format, of the deciding modules' source and of msgspec's version."""
    import msgspec

    here = Path(__file__).parent
    parts = [str(FORMAT).encode(), msgspec.__version__.encode()]
    parts += [(here / name).read_bytes() for name in _DECIDING]
    return _digest(b"\0".join(parts), 16)


def _absolute(cache_dir: Path, submissions_dir: Path) -> Path:
    """A relative ``cache_dir`` (only a config built in code has one: a loaded config resolves
    it against the config file's folder) is taken beside the submissions folder."""
    return (submissions_dir.resolve().parent / cache_dir).resolve()


def cache_root(cache_dir: Path, submissions_dir: Path) -> Path:
    """Where the cache of ``submissions_dir`` lives: one folder per submissions folder."""
    real = os.path.realpath(submissions_dir)
    return _absolute(cache_dir, submissions_dir) / _digest(os.fsencode(real), 8)


def check_location(cache_dir: Path, submissions_dir: Path, *others: Path) -> None:
    """``UserError`` if ``cache_dir`` is or lies inside the submissions or ``others``."""
    cache = _absolute(cache_dir, submissions_dir)
    for folder in (submissions_dir, *others):
        inside = folder.resolve()
        if cache == inside or inside in cache.parents:
            raise UserError(
                f"generator.cache_dir {shown(cache_dir)} must not be inside {shown(folder)} "
                "(the cache holds e-mail addresses; the build never writes into submissions)"
            )


def folder_prefix(folder: str) -> str:
    """The start of every cache file name of ``folder`` (relative to the submissions)."""
    return _digest(os.fsencode(os.path.normpath(folder)), 8) + "-"


class ReadCache:
    """The cache of one submissions folder, as one reading (a build, a forget) uses it.

    ``entry`` names a run's cache file from its files' stats, ``holds`` says if that file is
    there (and marks it used), ``load`` and ``write`` read and write it, ``kept`` records a
    file a reader process wrote, and ``finish`` removes what this reading did not use.
    Reading and writing never raise: a bad file is a miss, a failed write none.
    """

    def __init__(self, cache_dir: Path, submissions_dir: Path, max_file_bytes: int) -> None:
        self.root = os.fspath(submissions_dir)
        check_location(cache_dir, submissions_dir)
        self.folder = cache_root(cache_dir, submissions_dir)
        self._salt = f"{code_version()}\0{max_file_bytes}\0".encode()
        try:
            self._present = set(os.listdir(self.folder))
        except OSError:  # not made yet, or unreadable: every run is a miss
            self._present = set()
        self._folders = {name[: len(folder_prefix(""))] for name in self._present}
        self._used: set[str] = set()

    def __getstate__(self) -> dict[str, object]:
        """What a reader process is sent with each task: enough to name and write files,
        without the sets of names (which only this process's reading keeps)."""
        return {**self.__dict__, "_present": set(), "_folders": set(), "_used": set()}

    def _relative(self, folder: str) -> str:
        return os.path.relpath(folder, self.root)

    def may_hold(self, folder: str) -> bool:
        """Whether any cache file of ``folder`` (a path below the submissions) is there: if
        none is, its runs are misses whatever their files, which then need no ``lstat``."""
        return folder_prefix(self._relative(folder)) in self._folders

    def entry(self, files: Sequence[tuple[str, os.stat_result]]) -> str:
        """The cache file name of a run: its folder's prefix and the key of its files' stats.
        An ``lstat`` in the listing and an ``fstat`` by the reader that opened the file give
        the same key."""
        folder = self._relative(files[0][0].rpartition(os.sep)[0])
        names = "\0".join(path.rpartition(os.sep)[2] for path, _ in files)
        stats = [info for _, info in files]
        # Packed by C loops (map, chain, array): a third of the time of one repr of them all,
        # which was 3.3 s for 1,000,000 files. Times may be negative, the rest may not.
        times = array("q", chain.from_iterable(map(_TIMES, stats)))
        others = array("Q", chain.from_iterable(map(_OTHERS, stats)))
        key = hashlib.blake2b(self._salt, digest_size=16)
        for part in (names.encode("utf-8", "surrogateescape"), b"\0", times, others):
            key.update(part)
        return folder_prefix(folder) + key.hexdigest() + SUFFIX

    def holds(self, entry: str) -> bool:
        """Whether the cache file ``entry`` is there; either way, it is in use."""
        self._used.add(entry)
        return entry in self._present

    def kept(self, entry: str) -> None:
        """``entry`` was written (by a reader process: this one's sets know nothing of it)."""
        self._used.add(entry)
        self._present.add(entry)

    def load(self, runs: Sequence[tuple[str, list[str]]]) -> Generator[Kept | None, None, None]:
        """Each run kept as ``(entry, paths)``, in order, read a few ahead by threads (pyarrow
        parses without the GIL; more ahead would hold more runs in memory at once); None for
        a run whose cache file is unusable."""
        from installdata.columnar import read_run

        ahead = 2 * cores()
        with ThreadPoolExecutor(cores()) as threads:
            reading: deque[Future[Kept | None]] = deque()
            try:
                for entry, paths in runs:
                    reading.append(threads.submit(read_run, self.folder / entry, entry, paths))
                    if len(reading) > ahead:
                        yield reading.popleft().result()
                while reading:
                    yield reading.popleft().result()
            finally:
                threads.shutdown(cancel_futures=True)

    def write(self, entry: str, paths: Sequence[str], pieces: Sequence[ChunkColumns]) -> bool:
        """Keep a run's columns (its pieces, in order, of these files) as ``entry``: a temp
        file, then a rename. Runs in the reader that parsed the run, so that the Parquet
        encoding is spread over the cores; False if it could not be written."""
        from installdata.columnar import write_run

        tmp = self.folder / f".{entry}.{secrets.token_hex(6)}.tmp"
        try:
            self.folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
            with os.fdopen(fd, "wb") as out:
                written = write_run(out, entry, paths, pieces)
            if written:
                os.replace(tmp, self.folder / entry)
        except OSError:
            written = False  # a full disk, a read-only cache: the next build tries again
        if not written:
            _remove_quietly(tmp)
        return written

    def finish(self) -> None:
        """Remove the cache files this reading did not use, and stale temp files."""
        stale = time.time() - STALE_TEMP_SECONDS
        for name in self._present - self._used:
            if name.endswith(SUFFIX):
                _remove_quietly(self.folder / name)
        try:
            temp = [name for name in os.listdir(self.folder) if name.endswith(".tmp")]
        except OSError:
            return
        for name in temp:
            try:
                if os.stat(self.folder / name).st_mtime < stale:
                    os.unlink(self.folder / name)
            except OSError:
                continue


def forget_folders(cache_dir: Path, submissions_dir: Path, folders: Iterable[str]) -> None:
    """Remove every cache file (temp files too) of these folders of ``submissions_dir``.

    For ``collector forget`` and ``prune``: what they deleted must not live on in the cache.
    ``UserError`` if a file cannot be removed, since it may hold the deleted submissions.
    """
    root = cache_root(cache_dir, submissions_dir)
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _not_cleared(root, exc) from None
    prefixes = tuple(folder_prefix(folder) for folder in set(folders))
    for name in names:
        if name.lstrip(".").startswith(prefixes):
            try:
                os.unlink(root / name)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise _not_cleared(root / name, exc) from None


def _not_cleared(path: Path, exc: OSError) -> UserError:
    return UserError(
        f"cannot clear the build cache {shown(path)} ({exc.strerror or exc}), which may hold "
        "the removed submissions: delete it by hand (generator.cache_dir; it is only a cache)"
    )


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
