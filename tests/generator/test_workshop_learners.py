"""A workshop page's learners, its by-system table and its fix links, through the real build
on hand-made submission files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from generator.build import build_site
from generator.pages import workshop as workshop_page
from installdata.config import GeneratorConfig
from support.files import write_submission

WORKSHOP = "2026-11-20-room"


@pytest.fixture(autouse=True)
def fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795000000")  # 2026-11-18


def build(tmp_path: Path, **config: Any) -> Path:
    site = tmp_path / "site"
    build_site(GeneratorConfig(submissions_dir=tmp_path / "in", site_dir=site, **config))
    return site


def workshop_twin(site: Path, name: str = WORKSHOP) -> dict[str, Any]:
    index = json.loads((site / "workshops" / "index.json").read_text(encoding="utf-8"))
    (row,) = [row for row in index["workshops"] if row["name"] == name]
    path = site / row["href"].removesuffix(".html")
    twin: dict[str, Any] = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    return twin


def fill(root: Path, ids: tuple[str, ...] = ("ann", "bob", "cy", "dee")) -> None:
    """Four learners: ann fixed git on her second try and still fails make; bob fails two
    things on macOS; cy passes everything; dee's only attempt fails make on Windows."""
    ann, bob, cy, dee = ids
    at = "2026-11-1{}T10:00:00Z".format
    write_submission(
        root, user_id=ann, email_id=f"{ann}@uni.example", workshop_id=WORKSHOP,
        failed=["make", "Git (git)"], successful=["Python (python)"], received_at=at(0),
    )  # fmt: skip
    write_submission(
        root, user_id=ann, email_id=f"{ann}@uni.example", workshop_id=WORKSHOP,
        failed=["make"], successful=["Git (git)", "Python (python)"], received_at=at(1),
    )  # fmt: skip
    write_submission(
        root, user_id=bob, workshop_id=WORKSHOP, system="Darwin", python_version="3.10.2",
        failed=["make", "Python (python)"], received_at=at(2),
    )  # fmt: skip
    write_submission(
        root, user_id=cy, workshop_id=WORKSHOP, python_version="3.8.10",
        successful=["make", "Git (git)"], received_at=at(3),
    )  # fmt: skip
    write_submission(
        root, user_id=dee, workshop_id=WORKSHOP, system="Windows", failed=["make"],
        received_at=at(4),
    )  # fmt: skip


def test_one_anonymous_row_per_participant_with_what_fails_and_what_was_fixed(
    tmp_path: Path,
) -> None:
    fill(tmp_path / "in")
    twin = workshop_twin(build(tmp_path))

    learners = twin["learners"]
    assert len(learners) == twin["participants"] == 4
    assert sum(1 for row in learners if row["failing"]) == twin["participants_failing"] == 3
    assert twin["participants_fixed"] == 1
    # Sorted by content (system, Python version, failing, fixed), numbered in that order.
    assert learners == [
        {"learner": 1, "system": "Linux", "python_version": "3.8", "failing": [], "fixed": []},
        {
            "learner": 2,
            "system": "Linux",
            "python_version": "3.11",
            "failing": ["make"],
            "fixed": ["Git (git)"],
        },
        {"learner": 3, "system": "Windows", "python_version": "3.11", "failing": ["make"],
         "fixed": []},
        {"learner": 4, "system": "macOS", "python_version": "3.10",
         "failing": ["Python (python)", "make"], "fixed": []},
    ]  # fmt: skip
    html = (tmp_path / "site" / "workshops").glob("2026-11-20-room-*.html")
    page = next(html).read_text(encoding="utf-8")
    assert 'id="learners"' in page and "Fixed something since their first try" in page


def test_the_rows_reveal_no_identity_and_do_not_depend_on_it(tmp_path: Path) -> None:
    fill(tmp_path / "one" / "in")
    fill(tmp_path / "two" / "in", ids=("zed", "yan", "xia", "wu"))
    first = workshop_twin(build(tmp_path / "one"))
    second = workshop_twin(build(tmp_path / "two"))

    assert first == second  # other ids and e-mail addresses: the same JSON
    text = json.dumps(first)
    for secret in ("ann", "bob", "uni.example", "T10:00", "2026-11-11", "user"):
        assert secret not in text
    for row in first["learners"]:
        assert set(row) == {"learner", "system", "python_version", "failing", "fixed"}


def test_failing_packages_by_system_count_the_participants_who_tested_them(
    tmp_path: Path,
) -> None:
    fill(tmp_path / "in")
    twin = workshop_twin(build(tmp_path))

    systems = [row["system"] for row in twin["systems"]]
    assert systems == ["Linux", "Windows", "macOS"]
    make = next(row for row in twin["packages"] if row["name"] == "make")
    assert make["by_system"] == [
        {"system": "Linux", "failing_participants": 1, "tested_participants": 2},
        {"system": "Windows", "failing_participants": 1, "tested_participants": 1},
        {"system": "macOS", "failing_participants": 1, "tested_participants": 1},
    ]
    assert make["help_urls"] == []


def test_small_workshops_get_no_page_and_no_learners(tmp_path: Path) -> None:
    fill(tmp_path / "in")
    write_submission(tmp_path / "in", user_id="solo", workshop_id="tiny", failed=["make"])
    site = build(tmp_path, min_workshop_participants=2)

    index = json.loads((site / "workshops" / "index.json").read_text(encoding="utf-8"))
    assert [row["name"] for row in index["workshops"]] == [WORKSHOP]
    assert index["hidden_workshops"] == 1
    assert not list((site / "workshops").glob("tiny-*"))
    assert all("tiny" not in path.name for path in site.rglob("*"))


def test_fix_links_come_from_the_hook_and_only_http_links_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page takes its links from a function (package code -> URLs) it is given."""
    fill(tmp_path / "in")
    real = workshop_page.workshop_pages

    def with_links(*args: Any, **kwargs: Any) -> Any:
        urls = ["https://fix.example/make", "javascript:alert(1)", "http://old.example/make"]
        return real(*args[:4], lambda code: urls, *args[5:], **kwargs)

    monkeypatch.setattr(workshop_page, "workshop_pages", with_links)
    site = build(tmp_path)

    make = next(row for row in workshop_twin(site)["packages"] if row["name"] == "make")
    assert make["help_urls"] == ["https://fix.example/make", "http://old.example/make"]
    page = next((site / "workshops").glob("2026-11-20-room-*.html")).read_text(encoding="utf-8")
    assert '<a href="https://fix.example/make" rel="nofollow noopener">' in page
    assert "javascript:" not in page
