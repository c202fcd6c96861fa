"""The workshops index (template workshops.html): every workshop with enough participants.

Which workshops are listed is decided here, for the index and for the workshop pages alike
(``workshop_rows``): a workshop below the privacy threshold is only counted, never named.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np
import pandas as pd

from generator.facts import Facts, View, without_href
from generator.model import Page
from generator.slugs import workshop_path


class WorkshopRow(TypedDict):
    name: str
    href: str
    participants: int  # people, each counted by their latest attempt
    participants_failing: int
    first_seen: str  # ISO dates of the first and the last submission
    last_seen: str


class WorkshopsContext(TypedDict):
    workshops: list[WorkshopRow]  # most recent first
    hidden_workshops: int  # workshops below the privacy threshold: counted, not named


def workshop_rows(
    facts: Facts, view: View, min_participants: int
) -> tuple[dict[int, WorkshopRow], int]:
    """Per workshop code, the workshops with at least ``min_participants`` (in code order),
    and how many others had participants."""
    people = view.latest  # one row per person: their latest attempt
    workshop = facts.workshop.codes
    listed = workshop != facts.no_workshop
    n = len(facts.workshop)
    participants = np.bincount(workshop[people & listed], minlength=n)
    failing = np.bincount(workshop[people & listed & facts.failing], minlength=n)
    seen = pd.Series(facts.received[listed]).groupby(workshop[listed]).agg(["min", "max"])
    first, last = (_iso_dates(seen[end]).to_dict() for end in ("min", "max"))
    counted = np.arange(n) != facts.no_workshop
    shown = np.flatnonzero(counted & (participants >= min_participants)).tolist()
    hidden = int(np.count_nonzero(counted & (participants > 0) & (participants < min_participants)))
    rows: dict[int, WorkshopRow] = {}
    for code in shown:
        name = facts.workshop.labels[code]
        rows[code] = WorkshopRow(
            name=name,
            href=workshop_path(name),
            participants=int(participants[code]),
            participants_failing=int(failing[code]),
            first_seen=first[code],
            last_seen=last[code],
        )
    return rows, hidden


def _iso_dates(ns: pd.Series) -> pd.Series:
    """Nanoseconds since the epoch -> "YYYY-MM-DD" (UTC), keeping the index."""
    days = ns.to_numpy().astype("datetime64[ns]").astype("datetime64[D]")
    return pd.Series(days.astype(str), index=ns.index)


def workshops_index_page(rows: list[WorkshopRow], hidden: int) -> Page[WorkshopsContext]:
    # Most recent first: an instructor looks for next week's workshop, not the biggest one.
    ordered = sorted(rows, key=lambda row: row["name"])
    ordered.sort(key=lambda row: row["last_seen"], reverse=True)
    return Page(
        path="workshops/index.html",
        template="workshops.html",
        title="Workshops",
        context={"workshops": ordered, "hidden_workshops": hidden},
        tables={"workshops": [without_href(row) for row in ordered]},
    )
