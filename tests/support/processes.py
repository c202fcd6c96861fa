"""Processes seen through /proc (Linux): which still live, and which belong to one session.

    builder = subprocess.Popen([...], start_new_session=True)   # its session id is its pid
    ...
    builder.kill(); builder.wait()
    assert wait_until_gone(session_processes(builder.pid)) == []

A process killed with SIGKILL leaves its workers to the init process, which may not reap
them in a container: a zombie has ended, so it counts as gone. A worker never leaves its
builder's session (nothing in the build calls setsid), so the session finds every one of
them, even after the builder itself has gone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, session..."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def session_processes(session: int) -> list[int]:
    """The living processes of a session."""
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and fields[3] == str(session) and fields[0] not in ("Z", "X"):
                found.append(int(entry.name))
    return sorted(found)


def wait_until_gone(pids: Iterable[int], timeout: float = 10.0) -> list[int]:
    """Wait up to ``timeout`` seconds for ``pids`` to end; those still alive then."""
    left = list(pids)
    deadline = time.monotonic() + timeout
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [pid for pid in left if alive(pid)]
    return left


def kill_all(pids: Iterable[int]) -> None:
    """SIGKILL each of ``pids`` still alive (a test's own leftovers, at teardown)."""
    for pid in pids:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
