"""Publish a freshly built site atomically: readers see the old site or the new one, never half.

The site is written into a staging folder beside ``site/`` (same parent, so on the same file
system, and dot-prefixed, so web servers and the loader ignore it). Only when writing has
finished is it swapped in: on Linux with one ``renameat2(RENAME_EXCHANGE)`` call, elsewhere
with two renames (old away, new in; the first undone if the second fails). Any failure before
the swap removes the staging folder and leaves the published site exactly as it was.

Staging folders carry the builder's process id, so leftovers of a build that was killed
outright are recognised and removed by the next build without touching a build still running.
"""

from __future__ import annotations

import ctypes
import errno
import os
import secrets
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _leftover_name(site_dir: Path, kind: str) -> str:
    return f".{site_dir.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(site_dir: Path) -> None:
    """Delete staging/old folders of earlier builds whose process no longer runs."""
    for kind in ("staging", "old"):
        for folder in site_dir.parent.glob(f".{site_dir.name}.{kind}-*"):
            pid = folder.name.rsplit("-", 2)[-2]
            if pid.isdigit() and not _process_alive(int(pid)):
                shutil.rmtree(folder, ignore_errors=True)


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
        shutil.rmtree(staging, ignore_errors=True)  # now holds the old site
        return
    old = site_dir.parent / _leftover_name(site_dir, "old")
    os.rename(site_dir, old)
    try:
        os.rename(staging, site_dir)
    except OSError:
        os.rename(old, site_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def publish_site(site_dir: Path, write: Callable[[Path], T]) -> T:
    """Call ``write(staging_folder)``, then swap the result in for ``site_dir``.

    Returns what ``write`` returned. If ``write`` or the swap fails, the exception propagates,
    the staging folder is gone and ``site_dir`` is untouched.
    """
    site_dir = site_dir.absolute()
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(site_dir)
    staging = site_dir.parent / _leftover_name(site_dir, "staging")
    staging.mkdir()  # honours the umask, unlike mkdtemp's 0700: the web server must read it
    try:
        result = write(staging)
        swap_in(staging, site_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return result
