"""``generator build`` end to end on real files: public JSON, determinism, safety, privacy."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator import build, publish, render
from generator.__main__ import main
from installdata.config import GeneratorConfig
from installdata.errors import UserError
from support.commands import run_python
from support.crawl import site_files
from support.files import refuse_listing, write_raw, write_submission

EPOCH = "1795000000"  # 2026-11-18T11:06:40Z


@pytest.fixture(autouse=True)
def fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


def fill(root: Path) -> None:
    """A small but varied folder: merges, re-runs, workshops, corrupt files."""
    write_submission(
        root,
        user_id="user-ann-1",
        email_id="Ann@Example.org",
        workshop_id="ws-1",
        failed=["make"],
        received_at="2026-11-01T09:00:00Z",
    )
    write_submission(
        root,
        user_id="user-ann-2",
        email_id=" ann@example.org",
        workshop_id="ws-1",
        successful=["Git (git)", "make"],
        received_at="2026-11-02T09:00:00Z",
    )
    write_submission(
        root,
        user_id="user-bob",
        email_id="bob@example.org",
        workshop_id="ws-2",
        failed=["make", "Git (git)"],
        successful=[],
        received_at="2026-11-03T09:00:00Z",
        error="cannot run /home/bob/bin/make as bob@example.org",
    )
    write_submission(
        root, user_id="user-cy", failed=["Python 3 (python)"], received_at="2026-11-04T09:00:00Z"
    )
    write_submission(root, user_id=None, received_at="2026-11-05T09:00:00Z")
    write_raw(root / "bad", "truncated.json", b'{"submission_id": "x", ')
    write_raw(root / "bad", "bad-utf8.json", b'{"a": "\xff"}')
    write_raw(root / "bad", "list.json", b"[]")


def config(tmp_path: Path, **overrides: object) -> GeneratorConfig:
    return GeneratorConfig(
        submissions_dir=tmp_path / "submissions", site_dir=tmp_path / "site", **overrides
    )


def tree(root: Path, *, with_times: bool = False) -> dict[str, tuple]:
    """Every file and folder below ``root``: content hash (and times and modes)."""
    found: dict[str, tuple] = {}
    for path in sorted(root.rglob("*")):
        info = path.stat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        extra = (info.st_mtime_ns, info.st_mode) if with_times else ()
        found[path.relative_to(root).as_posix()] = (digest, *extra)
    return found


def test_index_json_holds_the_contract_fields_and_values(tmp_path: Path) -> None:
    fill(tmp_path / "submissions")

    assert build.build_site(config(tmp_path)) == 0

    index = json.loads((tmp_path / "site" / "index.json").read_text(encoding="utf-8"))
    assert index["generated_at"] == "2026-11-18T11:06:40Z"
    # ann (two ids merged by email+workshop, fixed make), bob (fails 2), cy, one anonymous.
    assert {
        key: index["totals"][key]
        for key in ("submissions", "users", "users_with_failures", "workshops")
    } == {
        "submissions": 5,
        "users": 4,
        "users_with_failures": 2,
        "workshops": 2,
    }
    assert [(p["name"], p["failing_users"]) for p in index["failing_packages"]] == [
        ("Git (git)", 1),
        ("Python 3 (python)", 1),
        ("make", 1),
    ]
    assert json.loads((tmp_path / "site" / "index.json").read_text()) == index
    assert (tmp_path / "site" / "index.html").is_file()


def test_the_summary_names_each_skipped_file_and_the_build_succeeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(tmp_path / "submissions")

    assert build.build_site(config(tmp_path)) == 0

    lines = capsys.readouterr().err.splitlines()
    assert "read 8 files, skipped 3, 4 people, " in lines[0]
    assert len(lines) == 4
    for name in ["truncated.json", "bad-utf8.json", "list.json"]:
        assert any(name in line and ": " in line for line in lines[1:]), name


def test_a_long_skipped_list_is_cut(tmp_path: Path) -> None:
    skipped = [(Path(f"f{n}.json"), "broken") for n in range(25)]
    summary = build.Summary(25, skipped, people=0, pages=1, files_written=1, seconds=0.5)

    lines = summary.lines(tmp_path)

    assert len(lines) == 1 + build.SHOW_SKIPPED + 1
    assert lines[-1].strip() == "... and 5 more skipped files"


def test_the_same_data_builds_a_byte_identical_site(tmp_path: Path) -> None:
    fill(tmp_path / "submissions")
    build.build_site(config(tmp_path))
    first = tree(tmp_path / "site")

    build.build_site(config(tmp_path), site_dir=tmp_path / "again")

    assert tree(tmp_path / "again") == first
    assert len(first) > 20


def test_the_build_never_writes_to_the_submissions_folder(tmp_path: Path) -> None:
    fill(tmp_path / "submissions")
    write_submission(tmp_path / "submissions", submission_id="no-time", received_at=None)
    before = tree(tmp_path / "submissions", with_times=True)
    folder_time = (tmp_path / "submissions").stat().st_mtime_ns

    build.build_site(config(tmp_path))

    assert tree(tmp_path / "submissions", with_times=True) == before
    assert (tmp_path / "submissions").stat().st_mtime_ns == folder_time


def test_no_email_or_user_id_appears_anywhere_in_the_site(tmp_path: Path) -> None:
    fill(tmp_path / "submissions")
    write_submission(tmp_path / "submissions", user_id="user-dee", workshop_id="dee@example.org")
    write_submission(  # Git Bash and forward-slash paths, user names with spaces
        tmp_path / "submissions",
        user_id="user-eve",
        failed=["make"],
        error="/c/Users/Eve Quarrington/bin/make: C:/Users/Eve Quarrington/AppData/make.exe "
        "is not a valid Win32 application (HOME=/home/eve quarrington)",
    )

    build.build_site(config(tmp_path))

    secrets = [
        b"Quarrington",
        b"quarrington",
        b"@example.org",  # every address of the test data (a URL like results.example.org is fine)
        b"Ann@",
        b"ann@",
        b"bob@",
        b"user-ann",
        b"user-bob",
        b"user-cy",
        b"user-dee",
        b"user-eve",
    ]
    for name, content in site_files(tmp_path / "site").items():
        assert not [s for s in secrets if s in content], name


def test_a_failed_render_leaves_the_old_site_and_no_staging_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(tmp_path / "submissions")
    build.build_site(config(tmp_path))
    published = tree(tmp_path / "site", with_times=True)
    write_submission(tmp_path / "submissions", user_id="newcomer", failed=["R (R)"])

    def render_halfway(pages: list, out_dir: Path, **_: object) -> int:
        (out_dir / "index.html").write_text("half a site")
        raise RuntimeError("render crashed")

    monkeypatch.setattr(render, "write_site", render_halfway)

    with pytest.raises(RuntimeError, match="render crashed"):
        build.build_site(config(tmp_path))

    assert tree(tmp_path / "site", with_times=True) == published
    # The build cache stays: it is what the build read, not part of the failed site.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build-cache", "site", "submissions"]


def test_a_disk_error_while_writing_exits_non_zero_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(tmp_path / "submissions")
    build.build_site(config(tmp_path))
    published = tree(tmp_path / "site")
    (tmp_path / "config.yaml").write_text("generator: {}\n")

    def disk_full(pages: list, out_dir: Path, **_: object) -> int:
        raise OSError(28, "No space left on device", str(out_dir / "index.html"))

    monkeypatch.setattr(render, "write_site", disk_full)
    capsys.readouterr()

    assert main(["build", "--config", str(tmp_path / "config.yaml")]) == 2

    error = capsys.readouterr().err
    assert error.startswith("error: cannot write the site (No space left on device")
    assert "unchanged" in error and error.count("\n") == 1
    assert tree(tmp_path / "site") == published
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "build-cache",
        "config.yaml",
        "site",
        "submissions",
    ]


def test_a_failed_swap_restores_the_old_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / publish.MARKER).write_text("")  # a site the generator published
    (site / "index.html").write_text("old")
    monkeypatch.setattr(publish, "_exchange", lambda a, b: False)  # take the two-rename path
    real_rename = os.rename

    def rename(src: os.PathLike, dst: os.PathLike) -> None:
        if Path(src).name.startswith(".site.staging-"):
            raise OSError(13, "Permission denied", str(dst))
        real_rename(src, dst)

    monkeypatch.setattr(publish.os, "rename", rename)

    with pytest.raises(OSError):
        publish.publish_site(site, lambda staging: (staging / "index.html").write_text("new"))

    assert (site / "index.html").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_publishing_swaps_in_the_new_site_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / publish.MARKER).write_text("")  # a site the generator published
    (site / "stale.html").write_text("old")
    used: list[bool] = []
    real_exchange = publish._exchange

    def exchange_or_not(a: Path, b: Path) -> bool:
        used.append(exchange and real_exchange(a, b))
        return used[-1]

    monkeypatch.setattr(publish, "_exchange", exchange_or_not)

    publish.publish_site(site, lambda staging: (staging / "index.html").write_text("new"))

    assert used == [exchange and sys.platform.startswith("linux")]
    assert sorted(p.name for p in site.iterdir()) == [publish.MARKER, "index.html"]
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_leftovers_of_a_killed_build_are_removed_but_a_running_build_is_left_alone(
    tmp_path: Path,
) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    (tmp_path / f".site.staging-{dead_pid}-0a0b0c0d").mkdir()
    (tmp_path / f".site.old-{dead_pid}-0a0b0c0d").mkdir()
    running = tmp_path / f".site.staging-{os.getppid()}-01020304"
    running.mkdir()

    publish.publish_site(tmp_path / "site", lambda staging: None)

    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([running.name, "site"])


def test_missing_submissions_folder_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("generator:\n  submissions_dir: nowhere\n")

    done = run_python("-m", "generator", "build", "--config", str(tmp_path / "config.yaml"))

    assert done.returncode == 2
    assert done.stderr == f"error: submissions folder not found: {tmp_path / 'nowhere'}\n"
    assert not (tmp_path / "site").exists()


def test_a_site_folder_inside_submissions_is_refused(tmp_path: Path) -> None:
    (tmp_path / "submissions").mkdir()

    with pytest.raises(UserError, match="must not contain each other"):
        build.build_site(config(tmp_path), site_dir=tmp_path / "submissions" / "site")


def test_a_bad_source_date_epoch_is_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")

    with pytest.raises(UserError, match="SOURCE_DATE_EPOCH"):
        build.build_time()


def test_the_command_line_builds_from_the_config_and_reports_on_stderr(tmp_path: Path) -> None:
    fill(tmp_path / "submissions")
    (tmp_path / "config.yaml").write_text("generator:\n  site_dir: public\n  title: Our results\n")

    done = run_python(
        "-m",
        "generator",
        "build",
        "--config",
        str(tmp_path / "config.yaml"),
        env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH},
        timeout=300,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "skipped 3" in done.stderr and "Traceback" not in done.stderr
    assert "Our results" in (tmp_path / "public" / "index.html").read_text(encoding="utf-8")


def test_an_empty_folder_or_one_with_only_bare_files_builds_a_report(tmp_path: Path) -> None:
    (tmp_path / "submissions").mkdir()
    assert build.build_site(config(tmp_path)) == 0
    empty = json.loads((tmp_path / "site" / "index.json").read_text(encoding="utf-8"))
    assert empty["totals"]["submissions"] == 0 and empty["failing_packages"] == []

    write_raw(tmp_path / "submissions", "bare.json", b"{}")  # valid: every field defaults
    assert build.build_site(config(tmp_path)) == 0

    bare = json.loads((tmp_path / "site" / "index.json").read_text(encoding="utf-8"))
    assert (bare["totals"]["submissions"], bare["totals"]["users"]) == (1, 1)


def test_a_symlinked_site_folder_is_published_through_the_link(tmp_path: Path) -> None:
    fill(tmp_path / "submissions")
    (tmp_path / "real-site").mkdir()
    (tmp_path / "site").symlink_to(tmp_path / "real-site")

    build.build_site(config(tmp_path))

    assert (tmp_path / "site").is_symlink()
    assert (tmp_path / "real-site" / "index.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "build-cache",
        "real-site",
        "site",
        "submissions",
    ]


def test_a_name_with_a_newline_cannot_forge_a_line_of_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(tmp_path / "submissions")
    forged = "x.json: broken\n  skipped everything else.json"
    write_raw(tmp_path / "submissions" / "bad", forged, b"{")
    write_raw(tmp_path / "submissions" / "bad", os.fsdecode(b"\xff\x1b[2J.json"), b"{")

    assert build.build_site(config(tmp_path)) == 0

    lines = capsys.readouterr().err.splitlines()
    assert "read 10 files, skipped 5, 4 people, " in lines[0]
    assert len(lines) == 6  # the figures, and one line per skipped file
    bad = tmp_path / "submissions" / "bad"
    assert f"  skipped {bad}/\\xff\\x1b[2J.json: not valid UTF-8 JSON (unexpected end of data)" in (
        lines
    )
    assert f"  skipped {bad}/x.json: broken\\n  skipped everything else.json: not valid " in (
        "\n".join(lines)
    )


def test_a_folder_the_build_cannot_list_is_named_and_the_build_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Root may read any folder, so the refusal a mode-700 ``lost+found`` gives other users is
    made by ``os.scandir`` (tests/core/test_hostile_folder.py runs the real one as nobody)."""
    fill(tmp_path / "submissions")
    lost = tmp_path / "submissions" / "lost+found"
    lost.mkdir(mode=0o700)
    refuse_listing(monkeypatch, lost)

    assert build.build_site(config(tmp_path)) == 0

    lines = capsys.readouterr().err.splitlines()
    assert "read 9 files, skipped 4, 4 people, " in lines[0]
    assert f"  skipped {lost}: cannot list this folder: Permission denied" in lines
