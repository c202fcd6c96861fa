"""Shared fixtures: the real collector as a subprocess, and one real site for the session.

    def test_something(start_collector):
        running = start_collector(rate_limit={"requests": 3}, trusted_proxies=["127.0.0.1"])
        status, headers, body = post_json(running.url + "/api/v1/submissions", {...},
                                          key=running.key)

    def test_plain(collector):          # defaults, generous rate limit
        ...

Keyword arguments of ``start_collector`` are merged into the ``collector:`` section of a
temporary config.yaml (see ``collector_process.write_config``). To restart a collector on
the same data and secrets, stop it and call ``start_collector(workdir=running.workdir)``;
``env`` adds environment variables, ``args`` command-line arguments (``["--port", "0"]``).
Every process started here is stopped (SIGTERM, then SIGKILL) at teardown.

    def test_reads_the_site(real_site):  # built once per session: look, never write
        ...

A test that must change or rebuild a site builds its own (``support.site.build_real_site``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from support.collector_process import RunningCollector, StartCollector, start, write_config
from support.site import build_real_site


@pytest.fixture
def start_collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartCollector]:
    started: list[RunningCollector] = []

    def start_collector(
        workdir: Path | None = None,
        env: dict[str, str] | None = None,
        args: Sequence[str] = (),
        **overrides: Any,
    ) -> RunningCollector:
        if workdir is None or not (workdir / "config.yaml").exists():
            workdir = workdir or tmp_path_factory.mktemp("collector")
            write_config(workdir, overrides)
        elif overrides:
            raise TypeError("overrides cannot be applied when reusing an existing workdir")
        running = start(workdir, env, args)
        started.append(running)
        return running

    yield start_collector
    for running in started:
        running.stop()


@pytest.fixture
def collector(start_collector: StartCollector) -> RunningCollector:
    """A collector with the default test config (one key named "test", generous rate limit)."""
    return start_collector()


@pytest.fixture(scope="session")
def real_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real build on synthetic and hostile submission files, shared by every test."""
    return build_real_site(tmp_path_factory.mktemp("real-site"))
