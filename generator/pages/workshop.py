"""One page per listed workshop (template workshop.html): what its instructors should prepare.

The packages its participants' latest attempts failed, with the error they most often saw,
and the systems and Pythons they came with. No charts and no CSV: a site has thousands of
workshops, and the JSON twin holds the same rows.
"""

from __future__ import annotations

from typing import Any, TypedDict

import numpy as np

from generator.coding import cells_by_count, pair_counts, rows_by_code
from generator.error_groups import Errors, message_groups
from generator.facts import Facts, View
from generator.model import Page
from generator.pages.workshops import WorkshopRow
from generator.slugs import package_path


class WorkshopPackage(TypedDict):
    name: str
    href: str
    failing_participants: int
    tested_participants: int
    top_error: str | None  # the most common message group; None when none reported one
    top_error_example: str | None  # its scrubbed example


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
    packages: list[WorkshopPackage]  # most failing participants first
    systems: list[ParticipantsBySystem]  # most participants first
    python_versions: list[ParticipantsByPython]


def workshop_pages(
    facts: Facts, view: View, errors: Errors, listed: dict[int, WorkshopRow]
) -> list[Page[WorkshopContext]]:
    """A page for each ``listed`` workshop (its code -> its row of the index)."""
    people = view.latest  # one row per person: their latest attempt
    packages = _workshop_packages(facts, view, errors)
    systems: dict[int, list[ParticipantsBySystem]] = _participants_by(facts, people, "system")
    pythons: dict[int, list[ParticipantsByPython]] = _participants_by(
        facts, people, "python_version"
    )
    pages = []
    for code, row in listed.items():
        context: WorkshopContext = {
            "name": row["name"],
            "participants": row["participants"],
            "participants_failing": row["participants_failing"],
            "first_seen": row["first_seen"],
            "last_seen": row["last_seen"],
            "packages": packages.get(code, []),
            "systems": systems.get(code, []),
            "python_versions": pythons.get(code, []),
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
    facts: Facts, view: View, errors: Errors
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
    hrefs = np.asarray([package_path(name) for name in facts.packages.labels], dtype=object)
    return rows_by_code(
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


def _participants_by(facts: Facts, people: np.ndarray, dim: str) -> dict[int, list[Any]]:
    """Per workshop code: participants (and failing ones) by one dimension, most first; each
    row's first key is ``dim``."""
    coded = facts.dims[dim]
    workshops = facts.workshop.codes[people]
    values = coded.codes[people]
    sizes = len(facts.workshop), len(coded)
    total = pair_counts(workshops, values, *sizes)
    failing = pair_counts(workshops, values, *sizes, weights=facts.failing[people])
    code, value = cells_by_count(total, coded.labels)
    return rows_by_code(
        code,
        {
            dim: np.asarray(coded.labels, dtype=object)[value],
            "participants": total[code, value],
            "participants_failing": failing[code, value],
        },
    )
