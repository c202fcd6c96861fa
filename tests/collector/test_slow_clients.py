"""Clients that connect and then send nothing: a crowd of them must not lock anyone out, and a
stop signal must not wait for them.

Each stalled client sends the start of a request (a request line and one header, never the
blank line that ends the headers) and then nothing, as a slowloris attack does.
"""

from __future__ import annotations

import json
import resource
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from support.collector_process import (
    RunningCollector,
    StartCollector,
    collector_env,
    injected_env,
    serve_command,
    write_config,
)
from support.files import payload
from support.web import get_json, post_json

SUBMIT = "/api/v1/submissions"
PARTIAL_REQUEST = f"POST {SUBMIT} HTTP/1.1\r\nHost: collector\r\n".encode()
PATIENCE = 15  # seconds a well-behaved client waits for each answer


@contextmanager
def stalled_crowd(
    running: RunningCollector, count: int, start: bytes = PARTIAL_REQUEST
) -> Iterator[list[socket.socket]]:
    """``count`` connections that each sent ``start`` and then nothing; closed after."""
    address = urlsplit(running.url)
    crowd: list[socket.socket] = []
    try:
        for _ in range(count):
            connection = socket.create_connection((address.hostname, address.port), timeout=30)
            crowd.append(connection)
            connection.sendall(start)
        yield crowd
    finally:
        for connection in crowd:
            connection.close()


def assert_served(running: RunningCollector, label: str) -> None:
    """A well-behaved client gets its submission stored, and /healthz answers, in time."""
    body = payload(workshop_id=label)
    status, _, answer = post_json(running.url + SUBMIT, body, key=running.key, timeout=PATIENCE)
    assert status == 200, answer
    stored = [json.loads(path.read_text()) for path in running.submission_files()]
    assert label in [record["user_system_info"]["workshop_id"] for record in stored]
    assert get_json(running.url + "/healthz", timeout=PATIENCE)[0] == 200


def test_a_stalled_crowd_larger_than_waitress_default_limit_locks_nobody_out(
    collector: RunningCollector,
) -> None:
    with stalled_crowd(collector, 150):  # waitress's own limit is 100 connections
        assert_served(collector, "during the crowd")


def test_stalled_connections_are_closed_after_the_connection_timeout(
    start_collector: StartCollector,
) -> None:
    running = start_collector(connection_limit=20, connection_timeout=2)
    with stalled_crowd(running, 30) as crowd:  # the limit is full: the rest wait in the queue
        assert_served(running, "after the timeout")
        crowd[0].settimeout(PATIENCE)
        assert crowd[0].recv(1024) == b""  # closed by the server, unanswered


def test_more_connections_than_select_can_watch_are_served(
    start_collector: StartCollector,
) -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < 2500:
        pytest.skip(f"needs 2500 open files for the test and the collector, has {soft}")
    running = start_collector(connection_limit=1500)
    with stalled_crowd(running, 1100):  # file numbers past 1024, select()'s FD_SETSIZE
        assert_served(running, "past FD_SETSIZE")


def test_a_connection_limit_above_the_open_files_limit_is_refused(tmp_path: Path) -> None:
    config_path, _ = write_config(tmp_path, {"connection_limit": 500})
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)

    def only_256_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))

    done = subprocess.run(
        serve_command(config_path),
        env=collector_env(),
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=only_256_files,
    )
    assert done.returncode == 2, done
    assert done.stderr.strip().splitlines() == [
        "error: collector.connection_limit 500 needs about 540 open files, but this process"
        " may open only 256 (ulimit -n; systemd: LimitNOFILE=): raise that or lower the limit"
    ]


# --- a stop signal ---------------------------------------------------------------------------

# Loaded into the collector: while the flag file exists, the next fsync (of a submission being
# saved) first says so in FLAG.started, then takes 3 seconds: a request still being handled.
SLOW_SAVE = """
import os, time

_flag = os.environ["SLOW_SAVE_FLAG"]
_real_fsync = os.fsync


def _fsync(fd):
    if os.path.exists(_flag):
        os.unlink(_flag)
        open(_flag + ".started", "w").close()
        time.sleep(3)
    return _real_fsync(fd)


os.fsync = _fsync
"""


def test_a_stop_signal_finishes_requests_being_handled_but_not_stalled_ones(
    tmp_path: Path, start_collector: StartCollector
) -> None:
    flag = tmp_path / "slow-save"
    running = start_collector(env=injected_env(tmp_path, SLOW_SAVE, SLOW_SAVE_FLAG=str(flag)))
    half_body = f"{PARTIAL_REQUEST.decode()}Content-Length: 100\r\n\r\n{{".encode()
    answers: list[tuple[int, object, object]] = []

    def submit() -> None:
        body = payload(workshop_id="in flight")
        answers.append(post_json(running.url + SUBMIT, body, key=running.key, timeout=60))

    with stalled_crowd(running, 2), stalled_crowd(running, 1, half_body):
        time.sleep(1)  # let the server read the three starts; ordering only, nothing is timed
        flag.touch()
        submitting = threading.Thread(target=submit)
        submitting.start()
        wait_for_file(Path(f"{flag}.started"))
        running.process.send_signal(signal.SIGTERM)

        submitting.join(timeout=60)
        # well before the 30 s drain: the three that send nothing are not waited for
        assert running.process.wait(timeout=15) == 0, running.logs()

    ((status, _, answer),) = answers
    assert status == 200, answer
    (stored,) = running.submission_files()
    assert json.loads(stored.read_text())["user_system_info"]["workshop_id"] == "in flight"
    assert "stopped with 3 requests unfinished" in running.logs()


def wait_for_file(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.05)
