"""The collector under stress, over real HTTP: concurrency, SIGKILL, and a full disk.

What must hold in every case: each acknowledged submission is on disk exactly once as a
complete JSON file, no reader (one that skips dot-folders, as docs/file-format.md says) ever
sees a partial or temporary file, and after a failure the service works again by itself.
"""

from __future__ import annotations

import errno
import http.client
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest

from installdata.storage import SUBMISSION_ID_PATTERN
from support.collector_process import RunningCollector, StartCollector, injected_env
from support.files import payload, read_records
from support.web import get_json, post_json

SUBMIT = "/api/v1/submissions"
RECORD_KEYS = {
    "schema_version",
    "submission_id",
    "received_at",
    "user_id",
    "key_name",
    "user_system_info",
    "successful_installs",
    "failed_installs",
}


def body_for(label: str) -> dict[str, Any]:
    """A small realistic body whose workshop_id tells which request it was."""
    return payload(workshop_id=label, failed=["make"], error="not found")


def stored_records(running: RunningCollector) -> dict[str, dict[str, Any]]:
    """Every file a reader would see, parsed; fails on anything partial or foreign."""
    records = read_records(running.submissions_dir)  # raises on a partial file
    for submission_id, record in records.items():
        assert set(record) == RECORD_KEYS, submission_id
    return records


def visible_leftovers(running: RunningCollector) -> list[Path]:
    """Files outside dot-folders that are not submission files (e.g. a stray temp file)."""
    root = running.submissions_dir
    return [
        path
        for path in root.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
        and not (path.suffix == ".json" and SUBMISSION_ID_PATTERN.fullmatch(path.stem))
    ]


def temp_files(running: RunningCollector) -> list[Path]:
    return [p for p in (running.submissions_dir / ".tmp").rglob("*") if p.is_file()]


def test_concurrent_submissions_are_each_stored_exactly_once(
    start_collector: StartCollector,
) -> None:
    running = start_collector(threads=8)
    acknowledged: dict[str, str] = {}  # submission_id -> label of the body sent
    problems: list[str] = []
    lock = threading.Lock()

    def submit(thread: int) -> None:
        for number in range(20):
            label = f"t{thread}-n{number}"
            status, _, body = post_json(running.url + SUBMIT, body_for(label), key=running.key)
            with lock:
                if status == 200:
                    acknowledged[body["submission_id"]] = label
                else:
                    problems.append(f"{label}: {status} {body}")

    threads = [threading.Thread(target=submit, args=(t,)) for t in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert problems == []
    assert len(acknowledged) == 32 * 20  # ids are unique
    records = stored_records(running)
    assert set(records) == set(acknowledged)
    for submission_id, label in acknowledged.items():  # each file holds its own body
        assert records[submission_id]["user_system_info"]["workshop_id"] == label
    assert visible_leftovers(running) == []
    assert temp_files(running) == []


def test_sigkill_under_load_leaves_only_complete_files(start_collector: StartCollector) -> None:
    running = start_collector(threads=8)
    acknowledged: list[str] = []
    lock = threading.Lock()
    killed = threading.Event()

    def submit(thread: int) -> None:
        number = 0
        while not killed.is_set():
            try:
                status, _, body = post_json(
                    running.url + SUBMIT, body_for(f"t{thread}-n{number}"), key=running.key
                )
            except (OSError, http.client.HTTPException):
                # The server died mid-request or mid-answer (IncompleteRead): the client never
                # got an id, so nothing was acknowledged.
                return
            if status == 200:
                with lock:
                    acknowledged.append(body["submission_id"])
            number += 1

    threads = [threading.Thread(target=submit, args=(t,)) for t in range(12)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 60
        while len(acknowledged) < 150 and time.monotonic() < deadline:
            time.sleep(0.01)
        running.process.send_signal(signal.SIGKILL)  # no chance to clean up anything
        running.process.wait()
    finally:
        killed.set()
        for thread in threads:
            thread.join()

    assert len(acknowledged) >= 150
    records = stored_records(running)  # every visible file is complete and parses
    assert set(acknowledged) <= set(records)  # in-flight ones may be there too, unacknowledged
    assert visible_leftovers(running) == []

    restarted = start_collector(workdir=running.workdir)  # same folder, leftovers and all
    status, _, body = post_json(restarted.url + SUBMIT, body_for("after"), key=restarted.key)
    assert status == 200, body
    assert body["submission_id"] in stored_records(restarted)


# --- a full disk ---------------------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A 1 MiB tmpfs (needs root and mount rights); unmounted however the test ends.

    Room for a few submissions and the /healthz probe (``max_body_bytes``, 256 KiB).
    """
    mount_point = tmp_path / "tiny-disk"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tiny tmpfs needs root; the fault-injection test still runs")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); fault injection runs")
    try:
        yield mount_point
    finally:
        if subprocess.run(["umount", str(mount_point)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def fill_up(path: Path) -> None:
    """Write to ``path`` until the file system is full."""
    with path.open("wb", buffering=0) as filler:
        try:
            while True:
                filler.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def assert_full_disk_refused_cleanly(running: RunningCollector, stored_before: int) -> None:
    status, _, body = post_json(running.url + SUBMIT, body_for("disk full"), key=running.key)
    assert status == 503
    assert body["error"]["status"] == 503
    assert "retry" in body["error"]["message"]
    assert get_json(running.url + "/healthz")[0] == 503
    assert len(stored_records(running)) == stored_before  # nothing partial, nothing extra
    assert visible_leftovers(running) == []
    assert temp_files(running) == []  # not even hidden


# The full-disk tests start the collector after mounting, so it is stopped before unmounting.
def test_a_full_disk_gets_503_and_the_service_recovers(
    tiny_disk: Path, start_collector: StartCollector
) -> None:
    running = start_collector(submissions_dir=str(tiny_disk / "submissions"))
    for number in range(3):
        assert post_json(running.url + SUBMIT, body_for(f"n{number}"), key=running.key)[0] == 200
    filler = tiny_disk / "filler"
    fill_up(filler)

    assert_full_disk_refused_cleanly(running, stored_before=3)

    filler.unlink()  # space returns
    status, _, body = post_json(running.url + SUBMIT, body_for("after"), key=running.key)
    assert status == 200, body
    assert len(stored_records(running)) == 4
    assert get_json(running.url + "/healthz")[0] == 200


# Loaded into the collector process through PYTHONPATH: while the flag file exists, every
# write to a regular file stores half of its bytes, then fails with ENOSPC - a disk that
# fills up in the middle of a submission. Pipes and sockets (waitress) are left alone.
FAULTY_DISK = """
import errno, os, stat

_flag = os.environ["FAULTY_DISK_FLAG"]
_real_write = os.write


def _write(fd, data):
    if os.path.exists(_flag) and stat.S_ISREG(os.fstat(fd).st_mode):
        if len(data) < 64:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return _real_write(fd, bytes(data[: len(data) // 2]))
    return _real_write(fd, data)


os.write = _write
"""


def faulty_disk(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """The environment that loads FAULTY_DISK into a collector, and its flag file."""
    flag = tmp_path / "disk-is-full"
    return injected_env(tmp_path, FAULTY_DISK, FAULTY_DISK_FLAG=str(flag)), flag


def test_a_disk_filling_mid_write_gets_503_and_the_service_recovers(
    tmp_path: Path, start_collector: StartCollector
) -> None:
    env, flag = faulty_disk(tmp_path)
    running = start_collector(env=env)
    assert post_json(running.url + SUBMIT, body_for("before"), key=running.key)[0] == 200

    flag.touch()
    assert_full_disk_refused_cleanly(running, stored_before=1)

    flag.unlink()
    status, _, body = post_json(running.url + SUBMIT, body_for("after"), key=running.key)
    assert status == 200, body
    assert len(stored_records(running)) == 2


def test_a_submission_that_could_not_be_stored_does_not_use_up_the_rate_budget(
    tmp_path: Path, start_collector: StartCollector
) -> None:
    env, flag = faulty_disk(tmp_path)
    running = start_collector(env=env, rate_limit={"requests": 2})

    flag.touch()
    for attempt in range(4):  # more retries than the budget: each one refunded
        status, headers, body = post_json(running.url + SUBMIT, body_for("full"), key=running.key)
        assert status == 503, (attempt, body)
        assert headers["X-RateLimit-Remaining"] == "2"

    flag.unlink()
    for remaining in ("1", "0"):
        status, headers, body = post_json(running.url + SUBMIT, body_for("ok"), key=running.key)
        assert status == 200, body
        assert headers["X-RateLimit-Remaining"] == remaining
    assert post_json(running.url + SUBMIT, body_for("over"), key=running.key)[0] == 429


# --- /healthz --------------------------------------------------------------------------------

# Loaded into the collector process: each /healthz probe file opened adds a line to PROBE_LOG.
COUNT_PROBES = """
import os

_log = os.environ["PROBE_LOG"]
_real_open = os.open


def _open(path, flags, *args, **kwargs):
    if os.path.basename(os.fspath(path)).startswith("healthz."):
        with open(_log, "a") as log:
            log.write("probe\\n")
    return _real_open(path, flags, *args, **kwargs)


os.open = _open
"""


def test_healthz_probes_the_disk_at_most_once_every_few_seconds(
    tmp_path: Path, start_collector: StartCollector
) -> None:
    probes = tmp_path / "probes.log"
    running = start_collector(env=injected_env(tmp_path, COUNT_PROBES, PROBE_LOG=str(probes)))
    before = probes.read_text().count("probe")
    assert before >= 1  # the start-up check of the test harness

    for _ in range(30):
        assert get_json(running.url + "/healthz") == (200, ANY, {"status": "ok"})

    assert probes.read_text().count("probe") - before <= 1  # 30 calls in well under 5 s


def test_healthz_says_503_when_the_largest_body_would_not_fit(
    tiny_disk: Path, start_collector: StartCollector
) -> None:
    running = start_collector(submissions_dir=str(tiny_disk / "submissions"))
    filler = tiny_disk / "filler"
    fill_up(filler)
    with filler.open("r+b") as shrink:  # leave 64 KiB: room for a small file, not 256 KiB
        shrink.truncate(filler.stat().st_size - 64 * 1024)

    status, _, body = post_json(running.url + SUBMIT, body_for("small"), key=running.key)
    assert status == 200, body  # a small submission still fits...
    deadline = time.monotonic() + 30  # ...but /healthz must say so once its answer is renewed
    while get_json(running.url + "/healthz")[0] == 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert get_json(running.url + "/healthz")[0] == 503
    assert temp_files(running) == []  # the probe leaves nothing behind
