"""Package identity: the key results are counted by, the name shown for it, and aliases."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from generator.identity import identify, package_key, package_keys
from generator.slugs import package_path
from support.commands import build_with
from support.files import write_submission


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Git (git)", "git"),
        ("SQLite 3 (sqlite3)", "sqlite3"),
        ("make", "make"),
        ("py.test", "py.test"),
        ("EasyMercurial", "EasyMercurial"),
        ("ipython", "ipython"),
        ("IPython", "IPython"),  # keys compare exactly: two packages
        ("  Make (make)  ", "make"),  # trimmed
        ("make   ", "make"),
        ("Git ( git )", "git"),
        ("Nothing inside ()", "Nothing inside ()"),  # empty parentheses name no key
        ("(git) the tool", "(git) the tool"),  # not at the end
        ("Python 3 (python) (conda)", "conda"),  # the final pair
    ],
)
def test_the_key_is_the_text_in_the_final_parentheses_else_the_trimmed_name(
    name: str, key: str
) -> None:
    assert package_key(name) == key
    assert package_keys(pd.Series([name])).tolist() == [key]
    assert package_key(key) == key  # a key is its own key


def test_the_display_name_is_the_most_frequent_full_name_ties_first_in_sort_order() -> None:
    names = ["make", "Make (make)", "make", "Git (git)", "git", "IPython", "ipython", None]
    packages = identify(pd.Series(names, dtype=object))

    shown = dict(zip(packages.keys, packages.coded.labels, strict=True))
    assert shown == {
        "make": "make",  # two entries against one
        "git": "Git (git)",  # one each: "G" sorts before "g"
        "IPython": "IPython",
        "ipython": "ipython",
        "unknown": "unknown",  # no name at all
    }
    codes = packages.coded.codes.tolist()
    assert codes[0] == codes[1] == codes[2] and codes[3] == codes[4] and codes[5] != codes[6]


def test_aliases_map_a_name_or_a_key_to_the_key_they_mean() -> None:
    names = pd.Series(["GNU Make", "Make (make)", "Git for Windows (git-win)", "git"])
    keys = package_keys(names, {"GNU Make": "make", "git-win": "Git (git)"})

    # By name, and by key; a target written as a full name means its key.
    assert keys.tolist() == ["make", "make", "git", "git"]


def test_a_page_path_follows_the_key_so_it_survives_a_change_of_display_name() -> None:
    assert package_path("Make (make)") == package_path("make") != package_path("Make")
    assert package_path("IPython") != package_path("ipython")


def _json(site: Path, path: str) -> dict:
    return json.loads((site / path).with_suffix(".json").read_text(encoding="utf-8"))


def test_make_and_make_in_parentheses_are_one_package_in_a_real_build(tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    # Ann's script says "make", Bob's "Make (make)"; Cy's lists both (one failing): once.
    write_submission(submissions, user_id="ann", failed=["make"], successful=[])
    write_submission(submissions, user_id="bob", failed=["Make (make)"], successful=[])
    write_submission(submissions, user_id="cy", successful=["make"], failed=["Make (make)"])
    write_submission(submissions, user_id="dee", successful=["make"])

    site = build_with(tmp_path)

    index = _json(site, "index.html")
    [make] = [row for row in index["failing_packages"] if row["href"] == package_path("make")]
    assert make["name"] == "make"  # three entries against two
    assert (make["tested_users"], make["failing_users"], make["attempts"]) == (4, 3, 4)
    assert index["totals"]["packages"] == 1
    page = _json(site, make["href"])
    assert (page["name"], page["tested_users"], page["failing_users"]) == ("make", 4, 3)
    assert not (site / package_path("Make")).exists()


def test_an_alias_merges_two_keys_in_a_real_build(tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    write_submission(submissions, user_id="ann", failed=["GNU Make (gmake)"], successful=[])
    write_submission(submissions, user_id="bob", failed=["make"], successful=[])
    write_submission(submissions, user_id="cy", failed=["GNU Make (gmake)"], successful=[])

    merged = build_with(tmp_path, "  package_aliases: {gmake: make}\n")

    [row] = _json(merged, "index.html")["failing_packages"]
    assert (row["name"], row["failing_users"], row["href"]) == (
        "GNU Make (gmake)",
        3,
        package_path("make"),
    )


def test_without_the_alias_the_two_keys_stay_apart(tmp_path: Path) -> None:
    submissions = tmp_path / "submissions"
    write_submission(submissions, user_id="ann", failed=["GNU Make (gmake)"], successful=[])
    write_submission(submissions, user_id="bob", failed=["make"], successful=[])

    rows = _json(build_with(tmp_path), "index.html")["failing_packages"]

    assert sorted(row["name"] for row in rows) == ["GNU Make (gmake)", "make"]
