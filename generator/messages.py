"""Error messages: group the ones that say the same thing, and scrub what identifies people.

Two learners whose ``make`` check failed see "could not find /home/alice/bin/make" and
"could not find /home/bob/bin/make": the same problem. ``normalise`` replaces the parts that
vary from machine to machine (paths, numbers, versions, hex ids, temp names, e-mail
addresses) with placeholders so such messages fall into one group. ``scrub`` is gentler: it
keeps a real example readable but removes e-mail addresses and the user names inside home
folders, because nothing identifying may reach the published site.

Both work on whole pandas Series of *distinct* messages (vectorised regex replacement), so
the cost grows with the number of different messages, not with the number of failures.
"""

from __future__ import annotations

import pandas as pd

MAX_LENGTH = 500
"""Longer messages are cut (with an ellipsis): a report shows patterns, not stack dumps."""

_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_HOME = (
    r"(?P<home>(?:[A-Za-z]:)?(?:\\\\|\\|/)(?:home|Users|users|Documents and Settings)(?:\\\\|\\|/))"
    r"(?P<user>[^\\/\s'\"`:;,)]+)"
)

# Order matters: whole e-mails and paths go before the numbers inside them.
_NORMALISE: list[tuple[str, str]] = [
    (_EMAIL, "<email>"),
    (r"\b[A-Za-z]+://\S+", "<url>"),
    (r"(?:\b[A-Za-z]:|\\\\)[\\/][^\s'\"`<>|]*", "<path>"),  # C:\Users\bob\..., \\server\share
    (r"(?<![\w.~<>/-])~?/[^\s'\"`<>|:;,()]+", "<path>"),  # /home/alice/..., ~/..., /usr/bin/x
    (r"\btmp[\w.-]*|\b[\w-]*\.tmp\b", "<tmp>"),
    (r"\b0x[0-9A-Fa-f]+\b", "<hex>"),
    (r"\b(?=[0-9a-fA-F-]*\d)(?=[0-9a-fA-F-]*[a-fA-F])[0-9a-fA-F]{8,}(?:-[0-9a-fA-F]+)*\b", "<hex>"),
    (r"\bv?\d+(?:\.\d+)+(?:[-+.]?[A-Za-z]+\d*)?\b", "<version>"),
    (r"\d+", "<n>"),
    (r"\s+", " "),
]

_SCRUB: list[tuple[str, str]] = [
    (_EMAIL, "<email>"),
    (_HOME, r"\g<home><user>"),
]


def _replace_all(messages: pd.Series, rules: list[tuple[str, str]]) -> pd.Series:
    for pattern, replacement in rules:
        messages = messages.str.replace(pattern, replacement, regex=True)
    return messages


def _shorten(messages: pd.Series) -> pd.Series:
    too_long = messages.str.len() > MAX_LENGTH
    return messages.where(~too_long, messages.str.slice(0, MAX_LENGTH - 1) + "…")


def normalise(messages: pd.Series) -> pd.Series:
    """Each message reduced to its pattern: what stays the same across machines."""
    return _shorten(_replace_all(messages.astype(object), _NORMALISE).str.strip())


def scrub(messages: pd.Series) -> pd.Series:
    """Each message kept readable, minus e-mail addresses and home-folder user names."""
    return _shorten(_replace_all(messages.astype(object), _SCRUB).str.strip())
