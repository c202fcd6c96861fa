"""What changed recently: rising failure rates, new error groups, newly failing versions.

"Recently" is the ``WINDOW_DAYS`` up to the *anchor*: the newest submission's ``received_at``,
or the build time if that is earlier (a file dated in the future must not move the window).
The same files thus give the same changes whenever they are built, and a build pinned with
SOURCE_DATE_EPOCH gives them exactly. Every comparison uses the rule of
``generator.significance``; docs/changes.md says why and how often it fires by chance.

Each kind is computed for every package at once, on the integer codes of ``Facts``.
"""

from __future__ import annotations

import textwrap
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal, TypedDict

import numpy as np
import pandas as pd

from generator.charts.labels import percent
from generator.coding import combined, distinct_pairs, is_known_version
from generator.error_groups import Errors
from generator.facts import Facts, make_view, people_by_package
from generator.model import Feed, FeedEntry
from generator.significance import clearly_higher
from generator.slugs import package_path

WINDOW_DAYS = 30
"""The recent period whose news is told."""

BEFORE_DAYS = 90
"""A rising rate is the recent period's against this many days before it."""

MIN_ERROR_PEOPLE = 3
"""A new error group is told once this many people have reported it."""

DAY_NS = 86_400 * 10**9

Kind = Literal["rising", "new_error", "new_failing_version"]

TITLES: dict[str, str] = {
    "rising": "Failure rate rising",
    "new_error": "New error",
    "new_failing_version": "Newly failing version",
}


class Change(TypedDict):
    """One item of "What changed" (``index.json["changes"]``, the feed, the pages)."""

    kind: Kind
    package: str  # display name
    href: str  # site-relative: the package's page
    date: str  # YYYY-MM-DD
    summary: str


@dataclass(frozen=True)
class Found:
    """A change and what else tells it apart from others of its kind, package and date (the
    error's message, the version): the parts its feed entry's id is made of."""

    change: Change
    detail: str = ""


def anchor_of(facts: Facts, now_ns: int) -> int | None:
    """Where "recent" ends: the newest submission, or ``now_ns`` if earlier; None if empty."""
    if not len(facts.received):
        return None
    return min(int(facts.received.max()), now_ns)


def recent_changes(facts: Facts, errors: Errors, anchor_ns: int | None) -> list[Found]:
    """Every change of the recent period, newest first (then by kind, package, detail)."""
    if anchor_ns is None:
        return []
    start = anchor_ns - WINDOW_DAYS * DAY_NS
    found = [
        *_rising(facts, anchor_ns),
        *_new_errors(facts, errors, start),
        *_new_failing_versions(facts, start, anchor_ns),
    ]
    found.sort(key=lambda item: (item.change["kind"], item.change["package"], item.detail))
    found.sort(key=lambda item: item.change["date"], reverse=True)
    return found


def by_page(found: list[Found]) -> dict[str, list[Change]]:
    """The changes per page they link to (a package page shows its own)."""
    pages: dict[str, list[Change]] = {}
    for item in found:
        pages.setdefault(item.change["href"], []).append(item.change)
    return pages


def _day(ns: int) -> str:
    return datetime.fromtimestamp(ns // 10**9, timezone.utc).strftime("%Y-%m-%d")


def _share(failing: int, tested: int) -> str:
    return f"{percent(failing / tested)} ({failing:,} of {tested:,} people)"


def _change(kind: Kind, code: int, facts: Facts, date: str, summary: str) -> Change:
    name = facts.packages.labels[code]
    href = package_path(facts.package_keys[code])
    return Change(kind=kind, package=name, href=href, date=date, summary=summary)


def _rising(facts: Facts, anchor_ns: int) -> list[Found]:
    """Packages failing clearly more people in the recent period than in the one before.

    Dated the Monday of the anchor's week: a rise that lasts is one feed entry a week, not one
    a day.
    """
    start = anchor_ns - WINDOW_DAYS * DAY_NS
    tested, failing = people_by_package(facts, make_view(facts, start, anchor_ns + 1))
    tested_before, failing_before = people_by_package(
        facts, make_view(facts, start - BEFORE_DAYS * DAY_NS, start)
    )
    day = datetime.fromtimestamp(anchor_ns // 10**9, timezone.utc).date()
    monday = (day - timedelta(days=day.weekday())).isoformat()
    rising = np.flatnonzero(clearly_higher(failing, tested, failing_before, tested_before))
    return [
        Found(
            _change(
                "rising",
                code,
                facts,
                monday,
                f"{_share(failing[code], tested[code])} failing in the {WINDOW_DAYS} days to "
                f"{day.isoformat()}, up from {_share(failing_before[code], tested_before[code])}"
                f" in the {BEFORE_DAYS} days before.",
            )
        )
        for code in rising.tolist()
    ]


def _new_errors(facts: Facts, errors: Errors, start: int) -> list[Found]:
    """Error groups (package + normalised message) first seen since ``start``, reported by at
    least ``MIN_ERROR_PEOPLE`` people (on any attempt)."""
    entries = errors.entries
    if entries.empty:
        return []
    subs = entries["sub"].to_numpy()
    n_messages = len(errors.messages)
    key = combined(entries["package"].to_numpy(), entries["message"].to_numpy(), n_messages)
    first_seen = pd.Series(facts.received[subs]).groupby(key).min()
    group_of_pair, _ = distinct_pairs(key, facts.person[subs], len(facts.person) + 1)
    people = pd.Series(group_of_pair).value_counts()
    new = first_seen[first_seen >= start]
    reported = people.reindex(new.index).to_numpy()
    found = []
    for group, first, count in zip(
        new.index.tolist(), new.tolist(), reported.tolist(), strict=True
    ):
        if count < MIN_ERROR_PEOPLE:
            continue
        package, message = divmod(group, n_messages)
        text = str(errors.messages[message])
        summary = (
            f"{count:,} people have reported this error since {_day(first)}: "
            f"{textwrap.shorten(text, 160, placeholder=' …')}"
        )
        found.append(Found(_change("new_error", package, facts, _day(first), summary), text))
    return found


def _new_failing_versions(facts: Facts, start: int, anchor_ns: int) -> list[Found]:
    """Versions first seen since ``start`` that clearly fail more people (latest attempts in
    the recent period) than the package's other known versions do."""
    n_versions = len(facts.versions)
    known = np.array([is_known_version(label) for label in facts.versions], dtype=bool)
    key = combined(facts.package, facts.version, n_versions)
    first_seen = pd.Series(facts.received[facts.sub]).groupby(key).min()
    new = first_seen[(first_seen >= start).to_numpy() & known[first_seen.index % n_versions]]
    if new.empty:
        return []
    view = make_view(facts, start, anchor_ns + 1)
    tested_all = pd.Series(key[view.entry_latest & known[facts.version]]).value_counts()
    failure_key = combined(facts.failure_package, facts.failure_version, n_versions)
    failure_known = view.failure_latest & known[facts.failure_version]
    failing_all = pd.Series(failure_key[failure_known]).value_counts()
    n = len(facts.packages)
    package_tested = np.bincount(
        facts.package[view.entry_latest & known[facts.version]], minlength=n
    )
    package_failing = np.bincount(facts.failure_package[failure_known], minlength=n)
    keys = new.index.to_numpy()
    packages = keys // n_versions
    tested = tested_all.reindex(keys, fill_value=0).to_numpy()
    failing = failing_all.reindex(keys, fill_value=0).to_numpy()
    others_tested = package_tested[packages] - tested
    others_failing = package_failing[packages] - failing
    clear = clearly_higher(failing, tested, others_failing, others_tested)
    found = []
    for index in np.flatnonzero(clear).tolist():
        version = facts.versions[keys[index] % n_versions]
        date = _day(int(new.iloc[index]))
        summary = (
            f"Version {version}, first seen {date}: {_share(failing[index], tested[index])} "
            f"failing, against {_share(others_failing[index], others_tested[index])} "
            "on the other versions."
        )
        found.append(
            Found(_change("new_failing_version", packages[index], facts, date, summary), version)
        )
    return found


def changes_feed(found: list[Found], *, title: str, generated_at: str) -> Feed:
    """The changes as an Atom feed. Ids are name-based UUIDs of the site's title and each
    change's kind, package, date and detail: the same change keeps its id in every build."""
    site = uuid.uuid5(uuid.NAMESPACE_URL, f"installation-results feed:{title}")
    entries = tuple(
        FeedEntry(
            id=f"urn:uuid:{uuid.uuid5(site, '|'.join([*_id_parts(item.change), item.detail]))}",
            title=f"{TITLES[item.change['kind']]}: {item.change['package']}",
            updated=f"{item.change['date']}T00:00:00Z",
            link=item.change["href"],
            summary=item.change["summary"],
        )
        for item in found
    )
    updated = max((entry.updated for entry in entries), default=generated_at)
    return Feed(
        name="feed.xml",
        id=f"urn:uuid:{site}",
        title=f"{title}: what changed",
        updated=updated,
        entries=entries,
    )


def _id_parts(change: Change) -> list[str]:
    return [change["kind"], change["package"], change["date"]]
