"""The whole dataset as integer codes (``Facts``), one period of it (``View``), and the figures
that more than one kind of page shows (package rows, breakdowns per package).

Counting follows docs/counting.md: headline figures count each person's *latest attempt*
(within the period a page covers), all-attempts figures stand beside them. A person "tested"
a package when it appears, passed or failed, in their latest attempt.

Privacy: e-mail addresses and user ids never enter ``Facts``; every text that does (package
names, versions, systems, workshop names, error texts once grouped) is scrubbed of e-mail
addresses and home-folder user names first (``coding.coded``, ``error_groups``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypedDict

import numpy as np
import pandas as pd

from generator.coding import (
    Coded,
    cells_by_count,
    cells_by_version,
    coded,
    combined,
    distinct_pairs,
    inverse,
    joined,
    pair_counts,
    rate,
    rates,
    rows_by_code,
    week_labels,
)
from generator.identity import identify
from generator.slugs import package_path

NO_WORKSHOP = ""  # normalise_workshop never yields an empty name, so this cannot clash
BREAKDOWNS = ("system", "distribution", "machine", "python_version")
IN_VERSION_ORDER = "python_version"
"""The dimension whose tables and charts list their values in version order (3.8 before
3.10), not most people first: a reader looks a Python up by its number."""


# --- facts: the whole dataset as integer codes -----------------------------------------------


@dataclass(frozen=True)
class Facts:
    """Submissions and their package entries as parallel integer arrays (no identities)."""

    # per submission
    person: np.ndarray
    received: np.ndarray  # ns since the epoch
    by_attempt: np.ndarray  # submission numbers sorted by ``attempt_order`` (person, time)
    failing: np.ndarray  # bool: at least one failed install
    week: Coded
    dims: dict[str, Coded]  # BREAKDOWNS -> coded column
    workshop: Coded  # the person's workshop; the label NO_WORKSHOP means none
    # per (submission, package) entry: the loader keeps one per package and submission
    sub: np.ndarray
    package: np.ndarray
    version: np.ndarray
    packages: Coded  # package display names (codes: the same as ``package``)
    package_keys: list[str]  # per package code: its key (generator/identity.py)
    versions: list[str]
    no_workshop: int  # the workshop code that means "none"
    # per failed entry: about a tenth of the entries, and all that failure figures need
    failure_sub: np.ndarray
    failure_package: np.ndarray
    failure_version: np.ndarray
    failure_error: np.ndarray  # code into ``error_texts``; -1: no error text
    error_texts: pd.Series  # distinct raw texts, indexed by code


def _strip(values: pd.Series) -> pd.Series:
    return values.str.strip()


MACHINE_ALIASES = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "arm64", "aarch64": "arm64"}
"""Windows says AMD64 and ARM64, Linux x86_64 and aarch64, macOS x86_64 and arm64: one
architecture each, so the machine breakdown shows one row per architecture."""


SYSTEM_NAMES = {"Darwin": "macOS"}
"""What Python's ``platform.system()`` says -> the name readers know. Applied once, here, so
pages, charts, JSON and CSV all say "macOS"."""


def _system(values: pd.Series) -> pd.Series:
    stripped = values.str.strip()
    return stripped.map(SYSTEM_NAMES).fillna(stripped)


def _machine(values: pd.Series) -> pd.Series:
    stripped = values.str.strip()
    return stripped.str.lower().map(MACHINE_ALIASES).fillna(stripped)


def _python_minor(values: pd.Series) -> pd.Series:
    """Python "3.11.6" -> "3.11": patch releases would split every table into slivers."""
    minor = values.str.extract(r"^\s*(\d+\.\d+)", expand=False)
    return minor.fillna(values.str.strip())


def _one_entry_per_package(
    sub: np.ndarray, package: np.ndarray, failed: np.ndarray, shared: np.ndarray
) -> np.ndarray:
    """The entries to keep when a submission names one package twice ("make", "Make (make)"):
    one per submission and key, the failed one if either failed (as the loader does per name).
    Only packages that more than one name means (``shared``) can be listed twice."""
    keep = np.ones(len(sub), bool)
    maybe = np.flatnonzero(shared[package])
    if not len(maybe):
        return keep
    keys = combined(sub[maybe], package[maybe], len(shared))
    order = np.lexsort((~failed[maybe], keys))
    first = np.r_[True, keys[order][1:] != keys[order][:-1]]
    keep[maybe[order[~first]]] = False
    return keep


def collect_facts(
    people: pd.DataFrame,
    results: pd.DataFrame,
    until: pd.Timestamp | None = None,
    aliases: Mapping[str, str] | None = None,
) -> Facts:
    """Turn the loaded tables (after ``assign_people``) into ``Facts``; the weeks run on to
    ``until``'s (the build's time), so that the latest weeks show even when empty.

    Only the columns needed for counting are read: ``email_id`` and ``user_id`` never are.
    Packages are counted by key (``generator.identity``; ``aliases``: name or key -> key).
    """
    dims = {
        "system": coded(people["system"], _system),
        "distribution": coded(
            joined(people["distribution_name"], people["distribution_version"]), _strip
        ),
        "machine": coded(people["machine"], _machine),
        "python_version": coded(people["python_version"], _python_minor),
    }
    identity = identify(results["name"], aliases)
    packages = identity.coded
    keep = _one_entry_per_package(
        results["sub"].to_numpy(np.int32),
        packages.codes,
        results["failed"].to_numpy(bool),
        identity.shared,
    )
    if not keep.all():
        results = results[keep]
        packages = Coded(packages.codes[keep], packages.labels)
    versions = coded(results["version"], _strip)
    workshop = coded(people["workshop"], _strip, missing=NO_WORKSHOP)
    failed = results["failed"].to_numpy(bool)
    errors = pd.Categorical(results["error"][failed])
    sub = results["sub"].to_numpy(np.int32)
    return Facts(
        person=people["person"].to_numpy(np.int32),
        received=pd.DatetimeIndex(people["received_at"]).as_unit("ns").asi8,
        by_attempt=inverse(people["attempt_order"].to_numpy(np.int64)),
        failing=people["n_failed"].to_numpy() > 0,
        week=week_labels(people["received_at"], until),
        dims=dims,
        workshop=workshop,
        no_workshop=workshop.labels.index(NO_WORKSHOP),
        sub=sub,
        package=packages.codes,
        version=versions.codes,
        packages=packages,
        package_keys=identity.keys,
        versions=versions.labels,
        failure_sub=sub[failed],
        failure_package=packages.codes[failed],
        failure_version=versions.codes[failed],
        failure_error=np.asarray(errors.codes, dtype=np.int32),
        error_texts=pd.Series(errors.categories, dtype=object),
    )


# --- a view: the facts seen over one period ---------------------------------------------------


@dataclass(frozen=True)
class View:
    """Which submissions and entries count for one period (all time or the last N days)."""

    in_window: np.ndarray  # per submission
    latest: np.ndarray  # per submission: the person's newest attempt within the period
    entry_in_window: np.ndarray  # per entry
    entry_latest: np.ndarray  # per entry
    failure_in_window: np.ndarray  # per failed entry
    failure_latest: np.ndarray  # per failed entry


def make_view(facts: Facts, since_ns: int | None, until_ns: int | None = None) -> View:
    """The period from ``since_ns`` (nanoseconds since the epoch) on, to before ``until_ns``;
    None for no bound (both None: all time)."""
    in_window = np.ones(len(facts.person), bool)
    if since_ns is not None:
        in_window &= facts.received >= since_ns
    if until_ns is not None:
        in_window &= facts.received < until_ns
    ordered = facts.by_attempt[in_window[facts.by_attempt]]
    person = facts.person[ordered]
    last = np.r_[person[1:] != person[:-1], True] if len(person) else np.zeros(0, bool)
    latest = np.zeros(len(facts.person), bool)
    latest[ordered[last]] = True
    return View(
        in_window,
        latest,
        in_window[facts.sub],
        latest[facts.sub],
        in_window[facts.failure_sub],
        latest[facts.failure_sub],
    )


# --- figures shared by several pages ------------------------------------------------------------


class PackageFigures(TypedDict):
    """A package's figures over one period (docs/counting.md says how each is counted)."""

    tested_users: int
    failing_users: int
    failure_rate: float | None
    failing_users_all_attempts: int
    attempts: int
    failed_attempts: int


class PackageRow(PackageFigures):
    """A package with its figures (the overview, the packages index)."""

    name: str
    href: str


class BreakdownRow(TypedDict):
    """People whose latest attempt tested a package, for one value of a dimension."""

    value: str
    tested_users: int
    failing_users: int
    failure_rate: float | None


Breakdowns = dict[str, dict[int, list[BreakdownRow]]]
"""Per dimension (``BREAKDOWNS``), per package code: its rows, most tested first (Python
versions in version order)."""


def without_href(row: Mapping[str, object]) -> dict[str, object]:
    """A row for a CSV: links make sense on the page only."""
    return {key: value for key, value in row.items() if key != "href"}


def package_codes(facts: Facts) -> dict[str, int]:
    """Package display name -> code: public rows carry the name, the per-package tables are by
    code (one key has one display name, and a name belongs to one key)."""
    return {label: code for code, label in enumerate(facts.packages.labels)}


def people_in(facts: Facts, view: View) -> tuple[int, int]:
    """People in ``view`` (one latest attempt each), and how many of them fail something."""
    return int(view.latest.sum()), int((view.latest & facts.failing).sum())


def people_by_package(facts: Facts, view: View) -> tuple[np.ndarray, np.ndarray]:
    """Per package code: people whose latest attempt in ``view`` tested it, and failed it."""
    n = len(facts.packages)
    return (
        np.bincount(facts.package[view.entry_latest], minlength=n),
        np.bincount(facts.failure_package[view.failure_latest], minlength=n),
    )


def _package_counts(facts: Facts, view: View) -> pd.DataFrame:
    """Per package code: tested/failing users (latest), failing users and attempts (all)."""
    n = len(facts.packages)
    failures = view.failure_in_window
    failed_package = facts.failure_package[failures]
    tested, failing = people_by_package(facts, view)
    _, failing_packages = distinct_pairs(
        facts.person[facts.failure_sub[failures]], failed_package, n
    )
    return pd.DataFrame(
        {
            "tested_users": tested,
            "failing_users": failing,
            "failing_users_all_attempts": np.bincount(failing_packages, minlength=n),
            "attempts": np.bincount(facts.package[view.entry_in_window], minlength=n),
            "failed_attempts": np.bincount(failed_package, minlength=n),
        }
    )


def package_rows(facts: Facts, view: View, days: int | None = None) -> list[PackageRow]:
    """Every package seen in the period with its figures, most failing users first; each
    links to its page for the same period (the last ``days`` days; None: all time)."""
    counts = _package_counts(facts, view)
    seen = counts[counts["attempts"] > 0]
    rows = [
        PackageRow(
            name=facts.packages.labels[code],
            href=package_path(facts.package_keys[code], days),
            tested_users=row["tested_users"],
            failing_users=row["failing_users"],
            failure_rate=rate(row["failing_users"], row["tested_users"]),
            failing_users_all_attempts=row["failing_users_all_attempts"],
            attempts=row["attempts"],
            failed_attempts=row["failed_attempts"],
        )
        for code, row in zip(seen.index.tolist(), seen.to_dict("records"), strict=True)
    ]
    return sorted(rows, key=lambda row: (-row["failing_users"], row["name"]))


def dimension_cells(
    dim: str, counts: np.ndarray, labels: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """The non-zero cells of a [code, value] table in the order a dimension's rows are listed."""
    return (cells_by_version if dim == IN_VERSION_ORDER else cells_by_count)(counts, labels)


def breakdowns(facts: Facts, view: View) -> Breakdowns:
    """Per dimension, per package code: rows {value, tested_users, failing_users, rate}, most
    tested first."""
    latest, failures = view.entry_latest, view.failure_latest
    package, subs = facts.package[latest], facts.sub[latest]
    failed_package, failed_subs = facts.failure_package[failures], facts.failure_sub[failures]
    n = len(facts.packages)
    result: Breakdowns = {}
    for dim in BREAKDOWNS:
        dimension = facts.dims[dim]
        tested = pair_counts(package, dimension.codes[subs], n, len(dimension))
        failing = pair_counts(failed_package, dimension.codes[failed_subs], n, len(dimension))
        code, value = dimension_cells(dim, tested, dimension.labels)
        result[dim] = rows_by_code(
            code,
            {
                "value": np.asarray(dimension.labels, dtype=object)[value],
                "tested_users": tested[code, value],
                "failing_users": failing[code, value],
                "failure_rate": rates(failing[code, value], tested[code, value]),
            },
        )
    return result
