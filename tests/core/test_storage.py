"""SubmissionStore: atomic, durable, never overwriting, and clean after every failure."""

from __future__ import annotations

import errno
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from installdata import storage
from installdata.storage import (
    StorageError,
    SubmissionExistsError,
    SubmissionStore,
    write_file_atomically,
)
from support.files import submission


def make_record(submission_id: str = "sub-0001abcd", day: str = "2026-11-22") -> dict[str, Any]:
    """A stored submission; the storage tests vary only its id and its day."""
    return submission(
        submission_id=submission_id,
        received_at=f"{day}T10:15:02.123456Z",
        email_id="learner@example.org",
        failed=["make"],
    )


def all_files(root: Path) -> list[str]:
    """Every file below root, dot-folders included, as relative POSIX paths."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_save_writes_the_record_at_its_day_and_id(tmp_path: Path) -> None:
    store = SubmissionStore(tmp_path)
    record = make_record()

    path = store.save(record)

    assert path == tmp_path / "2026-11-22" / "sub-0001abcd.json"
    assert orjson.loads(path.read_bytes()) == record
    assert path.read_bytes().endswith(b"}\n")
    assert all_files(tmp_path) == ["2026-11-22/sub-0001abcd.json"]  # no temp file left


def test_save_never_replaces_an_existing_submission(tmp_path: Path) -> None:
    store = SubmissionStore(tmp_path)
    path = store.save(make_record())
    original = path.read_bytes()
    changed = make_record() | {"user_id": "someone-else"}

    with pytest.raises(SubmissionExistsError):
        store.save(changed)

    assert path.read_bytes() == original
    assert all_files(tmp_path) == ["2026-11-22/sub-0001abcd.json"]


@pytest.mark.parametrize(
    "submission_id",
    ["../escape1234", ".hidden12345", "a/b/c/d/e/f", "short", "", "x" * 101, "sub 0001abcd", 42],
)
def test_save_refuses_ids_that_are_not_server_generated(tmp_path: Path, submission_id) -> None:
    store = SubmissionStore(tmp_path)
    with pytest.raises(ValueError, match="submission id"):
        store.save(make_record() | {"submission_id": submission_id})
    assert all_files(tmp_path) == []


@pytest.mark.parametrize("received_at", [None, "", "yesterday", "2026/11/22T10:00:00Z", 7])
def test_save_refuses_a_received_at_without_a_date(tmp_path: Path, received_at) -> None:
    store = SubmissionStore(tmp_path)
    with pytest.raises(ValueError, match="received_at"):
        store.save(make_record() | {"received_at": received_at})
    assert all_files(tmp_path) == []


def test_each_day_gets_its_own_folder(tmp_path: Path) -> None:
    store = SubmissionStore(tmp_path)
    store.save(make_record("sub-day1aaaa", "2026-11-22"))
    store.save(make_record("sub-day2aaaa", "2026-11-23"))
    assert all_files(tmp_path) == ["2026-11-22/sub-day1aaaa.json", "2026-11-23/sub-day2aaaa.json"]


def test_file_is_synced_before_its_name_appears_and_folders_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The durability order of docs/file-format.md: data fsync -> link -> folder fsync."""
    store = SubmissionStore(tmp_path)
    events: list[str] = []
    real_fsync, real_link = os.fsync, os.link

    def fsync(fd: int) -> None:
        target = Path(os.readlink(f"/proc/self/fd/{fd}"))
        events.append(f"fsync {'dir ' + target.name if target.is_dir() else 'file'}")
        real_fsync(fd)

    def link(src: str, dst: str) -> None:
        events.append("link")
        real_link(src, dst)

    monkeypatch.setattr(storage.os, "fsync", fsync)
    monkeypatch.setattr(storage.os, "link", link)

    store.save(make_record("sub-first111"))
    store.save(make_record("sub-second22"))

    root = f"fsync dir {tmp_path.name}"
    day = "fsync dir 2026-11-22"
    # The first save of a day makes the new folder name durable in the root first.
    assert events == [root, "fsync file", "link", day, "fsync file", "link", day]


@pytest.mark.parametrize(
    ("call", "code"),
    [
        ("write", errno.ENOSPC),
        ("fsync", errno.EIO),
        ("link", errno.EROFS),
        ("open", errno.EACCES),
    ],
)
def test_disk_errors_become_storage_error_leaving_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str, code: int
) -> None:
    store = SubmissionStore(tmp_path)
    store.save(make_record("sub-before11"))
    real = getattr(os, call)

    def failing(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(storage.os, call, failing)
    with pytest.raises(StorageError, match=errno.errorcode[code]) as raised:
        store.save(make_record("sub-during11"))
    assert str(tmp_path) not in str(raised.value)  # the message never shows server paths
    assert all_files(tmp_path) == ["2026-11-22/sub-before11.json"]

    monkeypatch.setattr(storage.os, call, real)  # space returns: the same store works again
    store.save(make_record("sub-during11"))
    assert "2026-11-22/sub-during11.json" in all_files(tmp_path)


def test_a_short_write_is_completed_not_truncated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write
    monkeypatch.setattr(storage.os, "write", lambda fd, data: real_write(fd, bytes(data[:7])))
    record = make_record()
    path = SubmissionStore(tmp_path).save(record)
    assert orjson.loads(path.read_bytes()) == record


def test_save_recovers_when_folders_vanish(tmp_path: Path) -> None:
    store = SubmissionStore(tmp_path)
    store.save(make_record("sub-first111"))
    shutil.rmtree(tmp_path / "2026-11-22")  # e.g. `prune` removed the day
    shutil.rmtree(tmp_path / ".tmp")

    store.save(make_record("sub-second22"))

    assert all_files(tmp_path) == ["2026-11-22/sub-second22.json"]


def test_save_never_lists_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cost of a save must not grow with the number of files already stored."""
    store = SubmissionStore(tmp_path)

    def forbidden(*args, **kwargs):
        raise AssertionError("save listed a folder")

    for name in ("listdir", "scandir", "walk"):
        monkeypatch.setattr(storage.os, name, forbidden)
    monkeypatch.setattr(Path, "iterdir", forbidden)
    monkeypatch.setattr(Path, "glob", forbidden)
    for number in range(3):
        store.save(make_record(f"sub-nolist{number:02d}", f"2026-11-2{number}"))
    monkeypatch.undo()
    assert len(all_files(tmp_path)) == 3


def test_construction_removes_only_stale_temp_files(tmp_path: Path) -> None:
    tmp_dir = tmp_path / ".tmp"
    tmp_dir.mkdir()
    stale, fresh = tmp_dir / "stale.tmp", tmp_dir / "fresh.tmp"
    stale.write_bytes(b'{"half": ')
    fresh.write_bytes(b'{"being written')
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))

    SubmissionStore(tmp_path)

    assert not stale.exists()
    assert fresh.exists()  # may belong to another process writing right now


def test_construction_creates_missing_folders(tmp_path: Path) -> None:
    store = SubmissionStore(tmp_path / "new" / "submissions")
    assert (tmp_path / "new" / "submissions" / ".tmp").is_dir()
    assert store.is_writable()


def test_is_writable_reports_a_disk_that_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SubmissionStore(tmp_path)

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage.os, "write", no_space)
    assert store.is_writable() is False
    assert all_files(tmp_path) == []  # the probe file is gone too
    monkeypatch.undo()
    assert store.is_writable() is True
    assert all_files(tmp_path) == []


def test_write_file_atomically_never_replaces(tmp_path: Path) -> None:
    tmp_dir = tmp_path / ".tmp"
    tmp_dir.mkdir()
    path = tmp_path / "legacy-000001.json"
    write_file_atomically(path, b'{"n": 1}', tmp_dir=tmp_dir)

    with pytest.raises(SubmissionExistsError):
        write_file_atomically(path, b'{"n": 2}', tmp_dir=tmp_dir)
    assert orjson.loads(path.read_bytes()) == {"n": 1}
    assert list(tmp_dir.iterdir()) == []


def test_concurrent_saves_into_a_new_day_all_land(tmp_path: Path) -> None:
    store = SubmissionStore(tmp_path)
    errors: list[BaseException] = []

    def save_many(thread: int) -> None:
        try:
            for number in range(25):
                store.save(make_record(f"sub-t{thread:02d}n{number:03d}", "2026-12-01"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=save_many, args=(t,)) for t in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(all_files(tmp_path)) == 16 * 25


def test_a_failing_folder_fsync_unpublishes_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a 503 the client retries, so the file must not stay behind to be stored twice."""
    store = SubmissionStore(tmp_path)
    store.save(make_record("sub-before11"))
    real_fsync_dir = storage.fsync_dir

    def fsync_dir(path: Path) -> None:
        if path.name == "2026-11-22":
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync_dir(path)

    monkeypatch.setattr(storage, "fsync_dir", fsync_dir)
    with pytest.raises(StorageError, match="EIO"):
        store.save(make_record("sub-during11"))
    assert all_files(tmp_path) == ["2026-11-22/sub-before11.json"]


def test_a_temp_name_that_cannot_be_removed_does_not_fail_the_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SubmissionStore(tmp_path)

    def unlink(path, *args, **kwargs):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(storage.os, "unlink", unlink)
    path = store.save(make_record())
    monkeypatch.undo()

    assert orjson.loads(path.read_bytes()) == make_record()
    leftovers = [name for name in all_files(tmp_path) if name.startswith(".tmp/")]
    assert len(leftovers) == 1  # hidden from readers, removed at a later start when stale
