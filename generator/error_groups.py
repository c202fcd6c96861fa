"""Error messages grouped per package (and per workshop): which problems people hit.

Each distinct error text is normalised into its group's pattern and scrubbed into a
publishable example once (``generator.messages``), however many failures repeat it, and its
cause chain and fix links are read from it then; after that, grouping is integer work on
codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
import pandas as pd

from generator import messages
from generator.facts import Facts, View

TOP_ERRORS = 10
"""Message groups a package page lists."""


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
    chains: np.ndarray  # text code -> its cause chain (a list of scrubbed lines; [] for none)
    links: pd.DataFrame  # one row per (``text``, ``link``) a text holds; ``link`` a code into
    link_labels: np.ndarray  # link code -> the normalised URL (generator/links.py)


class SystemUsers(TypedDict):
    system: str
    users: int


class ErrorGroup(TypedDict):
    """One message group of a package: ``count`` failed attempts show it; ``users`` people's
    latest attempts do, on ``systems``."""

    message: str
    count: int
    example: str
    users: int
    systems: list[SystemUsers]
    chain: list[str]  # the example's checks, outermost first, when it has a chain of causes
    help_urls: list[str]  # the fix links its messages carry, most failed attempts first


def error_entries(facts: Facts) -> Errors:
    """Normalise and scrub each distinct error text once, then give every entry its codes."""
    with_text = facts.failure_error >= 0
    raw = facts.error_texts.to_numpy()[facts.failure_error[with_text]]
    text, texts = pd.factorize(raw, sort=True)
    analysed = messages.analyse(pd.Series(texts, dtype=object))
    message_of_text, distinct_patterns = pd.factorize(analysed.patterns, sort=True)
    per_text = analysed.links.explode().dropna()
    link, link_labels = pd.factorize(per_text)
    entries = pd.DataFrame(
        {
            "package": facts.failure_package[with_text],
            "sub": facts.failure_sub[with_text],
            "text": text,
            "message": message_of_text[text],
        }
    )
    return Errors(
        entries,
        distinct_patterns.to_numpy(dtype=object),
        analysed.examples.to_numpy(dtype=object),
        analysed.chains.to_numpy(dtype=object),
        pd.DataFrame({"text": per_text.index.to_numpy(np.int64), "link": link}),
        np.asarray(link_labels, dtype=object),
    )


def message_groups(entries: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per ``keys`` + message: how many entries (``count``), and the ``text`` code of the
    group's example, its most frequent raw text (ties: alphabetical).

    Sorted by ``keys``, then count descending, then message.
    """
    counted = entries.value_counts([*keys, "message", "text"], sort=False).rename("count")
    counts = counted.reset_index().sort_values(
        [*keys, "message", "count", "text"], ascending=[True] * (len(keys) + 1) + [False, True]
    )
    groups = counts.groupby([*keys, "message"], sort=False).agg(
        count=("count", "sum"), text=("text", "first")
    )
    return groups.reset_index().sort_values(
        [*keys, "count", "message"], ascending=[True] * len(keys) + [False, True]
    )


def links_by(entries: pd.DataFrame, errors: Errors, keys: list[str]) -> dict[Any, list[str]]:
    """Per value of ``keys`` (a tuple for more than one): the fix links of its entries' texts,
    most entries first (ties: alphabetical)."""
    per_text = entries.value_counts([*keys, "text"], sort=False).rename("count").reset_index()
    counted = (
        per_text.merge(errors.links, on="text")
        .groupby([*keys, "link"])["count"]
        .sum()
        .reset_index()
    )
    counted["url"] = errors.link_labels[counted["link"].to_numpy()]
    counted = counted.sort_values(
        [*keys, "count", "url"], ascending=[*[True] * len(keys), False, True]
    )
    grouped = counted.groupby(keys if len(keys) > 1 else keys[0], sort=False)["url"]
    return {key: urls.tolist() for key, urls in grouped}


def error_groups(facts: Facts, view: View, errors: Errors) -> dict[int, list[ErrorGroup]]:
    """Per package code: the most common normalised messages, each with a scrubbed example.

    ``count`` counts failed attempts; ``users`` the people whose latest attempt shows the
    message, and ``systems`` the operating systems of those people, so a reader can tell a
    Windows-only error from one everybody sees.
    """
    entries = errors.entries
    if not view.in_window.all():  # a recent period: only its failures count
        entries = entries[view.in_window[entries["sub"].to_numpy()]]
    if entries.empty:
        return {}
    groups = message_groups(entries, ["package"]).groupby("package").head(TOP_ERRORS)
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
    systems: dict[tuple[int, int], list[SystemUsers]] = {}
    for package, message, code, users in per_system.itertuples(index=False):
        systems.setdefault((package, message), []).append(
            SystemUsers(system=system.labels[code], users=int(users))
        )
    links = links_by(entries, errors, ["package", "message"])
    result: dict[int, list[ErrorGroup]] = {}
    for package, message, count, text in groups.itertuples(index=False):
        on_systems = sorted(
            systems.get((package, message), []),
            key=lambda found: (-found["users"], found["system"]),
        )
        result.setdefault(int(package), []).append(
            ErrorGroup(
                message=errors.messages[message],
                count=int(count),
                example=errors.examples[text],
                users=sum(found["users"] for found in on_systems),
                systems=on_systems,
                chain=errors.chains[text],
                help_urls=links.get((package, message), []),
            )
        )
    return result
