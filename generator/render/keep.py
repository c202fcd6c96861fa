"""Unchanged files keep their published file: hard-linked into the staging folder, not rewritten.

A rebuild then changes only the files whose bytes changed; every other file keeps its inode
and modification time, so ``rsync`` or a static host uploads only what changed. Publishing
stays atomic (generator/publish.py): the staging folder still holds the whole new site, and a
kept file is simply in both sites until the old one is deleted.

Pages and their JSON twins carry the build time (``generated_at``), which would make every
one of them differ at every build. So a file written with a ``stamp`` (that build time) is
also kept when it differs from the published one only in that stamp, the same older stamp in
every place: its content was first made by that earlier build, and it says so. The site's
front page is always written anew (generator/render/page_files.py ``ALWAYS_WRITTEN``), so
``index.json``'s ``generated_at`` is always the last build's.

Comparing still means rendering. A page of a ``PageBatch`` (the thousands of workshop pages)
is its JSON twin put into a template, so when its twin is kept and the published site was
rendered by the same templates and code (``RENDERER`` holds their digest), its HTML is kept
without being rendered at all (``keep_unread``). A hand-edited published page therefore
survives until its data changes; deleting ``RENDERER`` from the site renders every page again.

The published site is read as carefully as the staging folder is written (paths.py): its
folders are opened one name at a time relative to the one above, the file too, none through a
symbolic link (``O_NOFOLLOW``); only a regular file of the same size is read and compared.
The link is made from the name just compared and checked to be that same file (device and
inode), so a file swapped in meanwhile is never kept. Anything unexpected (a link, a FIFO,
another file system, a file the kernel will not let us link) means: write the file anew.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from functools import partial
from pathlib import Path

from generator.render.paths import write_file

_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
# O_NONBLOCK: opening a FIFO planted in the old site must not wait for a writer.
_FILE = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
_CAN_KEEP = {os.open, os.link} <= os.supports_dir_fd and hasattr(os, "O_NOFOLLOW")
_STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")

RENDERER = ".rendered-by"
"""The site's file naming what rendered it (``templates.renderer``): a page whose data did not
change keeps its published HTML unrendered only if that was rendered alike (page_files.py)."""

Check = Callable[[str, int], "os.stat_result | None"]
"""(name, folder descriptor) -> the status of that published file if it may be kept."""


class SiteFiles:
    """Writes the files of a new site into ``staging``, keeping ``previous``'s equal files.

    ``previous``: the published site (None, or a folder that is not there: write every file).
    ``rendered_alike``: ``previous`` was rendered by this ``renderer`` (templates.py).
    Picklable, and never changed once made, so forked render workers use it as it is.
    """

    def __init__(self, staging: Path, previous: Path | None, renderer: str | None = None) -> None:
        self.prefix = os.path.join(staging.resolve(), "")
        self.previous = previous if _CAN_KEEP and previous and previous.is_dir() else None
        self.rendered_alike = (
            renderer is not None
            and self.previous is not None
            and self._holds(RENDERER, renderer.encode())
        )

    def write(self, path: Path, data: bytes, stamp: str | None = None) -> bool:
        """Put ``data`` at ``path`` (inside the staging folder). False: the old file was kept.

        ``stamp``: the build time written into ``data``; an old file that has an earlier
        build's time in its places, and is otherwise the same, is kept too.
        """
        if self.previous is not None and self._keep(path, partial(_same_file, data, stamp)):
            return False
        write_file(path, data)
        return True

    def keep_unread(self, path: Path) -> bool:
        """Keep the published file of ``path`` without comparing it: for a page whose data is
        known to be unchanged and whose HTML was ``rendered_alike`` (page_files.py)."""
        return self.previous is not None and self._keep(path, _regular_file)

    def _holds(self, name: str, data: bytes) -> bool:
        """Whether the published site's top-level file ``name`` holds exactly ``data``."""
        assert self.previous is not None
        try:
            folder = os.open(self.previous, _FOLDER)
        except OSError:
            return False
        try:
            return _same_file(data, None, name, folder) is not None
        except OSError:
            return False
        finally:
            os.close(folder)

    def _keep(self, path: Path, check: Check) -> bool:
        """Hard-link the published file to ``path`` if ``check`` allows it."""
        assert self.previous is not None
        # Plain string work: Path.relative_to cost a third of this function (8,625 files).
        where = os.fspath(path)
        if not where.startswith(self.prefix):
            return False
        *folders, name = where[len(self.prefix) :].split(os.sep)
        try:
            folder = os.open(self.previous, _FOLDER)
        except OSError:
            return False
        try:
            for part in folders:
                inner = os.open(part, _FOLDER, dir_fd=folder)
                os.close(folder)
                folder = inner
            old = check(name, folder)
            if old is None:
                return False
            os.link(name, path, src_dir_fd=folder, follow_symlinks=False)
            linked = os.lstat(path)
            if (linked.st_dev, linked.st_ino) != (old.st_dev, old.st_ino):
                os.unlink(path)  # replaced between the comparison and the link
                return False
            return True
        except OSError:  # a link (ELOOP), not a folder, gone, another file system, ...
            return False
        finally:
            os.close(folder)


def _regular_file(name: str, folder: int) -> os.stat_result | None:
    """The status of ``name`` in ``folder`` if it is a regular file (never through a link)."""
    status = os.stat(name, dir_fd=folder, follow_symlinks=False)
    return status if stat.S_ISREG(status.st_mode) else None


def _same_file(data: bytes, stamp: str | None, name: str, folder: int) -> os.stat_result | None:
    """The status of regular file ``name`` in ``folder`` if it holds ``data`` (but the stamp).

    The size is compared first, which costs no read (a time stamp always has the same
    length); equal sizes are common (a page whose only change is a count), so then the bytes.
    """
    handle = os.open(name, _FILE, dir_fd=folder)
    try:
        status = os.fstat(handle)
        if not stat.S_ISREG(status.st_mode) or status.st_size != len(data):
            return None
        old = b"".join(iter(partial(os.read, handle, max(len(data), 1) + 1), b""))
        return status if old == data or _same_but_stamp(old, data, stamp) else None
    finally:
        os.close(handle)


def _same_but_stamp(old: bytes, new: bytes, stamp: str | None) -> bool:
    """Whether ``old`` is ``new`` with one earlier time stamp in every place of ``stamp``."""
    if stamp is None:
        return False
    parts = new.split(stamp.encode())
    if len(parts) == 1:
        return False
    earlier = old[len(parts[0]) : len(parts[0]) + len(stamp)]
    return _STAMP.fullmatch(earlier) is not None and earlier.join(parts) == old
