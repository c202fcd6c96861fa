"""How sure a small count's rate is: the Wilson score interval, for whole arrays of counts.

A week with 3 attempts, 1 failing, has a rate of 33%, but the true rate could be anywhere from
6% to 79%; a week with 300 attempts pins it to a few points. The charts draw this interval
beside each week's rate, so that a reader does not take one unlucky small week for a trend.
Wilson's interval (rather than the textbook p ± 1.96·√(p(1-p)/n)) stays inside [0, 1] and
does not collapse to a single point when a week has no failure, or only failures.
"""

from __future__ import annotations

import numpy as np

Z = 1.959964
"""The standard normal quantile for a two-sided 95% interval."""


def wilson(part: np.ndarray, whole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 95% Wilson interval (low, high) of ``part / whole`` per element, rounded to 4
    places as rates are; NaN where ``whole`` is 0."""
    n = whole.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = part / n
        z2 = Z * Z / n
        centre = (share + z2 / 2) / (1 + z2)
        half = Z / (1 + z2) * np.sqrt(share * (1 - share) / n + z2 / (4 * n))
    low = np.where(n > 0, np.clip(centre - half, 0, 1), np.nan)
    high = np.where(n > 0, np.clip(centre + half, 0, 1), np.nan)
    return np.round(low, 4), np.round(high, 4)
