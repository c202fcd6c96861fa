"""The submissions folder's files, opened safely: the one way readers read or remove one.

Anyone may drop anything into the folder (docs/file-format.md, "How readers read"), and
files may change between the listing and the reading, so a file is read only if it is still
a regular file of at most ``max_file_bytes``, reached without following a symbolic link:

- every folder below the root is opened with ``O_NOFOLLOW`` relative to its parent's
  descriptor, and the file relative to its folder's, so a folder swapped for a link after
  the listing is refused rather than followed (the root itself may be a link: it is config);
- the file is opened with ``O_NOFOLLOW`` (a link is refused) and ``O_NONBLOCK`` (a FIFO does
  not block the open), and its descriptor is ``fstat``-ed: only a regular file is read, and
  only if its size is within the cap, so a huge or sparse file costs no memory;
- ``remove`` unlinks only a regular file, by its folder's descriptor: never through a link.

Files come in sorted path order, so the folder last opened stays open: a chunk of 500 files
opens its one or two folders once. What goes wrong is an ``UnusableFile`` whose message, one
of the reasons below, says why in words for the build summary and forget's warnings.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

MAX_FILE_BYTES = 16 * 1024 * 1024
"""The default of ``generator.max_file_bytes``. The collector stores bodies of at most
``collector.max_body_bytes`` (256 KiB by default) plus a few fields; 16 MiB leaves ample room
for files dropped by hand, and bounds what one file costs a reader."""

LINK = "a symbolic link: not followed"
VANISHED = "vanished (removed meanwhile)"

_FOLDER_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_DIRECTORY
_FILE_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


class UnusableFile(ValueError):
    """A file is unusable; the message says why, in words for the build summary."""


def not_regular(mode: int) -> str:
    """Why an entry of this ``st_mode`` is not read."""
    if stat.S_ISLNK(mode):
        return LINK
    kind = next((kind for test, kind in _KINDS if test(mode)), "of an unknown kind")
    return f"not a regular file ({kind})"


def too_large(size: int, limit: int) -> str:
    return f"larger than generator.max_file_bytes ({size:,} > {limit:,} bytes): not read"


def os_reason(exc: OSError, doing: str = "read") -> str:
    """Why a system call on an entry failed, as a reason."""
    if exc.errno == errno.ELOOP:
        return LINK
    if exc.errno == errno.ENOENT:
        return VANISHED
    return f"cannot {doing}: {exc.strerror or exc}"


def open_folder(name: str, parent: int) -> int:
    """The folder ``name`` in the folder open as ``parent``, never through a link.

    ``UnusableFile`` if it is a link (or no longer a folder), else ``OSError`` as it comes.
    """
    try:
        return os.open(name, _FOLDER_FLAGS | os.O_NOFOLLOW, dir_fd=parent)
    except NotADirectoryError:  # what O_DIRECTORY | O_NOFOLLOW says of a link
        mode = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode
        raise UnusableFile(LINK if stat.S_ISLNK(mode) else "no longer a folder") from None


def open_root(root: str) -> int:
    """The submissions folder itself; it may be a link (config names it)."""
    return os.open(root, _FOLDER_FLAGS)


class SubmissionFolder:
    """Files below ``root`` (paths as the listing gives them), read or removed safely.

    Use it as a context manager: the folder it holds open is closed on leaving.
    """

    def __init__(self, root: str | Path, max_file_bytes: int = MAX_FILE_BYTES) -> None:
        self._root = os.fspath(root)
        self._prefix = os.path.join(self._root, "")
        self.max_file_bytes = max_file_bytes
        self._open: tuple[str, int] | None = None  # the folder open now (relative), its fd

    def __enter__(self) -> SubmissionFolder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._close()

    def _close(self) -> None:
        if self._open is not None:
            os.close(self._open[1])
            self._open = None

    def _split(self, path: str) -> tuple[str, str]:
        """``path`` (below the root) -> its folder relative to the root, and its name."""
        if path.startswith(self._prefix):
            relative = path[len(self._prefix) :]
        else:  # written another way, e.g. by pathlib, which drops a leading "./"
            relative = os.path.relpath(path, self._root)
            if relative.startswith(os.pardir):
                raise ValueError(f"{path} is not below {self._root}")
        folder, _, name = relative.rpartition(os.sep)
        return folder, name

    def folder(self, folder: str) -> int:
        """The descriptor of ``folder`` (relative to the root, "" for the root itself).

        ``UnusableFile`` if a folder on the way is a link, ``OSError`` as it comes otherwise.
        """
        if self._open is not None and self._open[0] == folder:
            return self._open[1]
        self._close()
        fd = open_root(self._root)
        try:
            for name in folder.split(os.sep) if folder else ():
                inner = open_folder(name, fd)
                os.close(fd)
                fd = inner
        except BaseException:
            os.close(fd)
            raise
        self._open = (folder, fd)
        return fd

    def read(self, path: str) -> tuple[bytes, os.stat_result]:
        """The bytes of the file at ``path`` and its ``fstat``; ``UnusableFile`` why not."""
        folder, name = self._split(path)
        try:
            fd = os.open(name, _FILE_FLAGS, dir_fd=self.folder(folder))
        except OSError as exc:
            raise UnusableFile(os_reason(exc)) from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):  # swapped for a FIFO or the like after listing
                raise UnusableFile(not_regular(info.st_mode))
            if info.st_size > self.max_file_bytes:
                raise UnusableFile(too_large(info.st_size, self.max_file_bytes))
            return _read(fd, info.st_size), info
        except OSError as exc:
            raise UnusableFile(os_reason(exc)) from None
        finally:
            os.close(fd)

    def lstat(self, path: str) -> os.stat_result | None:
        """The ``lstat`` of the entry at ``path``; None if it cannot be had (it vanished)."""
        folder, name = self._split(path)
        try:
            return os.stat(name, dir_fd=self.folder(folder), follow_symlinks=False)
        except (OSError, UnusableFile):
            return None

    def remove(self, path: str) -> str | None:
        """Unlink the regular file at ``path``; return its folder (relative), None if it had
        vanished. ``UnusableFile`` why not: anything but a regular file is left alone."""
        folder, name = self._split(path)
        try:
            fd = self.folder(folder)
            mode = os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode
            if not stat.S_ISREG(mode):
                raise UnusableFile(not_regular(mode))
            os.unlink(name, dir_fd=fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise UnusableFile(os_reason(exc, "remove")) from None
        return folder

    def sync(self, folder: str) -> None:
        """Make ``folder``'s entries (a removed name) durable."""
        os.fsync(self.folder(folder))

    def remove_if_empty(self, folder: str) -> bool:
        """Remove ``folder`` (not the root) if it is empty, durably; say if it was."""
        parent, _, name = folder.rpartition(os.sep)
        fd = self.folder(parent)
        try:
            os.rmdir(name, dir_fd=fd)  # refuses a folder that is not empty, or a link
        except OSError:
            return False
        os.fsync(fd)
        return True


def _read(fd: int, size: int) -> bytes:
    """``size`` bytes by plain system calls: half the time of a buffered ``open().read()``.

    One read almost always returns them all; the size is the one ``fstat`` gave, so a file
    that grows meanwhile costs no more memory (its first ``size`` bytes are read, and parse
    as what they are).
    """
    data = os.read(fd, size) if size else b""
    if len(data) < size:  # a short read: rare, and only ever ends at the end of the file
        parts = [data]
        while (left := size - sum(map(len, parts))) and (part := os.read(fd, left)):
            parts.append(part)
        data = b"".join(parts)
    return data
