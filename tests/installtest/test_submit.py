"""The published file talking to the real collector, and to collectors that are not there."""

from __future__ import annotations

import json
import os
import pty
import socket
import subprocess
import sys
import threading
from pathlib import Path

from installtest.conftest import Machine, Ran
from support.collector_process import StartCollector

BUDGET = 35  # seconds: "a network failure never makes it wait longer than about 30 s"


def test_two_runs_against_the_collector_count_as_one_person(
    machine: Machine, script: Path, start_collector: StartCollector
) -> None:
    collector = start_collector()
    assert collector.key
    machine.tool("git", 'echo "git version 2.45.0"')
    common = ["--url", collector.url, "--key", collector.key, "--yes", "--only", "git,hg"]
    first = machine.run(script, *common, "--workshop", "2026-05-01-oslo", "--json", "1.json")
    assert first.status == 1  # hg is missing: the submission does not change that
    assert "Installation results sent, thank you" in first.out and "new id generated" in first.out
    second = machine.run(script, *common, "--json", "2.json")
    assert "pushed data with same id" in second.out, second.out
    sent = [json.loads((machine.root / name).read_text()) for name in ("1.json", "2.json")]
    assert sent[0]["unique_user_id"] is None
    assert sent[1]["unique_user_id"]  # the id the collector answered the first time
    stored = sorted(
        (json.loads(path.read_text()) for path in collector.submission_files()),
        key=lambda record: str(record.get("received_at")),
    )
    assert len(stored) == 2
    text = json.dumps(stored)
    assert sent[1]["unique_user_id"] in text
    assert "2026-05-01-oslo" in text and "could not find 'hg' executable" in text


def _silent_server() -> tuple[socket.socket, str]:
    """A port that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    return listener, f"http://127.0.0.1:{listener.getsockname()[1]}"


def _refused_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"  # closed again: refused


def test_network_failures_change_nothing_and_end_in_time(machine: Machine, script: Path) -> None:
    machine.tool("git", 'echo "git version 2.45.0"')
    listener, silent = _silent_server()
    urls = {"refused": _refused_url(), "silent": silent, "no network": "http://collector.invalid"}
    runs: dict[str, Ran] = {}
    threads = [
        threading.Thread(
            target=lambda name=name, url=url: runs.__setitem__(
                name, machine.run(script, "--url", url, "--yes", "--only", "git")
            )
        )
        for name, url in urls.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    listener.close()
    for name, ran in runs.items():
        assert ran.status == 0, (name, ran.out)  # git passed; the failed submission is no failure
        assert ran.seconds < BUDGET, (name, ran.seconds)
        assert "could not send results" in ran.out, (name, ran.out)
        assert "Traceback" not in ran.out


def test_nothing_is_asked_or_sent_without_a_terminal(machine: Machine, script: Path) -> None:
    machine.tool("git", 'echo "git version 2.45.0"')
    ran = machine.run(script, "--url", _refused_url(), "--only", "git")
    assert ran.status == 0
    assert "Results not sent: no terminal to ask you; run again with --yes" in ran.out
    assert "Send these results" not in ran.out
    assert ran.seconds < 10


def test_consent_is_asked_once_on_a_terminal(machine: Machine, script: Path) -> None:
    """A pseudo-terminal answers "n": nothing is sent and no other question follows."""
    machine.tool("git", 'echo "git version 2.45.0"')
    leader, follower = pty.openpty()
    env = {"PATH": str(machine.bin), "NO_COLOR": "1", "HOME": str(machine.root)}
    process = subprocess.Popen(
        [sys.executable, str(script), "--url", _refused_url(), "--only", "git"],
        stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True,
    )  # fmt: skip
    os.write(leader, b"n\n")
    out, _ = process.communicate(timeout=60)
    os.close(leader)
    os.close(follower)
    assert process.returncode == 0
    assert out.count("Send these results to the workshop's collector at") == 1
    assert "Results not sent." in out and "Workshop id" not in out
