"""Aggregation: the loaded tables -> every page of the site as a ``Page`` (docs/report-model.md).

Counting follows CONTRACT 6: headline figures count each person's *latest attempt* (within
the period a page covers), all-attempts figures stand beside them. A person "tested" a
package when it appears, passed or failed, in their latest attempt.

Everything is vectorised so that a million submissions stay cheap: text columns become
integer codes once (``Facts``), and each figure is a ``np.bincount`` or a ``pd.factorize`` over
those codes, never a Python loop over rows. Python loops run only over the *output* (one per
package, workshop or table row), which is small.

Privacy: e-mail addresses and user ids never enter ``Facts``; every text that does (package
names, versions, systems, workshop names, error examples) is scrubbed of e-mail addresses and
home-folder user names first, because anyone can put anything into a submission.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from generator import messages
from generator.model import Page
from generator.slugs import package_path, workshop_path

UNKNOWN = "unknown"
NO_WORKSHOP = ""  # normalise_workshop never yields an empty name, so this cannot clash
WINDOWS = (30, 90, 365)
TOP_VERSIONS = 50
TOP_ERRORS = 10
BREAKDOWNS = ("system", "distribution", "machine", "python_version")

Row = dict[str, Any]


# --- small helpers ------------------------------------------------------------------------


def rate(part: int, whole: int) -> float | None:
    """A share in [0, 1] rounded to 4 places; None when there is nothing to divide by."""
    return round(float(part) / float(whole), 4) if whole else None


def _sorted_rows(rows: list[Row], count: str, name: str) -> list[Row]:
    """By ``count`` descending, then ``name`` ascending: the report's one sort order."""
    return sorted(rows, key=lambda row: (-row[count], row[name]))


@dataclass(frozen=True)
class Coded:
    """A text column as integer codes (>= 0) plus the label of each code."""

    codes: np.ndarray
    labels: list[str]

    def __len__(self) -> int:
        return len(self.labels)


def _coded(
    values: pd.Series, clean: Callable[[pd.Series], pd.Series], missing: str = UNKNOWN
) -> Coded:
    """Code a column; ``clean`` maps its distinct values; missing and empty -> ``missing``."""
    categorical = pd.Categorical(values)
    cleaned = messages.scrub(clean(pd.Series(categorical.categories, dtype=object)).fillna(""))
    cleaned = cleaned.where(cleaned != "", missing)
    labels = pd.concat([cleaned, pd.Series([missing], dtype=object)], ignore_index=True)
    merged, uniques = pd.factorize(labels)  # scrubbing may merge two values into one label
    codes = merged[np.asarray(categorical.codes)]  # code -1 (missing) -> the UNKNOWN slot
    return Coded(codes.astype(np.int32), [str(label) for label in uniques])


def _joined(first: pd.Series, second: pd.Series) -> pd.Series:
    """``first + " " + second`` per row (a missing part is empty), as a categorical: the texts
    are joined once per distinct pair, as there are far fewer pairs than rows."""
    a, b = pd.Categorical(first), pd.Categorical(second)
    size_b = len(b.categories) + 1
    # Code 0 is a missing part, so that it joins as "".
    first_code, second_code = (c.codes.astype(np.int64) + 1 for c in (a, b))
    pair, distinct = pd.factorize(_combined(first_code, second_code, size_b))
    first_texts = np.array(["", *a.categories.astype(str)], dtype=object)
    second_texts = np.array(["", *b.categories.astype(str)], dtype=object)
    texts = first_texts[distinct // size_b] + " " + second_texts[distinct % size_b]
    codes, labels = pd.factorize(texts)  # "a b" + "c" and "a" + "b c" are one text
    return pd.Series(pd.Categorical.from_codes(codes[pair], categories=labels))


def _strip(values: pd.Series) -> pd.Series:
    return values.str.strip()


MACHINE_ALIASES = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "arm64", "aarch64": "arm64"}
"""Windows says AMD64 and ARM64, Linux x86_64 and aarch64, macOS x86_64 and arm64: one
architecture each, so the machine breakdown shows one row per architecture."""


def _machine(values: pd.Series) -> pd.Series:
    stripped = values.str.strip()
    return stripped.str.lower().map(MACHINE_ALIASES).fillna(stripped)


def _python_minor(values: pd.Series) -> pd.Series:
    """Python "3.11.6" -> "3.11": patch releases would split every table into slivers."""
    minor = values.str.extract(r"^\s*(\d+\.\d+)", expand=False)
    return minor.fillna(values.str.strip())


def _inverse(positions: np.ndarray) -> np.ndarray:
    """The rows in order, from each row's position in that order (a permutation's inverse)."""
    rows = np.empty_like(positions)
    rows[positions] = np.arange(len(positions))
    return rows


def _week_labels(received: pd.Series) -> Coded:
    """The Monday of each submission's ISO week, as an ISO date."""
    day = received.dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    monday = day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    codes, uniques = pd.factorize(monday, sort=True)
    return Coded(codes.astype(np.int32), [d.strftime("%Y-%m-%d") for d in uniques])


def _combined(a: np.ndarray, b: np.ndarray, size_b: int) -> np.ndarray:
    """One int64 key per (a, b) pair; codes are int32 to save memory, their product is not."""
    return a.astype(np.int64) * size_b + b


def _pair_counts(
    a: np.ndarray, b: np.ndarray, size_a: int, size_b: int, weights: Any = None
) -> np.ndarray:
    """Counts per (a, b) as a dense 2-D array [a, b]."""
    flat = np.bincount(_combined(a, b, size_b), weights=weights, minlength=size_a * size_b)
    return flat.reshape(size_a, size_b).astype(np.int64)


def _distinct_pairs(a: np.ndarray, b: np.ndarray, size_b: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (a, b) pairs among parallel code arrays."""
    flat = pd.unique(_combined(a, b, size_b))  # hash-based: no need to sort
    return flat // size_b, flat % size_b


def _ranks(labels: list[str]) -> np.ndarray:
    """Each label's place in alphabetical order: sorting codes by it sorts them by label."""
    ranks = np.empty(len(labels), dtype=np.int64)
    ranks[sorted(range(len(labels)), key=labels.__getitem__)] = np.arange(len(labels))
    return ranks


def _cells_by_count(counts: np.ndarray, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The non-zero cells (code, label code) of a [code, label] table of counts, by code, then
    in the report's sort order: count descending, then label."""
    code, label = np.nonzero(counts)
    order = np.lexsort((_ranks(labels)[label], -counts[code, label], code))
    return code[order], label[order]


def _rates(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """``rate`` for each pair, as an array to put beside other columns."""
    rates = [rate(p, w) for p, w in zip(part.tolist(), whole.tolist(), strict=True)]
    return np.array(rates, dtype=object)


def _rows_by_code(codes: np.ndarray, columns: dict[str, np.ndarray]) -> dict[int, list[Row]]:
    """Parallel ``columns`` (rows already sorted by ``codes``) -> plain-dict rows per code.

    Thousands of workshop pages each need a few rows: building all rows in one pass and
    slicing them is much cheaper than a loop per workshop. ``tolist`` turns numpy values into
    the plain ints and strings a JSON context needs.
    """
    if not len(codes):
        return {}
    names = list(columns)
    values = zip(*(column.tolist() for column in columns.values()), strict=True)
    rows = [dict(zip(names, row, strict=True)) for row in values]
    starts = np.r_[0, np.flatnonzero(np.diff(codes)) + 1]
    slices = itertools.pairwise([*starts.tolist(), len(rows)])
    return {
        code: rows[start:end]
        for code, (start, end) in zip(codes[starts].tolist(), slices, strict=True)
    }


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
    packages: Coded  # package labels (codes: the same as ``package``)
    versions: list[str]
    no_workshop: int  # the workshop code that means "none"
    # per failed entry: about a tenth of the entries, and all that failure figures need
    failure_sub: np.ndarray
    failure_package: np.ndarray
    failure_version: np.ndarray
    failure_error: np.ndarray  # code into ``error_texts``; -1: no error text
    error_texts: pd.Series  # distinct raw texts, indexed by code


def collect_facts(people: pd.DataFrame, results: pd.DataFrame) -> Facts:
    """Turn the loaded tables (after ``assign_people``) into ``Facts``.

    Only the columns needed for counting are read: ``email_id`` and ``user_id`` never are.
    """
    dims = {
        "system": _coded(people["system"], _strip),
        "distribution": _coded(
            _joined(people["distribution_name"], people["distribution_version"]), _strip
        ),
        "machine": _coded(people["machine"], _machine),
        "python_version": _coded(people["python_version"], _python_minor),
    }
    packages = _coded(results["name"], _strip)
    versions = _coded(results["version"], _strip)
    workshop = _coded(people["workshop"], _strip, missing=NO_WORKSHOP)
    failed = results["failed"].to_numpy(bool)
    errors = pd.Categorical(results["error"][failed])
    sub = results["sub"].to_numpy(np.int32)
    return Facts(
        person=people["person"].to_numpy(np.int32),
        received=pd.DatetimeIndex(people["received_at"]).as_unit("ns").asi8,
        by_attempt=_inverse(people["attempt_order"].to_numpy(np.int64)),
        failing=people["n_failed"].to_numpy() > 0,
        week=_week_labels(people["received_at"]),
        dims=dims,
        workshop=workshop,
        no_workshop=workshop.labels.index(NO_WORKSHOP),
        sub=sub,
        package=packages.codes,
        version=versions.codes,
        packages=packages,
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


def make_view(facts: Facts, since_ns: int | None) -> View:
    """The period from ``since_ns`` (nanoseconds since the epoch) on; None for all time."""
    in_window = np.ones(len(facts.person), bool) if since_ns is None else facts.received >= since_ns
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


# --- the figures --------------------------------------------------------------------------------


def package_counts(facts: Facts, view: View) -> pd.DataFrame:
    """Per package code: tested/failing users (latest), failing users and attempts (all)."""
    n = len(facts.packages)
    failures = view.failure_in_window
    failed_package = facts.failure_package[failures]
    _, failing_packages = _distinct_pairs(
        facts.person[facts.failure_sub[failures]], failed_package, n
    )
    return pd.DataFrame(
        {
            "tested_users": np.bincount(facts.package[view.entry_latest], minlength=n),
            "failing_users": np.bincount(facts.failure_package[view.failure_latest], minlength=n),
            "failing_users_all_attempts": np.bincount(failing_packages, minlength=n),
            "attempts": np.bincount(facts.package[view.entry_in_window], minlength=n),
            "failed_attempts": np.bincount(failed_package, minlength=n),
        }
    )


def _package_codes(facts: Facts) -> dict[str, int]:
    """Package name -> code: public rows carry the name, the per-package tables are by code."""
    return {label: code for code, label in enumerate(facts.packages.labels)}


def _package_ref(facts: Facts, code: int) -> Row:
    name = facts.packages.labels[code]
    return {"name": name, "href": package_path(name)}


def _users_by(facts: Facts, view: View, dim: str, key: str) -> list[Row]:
    coded = facts.dims[dim]
    users = np.bincount(coded.codes[view.latest], minlength=len(coded))
    failing = np.bincount(coded.codes[view.latest & facts.failing], minlength=len(coded))
    rows = [
        {
            key: label,
            "users": int(users[i]),
            "users_with_failures": int(failing[i]),
            "failure_rate": rate(failing[i], users[i]),
        }
        for i, label in enumerate(coded.labels)
        if users[i]
    ]
    return _sorted_rows(rows, "users", key)


def _weekly(facts: Facts, view: View) -> list[Row]:
    weeks = facts.week.codes[view.in_window]
    n = len(facts.week)
    submissions = np.bincount(weeks, minlength=n)
    failing = np.bincount(facts.week.codes[view.in_window & facts.failing], minlength=n)
    active_weeks, _ = _distinct_pairs(weeks, facts.person[view.in_window], len(facts.person) + 1)
    users = np.bincount(active_weeks, minlength=n)
    return [
        {
            "week": label,
            "submissions": int(submissions[i]),
            "users": int(users[i]),
            "failing_submissions": int(failing[i]),
            "failure_rate": rate(failing[i], submissions[i]),
        }
        for i, label in enumerate(facts.week.labels)
        if submissions[i]
    ]


def _failing_versions(facts: Facts, view: View) -> list[Row]:
    n_versions = len(facts.versions)
    package, version = facts.failure_package, facts.failure_version
    latest = view.failure_latest
    latest_counts = pd.Series(
        _combined(package[latest], version[latest], n_versions)
    ).value_counts()
    window = view.failure_in_window
    keys = _combined(package[window], version[window], n_versions)
    _, distinct_keys = _distinct_pairs(
        facts.person[facts.failure_sub[window]], keys, len(facts.packages) * n_versions
    )
    all_counts = pd.Series(distinct_keys).value_counts()
    rows = []
    for key, failing in latest_counts.items():
        package, version = divmod(int(key), n_versions)
        rows.append(
            {
                **_package_ref(facts, package),
                "version": facts.versions[version],
                "failing_users": int(failing),
                "failing_users_all_attempts": int(all_counts.get(key, 0)),
            }
        )
    rows.sort(key=lambda row: (-row["failing_users"], row["name"], row["version"]))
    return rows


def _known_version(row: Row) -> bool:
    """Failed installs rarely know their version: "unknown" rows say nothing about versions."""
    return row["version"].strip().lower() != UNKNOWN


def _workshop_count(facts: Facts, view: View) -> int:
    codes = pd.unique(facts.workshop.codes[view.in_window])
    return int(np.count_nonzero(codes != facts.no_workshop))


# --- pages --------------------------------------------------------------------------------------


WINDOW_LINKS: list[Row] = [
    {"label": "All time", "href": "index.html"},
    *({"label": f"Last {days} days", "href": f"recent/{days}-days.html"} for days in WINDOWS),
]


def overview_page(
    facts: Facts,
    view: View,
    rows: list[Row],
    *,
    title: str,
    generated_at: str,
    window_days: int | None,
) -> Page:
    """The overview of one period; ``rows`` are its ``package_rows``."""
    users = int(view.latest.sum())
    failing_users = int((view.latest & facts.failing).sum())
    failing_packages = [row for row in rows if row["failing_users"]]
    versions = _failing_versions(facts, view)
    context = {
        "generated_at": generated_at,
        "window_days": window_days,
        "windows": [dict(link) for link in WINDOW_LINKS],
        "totals": {
            "submissions": int(view.in_window.sum()),
            "users": users,
            "users_with_failures": failing_users,
            "workshops": _workshop_count(facts, view),
            "packages": len(rows),
            "share_users_failing": rate(failing_users, users),
        },
        "failing_packages": failing_packages,
        "failing_package_versions": versions[:TOP_VERSIONS],
        "failing_known_versions": [row for row in versions if _known_version(row)][:TOP_VERSIONS],
        "users_by_system": _users_by(facts, view, "system", "system"),
        "users_by_python": _users_by(facts, view, "python_version", "python_version"),
        "weekly": _weekly(facts, view),
    }
    if window_days is None:
        path, page_title = "index.html", title
    else:
        path, page_title = f"recent/{window_days}-days.html", f"{title}: last {window_days} days"
    return Page(
        path=path,
        template="overview.html",
        title=page_title,
        context=context,
        tables={
            "failing_packages": [_without_href(row) for row in context["failing_packages"]],
            "weekly": context["weekly"],
        },
    )


def _without_href(row: Row) -> Row:
    return {key: value for key, value in row.items() if key != "href"}


def package_rows(facts: Facts, view: View) -> list[Row]:
    """Every package seen in the period with its figures, most failing users first."""
    counts = package_counts(facts, view)
    rows = [
        {
            **_package_ref(facts, code),
            "tested_users": int(row.tested_users),
            "failing_users": int(row.failing_users),
            "failure_rate": rate(row.failing_users, row.tested_users),
            "failing_users_all_attempts": int(row.failing_users_all_attempts),
            "attempts": int(row.attempts),
            "failed_attempts": int(row.failed_attempts),
        }
        for code, row in counts[counts["attempts"] > 0].iterrows()
    ]
    return _sorted_rows(rows, "failing_users", "name")


def packages_index_page(rows: list[Row]) -> Page:
    return Page(
        path="packages/index.html",
        template="packages.html",
        title="Packages",
        context={"packages": rows},
        tables={"packages": [_without_href(row) for row in rows]},
    )


def _breakdowns(facts: Facts, view: View) -> dict[str, dict[int, list[Row]]]:
    """Per dimension, per package code: rows {value, tested_users, failing_users, rate}, most
    tested first."""
    latest, failures = view.entry_latest, view.failure_latest
    package, subs = facts.package[latest], facts.sub[latest]
    failed_package, failed_subs = facts.failure_package[failures], facts.failure_sub[failures]
    n = len(facts.packages)
    result: dict[str, dict[int, list[Row]]] = {}
    for dim in BREAKDOWNS:
        coded = facts.dims[dim]
        tested = _pair_counts(package, coded.codes[subs], n, len(coded))
        failing = _pair_counts(failed_package, coded.codes[failed_subs], n, len(coded))
        code, value = _cells_by_count(tested, coded.labels)
        result[dim] = _rows_by_code(
            code,
            {
                "value": np.asarray(coded.labels, dtype=object)[value],
                "tested_users": tested[code, value],
                "failing_users": failing[code, value],
                "failure_rate": _rates(failing[code, value], tested[code, value]),
            },
        )
    return result


def _versions(facts: Facts, view: View) -> dict[int, list[Row]]:
    """Per package code: users passing and failing it, by the version their latest run saw."""
    latest = view.entry_latest
    n_versions = len(facts.versions)
    keys = _combined(facts.package[latest], facts.version[latest], n_versions)
    users = pd.Series(keys).value_counts()
    failures = view.failure_latest
    failing = pd.Series(
        _combined(facts.failure_package[failures], facts.failure_version[failures], n_versions)
    ).value_counts()
    result: dict[int, list[Row]] = {}
    for key, count in users.items():
        package, version = divmod(int(key), n_versions)
        fails = int(failing.get(key, 0))
        result.setdefault(package, []).append(
            {
                "version": facts.versions[version],
                "passing_users": int(count) - fails,
                "failing_users": fails,
                "users": int(count),
            }
        )
    return {
        package: [
            {key: value for key, value in row.items() if key != "users"}
            for row in _sorted_rows(rows, "users", "version")
        ]
        for package, rows in result.items()
    }


def _package_weekly(facts: Facts) -> dict[int, list[Row]]:
    weeks = facts.week.codes[facts.sub]
    n = len(facts.packages)
    attempts = _pair_counts(facts.package, weeks, n, len(facts.week))
    failed = _pair_counts(
        facts.failure_package, facts.week.codes[facts.failure_sub], n, len(facts.week)
    )
    result: dict[int, list[Row]] = {}
    for package, week in np.argwhere(attempts):
        result.setdefault(int(package), []).append(
            {
                "week": facts.week.labels[week],
                "attempts": int(attempts[package, week]),
                "failed_attempts": int(failed[package, week]),
            }
        )
    return result


@dataclass(frozen=True)
class Errors:
    """The failed entries that carry an error text, with codes instead of texts.

    ``entries`` has one row per such entry: ``package``, ``sub``, ``text`` (a code into the
    distinct raw texts) and ``message`` (a code into the distinct normalised patterns). Both
    codes are numbered in alphabetical order of their texts, so that sorting and grouping by
    them is integer work that still orders rows as the texts would.
    """

    entries: pd.DataFrame
    messages: np.ndarray  # message code -> normalised pattern
    examples: np.ndarray  # text code -> scrubbed text (what may be published)


def error_entries(facts: Facts) -> Errors:
    """Normalise and scrub each distinct error text once, then give every entry its codes."""
    with_text = facts.failure_error >= 0
    raw = facts.error_texts.to_numpy()[facts.failure_error[with_text]]
    text, texts = pd.factorize(raw, sort=True)
    patterns, examples = messages.patterns_and_examples(pd.Series(texts, dtype=object))
    message_of_text, patterns = pd.factorize(patterns, sort=True)
    entries = pd.DataFrame(
        {
            "package": facts.failure_package[with_text],
            "sub": facts.failure_sub[with_text],
            "text": text,
            "message": message_of_text[text],
        }
    )
    return Errors(entries, patterns.to_numpy(dtype=object), examples.to_numpy(dtype=object))


def _message_groups(entries: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per ``keys`` + message: how many entries (``count``), and the ``text`` code of the
    group's example, its most frequent raw text (ties: alphabetical).

    Sorted by ``keys``, then count descending, then message.
    """
    counts = entries.value_counts([*keys, "message", "text"], sort=False).rename("count")
    counts = counts.reset_index().sort_values(
        [*keys, "message", "count", "text"], ascending=[True] * (len(keys) + 1) + [False, True]
    )
    groups = counts.groupby([*keys, "message"], sort=False).agg(
        count=("count", "sum"), text=("text", "first")
    )
    return groups.reset_index().sort_values(
        [*keys, "count", "message"], ascending=[True] * len(keys) + [False, True]
    )


def error_groups(facts: Facts, view: View, errors: Errors) -> dict[int, list[Row]]:
    """Per package code: the most common normalised messages, each with a scrubbed example.

    ``count`` counts failed attempts; ``users`` the people whose latest attempt shows the
    message, and ``systems`` the operating systems of those people, so a reader can tell a
    Windows-only error from one everybody sees.
    """
    entries = errors.entries
    if entries.empty:
        return {}
    groups = _message_groups(entries, ["package"]).groupby("package").head(TOP_ERRORS)
    latest = entries[view.latest[entries["sub"].to_numpy()]]
    system = facts.dims["system"]
    per_system = (
        pd.DataFrame(
            {
                "package": latest["package"].to_numpy(),
                "message": latest["message"].to_numpy(),
                "system": system.codes[latest["sub"].to_numpy()],
            }
        )
        .value_counts()
        .rename("users")
        .reset_index()
    )
    systems: dict[tuple[int, int], list[Row]] = {}
    for row in per_system.itertuples(index=False):
        systems.setdefault((row.package, row.message), []).append(
            {"system": system.labels[row.system], "users": int(row.users)}
        )
    result: dict[int, list[Row]] = {}
    for row in groups.itertuples(index=False):
        on_systems = _sorted_rows(systems.get((row.package, row.message), []), "users", "system")
        result.setdefault(int(row.package), []).append(
            {
                "message": errors.messages[row.message],
                "count": int(row.count),
                "example": errors.examples[row.text],
                "users": sum(found["users"] for found in on_systems),
                "systems": on_systems,
            }
        )
    return result


def package_pages(
    facts: Facts,
    view: View,
    rows: list[Row],
    breakdowns: dict[str, dict[int, list[Row]]],
    errors: dict[int, list[Row]],
) -> list[Page]:
    versions = _versions(facts, view)
    weekly = _package_weekly(facts)
    codes = _package_codes(facts)
    pages = []
    for row in rows:
        code = codes[row["name"]]
        context = {
            **_without_href(row),
            "versions": versions.get(code, []),
            "breakdowns": {dim: breakdowns[dim].get(code, []) for dim in BREAKDOWNS},
            "weekly": weekly.get(code, []),
            "errors": errors.get(code, []),
        }
        pages.append(
            Page(
                path=row["href"],
                template="package.html",
                title=row["name"],
                context=context,
                tables={
                    "versions": context["versions"],
                    "errors": [_error_csv_row(error) for error in context["errors"]],
                },
            )
        )
    return pages


def _error_csv_row(error: Row) -> Row:
    """An error group for the CSV: its systems as one readable cell ("Windows 410; Darwin 3")."""
    systems = "; ".join(f"{found['system']} {found['users']}" for found in error["systems"])
    return {**error, "systems": systems}


# --- workshops ----------------------------------------------------------------------------------


def _workshop_top_errors(facts: Facts, view: View, errors: Errors) -> tuple[np.ndarray, np.ndarray]:
    """Per (workshop, package) code: the most common message among the participants' latest
    attempts, and its scrubbed example (None where there is none): what an instructor will see
    the week before. Two [workshop, package] arrays, so a workshop's rows need no lookups."""
    shape = len(facts.workshop), len(facts.packages)
    message = np.full(shape, None, dtype=object)
    example = np.full(shape, None, dtype=object)
    entries = errors.entries
    latest = entries[view.latest[entries["sub"].to_numpy()]]
    latest = latest.assign(workshop=facts.workshop.codes[latest["sub"].to_numpy()])
    latest = latest[latest["workshop"] != facts.no_workshop]
    if latest.empty:
        return message, example
    top = _message_groups(latest, ["workshop", "package"]).groupby(["workshop", "package"]).head(1)
    cell = top["workshop"].to_numpy(), top["package"].to_numpy()
    message[cell] = errors.messages[top["message"].to_numpy()]
    example[cell] = errors.examples[top["text"].to_numpy()]
    return message, example


def _workshop_packages(facts: Facts, view: View, errors: Errors) -> dict[int, list[Row]]:
    """Per workshop code: the packages its participants' latest attempts failed, with how many
    failed and tested each and the most common error; most failing participants first."""
    sizes = len(facts.workshop), len(facts.packages)
    workshop = facts.workshop.codes
    tested, failed = view.entry_latest, view.failure_latest
    failing = _pair_counts(
        workshop[facts.failure_sub[failed]], facts.failure_package[failed], *sizes
    )
    testing = _pair_counts(workshop[facts.sub[tested]], facts.package[tested], *sizes)
    top_error, top_example = _workshop_top_errors(facts, view, errors)
    code, package = _cells_by_count(failing, facts.packages.labels)
    names = np.asarray(facts.packages.labels, dtype=object)
    hrefs = np.asarray([package_path(name) for name in facts.packages.labels], dtype=object)
    return _rows_by_code(
        code,
        {
            "name": names[package],
            "href": hrefs[package],
            "failing_participants": failing[code, package],
            "tested_participants": testing[code, package],
            "top_error": top_error[code, package],
            "top_error_example": top_example[code, package],
        },
    )


def _participants_by(facts: Facts, people: np.ndarray, dim: str) -> dict[int, list[Row]]:
    """Per workshop code: participants (and failing ones) by one dimension, most first."""
    coded = facts.dims[dim]
    workshops = facts.workshop.codes[people]
    values = coded.codes[people]
    sizes = len(facts.workshop), len(coded)
    total = _pair_counts(workshops, values, *sizes)
    failing = _pair_counts(workshops, values, *sizes, weights=facts.failing[people])
    code, value = _cells_by_count(total, coded.labels)
    return _rows_by_code(
        code,
        {
            dim: np.asarray(coded.labels, dtype=object)[value],
            "participants": total[code, value],
            "participants_failing": failing[code, value],
        },
    )


def workshop_pages(facts: Facts, view: View, errors: Errors, min_participants: int) -> list[Page]:
    """The workshops index (most recent first) plus one page per workshop with enough
    participants."""
    people = view.latest  # one row per person: their latest attempt
    workshop = facts.workshop.codes
    listed = workshop != facts.no_workshop
    n = len(facts.workshop)
    participants = np.bincount(workshop[people & listed], minlength=n)
    failing = np.bincount(workshop[people & listed & facts.failing], minlength=n)
    seen = pd.Series(facts.received[listed]).groupby(workshop[listed]).agg(["min", "max"])
    first, last = (_iso_dates(seen[end]).to_dict() for end in ("min", "max"))
    packages = _workshop_packages(facts, view, errors)
    systems = _participants_by(facts, people, "system")
    pythons = _participants_by(facts, people, "python_version")
    counted = np.arange(n) != facts.no_workshop
    shown = np.flatnonzero(counted & (participants >= min_participants)).tolist()
    hidden = int(np.count_nonzero(counted & (participants > 0) & (participants < min_participants)))
    index_rows, pages = [], []
    for code in shown:
        name = facts.workshop.labels[code]
        href = workshop_path(name)
        figures = {
            "participants": int(participants[code]),
            "participants_failing": int(failing[code]),
            "first_seen": first[code],
            "last_seen": last[code],
        }
        index_rows.append({"name": name, "href": href, **figures})
        context = {
            "name": name,
            **figures,
            "packages": packages.get(code, []),
            "systems": systems.get(code, []),
            "python_versions": pythons.get(code, []),
        }
        # No CSV per workshop: a site has thousands of workshops, and the JSON twin holds
        # the same rows (the workshops index is a CSV).
        pages.append(Page(path=href, template="workshop.html", title=name, context=context))
    # Most recent first: an instructor looks for next week's workshop, not the biggest one.
    index_rows = sorted(index_rows, key=lambda row: row["name"])
    index_rows.sort(key=lambda row: row["last_seen"], reverse=True)
    index = Page(
        path="workshops/index.html",
        template="workshops.html",
        title="Workshops",
        context={"workshops": index_rows, "hidden_workshops": hidden},
        tables={"workshops": [_without_href(row) for row in index_rows]},
    )
    return [index, *pages]


def _iso_dates(ns: pd.Series) -> pd.Series:
    """Nanoseconds since the epoch -> "YYYY-MM-DD" (UTC), keeping the index."""
    days = ns.to_numpy().astype("datetime64[ns]").astype("datetime64[D]")
    return pd.Series(days.astype(str), index=ns.index)


# --- matrix and compare -------------------------------------------------------------------------


def _columns(facts: Facts, view: View, dim: str) -> list[str]:
    coded = facts.dims[dim]
    users = np.bincount(coded.codes[view.latest], minlength=len(coded))
    present = [(int(-users[i]), label) for i, label in enumerate(coded.labels) if users[i]]
    return [label for _, label in sorted(present)]


def matrix_page(
    facts: Facts, view: View, rows: list[Row], breakdowns: dict[str, dict[int, list[Row]]]
) -> Page:
    codes = _package_codes(facts)
    context: dict[str, Any] = {
        "systems": _columns(facts, view, "system"),
        "python_versions": _columns(facts, view, "python_version"),
    }
    for key, dim, columns in [
        ("by_system", "system", context["systems"]),
        ("by_python", "python_version", context["python_versions"]),
    ]:
        table = []
        for row in rows:
            if not row["tested_users"]:
                continue
            cells = {c["value"]: c for c in breakdowns[dim].get(codes[row["name"]], [])}
            table.append(
                {
                    "name": row["name"],
                    "href": row["href"],
                    "cells": [_cell(column, cells.get(column)) for column in columns],
                }
            )
        context[key] = table
    return Page(path="matrix.html", template="matrix.html", title="Package matrix", context=context)


def _cell(column: str, found: Row | None) -> Row:
    if found is None:
        return {"column": column, "tested_users": 0, "failing_users": 0, "failure_rate": None}
    return {"column": column, **{k: v for k, v in found.items() if k != "value"}}


def compare_page(
    facts: Facts,
    view: View,
    rows: list[Row],
    breakdowns: dict[str, dict[int, list[Row]]],
    errors: dict[int, list[Row]],
) -> Page:
    codes = _package_codes(facts)
    packages = []
    for row in sorted(rows, key=lambda r: r["name"]):
        code = codes[row["name"]]
        top = errors.get(code)
        packages.append(
            {
                "name": row["name"],
                "href": row["href"],
                "tested_users": row["tested_users"],
                "failing_users": row["failing_users"],
                "failure_rate": row["failure_rate"],
                "by_system": breakdowns["system"].get(code, []),
                "top_error": top[0]["message"] if top else None,
            }
        )
    return Page(
        path="compare.html",
        template="compare.html",
        title="Compare packages",
        # The matrix's column order, so the two pages read the same way.
        context={"packages": packages, "systems": _columns(facts, view, "system")},
        tables={
            "packages": [
                {k: v for k, v in p.items() if k not in ("href", "by_system")} for p in packages
            ]
        },
    )


EXAMPLE_REQUEST: Row = {
    "user_system_info": {
        "distribution_name": "Ubuntu",
        "distribution_version": "22.04",
        "system": "Linux",
        "system_version": "#91-Ubuntu SMP",
        "machine": "x86_64",
        "system_platform": "Linux-5.15.0-91-generic-x86_64-with-glibc2.35",
        "python_version": "3.11.6",
        "workshop_id": "2026-05-01-somewhere",
        "email_id": None,
    },
    "successful_installs": [{"name": "Git (git)", "version": "2.39.2"}],
    "failed_installs": [
        {
            "name": "make",
            "version": "unknown",
            "error_description": "could not find 'make' executable for make",
        }
    ],
    "unique_user_id": None,
}

EXAMPLE_RESPONSE: Row = {
    "key": "<user id to send next time>",
    "submission_id": "<id>",
    "summary": {"status": "Successful", "message": "new id generated"},
}


def submit_page() -> Page:
    endpoints = [
        {
            "method": "POST",
            "path": "/api/v1/submissions",
            "description": "Send one installation test result.",
        },
        {
            "method": "POST",
            "path": "/installation_data/",
            "description": "The same, at the path existing installer scripts use.",
        },
    ]
    return Page(
        path="submit.html",
        template="submit.html",
        title="How to submit results",
        context={
            "endpoints": endpoints,
            "schema_href": "schema.json",
            "example_request": EXAMPLE_REQUEST,
            "example_response": EXAMPLE_RESPONSE,
        },
    )


# --- the whole site -----------------------------------------------------------------------------


def iter_pages(
    people: pd.DataFrame,
    results: pd.DataFrame,
    *,
    now: pd.Timestamp,
    generated_at: str,
    title: str,
    min_workshop_participants: int = 1,
) -> Iterator[Page]:
    """Every page of the site, as soon as each is ready. ``now`` anchors the recent windows.

    The order keeps a renderer that works alongside busy: the pages with charts come first
    (overviews, matrix, packages: drawing is the slow part), and the thousands of chartless
    workshop pages last, small tasks that end the work evenly. Each kind of page is computed
    together (the package and workshop pages as one list each), then handed over page by
    page. The tables are read only before the first page comes.
    """
    facts = collect_facts(people, results)
    del people, results  # everything below reads the facts: let the tables go (memory)
    everything = make_view(facts, None)
    rows = package_rows(facts, everything)
    yield overview_page(
        facts, everything, rows, title=title, generated_at=generated_at, window_days=None
    )
    for days in WINDOWS:
        recent = make_view(facts, (now - pd.Timedelta(days=days)).value)
        yield overview_page(
            facts,
            recent,
            package_rows(facts, recent),
            title=title,
            generated_at=generated_at,
            window_days=days,
        )
    breakdowns = _breakdowns(facts, everything)
    yield matrix_page(facts, everything, rows, breakdowns)
    error_texts = error_entries(facts)
    errors = error_groups(facts, everything, error_texts)
    yield from package_pages(facts, everything, rows, breakdowns, errors)
    yield packages_index_page(rows)
    yield compare_page(facts, everything, rows, breakdowns, errors)
    yield submit_page()
    yield from workshop_pages(facts, everything, error_texts, min_workshop_participants)
