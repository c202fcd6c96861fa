"""The loader on real files: the file-drop format's lenient rules (docs/file-format.md), and
corrupt files skipped by name."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from installdata import read
from installdata.load import load_submissions
from support import REPO_ROOT as REPO
from support.files import recorded_bars, submission, write_raw, write_submission


def test_reads_every_json_recursively_and_skips_dot_folders_and_other_files(
    tmp_path: Path,
) -> None:
    write_submission(tmp_path, submission_id="a")
    write_submission(tmp_path / "deep" / "er", submission_id="b")
    write_submission(tmp_path / ".tmp", submission_id="half-written")
    write_raw(tmp_path, ".hidden.json", json.dumps(submission(submission_id="dot")).encode())
    write_raw(tmp_path, "notes.txt", b"not a submission")

    result = load_submissions(tmp_path)

    assert sorted(result.submissions["submission_id"]) == ["a", "b"]
    assert result.files_read == 2
    assert result.skipped == []


def test_full_file_becomes_one_submission_row_and_one_row_per_package(tmp_path: Path) -> None:
    path = write_submission(
        tmp_path,
        submission_id="s1",
        user_id="u1",
        received_at="2026-11-22T10:15:02.123456Z",
        email_id="learner@example.org",
        workshop_id="ws-1",
        successful=["Git (git)", "Python 3 (python)"],
        failed=["make"],
    )

    result = load_submissions(tmp_path)

    row = result.submissions.iloc[0]
    assert (row["path"], row["submission_id"], row["user_id"]) == (str(path), "s1", "u1")
    assert row["received_at"] == pd.Timestamp("2026-11-22T10:15:02.123456Z")
    assert (row["system"], row["python_version"], row["workshop_id"]) == ("Linux", "3.11.6", "ws-1")
    assert row["email_id"] == "learner@example.org"
    assert (row["n_successful"], row["n_failed"]) == (2, 1)
    results = result.results.sort_values("name")
    assert list(results["name"]) == ["Git (git)", "Python 3 (python)", "make"]
    assert list(results["failed"]) == [False, False, True]
    assert list(results["sub"]) == [0, 0, 0]
    assert results["error"].iloc[2] == "could not find 'make' executable for make"
    assert results["version"].isna().iloc[2]


def test_absent_lists_and_system_info_are_empty(tmp_path: Path) -> None:
    data = submission(submission_id="bare", successful=None, failed=None)
    del data["user_system_info"]
    write_raw(tmp_path, "bare.json", json.dumps(data).encode())
    nulls = submission(submission_id="nulls")
    nulls.update(user_system_info=None, successful_installs=None, failed_installs=None)
    write_raw(tmp_path, "nulls.json", json.dumps(nulls).encode())

    result = load_submissions(tmp_path)

    assert result.skipped == []
    assert len(result.submissions) == 2
    assert result.submissions["system"].isna().all()
    assert (result.submissions[["n_successful", "n_failed"]] == 0).all().all()
    assert result.results.empty


def test_missing_received_at_means_the_file_mtime(tmp_path: Path) -> None:
    path = write_submission(tmp_path, submission_id="old", received_at=None)
    os.utime(path, (1_700_000_000, 1_700_000_000))

    result = load_submissions(tmp_path)

    assert result.submissions["received_at"].iloc[0] == pd.Timestamp(
        1_700_000_000, unit="s", tz="UTC"
    )


def test_received_at_with_offset_or_without_zone_is_read_as_utc(tmp_path: Path) -> None:
    write_submission(tmp_path, submission_id="offset", received_at="2026-11-22T12:00:00+02:00")
    write_submission(tmp_path, submission_id="naive", received_at="2026-11-22T10:00:00")

    times = load_submissions(tmp_path).submissions.set_index("submission_id")["received_at"]

    assert times["offset"] == times["naive"] == pd.Timestamp("2026-11-22T10:00:00Z")


def test_missing_submission_id_is_the_file_stem_and_missing_user_id_is_empty(
    tmp_path: Path,
) -> None:
    write_submission(tmp_path, name="from-the-stem.json", submission_id=None, user_id=None)

    row = load_submissions(tmp_path).submissions.iloc[0]

    assert row["submission_id"] == "from-the-stem"
    assert pd.isna(row["user_id"])


CORRUPT = {
    "bad-utf8.json": (b'{"submission_id": "\xff\xfe"}', "UTF-8"),
    "truncated.json": (b'{"submission_id": "x", "failed_installs": [', "JSON"),
    "top-level-list.json": (b'[{"submission_id": "x"}]', "not a JSON object"),
    "empty.json": (b"", "JSON"),
    "entry-not-object.json": (
        json.dumps(submission(failed_installs=["make"])).encode(),
        "failed_installs[0] is not an object",
    ),
    "name-not-string.json": (
        json.dumps(submission(successful_installs=[{"name": 7}])).encode(),
        "successful_installs[0].name",
    ),
    "name-blank.json": (
        json.dumps(submission(failed_installs=[{"name": "make"}, {"name": " "}])).encode(),
        "failed_installs[1].name is not a non-empty string",
    ),
    "version-not-string.json": (
        json.dumps(submission(successful_installs=[{"name": "git", "version": 2}])).encode(),
        "successful_installs[0].version is not a string",
    ),
    "error-not-string.json": (
        json.dumps(
            submission(failed_installs=[{"name": "make", "error_description": ["x"]}])
        ).encode(),
        "failed_installs[0].error_description is not a string",
    ),
    "info-not-object.json": (
        json.dumps(submission(user_system_info=["Linux"])).encode(),
        "user_system_info is not an object",
    ),
    "info-value-not-string.json": (
        json.dumps(submission(user_system_info={"python_version": 3.11})).encode(),
        "user_system_info.python_version",
    ),
    "list-not-list.json": (
        json.dumps(submission(failed_installs={"name": "make"})).encode(),
        "failed_installs is not a list",
    ),
    "bad-time.json": (
        json.dumps(submission(received_at="yesterday-ish")).encode(),
        "received_at is not an ISO 8601 time",
    ),
    "time-out-of-range.json": (
        json.dumps(submission(received_at="0001-01-01T00:00:00Z")).encode(),
        "received_at is out of range",
    ),
    "user-id-number.json": (json.dumps(submission(user_id=12)).encode(), "user_id"),
}


def test_corrupt_files_are_skipped_whole_and_named_with_a_reason(tmp_path: Path) -> None:
    for name, (content, _) in CORRUPT.items():
        write_raw(tmp_path / "bad", name, content)
    good = write_submission(tmp_path, submission_id="good", failed=["make"])

    result = load_submissions(tmp_path)

    assert list(result.submissions["path"]) == [str(good)]
    assert list(result.results["sub"]) == [0, 0]  # the good file's two entries only
    assert result.files_read == len(CORRUPT) + 1
    reasons = {path.name: reason for path, reason in result.skipped}
    assert set(reasons) == set(CORRUPT)
    for name, (_, expected) in CORRUPT.items():
        assert expected in reasons[name], name


def test_the_process_pool_gives_the_same_tables_as_reading_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(40):
        write_submission(
            tmp_path,
            submission_id=f"s{number:03d}",
            user_id=f"u{number % 7}",
            received_at=f"2026-10-{number % 28 + 1:02d}T08:00:00Z",
            failed=["make"] if number % 3 else [],
            workshop_id=f"ws-{number % 4}" if number % 5 else None,
        )
    write_raw(tmp_path, "broken.json", b"{")
    in_process = load_submissions(tmp_path, workers=1)
    monkeypatch.setattr(read, "IN_PROCESS_BELOW", 0)
    monkeypatch.setattr(read, "CHUNK_SIZE", 6)

    pooled = load_submissions(tmp_path, workers=2)

    for mine, theirs in [
        (in_process.submissions, pooled.submissions),
        (in_process.results, pooled.results),
    ]:
        pd.testing.assert_frame_equal(mine.astype(object), theirs.astype(object))
    assert pooled.skipped == in_process.skipped
    assert [path for path, _ in pooled.skipped] == [tmp_path / "broken.json"]


def test_a_package_listed_twice_is_one_result_failed_if_any_listing_failed(tmp_path: Path) -> None:
    write_submission(
        tmp_path, successful=["make", " Git (git) ", "Git (git)"], failed=["make", "make"]
    )

    result = load_submissions(tmp_path)

    rows = result.results.sort_values("name")
    assert list(zip(rows["name"], rows["failed"], strict=True)) == [
        ("Git (git)", False),
        ("make", True),
    ]
    assert (result.submissions["n_successful"].iloc[0], result.submissions["n_failed"].iloc[0]) == (
        1,
        1,
    )


def test_the_readers_import_neither_pandas_nor_jinja_nor_matplotlib(tmp_path: Path) -> None:
    """The build forks its readers before importing the rest: they must stay that lean."""
    write_submission(tmp_path, submission_id="one", failed=["make"])
    heavy = ["numpy", "pandas", "jinja2", "matplotlib"]
    script = (
        "import sys; from pathlib import Path; from installdata.read import Reading\n"
        f"with Reading(Path({str(tmp_path)!r})) as reading: chunks = list(reading.chunks())\n"
        f"print(len(chunks[0]['path']), [name for name in {heavy!r} if name in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert done.stdout.strip() == "1 []"


@pytest.mark.parametrize("pooled", [False, True])
def test_a_progress_bar_counts_every_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], pooled
) -> None:
    for number in range(12):
        write_submission(tmp_path, submission_id=f"s{number:02d}")
    write_raw(tmp_path, "broken.json", b"{")
    if pooled:
        monkeypatch.setattr(read, "IN_PROCESS_BELOW", 0)
        monkeypatch.setattr(read, "CHUNK_SIZE", 4)
    bars = recorded_bars(monkeypatch, read)

    result = load_submissions(tmp_path, workers=2, progress=True)

    assert len(result.submissions) == 12
    assert [bar.done for bar in bars] == [13]  # every file, the broken one too
    assert "reading:" in capsys.readouterr().err


def test_an_interrupt_while_listing_leaves_no_reader_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(8):  # four day folders: four runs
        day = f"2026-11-0{1 + number // 2}T10:00:00Z"
        write_submission(tmp_path, submission_id=f"s{number}", received_at=day)
    monkeypatch.setattr(read, "IN_PROCESS_BELOW", 0)
    monkeypatch.setattr(read, "CHUNK_SIZE", 2)

    class Interrupted(read.Listing):
        def runs(self):
            yield from itertools.islice(super().runs(), 3)  # the workers have started
            raise KeyboardInterrupt

    monkeypatch.setattr(read, "Listing", Interrupted)
    with pytest.raises(KeyboardInterrupt):
        read.Reading(tmp_path, workers=2)
    assert multiprocessing.active_children() == []
