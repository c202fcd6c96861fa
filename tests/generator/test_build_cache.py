"""The build cache (installdata/cache.py) changes nothing but speed: whatever happened to the
submissions folder and the cache between builds, a build that reads from the cache publishes
exactly the site, byte for byte, and the summary that a build without one does.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from io import StringIO
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from generator.build import build_site
from installdata.config import CollectorConfig, Config, GeneratorConfig
from installdata.forget import forget_command, prune_command
from support.files import write_raw, write_submission

EPOCH = "1795000000"  # 2026-11-18: the build's "now", so that two builds can be compared
DAYS = ["2020-03-01", "2026-11-01", "2026-11-02", "2026-11-15"]  # 2020: past retention
USERS = ["u1", "u2", "u3"]
RETENTION_DAYS = 1000  # prune removes the 2020 files, nothing else


def tree(root: Path) -> dict[str, str]:
    """Every file below ``root`` and the hash of its bytes."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


class Folder:
    """A submissions folder, its cache and what is done to them between builds."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = base / "submissions"
        self.cache = base / "cache"
        self.written = 0

    def config(self, site: str, cache: Path) -> Config:
        return Config(
            path=self.base / "config.yaml",
            collector=CollectorConfig(submissions_dir=self.root, retention_days=RETENTION_DAYS),
            generator=GeneratorConfig(
                submissions_dir=self.root, site_dir=self.base / site, cache_dir=cache
            ),
        )

    def build(self, site: str, cache: Path, capsys: pytest.CaptureFixture[str]) -> str:
        """Build ``site`` reading through ``cache``; the summary without its figures of time
        and of the files kept from the site built before (a cold build keeps none)."""
        capsys.readouterr()
        assert build_site(self.config(site, cache).generator, allow_shrink=True) == 0
        summary = capsys.readouterr().err.replace(str(self.base / site), "SITE")
        summary = re.sub(r", \d+ unchanged\)", ")", summary)
        return re.sub(r" in \d+\.\d s$", "", summary, flags=re.MULTILINE)

    def files(self) -> list[Path]:
        return sorted(self.root.rglob("*.json"))

    def new(self, day: str, user: str, failed: bool) -> None:
        self.written += 1
        write_submission(
            self.root,
            user_id=user,
            email_id=f"{user}@example.org",
            workshop_id="ws-1",
            received_at=f"{day}T10:{self.written % 60:02d}:00Z",
            failed=["make"] if failed else [],
        )

    def edit(self, number: int) -> None:
        """Change a file by hand, keeping its size and its mtime: only its ctime tells."""
        files = self.files()
        if not files:
            return
        path = files[number % len(files)]
        before = path.stat()
        data = path.read_bytes()
        edited = data.replace(b'"3.11.6"', b'"3.12.9"') if b'"3.11.6"' in data else data[::-1]
        path.write_bytes(edited)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    def corrupt(self, day: str) -> None:
        self.written += 1
        write_raw(self.root / day, f"bad-{self.written}.json", b'{"submission_id": ')

    def drop_cache_file(self, number: int) -> None:
        kept = sorted(self.cache.rglob("*.parquet"))
        if kept:
            kept[number % len(kept)].unlink()

    def forget(self, user: str) -> None:
        with redirect_stdout(StringIO()):
            forget_command(self.config("site", self.cache), user, None, dry_run=False)

    def prune(self) -> None:
        with redirect_stdout(StringIO()):
            prune_command(self.config("site", self.cache), dry_run=False)


OPERATIONS = st.one_of(
    st.tuples(st.just("new"), st.sampled_from(DAYS), st.sampled_from(USERS), st.booleans()),
    st.tuples(st.just("edit"), st.integers(0, 50)),
    st.tuples(st.just("corrupt"), st.sampled_from(DAYS)),
    st.tuples(st.just("drop_cache_file"), st.integers(0, 50)),
    st.tuples(st.just("forget"), st.sampled_from(USERS)),
    st.tuples(st.just("prune")),
    st.tuples(st.just("build")),
)


@contextmanager
def folder_of_a_few_files(base: Path) -> Iterator[Folder]:
    work = Path(tempfile.mkdtemp(dir=base))
    try:
        folder = Folder(work)
        for day, user in zip(DAYS, USERS * 2, strict=False):
            folder.new(day, user, failed=user == "u2")
        yield folder
    finally:
        shutil.rmtree(work)


# Each example costs a few builds: a handful stay well under a minute. No shrinking, which
# would take minutes of builds; a failing sequence has at most five steps as it is.
@settings(
    max_examples=3,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(OPERATIONS, min_size=1, max_size=5))
@example(operations=[("edit", 1)])  # same size, same mtime: only the ctime tells
@example(operations=[("corrupt", "2026-11-01"), ("build",), ("forget", "u1"), ("prune",)])
def test_a_build_through_the_cache_publishes_what_a_cold_build_does(
    operations: list[tuple[Any, ...]],
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = tmp_path_factory.getbasetemp()
    epoch = mock.patch.dict(os.environ, {"SOURCE_DATE_EPOCH": EPOCH})
    with epoch, folder_of_a_few_files(base) as folder:
        folder.build("site", folder.cache, capsys)  # the cache is filled
        for name, *arguments in operations:
            if name == "build":
                folder.build("site", folder.cache, capsys)
            else:
                getattr(folder, name)(*arguments)
        incremental = folder.build("site", folder.cache, capsys)
        cold = folder.build("cold-site", folder.base / "cold-cache", capsys)
        assert incremental == cold
        assert tree(folder.base / "site") == tree(folder.base / "cold-site")
