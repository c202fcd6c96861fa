"""Real runs of the published file against fake tools and packages: the report, the payload."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

from installtest.conftest import Machine


def payload(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def failures_by_name(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in data["failed_installs"]}


def test_tools_that_answer_are_silent_hang_or_fail(machine: Machine, script: Path) -> None:
    machine.tool("git", 'echo "git version 2.39.2"')
    machine.tool("hg", 'echo "Mercurial Distributed SCM (version 4.1)"')  # too old
    machine.tool("make", "/bin/sleep 60")  # hangs: stopped by the timeout, with its child
    machine.tool("sqlite3", "true")  # prints nothing, but a minimum is asked for
    machine.tool("vi", "true")  # prints nothing, no minimum: present is enough
    machine.tool("nano", 'echo "Error opening terminal" >&2; exit 3')
    ran = machine.run(
        script, "--only", "git,hg,make,sqlite3,vi,nano", "--no-submit", "--json", "out.json"
    )
    assert ran.status == 1, ran.out
    assert ran.seconds < 20, "the hanging make was not stopped in time"
    data = payload(machine.root / "out.json")
    assert data["successful_installs"] == [
        {"name": "Git (git)", "version": "2.39.2"},
        {"name": "vi", "version": None},
    ]
    failed = failures_by_name(data)
    assert list(failed) == ["Mercurial (hg)", "make", "SQLite 3 (sqlite3)", "Nano (nano)"]
    assert failed["Mercurial (hg)"]["version"] == "4.1"  # its own version, never git's
    assert failed["Mercurial (hg)"]["error_description"] == (
        "outdated version of Mercurial (hg): 4.1 (need >= 5.0)"
    )
    assert failed["make"]["version"] is None
    make = failed["make"]["error_description"]
    assert make.startswith("errors finding make version\ncauses:\n")
    assert f"no answer within 2 s from: {machine.bin / 'make'} -f - (stopped it)" in make
    assert "could not find 'gmake' executable" in make
    sqlite = failed["SQLite 3 (sqlite3)"]
    assert sqlite["version"] is None
    assert "no version string in the output of: " in sqlite["error_description"]
    nano = failed["Nano (nano)"]["error_description"]
    assert "failed to execute: " in nano and "status: 3" in nano
    assert "Error opening terminal" in nano  # the whole cause, not only the outer message


def test_the_report_says_what_was_found_needed_and_where_to_look(
    machine: Machine, script: Path
) -> None:
    machine.tool("git", 'echo "git version 1.6.0"')
    ran = machine.run(script, "--only", "git,python", "--no-submit")
    assert ran.status == 1
    lines = ran.out.splitlines()
    assert lines[0] == f"Installation test on {lines[0].split(' on ', 1)[1]}"
    assert "check Git (git)...".ljust(48) + " FAIL" in lines
    assert f"{'check Python version (python)...':<48} pass  {platform.python_version()}" in lines
    block = ran.out.split("\nFailures:\n\n", 1)[1].split("\n\n", 1)[0]
    assert block == (
        "check for Git (git) failed:\n"
        "  found: 1.6.0; needed: version 2.0 or newer\n"
        "  outdated version of Git (git): 1.6.0 (need >= 2.0)\n"
        "  For instructions on installing an up-to-date version, see\n"
        "  https://git-scm.com/downloads"
    )
    assert "1 of 2 checks failed." in ran.out
    assert ran.out.rstrip().endswith("Results not sent (--no-submit).")
    assert "\033[" not in ran.out  # NO_COLOR, and no terminal anyway


def test_all_passing_exits_zero(machine: Machine, script: Path) -> None:
    machine.tool("git", 'echo "git version 2.45.0"')
    ran = machine.run(script, "--only", "git", "--no-submit")
    assert ran.status == 0, ran.out
    assert "All 1 checks passed" in ran.out


def test_alternatives_any_one_will_do(machine: Machine, script: Path) -> None:
    machine.tool("nano", "exit 2")
    machine.tool("emacs", 'echo "GNU Emacs 29.1"')
    ran = machine.run(
        script, "--only", "virtual-editor,virtual-shell", "--no-submit", "--json", "out.json"
    )
    data = payload(machine.root / "out.json")
    assert data["successful_installs"] == [
        {"name": "text/code editor (virtual-editor)", "version": "Emacs (emacs) 29.1"}
    ]
    (shell,) = data["failed_installs"]
    assert shell["name"] == "command line shell (virtual-shell)"
    assert shell["version"] is None
    text = shell["error_description"]
    assert text.startswith(
        "command line shell (virtual-shell) requires at least one of the following dependencies"
        "\ncauses:\n  check for Bourne Again Shell (bash) failed:\n"
    )
    for name in ("bash", "zsh", "dash", "sh"):
        assert f"could not find '{name}' executable" in text
    assert ran.status == 1


def test_packages_too_old_broken_or_fine(machine: Machine, script: Path) -> None:
    machine.package("numpy", '__version__ = "1.0.3"\n')
    machine.package("pandas", "import numpy\nraise RuntimeError('built for another NumPy')\n")
    machine.package("matplotlib", '__version__ = "3.8.0"\n')
    ran = machine.run(
        script, "--only", "numpy,pandas,matplotlib,python", "--no-submit", "--json", "out.json"
    )
    assert ran.status == 1
    data = payload(machine.root / "out.json")
    assert data["successful_installs"] == [
        {"name": "Matplotlib (matplotlib)", "version": "3.8.0"},
        {"name": "Python version (python)", "version": platform.python_version()},
    ]
    failed = failures_by_name(data)
    assert failed["NumPy (numpy)"] == {
        "name": "NumPy (numpy)",
        "version": "1.0.3",
        "error_description": "outdated version of NumPy (numpy): 1.0.3 (need >= 1.20)",
    }
    pandas = failed["Pandas (pandas)"]
    assert pandas["version"] is None
    text = pandas["error_description"]
    assert text.startswith("could not import the 'pandas' package for Pandas (pandas)\ncauses:\n")
    assert "  Traceback (most recent call last):" in text
    assert "RuntimeError: built for another NumPy" in text


def test_payload_describes_the_system_and_the_learner(machine: Machine, script: Path) -> None:
    machine.tool("git", 'echo "git version 2.45.0"')
    ran = machine.run(
        script, "--only", "git", "--no-submit", "--json", "out.json",
        "--workshop", "2026-05-01-oslo", "--email", "ada@example.org",
    )  # fmt: skip
    assert ran.status == 0
    data = payload(machine.root / "out.json")
    assert set(data) == {
        "user_system_info", "successful_installs", "failed_installs", "unique_user_id"
    }  # fmt: skip
    info = data["user_system_info"]
    assert info["system"] == platform.system()
    assert info["machine"] == platform.machine()
    assert info["python_version"] == platform.python_version()
    assert info["distribution_name"]  # from /etc/os-release
    assert info["workshop_id"] == "2026-05-01-oslo"
    assert info["email_id"] == "ada@example.org"
    assert data["failed_installs"] == []
    assert data["unique_user_id"] is None  # a first run


def test_unknown_check_names_the_known_ones(machine: Machine, script: Path) -> None:
    ran = machine.run(script, "--only", "gti", "--no-submit")
    assert ran.status == 2
    assert "unknown check ['gti']" in ran.out and "virtual-shell" in ran.out
