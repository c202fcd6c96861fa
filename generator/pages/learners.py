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
    passing = np.setdiff1d(
        combined(facts.person[facts.sub[tested]], facts.package[tested], n), failing
    )
    earlier = view.failure_in_window & ~view.failure_latest & listed_sub[facts.failure_sub]
    earlier_failed = combined(
        facts.person[facts.failure_sub[earlier]], facts.failure_package[earlier], n
    )
    fixed = np.intersect1d(earlier_failed, passing)
    failing_names, fixed_names = _names_by_person(facts, failing), _names_by_person(facts, fixed)

    subs = np.flatnonzero(view.latest & listed_sub)
    systems, pythons = (facts.dims[dim] for dim in ("system", "python_version"))
    rows = sorted(
        (
            workshop,
            system,
            version_key(python),
            failing_names.get(person, []),
            fixed_names.get(person, []),
            python,
        )
        for workshop, system, python, person in zip(
            facts.workshop.codes[subs].tolist(),
            np.asarray(systems.labels, dtype=object)[systems.codes[subs]].tolist(),
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
    person, package = keys // n, keys % n
    order = np.lexsort((np.argsort(np.argsort(labels))[package], person))
    person, names = person[order], labels[package[order]]
    starts = np.r_[0, np.flatnonzero(np.diff(person)) + 1]
    groups = np.split(names, starts[1:])
    return {
        first: group.tolist() for first, group in zip(person[starts].tolist(), groups, strict=True)
    }
