"""A workshop's participants one by one, anonymously: what each still fails and what each fixed.

An instructor wants to know whether twelve failures are three learners failing everything or
twelve failing one thing each. Each participant is one row (their latest attempt's system and
Python, the packages it fails, the packages an earlier attempt failed and the latest passes),
and nothing else: no id, e-mail address or time. The rows are sorted by what they say (system,
Python version, failing, fixed) and numbered in that order, so a learner's number tells only
where their row falls in that order, never who they are or when they sent it; two learners
with the same results are indistinguishable. docs/counting.md says what small workshops
disclose all the same.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TypedDict

import numpy as np

from generator.coding import combined, version_key
from generator.facts import Facts, View


class Learner(TypedDict):
    learner: int  # 1, 2, ... in the order of the rows' content
    system: str
    python_version: str
    failing: list[str]  # packages their latest attempt fails, by name
    fixed: list[str]  # packages an earlier attempt failed and the latest passes, by name


def workshop_learners(
    facts: Facts, view: View, listed: Collection[int]
) -> dict[int, list[Learner]]:
    """Per ``listed`` workshop code: a row per participant, numbered by content."""
    in_listed = np.zeros(len(facts.workshop), bool)
    in_listed[list(listed)] = True
    listed_sub = in_listed[facts.workshop.codes]
    n = len(facts.packages)
    failed = view.failure_latest & listed_sub[facts.failure_sub]
    failing = combined(facts.person[facts.failure_sub[failed]], facts.failure_package[failed], n)
    tested = view.entry_latest & listed_sub[facts.sub]
    tested_keys = combined(facts.person[facts.sub[tested]], facts.package[tested], n)
    # Sorting membership tests, not np.unique: numpy's hashing unique is far slower here.
    passing = tested_keys[~np.isin(tested_keys, failing, kind="sort")]
    earlier = view.failure_in_window & ~view.failure_latest & listed_sub[facts.failure_sub]
    earlier_failed = combined(
        facts.person[facts.failure_sub[earlier]], facts.failure_package[earlier], n
    )
    fixed = passing[np.isin(passing, earlier_failed, kind="sort")]
    failing_names, fixed_names = _names_by_person(facts, failing), _names_by_person(facts, fixed)

    subs = np.flatnonzero(view.latest & listed_sub)
    systems, pythons = (facts.dims[dim] for dim in ("system", "python_version"))
    # Each Python version's place in version order, computed once per version, not per row.
    in_order = sorted(range(len(pythons)), key=lambda code: version_key(pythons.labels[code]))
    place = np.empty(len(pythons), np.int64)
    place[in_order] = np.arange(len(pythons))
    rows = sorted(
        (
            workshop,
            system,
            python_place,
            failing_names.get(person, []),
            fixed_names.get(person, []),
            python,
        )
        for workshop, system, python_place, python, person in zip(
            facts.workshop.codes[subs].tolist(),
            np.asarray(systems.labels, dtype=object)[systems.codes[subs]].tolist(),
            place[pythons.codes[subs]].tolist(),
            np.asarray(pythons.labels, dtype=object)[pythons.codes[subs]].tolist(),
            facts.person[subs].tolist(),
            strict=True,
        )
    )
    learners: dict[int, list[Learner]] = {}
    for workshop, system, _, failing_list, fixed_list, python in rows:
        group = learners.setdefault(workshop, [])
        group.append(
            Learner(
                learner=len(group) + 1,
                system=system,
                python_version=python,
                failing=failing_list,
                fixed=fixed_list,
            )
        )
    return learners


def _names_by_person(facts: Facts, keys: np.ndarray) -> dict[int, list[str]]:
    """(person, package) keys -> per person the package names, in alphabetical order."""
    if not len(keys):
        return {}
    n = len(facts.packages)
    labels = np.asarray(facts.packages.labels, dtype=object)
    rank = np.empty(n, np.int64)
    rank[np.argsort(labels)] = np.arange(n)
    person, package = keys // n, keys % n
    order = np.lexsort((rank[package], person))
    person, names = person[order], labels[package[order]].tolist()
    starts = np.flatnonzero(np.r_[True, person[1:] != person[:-1]]).tolist()
    ends = [*starts[1:], len(names)]
    return {
        first: names[start:end]
        for first, start, end in zip(person[starts].tolist(), starts, ends, strict=True)
    }
