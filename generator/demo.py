"""``make demo``: the whole system once, end to end, on this checkout.

    1. wipe ``.demo/`` and write a demo config with a random key
    2. drop two years of older synthetic submissions into ``.demo/submissions/``, as an
       importer would (HTTP cannot backdate, and the report's time charts need a history);
       the last ``SWITCH_DAYS`` of them in the installation test's words, the rest in the
       Software Carpentry scripts' (an event of the demo config marks the switch)
    3. start the real collector on a free loopback port and wait until it is healthy
    4. post a few hundred synthetic people's runs through the reference client, each person
       with an id file of their own, so re-runs really send back the id they were issued; the
       learners among them prepare for three upcoming workshops (the history's are past).
       Each run is what the installation test would send: its own checks, run on the
       person's simulated computer (generator/synthetic/hosts.py)
    5. stop the collector (SIGTERM), then ``python -m generator build`` into ``site/``
    6. print the path of ``site/index.html`` as the last line

The collector is stopped whatever happens; any failure ends the demo with one ``error:`` line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from generator.synthetic import Payload, Person, iter_people, write_files
from generator.synthetic.hosts import install_test_results
from generator.synthetic.machines import REGRESSION_DAYS, REGRESSION_PACKAGE, REGRESSION_VERSION
from installdata.errors import UserError, run_cli

REPO_ROOT = Path(__file__).resolve().parent.parent
MARKER = ".made-by-demo"  # only a folder holding this file is ever wiped
START_TIMEOUT = 60.0  # seconds for the collector to come up on a slow, shared machine
STOP_TIMEOUT = 20.0
CLIENT_TIMEOUT = 60.0  # seconds for one run of the client (its own budget is shorter)
POSTING_THREADS = 4  # people posting at once: the client starts a Python each time
SWITCH_DAYS = 120
"""Days ago the demo deployment switched from the Software Carpentry scripts to the
installation test: the history before is in the scripts' words, after in the test's."""
UPCOMING = ((4, "carpentry-online"), (11, "carpentry-leipzig"), (25, "carpentry-lyon"))
"""Days from today and names of the workshops the live posts prepare for."""


class DemoError(UserError):
    """The demo could not finish; the message says which step failed."""


@dataclass(frozen=True)
class DemoSummary:
    history: int  # files dropped straight into the folder
    posted: int  # submissions the collector accepted over HTTP
    people: int
    reused_ids: int  # posts that sent back the id issued on an earlier run
    collector_pid: int
    index_html: Path


def run_demo(
    workdir: Path = REPO_ROOT / ".demo",
    site_dir: Path = REPO_ROOT / "site",
    people: int = 200,
    history: int = 3000,
    seed: int = 2026,
) -> DemoSummary:
    """Run every step; raise ``DemoError`` on failure, after stopping the collector."""
    workdir = workdir.resolve()
    site_dir = site_dir.resolve()
    _fresh_folder(workdir)
    key = "demo-" + secrets.token_urlsafe(18)
    config_path = _write_config(workdir, site_dir, key)
    now = datetime.now(timezone.utc)

    switch = _days_ago(SWITCH_DAYS).replace(hour=0, minute=0, second=0, microsecond=0)
    written = write_files(
        workdir / "submissions", history, seed=seed + 1, end=now, install_test_from=switch
    )
    _say(f"dropped {written} older synthetic submissions into {workdir / 'submissions'}")
    _say("  (as an importer would, docs/file-format.md: HTTP cannot backdate, charts need history)")

    process = _start_collector(config_path, workdir)
    try:
        url = _wait_until_listening(process, workdir / "collector.out", workdir)
        _say(f"collector listening on {url}")
        upcoming = [f"{now + timedelta(days=days):%Y-%m-%d}-{name}" for days, name in UPCOMING]
        posted, reused = _post_people(url, key, workdir / "ids", people, seed, upcoming)
        _say(f"posted {posted} submissions of {people} people through the reference client")
        _say(f"  ({reused} re-runs sent back the id they were issued; received_at is now)")
    finally:
        code = stop_process(process)
    _say(f"collector stopped (exit status {code})")

    _build(config_path, site_dir)
    index_html = site_dir / "index.html"
    if not index_html.is_file():
        raise DemoError(f"the build finished but {index_html} is missing")
    return DemoSummary(written, posted, people, reused, process.pid, index_html)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m generator.demo", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--workdir", type=Path, default=REPO_ROOT / ".demo", help="wiped first")
    parser.add_argument("--site", type=Path, default=REPO_ROOT / "site", help="output folder")
    parser.add_argument("--people", type=int, default=200, help="people posting over HTTP")
    parser.add_argument("--history", type=int, default=3000, help="older files dropped in")
    args = parser.parse_args(argv)

    def command() -> int:
        summary = run_demo(args.workdir, args.site, args.people, args.history)
        print(summary.index_html, flush=True)
        return 0

    return run_cli(command)


# --- the steps ------------------------------------------------------------------------------


def _fresh_folder(workdir: Path) -> None:
    """Empty ``workdir``, but only if the demo made it: never wipe someone's folder by mistake."""
    if workdir.exists():
        if any(workdir.iterdir()) and not (workdir / MARKER).exists():
            raise DemoError(f"{workdir} exists and was not made by the demo; not wiping it")
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    (workdir / MARKER).write_text("python -m generator.demo wipes this folder on every run\n")


DEMO_COLLECTOR_URL = "http://127.0.0.1:8080"  # the collector's default port


def _write_config(workdir: Path, site_dir: Path, key: str) -> Path:
    config = {
        "collector": {
            "host": "127.0.0.1",
            "submissions_dir": "submissions",
            "keys": {"demo": key},
            "id_secret_file": "id-secret",
            "rate_limit": {"requests": 100_000, "per_seconds": 3600},  # all posts share one IP
        },
        "generator": {
            "submissions_dir": "submissions",
            "site_dir": str(site_dir),
            "title": "Installation test results (demo data)",
            # The day the synthetic regression starts (generator/synthetic/machines.py), so
            # the demo's event has a before/after comparison with something to show.
            # And the day the installation test replaced the swc scripts (see SWITCH_DAYS).
            "events": {
                f"{_days_ago(SWITCH_DAYS):%Y-%m-%d}": "install-test.py replaces the swc scripts",
                f"{_days_ago(REGRESSION_DAYS):%Y-%m-%d}": (
                    f"{REGRESSION_PACKAGE} {REGRESSION_VERSION} released"
                ),
            },
            # Where `python -m collector serve --config .demo/config.yaml` listens afterwards,
            # so the demo site's submit page and installation test point at it.
            "collector_url": DEMO_COLLECTOR_URL,
            "install_test": {"url": DEMO_COLLECTOR_URL, "key": key},
        },
    }
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def _days_ago(days: int) -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=days)


def _start_collector(config_path: Path, workdir: Path) -> subprocess.Popen[bytes]:
    """Start ``python -m collector serve`` on a free port; output goes to files, not pipes."""
    command = [sys.executable, "-m", "collector", "serve", "--config", str(config_path)]
    with (
        (workdir / "collector.out").open("wb") as out,
        (workdir / "collector.err").open("wb") as err,
    ):
        return subprocess.Popen(
            [*command, "--port", "0"], cwd=workdir, env=_child_env(), stdout=out, stderr=err
        )


def _wait_until_listening(process: subprocess.Popen[bytes], out: Path, workdir: Path) -> str:
    """The URL the collector announced, once ``/healthz`` answers 200."""
    deadline = time.monotonic() + START_TIMEOUT
    url = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DemoError(
                f"the collector exited with {process.returncode}: {_last_line(workdir)}"
            )
        url = url or _announced_url(out)
        if url and _healthy(url):
            return url
        time.sleep(0.1)
    raise DemoError(f"the collector did not become healthy within {START_TIMEOUT:.0f} s")


def _post_people(
    url: str, key: str, ids: Path, count: int, seed: int, upcoming: list[str]
) -> tuple[int, int]:
    """Post every run of ``count`` synthetic people; return (posted, runs that reused an id).

    Each run is the reference client's command line, fed what the installation test would
    hand it (its check names, versions and whole messages; docs/install-test.md), so the demo
    drives the collector exactly as the wire protocol says (docs/protocol.md).
    People post side by side, each person's runs one after the other. A person who came with
    a workshop posts for one of the ``upcoming`` ones: people test their laptops the week
    before, so today's posts are for workshops still to come.
    """
    ids.mkdir()
    people = [
        (number, _for_upcoming(person, upcoming[number % len(upcoming)]))
        for number, person in enumerate(iter_people(count, seed=seed))
    ]
    with ThreadPoolExecutor(POSTING_THREADS) as pool:
        totals = list(pool.map(lambda item: _post_person(url, key, ids, *item), people))
    return sum(posted for posted, _ in totals), sum(reused for _, reused in totals)


def _post_person(url: str, key: str, ids: Path, number: int, person: Person) -> tuple[int, int]:
    """Post one person's runs in order; return (posted, runs that sent back their id)."""
    id_file = ids / f"person-{number:04d}"
    posted = reused = 0
    for attempt in person.attempts:
        if attempt.lost_id:  # a new laptop, a cleaned home folder: the server issues a new id
            id_file.unlink(missing_ok=True)
        sent_id = id_file.read_text(encoding="utf-8") if id_file.exists() else None
        results = install_test_results(person, attempt)
        command = [sys.executable, "-m", "collector.client", "-", "--url", url]
        command += ["--key", key, "--id-file", str(id_file)]
        for flag, value in (("--workshop", results["workshop_id"]), ("--email", results["email"])):
            command += [flag, value] if value else []
        lists = {name: results[name] for name in ("successful_installs", "failed_installs")}
        run = subprocess.run(
            command,
            input=json.dumps({**lists, "user_system_info": results["user_system_info"]}).encode(),
            capture_output=True,
            env=_child_env(),
            timeout=CLIENT_TIMEOUT,
            check=False,
        )
        if run.returncode != 0:
            said = run.stderr.decode(errors="replace").strip().splitlines()
            raise DemoError(f"posting failed: {said[-1] if said else run.returncode}")
        posted += 1
        reused += sent_id is not None and id_file.read_text(encoding="utf-8") == sent_id
    return posted, reused


def _for_upcoming(person: Person, workshop: str) -> Person:
    """``person`` with every run that named a workshop naming ``workshop`` instead."""
    attempts = []
    for attempt in person.attempts:
        info = attempt.payload["user_system_info"]
        if info.get("workshop_id"):
            info = {**info, "workshop_id": workshop}
        payload = Payload(
            user_system_info=info,
            successful_installs=attempt.payload["successful_installs"],
            failed_installs=attempt.payload["failed_installs"],
        )
        attempts.append(dataclasses.replace(attempt, payload=payload))
    return dataclasses.replace(person, attempts=tuple(attempts))


def stop_process(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> int:
    """SIGTERM (the collector then drains), SIGKILL after ``timeout``; the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def _build(config_path: Path, site_dir: Path) -> None:
    _say(f"building the report site into {site_dir}")
    command = [sys.executable, "-m", "generator", "build", "--config", str(config_path)]
    # Each run starts its data afresh, so a report smaller than the last one is meant.
    command += ["--site", str(site_dir), "--allow-shrink"]
    build = subprocess.run(command, env=_child_env(), check=False)
    if build.returncode != 0:
        raise DemoError(f"python -m generator build failed with exit status {build.returncode}")


# --- small helpers --------------------------------------------------------------------------


def _child_env() -> dict[str, str]:
    """This environment, with the checkout importable (also when it is not pip-installed)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def _announced_url(out: Path) -> str | None:
    prefix = "collector listening on "
    for line in out.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith(prefix):
            return line[len(prefix) :].strip().rstrip("/")
    return None


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
            return response.status == 200 and isinstance(json.loads(response.read()), dict)
    except (OSError, ValueError):
        return False


def _last_line(workdir: Path) -> str:
    text = (workdir / "collector.err").read_text(encoding="utf-8", errors="replace").strip()
    return text.splitlines()[-1] if text else "(no output)"


def _say(message: str) -> None:
    print(f"demo: {message}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
