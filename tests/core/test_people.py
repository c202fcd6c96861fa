"""docs/counting.md on small hand-made folders: who is one person, their latest attempt and
workshop."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from installdata.load import load_submissions
from installdata.people import assign_people, normalise_workshop
from support.files import write_submission


def people(root: Path) -> pd.DataFrame:
    """Load ``root`` and assign people; indexed by submission_id for readable asserts."""
    return assign_people(load_submissions(root).submissions).set_index("submission_id")


def same_person(table: pd.DataFrame, *ids: str) -> bool:
    return table.loc[list(ids), "person"].nunique() == 1


def test_one_user_id_is_one_person_and_different_ids_are_different_people(
    tmp_path: Path,
) -> None:
    write_submission(tmp_path, submission_id="a1", user_id="A")
    write_submission(tmp_path, submission_id="a2", user_id="A", received_at="2026-11-02T00:00:00Z")
    write_submission(tmp_path, submission_id="b1", user_id="B")

    table = people(tmp_path)

    assert same_person(table, "a1", "a2")
    assert not same_person(table, "a1", "b1")


def test_same_email_and_workshop_merge_ids_ignoring_case_and_surrounding_space(
    tmp_path: Path,
) -> None:
    write_submission(
        tmp_path, submission_id="a", user_id="A", email_id="Ann@Example.org", workshop_id="ws-1"
    )
    write_submission(
        tmp_path,
        submission_id="b",
        user_id="B",
        email_id="  ann@example.ORG ",
        workshop_id=" ws-1 ",
    )

    assert same_person(people(tmp_path), "a", "b")


def test_email_alone_or_a_different_workshop_does_not_merge(tmp_path: Path) -> None:
    write_submission(tmp_path, submission_id="a", user_id="A", email_id="x@example.org")
    write_submission(tmp_path, submission_id="b", user_id="B", email_id="x@example.org")
    write_submission(
        tmp_path, submission_id="c", user_id="C", email_id="x@example.org", workshop_id="ws-1"
    )
    write_submission(
        tmp_path, submission_id="d", user_id="D", email_id="x@example.org", workshop_id="ws-2"
    )
    write_submission(
        tmp_path, submission_id="e", user_id="E", email_id="x@example.org", workshop_id="WS-1"
    )

    table = people(tmp_path)

    assert table["person"].nunique() == 5


def test_merging_is_transitive_through_ids_and_pairs(tmp_path: Path) -> None:
    # A and B share (p@x, ws-1); B and C share (q@x, ws-2); C's other attempt has no pair.
    write_submission(
        tmp_path, submission_id="a", user_id="A", email_id="p@x.org", workshop_id="ws-1"
    )
    write_submission(
        tmp_path, submission_id="b1", user_id="B", email_id="p@x.org", workshop_id="ws-1"
    )
    write_submission(
        tmp_path, submission_id="b2", user_id="B", email_id="q@x.org", workshop_id="ws-2"
    )
    write_submission(
        tmp_path, submission_id="c1", user_id="C", email_id="Q@X.org", workshop_id="ws-2"
    )
    write_submission(tmp_path, submission_id="c2", user_id="C")
    write_submission(tmp_path, submission_id="z", user_id="Z", email_id="p@x.org")

    table = people(tmp_path)

    assert same_person(table, "a", "b1", "b2", "c1", "c2")
    assert not same_person(table, "a", "z")


def test_a_submission_without_user_id_is_its_own_user(tmp_path: Path) -> None:
    write_submission(tmp_path, submission_id="x", user_id=None)
    write_submission(tmp_path, submission_id="y", user_id=None)

    table = people(tmp_path)

    assert not same_person(table, "x", "y")
    assert table["is_latest"].all()


def test_but_without_user_id_a_shared_email_and_workshop_still_merges(tmp_path: Path) -> None:
    write_submission(tmp_path, submission_id="x", user_id=None, email_id="m@x.org", workshop_id="w")
    write_submission(tmp_path, submission_id="y", user_id="Y", email_id="m@x.org", workshop_id="w")

    assert same_person(people(tmp_path), "x", "y")


def test_latest_attempt_is_the_newest_received_at_with_ties_broken_by_submission_id(
    tmp_path: Path,
) -> None:
    write_submission(
        tmp_path, submission_id="late", user_id="A", received_at="2026-11-05T00:00:00Z"
    )
    write_submission(
        tmp_path, submission_id="early", user_id="A", received_at="2026-11-01T00:00:00Z"
    )
    write_submission(tmp_path, submission_id="t-1", user_id="B", received_at="2026-11-03T00:00:00Z")
    write_submission(tmp_path, submission_id="t-2", user_id="B", received_at="2026-11-03T00:00:00Z")

    latest = people(tmp_path)["is_latest"]

    assert latest.to_dict() == {"late": True, "early": False, "t-1": False, "t-2": True}


def test_attempts_at_the_same_time_are_ordered_by_submission_id_then_path(
    tmp_path: Path,
) -> None:
    # Files named against the order of their ids, and one id twice, so that neither the
    # order the files are read in nor the id alone decides.
    same_time = "2026-11-03T00:00:00Z"
    for name, submission_id in [("a", "z"), ("b", "y"), ("c", "y")]:
        write_submission(
            tmp_path, f"{name}.json", submission_id=submission_id, received_at=same_time
        )
    write_submission(tmp_path, "d.json", submission_id="x", received_at="2026-11-02T00:00:00Z")

    table = assign_people(load_submissions(tmp_path).submissions)
    ordered = table.sort_values("attempt_order")

    assert [Path(path).name for path in ordered["path"]] == ["d.json", "b.json", "c.json", "a.json"]
    assert table.loc[table["is_latest"], "submission_id"].tolist() == ["z"]


def test_workshop_is_the_newest_non_empty_one_and_a_rerun_without_keeps_it(
    tmp_path: Path,
) -> None:
    write_submission(
        tmp_path,
        submission_id="a1",
        user_id="A",
        workshop_id="old",
        received_at="2026-11-01T00:00:00Z",
    )
    write_submission(
        tmp_path,
        submission_id="a2",
        user_id="A",
        workshop_id="new",
        received_at="2026-11-02T00:00:00Z",
    )
    write_submission(
        tmp_path,
        submission_id="a3",
        user_id="A",
        workshop_id="  ",
        received_at="2026-11-03T00:00:00Z",
    )
    write_submission(
        tmp_path,
        submission_id="a4",
        user_id="A",
        workshop_id=None,
        received_at="2026-11-04T00:00:00Z",
    )
    write_submission(tmp_path, submission_id="b1", user_id="B")

    table = people(tmp_path)

    assert set(table.loc[["a1", "a2", "a3", "a4"], "workshop"]) == {"new"}
    assert pd.isna(table.loc["b1", "workshop"])


def test_the_earlier_servers_placeholder_means_no_workshop(tmp_path: Path) -> None:
    write_submission(
        tmp_path,
        submission_id="a1",
        user_id="A",
        workshop_id="ws-9",
        received_at="2026-11-01T00:00:00Z",
    )
    write_submission(
        tmp_path,
        submission_id="a2",
        user_id="A",
        workshop_id=" no workshop  NAME provided",
        received_at="2026-11-02T00:00:00Z",
    )
    # Two learners who both typed the same email but no workshop are not merged by the placeholder.
    write_submission(
        tmp_path,
        submission_id="x",
        user_id="X",
        email_id="s@x.org",
        workshop_id="No workshop name provided",
    )
    write_submission(
        tmp_path,
        submission_id="y",
        user_id="Y",
        email_id="s@x.org",
        workshop_id="No workshop name provided",
    )

    table = people(tmp_path)

    assert set(table.loc[["a1", "a2"], "workshop"]) == {"ws-9"}
    assert not same_person(table, "x", "y")
    assert pd.isna(table.loc["x", "workshop"])
    assert normalise_workshop("No workshop name provided") is None


def test_person_key_is_an_integer_not_a_user_id(tmp_path: Path) -> None:
    write_submission(tmp_path, submission_id="a", user_id="secret-user-id")

    table = people(tmp_path)

    assert pd.api.types.is_integer_dtype(table["person"])
