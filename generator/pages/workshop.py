"""One page per listed workshop (template workshop.html): what its instructors should prepare.

The packages its participants' latest attempts failed, with the error they most often saw, the
links that say how to fix them and the systems they fail on; the systems and Pythons the
participants came with; and each participant as an anonymous row (``learners``). No charts
and no CSV: a site has thousands of workshops, and the JSON twin holds the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict

import numpy as np

from generator.coding import cells_by_count, pair_counts, rows_by_code
from generator.error_groups import Errors, message_groups
from generator.facts import Facts, View, dimension_cells
from generator.install_test import learner_command
from generator.model import Page, PageBatch
from generator.pages.learners import Learner, workshop_learners
from generator.pages.workshop_systems import SystemCount, failing_by_system
from generator.pages.workshops import WorkshopRow
from generator.slugs import package_path


class WorkshopPackage(TypedDict):
    name: str
    href: str
    failing_participants: int
    tested_participants: int
    top_error: str | None  # the most common message group; None when none reported one
    top_error_example: str | None  # its scrubbed example
    by_system: list[SystemCount]  # one per system of the workshop, in ``systems`` order
    help_urls: list[str]  # where to read how to fix it (http and https links only)


class ParticipantsBySystem(TypedDict):
    system: str
    participants: int
    participants_failing: int


class ParticipantsByPython(TypedDict):
    python_version: str
    participants: int
    participants_failing: int


class WorkshopContext(TypedDict):
    name: str
    participants: int
    participants_failing: int
    first_seen: str
    last_seen: str
    participants_fixed: int  # participants whose latest attempt passes what an earlier failed
    packages: list[WorkshopPackage]  # most failing participants first
    systems: list[ParticipantsBySystem]  # most participants first
    python_versions: list[ParticipantsByPython]  # in version order
    learners: list[Learner]  # one per participant, anonymous (generator/pages/learners.py)
    install_command: str | None  # what its learners run (None: no installation test published)


HelpUrls = Callable[[int], list[str]]
"""A package code -> the links that say how to fix it (the config's first)."""


def no_help_urls(package: int) -> list[str]:
    return []


def workshop_batch(
    facts: Facts,
    view: View,
    errors: Errors,
    listed: dict[int, WorkshopRow],
    help_urls: HelpUrls = no_help_urls,
    install_test: bool = False,
) -> PageBatch:
    """The ``workshop_pages`` of ``listed`` as a batch, built where they are rendered
    (``generator.model.PageBatch``): a share is every ``shares``-th listed workshop."""
    codes = list(listed)

    def share(index: int, shares: int) -> list[Page[WorkshopContext]]:
        mine = {code: listed[code] for code in codes[index::shares]}
        return workshop_pages(facts, view, errors, mine, help_urls, install_test)

    return PageBatch(paths=tuple(row["href"] for row in listed.values()), build=share)


def workshop_pages(
    facts: Facts,
    view: View,
    errors: Errors,
    listed: dict[int, WorkshopRow],
    help_urls: HelpUrls = no_help_urls,
    install_test: bool = False,
) -> list[Page[WorkshopContext]]:
    """A page for each ``listed`` workshop (its code -> its row of the index); ``help_urls``
    gives each failing package its fix links; ``install_test``: the site publishes
    ``install-test.py``, so each page says how its learners run it."""
    people = view.latest  # one row per person: their latest attempt
    packages = _workshop_packages(facts, view, errors, help_urls)
    systems: dict[int, list[ParticipantsBySystem]] = _participants_by(facts, people, "system")
    pythons: dict[int, list[ParticipantsByPython]] = _participants_by(
        facts, people, "python_version"
    )
    by_system = failing_by_system(
        facts,
        view,
        {code: [row["name"] for row in rows] for code, rows in packages.items() if code in listed},
        {code: [row["system"] for row in rows] for code, rows in systems.items()},
    )
    learners = workshop_learners(facts, view, listed)
    pages = []
    for code, row in listed.items():
        rows = packages.get(code, [])
        for package, cells in zip(rows, by_system.get(code, []), strict=True):
            package["by_system"] = cells
        participants = learners.get(code, [])
        context: WorkshopContext = {
            "name": row["name"],
            "participants": row["participants"],
            "participants_failing": row["participants_failing"],
            "participants_fixed": sum(1 for learner in participants if learner["fixed"]),
            "first_seen": row["first_seen"],
            "last_seen": row["last_seen"],
            "packages": rows,
            "systems": systems.get(code, []),
            "python_versions": pythons.get(code, []),
            "learners": participants,
            "install_command": learner_command(row["name"]) if install_test else None,
        }
        pages.append(
            Page(path=row["href"], template="workshop.html", title=row["name"], context=context)
        )
    return pages


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
    top = message_groups(latest, ["workshop", "package"]).groupby(["workshop", "package"]).head(1)
    cell = top["workshop"].to_numpy(), top["package"].to_numpy()
    message[cell] = errors.messages[top["message"].to_numpy()]
    example[cell] = errors.examples[top["text"].to_numpy()]
    return message, example


def _workshop_packages(
    facts: Facts, view: View, errors: Errors, help_urls: HelpUrls
) -> dict[int, list[WorkshopPackage]]:
    """Per workshop code: the packages its participants' latest attempts failed, with how many
    failed and tested each and the most common error; most failing participants first."""
    sizes = len(facts.workshop), len(facts.packages)
    workshop = facts.workshop.codes
    tested, failed = view.entry_latest, view.failure_latest
    failing = pair_counts(
        workshop[facts.failure_sub[failed]], facts.failure_package[failed], *sizes
    )
    testing = pair_counts(workshop[facts.sub[tested]], facts.package[tested], *sizes)
    top_error, top_example = _workshop_top_errors(facts, view, errors)
    code, package = cells_by_count(failing, facts.packages.labels)
    names = np.asarray(facts.packages.labels, dtype=object)
    hrefs = np.asarray([package_path(key) for key in facts.package_keys], dtype=object)
    links = np.empty(len(facts.packages), dtype=object)
    links[:] = [_web_links(help_urls(code)) for code in range(len(facts.packages))]
    rows: dict[int, list[WorkshopPackage]] = rows_by_code(
        code,
        {
            "name": names[package],
            "href": hrefs[package],
            "failing_participants": failing[code, package],
            "tested_participants": testing[code, package],
            "top_error": top_error[code, package],
            "top_error_example": top_example[code, package],
            "by_system": np.full(len(code), None, dtype=object),  # filled per page
            "help_urls": links[package],
        },
    )
    return rows


def _web_links(urls: list[str]) -> list[str]:
    """Only links a reader can follow safely: http and https."""
    return [url for url in urls if url.startswith(("https://", "http://"))]


def _participants_by(facts: Facts, people: np.ndarray, dim: str) -> dict[int, list[Any]]:
    """Per workshop code: participants (and failing ones) by one dimension, most first; each
    row's first key is ``dim``."""
    coded = facts.dims[dim]
    workshops = facts.workshop.codes[people]
    values = coded.codes[people]
    sizes = len(facts.workshop), len(coded)
    total = pair_counts(workshops, values, *sizes)
    failing = pair_counts(workshops, values, *sizes, weights=facts.failing[people])
    code, value = dimension_cells(dim, total, coded.labels)
    return rows_by_code(
        code,
        {
            dim: np.asarray(coded.labels, dtype=object)[value],
            "participants": total[code, value],
            "participants_failing": failing[code, value],
        },
    )
