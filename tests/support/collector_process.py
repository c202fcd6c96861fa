"""Run the real collector (``python -m collector serve``) as a subprocess for tests.

The collector is started on port 0 and prints ``collector listening on http://HOST:PORT``;
we read that line from its stdout file (output goes to files, not pipes, so a chatty server
can never block on a full pipe and a test can read the logs afterwards), then wait for
``GET /healthz`` to answer 200. ``stop()`` sends SIGTERM, and SIGKILL if that is ignored.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from generator.demo import stop_process
from support import REPO_ROOT
from support.files import submission_paths
from support.web import get_json

TEST_KEY_NAME = "test"
START_TIMEOUT = 60  # seconds; the test machine is small and shared
_LISTENING = re.compile(r"collector listening on (http://\S+)")
# Secrets in the parent's environment must not leak into a test's configuration.
_SCRUBBED_ENV = ("COLLECTOR_KEYS", "COLLECTOR_ID_SECRET", "COLLECTOR_CONFIG")

T = TypeVar("T")


@dataclass
class RunningCollector:
    url: str  # base URL without trailing slash, e.g. http://127.0.0.1:54321
    config_path: Path
    submissions_dir: Path
    key: str | None  # the secret of the key named "test", None if the config has none
    process: subprocess.Popen[bytes]
    workdir: Path
    stdout_path: Path
    stderr_path: Path

    def logs(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        return _read(self.stdout_path) + _read(self.stderr_path)

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM (graceful), then SIGKILL after ``timeout`` seconds; return the exit code."""
        return stop_process(self.process, timeout)

    def submission_files(self) -> list[Path]:
        """Stored submission files, skipping dot-folders (as docs/file-format.md's readers do)."""
        return submission_paths(self.submissions_dir)


StartCollector = Callable[..., RunningCollector]
"""The ``start_collector`` fixture (tests/conftest.py): keyword arguments go into the config."""


def write_config(
    workdir: Path, overrides: Mapping[str, Any] | None = None
) -> tuple[Path, str | None]:
    """Write ``workdir/config.yaml`` for a test collector; return (path, secret of key "test").

    ``overrides`` replace keys of the ``collector:`` section, except ``rate_limit``, which is
    merged (so ``rate_limit={"requests": 3}`` keeps the default window). ``keys`` replaces the
    whole mapping, so ``keys={}`` means "no keys at all".
    """
    overrides = dict(overrides or {})
    collector: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "submissions_dir": str(workdir / "submissions"),
        "id_secret_file": str(workdir / "id-secret"),
        "keys": {TEST_KEY_NAME: "test-" + secrets.token_urlsafe(24)},
        "rate_limit": {"requests": 100_000, "per_seconds": 3600},
        "threads": 4,
    }
    collector["rate_limit"].update(overrides.pop("rate_limit", None) or {})
    collector.update(overrides)
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "config.yaml"
    config_path.write_text(yaml.safe_dump({"collector": collector}), encoding="utf-8")
    return config_path, (collector.get("keys") or {}).get(TEST_KEY_NAME)


@contextmanager
def running_collector(
    workdir: Path, overrides: Mapping[str, Any] | None = None
) -> Iterator[RunningCollector]:
    """A collector on a fresh config in ``workdir``, stopped on leaving the block.

    For a module-scoped fixture (one server for many tests); a test's own collector comes
    from the ``start_collector`` fixture instead.
    """
    write_config(workdir, overrides)
    running = start(workdir)
    try:
        yield running
    finally:
        running.stop()


def start(
    workdir: Path, env: Mapping[str, str] | None = None, args: Sequence[str] = ()
) -> RunningCollector:
    """Start a collector on ``workdir/config.yaml`` and wait until it is healthy.

    ``args`` are added to the command line (e.g. ``["--port", "0"]``).

    Raises ``RuntimeError`` with the server's output if it exits or does not become healthy.
    """
    config_path = workdir / "config.yaml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))["collector"]
    run = len(list(workdir.glob("stdout-*.log")))  # a restart in the same folder gets new logs
    stdout_path = workdir / f"stdout-{run}.log"
    stderr_path = workdir / f"stderr-{run}.log"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(
            [*serve_command(config_path), *args],
            cwd=workdir,
            env=collector_env(env),
            stdout=out,
            stderr=err,
        )
    running = RunningCollector(
        url="",
        config_path=config_path,
        submissions_dir=Path(config["submissions_dir"]),
        key=(config.get("keys") or {}).get(TEST_KEY_NAME),
        process=process,
        workdir=workdir,
        stdout_path=stdout_path,
        stderr_path=stderr_path,
    )
    try:
        running.url = _wait_for_url(running)
        _wait_until_healthy(running)
    except BaseException:
        running.stop()
        raise
    return running


def serve_command(config_path: Path) -> list[str]:
    """The command line that runs the collector on ``config_path``."""
    return [sys.executable, "-m", "collector", "serve", "--config", str(config_path)]


def collector_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a collector subprocess: scrubbed of secrets, unbuffered output."""
    env = {name: value for name, value in os.environ.items() if name not in _SCRUBBED_ENV}
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


def injected_env(workdir: Path, code: str, **env: str) -> dict[str, str]:
    """The environment that loads ``code`` (a fault to inject) into a collector as it starts.

    ``code`` becomes a ``sitecustomize`` module in ``workdir/inject``; ``env`` is added.
    """
    inject = workdir / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(code, encoding="utf-8")
    return {"PYTHONPATH": os.pathsep.join([str(inject), str(REPO_ROOT)]), **env}


def _wait_for_url(running: RunningCollector) -> str:
    def said_url() -> str | None:
        match = _LISTENING.search(_read(running.stdout_path))
        return match.group(1).rstrip("/") if match else None

    return _wait_for(running, said_url, "did not say where it listens")


def _wait_until_healthy(running: RunningCollector) -> None:
    def healthy() -> bool | None:
        try:
            status, _, _ = get_json(running.url + "/healthz", timeout=5)
        except OSError:
            return None
        return True if status == 200 else None

    _wait_for(running, healthy, "never became healthy")


def _wait_for(running: RunningCollector, ready: Callable[[], T | None], failure: str) -> T:
    """Poll ``ready`` until it gives a value; fail with the logs if the server exits or stalls."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        value = ready()
        if value is not None:
            return value
        if running.process.poll() is not None:
            raise RuntimeError(
                f"collector exited with {running.process.returncode}:\n{running.logs()}"
            )
        time.sleep(0.05)
    raise RuntimeError(f"collector {failure}:\n{running.logs()}")


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""
