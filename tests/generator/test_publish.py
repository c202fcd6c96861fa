"""Publishing deletes only what this generator made: the rules of docs/generator.md.

The site folder is replaced only if it is absent, empty, or a site this generator published
(its marker inside); a report much smaller than the published one is refused unless
``--allow-shrink``; leftovers of killed builds are removed only when provably its own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator import publish
from generator.__main__ import main
from generator.publish import MARKER
from installdata.errors import UserError
from support.files import write_submission

EPOCH = "1795000000"  # 2026-11-18T11:06:40Z


@pytest.fixture(autouse=True)
def fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


def fill(root: Path, count: int) -> None:
    for number in range(count):
        write_submission(root, user_id=f"user-{number}", received_at="2026-11-01T09:00:00Z")


def snapshot(root: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every entry below ``root`` (links not followed): its bytes (files) and modification time."""
    found = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        data = path.read_bytes() if path.is_file() and not path.is_symlink() else None
        found[path.relative_to(root).as_posix()] = (data, info.st_mtime_ns)
    return found


def build(tmp_path: Path, *args: str, site: Path | None = None) -> int:
    config = tmp_path / "config.yaml"
    if not config.exists():
        config.write_text("generator: {}\n")
    site_args = ["--site", str(site)] if site else []
    return main(["build", "--config", str(config), *site_args, *args])


def submissions_counted(site: Path) -> int:
    return int(json.loads((site / "index.json").read_bytes())["totals"]["submissions"])


def dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


# --- only over a site this generator made ---------------------------------------------------


def someones_folder(folder: Path) -> Path:
    """A folder of other files: a home folder, a web server's /var/www/html, a share."""
    (folder / "notes").mkdir(parents=True)
    (folder / "notes" / "todo.txt").write_text("keep me")
    (folder / "index.html").write_text("<p>someone else's page</p>")
    return folder


@pytest.mark.parametrize("how", ["--site", "site_dir"])
def test_a_folder_of_other_files_is_refused_and_left_untouched(
    tmp_path: Path, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(tmp_path / "submissions", 3)
    home = someones_folder(tmp_path / "home")
    site_dir = f"  site_dir: {home}\n" if how == "site_dir" else ""
    (tmp_path / "config.yaml").write_text(f"generator:\n{site_dir}")
    before, parent = snapshot(home), sorted(tmp_path.iterdir())

    status = build(tmp_path, site=home if how == "--site" else None)

    assert status == 2
    error = capsys.readouterr().err
    assert error == (
        f"error: refusing to publish into {home}: it is neither empty nor a site this "
        f"generator made (it has no {MARKER}); nothing was changed\n"
    )
    assert snapshot(home) == before
    assert sorted(tmp_path.iterdir()) == parent


def test_a_file_in_the_site_folders_place_is_refused(tmp_path: Path) -> None:
    fill(tmp_path / "submissions", 3)
    (tmp_path / "site").write_text("not a folder")

    assert build(tmp_path) == 2

    assert (tmp_path / "site").read_text() == "not a folder"


def test_a_symlink_to_a_shared_folder_is_refused_and_the_share_left_untouched(
    tmp_path: Path,
) -> None:
    fill(tmp_path / "submissions", 3)
    share = someones_folder(tmp_path / "share")
    (tmp_path / "site").symlink_to(share)
    before = snapshot(share)

    assert build(tmp_path) == 2

    assert snapshot(share) == before
    assert (tmp_path / "site").readlink() == share


def test_a_symlink_to_a_generated_site_publishes_there_again_and_again(tmp_path: Path) -> None:
    fill(tmp_path / "submissions", 3)
    (tmp_path / "real-site").mkdir()
    (tmp_path / "site").symlink_to(tmp_path / "real-site")

    assert build(tmp_path) == 0  # an empty target: published
    assert (tmp_path / "real-site" / MARKER).is_file()
    fill(tmp_path / "submissions" / "more", 1)
    assert build(tmp_path) == 0  # the target is a generated site now: replaced

    assert (tmp_path / "site").readlink() == tmp_path / "real-site"
    assert submissions_counted(tmp_path / "real-site") == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "build-cache",
        "config.yaml",
        "real-site",
        "site",
        "submissions",
    ]


def test_an_empty_folder_is_published_into_and_every_site_carries_the_marker(
    tmp_path: Path,
) -> None:
    fill(tmp_path / "submissions", 3)
    (tmp_path / "site").mkdir()

    assert build(tmp_path) == 0

    assert (tmp_path / "site" / MARKER).read_text(encoding="utf-8") == publish.MARKER_TEXT
    assert build(tmp_path) == 0  # and over its own site


def test_a_site_that_became_foreign_during_the_build_is_not_swapped_out(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()

    def write(staging: Path) -> None:
        (site / "private.txt").write_text("put there while the build ran")
        (staging / "index.html").write_text("new")

    with pytest.raises(UserError, match="refusing to publish into"):
        publish.publish_site(site, write)

    assert [p.name for p in site.iterdir()] == ["private.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


# --- not a much smaller report over a bigger one --------------------------------------------


def refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Build again, which must be refused and change nothing; the error it printed."""
    published = snapshot(tmp_path / "site")
    capsys.readouterr()

    assert build(tmp_path) == 2

    assert snapshot(tmp_path / "site") == published
    left = {p.name for p in tmp_path.iterdir()} - {"build-cache"}  # what was read: kept
    assert sorted(left) == ["config.yaml", "site", "submissions"]
    return capsys.readouterr().err


def test_an_empty_or_unmounted_submissions_folder_does_not_replace_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(tmp_path / "submissions", 4)
    assert build(tmp_path) == 0
    shutil.rmtree(tmp_path / "submissions")
    (tmp_path / "submissions").mkdir()  # what an unmounted mount point looks like

    assert refused(tmp_path, capsys) == (
        f"error: refusing to publish an empty report over {tmp_path / 'site'}, which counts 4 "
        f"submissions: no submission file found in {tmp_path / 'submissions'} (is it mounted?); "
        "nothing was changed (--allow-shrink publishes it anyway)\n"
    )
    assert build(tmp_path, "--allow-shrink") == 0
    assert submissions_counted(tmp_path / "site") == 0


def test_no_submission_file_over_a_site_of_unknown_count_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "submissions").mkdir()
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / MARKER).write_text("")  # a generated site whose index.json is gone
    (tmp_path / "config.yaml").write_text("generator: {}\n")

    assert refused(tmp_path, capsys).startswith(
        f"error: refusing to publish an empty report over {tmp_path / 'site'}: no submission"
    )


def test_fewer_than_half_the_published_submissions_is_refused_half_is_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(tmp_path / "submissions" / "kept", 4)
    fill(tmp_path / "submissions" / "lost", 5)
    assert build(tmp_path) == 0
    shutil.rmtree(tmp_path / "submissions" / "lost")

    assert refused(tmp_path, capsys) == (
        f"error: refusing to publish a report of 4 submissions over {tmp_path / 'site'}, which "
        f"counts 9 (fewer than half: is {tmp_path / 'submissions'} complete?); nothing was "
        "changed (--allow-shrink publishes it anyway)\n"
    )
    fill(tmp_path / "submissions" / "back", 1)
    assert build(tmp_path) == 0  # 5 of 9: not fewer than half
    assert submissions_counted(tmp_path / "site") == 5


def test_a_first_build_of_an_empty_folder_publishes_an_empty_report(tmp_path: Path) -> None:
    (tmp_path / "submissions").mkdir()
    (tmp_path / "site").mkdir()

    assert build(tmp_path) == 0
    assert submissions_counted(tmp_path / "site") == 0
    assert build(tmp_path) == 0  # nothing over nothing: nothing lost
    assert build(tmp_path, site=tmp_path / "new-site") == 0
    assert submissions_counted(tmp_path / "new-site") == 0


# --- leftovers: only provably its own -------------------------------------------------------


def test_only_leftovers_provably_of_a_killed_build_are_removed(tmp_path: Path) -> None:
    pid = dead_pid()
    ours = []
    for name in [f".site.staging-{pid}-0a0b0c0d", f".site.old-{pid}-12345678"]:
        (tmp_path / name / "packages").mkdir(parents=True)
        (tmp_path / name / MARKER).write_text("")
        (tmp_path / name / "packages" / "make.html").write_text("half a site")
        ours.append(name)
    (tmp_path / f".site.staging-{pid}-deadbeef").mkdir()  # killed before the marker was in
    hand_made = {
        ".site.old-2024-12": True,  # a hand-made backup, with the marker copied along
        f".site.old-{pid}-0a0b0c0d.bak": True,  # a name that merely looks similar
        f".site.old-{pid}-0A0B0C0D": True,
        f".site.staging-{pid}-0a0b0c0": True,
        f".site.staging-{pid}-0a0b0c0d-copy": True,
        f".site.old-{pid}-cafef00d": False,  # the exact name, but no marker: not ours
        f".other.staging-{pid}-0a0b0c0d": True,  # another site's (not this one's) leftover
    }
    for name, marked in hand_made.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "backup.html").write_text("keep")
        if marked:
            (tmp_path / name / MARKER).write_text("")
    elsewhere = someones_folder(tmp_path.parent / f"{tmp_path.name}-elsewhere")
    (elsewhere / MARKER).write_text("")
    (tmp_path / f".site.old-{pid}-abcdef01").symlink_to(elsewhere)  # the name, on a link
    before, before_elsewhere = snapshot(tmp_path), snapshot(elsewhere)

    publish.publish_site(tmp_path / "site", lambda staging: None)

    ours.append(f".site.staging-{pid}-deadbeef")
    kept = {name: entry for name, entry in before.items() if name.split("/")[0] not in ours}
    assert {name: entry for name, entry in snapshot(tmp_path).items() if
            not name.startswith("site")} == kept  # fmt: skip
    assert snapshot(elsewhere) == before_elsewhere


def test_a_leftover_whose_removal_was_cut_short_is_still_recognised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    leftover = tmp_path / f".site.old-{dead_pid()}-0a0b0c0d"
    (leftover / "packages").mkdir(parents=True)
    for name in ["index.html", "index.json", "packages/make.html", "packages/git.html"]:
        (leftover / name).write_text("old")
    (leftover / MARKER).write_text(publish.MARKER_TEXT)
    real_unlink = os.unlink
    removed: list[str] = []

    def unlink_then_die(path: str | os.PathLike[str], *args: object, **kwargs: object) -> None:
        if len(removed) == 2:
            raise KeyboardInterrupt  # the build is killed halfway through the removal
        removed.append(os.fspath(path))
        real_unlink(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "unlink", unlink_then_die)
    with pytest.raises(KeyboardInterrupt):
        publish.remove_leftovers(tmp_path / "site")
    monkeypatch.setattr(os, "unlink", real_unlink)
    assert (leftover / MARKER).is_file() and len(removed) == 2

    publish.remove_leftovers(tmp_path / "site")

    assert not leftover.exists()
