"""The submissions folder as anyone may leave it: reading and forgetting go on regardless.

A folder only root may read, a folder removed by a concurrent prune, a file swapped for a
FIFO, a sparse 20 GiB file, links to files and folders outside, names that are not UTF-8 or
hold a newline: each is skipped and named with its reason (installdata/folder.py), and the
build, ``forget`` and ``prune`` go on (docs/file-format.md, "How readers read").
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from installdata.config import load_config
from installdata.errors import UserError
from installdata.folder import LINK, VANISHED
from installdata.forget import forget_command, prune_command, remove_submission_files
from installdata.load import assemble, load_submissions
from installdata.read import Reading
from support import REPO_ROOT
from support.files import listed_folder, refuse_listing, write_raw, write_submission

NOBODY = 65534


def reasons(root: Path, **options: Any) -> dict[str, str]:
    """What ``load_submissions`` skipped: path relative to ``root`` -> reason."""
    skipped = load_submissions(root, **options).skipped
    return {path.relative_to(root).as_posix(): reason for path, reason in skipped}


def write_config(tmp_path: Path, root: Path, **collector: Any) -> Path:
    path = tmp_path / "config.yaml"
    lines = [f"  {key}: {value}" for key, value in {"submissions_dir": root, **collector}.items()]
    path.write_text("collector:\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def alice_and_bob(root: Path) -> dict[str, Path]:
    return {
        "alice": write_submission(root, user_id="alice", received_at="2020-01-01T10:00:00Z"),
        "bob": write_submission(root, user_id="bob", received_at="2020-01-02T10:00:00Z"),
    }


# --- 1. a folder that cannot be listed, or vanishes while listed ---------------------------


def test_a_folder_that_cannot_be_listed_is_skipped_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice_and_bob(tmp_path)
    (tmp_path / "lost+found").mkdir(mode=0o700)
    write_submission(tmp_path / "lost+found", submission_id="lost")
    refuse_listing(monkeypatch, tmp_path / "lost+found")

    result = load_submissions(tmp_path, workers=1)

    assert sorted(result.submissions["user_id"]) == ["alice", "bob"]
    assert [(path.name, why) for path, why in result.skipped] == [
        ("lost+found", "cannot list this folder: Permission denied")
    ]
    assert result.files_read == 3  # the two files and the folder


def test_forget_and_prune_go_on_past_a_folder_they_cannot_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "submissions"
    files = alice_and_bob(root)
    (root / "lost+found").mkdir(mode=0o700)
    refuse_listing(monkeypatch, root / "lost+found")
    config = load_config(write_config(tmp_path, root, retention_days=30))

    assert forget_command(config, user_id="alice", email=None, dry_run=False) == 0
    assert prune_command(config, dry_run=False) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[0] == "removed 1 submission file of 1 person"
    assert out[1] == (
        "warning: 1 entry could not be read, so it was not checked and may hold submissions "
        "of that user id:"
    )
    assert out[2] == f"  {root / 'lost+found'}: cannot list this folder: Permission denied"
    assert out[3].startswith("removed 1 submission file received before ")
    assert out[4].startswith("warning: 1 entry could not be read, so it was not checked and ")
    assert not files["alice"].exists() and not files["bob"].exists()
    assert (root / "lost+found").is_dir()


@pytest.fixture
def world_readable_tmp() -> Iterator[Path]:
    """A folder another user may enter (pytest's own temp folders are root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="reader-nobody-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"),
    reason="needs root and setpriv to run a command as another user",
)
def test_forget_prune_and_build_run_as_a_user_who_cannot_read_lost_and_found(
    world_readable_tmp: Path,
) -> None:
    """The real thing: a mode-700 ``lost+found`` of root's, and the commands run as nobody."""
    root = world_readable_tmp / "submissions"
    alice_and_bob(root)
    (root / "lost+found").mkdir(mode=0o700)
    write_submission(root / "lost+found", submission_id="lost")
    site = world_readable_tmp / "out"
    site.mkdir()
    os.chown(site, NOBODY, NOBODY)
    config = write_config(world_readable_tmp, root, retention_days=30)
    config.write_text(config.read_text() + f"generator:\n  submissions_dir: {root}\n")

    def as_nobody(*args: str) -> subprocess.CompletedProcess[str]:
        env = {"PATH": os.environ["PATH"], "HOME": str(site), "MPLCONFIGDIR": str(site)}
        nobody = [f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        return subprocess.run(
            ["setpriv", *nobody, sys.executable, *args], cwd=REPO_ROOT,
            env={**env, "SOURCE_DATE_EPOCH": "1795000000"}, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip

    forget = as_nobody("-m", "collector", "forget", "--config", str(config), "--user-id",
                       "alice", "--dry-run")  # fmt: skip
    prune = as_nobody("-m", "collector", "prune", "--config", str(config), "--dry-run")
    build = as_nobody("-m", "generator", "build", "--config", str(config), "--site",
                      str(site / "site"))  # fmt: skip

    unreadable = f"  {root / 'lost+found'}: cannot list this folder: Permission denied"
    assert forget.returncode == 0, forget.stderr
    assert forget.stdout.splitlines()[2:] == [
        "warning: 1 entry could not be read, so it was not checked and may hold submissions "
        "of that user id:",
        unreadable,
    ]
    assert prune.returncode == 0, prune.stderr
    assert prune.stdout.splitlines()[-1] == unreadable
    assert build.returncode == 0, build.stderr
    assert "read 3 files, skipped 1, 2 people" in build.stderr
    assert f"  skipped {unreadable.strip()}" in build.stderr.splitlines()


def test_a_folder_removed_while_the_listing_runs_is_named_as_vanished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A concurrent prune empties and removes a day folder between two steps of the listing."""
    files = alice_and_bob(tmp_path)
    victim = files["bob"].parent
    real = os.scandir

    class RemovedAfterTheRootIsListed:
        def __init__(self, arg: Any) -> None:
            self.root = listed_folder(arg) == str(tmp_path)
            self.scan = real(arg)

        def __enter__(self) -> Any:
            return self.scan.__enter__()

        def __exit__(self, *exc_info: Any) -> None:
            self.scan.__exit__(*exc_info)
            if self.root and victim.exists():
                shutil.rmtree(victim)

    monkeypatch.setattr(os, "scandir", RemovedAfterTheRootIsListed)

    result = load_submissions(tmp_path, workers=1)

    assert list(result.submissions["user_id"]) == ["alice"]
    assert [(path.name, why) for path, why in result.skipped] == [(victim.name, VANISHED)]


def test_a_submissions_folder_that_cannot_be_listed_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"^cannot list the submissions folder .*: No such file"):
        load_submissions(tmp_path / "missing")


# --- 2. a FIFO -------------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_a_file_swapped_for_a_fifo_after_the_listing_is_skipped_not_waited_on(
    tmp_path: Path,
) -> None:
    write_submission(tmp_path, user_id="alice")
    swapped = write_submission(tmp_path, user_id="bob")

    with Reading(tmp_path, workers=1) as reading:  # listed: both regular files
        swapped.unlink()
        os.mkfifo(swapped)  # no writer will ever open it: a blocking open never returns
        result = assemble(reading)

    assert list(result.submissions["user_id"]) == ["alice"]
    assert result.skipped == [(swapped, "not a regular file (a FIFO)")]


@pytest.mark.timeout(60)
def test_a_fifo_or_socket_named_json_is_named_as_skipped(tmp_path: Path) -> None:
    write_submission(tmp_path, user_id="alice")
    os.mkfifo(tmp_path / "pipe.json")
    os.mkfifo(tmp_path / "pipe.txt")  # not a submission's name: skipped without a word

    assert reasons(tmp_path) == {"pipe.json": "not a regular file (a FIFO)"}


# --- 3. a huge or sparse file ----------------------------------------------------------------


def test_a_file_over_the_cap_is_skipped_unread(tmp_path: Path) -> None:
    write_submission(tmp_path, user_id="alice")
    with open(tmp_path / "sparse.json", "wb") as handle:
        handle.truncate(1 << 20)  # 1 MiB of nothing: no disk, but a reader would read it all

    assert reasons(tmp_path, max_file_bytes=4096) == {
        "sparse.json": "larger than generator.max_file_bytes (1,048,576 > 4,096 bytes): not read"
    }
    assert reasons(tmp_path, max_file_bytes=1 << 20) == {
        "sparse.json": "not valid UTF-8 JSON (unexpected character, expected a JSON value)"
    }


def test_a_sparse_20_gib_file_costs_prune_no_memory(tmp_path: Path) -> None:
    """Read whole, it would take down the command; the address space is capped at 3 GiB so
    that a reader without the cap fails here with MemoryError instead of taking the machine."""
    root = tmp_path / "submissions"
    alice_and_bob(root)
    with open(root / "huge.json", "wb") as handle:
        handle.truncate(20 << 30)
    config = write_config(tmp_path, root, retention_days=30)

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    done = subprocess.run(
        [sys.executable, "-m", "collector", "prune", "--config", str(config), "--dry-run"],
        cwd=REPO_ROOT, preexec_fn=limited, capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith("would remove 2 submission files received ")
    assert done.stdout.splitlines()[-1] == (
        f"  {root / 'huge.json'}: larger than generator.max_file_bytes "
        "(21,474,836,480 > 16,777,216 bytes): not read"
    )


def test_the_cap_is_a_config_key_forget_and_prune_read_with_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "submissions"
    files = alice_and_bob(root)
    config_path = write_config(tmp_path, root)
    config_path.write_text(config_path.read_text() + "generator:\n  max_file_bytes: 1024\n")
    files["bob"].write_bytes(files["bob"].read_bytes().replace(b'"bob"', b'"bob"' + b" " * 2000))

    assert forget_command(load_config(config_path), "bob", None, dry_run=False) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[0] == "no submissions found for that user id; nothing removed"
    assert out[2].startswith(f"  {files['bob']}: larger than generator.max_file_bytes (2,")
    assert out[2].endswith(" > 1,024 bytes): not read")
    assert files["bob"].exists()


# --- 4. links: never followed ----------------------------------------------------------------


def outside_files(tmp_path: Path) -> Path:
    """A folder of submissions outside the submissions folder, someone else's."""
    outside = tmp_path / "outside"
    write_submission(outside, user_id="secret", received_at="2020-01-01T10:00:00Z")
    return outside / "2020-01-01"


def test_links_to_files_and_folders_are_named_and_never_followed(tmp_path: Path) -> None:
    root = tmp_path / "submissions"
    alice_and_bob(root)
    outside = outside_files(tmp_path)
    secret = next(outside.iterdir())
    (root / "2020-01-01" / "link.json").symlink_to(secret)
    (root / "linked-day").symlink_to(outside, target_is_directory=True)
    (root / "2020-01-01" / ".dot-link.json").symlink_to(secret)  # dot-names: not looked at

    result = load_submissions(root)

    assert sorted(result.submissions["user_id"]) == ["alice", "bob"]
    assert [(path.relative_to(root).as_posix(), why) for path, why in result.skipped] == [
        ("2020-01-01/link.json", LINK),
        ("linked-day", LINK),
    ]


def test_a_file_or_folder_swapped_for_a_link_after_the_listing_is_not_followed(
    tmp_path: Path,
) -> None:
    root = tmp_path / "submissions"
    files = alice_and_bob(root)
    outside = outside_files(tmp_path)
    secret = next(outside.iterdir())
    (outside / files["bob"].name).write_bytes(secret.read_bytes())  # bob's name, outside

    with Reading(root, workers=1) as reading:
        files["alice"].unlink()
        files["alice"].symlink_to(secret)
        moved = files["bob"].parent.rename(tmp_path / "moved-away")
        files["bob"].parent.symlink_to(outside, target_is_directory=True)
        result = assemble(reading)

    assert result.submissions.empty  # nothing of "secret" was read through either link
    assert result.skipped == [(files["alice"], LINK), (files["bob"], LINK)]
    assert (moved / files["bob"].name).exists()


def test_removing_never_goes_through_a_link_nor_removes_one(tmp_path: Path) -> None:
    """forget removes only regular files it listed: not through a day folder swapped for a
    link to someone else's folder, not a link put in place of a listed file."""
    root = tmp_path / "submissions"
    files = alice_and_bob(root)
    outside = outside_files(tmp_path)
    theirs = outside / files["bob"].name
    theirs.write_text("someone else's file")
    files["bob"].parent.rename(tmp_path / "moved-away")
    files["bob"].parent.symlink_to(outside, target_is_directory=True)
    secret = next(p for p in outside.iterdir() if p != theirs)
    files["alice"].unlink()
    files["alice"].symlink_to(secret)

    with pytest.raises(UserError, match=r"removed 0 files but could not remove 2 \(first: "):
        remove_submission_files(root, [files["alice"], files["bob"]])

    assert theirs.read_text() == "someone else's file"
    assert files["alice"].is_symlink() and secret.exists()


# --- 5. names: escaped wherever printed ------------------------------------------------------


def test_names_not_utf8_or_with_a_newline_print_escaped_under_a_strict_utf8_stdout(
    tmp_path: Path,
) -> None:
    root = tmp_path / "submissions"
    files = alice_and_bob(root)
    day = os.fsencode(files["alice"].parent)
    os.rename(files["alice"], os.fsdecode(day + b"/alice-\xff.json"))
    write_raw(root, os.fsdecode(b"broken-\xff\n  forged.json: ok.json"), b"{")
    config = write_config(tmp_path, root)

    done = subprocess.run(
        [sys.executable, "-m", "collector", "forget", "--config", str(config), "--user-id",
         "alice", "--dry-run"],
        cwd=REPO_ROOT, env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "would remove 1 submission file of 1 person:",
        "  2020-01-01/alice-\\xff.json",
        "warning: 1 entry could not be read, so it was not checked and may hold submissions "
        "of that user id:",
        f"  {root}/broken-\\xff\\n  forged.json: ok.json: "
        "not valid UTF-8 JSON (unexpected end of data)",
    ]
