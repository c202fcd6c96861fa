"""Error groups that respect names and causes: digits of a name stay, chains group inside."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from generator import causes, messages
from generator.build import build_site
from generator.slugs import package_path
from installdata.config import GeneratorConfig
from support.files import write_submission

SETUP = "For instructions on installing an up-to-date version, see"

# As the Software Carpentry script prints them: a check that failed because its causes did.
SHELL = f"""check for command line shell (virtual-shell) failed:
  command line shell (virtual-shell) requires at least one of the following dependencies
  {SETUP}
  http://software-carpentry.org/setup/
  causes:
  check for Bourne Again Shell (bash) failed:
    could not find 'bash' executable for Bourne Again Shell (bash)
    {SETUP}
    http://www.gnu.org/software/bash/manual/html_node/Basic-Installation.html#Basic-Installation
  check for Z shell (zsh) failed:
    could not find 'zsh' executable for Z shell (zsh)
    {SETUP}
    http://www.zsh.org/"""
PYTHON = """check for Python version (python) failed:
  outdated version of Python (python): 2.7.18 (expected >= 3.6)
  causes:
  check for Python 3 (python3) failed:
    some dependencies for Python 3 (python3) were not satisfied
    causes:
    check for pip (pip3) failed:
      could not find 'pip3' executable for pip (pip3) in /home/annsmith/.local/bin"""


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        (
            "could not find 'sqlite3' executable for sqlite3",
            "could not find 'sqlite3' executable for sqlite3",
        ),
        ("python3 -m pip: exit 2", "python3 -m pip: exit <n>"),
        ("hdf5 and log4j and x86_64 and 64bit", "hdf5 and log4j and x86_64 and 64bit"),
        ("Python 3.11.2 is older than 3.12", "Python <version> is older than <version>"),
        ("found 12 files in 3 folders", "found <n> files in <n> folders"),
        ("Python 3 (python3) needs 2 GB", "Python <n> (python3) needs <n> GB"),
    ],
)
def test_digits_of_a_name_stay_while_numbers_and_versions_are_placeholders(
    text: str, pattern: str
) -> None:
    assert messages.normalise(pd.Series([text]))[0] == pattern


def test_a_chain_is_grouped_by_its_innermost_cause() -> None:
    assert causes.innermost(PYTHON) == (
        "check for pip (pip3) failed:\n"
        "  could not find 'pip3' executable for pip (pip3) in /home/annsmith/.local/bin"
    )
    assert messages.normalise(pd.Series([PYTHON]))[0] == (
        "check for pip (pip3) failed: could not find 'pip3' executable for pip (pip3) in <path>"
    )


def test_of_equally_deep_causes_the_first_is_the_group() -> None:
    # Each alternative shell failed; the script lists them in a fixed order.
    assert messages.normalise(pd.Series([SHELL]))[0] == (
        "check for Bourne Again Shell (bash) failed: could not find 'bash' executable for "
        f"Bourne Again Shell (bash) {SETUP} <url>"
    )


def test_the_chain_is_each_check_outermost_first_and_scrubbed() -> None:
    chain = messages.analyse(pd.Series([PYTHON])).chains[0]

    assert chain == [
        "check for Python version (python) failed: outdated version of Python (python): 2.7.18"
        " (expected >= 3.6)",
        "check for Python 3 (python3) failed: some dependencies for Python 3 (python3) were not"
        " satisfied",
        "check for pip (pip3) failed: could not find 'pip3' executable for pip (pip3) in"
        " /home/<user>/.local/bin",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "check for make failed:\n  could not find 'make' executable for make",
        "causes: none given",
        "check for a failed:\n  x\n  causes:\ncheck for b failed:\n  y",  # not nested: no chain
    ],
)
def test_a_message_without_nested_checks_has_no_chain_and_keeps_its_text(text: str) -> None:
    assert causes.chain(text) == []
    assert causes.innermost(text) == text


def test_package_page_groups_chains_by_their_cause_and_shows_the_chain(tmp_path: Path) -> None:
    # Two outer checks (different Python versions found) with one cause: one group.
    other = PYTHON.replace("2.7.18", "3.4.0").replace("annsmith", "bob")
    submissions, site = tmp_path / "submissions", tmp_path / "site"
    for number, text in enumerate([PYTHON, PYTHON, other]):
        write_submission(submissions, user_id=f"u{number}", failed=["Python (python)"], error=text)

    build_site(GeneratorConfig(submissions_dir=submissions, site_dir=site))

    page = site / package_path("python")
    [group] = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))["errors"]

    assert group["message"] == (
        "check for pip (pip3) failed: could not find 'pip3' executable for pip (pip3) in <path>"
    )
    assert (group["count"], group["users"]) == (3, 3)
    assert len(group["chain"]) == 3 and "2.7.18" in group["chain"][0]  # the example's chain
    assert "annsmith" not in repr(group)
    assert "Caused by" in page.read_text(encoding="utf-8")
