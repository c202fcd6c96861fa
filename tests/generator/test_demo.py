"""``make demo`` end to end, in tmp_path: real collector, real client, real build."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timezone

import pytest

from generator import demo
from installdata.installtest.checks import KNOWN_CHECKS
from installdata.installtest.client import system_info
from installdata.installtest.probe import full_name
from support.files import read_records


@pytest.fixture
def started(monkeypatch) -> list[subprocess.Popen[bytes]]:
    """Every collector process the demo starts, so a test can check it was stopped."""
    processes: list[subprocess.Popen[bytes]] = []
    original = demo._start_collector

    def recording(*args, **kwargs):
        process = original(*args, **kwargs)
        processes.append(process)
        return process

    monkeypatch.setattr(demo, "_start_collector", recording)
    return processes


def test_demo_posts_builds_and_stops_the_collector(tmp_path, capsys, started) -> None:
    workdir, site = tmp_path / "demo", tmp_path / "site"
    arguments = [
        "--workdir",
        str(workdir),
        "--site",
        str(site),
        "--people",
        "30",
        "--history",
        "150",
    ]
    assert demo.main(arguments) == 0

    last_line = capsys.readouterr().out.strip().splitlines()[-1]
    assert last_line == str((site / "index.html").resolve())
    [process] = started
    assert process.returncode == 0  # stopped gracefully by SIGTERM, not left running

    stored = list(read_records(workdir / "submissions").values())
    posted = [record for record in stored if record["key_name"] == "demo"]
    assert len(stored) - len(posted) == 150  # the history dropped in as an importer would
    assert len(posted) > 30  # some of the 30 people ran the script more than once
    by_user = {}
    for record in posted:
        by_user.setdefault(record["user_id"], []).append(record)
    assert any(len(runs) > 1 for runs in by_user.values())  # re-runs reused the issued id

    index = json.loads((site / "index.json").read_text(encoding="utf-8"))
    assert index["totals"]["submissions"] == len(stored)
    distinct_ids = len({record["user_id"] for record in stored})
    assert 0 < index["totals"]["users"] <= distinct_ids
    assert index["failing_packages"]
    # The live posts prepare for upcoming workshops; the history's workshops are past.
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    live = {r["user_system_info"].get("workshop_id") for r in posted} - {None}
    assert live and all(name[:10] > today for name in live)
    past = {r["user_system_info"].get("workshop_id") for r in stored if r not in posted}
    assert any(name and name[:10] < today for name in past)
    assert_what_the_installation_test_sends(posted)
    # the demo site publishes the installation test, pointed at the demo's collector
    published = (site / "install-test.py").read_text(encoding="utf-8")
    assert "COLLECTOR_URL: str | None = 'http://127.0.0.1:8080'" in published

    # repeatable: a second run wipes the first one's data instead of adding to it
    summary = demo.run_demo(workdir, site, people=3, history=5)
    assert len(read_records(workdir / "submissions")) == 5 + summary.posted
    assert all(process.poll() is not None for process in started)


def assert_what_the_installation_test_sends(posted: list[dict]) -> None:
    """The live posts have the installation test's shape (docs/install-test.md)."""
    names = {full_name(check) for check in KNOWN_CHECKS}
    sent = [e for r in posted for e in r["successful_installs"] + r["failed_installs"]]
    assert {entry["name"] for entry in sent} <= names
    assert {"Git (git)", "make", "Python version (python)", "NumPy (numpy)"} <= {
        entry["name"] for entry in sent
    }
    passing_shells = [
        entry["version"]
        for record in posted
        for entry in record["successful_installs"]
        if entry["name"].endswith("(virtual-shell)")
    ]
    assert any(version.startswith("Bourne Again Shell (bash) ") for version in passing_shells)
    failed = [entry for record in posted for entry in record["failed_installs"]]
    assert failed and all(  # the whole message, causes included, as the probe words it
        entry["error_description"].startswith(("errors finding ", "could not import the ",
                                               "outdated version of ", "no version found"))
        or " requires at least one of the following dependencies\ncauses:\n"
        in entry["error_description"]
        for entry in failed
    )  # fmt: skip
    assert any("\ncauses:\n  could not find 'make' executable" in e["error_description"]
               for e in failed)  # fmt: skip
    fields = set(system_info()) | {"workshop_id", "email_id"}
    assert all(set(record["user_system_info"]) == fields for record in posted)


def test_a_failed_post_still_stops_the_collector(tmp_path, monkeypatch, started) -> None:
    post_people = demo._post_people
    monkeypatch.setattr(  # the real client, with a key the collector refuses
        demo, "_post_people", lambda url, _key, *rest: post_people(url, "not-the-key", *rest)
    )
    with pytest.raises(demo.DemoError, match=r"posting failed: .*not valid"):
        demo.run_demo(tmp_path / "demo", tmp_path / "site", people=2, history=0)
    [process] = started
    assert process.poll() is not None
    assert not (tmp_path / "site").exists()


def test_never_wipes_a_folder_it_did_not_make(tmp_path, capsys) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    assert demo.main(["--workdir", str(precious), "--site", str(tmp_path / "site")]) == 2
    assert "not made by the demo" in capsys.readouterr().err
    assert (precious / "thesis.tex").read_text() == "years of work"
