"""Publish a freshly built site atomically, and only where that deletes nothing of anyone else.

The site is written into a staging folder beside ``site/`` (same parent, so on the same file
system, and dot-prefixed, so web servers and the loader ignore it). Only when writing has
finished is it swapped in: on Linux with one ``renameat2(RENAME_EXCHANGE)`` call, elsewhere
with two renames (old away, new in; the first undone if the second fails). Any failure before
the swap removes the staging folder and leaves the published site exactly as it was.

Swapping deletes the old site, so the site folder must be absent, empty, or a site this
generator published: every site it writes carries ``MARKER``. Anything else (a home folder,
a web server's folder of other files) is refused before anything is written, and checked
again just before the swap.

Staging folders are named with the builder's process id and a random token, and hold the
marker from their first moment on; a folder is removed as a leftover of a build that was
killed outright only if it has exactly such a name, its process no longer runs, and it holds
the marker (or nothing at all). Folders are deleted marker last, so a build killed while
deleting leaves a folder the next build still recognises.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import secrets
import shutil
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from generator.render.keep import SiteFiles
from installdata.errors import UserError

T = TypeVar("T")

MARKER = ".generated-by-installation-results"
"""The file in every site (and staging folder) this generator writes: its proof of ownership."""

MARKER_TEXT = (
    "This folder is a report site published by `python -m generator build` "
    "(installation-results).\nEach build replaces it whole: keep no other files in it.\n"
)

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_KINDS = ("staging", "old")


def _leftover_name(site_dir: Path, kind: str) -> str:
    return f".{site_dir.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"


def _leftover_pid(site_dir: Path, name: str) -> int | None:
    """The builder's process id if ``name`` is exactly one of ``_leftover_name``'s names."""
    kinds = "|".join(_KINDS)
    pattern = rf"\.{re.escape(site_dir.name)}\.(?:{kinds})-([1-9][0-9]*)-[0-9a-f]{{8}}"
    found = re.fullmatch(pattern, name)
    return int(found[1]) if found else None


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_real_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(path.lstat().st_mode)
    except FileNotFoundError:
        return False


def _generated(folder: Path) -> bool | None:
    """True: a folder this generator wrote (its marker inside); False: an empty folder;
    None: anything else. ``folder`` must be an existing folder."""
    with os.scandir(folder) as entries:
        if next(entries, None) is None:
            return False
    try:
        return True if stat.S_ISREG((folder / MARKER).lstat().st_mode) else None
    except FileNotFoundError:
        return None


def check_target(site_dir: Path) -> bool:
    """Whether ``site_dir`` holds a site this generator published (False: absent or empty).

    Raises ``UserError`` for anything else: publishing there would delete it.
    """
    try:
        if not site_dir.exists():
            return False
        state = _generated(site_dir) if site_dir.is_dir() else None
    except OSError as exc:
        raise UserError(f"cannot read the site folder {site_dir}: {exc.strerror}") from None
    if state is None:
        raise UserError(
            f"refusing to publish into {site_dir}: it is neither empty nor a site this "
            f"generator made (it has no {MARKER}); nothing was changed"
        )
    return state


def _delete(folder: Path) -> None:
    """Delete a folder this generator wrote, its marker last; an error leaves the rest."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name == MARKER:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
        (folder / MARKER).unlink(missing_ok=True)
        folder.rmdir()
    except OSError:
        pass  # left for the next build, which recognises it by its name and its marker


def remove_leftovers(site_dir: Path) -> None:
    """Delete staging/old folders of earlier builds that are provably their leftovers."""
    for folder in site_dir.parent.iterdir():
        pid = _leftover_pid(site_dir, folder.name)
        if pid is None or _process_alive(pid) or not _is_real_folder(folder):
            continue
        try:
            ours = _generated(folder) is not None
        except OSError:  # unreadable: not provably ours
            continue
        if ours:
            _delete(folder)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except AttributeError:  # C library older than glibc 2.28
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # file system cannot exchange
        return False
    raise OSError(code, os.strerror(code), os.fspath(b))


def swap_in(staging: Path, site_dir: Path) -> None:
    """Make ``staging`` the published ``site_dir``; the old site is deleted afterwards."""
    if not site_dir.exists():
        os.rename(staging, site_dir)
        return
    if _exchange(staging, site_dir):
        _delete(staging)  # now holds the old site
        return
    old = site_dir.parent / _leftover_name(site_dir, "old")
    os.rename(site_dir, old)
    try:
        os.rename(staging, site_dir)
    except BaseException:  # Ctrl-C too: the old site must not stay under a leftover's name
        os.rename(old, site_dir)
        raise
    _delete(old)


def publish_site(site_dir: Path, write: Callable[[Path], T]) -> T:
    """Call ``write(staging_folder)``, then swap the result in for ``site_dir``.

    Returns what ``write`` returned. A symbolic link is followed: the folder it points to is
    replaced. ``UserError`` if ``site_dir`` is not this generator's to replace
    (``check_target``). If ``write`` or the swap fails, the exception propagates, the staging
    folder is gone and ``site_dir`` is untouched.
    """
    site_dir = site_dir.resolve()
    check_target(site_dir)
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(site_dir)
    staging = site_dir.parent / _leftover_name(site_dir, "staging")
    staging.mkdir()  # honours the umask, unlike mkdtemp's 0700: the web server must read it
    try:
        SiteFiles(staging, site_dir).write(staging / MARKER, MARKER_TEXT.encode("utf-8"))
        result = write(staging)
        check_target(site_dir)  # again: the build took a while, and the swap deletes
        swap_in(staging, site_dir)
    except BaseException:
        _delete(staging)
        raise
    return result
