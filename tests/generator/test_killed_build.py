"""A build killed outright (SIGKILL: the OOM killer, ``timeout -s KILL``) on real files.

Whenever it dies, no process of it may be left, the published site must be whole (the old
one or the new one), and the next build must succeed and remove what the killed one left.
The fault injection (20 kills at seeded random moments) used about 45 s of CPU time on a busy
2-core machine, so under a minute on two quiet cores; it is marked slow.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from generator.publish import MARKER
from generator.synthetic import write_files
from installdata.parallel import cores
from installdata.read import IN_PROCESS_BELOW
from support import REPO_ROOT
from support.crawl import local_references, site_files
from support.processes import PROC, kill_all, session_processes, wait_until_gone

EPOCH = 1795000000  # 2026-11-18T11:06:40Z
FILES = IN_PROCESS_BELOW + 1000  # enough for reader workers (and render workers) to start
KILLS = 10
SEED = 20261118  # the moments of the kills: the same every run

pytestmark = [
    pytest.mark.skipif(not PROC.is_dir(), reason="needs /proc to find the build's processes"),
    pytest.mark.skipif(cores() < 2, reason="on one core the build forks no workers"),
]


@pytest.fixture(scope="module")
def submissions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("killed-build") / "submissions"
    write_files(root, FILES, seed=7, end=datetime.fromtimestamp(EPOCH, timezone.utc))
    return root


@pytest.fixture
def start_build(
    submissions: Path, tmp_path: Path
) -> Iterator[Callable[[int], subprocess.Popen[bytes]]]:
    """``start_build(epoch)``: the real command, in a session of its own, into tmp_path/out/site.

    Its stderr goes to a file, not a pipe: a worker left behind would hold a pipe open.
    """
    (tmp_path / "config.yaml").write_text("generator: {}\n")
    (tmp_path / "out").mkdir()
    sessions: list[int] = []

    def start(epoch: int) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "generator", "build", "--config",
                   str(tmp_path / "config.yaml"), "--submissions", str(submissions),
                   "--site", str(tmp_path / "out" / "site")]  # fmt: skip
        with open(tmp_path / "stderr", "wb") as stderr:
            builder = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env={**os.environ, "SOURCE_DATE_EPOCH": str(epoch)},
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,  # its session id is its pid, and its workers'
            )
        sessions.append(builder.pid)
        return builder

    yield start
    for session in sessions:  # what a failing test left running
        kill_all(session_processes(session))


def finish(builder: subprocess.Popen[bytes], tmp_path: Path) -> None:
    """Wait for ``builder`` to end; it must succeed."""
    assert builder.wait(timeout=120) == 0, (tmp_path / "stderr").read_text()


def kill(builder: subprocess.Popen[bytes]) -> list[int]:
    """SIGKILL ``builder``; the processes of its build that are alive after a short wait."""
    builder.kill()
    builder.wait()
    return wait_until_gone(session_processes(builder.pid))


def wait_for(builder: subprocess.Popen[bytes], moment: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 120
    while not moment():
        assert builder.poll() is None, "the build ended before the moment came"
        assert time.monotonic() < deadline
        time.sleep(0.005)


def staging_folders(site: Path) -> list[Path]:
    return sorted(site.parent.glob(f".{site.name}.staging-*"))


def test_a_build_killed_while_reading_leaves_no_process(
    start_build: Callable[[int], subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    builder = start_build(EPOCH)
    site = tmp_path / "out" / "site"

    def reading() -> bool:  # the readers run; rendering (into a staging folder) has not begun
        return len(session_processes(builder.pid)) > 1 and not staging_folders(site)

    wait_for(builder, reading)

    assert kill(builder) == []


def test_a_build_killed_while_rendering_leaves_no_process(
    start_build: Callable[[int], subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    builder = start_build(EPOCH)
    site = tmp_path / "out" / "site"

    def rendering() -> bool:  # the render workers run and have written into the staging folder
        staging = staging_folders(site)
        return (
            len(session_processes(builder.pid)) > 1
            and bool(staging)
            and any(path.suffix == ".html" for path in staging[0].glob("*"))
        )

    wait_for(builder, rendering)

    assert kill(builder) == []


def checked_site(site: Path) -> dict[str, bytes]:
    """The files of the first build's site, once checked: its marker and every link are there."""
    files = site_files(site)
    assert MARKER in files
    for page, target in local_references(site):
        path = unquote(urlsplit(target).path)
        if path:
            assert (page.parent / path).is_file(), (page, target)
    return files


def published_time(site: Path, first: dict[str, bytes], first_time: str, times: set[str]) -> str:
    """The published site's ``generated_at``, once the site is checked to be the first one
    built at that time: the same files, each byte for byte but for the time (a build of the
    same data is deterministic), so none is missing, half-written or of another build. A page
    a rebuild kept has the time of an earlier build (``times``: all those so far), the front
    page always the time of the build that published the site."""
    now = json.loads((site / "index.json").read_bytes())["generated_at"]
    files = site_files(site)
    assert files.keys() == first.keys()
    assert files["index.html"] == first["index.html"].replace(first_time.encode(), now.encode())
    for name, data in first.items():
        stamps = {data.replace(first_time.encode(), stamp.encode()) for stamp in times}
        assert files[name] in stamps, name
    return now


def generated_at(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.slow
def test_builds_killed_at_random_moments_leave_a_whole_site_and_nothing_else(
    start_build: Callable[[int], subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    site = tmp_path / "out" / "site"
    began = time.monotonic()
    finish(start_build(EPOCH), tmp_path)
    duration = time.monotonic() - began
    first, published = checked_site(site), generated_at(EPOCH)
    rng = random.Random(SEED)
    moments = [rng.uniform(0, duration) for _ in range(KILLS)]
    leftovers_seen = 0

    for number, moment in enumerate(moments, 1):
        epoch = EPOCH + number  # a second later each: no submission crosses a window's edge
        started = time.monotonic()
        builder = start_build(epoch)
        time.sleep(max(0.0, moment - (time.monotonic() - started)))

        assert kill(builder) == [], f"kill {number} at {moment:.2f} s"

        times = {generated_at(second) for second in range(EPOCH, epoch + 1)}
        now = published_time(site, first, generated_at(EPOCH), times)
        assert now in (published, generated_at(epoch)), f"kill {number} at {moment:.2f} s"
        published = now
        leftovers_seen += len(list(site.parent.iterdir())) - 1

    finish(start_build(EPOCH + KILLS + 1), tmp_path)
    last = generated_at(EPOCH + KILLS + 1)
    times = {generated_at(second) for second in range(EPOCH, EPOCH + KILLS + 2)}
    assert published_time(site, first, generated_at(EPOCH), times) == last
    assert [p.name for p in site.parent.iterdir()] == ["site"]  # no staging or old folder
    assert leftovers_seen > 0  # some kill did leave something for the last build to remove
    print(f"\n{KILLS} builds killed within {duration:.1f} s (one build's time)", file=sys.stderr)
