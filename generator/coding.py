"""Integer codes and the vectorised counting over them that every figure of the report uses.

A million submissions stay cheap because no figure loops over rows in Python: each text
column becomes integer codes once (``coded``), and a figure is an ``np.bincount`` or a
``pd.factorize`` over those codes. What Python loops remain run over the *output* (one per
package, workshop or table row), which is small. The helpers here know nothing of the report;
``generator.facts`` applies them to the loaded tables.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from generator import messages

UNKNOWN = "unknown"
"""The label of a missing or empty value."""


def is_known_version(label: str) -> bool:
    """Failed installs rarely know their version: "unknown" says nothing about versions."""
    return label.strip().lower() != UNKNOWN


def rate(part: int, whole: int) -> float | None:
    """A share in [0, 1] rounded to 4 places; None when there is nothing to divide by."""
    return round(float(part) / float(whole), 4) if whole else None


def rates(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """``rate`` for each pair, as an array to put beside other columns."""
    shares = [rate(p, w) for p, w in zip(part.tolist(), whole.tolist(), strict=True)]
    return np.array(shares, dtype=object)


@dataclass(frozen=True)
class Coded:
    """A text column as integer codes (>= 0) plus the label of each code."""

    codes: np.ndarray
    labels: list[str]

    def __len__(self) -> int:
        return len(self.labels)


def coded(
    values: pd.Series, clean: Callable[[pd.Series], pd.Series], missing: str = UNKNOWN
) -> Coded:
    """Code a column; ``clean`` maps its distinct values; missing and empty -> ``missing``.

    Labels are scrubbed of e-mail addresses and home-folder user names: anyone can put
    anything into a submission, and every label may end up on a page.
    """
    categorical = pd.Categorical(values)
    cleaned = messages.scrub(clean(pd.Series(categorical.categories, dtype=object)).fillna(""))
    cleaned = cleaned.where(cleaned != "", missing)
    labels = pd.concat([cleaned, pd.Series([missing], dtype=object)], ignore_index=True)
    merged, uniques = pd.factorize(labels)  # scrubbing may merge two values into one label
    codes = merged[np.asarray(categorical.codes)]  # code -1 (missing) -> the UNKNOWN slot
    return Coded(codes.astype(np.int32), [str(label) for label in uniques])


def joined(first: pd.Series, second: pd.Series) -> pd.Series:
    """``first + " " + second`` per row (a missing part is empty), as a categorical: the texts
    are joined once per distinct pair, as there are far fewer pairs than rows."""
    a, b = pd.Categorical(first), pd.Categorical(second)
    size_b = len(b.categories) + 1
    # Code 0 is a missing part, so that it joins as "".
    first_code, second_code = (c.codes.astype(np.int64) + 1 for c in (a, b))
    pair, distinct = pd.factorize(combined(first_code, second_code, size_b))
    first_texts = np.array(["", *a.categories.astype(str)], dtype=object)
    second_texts = np.array(["", *b.categories.astype(str)], dtype=object)
    texts = first_texts[distinct // size_b] + " " + second_texts[distinct % size_b]
    codes, labels = pd.factorize(texts)  # "a b" + "c" and "a" + "b c" are one text
    return pd.Series(pd.Categorical.from_codes(codes[pair], categories=labels))


def week_labels(received: pd.Series, until: pd.Timestamp | None = None) -> Coded:
    """The Monday of each submission's ISO week, as an ISO date; codes count weeks from the
    first one, and the labels run without a gap to the last week (or ``until``'s, if later),
    so that a week nobody submitted in is there, empty, for every weekly series."""
    day = received.dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    monday = day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    if monday.empty:
        return Coded(np.zeros(0, np.int32), [])
    first, last = monday.min(), monday.max()
    if until is not None:
        last = max(last, monday_of(until))
    codes = ((monday - first) // pd.Timedelta(days=7)).to_numpy(np.int64)
    mondays = pd.date_range(first, last, freq="7D")
    return Coded(codes.astype(np.int32), [d.strftime("%Y-%m-%d") for d in mondays])


def monday_of(moment: pd.Timestamp) -> pd.Timestamp:
    """The Monday (00:00, naive UTC) of ``moment``'s ISO week."""
    day = (moment.tz_convert("UTC").tz_localize(None) if moment.tzinfo else moment).normalize()
    return day - pd.Timedelta(days=day.day_of_week)


def inverse(positions: np.ndarray) -> np.ndarray:
    """The rows in order, from each row's position in that order (a permutation's inverse)."""
    rows = np.empty_like(positions)
    rows[positions] = np.arange(len(positions))
    return rows


def combined(a: np.ndarray, b: np.ndarray, size_b: int) -> np.ndarray:
    """One int64 key per (a, b) pair; codes are int32 to save memory, their product is not."""
    keys: np.ndarray = a.astype(np.int64) * size_b + b
    return keys


def pair_counts(
    a: np.ndarray, b: np.ndarray, size_a: int, size_b: int, weights: Any = None
) -> np.ndarray:
    """Counts per (a, b) as a dense 2-D array [a, b]."""
    flat = np.bincount(combined(a, b, size_b), weights=weights, minlength=size_a * size_b)
    return flat.reshape(size_a, size_b).astype(np.int64)


def distinct_pairs(a: np.ndarray, b: np.ndarray, size_b: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (a, b) pairs among parallel code arrays."""
    flat = pd.unique(combined(a, b, size_b))  # hash-based: no need to sort
    return flat // size_b, flat % size_b


_NUMBERS = re.compile(r"(\d+)")


def version_key(label: str) -> tuple[tuple[int, int, str], ...]:
    """Sorts versions as people read them: "3.8" before "3.10" (numbers compared as numbers),
    text such as "unknown" after every number at the same place."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in _NUMBERS.split(label)
        if part
    )


def _ranks(labels: list[str], key: Callable[[str], Any] | None = None) -> np.ndarray:
    """Each label's place in order (alphabetical, or by ``key``): sorting codes by it sorts
    them by label."""
    ranks = np.empty(len(labels), dtype=np.int64)
    order = sorted(range(len(labels)), key=lambda code: (key or str)(labels[code]))
    ranks[order] = np.arange(len(labels))
    return ranks


def cells_by_count(counts: np.ndarray, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The non-zero cells (code, label code) of a [code, label] table of counts, by code, then
    in the report's sort order: count descending, then label."""
    code, label = np.nonzero(counts)
    order = np.lexsort((_ranks(labels)[label], -counts[code, label], code))
    return code[order], label[order]


def cells_by_version(counts: np.ndarray, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """As ``cells_by_count``, but each code's cells in version order of their labels (a table
    of Python versions reads 3.8, 3.9, 3.10)."""
    code, label = np.nonzero(counts)
    order = np.lexsort((_ranks(labels, version_key)[label], code))
    return code[order], label[order]


def rows_by_code(codes: np.ndarray, columns: dict[str, np.ndarray]) -> dict[int, list[Any]]:
    """Parallel ``columns`` (rows already sorted by ``codes``) -> plain-dict rows per code.

    Thousands of workshop pages each need a few rows: building all rows in one pass and
    slicing them is much cheaper than a loop per workshop. ``tolist`` turns numpy values into
    the plain ints and strings a JSON context needs. The rows' shape is the caller's columns,
    so the caller states it: ``rows_by_code`` returns ``Any`` rows for it to annotate.
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
