"""Error messages: group the ones that say the same thing, and scrub what identifies people.

Two learners whose ``make`` check failed see "could not find /home/alice/bin/make" and
"could not find /home/bob/bin/make": the same problem. ``normalise`` replaces the parts that
vary from machine to machine (paths, numbers, versions, hex ids, temp names, e-mail
addresses) with placeholders so such messages fall into one group. ``scrub`` is gentler: it
keeps a real example readable but removes e-mail addresses, IP addresses, user ids, and the
user names inside home folders and ``~user``, because nothing identifying may reach the
published site. Both start with the same privacy rules.

Both work on whole pandas Series of *distinct* messages (vectorised regex replacement), so
the cost grows with the number of different messages, not with the number of failures.
``patterns_and_examples`` gives both at once for the price of one privacy pass.
"""

from __future__ import annotations

import pandas as pd

MAX_LENGTH = 500
"""Longer messages are cut (with an ellipsis): a report shows patterns, not stack dumps."""

_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
# Four numbers of 0-255 (a four-part version such as 1.2.3.4 is scrubbed too: cannot tell).
_IPV4 = rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w.])"
# Three or more colons, or a "::" (so clock times such as 12:30:45 are left alone).
_IPV6 = (
    r"(?<![\w:.])(?:(?:[0-9A-Fa-f]{1,4}:){3,7}[0-9A-Fa-f]{1,4}"
    r"|[0-9A-Fa-f:]*::[0-9A-Fa-f:]*(?:\d{1,3}(?:\.\d{1,3}){3})?)(?![\w:.])"
)
# Ids a learner's key file holds: ours (hex.signature) and the earlier server's UUIDs.
_USER_ID = (
    r"\b[0-9a-f]{32}\.[A-Za-z0-9_-]{22}(?![\w-])"
    r"|\b[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\b"
)
_SEPARATOR = r"(?:\\\\|\\|/)"
_HOME_FOLDER = (
    rf"(?P<home>(?:[A-Za-z]:)?{_SEPARATOR}(?:home|Users|users|Documents and Settings){_SEPARATOR})"
)
# A Windows user name may hold spaces ("C:\Users\Bob Smith\..."): it runs to the next
# backslash or the end of the line (scrubbing too much is safe, too little is not).
_HOME = rf"{_HOME_FOLDER}(?P<user>[^\\/\r\n'\"`:;,)]+?(?=[\\'\"`:;,)\r\n]|$)|[^\\/\s'\"`:;,)]+)"
_TILDE_USER = r"(?<![\w~])~(?P<user>[A-Za-z_][\w.-]*)"

# What identifies a person, removed before anything else looks at a message.
_PRIVATE: list[tuple[str, str]] = [
    (_EMAIL, "<email>"),
    (_USER_ID, "<id>"),
    (_IPV6, "<ip>"),  # before IPv4: "::ffff:10.0.0.7" is one address
    (_IPV4, "<ip>"),
    (_HOME, r"\g<home><user>"),
    (_TILDE_USER, "~<user>"),
]

# What else varies between machines, applied after _PRIVATE. Order matters: whole URLs and
# paths go before the numbers inside them.
_GENERALISE: list[tuple[str, str]] = [
    (r"\b[A-Za-z]+://\S+", "<url>"),
    # C:\Users\<user>\..., \\server\share; then /home/<user>/..., ~/..., /usr/bin/x
    (r"(?:\b[A-Za-z]:|\\\\)[\\/](?:<user>|[^\s'\"`<>|])*", "<path>"),
    (r"(?<![\w.~<>/-])~?/(?:<user>|[^\s'\"`<>|:;,()])+", "<path>"),
    (r"\btmp[\w.-]*|\b[\w-]*\.tmp\b", "<tmp>"),
    (r"\b0x[0-9A-Fa-f]+\b", "<hex>"),
    (r"\b(?=[0-9a-fA-F-]*\d)(?=[0-9a-fA-F-]*[a-fA-F])[0-9a-fA-F]{8,}(?:-[0-9a-fA-F]+)*\b", "<hex>"),
    (r"\bv?\d+(?:\.\d+)+(?:[-+.]?[A-Za-z]+\d*)?\b", "<version>"),
    (r"\d+", "<n>"),
    (r"\s+", " "),
]


def _replace_all(messages: pd.Series, rules: list[tuple[str, str]]) -> pd.Series:
    for pattern, replacement in rules:
        messages = messages.str.replace(pattern, replacement, regex=True)
    return messages


def _shorten(messages: pd.Series) -> pd.Series:
    too_long = messages.str.len() > MAX_LENGTH
    return messages.where(~too_long, messages.str.slice(0, MAX_LENGTH - 1) + "…")


def _without_private(messages: pd.Series) -> pd.Series:
    return _replace_all(messages.astype(object), _PRIVATE)


def _finished(messages: pd.Series) -> pd.Series:
    return _shorten(messages.str.strip())


def _pattern(private_free: pd.Series) -> pd.Series:
    """The pattern of messages already without private parts, worked out once per distinct
    text: messages that differed only in a user name are the same text by now."""
    codes, distinct = pd.factorize(private_free, use_na_sentinel=False)
    patterns = _finished(_replace_all(pd.Series(distinct, dtype=object), _GENERALISE))
    return pd.Series(patterns.to_numpy()[codes], index=private_free.index, dtype=object)


def normalise(messages: pd.Series) -> pd.Series:
    """Each message reduced to its pattern: what stays the same across machines."""
    return _pattern(_without_private(messages))


def scrub(messages: pd.Series) -> pd.Series:
    """Each message kept readable, minus what identifies a person (the ``_PRIVATE`` rules)."""
    return _finished(_without_private(messages))


def patterns_and_examples(messages: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``normalise(messages)`` and ``scrub(messages)``, with the privacy rules applied once.

    Normalising starts with the same ``_PRIVATE`` rules that scrubbing applies, so the
    pattern is computed from the scrubbed text (before stripping and shortening), which
    gives the same result as normalising the raw text.
    """
    private_free = _without_private(messages)
    return _pattern(private_free), _finished(private_free)
