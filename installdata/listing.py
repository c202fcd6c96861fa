"""Listing the submissions folder: every ``*.json`` below it, in sorted path order.

Dot-folders and dot-files are skipped (the store writes its temporary files in ``.tmp/``).
Nothing here reads a file or writes to the folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path


def iter_submission_files(root: Path) -> Iterator[str]:
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
    return [Path(path) for path in iter_submission_files(root)]
