"""Listing the submissions folder: every ``*.json`` file below it, in sorted path order.

Dot-folders and dot-files are skipped (the store writes its temporary files in ``.tmp/``),
and so are files with other names. What a reader would want but cannot or must not have is
skipped too, and named with the reason in ``Listing.skipped``: a folder that cannot be
listed (a ``lost+found`` only root may read) or vanished meanwhile (a concurrent forget or
prune), a symbolic link (never followed, to a file or a folder), a ``*.json`` that is not
a regular file. None of these stops the listing; only a root that cannot be listed does.

Folders are opened the way ``installdata/folder.py`` opens them, never through a link.
Nothing here reads a file or writes to the folder.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Iterator
from operator import itemgetter
from pathlib import Path

from installdata.errors import UserError
from installdata.folder import LINK, UnusableFile, not_regular, open_folder, open_root, os_reason
from installdata.printing import shown


class Listing:
    """Every ``*.json`` file below ``root``, in sorted order, as the listing is iterated.

    ``skipped`` then holds ``(path, why)`` of each entry left out although a reader would
    want it (see the module's docstring). Each folder's entries are sorted on their own, a
    subfolder by its name plus ``/``: that walks the tree in exactly the order of sorting all
    the paths at once, so files can be handed to the readers while the rest of the tree is
    still being listed. A root that cannot be listed is a ``UserError``; with ``strict``, so
    is any folder that cannot be listed (not one that vanished: it holds no files).
    """

    def __init__(self, root: str | Path, *, strict: bool = False) -> None:
        self.root = os.fspath(root)
        self.strict = strict
        self.skipped: list[tuple[str, str]] = []

    def __iter__(self) -> Iterator[str]:
        for run in self.runs():
            for path, _ in run:
                yield path

    def runs(self) -> Iterator[list[tuple[str, os.DirEntry[str]]]]:
        """The files as runs: a folder's files one after the other (up to a subfolder), with
        their directory entries. Each run comes while its folder is open, which its entries'
        ``stat`` needs (installdata/read.py looks runs up in the build cache by them)."""
        try:
            fd = open_root(self.root)
        except OSError as exc:
            raise self._error(self.root, exc) from None
        try:
            yield from self._walk(fd, self.root, top=True)
        finally:
            os.close(fd)

    def stats(
        self, files: Iterable[tuple[str, os.DirEntry[str]]]
    ) -> list[tuple[str, os.stat_result]]:
        """These files' ``lstat`` (a run, while it is the one ``runs`` gave last): what the
        build cache keys a run of files by (installdata/cache.py). A file that vanished
        before its stat is skipped as such."""
        stats = []
        for path, entry in files:
            try:
                stats.append((path, entry.stat(follow_symlinks=False)))
            except OSError as exc:
                self.skipped.append((path, os_reason(exc)))
        return stats

    def _error(self, path: str, exc: OSError) -> UserError:
        what = "the submissions folder" if path == self.root else "the folder"
        return UserError(f"cannot list {what} {shown(path)}: {exc.strerror or exc}")

    def _skip(self, path: str, exc: OSError) -> None:
        if exc.errno == errno.ENOENT or not self.strict:
            self.skipped.append((path, os_reason(exc, "list this folder")))
        else:
            raise self._error(path, exc) from None

    def _walk(
        self, fd: int, folder: str, *, top: bool = False
    ) -> Iterator[list[tuple[str, os.DirEntry[str]]]]:
        """The runs of files below ``folder``, open as ``fd``."""
        try:
            with os.scandir(fd) as scan:
                entries = sorted(
                    ((_key(entry), entry) for entry in scan if not entry.name.startswith(".")),
                    key=itemgetter(0),
                )
        except OSError as exc:
            if top:
                raise self._error(folder, exc) from None
            self._skip(folder, exc)
            return
        prefix = os.path.join(folder, "")
        run: list[tuple[str, os.DirEntry[str]]] = []
        for key, entry in entries:
            path = prefix + entry.name
            if key.endswith("/"):
                if run:
                    yield run
                    run = []
                yield from self._folder(fd, entry.name, path)
            elif entry.is_symlink():
                self.skipped.append((path, LINK))
            elif key.endswith(".json"):
                if entry.is_file(follow_symlinks=False):
                    run.append((path, entry))
                else:
                    self.skipped.append((path, _why_not_a_file(entry)))
        if run:
            yield run

    def _folder(
        self, parent: int, name: str, path: str
    ) -> Iterator[list[tuple[str, os.DirEntry[str]]]]:
        try:
            fd = open_folder(name, parent)
        except UnusableFile as exc:  # a link, or no longer a folder
            self.skipped.append((path, str(exc)))
            return
        except OSError as exc:
            self._skip(path, exc)
            return
        try:
            yield from self._walk(fd, path)
        finally:
            os.close(fd)


def _key(entry: os.DirEntry[str]) -> str:
    """What an entry sorts by: its name, a folder's with ``/`` (d_type: no system call)."""
    return f"{entry.name}/" if entry.is_dir(follow_symlinks=False) else entry.name


def _why_not_a_file(entry: os.DirEntry[str]) -> str:
    try:
        return not_regular(entry.stat(follow_symlinks=False).st_mode)
    except OSError as exc:
        return os_reason(exc)


def find_submission_files(root: Path) -> list[Path]:
    """Every ``*.json`` below ``root``, strictly listed: for a caller that writes (the legacy
    importer), which must not take a listing with a folder missing for the whole one."""
    return [Path(path) for path in Listing(root, strict=True)]
