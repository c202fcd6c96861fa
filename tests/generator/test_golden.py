"""The golden site: ten committed submissions, built, must give the committed site byte for byte.

Every change to what the report publishes then shows in review as a diff of
tests/generator/golden/site/ (see golden/README.md). When a change is meant, regenerate:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/generator/test_golden.py

Charts (SVG) are not committed, as another matplotlib may draw them differently: only that
each one the pages show is built. Nor are assets/ and schema.json, copied as they are, nor
.rendered-by, a digest of the templates and the renderer's code (render/keep.py).
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from generator.build import build_site
from generator.render.keep import RENDERER
from installdata.config import GeneratorConfig
from installdata.load import load_submissions
from support import REPO_ROOT
from support.crawl import local_references, site_files

GOLDEN = Path(__file__).parent / "golden"
SUBMISSIONS = GOLDEN / "submissions"
EXPECTED = GOLDEN / "site"
EPOCH = "1795000000"  # 2026-11-18T11:06:40Z
REGENERATE = "UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/generator/test_golden.py"
SHOWN_FILES = 3  # a difference shows the diff of the first few files only...
SHOWN_LINES = 30  # ...and of each at most this many lines


def committed(name: str) -> bool:
    """Whether a built file belongs in the golden site."""
    copied = name.startswith("assets/") or name in ("schema.json", RENDERER)
    return not (name.endswith(".svg") or copied)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("golden") / "site"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        # The build cache goes beside the site: the golden submissions are part of the repo.
        config = GeneratorConfig(
            submissions_dir=SUBMISSIONS, site_dir=site, cache_dir=site.parent / "build-cache"
        )
        assert build_site(config) == 0
    return site


def test_the_built_site_is_the_golden_site(built: Path) -> None:
    actual = {name: data for name, data in site_files(built).items() if committed(name)}
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(EXPECTED, ignore_errors=True)
        for name, data in actual.items():
            (EXPECTED / name).parent.mkdir(parents=True, exist_ok=True)
            (EXPECTED / name).write_bytes(data)
    expected = site_files(EXPECTED) if EXPECTED.is_dir() else {}
    if actual != expected:
        pytest.fail(difference(expected, actual), pytrace=False)


def test_every_chart_the_pages_show_is_built_and_no_other(built: Path) -> None:
    shown = {
        (page.parent / unquote(urlsplit(target).path)).resolve()
        for page, target in local_references(built)
        if urlsplit(target).path.endswith(".svg")
    }
    charts = {path.resolve() for path in built.rglob("*.svg")}
    assert len(charts) >= 8
    assert shown == charts
    for chart in charts:
        assert ET.parse(chart).getroot().tag == "{http://www.w3.org/2000/svg}svg", chart


def test_the_golden_data_covers_what_it_is_there_for(built: Path) -> None:
    """So that regenerating can never quietly lose a case: merges, re-runs, skips, privacy."""
    index = json.loads((built / "index.json").read_bytes())
    # ann (re-run fixed make), ben (two ids merged), fay, cy, dee, eve, the one without an id
    assert {key: index["totals"][key] for key in ("submissions", "users", "workshops")} == {
        "submissions": 9,
        "users": 7,
        "workshops": 2,
    }
    make = next(row for row in index["failing_packages"] if row["name"] == "make")
    assert (make["failing_users"], make["failing_users_all_attempts"]) == (2, 3)
    systems = {row["system"] for row in index["users_by_system"] if row["users_with_failures"]}
    assert {"macOS", "Windows"} <= systems
    for name, data in site_files(built).items():
        for private in (b"@example.org", b"cyrus", b"id-ann", b"id-ben"):
            assert private not in data, (name, private)
    skipped = load_submissions(SUBMISSIONS, workers=1).skipped
    assert [path.name for path, _reason in skipped] == ["cut-off.json"]


def difference(expected: dict[str, bytes], actual: dict[str, bytes]) -> str:
    """What differs, readably: the files missing and new, and a short diff of a few others."""
    missing = sorted(expected.keys() - actual.keys())
    new = sorted(actual.keys() - expected.keys())
    changed = sorted(
        name for name in expected.keys() & actual.keys() if expected[name] != actual[name]
    )
    lines = [
        f"the built site differs from {EXPECTED.relative_to(REPO_ROOT)}/: {len(changed)} "
        f"changed, {len(missing)} missing, {len(new)} new files.",
        f"If the change is meant, regenerate and commit the golden site: {REGENERATE}",
    ]
    for label, names in (("missing", missing), ("new", new)):
        if names:
            lines.append(f"{label}: {', '.join(names[:10])}{' ...' if len(names) > 10 else ''}")
    for name in changed[:SHOWN_FILES]:
        diff = unified_diff(name, expected[name], actual[name], exact=False)
        diff = diff or unified_diff(name, expected[name], actual[name], exact=True)
        lines += diff[:SHOWN_LINES]
        if len(diff) > SHOWN_LINES:
            lines.append(f"... {len(diff) - SHOWN_LINES} more lines of this diff")
    if len(changed) > SHOWN_FILES:
        lines.append(f"... and {len(changed) - SHOWN_FILES} more changed: {changed[SHOWN_FILES:]}")
    return "\n".join(lines)


def unified_diff(name: str, expected: bytes, actual: bytes, *, exact: bool) -> list[str]:
    return list(
        difflib.unified_diff(
            readable(name, expected, exact=exact),
            readable(name, actual, exact=exact),
            f"golden/site/{name}",
            f"built/{name}",
            n=2,
            lineterm="",
        )
    )


def readable(name: str, data: bytes, *, exact: bool) -> list[str]:
    """A file as lines to diff. JSON, written on one line, is spread out one value a line;
    ``exact`` shows the lines as they are, line ends and all (when only they differ)."""
    text = data.decode("utf-8", errors="replace")
    if exact:
        return [repr(line) for line in text.splitlines(keepends=True)]
    if name.endswith(".json"):
        with contextlib.suppress(ValueError):  # a broken file is shown as it is
            text = json.dumps(json.loads(text), indent=1, ensure_ascii=False)
    return text.splitlines()
