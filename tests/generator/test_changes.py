"""What changed: the rule fires on an injected regression, stays silent on a stable series
(with its false-alarm rate measured on a seeded simulation), and the feed is valid Atom with
ids that survive a rebuild. Hand-made files through the real ``generator build``."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import feedparser
import numpy as np
import pytest

from generator.build import build_site
from generator.charts import event_positions
from generator.significance import MIN_PEOPLE, clearly_higher
from generator.synthetic import write_files
from generator.synthetic.machines import REGRESSION_PACKAGE
from installdata.config import ConfigError, GeneratorConfig, load_config
from support.files import write_submission

EPOCH = "1795000000"  # 2026-11-18T11:06:40Z: the build time
NEWEST = datetime(2026, 11, 15, 12, tzinfo=timezone.utc)  # the anchor: the newest submission
OLD_ERROR = "could not find 'git' executable for git"
NEW_ERROR = "fatal: unable to access 'https://example.org/': SSL certificate problem"
FALSE_ALARM_BOUND = 0.002
"""docs/changes.md states that a comparison of equal rates fires at most this often."""


def _person(root: Path, number: int, when: datetime, *, fails: bool, **kwargs: Any) -> None:
    """One person testing Git (and Make, which always passes), failing Git or not."""
    version = kwargs.pop("version", "2.45.0")
    error = kwargs.pop("error", OLD_ERROR)
    git = {"name": "Git (git)", "version": version}
    failed = [{**git, "error_description": error}] if fails else []
    write_submission(
        root,
        user_id=f"user-{number:04d}",
        received_at=when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        successful_installs=[{"name": "Make (make)", "version": "4.3"}, *([] if fails else [git])],
        failed_installs=failed,
    )


def _history(root: Path, *, regression: bool) -> None:
    """60 people over the 90 days before the last 30 (3 fail Git: 5%), then 40 people in the
    last 30 days: as many fail (5%) when stable; with the regression, 16 of the 20 who get the
    new version 2.50.0 fail with a new error (40% of all)."""
    for number in range(60):
        when = NEWEST - timedelta(days=31 + number * 1.4)
        _person(root, number, when, fails=number < 3, version=None if number < 3 else "2.45.0")
    for number in range(40):
        when = NEWEST - timedelta(days=number * 0.7)
        if regression and number % 2 == 0:
            _person(root, 100 + number, when, fails=number < 32, version="2.50.0", error=NEW_ERROR)
        else:
            fails = not regression and number < 2
            _person(root, 100 + number, when, fails=fails, version=None if fails else "2.45.0")


def _build(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    site: str = "site",
    epoch: str = EPOCH,
    **cfg: Any,
) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    config = GeneratorConfig(
        submissions_dir=tmp_path / "submissions", site_dir=tmp_path / site, **cfg
    )
    assert build_site(config) == 0
    return tmp_path / site


def _index(site: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((site / "index.json").read_text(encoding="utf-8"))
    return data


def test_an_injected_regression_is_told_as_all_three_kinds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _history(tmp_path / "submissions", regression=True)
    site = _build(tmp_path, monkeypatch)
    changes = _index(site)["changes"]
    assert {change["kind"] for change in changes} == {"rising", "new_error", "new_failing_version"}
    assert all(set(change) == {"kind", "package", "href", "date", "summary"} for change in changes)
    assert {change["package"] for change in changes} == {"Git (git)"}  # Make stayed at 0%
    dates = [change["date"] for change in changes]
    assert dates == sorted(dates, reverse=True)
    by_kind = {change["kind"]: change for change in changes}
    assert by_kind["rising"]["date"] == "2026-11-09"  # the Monday of the anchor's week
    assert "40% (16 of 40 people)" in by_kind["rising"]["summary"]
    assert "5% (3 of 60 people)" in by_kind["rising"]["summary"]
    assert "SSL certificate problem" in by_kind["new_error"]["summary"]
    assert "Version 2.50.0" in by_kind["new_failing_version"]["summary"]
    assert "80% (16 of 20 people)" in by_kind["new_failing_version"]["summary"]
    page = site / changes[0]["href"]
    assert page.is_file()
    assert json.loads(page.with_suffix(".json").read_text())["changes"] == changes
    assert (
        "What changed" in page.read_text() and "What changed" in (site / "index.html").read_text()
    )


def test_a_stable_series_tells_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _history(tmp_path / "submissions", regression=False)
    site = _build(tmp_path, monkeypatch)
    assert _index(site)["changes"] == []
    assert 'id="changes-heading"' not in (site / "index.html").read_text()
    assert feedparser.parse((site / "feed.xml").read_bytes()).entries == []


def test_an_error_two_people_report_is_not_yet_news(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "submissions"
    _history(root, regression=False)
    for number in range(2):
        _person(root, 500 + number, NEWEST - timedelta(days=number), fails=True, error=NEW_ERROR)
    assert _index(_build(tmp_path, monkeypatch))["changes"] == []
    _person(root, 502, NEWEST - timedelta(days=3), fails=True, error=NEW_ERROR)
    changes = _index(_build(tmp_path, monkeypatch, site="again"))["changes"]
    assert [change["kind"] for change in changes] == ["new_error"]
    assert changes[0]["date"] == "2026-11-12"  # first seen
    assert changes[0]["summary"].startswith("3 people have reported this error since 2026-11-12")


def test_the_feed_is_valid_atom_with_ids_that_survive_a_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _history(tmp_path / "submissions", regression=True)
    first = _build(tmp_path, monkeypatch)
    later = _build(tmp_path, monkeypatch, site="later", epoch=str(int(EPOCH) + 86_400))
    feed = feedparser.parse((first / "feed.xml").read_bytes())
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.id.startswith("urn:uuid:") and feed.feed.title
    assert feed.feed.author and feed.feed.updated
    assert {link.rel for link in feed.feed.links} == {"self", "alternate"}
    changes = _index(first)["changes"]
    assert [entry.link for entry in feed.entries] == [change["href"] for change in changes]
    assert [entry.summary for entry in feed.entries] == [change["summary"] for change in changes]
    ids = [entry.id for entry in feed.entries]
    assert len(set(ids)) == len(ids) == 3
    assert all(entry.title and entry.updated for entry in feed.entries)
    again = feedparser.parse((later / "feed.xml").read_bytes())
    assert [entry.id for entry in again.entries] == ids
    head = (first / "packages" / "index.html").read_text()
    assert '<link rel="alternate" type="application/atom+xml" href="../feed.xml"' in head


def test_an_event_is_marked_and_compared_before_and_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "submissions"
    _history(root, regression=True)
    for number in range(40):  # more people in the month before the event, all passing
        _person(root, 700 + number, datetime(2026, 10, 1, tzinfo=timezone.utc), fails=False)
    event = ("2026-10-18", "new Git release")
    site = _build(tmp_path, monkeypatch, events=(event,))
    (compared,) = _index(site)["events"]
    assert (compared["date"], compared["label"], compared["days"]) == (*event, 30)
    git = {row["package"]: row for row in compared["packages"]}["Git (git)"]
    assert git["change"] == "worse" and git["rate_after"] > git["rate_before"]
    assert {row["package"]: row for row in compared["packages"]}["Make (make)"]["change"] is None
    html = (site / "index.html").read_text()
    assert "new Git release" in html and "Dashed lines mark 2026-10-18: new Git release" in html


def test_event_positions_fall_inside_their_week() -> None:
    weeks = ["2026-10-05", "2026-10-12", "2026-10-26"]
    placed = event_positions(weeks, [("2026-10-12", "a"), ("2026-10-15", "b"), ("2026-11-09", "c")])
    assert [label for _, label in placed] == ["a", "b"]  # c is after the last week shown
    assert placed[0][0] == pytest.approx(0.55) and 0.55 < placed[1][0] < 1.45


def simulated_false_alarms(
    rng: np.random.Generator, trials: int
) -> dict[tuple[float, int, int], float]:
    """Per (rate, people recent, people before): the share of ``trials`` comparisons of two
    binomial samples of the *same* rate that the rule calls clearly higher."""
    found = {}
    for rate in (0.01, 0.05, 0.1, 0.2, 0.4):
        for recent, before in ((10, 30), (25, 75), (60, 180), (300, 900), (2000, 6000)):
            failing = rng.binomial(recent, rate, trials)
            failing_before = rng.binomial(before, rate, trials)
            alarms = clearly_higher(
                failing, np.full(trials, recent), failing_before, np.full(trials, before)
            )
            found[rate, recent, before] = float(alarms.mean())
    return found


def test_the_false_alarm_rate_on_stable_rates_stays_under_its_bound() -> None:
    rates = simulated_false_alarms(np.random.default_rng(2026), trials=20_000)
    assert max(rates.values()) <= FALSE_ALARM_BOUND, rates


def test_the_rule_needs_enough_people_and_points() -> None:
    few = clearly_higher(
        np.array([MIN_PEOPLE - 1]), np.array([MIN_PEOPLE - 1]), np.array([0]), np.array([1000])
    )
    tiny = clearly_higher(
        np.array([5_300]), np.array([100_000]), np.array([5_000]), np.array([100_000])
    )
    clear = clearly_higher(np.array([20]), np.array([50]), np.array([10]), np.array([150]))
    assert not few[0] and not tiny[0] and clear[0]  # 3 points: significant, too small to tell


def test_events_are_read_from_config_with_dates_quoted_or_not(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "generator:\n  events:\n    2026-03-01: switched to conda\n    '2025-09-15': new page\n"
    )
    assert load_config(path).generator.events == (
        ("2025-09-15", "new page"),
        ("2026-03-01", "switched to conda"),
    )
    path.write_text("generator:\n  events:\n    March 1st: switched\n")
    with pytest.raises(ConfigError, match=r"generator\.events: expected dates such as 2026-03-01"):
        load_config(path)


def test_the_synthetic_regression_shows_in_what_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    end = datetime(2026, 11, 18, tzinfo=timezone.utc)
    write_files(tmp_path / "submissions", 3000, seed=2027, end=end)
    changes = _index(_build(tmp_path, monkeypatch))["changes"]
    assert {(change["kind"], change["package"]) for change in changes} == {
        (kind, REGRESSION_PACKAGE) for kind in ("rising", "new_error", "new_failing_version")
    }
