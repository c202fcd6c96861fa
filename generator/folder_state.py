"""What the watcher compares between two looks at the submissions folder: each folder's state.

A file arriving (the collector renames it into its day folder), leaving (``forget``,
``prune``) or renamed changes the modification time of the folder it is in; so the tree has
changed exactly when some folder's time, inode or entry count has, or a folder appeared or
went. A look stats every folder, a few hundred for years of day folders, and lists only the
folders that changed (to find new subfolders) or that are *unsettled*: their time was so
recent when last looked at that another file could have arrived within the same tick of the
file system's clock (the kernel's coarse clock, or whole seconds on some file systems)
without changing it, so their entries are counted again until their time is old enough.

Read like the build reads (installdata/listing.py): names starting with a dot (the
collector's ``.tmp/``) are left out, and links are not followed. A file rewritten in place
changes no folder; submission files are written once and never changed (docs/file-format.md).
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass, field

SETTLE_NS = 2_000_000_000
"""A folder time younger than this is not trusted alone (FAT's clock ticks every 2 s)."""


@dataclass(frozen=True)
class Folder:
    """One folder as last seen; two states compare equal when nothing below changed."""

    mtime_ns: int
    inode: int
    entries: int
    subfolders: tuple[str, ...] = field(compare=False)
    unsettled: bool = field(compare=False)


State = dict[str, Folder]
"""Every folder below the watched one (and itself, as ``""``), by path relative to it."""


def look(root: str, before: State) -> State:
    """The state of ``root``'s tree now, listing only what ``before`` cannot vouch for.

    A missing or unreadable folder is left out (so its appearing later is a change).
    """
    now = time.time_ns()
    state: State = {}
    waiting = [""]
    while waiting:
        relative = waiting.pop()
        path = os.path.join(root, relative) if relative else root
        try:
            # The watched folder itself may be a link (to a mount); nothing below it is followed.
            info = os.stat(path, follow_symlinks=not relative)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode):
            continue
        old = before.get(relative)
        if (
            old is None
            or old.unsettled
            or (old.mtime_ns, old.inode)
            != (
                info.st_mtime_ns,
                info.st_ino,
            )
        ):
            folder = _listed(path, info, unsettled=now - info.st_mtime_ns < SETTLE_NS)
            if folder is None:
                continue
        else:
            folder = old
        state[relative] = folder
        waiting += [os.path.join(relative, name) for name in folder.subfolders]
    return state


def _listed(path: str, info: os.stat_result, *, unsettled: bool) -> Folder | None:
    entries, subfolders = 0, []
    try:
        with os.scandir(path) as listing:
            for entry in listing:
                if entry.name.startswith("."):
                    continue
                entries += 1
                if entry.is_dir(follow_symlinks=False):
                    subfolders.append(entry.name)
    except OSError:
        return None
    return Folder(info.st_mtime_ns, info.st_ino, entries, tuple(sorted(subfolders)), unsettled)
