"""A rebuild rewrites only the files whose bytes changed: generator/render/keep.py.

Real builds over real files: an unchanged file keeps its inode and modification time, a
changed one is a new file, a removed page is gone, a failed rebuild leaves the old site whole,
and nothing planted in the old site (a link, a FIFO) is followed or kept.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from generator import publish
from generator.__main__ import main
from generator.publish import MARKER
from generator.render.keep import RENDERER, SiteFiles
from generator.render.templates import renderer
from generator.slugs import package_path
from support.files import write_submission

EPOCH = "1795000000"  # 2026-11-18T11:06:40Z


@pytest.fixture(autouse=True)
def fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


def build(tmp_path: Path) -> int:
    config = tmp_path / "config.yaml"
    config.write_text("generator: {submissions_dir: submissions, site_dir: site}\n")
    return main(["build", "--config", str(config)])


def files(site: Path) -> dict[str, tuple[int, int]]:
    """Every file of the site (the marker too): its inode and modification time."""
    found = {}
    for path in sorted(site.rglob("*")):
        info = path.lstat()
        assert not stat.S_ISLNK(info.st_mode), path
        if stat.S_ISREG(info.st_mode):
            found[path.relative_to(site).as_posix()] = (info.st_ino, info.st_mtime_ns)
    return found


def fill(submissions: Path) -> None:
    for number in range(6):
        write_submission(
            submissions,
            user_id=f"user-{number}",
            workshop_id="ws-keep",
            failed=["make"] if number % 2 else [],
            received_at="2026-11-01T09:00:00Z",
        )


def test_a_rebuild_of_unchanged_data_keeps_every_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(tmp_path / "submissions")
    assert build(tmp_path) == 0
    first = files(tmp_path / "site")
    assert MARKER in first and "index.html" in first
    assert "0 unchanged" in capsys.readouterr().err

    assert build(tmp_path) == 0

    assert files(tmp_path / "site") == first
    pages = len(first) - 1  # the summary counts the pages' files, not the marker
    assert f"({pages} files, {pages} unchanged)" in capsys.readouterr().err


def test_a_rebuild_a_second_later_keeps_the_pages_whose_content_did_not_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the build time differs: the pages keep their files and their older time, and
    the front page says when the site was last built."""
    fill(tmp_path / "submissions")
    assert build(tmp_path) == 0
    site = tmp_path / "site"
    first = files(site)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(EPOCH) + 1))

    assert build(tmp_path) == 0

    second = files(site)
    assert second["index.html"] != first["index.html"]
    assert second["index.json"] != first["index.json"]
    twin = json.loads((site / "index.json").read_bytes())
    assert twin["generated_at"] == "2026-11-18T11:06:41Z"
    workshop = next(name for name in first if name.startswith("workshops/ws-keep"))
    make = package_path("make")
    for name in (make, make.replace(".html", ".json"), workshop, "matrix.html"):
        assert second[name] == first[name], name
    kept = json.loads((site / make).with_suffix(".json").read_bytes())
    assert kept["generated_at"] == "2026-11-18T11:06:40Z"  # when this content was made
    assert "2026-11-18T11:06:41Z" not in (site / make).read_text()
    assert len([name for name in second if second[name] == first.get(name)]) > len(first) // 2


def test_a_workshop_page_whose_data_did_not_change_is_not_rendered_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch page whose twin is kept keeps its HTML unread, if the published site was
    rendered by the same templates, code and title (RENDERER); any other page is compared."""
    fill(tmp_path / "submissions")
    assert build(tmp_path) == 0
    site = tmp_path / "site"
    workshop = next(site.glob("workshops/ws-keep*.html"))
    # A mark the renderer would never write: it survives only where nothing is rendered.
    for page in (workshop, site / "matrix.html"):
        page.write_text(page.read_text() + "<!-- not rendered again -->")

    assert build(tmp_path) == 0
    assert workshop.read_text().endswith("<!-- not rendered again -->")
    assert not (site / "matrix.html").read_text().endswith("<!-- not rendered again -->")

    (site / RENDERER).write_text("rendered by other templates")
    assert build(tmp_path) == 0
    assert not workshop.read_text().endswith("<!-- not rendered again -->")
    assert (site / RENDERER).read_text() == renderer("Installation test results")

    workshop.write_text(workshop.read_text() + "<!-- not rendered again -->")
    write_submission(
        tmp_path / "submissions",
        user_id="user-new",
        workshop_id="ws-keep",
        received_at="2026-11-02T09:00:00Z",
    )
    assert build(tmp_path) == 0
    assert not workshop.read_text().endswith("<!-- not rendered again -->")  # its data changed
    assert json.loads(workshop.with_suffix(".json").read_bytes())["participants"] == 7


def test_a_page_that_differs_in_more_than_its_stamp_is_written(tmp_path: Path) -> None:
    old, staging = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    staging.mkdir()
    stamp, earlier = "2026-11-18T11:06:41Z", "2026-11-18T11:06:40Z"
    (old / "a.html").write_text(f"<p>{earlier}: 5 failing</p><time>{earlier}</time>")
    (old / "b.html").write_text(f"<p>{earlier}: 5 failing</p><time>2026-11-17T00:00:00Z</time>")
    (old / "c.html").write_text("<p>XXXX-XX-XXTXX:XX:XXZ: 5 failing</p>")
    files = SiteFiles(staging, old)
    assert not files.write(
        staging / "a.html", f"<p>{stamp}: 5 failing</p><time>{stamp}</time>".encode(), stamp
    )
    assert files.write(
        staging / "b.html", f"<p>{stamp}: 5 failing</p><time>{stamp}</time>".encode(), stamp
    )
    assert files.write(staging / "c.html", f"<p>{stamp}: 5 failing</p>".encode(), stamp)
    assert (staging / "a.html").stat().st_ino == (old / "a.html").stat().st_ino
    assert (staging / "b.html").stat().st_ino != (old / "b.html").stat().st_ino


def test_a_changed_page_is_a_new_file_and_a_removed_page_is_gone(tmp_path: Path) -> None:
    submissions, site = tmp_path / "submissions", tmp_path / "site"
    fill(submissions)
    lone = write_submission(
        submissions, user_id="lone", workshop_id="ws-gone", received_at="2026-11-02T09:00:00Z"
    )
    assert build(tmp_path) == 0
    first = files(site)
    gone = [name for name in first if name.startswith("workshops/ws-gone")]
    assert gone

    lone.unlink()
    write_submission(submissions, user_id="new", failed=["make"], received_at="2026-11-03")
    assert build(tmp_path) == 0

    second = files(site)
    assert not [name for name in second if name.startswith("workshops/ws-gone")]
    assert not any((site / name).exists() for name in gone)
    assert second["index.html"] != first["index.html"]
    assert b"ws-gone" not in (site / "workshops" / "index.html").read_bytes()
    kept = {name for name in second if second[name] == first.get(name)}
    assert "assets/site.css" in kept  # untouched by the data
    assert "index.json" not in kept and "workshops/index.html" not in kept


def test_a_failed_rebuild_leaves_the_old_site_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The staging folder, full of links to the published files, is deleted: they stay."""
    fill(tmp_path / "submissions")
    assert build(tmp_path) == 0
    site = tmp_path / "site"
    before = {name: (site / name).read_bytes() for name in files(site)}
    inodes = files(site)

    def fail(staging: Path, site_dir: Path) -> None:
        linked = [
            path for path in staging.rglob("*") if path.is_file() and path.stat().st_nlink > 1
        ]
        assert len(linked) == len(inodes)  # every file kept, by a link into the old site
        raise OSError(5, "Input/output error", str(site_dir))

    monkeypatch.setattr(publish, "swap_in", fail)
    assert build(tmp_path) == 2

    assert files(site) == inodes
    assert {name: (site / name).read_bytes() for name in inodes} == before
    assert all((site / name).stat().st_nlink == 1 for name in inodes)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "build-cache",  # the build cache, beside the config (docs/generator.md)
        "config.yaml",
        "site",
        "submissions",
    ]


def test_a_link_planted_in_the_old_site_is_never_followed(tmp_path: Path) -> None:
    fill(tmp_path / "submissions")
    assert build(tmp_path) == 0
    site, outside = tmp_path / "site", tmp_path / "outside"
    outside.mkdir()
    # A file link and a folder link, each to a copy with exactly the bytes the build writes.
    css = outside / "site.css"
    css.write_bytes((site / "assets" / "site.css").read_bytes())
    (site / "assets" / "site.css").unlink()
    (site / "assets" / "site.css").symlink_to(css)
    (outside / "workshops").mkdir()
    for page in (site / "workshops").iterdir():
        (outside / "workshops" / page.name).write_bytes(page.read_bytes())
    os.rename(site / "workshops", tmp_path / "workshops-moved")
    (site / "workshops").symlink_to(outside / "workshops")
    # A FIFO where a page was: opening it to compare must not wait for a writer.
    (site / "packages" / "index.json").unlink()
    os.mkfifo(site / "packages" / "index.json")
    planted = {path: path.stat() for path in outside.rglob("*") if path.is_file()}

    assert build(tmp_path) == 0

    for path, info in planted.items():  # not linked into the new site, not changed
        now = path.stat()
        assert (now.st_nlink, now.st_mtime_ns) == (1, info.st_mtime_ns)
    new = files(site)  # asserts: no link anywhere in the new site
    assert {"assets/site.css", "packages/index.json", "workshops/index.html"} <= set(new)


def test_only_a_regular_file_with_the_same_bytes_is_kept(tmp_path: Path) -> None:
    old, staging = tmp_path / "old", tmp_path / "staging"
    (old / "sub").mkdir(parents=True)
    (staging / "sub").mkdir(parents=True)
    (old / "sub" / "same.html").write_bytes(b"same")
    (old / "sub" / "longer.html").write_bytes(b"longer")
    (old / "sub" / "other.html").write_bytes(b"abcd")
    writer = SiteFiles(staging, old)

    assert writer.write(staging / "sub" / "same.html", b"same") is False
    assert writer.write(staging / "sub" / "longer.html", b"long") is True
    assert writer.write(staging / "sub" / "other.html", b"dcba") is True
    assert writer.write(staging / "sub" / "new.html", b"new") is True
    assert SiteFiles(staging, None).write(staging / "sub" / "none.html", b"same") is True
    assert (staging / "sub" / "same.html").stat().st_ino == (
        old / "sub" / "same.html"
    ).stat().st_ino
    for name, data in [("longer", b"long"), ("other", b"dcba"), ("new", b"new")]:
        path = staging / "sub" / f"{name}.html"
        assert (path.read_bytes(), path.stat().st_nlink) == (data, 1)
