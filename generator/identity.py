"""Which package a name means: the key that results are counted by, and the name shown for it.

Installer scripts name one tool in several ways ("Make (make)", "make"; "Git (git)", "git").
A package's *key* is the text inside the final pair of parentheses of its trimmed name when
the name ends with one, else the whole trimmed name; keys compare exactly (``ipython`` and
``IPython`` are two packages). ``generator.package_aliases`` (a name or key -> a key) fixes
the names this rule gets wrong. A key is shown by its most frequent full name (ties: the
first in sort order), so pages keep the names people know. docs/counting.md states the rule.

Everything here works on the *distinct* names (a few hundred), never on the entries.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from generator import messages
from generator.coding import UNKNOWN, Coded

_FINAL_PARENTHESES = re.compile(r"\(([^()]*)\)$")


def package_key(name: str) -> str:
    """``"Git (git)"`` -> ``"git"``, ``"make"`` -> ``"make"``: the rule, without aliases.

    A key is its own key, so the rule can be applied to a name or to a key alike.
    """
    trimmed = name.strip()
    found = _FINAL_PARENTHESES.search(trimmed)
    inside = found.group(1).strip() if found else ""
    return inside or trimmed


def package_keys(names: pd.Series, aliases: Mapping[str, str] | None = None) -> pd.Series:
    """Each name's key; ``aliases`` map a trimmed name, else its key, to a name or key whose
    key it then gets (so that every key stays its own key)."""
    trimmed = names.astype(object).str.strip()
    keys = trimmed.map(package_key)
    if aliases:
        targets = {source.strip(): package_key(target) for source, target in aliases.items()}
        by_name, by_key = trimmed.map(targets), keys.map(targets)
        keys = by_name.where(by_name.notna(), by_key.where(by_key.notna(), keys))
    return keys


@dataclass(frozen=True)
class Packages:
    """Entries coded by package key: ``coded.labels`` are display names, ``keys`` the keys;
    ``shared``: per key, whether more than one name means it (so one submission may list it
    twice)."""

    coded: Coded
    keys: list[str]
    shared: np.ndarray


def identify(names: pd.Series, aliases: Mapping[str, str] | None = None) -> Packages:
    """Code each entry's package by key, and name each key by its most frequent full name.

    Names and keys are scrubbed like every label (``messages.scrub``): both reach pages.
    """
    categorical = pd.Categorical(names)
    distinct = messages.scrub(pd.Series(categorical.categories, dtype=object).str.strip())
    distinct = pd.concat([distinct, pd.Series([UNKNOWN], dtype=object)], ignore_index=True)
    distinct = distinct.where(distinct.fillna("") != "", UNKNOWN)
    keys = messages.scrub(package_keys(distinct, aliases))
    key_of_name, key_labels = pd.factorize(keys)
    slot = np.asarray(categorical.codes, dtype=np.int64)
    slot[slot < 0] = len(distinct) - 1  # a missing name is the UNKNOWN slot
    entries = np.bincount(slot, minlength=len(distinct))
    # Per key its names, most entries first, then in sort order; the first is the display name.
    # ("make" and "make " are one full name once trimmed: their entries add up.)
    by_name = (
        pd.DataFrame({"key": key_of_name, "name": distinct, "entries": entries})
        .groupby(["key", "name"])["entries"]
        .sum()
        .reset_index()
    )
    by_name["entries"] = -by_name["entries"]
    first = by_name.sort_values(["key", "entries", "name"]).drop_duplicates("key")
    return Packages(
        Coded(key_of_name[slot].astype(np.int32), first["name"].astype(str).tolist()),
        [str(key) for key in key_labels],
        np.bincount(key_of_name, minlength=len(key_labels)) > 1,
    )
