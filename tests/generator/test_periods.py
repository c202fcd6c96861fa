"""Change over time on hand-made files: a page per period, deltas against the period before,
weekly series with empty and partial weeks, and versions with their rates and dates."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from generator.build import build_site
from generator.change import change_points
from generator.intervals import wilson
from generator.model import Page, pages_of
from generator.pages import iter_pages
from generator.slugs import package_path
from installdata.config import GeneratorConfig
from installdata.load import load_submissions
from installdata.people import assign_people
from support.files import write_submission

NOW = pd.Timestamp("2026-11-23T12:00:00Z")  # a Monday
MAKE = package_path("make")


def pages_for(root: Path) -> dict[str, Page]:
    loaded = load_submissions(root)
    people = assign_people(loaded.submissions)
    pages = iter_pages(people, loaded.results, now=NOW, generated_at="-", title="Results")
    return {page.path: page for page in pages_of(pages)}


def days_ago(days: int) -> str:
    return (NOW - pd.Timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _people(root: Path, prefix: str, days: int, failing: int, passing: int) -> None:
    """``failing`` people failing make and ``passing`` passing it, ``days`` ago."""
    for number in range(failing):
        write_submission(
            root, user_id=f"{prefix}-f{number}", received_at=days_ago(days), failed=["make"]
        )
    for number in range(passing):
        write_submission(
            root,
            user_id=f"{prefix}-p{number}",
            received_at=days_ago(days),
            successful=["Git (git)", "make"],
        )


def test_each_period_has_its_own_pages_counting_only_that_period(tmp_path: Path) -> None:
    _people(tmp_path, "old", 200, failing=2, passing=0)  # within 365 days only
    _people(tmp_path, "new", 10, failing=1, passing=3)  # within every period

    pages = pages_for(tmp_path)

    for days, tested, failing in ((None, 6, 3), (30, 4, 1), (90, 4, 1), (365, 6, 3)):
        page = pages[package_path("make", days)]
        assert (page.context["tested_users"], page.context["failing_users"]) == (tested, failing)
        assert page.context["window_days"] == days
        matrix = pages["matrix.html" if days is None else f"recent/{days}-days/matrix.html"]
        [cell] = next(row for row in matrix.context["by_system"] if row["name"] == "make")["cells"]
        assert (cell["tested_users"], cell["failing_users"]) == (tested, failing)
        compare = pages["compare.html" if days is None else f"recent/{days}-days/compare.html"]
        [row] = [row for row in compare.context["packages"] if row["name"] == "make"]
        assert row["href"] == package_path("make", days)  # links stay in the period
        assert (row["tested_users"], row["failing_users"]) == (tested, failing)
    # Every period's switcher points at pages that exist, the all-time one at the old URL.
    windows = pages[MAKE].context["windows"]
    assert next(link["href"] for link in windows) == MAKE
    assert all(link["href"] in pages for link in windows)
    # The last 30 days start on a Saturday (10-24): that week is partial, as is the current.
    recent = pages["recent/30-days.html"].context["weekly"]
    assert [(w["week"], w["partial"]) for w in recent][:2] == [
        ("2026-10-19", True),
        ("2026-10-26", False),
    ]
    assert (recent[-1]["week"], recent[-1]["partial"]) == ("2026-11-23", True)
    assert sum(w["submissions"] for w in recent) == 4
    errors = pages[package_path("make", 30)].context["errors"]
    assert [error["count"] for error in errors] == [1]  # the old failures are not this period's


def test_a_package_untested_in_a_period_still_has_that_periods_page(tmp_path: Path) -> None:
    _people(tmp_path, "old", 200, failing=1, passing=0)

    page = pages_for(tmp_path)[package_path("make", 30)]

    assert page.context["tested_users"] == 0 and page.context["failure_rate"] is None
    assert page.context["weekly"] == [] and page.charts == []


def test_headline_rates_state_the_change_against_the_period_before(tmp_path: Path) -> None:
    # The 30 days before the last 30: 1 of 4 failing (25%); the last 30 days: 3 of 5 (60%).
    _people(tmp_path, "before", 45, failing=1, passing=3)
    _people(tmp_path, "now", 5, failing=3, passing=2)

    pages = pages_for(tmp_path)

    package = pages[package_path("make", 30)].context
    assert package["failure_rate"] == 0.6
    assert package["previous"] == {
        "days": 30,
        "start": "2026-09-24",
        "end": "2026-10-24",
        "tested_users": 4,
        "failing_users": 1,
        "failure_rate": 0.25,
        "change_points": 35.0,
    }
    overview = pages["recent/30-days.html"].context
    assert overview["totals"]["share_users_failing"] == 0.6
    assert overview["previous"]["change_points"] == 35.0
    assert pages[MAKE].context["previous"] is None  # all time has no period before
    assert pages["index.html"].context["previous"] is None
    # 90 days: everyone is in the period, nobody in the 90 days before.
    assert pages[package_path("make", 90)].context["previous"]["change_points"] is None


def test_change_points_are_the_difference_of_the_shown_rates() -> None:
    assert change_points(0.211, 0.148) == 6.3
    assert change_points(0.1, 0.35) == -25.0
    assert change_points(None, 0.2) is None and change_points(0.2, None) is None


def test_weekly_series_show_empty_weeks_as_empty_and_mark_the_partial_week(
    tmp_path: Path,
) -> None:
    # NOW is Monday 2026-11-23: attempts in the weeks of 11-02 and 11-16, none on 11-09, and
    # none yet in the current week, which is only a few hours old.
    write_submission(tmp_path, user_id="a", received_at="2026-11-03T10:00:00Z", failed=["make"])
    write_submission(tmp_path, user_id="b", received_at="2026-11-17T10:00:00Z", failed=["make"])
    write_submission(tmp_path, user_id="c", received_at="2026-11-18T10:00:00Z", successful=["make"])

    pages = pages_for(tmp_path)

    weekly = pages[MAKE].context["weekly"]
    assert [(w["week"], w["attempts"], w["failed_attempts"]) for w in weekly] == [
        ("2026-11-02", 1, 1),
        ("2026-11-09", 0, 0),
        ("2026-11-16", 2, 1),
        ("2026-11-23", 0, 0),
    ]
    assert [w["failure_rate"] for w in weekly] == [1.0, None, 0.5, None]
    assert weekly[1]["rate_low"] is None and weekly[1]["rate_high"] is None
    assert [w["partial"] for w in weekly] == [False, False, False, True]
    overview = pages["index.html"].context["weekly"]
    assert [(w["week"], w["submissions"], w["partial"]) for w in overview] == [
        ("2026-11-02", 1, False),
        ("2026-11-09", 0, False),
        ("2026-11-16", 2, False),
        ("2026-11-23", 0, True),
    ]
    [chart] = [c for c in pages[MAKE].charts if c.name == "weekly"]
    assert chart.weeks == ("2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23")
    assert chart.rates == (1.0, None, 0.5, None) and chart.partial[-1]
    assert "1 weeks had no attempt" not in chart.alt and "2 weeks had no attempt" in chart.alt
    assert chart.svg().startswith(b"<?xml")


def test_the_weekly_interval_is_wilsons() -> None:
    # 1 of 3: 6.15% to 79.23%; 0 of 5: 0% to 43.45% (hand-computed with z = 1.96).
    low, high = wilson(np.array([1, 0, 0]), np.array([3, 5, 0]))
    assert low[:2].tolist() == [0.0615, 0.0] and high[:2].tolist() == [0.7923, 0.4345]
    assert np.isnan(low[2]) and np.isnan(high[2])


def test_versions_have_people_rates_and_first_and_last_seen(tmp_path: Path) -> None:
    def make(user: str, day: str, version: str, failed: bool) -> None:
        entry = {"name": "make", "version": version}
        write_submission(
            tmp_path,
            user_id=user,
            received_at=f"{day}T10:00:00Z",
            successful=[],
            failed=[],
            successful_installs=[] if failed else [entry],
            failed_installs=[{**entry, "error": "boom"}] if failed else [],
        )

    make("a", "2026-10-01", "4.3", failed=False)
    make("b", "2026-10-05", "4.3", failed=False)
    make("c", "2026-11-10", "4.4", failed=True)
    make("d", "2026-11-12", "4.4", failed=False)
    make("e", "2026-11-20", "4.4", failed=True)

    pages = pages_for(tmp_path)

    versions = {row["version"]: row for row in pages[MAKE].context["versions"]}
    assert versions["4.4"] == {
        "version": "4.4",
        "passing_users": 1,
        "failing_users": 2,
        "tested_users": 3,
        "failure_rate": 0.6667,
        "first_seen": "2026-11-10",
        "last_seen": "2026-11-20",
    }
    assert (versions["4.3"]["failure_rate"], versions["4.3"]["first_seen"]) == (0.0, "2026-10-01")
    assert versions["4.3"]["last_seen"] == "2026-10-05"
    assert [row["version"] for row in pages[package_path("make", 30)].context["versions"]] == [
        "4.4"
    ]
    assert pages[MAKE].tables["versions"] == pages[MAKE].context["versions"]


def test_the_build_writes_each_periods_pages_twins_and_csvs(tmp_path: Path) -> None:
    submissions, site = tmp_path / "submissions", tmp_path / "site"
    write_submission(submissions, user_id="a", received_at="2026-11-10T10:00:00Z", failed=["make"])
    write_submission(submissions, user_id="b", received_at="2026-07-01T10:00:00Z", failed=["make"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", str(int(NOW.timestamp())))
        build_site(GeneratorConfig(submissions_dir=submissions, site_dir=site))

    slug = Path(MAKE).stem
    for days in (30, 90, 365):
        folder = site / f"recent/{days}-days"
        for name in ("matrix", "compare", f"packages/{slug}"):
            assert (folder / f"{name}.html").is_file() and (folder / f"{name}.json").is_file()
        twin = json.loads((folder / f"packages/{slug}.json").read_text())
        assert twin["window_days"] == days
        assert twin["tested_users"] == (1 if days < 365 else 2)
        with (folder / f"packages/{slug}-versions.csv").open(encoding="utf-8") as handle:
            header = next(csv.reader(handle))
        assert {"tested_users", "failure_rate", "first_seen", "last_seen"} <= set(header)
        html = (folder / f"packages/{slug}.html").read_text()
        assert f'href="../../../{MAKE}"' in html  # the switcher leads back to all time
    assert (site / f"packages/{slug}-weekly.svg").is_file()
    assert pd.Timestamp(json.loads((site / "index.json").read_text())["weekly"][-1]["week"]) == (
        pd.Timestamp("2026-11-23")
    )
