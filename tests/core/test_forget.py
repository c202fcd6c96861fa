"""``python -m collector forget`` and ``prune`` against submissions a real collector stored.

Everything is posted over HTTP to the running collector, the commands run as subprocesses
while it keeps serving, and the report built afterwards must no longer count what was removed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from installdata.storage import SubmissionStore
from support.collector_process import RunningCollector
from support.commands import run_python
from support.files import payload, submission
from support.web import post_json


def submit(running: RunningCollector, email: str | None, workshop: str | None,
           key: str | None = None, failed: list[str] = ()) -> str:  # fmt: skip
    """Post one submission; return the user id ("key") the collector issued or kept."""
    body = payload(email_id=email, workshop_id=workshop, unique_user_id=key, failed=failed)
    status, _, answer = post_json(running.url + "/installation_data/", body, key=running.key)
    assert status == 200, answer
    return answer["key"]


def populate(running: RunningCollector) -> dict[str, Any]:
    """Four people, seven submissions; returns their ids."""
    alice = submit(running, "alice@example.org", "ws-1", failed=["make"])
    assert submit(running, "alice@example.org", "ws-1", key=alice) == alice  # re-run, same id
    # Lost her key file: a new id, linked to the first by the (email, workshop) pair.
    alice_again = submit(running, "  Alice@Example.ORG ", "ws-1", failed=["make"])
    assert alice_again != alice
    # The same address at another workshop under a new id: another person (docs/counting.md).
    alice_ws2 = submit(running, "alice@example.org", "ws-2", failed=["git"])
    bob = submit(running, "bob@example.org", "ws-1", failed=["git"])
    assert submit(running, "bob@example.org", "ws-1", key=bob) == bob
    carol = submit(running, None, "ws-2", failed=["make"])
    assert len(running.submission_files()) == 7
    return {"alice": alice, "alice_again": alice_again, "alice_ws2": alice_ws2, "bob": bob,
            "carol": carol}  # fmt: skip


def collector_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_python("-m", "collector", *args)


def user_ids(running: RunningCollector) -> list[str]:
    return sorted(json.loads(p.read_bytes())["user_id"] for p in running.submission_files())


def build_totals(running: RunningCollector, tmp_path: Path) -> dict[str, int]:
    site = tmp_path / "site"
    built = run_python("-m", "generator", "build", "--config", str(running.config_path),
                       "--submissions", str(running.submissions_dir), "--site", str(site),
                       timeout=300)  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    return json.loads((site / "index.json").read_text(encoding="utf-8"))["totals"]


def test_forget_by_user_id_takes_every_linked_attempt(start_collector, tmp_path: Path) -> None:
    running = start_collector()
    ids = populate(running)

    # The two-word form: issued ids never start with "-", so argparse cannot take one for
    # an option.
    done = collector_cli("forget", "--config", str(running.config_path), "--user-id", ids["alice"])

    assert done.returncode == 0, done.stderr
    assert done.stdout == "removed 3 submission files of 1 person\n"
    left = user_ids(running)
    assert ids["alice"] not in left and ids["alice_again"] not in left
    assert sorted(left) == sorted([ids["alice_ws2"], ids["bob"], ids["bob"], ids["carol"]])
    assert running.process.poll() is None  # the collector kept serving
    totals = build_totals(running, tmp_path)
    # bob's re-run fixed git, so only alice at ws-2 and carol are failing now.
    assert (totals["submissions"], totals["users"], totals["users_with_failures"]) == (4, 3, 2)


def test_forget_by_email_matches_case_and_space_insensitively(start_collector, tmp_path) -> None:
    running = start_collector()
    ids = populate(running)
    config = str(running.config_path)

    preview = collector_cli(
        "forget", "--config", config, "--email", " ALICE@example.org", "--dry-run"
    )
    assert preview.returncode == 0, preview.stderr
    assert preview.stdout.startswith("would remove 4 submission files of 2 people:\n")
    assert len(running.submission_files()) == 7  # a dry run deletes nothing
    assert "alice" not in preview.stdout.lower()  # only file names, never the address

    done = collector_cli("forget", "--config", config, "--email", " ALICE@example.org")

    assert done.returncode == 0, done.stderr
    assert done.stdout == "removed 4 submission files of 2 people\n"
    assert user_ids(running) == sorted([ids["bob"], ids["bob"], ids["carol"]])
    totals = build_totals(running, tmp_path)
    assert (totals["submissions"], totals["users"]) == (3, 2)

    again = collector_cli("forget", "--config", config, "--email", "alice@example.org")
    assert again.returncode == 0
    assert again.stdout == "no submissions found for that email address; nothing removed\n"


def test_forgetting_everyone_while_serving_then_posting_again(start_collector) -> None:
    running = start_collector()
    ids = populate(running)
    config = str(running.config_path)
    for name in ("alice", "alice_ws2", "bob", "carol"):
        assert collector_cli("forget", "--config", config, f"--user-id={ids[name]}").returncode == 0
    assert running.submission_files() == []
    # The emptied day folder was removed; the collector stores the next submission anyway.
    submit(running, "dave@example.org", "ws-3")
    assert len(running.submission_files()) == 1
    assert (running.submissions_dir / ".tmp").is_dir()  # dot-folders are never touched


def test_forget_unknown_user_id_is_not_an_error(start_collector) -> None:
    running = start_collector()
    submit(running, "erin@example.org", "ws-1")

    done = collector_cli("forget", "--config", str(running.config_path), "--user-id", "nobody")

    assert done.returncode == 0, done.stderr
    assert done.stdout == "no submissions found for that user id; nothing removed\n"
    assert len(running.submission_files()) == 1


def old_submission(number: int, days_ago_date: str) -> dict[str, Any]:
    return submission(submission_id=f"dropped-old-{number:04d}",
                      received_at=f"{days_ago_date}T12:00:00.000000Z",
                      user_id=f"old-user-{number}", successful=[], failed=["make"])  # fmt: skip


def test_prune_removes_only_submissions_past_retention(start_collector, tmp_path: Path) -> None:
    running = start_collector(retention_days=30)
    submit(running, "frank@example.org", "ws-1", failed=["make"])
    submit(running, "grace@example.org", "ws-1")
    store = SubmissionStore(running.submissions_dir)  # files dropped in by hand, dated earlier
    for number, day in enumerate(["2020-01-01", "2020-01-01", "2021-06-30"]):
        store.save(old_submission(number, day))
    config = str(running.config_path)

    preview = collector_cli("prune", "--config", config, "--dry-run")
    assert preview.stdout.startswith("would remove 3 submission files received before ")
    assert len(running.submission_files()) == 5

    done = collector_cli("prune", "--config", config)

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("removed 3 submission files received before ")
    emails = [json.loads(p.read_bytes())["user_system_info"]["email_id"]
              for p in running.submission_files()]  # fmt: skip
    assert sorted(emails) == ["frank@example.org", "grace@example.org"]
    assert not (running.submissions_dir / "2020-01-01").exists()
    assert len(running.submission_files()) == 2
    assert build_totals(running, tmp_path)["submissions"] == 2


def test_prune_without_retention_deletes_nothing(start_collector) -> None:
    running = start_collector()
    SubmissionStore(running.submissions_dir).save(old_submission(1, "2019-05-05"))

    done = collector_cli("prune", "--config", str(running.config_path))

    assert done.returncode == 0, done.stderr
    assert "retention is off" in done.stdout
    assert len(running.submission_files()) == 1


@pytest.mark.parametrize("command", [["forget", "--user-id", "x"], ["prune"]])
def test_bad_config_is_one_line_error(tmp_path: Path, command: list[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"collector": {"retention_dayz": 3}}), encoding="utf-8")

    done = collector_cli(command[0], "--config", str(config), *command[1:])

    assert done.returncode == 2
    assert done.stderr.startswith("error: collector.retention_dayz: unknown key")
    assert done.stderr.count("\n") == 1
    assert done.stdout == ""


def test_blank_email_is_refused_not_matched_to_everyone_without_one(tmp_path: Path) -> None:
    store = SubmissionStore(tmp_path / "submissions")
    store.save(old_submission(1, "2024-01-01"))
    config = tmp_path / "config.yaml"
    config.write_text("collector:\n  submissions_dir: submissions\n", encoding="utf-8")

    done = collector_cli("forget", "--config", str(config), "--email", "   ")

    assert (done.returncode, done.stderr) == (2, "error: --email is empty\n")
    assert len(list((tmp_path / "submissions").rglob("*.json"))) == 1
