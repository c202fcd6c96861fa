"""The build cache (installdata/cache.py): used when a folder is unchanged, ignored when it is
bad or of another code version, private like the submissions, and emptied of what forget
and prune delete."""

from __future__ import annotations

import stat
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

import installdata.read
from generator.build import build_site
from installdata import cache as cache_module
from installdata.cache import ReadCache
from installdata.config import CollectorConfig, Config, GeneratorConfig
from installdata.errors import UserError
from installdata.folder import SubmissionFolder
from installdata.forget import forget_command
from installdata.load import LoadResult, load_submissions
from installdata.storage import FILE_MODE
from support.files import write_raw, write_submission

LIMIT = 1 << 20


def fill(root: Path) -> None:
    for day, user in [("2026-11-01", "ann"), ("2026-11-01", "bob"), ("2026-11-02", "ann")]:
        write_submission(
            root, user_id=user, email_id=f"{user}@example.org", received_at=f"{day}T10:00:00Z"
        )
    write_raw(root / "2026-11-02", "broken.json", b"{")


def load(root: Path, cache_dir: Path) -> LoadResult:
    return load_submissions(root, workers=1, cache=ReadCache(cache_dir, root, LIMIT))


def same(a: LoadResult, b: LoadResult) -> None:
    pd.testing.assert_frame_equal(a.submissions, b.submissions)
    pd.testing.assert_frame_equal(a.results, b.results)
    assert (a.skipped, a.files_read) == (b.skipped, b.files_read)


@pytest.fixture
def files_parsed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many submission files each load parsed (the cache's hits parse none)."""
    parsed: list[int] = []
    read_chunk = installdata.read._read_chunk

    def counting(
        folder: SubmissionFolder, paths: list[str], stats: list[Any]
    ) -> installdata.read.ChunkColumns:
        parsed.append(len(paths))
        return read_chunk(folder, paths, stats)

    monkeypatch.setattr(installdata.read, "_read_chunk", counting)
    return parsed


def test_an_unchanged_folder_is_read_from_the_cache_and_gives_the_same_tables(
    tmp_path: Path, files_parsed: list[int]
) -> None:
    root = tmp_path / "submissions"
    fill(root)
    cold = load_submissions(root, workers=1)
    assert sum(files_parsed) == 4
    same(load(root, tmp_path / "cache"), cold)
    files_parsed.clear()
    same(load(root, tmp_path / "cache"), cold)  # the corrupt file is still named as skipped
    assert files_parsed == []

    write_submission(root, user_id="cy", received_at="2026-11-03T10:00:00Z")
    load(root, tmp_path / "cache")
    assert files_parsed == [1]  # only the new day folder


def test_the_reader_processes_keep_the_runs_they_read_under_the_listings_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files_parsed: list[int]
) -> None:
    """Worker processes key a run by the ``fstat`` of the files they opened; the next build
    looks it up by the listing's ``lstat``: the two must give the same cache file."""
    monkeypatch.setattr(installdata.read, "IN_PROCESS_BELOW", 0)
    monkeypatch.setattr(installdata.read, "CHUNK_SIZE", 2)
    root, cache_dir = tmp_path / "submissions", tmp_path / "cache"
    fill(root)
    cold = load_submissions(root, workers=1)
    files_parsed.clear()
    same(load_submissions(root, workers=2, cache=ReadCache(cache_dir, root, LIMIT)), cold)
    assert files_parsed == []  # parsed by the workers (which this process does not count)
    assert len(list(cache_dir.rglob("*.parquet"))) == 2  # one per day folder
    same(load(root, cache_dir), cold)
    assert files_parsed == []  # every run from the cache


def test_cached_runs_read_a_few_ahead_and_converted_a_few_at_a_time_give_the_same_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, cache_dir = tmp_path / "submissions", tmp_path / "cache"
    fill(root)
    for day in ("2026-11-03", "2026-11-04", "2026-11-05"):
        write_submission(root, user_id="dan", received_at=f"{day}T10:00:00Z")
    cold = load_submissions(root, workers=1)
    load(root, cache_dir)
    monkeypatch.setattr(installdata.read, "MERGED_ROWS", 2)  # runs of 2, 1, 1, 1 and 1 rows
    monkeypatch.setattr(cache_module, "cores", lambda: 1)  # two runs read ahead
    same(load(root, cache_dir), cold)


def test_a_big_folder_is_kept_in_runs_of_at_most_max_run_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files_parsed: list[int]
) -> None:
    monkeypatch.setattr(installdata.read, "MAX_RUN", 2)
    root, cache_dir = tmp_path / "submissions", tmp_path / "cache"
    for user in ("ann", "bob", "cy", "dee", "eve"):
        write_submission(root, user_id=user, received_at="2026-11-01T10:00:00Z")
    cold = load_submissions(root, workers=1)
    files_parsed.clear()
    same(load(root, cache_dir), cold)
    assert files_parsed == [2, 2, 1]
    assert len(list(cache_dir.rglob("*.parquet"))) == 3
    files_parsed.clear()
    same(load(root, cache_dir), cold)
    assert files_parsed == []


def test_a_run_with_a_file_that_vanished_before_it_was_read_is_not_kept(tmp_path: Path) -> None:
    """Its key (made with the vanished file) is one no listing will ever give again."""
    root, cache_dir = tmp_path / "submissions", tmp_path / "cache"
    kept = write_submission(root, user_id="ann", received_at="2026-11-01T10:00:00Z")
    gone = kept.with_name("gone.json")
    read_run = installdata.read._RunReader(str(root), LIMIT, ReadCache(cache_dir, root, LIMIT))
    entry, pieces = read_run([str(kept), str(gone)])
    assert entry is None
    assert [why for _, why in pieces[0]["skipped"]] == ["vanished (removed meanwhile)"]
    assert not list(cache_dir.rglob("*.parquet"))


def test_cache_files_are_as_private_as_the_submissions(tmp_path: Path) -> None:
    root = tmp_path / "submissions"
    fill(root)
    load(root, tmp_path / "cache")
    kept = sorted((tmp_path / "cache").rglob("*"))
    assert [p.suffix for p in kept if p.is_file()] == [".parquet", ".parquet"]
    for path in kept:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (FILE_MODE if path.is_file() else cache_module.FOLDER_MODE), path


def test_a_corrupt_cache_file_or_one_of_another_code_version_is_ignored_and_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files_parsed: list[int]
) -> None:
    root, cache_dir = tmp_path / "submissions", tmp_path / "cache"
    fill(root)
    cold = load(root, cache_dir)
    first, second = sorted(cache_dir.rglob("*.parquet"))
    first.write_bytes(first.read_bytes()[:-100])  # cut short
    second.write_bytes(b"PAR1" + bytes(second.stat().st_size - 8) + b"PAR1")  # zeroed
    files_parsed.clear()
    same(load(root, cache_dir), cold)
    assert sum(files_parsed) == 4
    assert sorted(cache_dir.rglob("*.parquet")) == [first, second]  # written anew

    monkeypatch.setattr(cache_module, "FORMAT", cache_module.FORMAT + 1)
    files_parsed.clear()
    same(load(root, cache_dir), cold)
    assert sum(files_parsed) == 4  # none of the old version's files was used
    assert len(list(cache_dir.rglob("*.parquet"))) == 2  # and they were removed


def test_forget_leaves_nothing_of_the_person_in_the_cache(tmp_path: Path) -> None:
    root, cache_dir = tmp_path / "submissions", tmp_path / "cache"
    fill(root)
    config = Config(
        path=tmp_path / "config.yaml",
        collector=CollectorConfig(submissions_dir=root),
        generator=GeneratorConfig(submissions_dir=root, cache_dir=cache_dir),
    )
    load(root, cache_dir)
    with redirect_stdout(StringIO()):
        forget_command(config, None, "ann@example.org", dry_run=False)
    load(root, cache_dir)  # the next build keeps what is left
    kept = [pq.read_table(path).to_pylist() for path in cache_dir.rglob("*")]
    assert "ann@example.org" not in repr(kept)
    assert "bob@example.org" in repr(kept)


def test_a_cache_folder_inside_the_submissions_or_the_site_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "submissions"
    fill(root)
    for inside in (root / "cache", tmp_path / "site" / "cache"):
        config = GeneratorConfig(submissions_dir=root, site_dir=tmp_path / "site", cache_dir=inside)
        with pytest.raises(UserError, match=r"generator.cache_dir .* must not be inside"):
            build_site(config)
    assert not (root / "cache").exists()
