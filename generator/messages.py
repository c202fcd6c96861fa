"""Error messages: group the ones that say the same thing, and scrub what identifies people.

Two learners whose ``make`` check failed see "could not find /home/alice/bin/make" and
"could not find /home/bob/bin/make": the same problem. ``normalise`` replaces the parts that
vary from machine to machine (paths, numbers, versions, hex ids, temp names, e-mail
addresses) with placeholders so such messages fall into one group. ``scrub`` is gentler: it
keeps a real example readable but removes e-mail addresses, IP addresses, user ids, and the
user names inside home folders and ``~user``, because nothing identifying may reach the
published site. Both start with the same privacy rules, which leave the http(s) links in a
message whole (``generator.links``: they are the fix instructions) but for the e-mail
addresses, ids and IP addresses in them. A pattern keeps the digits of a name ("sqlite3",
"python3", "log4j") and is made of a message's innermost cause (``generator.causes``).

Both work on whole pandas Series of *distinct* messages, so the cost grows with the number
of different messages, not with the number of failures.
``analyse`` gives both, the cause chains and the links at once, for one privacy pass.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

import pandas as pd

from generator import causes, links

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
# Whether the path began with a quote, just before its drive ("'C:\Users"), its Git Bash
# drive ("'/c/Users") or its home folder ("'/home"). Lookbehinds, checked after the first
# separator, so that every match starts with a separator: the regex engine then skips from
# one separator to the next instead of trying at every character (five times faster).
_QUOTE = r"['`]"
_QUOTED = "|".join(
    rf"(?<={_QUOTE}{before})"
    for before in (r"[\\/]", r"\\\\", r"[A-Za-z]:[\\/]", r"[A-Za-z]:\\\\", "/[A-Za-z]/")
)
_HOME_FOLDER = (
    rf"(?P<home>{_SEPARATOR}(?P<quoted>{_QUOTED})?(?i:home|users|documents and settings)"
    rf"{_SEPARATOR})"
)
# What a folder name may hold: anything but a separator, a line break and what Windows
# forbids in names (so a double quote, colon or a prompt's ">" ends a name; ' and ` do not).
_NAME = r"[^\\/\r\n\"<>|:*?]"
# A user name may hold spaces ("/c/Users/Bob Smith/Desktop"), so a space cannot end it. It
# runs to the next separator (spaces before one are the message's, as in "/home/ann and /x");
# when none follows, to the last quote that can close a quoted path ("'/home/Ann O'Neil'"),
# else to what ends a name or the line. Where a name ends is a guess: scrubbing too much is
# safe, too little is not.
_HOME = (
    rf"{_HOME_FOLDER}(?P<user>(?!\s){_NAME}(?:{_NAME}*?(?=[ \t]*{_SEPARATOR})"
    rf"|(?(quoted){_NAME}*(?={_QUOTE}(?!\w))|{_NAME}*)))"
)
_TILDE_USER = r"(?<![\w~])~(?P<user>[A-Za-z_][\w.-]*)"


class _Rule(NamedTuple):
    """One replacement. ``clue`` is a text that every match contains: a message without it
    is skipped, because a substring test costs far less than a regex scan and most rules find
    nothing in most messages ("" is in every message: no clue, always scan)."""

    pattern: re.Pattern[str]
    replacement: str
    clue: str = ""


def _rule(pattern: str, replacement: str, clue: str = "") -> _Rule:
    return _Rule(re.compile(pattern), replacement, clue)


# What identifies a person, removed before anything else looks at a message.
_PRIVATE: list[_Rule] = [
    # First: a name may look like an address in part ("C:\Users\ann@x.org (old)\"), and a
    # placeholder put into it would end it there.
    _rule(_HOME, r"\g<home><user>"),
    _rule(_EMAIL, "<email>", clue="@"),
    _rule(_USER_ID, "<id>"),
    _rule(_IPV6, "<ip>", clue=":"),  # before IPv4: "::ffff:10.0.0.7" is one address
    _rule(_IPV4, "<ip>", clue="."),
    _rule(_TILDE_USER, "~<user>", clue="~"),
]

# Inside a link: what identifies a person even there (a link holding one is no fix link).
_PRIVATE_IN_LINKS = [rule for rule in _PRIVATE if rule.replacement in ("<email>", "<id>", "<ip>")]

# What else varies between machines, applied after _PRIVATE. Order matters: whole URLs and
# paths go before the numbers inside them.
_GENERALISE: list[_Rule] = [
    _rule(r"\b[A-Za-z]+://\S+", "<url>", clue="://"),
    # C:\Users\<user>\..., \\server\share; then /home/<user>/..., ~/..., /usr/bin/x
    _rule(r"(?:\b[A-Za-z]:|\\\\)[\\/](?:<user>|[^\s'\"`<>|])*", "<path>"),
    _rule(r"(?<![\w.~<>/-])~?/(?:<user>|[^\s'\"`<>|:;,()])+", "<path>", clue="/"),
    _rule(r"\btmp[\w.-]*|\b[\w-]*\.tmp\b", "<tmp>", clue="tmp"),
    _rule(r"\b0x[0-9A-Fa-f]+\b", "<hex>", clue="0x"),
    _rule(
        r"\b(?=[0-9a-fA-F-]*\d)(?=[0-9a-fA-F-]*[a-fA-F])[0-9a-fA-F]{8,}(?:-[0-9a-fA-F]+)*\b",
        "<hex>",
    ),
    _rule(r"\bv?\d+(?:\.\d+)+(?:[-+.]?[A-Za-z]+\d*)?\b", "<version>", clue="."),
    # A number, but not the digits of a name or identifier ("sqlite3", "hdf5", "x86_64").
    _rule(r"(?<![\w])\d+(?![\w])", "<n>"),
    _rule(r"\s+", " "),
]


def _apply(rules: list[_Rule], message: str) -> str:
    for rule in rules:
        if rule.clue in message:
            message = rule.pattern.sub(rule.replacement, message)
    return message


def _apply_private(message: str) -> str:
    """The privacy rules, applied around the links and (fewer of them) inside each link."""
    if "://" not in message:
        return _apply(_PRIVATE, message)
    parts = links.URL.split(message)  # the links are at the odd places
    return "".join(
        _apply(_PRIVATE_IN_LINKS if place % 2 else _PRIVATE, part)
        for place, part in enumerate(parts)
    )


def _replace_all(messages: pd.Series, rules: list[_Rule]) -> pd.Series:
    """Every rule in order on each message (missing ones stay missing)."""
    return messages.map(functools.partial(_apply, rules), na_action="ignore")


def _shorten(messages: pd.Series) -> pd.Series:
    too_long = messages.str.len() > MAX_LENGTH
    return messages.where(~too_long, messages.str.slice(0, MAX_LENGTH - 1) + "…")


def _without_private(messages: pd.Series) -> pd.Series:
    return messages.astype(object).map(_apply_private, na_action="ignore")


def _finished(messages: pd.Series) -> pd.Series:
    return _shorten(messages.str.strip())


def _pattern(private_free: pd.Series) -> pd.Series:
    """The pattern of messages already without private parts, worked out once per distinct
    text: messages that differed only in a user name are the same text by now."""
    codes, distinct = pd.factorize(private_free, use_na_sentinel=False)
    innermost = pd.Series(distinct, dtype=object).map(causes.innermost, na_action="ignore")
    patterns = _finished(_replace_all(innermost, _GENERALISE))
    return pd.Series(patterns.to_numpy()[codes], index=private_free.index, dtype=object)


def normalise(messages: pd.Series) -> pd.Series:
    """Each message reduced to its pattern: what stays the same across machines."""
    return _pattern(_without_private(messages))


def scrub(messages: pd.Series) -> pd.Series:
    """Each message kept readable, minus what identifies a person (the ``_PRIVATE`` rules)."""
    return _finished(_without_private(messages))


class Analysed(NamedTuple):
    """What a build needs of each message, position by position."""

    patterns: pd.Series  # ``normalise``
    examples: pd.Series  # ``scrub``
    chains: pd.Series  # its cause chain (``causes.chain``), each step scrubbed; [] for none
    links: pd.Series  # its fix links (``links.links``)


def analyse(messages: pd.Series) -> Analysed:
    """``normalise(messages)``, ``scrub(messages)``, the chains and the links, with the
    privacy rules applied once.

    Normalising starts with the same ``_PRIVATE`` rules that scrubbing applies, so the
    pattern is computed from the scrubbed text (before stripping and shortening), which
    gives the same result as normalising the raw text.
    """
    private_free = _without_private(messages)
    return Analysed(
        _pattern(private_free),
        _finished(private_free),
        _chains(private_free),
        links.links(private_free),
    )


def _chains(private_free: pd.Series) -> pd.Series:
    """Each message's cause chain, the steps of all stripped and shortened in one go."""
    by_place = private_free.reset_index(drop=True)
    steps = by_place.map(causes.chain, na_action="ignore").explode().dropna()
    chains: list[list[str]] = [[] for _ in range(len(by_place))]
    finished = _finished(steps.astype(object))
    for place, step in zip(finished.index.tolist(), finished.tolist(), strict=True):
        chains[place].append(step)
    return pd.Series(chains, index=private_free.index, dtype=object)
