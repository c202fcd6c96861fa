"""Where the site's files go: page paths checked, each file claimed once, no link followed.

Page paths come from aggregation, and parts of them (package and workshop slugs) from names
in submissions: every one is checked before any file of its page is written, and nothing may
land outside the site folder, nor be written twice.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

_TABLE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


class Targets:
    """Where page paths land inside ``out_dir``, refusing anything that could escape it.

    Each distinct folder is resolved (symbolic links followed) once, not every page: a site
    has thousands of pages in a handful of folders, and resolving costs a system call per
    path component. The file itself is never followed: ``write_file`` opens it with
    ``O_NOFOLLOW``. ``files``: every file claimed so far.
    """

    def __init__(self, out_dir: Path) -> None:
        self.root = out_dir.resolve()
        self.files: set[Path] = set()
        self._resolved: dict[PurePosixPath, Path] = {}  # page folder -> where it is
        self._made: set[Path] = set()  # folders created

    def of(self, path: str) -> Path:
        """The file a page path (``packages/make.html``) is written to; ``ValueError`` if unsafe."""
        relative = PurePosixPath(path)
        if (
            not path
            or "\\" in path
            or "\x00" in path
            or relative.is_absolute()
            or ".." in relative.parts
            or relative.suffix != ".html"
        ):
            raise ValueError(f"unsafe page path: {path!r}")
        folder = self._resolved.get(relative.parent)
        if folder is None:
            folder = (self.root / relative.parent).resolve()
            if not folder.is_relative_to(self.root):
                raise ValueError(f"page path leaves the site folder: {path!r}")
            self._resolved[relative.parent] = folder
        return folder / relative.name

    def claim(self, files: list[Path]) -> None:
        """Reserve ``files`` and create their folders; two claims of one file are an error."""
        for path in files:
            if path in self.files:
                raise ValueError(f"two pages would write the same file: {path}")
            self.files.add(path)
            if path.parent not in self._made:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._made.add(path.parent)


def check_table_name(name: str, page_path: str) -> None:
    """A table's name becomes part of a file name (``<page stem>-<name>.csv``): keep it plain."""
    if not _TABLE_NAME.fullmatch(name):
        raise ValueError(f"table name {name!r} of {page_path} is not a safe file name")


def write_file(path: Path, data: bytes) -> None:
    """Create ``path`` with ``data``: one open, one write, one close (thousands of files).

    A symbolic link in its place is refused (``O_NOFOLLOW``), never written through.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
    handle = os.open(path, flags, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view) :]
    finally:
        os.close(handle)
