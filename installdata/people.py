"""Who is who (docs/counting.md): users, their latest attempt and their workshop.

A user is one ``user_id``; submissions sharing a non-empty (email, workshop) pair are the
same user too, even under different ids, and that is transitive (id A and id B share a pair,
id B and id C share another: one person). That is a connected-components problem on the
graph "user id -- (email, workshop) pair". It is solved here with vectorised label
propagation (every id takes the smallest label among the pairs it touches, every pair the
smallest label among its ids, until nothing changes), which needs a handful of numpy passes
instead of a Python loop over a million rows.

The person key added here is a plain integer: it is not, and does not contain, a user id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

Ints = npt.NDArray[np.integer[Any]]
"""One integer per row (codes, labels, row numbers), whatever numpy's width."""
Objects = npt.NDArray[np.object_]
"""One Python value per row, None where missing."""

NO_WORKSHOP = "no workshop name provided"
"""What the earlier server stored for a missing workshop (compared case-insensitively)."""


def normalise_email(value: str | None) -> str | None:
    """Trimmed, lower-cased email, or None when there is none."""
    if value is None:
        return None
    value = value.strip().lower()
    return value or None


def normalise_workshop(value: str | None) -> str | None:
    """Trimmed workshop id, or None for empty and for the earlier server's placeholder."""
    if value is None:
        return None
    value = value.strip()
    if not value or " ".join(value.split()).casefold() == NO_WORKSHOP:
        return None
    return value


def _normalised(column: pd.Series, normalise: Callable[[str | None], str | None]) -> Objects:
    """Apply ``normalise`` to a categorical column's distinct values only, then expand."""
    categorical = column.astype("category").array
    values: Objects = np.array(
        [normalise(v) for v in categorical.categories] + [None], dtype=object
    )
    codes: Ints = np.asarray(categorical.codes)  # int8 to int64, as the categories need
    return values[codes]  # code -1 (missing) picks the trailing None


def _user_codes(user_id: pd.Series) -> Ints:
    """Dense integer per user id; a submission without one is its own user."""
    codes, _ = pd.factorize(user_id, use_na_sentinel=True)
    missing = codes < 0
    codes[missing] = codes.max(initial=-1) + 1 + np.arange(missing.sum())
    return codes


def _components(users: Ints, pairs: Ints) -> Ints:
    """Smallest user code in each row's connected component (pairs: -1 = no pair)."""
    n_users = int(users.max(initial=-1)) + 1
    label = np.arange(n_users)
    linked = pairs >= 0
    edge_users, edge_pairs = users[linked], pairs[linked]
    if not len(edge_pairs):
        return label[users]
    pair_label = np.empty(int(edge_pairs.max()) + 1, dtype=label.dtype)
    while True:
        pair_label.fill(n_users)
        np.minimum.at(pair_label, edge_pairs, label[edge_users])
        updated = label.copy()
        np.minimum.at(updated, edge_users, pair_label[edge_pairs])
        updated = updated[updated]  # jump to the label's own label: fewer rounds on chains
        if np.array_equal(updated, label):
            return label[users]
        label = updated


def _attempt_order(person: Ints, received: Ints, submission_id: pd.Series, path: pd.Series) -> Ints:
    """Row numbers in (person, received_at, submission_id, path) order.

    Sorting by the two text columns costs more than everything else here, and they only
    break ties between one person's attempts received in the same nanosecond: sort by the
    two numbers, then sort just the tied rows again with their texts.
    """
    order = np.lexsort((received, person))
    same_as_next = (np.diff(person[order]) == 0) & (np.diff(received[order]) == 0)
    tied = np.zeros(len(order), dtype=bool)
    tied[:-1] |= same_as_next
    tied[1:] |= same_as_next
    if tied.any():
        rows = order[tied]  # runs of tied rows, the runs in (person, received_at) order
        texts = pd.DataFrame(
            {
                "person": person[rows],
                "received_at": received[rows],
                "submission_id": submission_id.to_numpy(dtype=object)[rows],
                "path": path.to_numpy(dtype=object)[rows],
            }
        )
        order[tied] = rows[texts.sort_values(list(texts.columns), kind="stable").index]
    return order


def assign_people(submissions: pd.DataFrame) -> pd.DataFrame:
    """Return ``submissions`` with ``person``, ``is_latest``, ``attempt_order``, ``workshop``.

    ``person``: integer key shared by all attempts of one person. ``is_latest``: this row is
    the person's newest submission (ties broken by ``submission_id``, then ``path``).
    ``attempt_order``: position in that (person, time) order over the whole table, so that
    latest attempts within a time window need no second sort.
    ``workshop``: the person's workshop, the newest non-empty ``workshop_id`` among all their
    attempts (missing when they never gave one). Needs the loader's columns ``user_id``,
    ``email_id``, ``workshop_id``, ``received_at``, ``submission_id``, ``path``.
    """
    email = _normalised(submissions["email_id"], normalise_email)
    workshop = _normalised(submissions["workshop_id"], normalise_workshop)
    has_pair = pd.notna(email) & pd.notna(workshop)
    pair_text = pd.Series(email, dtype=object).str.cat(pd.Series(workshop, dtype=object), sep="\n")
    pairs = np.full(len(submissions), -1, dtype=np.int64)
    pairs[has_pair] = pd.factorize(pair_text[has_pair])[0]

    root = _components(_user_codes(submissions["user_id"]), pairs)
    person = pd.factorize(root, sort=True)[0]

    # Integer nanoseconds: a tz-aware column's to_numpy() is an array of objects.
    received = pd.DatetimeIndex(submissions["received_at"]).asi8
    order = _attempt_order(person, received, submissions["submission_id"], submissions["path"])
    is_latest = np.zeros(len(order), dtype=bool)
    is_latest[order[_last_of_runs(person[order])]] = True
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))

    result = submissions.copy()
    result["person"] = person
    result["is_latest"] = is_latest
    result["attempt_order"] = position
    result["workshop"] = pd.Categorical(_persons_workshop(person, workshop, order))
    return result


def _last_of_runs(keys: Ints) -> npt.NDArray[np.bool_]:
    """For sorted ``keys``: True where the next key differs (the last row of each run)."""
    last = np.ones(len(keys), dtype=bool)
    last[:-1] = keys[1:] != keys[:-1]
    return last


def _persons_workshop(person: Ints, workshop: Objects, order: Ints) -> Objects:
    """Per row: the newest workshop its person gave, None when they never gave one."""
    given = order[pd.notna(workshop[order])]  # rows with a workshop, in (person, time) order
    newest = given[_last_of_runs(person[given])]
    by_person = np.full(int(person.max(initial=-1)) + 1, None, dtype=object)
    by_person[person[newest]] = workshop[newest]
    return by_person[person]
