"""``python -m generator watch`` as a real process over real folders: generator/watch.py.

It publishes a file that arrives, survives a failing build and publishes once the problem is
fixed, and stops on SIGTERM with exit status 0, abandoning a build in progress without
leaving a staging folder or a partial site. Every wait has a deadline, no test times speed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from generator.folder_state import look
from generator.publish import MARKER
from generator.synthetic import write_files
from support.files import write_submission
from support.processes import session_processes, wait_until_gone

EPOCH = "1795000000"  # 2026-11-18T11:06:40Z
DEADLINE = 90.0
"""Seconds a test waits for what must happen (builds on a busy 2-core machine take seconds)."""
FAST = ["--interval", "0.1"]


def wait_for(what: Callable[[], bool], why: str, deadline: float = DEADLINE) -> None:
    end = time.monotonic() + deadline
    while not what():
        assert time.monotonic() < end, f"gave up waiting: {why}"
        time.sleep(0.02)


def published(site: Path) -> int | None:
    try:
        return int(json.loads((site / "index.json").read_bytes())["totals"]["submissions"])
    except (OSError, ValueError, KeyError):
        return None


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.startswith("."))


@pytest.fixture
def watch(tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Starts the watcher on ``tmp_path/submissions`` -> ``tmp_path/site``; killed if left."""
    config = tmp_path / "config.yaml"
    config.write_text("generator: {submissions_dir: submissions, site_dir: site}\n")
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "generator", "watch", "--config", str(config), *FAST],
            stderr=(tmp_path / "watch.err").open("wb"),
            env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH},
            start_new_session=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=DEADLINE)


def test_a_new_file_is_published(
    tmp_path: Path, watch: Callable[[], subprocess.Popen[bytes]]
) -> None:
    submissions, site = tmp_path / "submissions", tmp_path / "site"
    write_submission(submissions, user_id="first")
    watcher = watch()
    wait_for(lambda: published(site) == 1, "the first build")

    write_submission(submissions, user_id="second", received_at="2026-11-02T10:00:00Z")
    wait_for(lambda: published(site) == 2, "the new file published")

    assert stop(watcher) == 0
    err = (tmp_path / "watch.err").read_text()
    assert "watch: watching" in err and err.rstrip().endswith("watch: stopped")
    assert leftovers(tmp_path) == []


def test_a_failed_build_is_tried_again_and_then_publishes(
    tmp_path: Path, watch: Callable[[], subprocess.Popen[bytes]]
) -> None:
    submissions, site = tmp_path / "submissions", tmp_path / "site"
    err = tmp_path / "watch.err"
    watcher = watch()  # the submissions folder is not there yet: the build fails
    wait_for(lambda: "the build failed" in err.read_text(), "the failure reported")
    assert "error: submissions folder not found" in err.read_text()
    assert not site.exists()

    write_submission(submissions, user_id="first")
    wait_for(lambda: published(site) == 1, "the build after the folder appeared")

    # The site folder taken by a file this generator did not make: refused, unchanged...
    os.rename(site, tmp_path / "site-aside")
    site.write_text("someone else's")
    write_submission(submissions, user_id="second", received_at="2026-11-02T10:00:00Z")
    wait_for(lambda: err.read_text().count("the build failed") == 2, "the second failure")
    assert site.read_text() == "someone else's"
    # ...until it is put right: then the back-off's retry publishes, with no new file.
    site.unlink()
    os.rename(tmp_path / "site-aside", site)
    wait_for(lambda: published(site) == 2, "the retry after the back-off")

    assert stop(watcher) == 0
    assert leftovers(tmp_path) == []


def test_sigterm_abandons_a_build_and_leaves_no_partial_site(
    tmp_path: Path, watch: Callable[[], subprocess.Popen[bytes]]
) -> None:
    submissions, site = tmp_path / "submissions", tmp_path / "site"
    end = datetime(2026, 11, 18, tzinfo=timezone.utc)
    write_files(submissions, 300, seed=3, end=end)
    watcher = watch()
    wait_for(lambda: published(site) is not None, "the first build")
    before = published(site)
    staging: list[Path] = []

    def writing() -> bool:  # a build of the new file is writing its staging folder
        staging.extend(tmp_path.glob(".site.staging-*"))
        return bool(staging)

    write_submission(submissions, user_id="late", received_at="2026-11-17T10:00:00Z")
    wait_for(writing, "the rebuild writing its staging folder")
    children = Path(f"/proc/{watcher.pid}/task/{watcher.pid}/children").read_text().split()
    assert len(children) == 1  # the build, in a session of its own with its workers
    builds = session_processes(int(children[0]))
    assert builds

    assert stop(watcher) == 0
    assert wait_until_gone(builds) == []
    assert leftovers(tmp_path) == []
    assert published(site) == before  # the old site, whole
    assert (site / MARKER).is_file() and (site / "packages" / "index.html").is_file()


def test_the_folder_state_sees_every_arrival_and_departure(tmp_path: Path) -> None:
    root = tmp_path / "submissions"
    assert look(str(root), {}) == {}
    first = write_submission(root, user_id="a")
    state = look(str(root), {})
    assert look(str(root), state) == state
    # Within the same clock tick as the last look: the count tells, if the time cannot.
    write_submission(root, user_id="b")
    assert look(str(root), state) != state
    state = look(str(root), state)
    first.unlink()
    assert look(str(root), state) != state
    state = look(str(root), state)
    (root / ".tmp").mkdir()  # the collector's temporary files are not submissions
    (root / ".tmp" / "x.json").write_text("{}")
    moved = look(str(root), state)  # the root's own time changed with .tmp's arrival
    assert look(str(root), moved) == moved
    (root / ".tmp" / "y.json").write_text("{}")
    assert look(str(root), moved) == moved
    (root / "2026-11-05").mkdir()
    assert look(str(root), moved) != moved
