"""When one failure rate is *clearly* above another: the rule every "what changed" figure uses.

A site of a few hundred people a month sees failure rates wobble from week to week by chance
alone; a maintainer who is told "rising!" every other week stops reading. So a difference
counts only when all three hold (docs/changes.md gives the reasons and the measured rate of
false alarms):

- each side has at least ``MIN_PEOPLE`` people,
- the rates differ by at least ``MIN_POINTS`` (5 percentage points),
- a one-sided two-proportion z test (pooled, with a continuity correction) rejects "the
  same rate" at ``ALPHA``.

Vectorised: every argument is an array with one value per package (or version), so a site
with a thousand packages is tested in one pass.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

ALPHA = 0.001
"""The test's level: the chance that one comparison of two equal rates passes the z test."""

Z = NormalDist().inv_cdf(1 - ALPHA)
"""The z score a difference must reach (3.09 for ``ALPHA`` = 0.001)."""

MIN_PEOPLE = 10
"""Fewer people than this on either side: no verdict, however large the difference."""

MIN_POINTS = 0.05
"""The smallest difference worth telling: 5 percentage points."""


def clearly_higher(
    failing: np.ndarray, tested: np.ndarray, failing_other: np.ndarray, tested_other: np.ndarray
) -> np.ndarray:
    """Per element: is ``failing / tested`` clearly above ``failing_other / tested_other``?"""
    tested = np.asarray(tested, dtype=np.float64)
    tested_other = np.asarray(tested_other, dtype=np.float64)
    enough = (tested >= MIN_PEOPLE) & (tested_other >= MIN_PEOPLE)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.asarray(failing) / tested
        share_other = np.asarray(failing_other) / tested_other
        pooled = (np.asarray(failing) + np.asarray(failing_other)) / (tested + tested_other)
        spread = np.sqrt(pooled * (1 - pooled) * (1 / tested + 1 / tested_other))
        # Yates's continuity correction: counts are whole people, and without it the test
        # fires up to three times as often as ALPHA says on small samples (docs/changes.md).
        z = (share - share_other - 0.5 * (1 / tested + 1 / tested_other)) / spread
    clear: np.ndarray = enough & (share - share_other >= MIN_POINTS - 1e-9) & (z >= Z)
    return clear
